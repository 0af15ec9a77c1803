"""Writing frames to a video file: H.264 ``.mp4`` or animated ``.gif`` (PyAV, no Qt).

    with VideoWriter("demo.mp4", fps=30, size=(1280, 720)) as video:
        for frame in frames:          # (H, W, 3) uint8 RGB arrays
            video.write(frame)
    # demo.mp4 now exists; had anything raised (even Ctrl+C), nothing would be left behind.

- ``.mp4``: libx264, yuv420p (plays in browsers and slide software), a fast x264 preset without
  B-frames, on one thread (the same bytes on any machine), the
  ``moov`` atom up front (``+faststart``) so a browser can start playing before the end arrives.
  yuv420p needs even dimensions: an odd width or height is rounded down by one pixel (the last
  column or row of each frame is dropped).
- ``.gif``: every frame is quantised to its own 256-colour palette (`quantise`) and handed to the
  encoder as ``pal8``; PyAV's own conversion to ``rgb8`` (3-3-2 bits) would band every gradient.
- Frames are written to a hidden temporary file beside the target and renamed over it only when
  the writer closes without error, so a failed or interrupted recording leaves no partial file.
- The path is checked first: an unknown extension raises `ValueError`, a directory that does not
  exist or cannot be written raises `OSError`, both before any frame is encoded.
- Encoding runs on a background thread fed by a bounded queue (PyAV converts and encodes without
  holding the GIL), so the thread that captures frames (the GUI thread) pays at most for a copy.
  ``write(frame, block=False)`` drops the frame instead of waiting when the encoder is behind, and
  counts it in `frames_dropped`.
- Four-byte pixels are RGBX or, with ``channel_order="BGR"``, BGRX: what Qt paints into on a
  little-endian machine (``QImage.Format_RGB32``), its fastest format. A capturer that paints each
  frame into a fresh buffer hands it over with ``write(frame, copy=False)``; `spare_frame()` gives
  back the buffers already encoded, so nothing is allocated or copied per frame.
"""

from __future__ import annotations

import collections
import itertools
import os
import queue
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

#: Output formats by file extension.
FORMATS = {".mp4": "H.264 video (.mp4)", ".gif": "animated GIF (.gif)"}
#: x264 speed/size trade-off. "veryfast" encodes plot frames several times faster than real time at
#: 1280×720 on two cores (see `rnnviz bench --only record`) with files well under "medium"'s size × 1.5.
X264_PRESET = "veryfast"
#: x264 constant rate factor: 23 is x264's default quality; plots with thin lines look clean at it.
X264_CRF = 23
#: x264 options on top of the preset. subme=0: motion vectors in whole pixels only, no sub-pixel
#: refinement (veryfast refines to quarter pixels): a screencast's content moves by whole pixels or
#: not at all. Encoding 150 frames of `rnnviz record` at 1280×720 (x264 alone, one thread): the
#: lstm preset's window 2.8-3.0 instead of 4.3-4.8 ms a frame, the vanishing preset's 2.8 vs 4.1-4.3,
#: its unrolled-network view 3.0 vs 4.5-4.6; files 6-8% larger; the same quality (mean PSNR against
#: the frames handed in 43.25 vs 43.05 dB, 43.27 vs 43.23, 42.89 vs 42.97).
X264_PARAMS = "subme=0"
#: Frames waiting for the encoder at most; beyond that `write` blocks (or drops with block=False).
QUEUE_FRAMES = 16
#: Largest frame side accepted (H.264 level limits and memory; 4K is 3840).
MAX_SIDE = 4096
#: The byte order of four-byte pixels (the fourth byte is ignored) and PyAV's name for it.
CHANNEL_ORDERS = {"RGB": "rgba", "BGR": "bgra"}

_STOP = object()
_counter = itertools.count()


class VideoError(RuntimeError):
    """Encoding failed (the encoder thread's error, re-raised in the caller's thread)."""


