"""Recording the app while it runs: a widget is grabbed at a fixed frame rate and encoded off the GUI thread.

    recorder = Recorder()
    recorder.start(window, "lesson.mp4")    # ValueError / OSError at once for a bad path
    ...                                     # recorder.elapsed feeds an indicator
    path = recorder.stop()                  # the file is complete when this returns

A `QTimer` grabs the widget (≈5 ms at 1280×720) and hands the pixels to a `VideoWriter`, whose
thread encodes them. The GUI thread never waits for the encoder: when it falls behind, the frame
is dropped and counted (`dropped`), and the next frame is stamped with its real time, so the video
keeps wall-clock time and the UI keeps its frame rate. The first grab fixes the video's size; if
the widget is resized later, frames are scaled to fit (letterboxed) rather than failing.

`RecordingControls` is what the main window shows for it: the Record button (``recordButton``), the
``recordAction`` (Ctrl+Shift+R) and a red elapsed-time indicator (``recordingIndicator``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter
from PySide6.QtWidgets import QFileDialog, QLabel, QPushButton, QWidget

from rnnviz.video import VideoWriter, check_output_path

log = logging.getLogger(__name__)

DEFAULT_FPS = 30
#: Frames the encoder may lag behind before new ones are dropped (≈ 1 s at 30 fps).
QUEUE_FRAMES = 30


def image_to_rgb(image: QImage) -> np.ndarray:
    """A QImage as an (H, W, 3) uint8 RGB array (a copy)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    pixels = np.frombuffer(image.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    return pixels[:, : width * 3].reshape(height, width, 3).copy()


def _letterbox(image: QImage, size: QSize) -> QImage:
    """`image` scaled to fit `size`, centred on black."""
    out = QImage(size, QImage.Format.Format_RGB888)
    out.fill(QColor("black"))
    scaled = image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    painter = QPainter(out)
    painter.drawImage((size.width() - scaled.width()) // 2, (size.height() - scaled.height()) // 2, scaled)
    painter.end()
    return out


class Recorder(QObject):
    """Records one widget at a time to .mp4 or .gif (see the module doc)."""

    started = Signal(str)        # the target path
    stopped = Signal(str)        # the saved path
    failed = Signal(str)         # a message for the user; nothing was saved
    tick = Signal(float)         # elapsed seconds, after each frame

    def __init__(self, parent: QObject | None = None, fps: int = DEFAULT_FPS) -> None:
        super().__init__(parent)
        self.fps = fps
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._capture)
        self._widget: QWidget | None = None
        self._writer: VideoWriter | None = None
        self._path: Path | None = None
        self._size: QSize | None = None
        self._start = 0.0
        self._last_pts = -1
        self.frames = 0
        self.dropped = 0

    @property
    def recording(self) -> bool:
        return self._widget is not None

    @property
    def elapsed(self) -> float:
        """Seconds since `start` (0 when not recording)."""
        return time.perf_counter() - self._start if self.recording else 0.0

    @property
    def path(self) -> Path | None:
        return self._path

    def start(self, widget: QWidget, path: str | Path, fps: int | None = None) -> None:
        """Start recording `widget`. A bad path raises ValueError/OSError before anything starts."""
        if self.recording:
            raise RuntimeError("already recording; stop() first")
        self._path = check_output_path(path)
        self.fps = fps or self.fps
        self._widget = widget
        self._writer = None
        self._size = None
        self._last_pts = -1
        self.frames = self.dropped = 0
        self._start = time.perf_counter()
        self._timer.start(max(1, round(1000 / self.fps)))
        self.started.emit(str(self._path))
        self._capture()

    def stop(self) -> Path | None:
        """Stop and save; returns the path, or None if nothing could be saved (`failed` says why)."""
        if not self.recording:
            return None
        self._timer.stop()
        writer, self._writer, self._widget = self._writer, None, None
        if writer is None:
            self.failed.emit("Nothing was recorded.")
            return None
        try:
            path = writer.close()
        except Exception as exc:  # the temporary file is gone; tell the user, keep the app running
            log.info("recording failed", exc_info=True)
            self.failed.emit(f"The recording could not be saved: {exc}")
            return None
        self.dropped += writer.frames_dropped
        self.stopped.emit(str(path))
        return path

    def cancel(self) -> None:
        """Stop without saving."""
        self._timer.stop()
        writer, self._writer, self._widget = self._writer, None, None
        if writer is not None:
            writer.abort()

    def _capture(self) -> None:
        widget = self._widget
        if widget is None:
            return
        pts = round(self.elapsed * self.fps)
        if pts <= self._last_pts:
            return
        image = widget.grab().toImage()
        try:
            if self._writer is None:
                self._size = image.size()
                self._writer = VideoWriter(self._path, self.fps, (image.width(), image.height()),
                                           queue_frames=QUEUE_FRAMES)
            elif image.size() != self._size:
                image = _letterbox(image, self._size)
            if self._writer.write(image_to_rgb(image), block=False, pts=pts):
                self.frames += 1
                self._last_pts = pts
        except Exception as exc:
            log.info("recording failed", exc_info=True)
            self.cancel()
            self.failed.emit(f"Recording stopped: {exc}")
            return
        self.tick.emit(self.elapsed)


# --------------------------------------------------------------------------- in the main window
def default_path(directory: Path | None = None, suffix: str = ".mp4") -> Path:
    """``~/Videos/rnnviz-YYYYmmdd-HHMMSS.mp4`` (or the home directory without a Videos folder)."""
    if directory is None:
        videos = Path.home() / "Videos"
        directory = videos if videos.is_dir() else Path.home()
    return Path(directory) / f"rnnviz-{datetime.now():%Y%m%d-%H%M%S}{suffix}"


class RecordingIndicator(QLabel):
    """A red ● with the elapsed time, visible only while recording."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recordingIndicator")
        self.setStyleSheet("QLabel#recordingIndicator { color: #D55E00; font-weight: 600; padding: 0 8px; }")
        self.setVisible(False)

    def show_elapsed(self, seconds: float) -> None:
        minutes, secs = divmod(int(seconds), 60)
        self.setText(f"● REC {minutes:d}:{secs:02d}")
        self.setVisible(True)


class RecordingControls(QObject):
    """What the window shows for recording: `button` (``recordButton``) for its tool bar, `action`
    (``recordAction``, Ctrl+Shift+R) for its File menu and `indicator` (``recordingIndicator``) for
    its status bar, all driving one `recorder`.

    parent: the widget the file dialog opens over; target: returns the widget to record;
    report(message): tells the user something went wrong; note(message): a passing status note.
    """

    def __init__(self, parent: QWidget, target: Callable[[], QWidget], *,
                 report: Callable[[str], None], note: Callable[[str], None]) -> None:
        super().__init__(parent)
        self._parent = parent
        self._target = target
        self._report = report
        self._note = note
        self.recorder = Recorder(self)
        self.indicator = RecordingIndicator()
        self.button = QPushButton("Record", objectName="recordButton")
        self.button.setCheckable(True)
        self.button.setToolTip("Record the window to a video (.mp4 or .gif) until pressed again (Ctrl+Shift+R)")
        self.action = QAction("&Record video", parent, objectName="recordAction")
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.action.setStatusTip(self.button.toolTip())
        self.button.toggled.connect(self._toggled)
        self.action.toggled.connect(self._toggled)
        self.recorder.started.connect(lambda _path: self._sync(True))
        self.recorder.tick.connect(self.indicator.show_elapsed)
        self.recorder.stopped.connect(self._saved)
        self.recorder.failed.connect(self._failed)

    def _sync(self, on: bool) -> None:
        for widget in (self.button, self.action):
            widget.blockSignals(True)
            widget.setChecked(on)
            widget.blockSignals(False)
        self.button.setText("Stop" if on else "Record")
        if not on:
            self.indicator.setVisible(False)

    def _toggled(self, on: bool) -> None:
        if not on:
            self.recorder.stop()
            return
        path, _ = QFileDialog.getSaveFileName(self._parent, "Record to", str(default_path()),
                                              "H.264 video (*.mp4);;Animated GIF (*.gif)")
        if not path:
            self._sync(False)
            return
        try:
            self.recorder.start(self._target(), path)
        except (ValueError, OSError) as exc:
            self._sync(False)
            self._report(str(exc))

    def _saved(self, path: str) -> None:
        self._sync(False)
        note = f"Recording saved: {path}"
        if self.recorder.dropped:
            note += f" ({self.recorder.dropped} frames dropped while the encoder caught up)"
        self._note(note)

    def _failed(self, message: str) -> None:
        self._sync(False)
        self._report(message)
