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

`install_into(window)` adds the Record button (``recordButton``), the ``recordAction`` (Ctrl+Shift+R)
and a red elapsed-time indicator (``recordingIndicator``) to the main window.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Installed on a window: closing it finishes the recording (the file is saved, not lost)."""
        if event.type() == QEvent.Type.Close and self.recording:
            self.stop()
        return False

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


# --------------------------------------------------------------------------- main window hook
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


def install_into(window, target=None) -> Recorder:
    """Add recording to the main window: a Record button in the run toolbar, ``recordAction``
    (Ctrl+Shift+R) in the File menu, and an indicator in the status bar.

    target: a callable returning the widget to record (default: the whole window); e.g.
    ``lambda: window.tabs.currentWidget()`` records only the shown panel.
    """
    recorder = Recorder(window)
    indicator = RecordingIndicator()
    button = QPushButton("Record", objectName="recordButton")
    button.setCheckable(True)
    button.setToolTip("Record the window to a video (.mp4 or .gif) until pressed again (Ctrl+Shift+R)")
    action = QAction("&Record video", window, objectName="recordAction")
    action.setCheckable(True)
    action.setShortcut(QKeySequence("Ctrl+Shift+R"))
    action.setStatusTip(button.toolTip())

    def sync(on: bool) -> None:
        for widget in (button, action):
            widget.blockSignals(True)
            widget.setChecked(on)
            widget.blockSignals(False)
        button.setText("Stop" if on else "Record")
        if not on:
            indicator.setVisible(False)

    def toggled(on: bool) -> None:
        if not on:
            recorder.stop()
            return
        path, _ = QFileDialog.getSaveFileName(window, "Record to", str(default_path()),
                                              "H.264 video (*.mp4);;Animated GIF (*.gif)")
        if not path:
            sync(False)
            return
        try:
            recorder.start(target() if target else window, path)
        except (ValueError, OSError) as exc:
            sync(False)
            _report(window, str(exc))

    def saved(path: str) -> None:
        sync(False)
        note = f"Recording saved: {path}"
        if recorder.dropped:
            note += f" ({recorder.dropped} frames dropped while the encoder caught up)"
        window.statusBar().showMessage(note, 10000)

    def failed(message: str) -> None:
        sync(False)
        _report(window, message)

    button.toggled.connect(toggled)
    action.toggled.connect(toggled)
    recorder.started.connect(lambda _path: sync(True))
    recorder.tick.connect(indicator.show_elapsed)
    recorder.stopped.connect(saved)
    recorder.failed.connect(failed)
    toolbar = getattr(window, "run_toolbar", None)
    if toolbar is not None:
        toolbar.addWidget(button)
    menu = getattr(window, "file_menu", None)
    if menu is not None:
        menu.insertAction(menu.actions()[-1] if menu.actions() else None, action)
    window.addAction(action)
    window.statusBar().insertPermanentWidget(0, indicator)
    window.installEventFilter(recorder)
    window.recorder = recorder
    window.record_button = button
    return recorder


def _report(window, message: str) -> None:
    report = getattr(window, "report_error", None)
    if report is not None:
        report(message, title="Recording")
    else:
        window.statusBar().showMessage(message, 10000)