def check_output_path(path: str | os.PathLike) -> Path:
    """The target as a `Path` if a video can be written there; otherwise a one-line error.

    ValueError: the extension is not .mp4 or .gif, or the path is a directory.
    OSError: the directory does not exist, is not a directory, or cannot be written.
    """
    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        shown = f"extension {target.suffix!r}" if target.suffix else "no extension"
        raise ValueError(f"cannot record to {str(path)!r}: {shown}; use "
                         + " or ".join(FORMATS.values()))
    if target.is_dir():
        raise ValueError(f"cannot record to {str(path)!r}: it is a directory")
    parent = target.parent
    if not parent.exists():
        raise OSError(f"cannot record to {str(path)!r}: directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise OSError(f"cannot record to {str(path)!r}: {str(parent)!r} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OSError(f"cannot record to {str(path)!r}: directory {str(parent)!r} is not writable")
    return target


def encoded_size(size: tuple[int, int], suffix: str) -> tuple[int, int]:
    """The frame size actually encoded: yuv420p (.mp4) halves the chroma, so both sides must be even."""
    width, height = size
    if suffix == ".mp4":
        return width - width % 2, height - height % 2
    return width, height


def _check_size(size: tuple[int, int], suffix: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"frame size must be (width, height), got {size!r}") from None
    low = 2 if suffix == ".mp4" else 1
    if not (low <= width <= MAX_SIDE and low <= height <= MAX_SIDE):
        raise ValueError(f"frame size {width}x{height} is out of range; each side must be "
                         f"{low}..{MAX_SIDE} pixels")
    return width, height


def quantise(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An (H, W, 3) uint8 RGB frame as 8-bit palette indices and a (256, 4) ARGB palette.

    Popularity quantiser: colours are binned at 5 bits per channel; the 256 most frequent bins become
    the palette, each entry the *mean* of its pixels (so flat areas, text and the plot background
    keep their exact colour), and every other bin maps to its nearest entry. Plots have few colours
    and large flat areas, which is what this is good at; no dithering, so no crawling noise.
    """
    pixels = rgb.reshape(-1, 3)
    bins = ((pixels[:, 0] >> 3).astype(np.int32) << 10) | ((pixels[:, 1] >> 3).astype(np.int32) << 5) \
        | (pixels[:, 2] >> 3).astype(np.int32)
    counts = np.bincount(bins, minlength=1 << 15)
    present = np.flatnonzero(counts)
    sums = np.stack([np.bincount(bins, weights=pixels[:, c], minlength=1 << 15)[present]
                     for c in range(3)], axis=1)
    means = sums / counts[present, None]                       # (n, 3) mean colour of each bin
    if len(present) <= 256:
        chosen = np.arange(len(present))
        nearest = chosen
    else:
        chosen = np.argsort(counts[present], kind="stable")[-256:]
        centres = means.astype(np.float32)
        entries = centres[chosen]
        # ‖c − p‖² = ‖c‖² − 2 c·p + ‖p‖²; ‖c‖² is the same for every p, so it drops out of argmin.
        distance = (entries * entries).sum(axis=1)[None, :] - 2.0 * centres @ entries.T
        nearest = np.argmin(distance, axis=1)
    lut = np.zeros(1 << 15, dtype=np.uint8)
    lut[present] = nearest
    palette = np.zeros((256, 4), dtype=np.uint8)
    palette[:, 0] = 255                                        # opaque
    palette[: len(chosen), 1:] = np.rint(means[chosen]).clip(0, 255).astype(np.uint8)
    return lut[bins].reshape(rgb.shape[:2]), palette


class VideoWriter:
    """Encode RGB frames to ``path`` (.mp4 or .gif) at ``fps``; a context manager (see the module doc).

    size is (width, height) of the frames passed to `write`. With ``threaded=False`` frames are
    encoded in the calling thread (simpler to debug, and no copy).
    """

    def __init__(self, path: str | os.PathLike, fps: float, size: tuple[int, int], *,
                 threaded: bool = True, queue_frames: int = QUEUE_FRAMES,
                 preset: str = X264_PRESET, crf: int = X264_CRF, channel_order: str = "RGB") -> None:
        self.path = check_output_path(path)
        self.suffix = self.path.suffix.lower()
        if channel_order not in CHANNEL_ORDERS:
            raise ValueError(f"channel_order must be one of {', '.join(CHANNEL_ORDERS)}, got {channel_order!r}")
        self.channel_order = channel_order
        if not (isinstance(fps, (int, float, Fraction)) and 0 < fps <= 240):
            raise ValueError(f"fps must be a number in (0, 240], got {fps!r}")
        self.fps = Fraction(fps).limit_denominator(1001)
        self.size = _check_size(size, self.suffix)
        self.encoded_size = encoded_size(self.size, self.suffix)
        self.frames_written = 0      # frames accepted by `write`
        self.frames_dropped = 0      # frames refused by `write(block=False)` because the encoder was behind
        self.encode_cpu_seconds = 0.0   # CPU time of the encoder thread (conversion and x264), once closed
        self._next_pts = 0
        self._error: BaseException | None = None
        self._closed = False
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}-{next(_counter)}.part")
        try:
            with open(self._tmp, "xb"):
                pass
        except OSError as exc:
            raise OSError(f"cannot record to {str(path)!r}: {exc.strerror or exc}") from None
        try:
            import av   # here, not at the app's start-up: PyAV takes ~0.1 s to import

            options = {"movflags": "+faststart"} if self.suffix == ".mp4" else {}
            self._container = av.open(str(self._tmp), mode="w", format=self.suffix[1:], options=options)
            self._stream = self._add_stream(preset, crf)
            self._reformatter = av.video.reformatter.VideoReformatter()
        except BaseException:
            self._discard()
            raise
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._spares: collections.deque = collections.deque()   # encoded frames' buffers, for reuse
        if threaded:
            self._queue = queue.Queue(maxsize=max(1, queue_frames))
            self._thread = threading.Thread(target=self._encode_loop, name="video-encoder", daemon=True)
            self._thread.start()

    def _add_stream(self, preset: str, crf: int):
        width, height = self.encoded_size
        if self.suffix == ".mp4":
            stream = self._container.add_stream("libx264", rate=self.fps, options={
                "preset": preset, "crf": str(crf), "x264-params": X264_PARAMS})
            stream.pix_fmt = "yuv420p"
            # x264 on this thread alone: the same bytes on every machine (PyAV's default gave x264 a
            # thread and a slice per core), and less CPU: 4.1-4.3 vs 4.5-5.0 ms of x264 a 1280×720
            # frame of `rnnviz record`, CPU its painting and training need. One thread encodes such a
            # frame in ~6 ms, well within a frame's 33 ms.
            stream.codec_context.thread_count = 1
            # No B-frames (the preset has 3): x264 costs 3.9-4.0 instead of 4.3-4.6 ms a 1280×720 frame
            # of `rnnviz record`, for files ~6% larger and closer to the painted frames.
            stream.codec_context.max_b_frames = 0
        else:
            stream = self._container.add_stream("gif", rate=self.fps)
            stream.pix_fmt = "pal8"
        stream.width, stream.height = width, height
        stream.codec_context.time_base = 1 / self.fps
        return stream

    # ----------------------------------------------------------------- public API
    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    @property
    def seconds(self) -> float:
        """Length of the video so far: up to the end of the last frame accepted."""
        return float(self._next_pts / self.fps)

    def spare_frame(self) -> np.ndarray:
        """An (H, W, 4) uint8 buffer of the declared size to paint the next frame into and hand over
        with ``write(buffer, copy=False)``: one the encoder has finished with, or a new one. Its
        pixels are whatever they were (the encoder only reads a buffer: a spare holds the frame last
        painted into it, or anything if new): paint every one that is not known to hold its pixels."""
        width, height = self.size
        while self._spares:
            buffer = self._spares.popleft()
            if buffer.shape == (height, width, 4):
                return buffer
        return np.empty((height, width, 4), np.uint8)

    def write(self, frame: np.ndarray, *, block: bool = True, pts: int | None = None,
              copy: bool = True) -> bool:
        """Queue one (H, W, 3) uint8 RGB frame of the declared size, or (H, W, 4) RGBX (BGRX with
        ``channel_order="BGR"``; the fourth byte is ignored: what Qt paints into, converted on the
        encoder thread). Returns False if it was dropped (only with ``block=False`` when the encoder
        is behind). Raises `VideoError` if encoding failed.

        pts: the frame's time in frames (1/fps) from the start, increasing; default: right after the
        previous frame. A live recorder passes wall-clock times, so dropped frames leave the previous
        one on screen longer instead of shortening the video.
        copy: False hands the array itself to the encoder (no copy): the caller must not touch it
        again; once encoded it comes back through `spare_frame()`."""
        if self._closed:
            raise VideoError(f"the video {self.path} is already closed")
        self._raise_encoder_error()
        frame = np.asarray(frame)
        width, height = self.size
        if frame.dtype != np.uint8 or frame.shape[:2] != (height, width) or frame.ndim != 3 \
                or frame.shape[2] not in (3, 4):
            raise ValueError(f"expected a ({height}, {width}, 3) RGB or ({height}, {width}, 4) RGBX "
                             f"uint8 frame, got {frame.shape} {frame.dtype}")
        if pts is None:
            pts = self._next_pts
        elif pts < self._next_pts:
            raise ValueError(f"pts must increase: got {pts} after {self._next_pts - 1}")
        if self._queue is None:
            self._encode(frame, pts)
            self._accepted(pts)
            if not copy and frame.shape[2] == 4:
                self._spares.append(frame)
            return True
        if copy:   # the caller may reuse its buffer
            owned = self.spare_frame() if frame.shape[2] == 4 else np.empty_like(frame)
            np.copyto(owned, frame)
            frame = owned
        item = (frame, pts)
        try:
            if block:
                while True:  # wait in slices so an encoder failure cannot hang the caller
                    try:
                        self._queue.put(item, timeout=0.5)
                        break
                    except queue.Full:
                        self._raise_encoder_error()
            else:
                self._queue.put_nowait(item)
        except queue.Full:
            self.frames_dropped += 1
            if frame.shape[2] == 4:
                self._spares.append(frame)
            return False
        self._accepted(pts)
        return True

    def _accepted(self, pts: int) -> None:
        self.frames_written += 1
        self._next_pts = pts + 1

    def close(self) -> Path:
        """Finish encoding, flush, and move the file into place. Returns the path written."""
        if self._closed:
            return self.path
        try:
            self._finish_thread()
            self._raise_encoder_error()
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
            self._closed = True
            if self.frames_written == 0:
                raise VideoError("no frames were recorded")
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        """Stop without saving: the encoder thread ends and the temporary file is deleted."""
        if self._thread is not None and self._thread.is_alive():
            self._drain()
            self._queue.put(_STOP)
            self._thread.join()
        if not self._closed:
            self._closed = True
            try:
                self._container.close()
            except Exception:  # the file is deleted anyway; a half-written container may not close
                pass
        self._discard()

    # ----------------------------------------------------------------- encoding
    def _encode(self, rgb: np.ndarray, pts: int) -> None:
        import av   # imported already by __init__: a dictionary lookup

        width, height = self.encoded_size
        if (width, height) != self.size:
            rgb = rgb[:height, :width]
        four = rgb.shape[2] == 4
        if self.suffix == ".gif":
            colours = rgb[..., 2::-1] if four and self.channel_order == "BGR" else rgb[..., :3]
            frame = av.VideoFrame.from_ndarray(quantise(colours), format="pal8")
        else:
            # Wrapped, not copied, and converted to yuv420p right away (into a frame of PyAV's).
            pixel_format = CHANNEL_ORDERS[self.channel_order] if four else "rgb24"
            if rgb.strides[1:] != (rgb.shape[2], 1):   # rows must be contiguous to be wrapped
                rgb = np.ascontiguousarray(rgb)
            frame = av.VideoFrame.from_numpy_buffer(rgb, format=pixel_format)
            # To yuv420p here, on this thread alone: the same pixels as the encoder's own conversion,
            # which splits each frame among threads and cost more CPU (2.1-2.8 vs 2.4-3.1 ms a
            # 1280×720 frame), CPU that painting and training need.
            frame = self._reformatter.reformat(frame, format=self._stream.pix_fmt, threads=1)
        frame.pts = pts
        frame.time_base = self._stream.codec_context.time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def _encode_loop(self) -> None:
        start = time.thread_time()
        try:
            self._encode_queued()
        finally:
            self.encode_cpu_seconds = time.thread_time() - start

    def _encode_queued(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is not None:
                continue  # keep draining so a blocked writer wakes up; the error is raised there
            try:
                self._encode(*item)
            except BaseException as exc:
                self._error = exc
            frame = item[0]
            if frame.ndim == 3 and frame.shape[2] == 4:
                self._spares.append(frame)

    def _finish_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass

    def _raise_encoder_error(self) -> None:
        if self._error is not None:
            raise VideoError(f"encoding {self.path.name} failed: {self._error}") from self._error

    def _discard(self) -> None:
        try:
            self._tmp.unlink(missing_ok=True)
        except OSError:
            pass
