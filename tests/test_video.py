import os
import threading

import av
import numpy as np
import pytest

from rnnviz.video import VideoError, VideoWriter, check_output_path, quantise

W, H = 96, 64


def frames(n):
    """Flat background, a moving block and a gradient band: what plots look like."""
    out = []
    for i in range(n):
        frame = np.full((H, W, 3), 250, np.uint8)
        frame[8:24, (4 * i) % (W - 16):(4 * i) % (W - 16) + 16] = (0, 114, 178)
        frame[40:56] = np.linspace(0, 255, W).astype(np.uint8)[None, :, None]
        out.append(frame)
    return out


def decode(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        info = (stream.codec_context.name, stream.codec_context.pix_fmt, stream.width, stream.height)
        images = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return info, images


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("threaded", [True, False])
def test_mp4_is_h264_yuv420p_with_every_frame(tmp_path, threaded):
    path = tmp_path / "clip.mp4"
    source = frames(30)
    with VideoWriter(path, 30, (W, H), threaded=threaded) as video:
        for frame in source:
            assert video.write(frame)
    (codec, pix_fmt, width, height), images = decode(path)
    assert (codec, pix_fmt, width, height) == ("h264", "yuv420p", W, H)
    assert len(images) == 30
    assert np.abs(images[10].astype(int) - source[10]).mean() < 4
    assert leftovers(tmp_path) == ["clip.mp4"]


def test_odd_size_is_rounded_down_to_even_for_mp4(tmp_path):
    path = tmp_path / "odd.mp4"
    with VideoWriter(path, 10, (W + 1, H + 1)) as video:
        video.write(np.zeros((H + 1, W + 1, 3), np.uint8))
    (_, _, width, height), images = decode(path)
    assert (width, height) == (W, H) and len(images) == 1


def test_gif_keeps_colours_with_a_palette_per_frame(tmp_path):
    path = tmp_path / "clip.gif"
    source = frames(12)
    with VideoWriter(path, 12, (W, H)) as video:
        for frame in source:
            video.write(frame)
    (codec, _, width, height), images = decode(path)
    assert (codec, width, height) == ("gif", W, H) and len(images) == 12
    assert np.abs(images[5].astype(int) - source[5]).max() <= 8  # rgb8 (3-3-2 bits) would be off by ~36


def test_quantise_is_exact_for_few_colours():
    frame = frames(1)[0][:30]  # background and the block only
    indices, palette = quantise(frame)
    assert indices.dtype == np.uint8 and palette.shape == (256, 4)
    assert (palette[indices][..., 1:] == frame).all()


@pytest.mark.parametrize("name, error, words", [
    ("clip.avi", ValueError, "extension '.avi'"),
    ("clip", ValueError, "no extension"),
    ("missing/clip.mp4", OSError, "does not exist"),
    ("afile/clip.gif", OSError, "is not a directory"),
])
def test_bad_paths_fail_before_any_work(tmp_path, name, error, words):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(error, match=words):
        VideoWriter(tmp_path / name, 30, (W, H))
    assert leftovers(tmp_path) == ["afile"]
    with pytest.raises(error):
        check_output_path(tmp_path / name)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OSError, match="not writable"):
            VideoWriter(locked / "clip.mp4", 30, (W, H))
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_interrupted_write_leaves_no_file(tmp_path, suffix):
    path = tmp_path / f"clip{suffix}"
    path_existing = tmp_path / f"old{suffix}"
    with pytest.raises(KeyboardInterrupt):
        with VideoWriter(path, 30, (W, H)) as video:
            for frame in frames(5):
                video.write(frame)
            raise KeyboardInterrupt
    assert leftovers(tmp_path) == []
    # An existing file at the target is left as it was.
    path_existing.write_bytes(b"keep")
    with pytest.raises(RuntimeError):
        with VideoWriter(path_existing, 30, (W, H)) as video:
            video.write(frames(1)[0])
            raise RuntimeError("boom")
    assert path_existing.read_bytes() == b"keep" and leftovers(tmp_path) == [path_existing.name]


def test_wrong_frame_shape_and_empty_video_are_errors(tmp_path):
    with pytest.raises(ValueError, match="expected a"):
        with VideoWriter(tmp_path / "a.mp4", 30, (W, H)) as video:
            video.write(np.zeros((H, W), np.uint8))
    with pytest.raises(VideoError, match="no frames"):
        with VideoWriter(tmp_path / "b.mp4", 30, (W, H)):
            pass
    assert leftovers(tmp_path) == []


