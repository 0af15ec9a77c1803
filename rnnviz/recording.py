"""``rnnviz record``: render a training run offscreen, frame by frame, into an .mp4 or .gif.

The run is driven here, with no timers: frame k (k ≥ 1) shows the session after exactly
k · `iterations_per_frame` iterations; the views receive those snapshots, and the widget is painted
into the frame. Nothing depends on the wall clock, so the same preset and seed give the same
frames, bit for bit. The work is shared: a process of its own trains the next frames' iterations
(`rnnviz.frame_training`), the main thread paints the current frame from their snapshots, and the
encoder thread converts and encodes the frames painted before.

    frame 0      the freshly initialised model (iteration 0)
    frame k      after k · iterations_per_frame iterations (training stops at a divergence; the
                 remaining frames show the diverged state and its banner)

``--view stepper`` instead trains `iterations_per_frame` iterations (default 0), inspects the
batch and plays the BPTT stepper through its 2T+1 frames, each held for the same number of video
frames (the video is lengthened if 2T+1 frames do not fit in --seconds).

``--lesson NAME`` films one lesson (its preset, settings and view: the main window on the lesson's
tab, or the stepper), ``--all-lessons --out DIR`` every lesson, ``DIR/NN-name.mp4``. A lesson with a
remedy is filmed in two acts: its own run over the first `PROBLEM_SHARE` of the frames (e.g. the
explosion and the banner), then the same run with the remedy applied over the rest.

Iterations per frame may be a fraction (a lesson whose few iterations must be watched one by one):
frame k then shows the run after ⌊k · rate⌋ iterations.

Everything the user typed is checked before any rendering: a bad --size, an unknown extension or
an unwritable directory raise `UsageError` (exit code 2), and the video is written to a temporary
file that only replaces --out when it is complete.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
import weakref
from collections.abc import Callable
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnviz.errors import UsageError
from rnnviz.frame_training import FrameTrainer
from rnnviz.interrupts import StopRequest, stop_on_signals
from rnnviz.limits import MAX_STEPS
from rnnviz.memory_budget import check_memory
from rnnviz.presets import load_preset
from rnnviz.video import VideoWriter, check_output_path
from rnnviz.worker_processes import start_worker_server

#: --view choices and what they film.
VIEWS = ("window", "diagram", "curves", "stepper")
#: A lesson with a remedy: the share of the frames that shows the problem before the remedy.
PROBLEM_SHARE = 0.45
#: Frame sides accepted by --size (pixels).
MIN_SIDE, MAX_SIDE = 160, 3840


@dataclass(frozen=True)
class RecordResult:
    path: Path
    frames: int
    fps: int
    size: tuple[int, int]
    iterations: int
    seconds: float           # wall-clock time of the frame loop: training, painting, encoding
    diverged_at: int | None = None
    train_seconds: float = 0.0   # wall-clock time spent training (in its own process, beside painting)
    paint_cpu_seconds: float = 0.0   # CPU time of the filming thread (load-independent)
    train_cpu_seconds: float = 0.0   # CPU time of the training process
    train_wait_seconds: float = 0.0   # time the filming thread waited for training
    encode_wait_seconds: float = 0.0  # time the filming thread waited for the encoder
    cpu_seconds: float = 0.0     # CPU time of every thread over the frame loop, the training process's included
    whole_frames: int = 0        # frames painted whole; the others kept the docks and bars (`Camera`)
    encode_cpu_seconds: float = 0.0   # CPU time of the encoder thread (yuv420p conversion and x264)


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` → (1280, 720); anything else raises `UsageError`."""

    match = re.fullmatch(r"\s*([0-9]+)\s*[xX×]\s*([0-9]+)\s*", text or "")
    if not match:
        raise UsageError(f"--size must be WIDTHxHEIGHT, e.g. 1280x720; got {text!r}")
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise UsageError(f"--size {width}x{height} is out of range; each side must be "
                         f"{MIN_SIDE}..{MAX_SIDE} pixels")
    return width, height


def checked_output(path: str) -> Path:
    """The --out path, or `UsageError` if a video cannot be written there (nothing is created)."""

    try:
        return check_output_path(path)
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None