def test_encoder_failure_reaches_the_writer_and_removes_the_file(tmp_path, monkeypatch):
    video = VideoWriter(tmp_path / "c.mp4", 30, (W, H))

    def broken(_frame, _pts):
        raise RuntimeError("encoder broke")
    monkeypatch.setattr(video, "_encode", broken)
    with pytest.raises(VideoError, match="encoder broke"):
        with video:
            for frame in frames(40):
                video.write(frame)
    assert leftovers(tmp_path) == []


def test_non_blocking_write_drops_instead_of_waiting(tmp_path, monkeypatch):
    gate = threading.Event()
    video = VideoWriter(tmp_path / "d.mp4", 30, (W, H), queue_frames=2)
    real = video._encode
    monkeypatch.setattr(video, "_encode", lambda *item: (gate.wait(60), real(*item)))
    results = [video.write(f, block=False) for f in frames(10)]
    gate.set()
    path = video.close()
    assert results.count(False) == video.frames_dropped > 0
    assert video.frames_written == results.count(True)
    assert len(decode(path)[1]) == video.frames_written


def test_rgbx_frames_and_explicit_times(tmp_path):
    """Qt paints RGBX; a live recorder stamps frames with their wall-clock time (gaps allowed)."""
    path = tmp_path / "times.mp4"
    rgbx = np.concatenate([frames(1)[0], np.full((H, W, 1), 255, np.uint8)], axis=2)
    with VideoWriter(path, 10, (W, H)) as video:
        for pts in (0, 1, 5, 9):
            assert video.write(rgbx, pts=pts)
        with pytest.raises(ValueError, match="pts must increase"):
            video.write(rgbx, pts=3)
        assert video.seconds == 1.0
    with av.open(str(path)) as container:
        decoded = list(container.decode(video=0))
    assert [f.pts * f.time_base * 10 for f in decoded] == [0, 1, 5, 9]
    assert np.abs(decoded[0].to_ndarray(format="rgb24").astype(int) - rgbx[..., :3]).mean() < 4


def test_unwritable_directory_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda *_args: False)
    with pytest.raises(OSError, match="is not writable"):
        VideoWriter(tmp_path / "clip.mp4", 30, (W, H))
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("threaded", [True, False])
def test_bgrx_frames_handed_over_without_a_copy_come_back_as_spares(tmp_path, threaded):
    """Qt's own layout on little-endian machines is BGRX; a painted buffer is handed over as is
    and, once encoded, offered again instead of a new one."""
    path = tmp_path / "bgrx.mp4"
    rgb = frames(6)
    used = set()
    # One frame queued, one encoding, one being painted: three buffers at most when threaded.
    with VideoWriter(path, 10, (W, H), channel_order="BGR", threaded=threaded, queue_frames=1) as video:
        for frame in rgb:
            buffer = video.spare_frame()
            used.add(id(buffer))
            buffer[..., :3] = frame[..., ::-1]
            buffer[..., 3] = 0                   # the fourth byte means nothing
            assert video.write(buffer, copy=False)
    assert len(used) <= (3 if threaded else 1)
    _, decoded = decode(path)
    assert len(decoded) == len(rgb)
    for got, want in zip(decoded, rgb):
        assert np.abs(got.astype(int) - want).mean() < 4
        coloured = want[..., 0] != want[..., 2]   # the blue block: red and blue swapped would differ by ~120
        assert np.abs(got[coloured].astype(int) - want[coloured]).mean() < 20


def test_a_copied_frame_leaves_the_callers_buffer_alone(tmp_path):
    frame = np.concatenate([frames(1)[0], np.full((H, W, 1), 255, np.uint8)], axis=2)
    kept = frame.copy()
    with VideoWriter(tmp_path / "copied.mp4", 10, (W, H)) as video:
        video.write(frame)
        frame[:] = 0                             # the caller reuses its buffer at once
    _, decoded = decode(tmp_path / "copied.mp4")
    assert np.abs(decoded[0].astype(int) - kept[..., :3]).mean() < 4
    with pytest.raises(ValueError, match="channel_order"):
        VideoWriter(tmp_path / "bad.mp4", 10, (W, H), channel_order="GBR")


def test_mp4_bytes_do_not_depend_on_the_cores(tmp_path):
    """x264 runs on one thread on any machine (PyAV's default gave it a thread and a slice per core),
    so the same frames give the same file everywhere; its settings (one thread, no B-frames, whole-pixel
    motion vectors) are written into the stream."""
    paths = [tmp_path / "one.mp4", tmp_path / "two.mp4"]
    for path in paths:
        with VideoWriter(path, 10, (W, H)) as video:
            for frame in frames(3):
                video.write(frame)
    data = paths[0].read_bytes()
    assert b" threads=1 " in data and b" sliced_threads=0 " in data and b" bframes=0 " in data and b" subme=0 " in data
    assert data == paths[1].read_bytes()
    assert video.encode_cpu_seconds > 0