# --------------------------------------------------------------------------- Qt setup
def ensure_app():
    """The QApplication; a new one renders offscreen (set before it exists): with no display there
    is no other choice, and with one, no window flashes up and no HiDPI scaling changes the frames.
    A QT_QPA_PLATFORM chosen by the user is kept when there is a display."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app
    no_display = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if no_display or "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    # Qt's raster engine hands every fill taller than ~96 lines to a thread pool and waits for it.
    # Filming 1280×720 frames, that saved nothing on the painting thread (8.0 vs 8.3 ms a frame)
    # and cost ~2 ms of CPU a frame in hand-offs, CPU the training and encoding threads need.
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
    _quiet_offscreen_warnings()
    return QApplication(["rnnviz"])


#: Messages the offscreen platform prints for every top-level widget; they mean nothing here.
_HARMLESS = ("This plugin does not support",)


def _quiet_offscreen_warnings() -> None:
    from PySide6.QtCore import qInstallMessageHandler

    def handler(_mode, _context, message: str) -> None:
        if not message.startswith(_HARMLESS):
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


class Camera:
    """Films one widget: `frame()` brings it up to date and paints it into a frame buffer.

    Cheaper than ``widget.grab()`` (no pixmap, no format conversion: the encoder thread converts
    to yuv420p), and deterministic: no timer runs. Frames are painted in Qt's own 32-bit layout
    (`Format_RGB32`, its fastest to paint into): BGRX bytes on a little-endian machine, hence
    `channel_order` for the `VideoWriter`. Before each frame, posted layout requests are delivered
    and `redraw()` brings every view up to date (views redraw from a display-rate timer in the app;
    a recording has no event loop), so the frame shows exactly the snapshots fed so far, whatever
    the wall clock says. Repaint requests are *not* delivered: the only painting is the frame's own.

    still: the target's `Target.still_widgets`: widgets that look the same from frame to frame
    until its version changes (the docks and bars of the main window). Their pixels are kept from
    the last frame painted whole and copied into the next frames, which paint only the rest; a
    frame is painted whole again when the version changes or when bringing the frame up to date
    sent any event (a layout, a resize, a show) to one of them or to a widget inside them. A buffer
    handed in again (the `VideoWriter`'s spares come round every few frames) that still holds the
    still pixels kept last does not get them again. That relies on
    nobody else writing into a buffer between its frames: `VideoWriter.write(buffer, copy=False)`
    only reads it (``write(copy=True)`` into the same writer's spares would break it).
    """

    def __init__(self, widget, size: tuple[int, int], redraw: Callable[[], None] | None = None,
                 still: Callable[[], tuple[object, list]] | None = None) -> None:
        from PySide6.QtGui import QImage

        self.widget = widget
        self.size = size
        self._still = still
        self._still_version = None
        self._still_pixels: list[tuple[tuple[slice, slice], np.ndarray]] = []
        self._moving = None       # QRegion of the widget painted every frame
        self._holding = weakref.WeakValueDictionary()   # id → buffer, for buffers holding the still pixels kept
        self._watch = _StillWatch() if still is not None else None
        self.whole_frames = 0     # frames painted whole (the others copied the still widgets)
        if sys.byteorder == "little":
            self._format, self.channel_order = QImage.Format.Format_RGB32, "BGR"
        else:   # RGB32 is XRGB in memory there; RGBX8888 is RGBX everywhere
            self._format, self.channel_order = QImage.Format.Format_RGBX8888, "RGB"
        self._buffer: np.ndarray | None = None
        self._redraw = redraw

    def settle(self) -> None:
        from PySide6.QtCore import QCoreApplication, QEvent

        layout = QEvent.Type.LayoutRequest
        still = self._still()[1] if self._still is not None else []
        with self._watch.watching(still) if still else nullcontext():
            QCoreApplication.sendPostedEvents(None, layout)
            if self._redraw is not None:
                self._redraw()
            QCoreApplication.sendPostedEvents(None, layout)

    def frame(self, into: np.ndarray | None = None) -> np.ndarray:
        """The widget's pixels now, (H, W, 4) in `channel_order`, painted into `into` (e.g. a
        `VideoWriter.spare_frame()`); by default into a buffer of the camera's, reused by the next call."""
        from PySide6.QtGui import QColor, QImage

        width, height = self.size
        if into is None:
            if self._buffer is None:
                self._buffer = np.empty((height, width, 4), np.uint8)
            into = self._buffer
        if into.shape != (height, width, 4) or into.dtype != np.uint8 or into.strides[1:] != (4, 1):
            raise ValueError(f"a frame is a ({height}, {width}, 4) uint8 array with contiguous rows, "
                             f"got {into.shape} {into.dtype}")
        self.settle()
        image = QImage(into.data, width, height, into.strides[0], self._format)   # paints into `into`
        version, still = self._still() if self._still is not None else (None, [])
        if not still or version != self._still_version or self._watch.touched:
            image.fill(QColor("white"))
            self.widget.render(image)
            self.whole_frames += 1
            self._holding.clear()             # painted whole: every other buffer is out of date
            if still:
                self._keep_still(into, still)
                self._still_version = version
                self._holding[id(into)] = into
        else:
            if self._holding.get(id(into)) is not into:    # (entries go with their buffers)
                for (rows, columns), pixels in self._still_pixels:
                    into[rows, columns] = pixels
                self._holding[id(into)] = into
            # No fill first: render paints the window's background over the region (DrawWindowBackground,
            # a default flag), so a buffer full of noise gets the same pixels (tests); filling the
            # region white first cost ~0.2 ms a 1280×720 frame.
            self.widget.render(image, self._moving.boundingRect().topLeft(), self._moving)
        return into

    def _keep_still(self, pixels: np.ndarray, still: list) -> None:
        """Keep the still widgets' pixels of a frame painted whole, and what to paint in later frames."""
        from PySide6.QtCore import QPoint, QRect
        from PySide6.QtGui import QRegion

        def box(rect) -> tuple[slice, slice]:
            return slice(rect.top(), rect.bottom() + 1), slice(rect.left(), rect.right() + 1)

        height, width = pixels.shape[:2]
        self._moving = QRegion(self.widget.rect())
        self._still_pixels = []
        for each in still:
            rect = QRect(each.mapTo(self.widget, QPoint(0, 0)), each.size()) & QRect(0, 0, width, height)
            if rect.isEmpty():
                continue
            self._moving -= QRegion(rect)
            self._still_pixels.append((box(rect), pixels[box(rect)].copy()))


class _StillWatch:
    """Notes whether any event reached the still widgets (or a widget inside them) while watching:
    an application-wide event filter, installed only around `Camera.settle`."""

    def __init__(self) -> None:
        from PySide6.QtCore import QObject

        watch = self

        class Filter(QObject):
            def eventFilter(self, obj, event) -> bool:
                watch.saw(obj)
                return False

        self._filter = Filter()
        self._widgets: list = []
        self.touched = False

    def saw(self, obj) -> None:
        from PySide6.QtWidgets import QWidget

        if not self.touched and isinstance(obj, QWidget) and any(
                each is obj or each.isAncestorOf(obj) for each in self._widgets):
            self.touched = True

    @contextmanager
    def watching(self, widgets: list):
        from PySide6.QtCore import QCoreApplication

        self._widgets, self.touched = widgets, False
        app = QCoreApplication.instance()
        app.installEventFilter(self._filter)
        try:
            yield
        finally:
            app.removeEventFilter(self._filter)


def settle(widget, redraw: Callable[[], None] | None = None) -> None:
    """`Camera.settle` for a widget filmed once (tests, screenshots)."""
    Camera(widget, (1, 1), redraw).settle()


# --------------------------------------------------------------------------- what is filmed
class Target:
    """A widget to film and the views in it that receive snapshots."""

    def __init__(self, widget, views: list) -> None:
        self.widget = widget
        self.views = views

    def restart(self, snapshot) -> None:
        for view in self.views:
            view.restart(snapshot)

    def show_snapshots(self, snapshots: tuple) -> None:
        for view in self.views:
            view.show_snapshots(snapshots)

    def show_caption(self, text: str) -> None:
        """Say what the frames now show (the remedy act); the views alone have nowhere to say it."""

    def redraw(self) -> None:
        """Every view up to date now (the `View` protocol's redraw)."""
        for view in self.views:
            view.redraw()

    def still_widgets(self) -> tuple[object, list]:
        """(version, widgets): widgets that look the same in every frame until the version changes,
        so the camera need not paint them again (see `Camera`); none here."""
        return 0, []

    def close(self) -> None:
        self.widget.close()
        self.widget.deleteLater()


class WindowTarget(Target):
    """The whole main window with no worker thread: the recorder feeds it instead.

    Uses the window's feed API (`show_restart`, `show_snapshots`, `show_state`, `refresh`), the
    methods its worker's signals are connected to, so the banner, status bar and every tab behave
    exactly as in the app. The window's settings store is a throw-away file, so neither the user's
    saved layout nor their settings change the video.
    """

    def __init__(self, tab: str | None = None, preset=None, lesson=None) -> None:
        from PySide6.QtCore import QSettings

        from rnnviz.gui.main_window import MainWindow

        self._store_dir = tempfile.TemporaryDirectory(prefix="rnnviz-record-")
        store = QSettings(str(Path(self._store_dir.name) / "record.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings_store=store, start_worker=False)
        from PySide6.QtCore import QCoreApplication

        # Deliver what building the window posted (theme, palette and font changes, polish), so
        # every recording starts from the same, settled window.
        QCoreApplication.sendPostedEvents()
        super().__init__(window, [])
        self.window = window
        window.curves.keep_curve_pixels()   # the same frames, fewer segments stroked
        self.preset = preset
        self._still_version = 0
        self._bars: tuple[int, list] = (-1, [])
        if tab:
            self.show_tab(tab)
        self.show_lesson(lesson)

    def still_widgets(self) -> tuple[tuple, list]:
        """The menu bar, tool bars, docks and tab bars: only the calls below that are not
        `show_snapshots` change them (settings, preset, lesson, tab, run state), and each starts a
        new version. Also the training curves' titles, legends and log-scale box, with their own
        state in the version (`TrainingCurves.still_widgets`). Feeding snapshots changes the views,
        the banner and the status bar, all painted every frame."""
        from PySide6.QtWidgets import QDockWidget, QTabBar, QToolBar

        if self._bars[0] != self._still_version:   # looked up once per version (a tree walk: 0.5 ms)
            window = self.window
            self._bars = (self._still_version, [window.menuBar(), *window.findChildren(QToolBar),
                                                *window.findChildren(QDockWidget), *window.findChildren(QTabBar)])
        state, headers = self.window.curves.still_widgets()
        return (self._still_version, state), [widget for widget in (*self._bars[1], *headers)
                                              if widget.isVisible() and not widget.isWindow()]

    def _changing(self) -> None:
        self._still_version += 1

    def show_lesson(self, lesson) -> None:
        """The lessons panel on `lesson` (not started: the recorder trains); hidden for a preset."""
        self._changing()
        panel = self.window.lesson_panel
        names = [each.name for each in panel.lessons]
        if lesson is not None and lesson.name in names:
            panel.go_to(names.index(lesson.name), start=False)
        else:
            self.window.lessons_dock.hide()

    def show_tab(self, page: str) -> None:
        self._changing()
        self.window.show_page(page)

    def restart(self, snapshot) -> None:
        self._changing()
        controls = self.window.controls
        controls.set_settings(snapshot.settings)   # the panel shows what is being trained
        self.window.lesson_panel.show_settings(snapshot.settings)
        p = self.preset
        if p is not None:
            listed = p.settings == snapshot.settings and controls.preset_combo.findData(p.name) >= 0
            controls.show_preset(p.name if listed else None, p.title, p.commentary)
        self.window.show_restart(snapshot)
        self.window.show_state("playing")

    def show_snapshots(self, snapshots: tuple) -> None:
        self.window.show_snapshots(snapshots)
        if snapshots[-1].diverged:
            self._changing()
            self.window.show_state("diverged")

    def show_caption(self, text: str) -> None:
        self._changing()
        self.window.statusBar().showMessage(text)

    def redraw(self) -> None:
        """The status bar and every view of the window up to date now."""
        self.window.refresh()

    def set_speed_text(self, text: str) -> None:
        self._changing()
        self.window.speed_label.setText(text)

    def close(self) -> None:
        self.window.close()
        self.window.deleteLater()
        self._store_dir.cleanup()


def make_target(view: str, tab: str | None = None, preset=None, lesson=None) -> Target:
    """The widget for --view: the main window, the unrolled diagram, the curves, or the stepper.

    Views filmed on their own get a header: the preset's (or lesson's) title and, for training
    views, the live numbers (loss, accuracy, ‖g‖, spectral radius), so every frame says what it shows."""
    if view == "window":
        return WindowTarget(tab, preset, lesson)
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

    from rnnviz.gui.live_numbers import LiveNumbers

    if view == "curves":
        from rnnviz.gui.curves import TrainingCurves

        views = [TrainingCurves()]
        views[0].keep_curve_pixels()   # the same frames, fewer segments stroked
    elif view == "diagram":
        from rnnviz.gui.unrolled_view import UnrolledView

        views = [UnrolledView()]
    elif view == "stepper":
        from rnnviz.gui.stepper import BPTTStepper

        views = [BPTTStepper()]
    elif view == "gradients":   # the Gradients tab's views on their own (Python API only)
        from rnnviz.gui.heatmap import ContributionHeatmap
        from rnnviz.gui.spectrum import SpectrumPlot

        views = [ContributionHeatmap(), SpectrumPlot()]
    else:
        raise ValueError(f"view = {view!r}; view must be one of {', '.join(VIEWS)}")
    widget = QWidget(objectName=f"record{view.capitalize()}")
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(6, 4, 6, 4)
    layout.setSpacing(4)
    if preset is not None:
        title = QLabel(objectName="recordTitle")
        title.setTextFormat(Qt.TextFormat.RichText)
        title.setText(f"<span style='font-size: large; font-weight: 600'>{_escape(preset.title)}</span>")
        layout.addWidget(title)
    if view != "stepper":
        numbers = LiveNumbers()
        layout.addWidget(numbers)
        views = [numbers, *views]
    if len(views) > 2:
        body = QSplitter(Qt.Orientation.Vertical)
        for v in views[1:]:
            body.addWidget(v)
        layout.addWidget(body, 1)
    else:
        layout.addWidget(views[-1], 1)
    return Target(widget, views)


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def _prepare(target: Target, size: tuple[int, int]) -> None:
    from PySide6.QtCore import Qt

    widget = target.widget
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    widget.resize(*size)
    widget.show()
    widget.resize(*size)
    settle(widget, target.redraw)


# --------------------------------------------------------------------------- recording
def default_iterations_per_frame(steps: int, frames: int) -> int:
    """Spread a preset's iteration budget over the video's frames (at least one per frame)."""
    return max(1, round(steps / max(1, frames - 1)))


def record(settings, out: str | os.PathLike, *, seconds: float = 10.0, fps: int = 30,
           size: tuple[int, int] = (1280, 720), view: str = "window",
           iterations_per_frame: float = 1, tab: str | None = None, preset=None, lesson=None,
           progress: bool = False, label: str = "record", remedy=None,
           remedy_iterations_per_frame: float = 1, stop: StopRequest | None = None) -> RecordResult:
    """Train `settings` and film it (see the module doc). Raises ValueError/OSError on a bad `out`.

    tab: the main window page to show (view "window"), named as lessons name views: curves,
    diagram, gradients; preset: the `Preset` whose title and commentary the window's preset panel
    shows (its settings may differ by overrides); lesson: the `Lesson` the window's lessons panel
    shows (without one, that panel is hidden); remedy: `Settings` that cure the run's problem, filmed
    after it (a second act, see the module doc), at `remedy_iterations_per_frame`; stop: checked
    between frames and iterations, raises `Interrupted` (the unfinished video is deleted).

    Training runs in a worker process (multiprocessing, `rnnviz.frame_training`): a script that
    calls this keeps its top-level code under ``if __name__ == "__main__":``."""
    from threadpoolctl import threadpool_limits

    from rnnviz.session import Session

    path = check_output_path(out)
    if view not in VIEWS + ("gradients",):
        raise ValueError(f"view = {view!r}; view must be one of {', '.join(VIEWS)}")
    frames = max(1, round(seconds * fps))
    stop = stop or StopRequest()
    for each in (settings, remedy):   # refused at once, not by a training process once the window is up
        if each is not None:
            check_memory(each)
    if view != "stepper":
        start_worker_server()    # the training process's server starts up while the window is built
    ensure_app()
    with threadpool_limits(1):     # BLAS on one thread: painting and encoding have a thread each
        target = make_target(view, tab, preset, lesson)
        try:
            _prepare(target, size)
            stop.check()
            if view == "stepper":
                return _record_stepper(Session(settings), target, path, frames, fps, size,
                                       iterations_per_frame, progress, label, stop)
            acts = [(settings, frames, iterations_per_frame)]
            if remedy is not None:
                first = round(frames * PROBLEM_SHARE)
                acts = [(settings, first, iterations_per_frame),
                        (remedy, frames - first, remedy_iterations_per_frame)]
            return _record_training(acts, target, path, fps, size, progress, label, stop)
        finally:
            target.close()


def _progress_bar(total: int, enabled: bool, label: str):
    from tqdm import tqdm

    return tqdm(total=total, unit="frame", desc=label, disable=not enabled, file=sys.stderr, leave=False)


def _record_training(acts, target, path, fps, size, progress, label, stop: StopRequest) -> RecordResult:
    """Film each act (settings, frames, iterations per frame) in turn; a later act restarts the views
    with its own run and says what changed. Its training runs a few frames ahead in a process of its
    own (`FrameTrainer`); this thread only feeds the views, paints and hands the frame to the encoder.
    Each act's process starts, and builds its run, before the first frame (as a run was built before
    the first frame when this thread trained): the frame loop's time is training, painting, encoding.
    The video writer opens meanwhile: importing PyAV and opening x264 (~55 ms of CPU) no longer
    holds up the first frames while the training processes, 3 frames ahead, wait for them."""
    with ExitStack() as stack:
        trained = []
        for settings, n, rate in acts:
            trainer = stack.enter_context(FrameTrainer(settings, n, rate, stop))
            trained.append((trainer, settings, n, rate))
        camera = Camera(target.widget, size, target.redraw, target.still_widgets)
        video = stack.enter_context(VideoWriter(path, fps, size, channel_order=camera.channel_order))
        for trainer, *_ in trained:
            trainer.first_snapshot()
        return _film_acts(trained, target, camera, video, fps, progress, label, stop)


def _film_acts(trained, target, camera, video, fps, progress, label, stop: StopRequest) -> RecordResult:
    """Film the acts into `video` and close it (finishing the encoding is part of the frame loop)."""
    start, process_start = time.perf_counter(), time.process_time()
    cpu_start = time.thread_time()
    size = camera.size
    frames = sum(n for _, _, n, _ in trained)
    iterations, diverged_at = 0, None
    train = train_cpu = train_wait = encode_wait = 0.0
    with _progress_bar(frames, progress, label) as bar:
        for number, (trainer, settings, n, rate) in enumerate(trained):
            last = trainer.first_snapshot()
            target.restart(last)
            if isinstance(target, WindowTarget):
                speed = rate * fps   # as the app's status bar writes it ("2,220 it/s"), or "0.5 it/s"
                target.set_speed_text(f"{speed:,.0f} it/s" if speed >= 10 else f"{speed:.2g} it/s")
            if number > 0:
                target.show_caption(_remedy_caption(trained[0][1], settings))
            for k in range(n):
                if k > 0:
                    snaps = trainer.next_frame()
                    if snaps:
                        target.show_snapshots(snaps)
                        last = snaps[-1]
                pixels = camera.frame(video.spare_frame())
                tick = time.perf_counter()
                video.write(pixels, copy=False)
                encode_wait += time.perf_counter() - tick
                bar.update(1)
                stop.check()
            trainer.close()
            train += trainer.train_seconds
            train_cpu += trainer.train_cpu_seconds
            train_wait += trainer.wait_seconds
            iterations += last.iteration
            if number == 0:
                diverged_at = last.diverged_at
    path = video.close()
    paint_cpu = time.thread_time() - cpu_start
    return RecordResult(path, frames, fps, size, iterations, time.perf_counter() - start,
                        diverged_at, train, paint_cpu, train_cpu, train_wait, encode_wait,
                        time.process_time() - process_start + train_cpu, camera.whole_frames,
                        video.encode_cpu_seconds)


def _checked(snapshots, stop: StopRequest):
    """The snapshots of a training run, checking for a stop request after each iteration."""
    for snap in snapshots:
        yield snap
        stop.check()


def _remedy_caption(before, after) -> str:
    """"Remedy: clip none → norm; the same seed and everything else" for two settings."""
    changes = ", ".join(f"{key} {getattr(before, key)} → {getattr(after, key)}"
                        for key in before.as_dict() if getattr(before, key) != getattr(after, key))
    return f"Remedy: {changes}; the same seed and everything else"


def _record_stepper(session, target, path, frames, fps, size, warmup, progress,
                    label, stop: StopRequest) -> RecordResult:
    from rnnviz.bptt_frames import BPTTFrames

    for _ in _checked(session.run(warmup), stop):
        pass
    stepper = target.views[-1]   # the BPTT stepper, filmed on its own
    snapshot = session.snapshot()
    stepper.restart(snapshot)
    inspection = session.inspect()
    stepper.inspection = inspection
    bptt = BPTTFrames(inspection, 0)
    stepper.set_frames(bptt)
    count = bptt.n_frames
    hold = max(1, frames // count)
    total = max(frames, count * hold)
    camera = Camera(target.widget, size, target.redraw)
    start = time.perf_counter()
    with VideoWriter(path, fps, size, channel_order=camera.channel_order) as video, \
            _progress_bar(total, progress, label) as bar:
        for k in range(total):
            index = min(k // hold, count - 1)
            if index != stepper.index or k == 0:
                stepper.go_to(index)
            video.write(camera.frame(video.spare_frame()), copy=False)
            bar.update(1)
            stop.check()
    return RecordResult(path, total, fps, size, snapshot.iteration, time.perf_counter() - start,
                        snapshot.diverged_at)


# --------------------------------------------------------------------------- lessons
def lesson_view(lesson) -> tuple[str, str | None]:
    """(view, page) that films a lesson: the main window on the lesson's page, or the BPTT stepper."""
    if lesson.view == "stepper":
        return "stepper", None
    return "window", lesson.view


@dataclass(frozen=True)
class Take:
    """One video to render: what to train, where to write it and how to film it (`record`'s arguments)."""
    settings: object            # Settings
    out: Path
    view: str
    iterations_per_frame: float
    tab: str | None = None
    preset: object = None       # the Preset (or lesson as a preset) whose title and commentary are shown
    label: str = "record"
    lesson: object = None       # the Lesson, shown in the window's lessons panel
    remedy: object = None       # Settings filmed after the run (the lesson's remedy), or None
    remedy_iterations_per_frame: float = 1


def lesson_take(lesson, out: str | os.PathLike, frames: int, *, overrides=(), view: str | None = None,
                iterations_per_frame: int | None = None) -> Take:
    """How to film `lesson`: its settings (plus ``--set`` overrides), its view unless `view` is given,
    and its iteration budget spread over `frames` (the stepper lesson: the initial weights)."""
    if view is None:
        view, tab = lesson_view(lesson)
    else:
        tab = lesson.view if view == "window" else None
    settings = lesson.settings.replace(**dict(overrides)) if overrides else lesson.settings
    if lesson.remedy and view != "stepper":
        # Two acts: the lesson's few iterations watched one by one, then the remedy over the
        # preset's budget (see the module doc).
        first = round(frames * PROBLEM_SHARE)
        rate = iterations_per_frame or lesson.steps / max(1, first)
        remedy_rate = iterations_per_frame or default_iterations_per_frame(
            load_preset(lesson.preset).steps, frames - first)
        return Take(settings, Path(out), view, rate, tab, lesson.as_preset(), lesson.name, lesson,
                    settings.replace(**lesson.remedy), remedy_rate)
    if iterations_per_frame is None:
        iterations_per_frame = 0 if view == "stepper" else default_iterations_per_frame(lesson.steps, frames)
    return Take(settings, Path(out), view, iterations_per_frame, tab, lesson.as_preset(), lesson.name, lesson)


def record_take(take: Take, *, seconds: float, fps: int, size: tuple[int, int],
                progress: bool = False, stop: StopRequest | None = None) -> RecordResult:
    return record(take.settings, take.out, seconds=seconds, fps=fps, size=size, view=take.view,
                  iterations_per_frame=take.iterations_per_frame, tab=take.tab, preset=take.preset,
                  lesson=take.lesson, progress=progress, label=take.label, remedy=take.remedy,
                  remedy_iterations_per_frame=take.remedy_iterations_per_frame, stop=stop)


# --------------------------------------------------------------------------- CLI and bench
def record_command(args) -> int:
    """``rnnviz record``: check everything, then render (see the module doc).

    Exactly one source: ``--preset NAME``, ``--lesson NAME`` (a lesson's preset, settings and view)
    or ``--all-lessons`` (one video per lesson in the --out directory). An existing video is not
    replaced without ``--force``; Ctrl+C, SIGTERM and SIGHUP stop the recording and delete the
    unfinished video (videos already finished stay)."""
    from rnnviz.presets import preset_with_overrides

    size = parse_size(args.size)
    frames = max(1, round(args.seconds * args.fps))
    lesson_args = dict(overrides=args.overrides, view=args.view, iterations_per_frame=args.iterations_per_frame)
    broken = []
    if getattr(args, "all_lessons", False):
        directory = _checked_directory(args.out)
        lessons, broken = _lessons()
        takes = [lesson_take(lesson, directory / f"{lesson.name}.mp4", frames, **lesson_args)
                 for lesson in lessons]
    elif getattr(args, "lesson", None) is not None:
        out = checked_output(args.out)
        takes = [lesson_take(_lesson(args.lesson), out, frames, **lesson_args)]
    else:
        out = checked_output(args.out)
        preset, settings = preset_with_overrides(args.preset, args.overrides)
        view = args.view or "window"
        if view == "stepper":
            per_frame = args.iterations_per_frame or 0
        else:
            per_frame = args.iterations_per_frame or default_iterations_per_frame(preset.steps, frames)
        takes = [Take(settings, out, view, per_frame, None, preset, preset.name)]
    for take in takes:
        iterations = take.iterations_per_frame * (1 if take.view == "stepper" else frames)
        if iterations > MAX_STEPS:
            raise UsageError(f"{take.label}: {iterations:,.0f} training iterations ({frames:,} frames); "
                             f"a recording trains at most {MAX_STEPS:,}: lower --iterations-per-frame, "
                             "--seconds or --fps")
    existing = [take.out for take in takes if take.out.exists()]
    if existing and not args.force:
        names = ", ".join(str(path) for path in existing[:3]) + (", …" if len(existing) > 3 else "")
        raise UsageError(f"{names} {'exists' if len(existing) == 1 else 'exist'} already; "
                         "add --force to replace")
    for each in broken:   # a bad lesson file stops only its own video
        print(f"rnnviz: error: not recorded: {each.error}", file=sys.stderr, flush=True)
    with stop_on_signals() as stop:
        for take in takes:
            try:
                take.out.parent.mkdir(exist_ok=True)    # --all-lessons: the directory, once checked
                result = record_take(take, seconds=args.seconds, fps=args.fps, size=size,
                                     progress=sys.stderr.isatty(), stop=stop)
            except (ValueError, OSError) as exc:   # e.g. the directory vanished meanwhile
                raise UsageError(str(exc)) from None
            ended = f", diverged at iteration {result.diverged_at}" if result.diverged_at is not None else ""
            print(f"wrote {result.path}: {result.frames} frames ({result.frames / result.fps:.1f} s at "
                  f"{result.fps} fps, {size[0]}x{size[1]}), {result.iterations} iterations{ended}, "
                  f"rendered in {result.seconds:.1f} s", flush=True)
    return 2 if broken else 0


def _lessons() -> tuple[list, list]:
    """(lessons that load, broken ones); `UsageError` if none loads."""
    from rnnviz.lessons import LessonError, read_lessons

    try:
        lessons, broken = read_lessons()
    except LessonError as exc:
        raise UsageError(str(exc)) from None
    if not lessons:
        raise UsageError(str(broken[0].error))
    return lessons, broken


def _lesson(name: str):
    from rnnviz.lessons import LessonError, find_lesson

    try:
        return find_lesson(name)
    except LessonError as exc:
        raise UsageError(str(exc)) from None


def _checked_directory(path: str) -> Path:
    """--out for --all-lessons: an existing writable directory, or a new one in an existing directory
    (created when rendering starts)."""

    directory = Path(path).expanduser()
    if directory.suffix.lower() in (".mp4", ".gif"):
        raise UsageError(f"--all-lessons writes one video per lesson into a directory; "
                         f"--out {path!r} looks like a file")
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--all-lessons needs a directory for --out; {path!r} is a file")
    existing = directory if directory.exists() else directory.parent
    if not existing.is_dir():
        raise UsageError(f"cannot record to {path!r}: directory {str(existing)!r} does not exist")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"cannot record to {path!r}: directory {str(existing)!r} is not writable")
    return directory
