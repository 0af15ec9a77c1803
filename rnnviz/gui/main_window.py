"""The main window: controls on the left, views in tabs, lessons on the right, training in a process of its own.

`MainWindow.__init__` builds every part and says where it goes; read it to know what the window holds.
Data flow: the `ControlPanel` edits `Settings` → `TrainingWorker.apply` (live fields mid-run,
structural ones rebuild the model) → the worker sends coalesced, immutable snapshots → every view's
`show_snapshots` (the `RunView` protocol of `rnnviz.gui.view`); a rebuild or reset sends
`restarted`, and every view's `restart` clears its history.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QDockWidget, QFileDialog, QFrame,
                               QHBoxLayout, QHeaderView, QLabel, QMainWindow, QMessageBox, QPushButton,
                               QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QToolBar,
                               QVBoxLayout, QWidget)

from rnnviz import __version__
from rnnviz.divergence import divergence_message
from rnnviz.gui import collector, dock_columns
from rnnviz.gui.controls import DEFAULT_SPEED, ControlPanel, RunControls
from rnnviz.gui.curves import TrainingCurves
from rnnviz.gui.export import ExportActions, MetricsLog
from rnnviz.gui.first_paint import FirstPaint
from rnnviz.gui.focus_mode import FocusMode
from rnnviz.gui.frame_budget import DEFAULT_SHARE, PACED_SHARE, in_hidden_tab
from rnnviz.gui.lazy_tab import LazyTab
from rnnviz.gui.lesson_panel import LessonPanel, remedy_text
from rnnviz.gui.live_numbers import LiveNumbers
from rnnviz.gui.presentation import PresentationMode, ShortcutOverlay
from rnnviz.gui.recorder import RecordingControls
from rnnviz.gui.theme import Theme, apply_to_application, get_theme
from rnnviz.gui.vertical_scroll import VerticalScroll
from rnnviz.gui.view import RunView, View
from rnnviz.gui.window_geometry import first_launch_geometry, fits
from rnnviz.gui.worker import STOP_TIMEOUT, TrainingWorker
from rnnviz.lessons import Lesson
from rnnviz.memory_budget import memory_problem
from rnnviz.presets import PRESET_DIR, PresetError, preset_names
from rnnviz.presets import load_preset as read_preset
from rnnviz.settings import Settings, SettingsError
from rnnviz.trainer import DIVERGED, PAUSED, PLAYING

if TYPE_CHECKING:
    # The pages out of sight at start-up import these when they are built, after the first paint;
    # the session imports the engine (numba), which the worker's thread loads after the first paint.
    from rnnviz.gui.compare import ComparisonView
    from rnnviz.gui.heatmap import ContributionHeatmap
    from rnnviz.gui.horizon_panel import HorizonPanel
    from rnnviz.gui.spectrum import SpectrumPlot
    from rnnviz.gui.stepper import BPTTStepper
    from rnnviz.gui.unrolled_view import UnrolledView
    from rnnviz.session import Snapshot

log = logging.getLogger(__name__)

#: The tabs, in order: (page name, title). Lessons and recordings name a page by its name (a
#: lesson's `view`: "stepper" shows the page of the unrolled diagram, where the stepper sits).
PAGES = (("curves", "Training"), ("diagram", "Unrolled network"), ("gradients", "Gradients"),
         ("compare", "Compare"), ("horizon", "Memory horizon"))
PAGE_ALIASES = {"stepper": "diagram"}
#: Pages that show the training run: its banner, status labels and run commands belong to them.
#: On Compare the commands act on the comparison; on Memory horizon (a sweep) there is no run to play.
RUN_PAGES = frozenset({"curves", "diagram", "gradients"})

#: Status-bar notes stay this long (ms): most notes, export notes, recording notes.
NOTE_TIMEOUT_MS, EXPORT_NOTE_MS, RECORDING_NOTE_MS = 6000, 8000, 10000
#: The steps/s label averages over this many seconds; the status labels refresh this often (ms).
SPEED_WINDOW_S = 1.0
LABEL_REFRESH_MS = 200
#: The worker "keeps up" with a set speed when it measures at least this share of it.
KEEPS_UP = 0.9
#: Batches of snapshots per second the worker sends while the diagram is showing without its
#: animation (it draws each batch's newest iteration at once) ... An animated diagram takes the
#: newest iteration only as a sweep ends (every 2.1 s), so it asks for no more than the curves: at
#: default settings 60 batches a second cost the GUI thread 1.5-2x the GIL time of 15.
DIAGRAM_EMIT_RATE = 60.0
#: ... and otherwise: the curves redraw at most 30 times a second, so more batches would only
#: take the GIL away from training ...
EMIT_RATE = 30.0
#: ... or 15 while training runs as fast as it can (the curves then redraw a few times a second).
FLAT_OUT_EMIT_RATE = 15.0
SPEED_REFRESH_MS = 250
#: When Play was pressed before the first run arrived, the pages out of sight are built with its
#: first trained batch (so the first iteration is drawn before them), or at the latest this long
#: after its first snapshot (ms).
PAGES_WHEN_PAUSED_MS = 300
#: If the first run has not arrived this long after training started (ms), the status bar
#: says the engine is loading: on the first launch numba compiles the kernels (seconds), later
#: launches load them from its cache.
ENGINE_NOTE_AFTER_MS = 1500
ENGINE_NOTE = "Loading the training engine… (the first launch compiles it: a few seconds)"
CONTROLS_WIDTH = 340
#: Side by side, the docks may take this share of the screen's width (else they share a column).
DOCKS_SHARE = 0.5
#: The loss starts on a log axis: it spans decades while learning, and hundreds while exploding.
DEFAULT_LOG_SCALE = "true"
ORGANISATION = APPLICATION = "rnnviz"

#: Keys of the persisted state in QSettings.
KEY_SETTINGS, KEY_SPEED, KEY_THEME, KEY_LOG, KEY_PRESET = "settings", "speed", "theme", "logScale", "preset"
KEY_GEOMETRY, KEY_STATE = "geometry", "windowState"

FIELD_NAMES = {"task": "task", "lag": "lag", "seq_len": "sequence length", "arch": "architecture",
               "activation": "activation", "init": "initialisation", "init_scale": "init scale",
               "skip": "skip distance", "hidden": "hidden units", "batch": "batch size", "seed": "seed",
               "dtype": "precision", "forget_bias": "forget-gate bias"}


def default_store() -> QSettings:
    """The user's persistent settings (tests pass their own `settings_store` instead)."""
    return QSettings(ORGANISATION, APPLICATION)


class _StatusLabel(QLabel):
    """A status-bar label of fixed size, fitted to its widest text (`sample`) in the current font.

    A fixed size matters: a label whose size may change makes every new text re-lay out the whole
    window (docks and tool bar included), several times a second while training runs."""

    def __init__(self, text: str, sample: str, *, objectName: str) -> None:
        super().__init__(text, objectName=objectName)
        self._sample = sample
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._fit()

    def _fit(self) -> None:
        metrics = self.fontMetrics()
        self.setFixedSize(metrics.horizontalAdvance(self._sample) + 12, metrics.height() + 4)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:     # e.g. presentation mode's larger type
            self._fit()


class DivergenceBanner(QFrame):
    """A red strip over the views: what exploded, when, and what to do about it."""

    reset_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("divergenceBanner")
        self.label = QLabel(objectName="divergenceText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        button = QPushButton("Reset run", objectName="bannerResetButton")
        button.setToolTip("Start the run again from the same seed (R)")
        button.clicked.connect(self.reset_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.label, 1)
        layout.addWidget(button)
        self._run_shown = True
        self.setVisible(False)

    def apply_theme(self, theme: Theme) -> None:
        self.setStyleSheet(
            f"QFrame#divergenceBanner {{ background: {theme.banner_background};"
            f" border: 1px solid {theme.diverged}; border-radius: 6px; }}"
            f"QLabel#divergenceText {{ color: {theme.banner_text}; font-size: 15px; font-weight: 600; }}")

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.setVisible(self._run_shown)

    def set_run_shown(self, shown: bool) -> None:
        """Whether the page showing is one of the run's: the banner shows only over those."""
        self._run_shown = shown
        self.setVisible(shown and bool(self.text()))

    def clear(self) -> None:
        self.label.clear()
        self.setVisible(False)

    def text(self) -> str:
        return self.label.text()


class ViewStack(QSplitter):
    """One page of views of the training run, top to bottom, each resizable: what the `LazyTab`s
    of the pages out of sight at start-up build. `views` are fed the run like the others;
    `stop` ends their background work (the stepper's frames)."""

    def __init__(self, *views: View, stop: Callable[[], None] = lambda: None) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self.setChildrenCollapsible(False)
        self.views = views
        self._stop = stop
        for view in views:
            self.addWidget(view)

    def apply_theme(self, theme: Theme) -> None:
        for view in self.views:
            view.apply_theme(theme)

    def shutdown(self) -> None:
        self._stop()


def _dock_action(dock: QDockWidget, text: str, shortcut: str, name: str) -> QAction:
    """The dock's own show/hide action, named and with a shortcut."""
    action = dock.toggleViewAction()
    action.setText(text)
    action.setShortcut(QKeySequence(shortcut))
    action.setObjectName(name)
    return action


class MainWindow(QMainWindow):
    """The whole app. `MainWindow()` builds everything with defaults and starts training (in a
    process of its own, see `rnnviz.training_process`).

    settings_store: where settings and geometry persist (default: QSettings("rnnviz", "rnnviz")).
    session_factory: (Settings, cancel flag) → Session, trained on a thread of the app, for tests
        (default: an `rnnviz.session.Session`, trained in a process of its own).
    preset_dir: where the preset chooser looks (default: resources/presets).
    start_worker: False builds the window without starting training or the status
        timers; the caller then feeds it (offscreen recording drives a Session synchronously):

            window.show_restart(session.snapshot()); window.show_state("playing")
            window.show_snapshots(tuple(session.run(10)))
            window.refresh()                  # labels and every view up to date, now

    The worker's signals are connected to these same methods, so a fed window behaves as the app.
    """

    def __init__(self, *, settings_store: QSettings | None = None, session_factory=None,
                 preset_dir: Path | None = None, start_worker: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("rnnviz")
        self.store = settings_store if settings_store is not None else default_store()
        self.preset_dir = Path(preset_dir) if preset_dir is not None else PRESET_DIR
        self._theme = theme = get_theme(str(self.store.value(KEY_THEME, "light")))
        self._run: int | None = None
        self._state = "paused"
        self._latest = None
        self._rates: deque[tuple[float, int]] = deque()
        self._error_box: QMessageBox | None = None
        self.last_error: str | None = None
        self._resume_after_inspection = False
        self._resync_controls = False
        self._closed = False
        self._refused_at_start: str | None = None
        settings = self._applied = self._stored_settings()

        app = QApplication.instance()
        if app is not None:   # style and palette first: widgets built after them are polished once
            apply_to_application(app, theme)

        # What the user edits and commands.
        self.controls = ControlPanel()
        self.controls.set_settings(settings)
        self.run_controls = RunControls()
        self.banner = DivergenceBanner()
        self.lesson_panel = LessonPanel(held=settings)
        # The views of the training run: each is fed the worker's snapshots (see `show_snapshots`).
        # The numbers and the curves show at start-up. The unrolled diagram with its stepper, and
        # the heatmap with the spectrum, are out of sight: their pages are built when the first
        # run arrives, or after its first trained batch if Play was pressed before (or when first
        # needed); a page built while a run is on is given that run so far (see `_fed`).
        # `diagram`, `stepper`, `heatmap` and `spectrum` build theirs on use.
        self.numbers = LiveNumbers(theme=theme)
        self.curves = TrainingCurves(theme=theme)
        self.diagram_tab = LazyTab(self._build_diagram_page, theme, objectName="diagramTab")
        self.gradients_tab = LazyTab(self._build_gradients_page, theme, objectName="gradientsTab")
        self.metrics = MetricsLog()                       # every snapshot's numbers, for the CSV export
        self._unbuilt = {"diagram", "gradients"}
        self._shown_so_far: tuple[Snapshot, list[tuple]] | None = None   # the run, while pages are unbuilt
        self._pages_due = False
        self._play_pending = False     # Play sent, "playing" not yet back
        # Pages with runs of their own (not the training session's), built when first opened.
        self.compare_tab = LazyTab(self._build_comparison, theme)
        self.horizon_tab = LazyTab(self._build_horizon, theme)
        # Training, off the GUI thread.
        self.worker = TrainingWorker(settings, session_factory)
        # Teaching tools.
        self.recording = RecordingControls(self, lambda: self, report=self._recording_error,
                                           note=lambda text: self._note(text, RECORDING_NOTE_MS))
        self.recorder = self.recording.recorder
        self.export = ExportActions(self, self.metrics, settings=self.controls.settings,
                                    page=self.tabs_page, report=lambda text: self.report_error(text, title="Export"),
                                    note=lambda text: self._note(text, EXPORT_NOTE_MS))
        self.presentation = PresentationMode(self, self.controls, theme=lambda: self._theme,
                                             set_theme=self.apply_theme)

        # Where everything goes.
        self.tabs = QTabWidget(objectName="viewTabs")
        self.tabs.setDocumentMode(True)
        self.focus = FocusMode(self, self.tabs)           # the page showing takes the whole window
        self.pages = self._build_pages()
        self._build_central()
        self._build_docks()
        self._build_tool_bar()
        self._build_status_bar()
        self.shortcut_overlay = ShortcutOverlay(self)     # over the whole window, on "?"
        self._build_menus()
        self._fill_presets()
        self._connect(start_timers=start_worker)
        self._restore_view_state()
        self.banner.apply_theme(theme)
        self.dark_action.setChecked(theme.dark)
        if self._refused_at_start:
            self.report_error(f"The saved settings were not used, the defaults were: {self._refused_at_start}.",
                              title="Settings too large")
        if start_worker:
            # Once the window has painted: the worker's first act is importing the engine and
            # loading its compiled kernels, which holds the GIL for about half a second and would
            # otherwise delay the window's first frame.
            self._first_paint = FirstPaint(self, self._start_worker)
        else:
            self.build_pages()     # a fed window (recording, tests) shows every page at once

    def _start_worker(self) -> None:
        if self._closed or self.worker.is_running():
            return
        self.worker.start()
        self.worker.set_speed(self.run_controls.speed())
        self._follow_tab()
        QTimer.singleShot(ENGINE_NOTE_AFTER_MS, self, self._engine_note)

    def _engine_note(self) -> None:
        """Nothing looks frozen while the engine loads (see `ENGINE_NOTE_AFTER_MS`)."""
        if self._latest is None and not self._closed:
            self.statusBar().showMessage(ENGINE_NOTE)

    def _clear_engine_note(self) -> None:
        if self.statusBar().currentMessage() == ENGINE_NOTE:
            self.statusBar().clearMessage()

    def build_pages(self) -> None:
        """Build every page of the training run now (they are otherwise built when the first run
        arrives, see `show_restart` and `_pages_soon`)."""
        self.diagram_tab.ensure()
        self.gradients_tab.ensure()

    def _pages_soon(self) -> None:
        """Build the pages out of sight, one per turn of the event loop (a click in between is
        answered): when Play was pressed before the first run arrived, with its first trained
        batch or `PAGES_WHEN_PAUSED_MS` after its first snapshot; the first iteration is drawn first."""
        if self._pages_due or not self._unbuilt:
            return
        self._pages_due = True
        QTimer.singleShot(0, self, self.diagram_tab.ensure)
        QTimer.singleShot(0, self, self.gradients_tab.ensure)

    def _fed(self, name: str, page: ViewStack) -> ViewStack:
        """A page built after the run began is given the run so far, as if it had been there."""
        if self._shown_so_far is not None:
            first, batches = self._shown_so_far
            for view in page.views:
                view.restart(first)
                for snapshots in batches:
                    view.show_snapshots(snapshots)
        self._unbuilt.discard(name)
        if not self._unbuilt:
            self._shown_so_far = None
        return page

    def _build_diagram_page(self, theme: Theme) -> ViewStack:
        from rnnviz.gui.stepper import BPTTStepper
        from rnnviz.gui.unrolled_view import UnrolledView

        diagram, stepper = UnrolledView(theme=theme), BPTTStepper(theme=theme)
        diagram.animate_toggle.toggled.connect(lambda _on: self.worker.started and self._follow_tab())
        stepper.inspect_requested.connect(self.inspect)
        stepper.finished.connect(self._inspection_finished)
        return self._fed("diagram", ViewStack(diagram, stepper, stop=stepper.shutdown))   # the stepper hides the diagram while open

    def _build_gradients_page(self, theme: Theme) -> ViewStack:
        from rnnviz.gui.heatmap import ContributionHeatmap
        from rnnviz.gui.spectrum import SpectrumPlot

        return self._fed("gradients", ViewStack(ContributionHeatmap(theme=theme), SpectrumPlot(theme=theme)))

    def _built_views(self) -> tuple[View, ...]:
        """The views of the training run built so far (see `_fed` for the others)."""
        pages = (tab.content.views for tab in (self.diagram_tab, self.gradients_tab) if tab.content is not None)
        return (self.numbers, self.curves, *(view for views in pages for view in views))

    def _fed_views(self) -> tuple[RunView, ...]:
        """What each snapshot feeds now: the views built so far and the metrics log."""
        return (*self._built_views(), self.metrics)

    @property
    def views(self) -> tuple[View, ...]:
        """The views of the training run: the numbers, the curves, then the other pages' views
        (those pages are built now if they were not yet)."""
        return (self.numbers, self.curves, *self.diagram_tab.ensure().views, *self.gradients_tab.ensure().views)

    @property
    def run_views(self) -> tuple[RunView, ...]:
        """What the run's snapshots feed: the views and the metrics log (the CSV export)."""
        return (*self.views, self.metrics)

    @property
    def diagram(self) -> UnrolledView:
        """The animated unrolled network (its page is built if it was not yet)."""
        return self.diagram_tab.ensure().views[0]

    @property
    def stepper(self) -> BPTTStepper:
        """The BPTT stepper, under the diagram (its page is built if it was not yet)."""
        return self.diagram_tab.ensure().views[1]

    @property
    def heatmap(self) -> ContributionHeatmap:
        """Each step's share of dL/dW_H per iteration (its page is built if it was not yet)."""
        return self.gradients_tab.ensure().views[0]

    @property
    def spectrum(self) -> SpectrumPlot:
        """W_H's eigenvalues, σ_max and ρ over the run (its page is built if it was not yet)."""
        return self.gradients_tab.ensure().views[1]

    def _page_changed(self, _index: int) -> None:
        """The run commands, the tool bar's play button, the banner and the status labels follow
        the page showing; a run that goes out of sight pauses (it would train unseen, and the keys
        now act on another)."""
        comparison = self.compare_tab.content
        on_compare = self.tabs.currentWidget() is self.compare_tab
        if on_compare and self._state == PLAYING:
            self.pause()
            self._note("Training paused: the Compare tab runs its own pair of runs (Space plays them).")
        elif not on_compare and comparison is not None and comparison.state == PLAYING:
            comparison.pause()
        self._show_run_state()
        shows_run = self.page_name() in RUN_PAGES
        self.banner.set_run_shown(shows_run)
        for label in (self.iteration_label, self.speed_label, self.state_label):
            label.setVisible(shows_run)
        for action in self.run_actions:
            action.setEnabled(self._shown_run() is not None)
        self.run_controls.set_commands_enabled(self._shown_run() is not None)
        if self.worker.started:
            self._follow_tab()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # A page that asks for more width (Compare's two diagrams, once they show a run) can push
        # the window past the screen's edge beside two docks: the docks then share one column.
        screen = self.screen()
        if screen is not None and event.size().width() > screen.availableGeometry().width():
            QTimer.singleShot(0, self, self._fit_screen)

    def _fit_screen(self) -> None:
        if not self.presentation.on and not self._closed and dock_columns.crowded(self, 1.0):
            dock_columns.share_one_column(self)

    def page_name(self) -> str:
        """The name of the page showing (see `PAGES`)."""
        current = self.tabs.currentWidget()
        return next(name for name, page in self.pages.items() if page is current)

    def _shown_run(self):
        """What the run commands act on: the comparison on its page, else the training run, or
        None on a page without a run to play (the memory-horizon sweep has its own Run button)."""
        name = self.page_name()
        if name == "compare":
            return self.compare_tab.ensure()
        return self if name in RUN_PAGES else None

    def _show_run_state(self) -> None:
        run = self._shown_run()
        self.run_controls.set_playing(run is not None and run.state == PLAYING)

    def _build_comparison(self, theme: Theme) -> ComparisonView:
        from rnnviz.gui.compare import ComparisonView

        view = ComparisonView(theme=theme)
        view.set_speed(self.run_controls.speed())
        view.state_changed.connect(self._show_run_state)
        return view

    @staticmethod
    def _build_horizon(theme: Theme) -> HorizonPanel:
        from rnnviz.gui.horizon_panel import HorizonPanel

        return HorizonPanel(theme=theme)

    @property
    def state(self) -> str:
        """The training run's state: "playing" | "paused" | "diverged"."""
        return self._state

    @property
    def latest_snapshot(self) -> Snapshot | None:
        """The newest snapshot of the current run the window has shown (None before the first)."""
        return self._latest

    @property
    def run_id(self) -> int | None:
        """The id of the run the window follows (a restart starts a new one)."""
        return self._run

    @property
    def theme(self) -> Theme:
        """The colour theme the window is drawn in."""
        return self._theme

    @property
    def applied_settings(self) -> Settings:
        """The settings the training run uses now."""
        return self._applied

    def _follow_tab(self, _index: int | None = None) -> None:
        """Ask the worker for batches as often as the showing tab can use them at this speed."""
        page = self.diagram_tab.content       # not built yet: it will animate (Animate starts on)
        animated = page is None or page.views[0].animate_toggle.isChecked()
        if self.tabs.currentWidget() is self.pages["diagram"] and not animated:
            rate = DIAGRAM_EMIT_RATE
        else:
            rate = FLAT_OUT_EMIT_RATE if self.run_controls.speed() == 0 else EMIT_RATE
        self.worker.set_emit_rate(rate)

    def tabs_page(self) -> QWidget | None:
        """The page of the tab showing."""
        return self.tabs.currentWidget()

    def show_page(self, name: str) -> None:
        """Show the tab of page `name` (see `PAGES`; "stepper" is the unrolled diagram's page)."""
        self.tabs.setCurrentWidget(self.pages[PAGE_ALIASES.get(name, name)])

    # ----------------------------------------------------------------- construction
    def _build_pages(self) -> dict[str, QWidget]:
        training = QWidget(objectName="trainingTab")
        layout = QVBoxLayout(training)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.numbers)
        layout.addWidget(self.curves, 1)
        pages = {"curves": training,
                 "diagram": self.diagram_tab,
                 "gradients": self.gradients_tab,
                 "compare": self.compare_tab,
                 "horizon": self.horizon_tab}
        for name, title in PAGES:
            self.tabs.addTab(pages[name], title)
        return pages

    def _build_central(self) -> None:
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(4, 4, 4, 0)
        column.setSpacing(4)
        column.addWidget(self.banner)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

    def _build_docks(self) -> None:
        scroll = VerticalScroll(self.controls, objectName="controlsScroll")   # never cut off on the right
        self.controls_dock = QDockWidget("Controls", objectName="controlsDock")
        self.controls_dock.setWidget(scroll)
        self.controls_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                       | QDockWidget.DockWidgetFeature.DockWidgetClosable
                                       | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.controls_dock)
        self.lessons_dock = QDockWidget("Lessons", self, objectName="lessonsDock")
        self.lessons_dock.setWidget(self.lesson_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.lessons_dock)

    def _build_tool_bar(self) -> None:
        self.run_toolbar = QToolBar("Run", objectName="runToolBar")
        self.run_toolbar.setMovable(False)
        self.run_toolbar.addWidget(self.run_controls)
        self.run_toolbar.addWidget(self.recording.button)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.run_toolbar)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.iteration_label = _StatusLabel("Iteration 0", "Iteration 0000000", objectName="iterationLabel")
        self.speed_label = _StatusLabel("0 it/s", "00000 it/s", objectName="speedLabel")
        self.state_label = _StatusLabel("Paused", "Diverged", objectName="stateLabel")
        self.iteration_label.setToolTip("Updates applied in this run")
        self.speed_label.setToolTip("Training iterations per second, measured")
        self.state_label.setToolTip("Playing, paused, or stopped by a divergence")
        for label in (self.recording.indicator, self.iteration_label, self.speed_label, self.state_label):
            bar.addPermanentWidget(label)

    def _action(self, menu, text: str, slot, shortcuts=(), *, name: str, tip: str = "",
                checkable: bool = False) -> QAction:
        action = QAction(text, self, objectName=name)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        self._place(menu, action)
        return action

    def _place(self, menu, action: QAction) -> None:
        menu.addAction(action)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.view_menu = bar.addMenu("&View")
        self.run_menu = bar.addMenu("&Run")
        self.help_menu = bar.addMenu("&Help")
        self._build_file_menu(self.file_menu)
        self._build_view_menu(self.view_menu)

        a = self._action
        # These act on the run the page shows (the comparison on Compare): see `_shown_run`.
        self.play_action = a(self.run_menu, "&Play / pause", lambda: self._shown_run().toggle_play(), ["Space"],
                             name="playAction", tip="Train continuously, or pause")
        step = a(self.run_menu, "&Step one iteration", lambda: self._shown_run().step(), ["S", "Right"],
                 name="stepAction", tip="Train exactly one iteration, then pause")
        reset = a(self.run_menu, "&Reset run", lambda: self._shown_run().reset(), ["R", "Ctrl+R"],
                  name="resetAction", tip="Start the run again from the same seed")
        self.run_actions = (self.play_action, step, reset)
        self.run_menu.addSeparator()
        a(self.run_menu, "&Faster", self.run_controls.faster, ["]", "+"], name="fasterAction")
        a(self.run_menu, "S&lower", self.run_controls.slower, ["[", "-"], name="slowerAction")

        a(self.help_menu, "&Keyboard shortcuts", self.show_shortcuts, [QKeySequence.StandardKey.HelpContents],
          name="shortcutsAction")
        a(self.help_menu, "&About rnnviz", self.show_about, name="aboutAction")

    def _build_file_menu(self, menu) -> None:
        a = self._action
        a(menu, "&Open preset file…", self.open_preset_dialog, [QKeySequence.StandardKey.Open],
          name="openPresetAction", tip="Load settings from a preset .toml file")
        a(menu, "Reset to &defaults", self.reset_to_defaults, name="resetDefaultsAction",
          tip="Every setting back to its default value; the run restarts")
        menu.addSeparator()
        for action in (self.recording.action, *self.export.actions):
            self._place(menu, action)
        menu.addSeparator()
        a(menu, "&Quit", self.close, [QKeySequence.StandardKey.Quit], name="quitAction")

    def _build_view_menu(self, menu) -> None:
        a = self._action
        self.dark_action = a(menu, "&Dark theme", self._dark_toggled, ["Ctrl+Shift+D"],
                             name="darkThemeAction", checkable=True)
        self.log_action = a(menu, "&Log-scale loss", self.curves.set_log_scale, ["L"],
                            name="logScaleAction", checkable=True)
        self._place(menu, _dock_action(self.controls_dock, "&Controls panel", "Ctrl+Shift+C", "controlsAction"))
        menu.addSeparator()
        for index, (name, title) in enumerate(PAGES[:3]):
            a(menu, f"Show “{title}”", lambda _=False, n=name: self.show_page(n), [f"Ctrl+{index + 1}"],
              name=f"showTab{index + 1}Action")
        self._place(menu, _dock_action(self.lessons_dock, "&Lessons panel", "Ctrl+Shift+L", "lessonsAction"))
        # Presenter remotes send Page Up / Page Down.
        a(menu, "&Next lesson", self.lesson_panel.next, ["PgDown"], name="nextLessonAction")
        a(menu, "&Previous lesson", self.lesson_panel.previous, ["PgUp"], name="prevLessonAction")
        a(menu, "&Compare two runs", lambda: self.show_page("compare"), ["Ctrl+Shift+M"], name="compareAction")
        a(menu, "&Memory horizon", lambda: self.show_page("horizon"), ["Ctrl+Shift+H"], name="horizonAction")
        self.presentation_action = a(
            menu, "&Presentation mode", self._toggle_presentation, ["F11"], name="presentationAction",
            checkable=True)
        self.presentation_action.setStatusTip("Full screen, large type, high contrast, advanced controls hidden (F11)")
        self.focus_action = a(menu, "&Focus on the view", self._toggle_focus, ["F"], name="focusAction",
                              checkable=True, tip="The diagram, the stepper or the plots fill the window: "
                                                  "panels, bars and tabs hidden (F again or Esc to return)")
        self.escape_action = a(menu, "Leave focus or presentation mode", self._escape, ["Esc"],
                               name="escapeAction")
        self.escape_action.setEnabled(False)
        a(menu, "Keyboard shortcuts &overlay", self.shortcut_overlay.show_overlay, ["?"],
          name="shortcutOverlayAction")

    def _fill_presets(self) -> None:
        presets = []
        for name in preset_names(self.preset_dir):
            try:
                presets.append((name, read_preset(name, self.preset_dir).title))
            except PresetError:  # listed by name; choosing it reports the problem
                presets.append((name, name))
        self.controls.set_presets(presets)

    def _connect(self, start_timers: bool = True) -> None:
        w = self.worker
        w.snapshots.connect(self.show_snapshots)
        w.restarted.connect(self.show_restart)
        w.state_changed.connect(self.show_state)
        w.error.connect(self._on_worker_error)
        w.inspected.connect(self.show_inspection)
        self.controls.settings_edited.connect(self._on_settings_edited)
        self.controls.preset_chosen.connect(self.load_preset)
        rc = self.run_controls
        rc.play_toggled.connect(lambda on: self._shown_run().play() if on else self._shown_run().pause())
        rc.step_clicked.connect(lambda: self._shown_run().step())
        rc.reset_clicked.connect(lambda: self._shown_run().reset())
        rc.speed_changed.connect(self._on_speed)
        self.banner.reset_requested.connect(self.reset)
        self.curves.log_scale_changed.connect(self._on_log_scale)
        self.lesson_panel.lesson_chosen.connect(self.start_lesson)
        self.lesson_panel.remedy_chosen.connect(self.start_remedy)
        self.tabs.currentChanged.connect(self._page_changed)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._label_timer = QTimer(self)
        self._label_timer.setInterval(LABEL_REFRESH_MS)
        self._label_timer.timeout.connect(self._update_iteration_label)
        self._speed_timer = QTimer(self)  # wall-clock measurement: a fed window (recording) has none
        self._speed_timer.setInterval(SPEED_REFRESH_MS)
        self._speed_timer.timeout.connect(self._update_speed_label)
        if start_timers:
            self._label_timer.start()
            self._speed_timer.start()

    # ----------------------------------------------------------------- persistence
    def _stored_settings(self) -> Settings:
        raw = self.store.value(KEY_SETTINGS)
        if not raw:
            return Settings()
        try:
            settings = Settings.from_dict(json.loads(str(raw)))
        except (ValueError, TypeError, SettingsError) as exc:  # old or hand-edited: start clean
            log.info("ignoring stored settings: %s", exc)
            return Settings()
        self._refused_at_start = memory_problem(settings, window=True)   # saved on a larger machine, or before the budget
        if self._refused_at_start:
            log.info("ignoring stored settings: %s", self._refused_at_start)
            return Settings()
        return settings

    def _restore_view_state(self) -> None:
        geometry = self.store.value(KEY_GEOMETRY)
        available = self.screen().availableGeometry()
        restored = isinstance(geometry, QByteArray) and not geometry.isEmpty() and self.restoreGeometry(geometry)
        if not (restored and fits(self.geometry(), available)):
            self.setGeometry(first_launch_geometry(available))
        state = self.store.value(KEY_STATE)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        else:
            self.resizeDocks([self.controls_dock], [CONTROLS_WIDTH], Qt.Orientation.Horizontal)
            if dock_columns.crowded(self, DOCKS_SHARE):
                # A narrow screen (1024 px) has no room for three columns: lessons share the
                # controls' column, as tabs.
                self.tabifyDockWidget(self.controls_dock, self.lessons_dock)
                self.controls_dock.raise_()
        try:
            speed = float(self.store.value(KEY_SPEED, DEFAULT_SPEED))
        except (TypeError, ValueError):
            speed = DEFAULT_SPEED
        self.run_controls.set_speed(speed if math.isfinite(speed) and speed >= 0 else DEFAULT_SPEED)
        self.curves.set_log_scale(str(self.store.value(KEY_LOG, DEFAULT_LOG_SCALE)).lower() == "true")
        preset = self.store.value(KEY_PRESET)
        if preset:
            try:
                p = read_preset(str(preset), self.preset_dir)
            except PresetError:
                pass
            else:
                if p.settings == self._applied:
                    self.controls.show_preset(p.name, p.title, p.commentary)
                    self.lesson_panel.select_preset(p.name, p.settings)

    def save_state(self) -> None:
        s = self.store
        s.setValue(KEY_SETTINGS, json.dumps(self._applied.as_dict()))
        s.setValue(KEY_SPEED, self.run_controls.speed())
        s.setValue(KEY_THEME, self._theme.name)
        s.setValue(KEY_LOG, "true" if self.curves.log_scale() else "false")
        s.setValue(KEY_PRESET, self.controls.preset_combo.currentData() or "")
        s.setValue(KEY_GEOMETRY, self.saveGeometry())
        s.setValue(KEY_STATE, self.saveState())
        s.sync()

    # ----------------------------------------------------------------- commands
    # The curves' frames wait for a command's answer (see FrameBudget.hold): it is drawn first.
    def play(self) -> None:
        self.curves.budget.hold()
        self._play_pending = True
        self.worker.play()

    def pause(self) -> None:
        self.curves.budget.hold()
        self._play_pending = False
        self.worker.pause()

    def toggle_play(self) -> None:
        self.pause() if self._state == PLAYING else self.play()

    def step(self) -> None:
        self.curves.budget.hold()
        self.worker.step()

    def reset(self) -> None:
        self.curves.budget.hold()
        self.worker.reset()

    def inspect(self) -> None:
        """Pause training and ask for the current batch's full trace (views with `load` get it)."""
        self._resume_after_inspection = self._resume_after_inspection or self._state == PLAYING
        self.worker.pause()
        self.worker.inspect()

    def show_inspection(self, inspection) -> None:
        """An Inspection of the current batch: the stepper loads it, and the live diagram writes
        example 1's step labels (words, tokens) under x_t until the run restarts."""
        self.stepper.load(inspection)
        self.diagram.set_labels(inspection.step_labels)

    def _inspection_finished(self) -> None:
        """The user left the stepper: training resumes if it was playing before."""
        if self._resume_after_inspection:
            self._resume_after_inspection = False
            self.play()

    def apply_settings(self, settings: Settings, *, restart: bool = False, note: str | None = None) -> bool:
        """Send `settings` to the worker; announce a rebuild in the status bar. Settings too large
        for this machine's memory are refused (a message, the controls back to the running
        settings, nothing saved): False."""
        changed = self._applied.structural_changes(settings)
        problem = memory_problem(settings, window=True) if changed or restart else None
        if problem:
            self.controls.set_settings(self._applied)
            self.report_error(f"Not applied: {problem}.", title="Settings too large")
            return False
        self._applied = settings
        self.lesson_panel.show_settings(settings)
        self.worker.apply(settings, restart=restart)
        if note is None and changed:
            names = ", ".join(sorted(FIELD_NAMES.get(k, k) for k in changed))
            note = f"Model rebuilt ({names} changed): a new run starts, the curves restart."
        if note:
            self.statusBar().showMessage(note, NOTE_TIMEOUT_MS)
        self.store.setValue(KEY_SETTINGS, json.dumps(settings.as_dict()))
        return True

    def load_preset(self, name_or_path: str | Path) -> bool:
        """Set every control to a preset's values, show its commentary and start a new run."""
        try:
            preset = read_preset(name_or_path, self.preset_dir)
        except PresetError as exc:
            self.report_error(f"Could not load the preset.\n\n{exc}", title="Preset error")
            return False
        listed = (Path(name_or_path).suffix != ".toml"
                  and self.controls.preset_combo.findData(preset.name) >= 0)
        self.controls.set_settings(preset.settings)
        self.controls.show_preset(preset.name if listed else None, preset.title, preset.commentary)
        if not self.apply_settings(preset.settings, restart=True,
                                   note=f"Preset “{preset.title}” loaded: a new run starts."):
            self.controls.show_preset(None)
            return False
        self.lesson_panel.select_preset(preset.name, preset.settings)
        self.store.setValue(KEY_PRESET, preset.name)
        return True

    def start_lesson(self, lesson: Lesson) -> None:
        """Load a lesson: its settings (a new run), its commentary and its view."""
        self.controls.set_settings(lesson.settings)
        listed = not lesson.overrides and self.controls.preset_combo.findData(lesson.preset) >= 0
        self.controls.show_preset(lesson.preset if listed else None, lesson.title, lesson.commentary)
        self.apply_settings(lesson.settings, restart=True,
                            note=f"Lesson {lesson.number}: {lesson.title} — a new run starts.")
        self.show_page(lesson.view)

    def start_remedy(self, lesson: Lesson) -> None:
        """Run a lesson again with its remedy (lesson 6: the same run with clipping)."""
        settings = lesson.remedy_settings
        self.controls.set_settings(settings)
        self.apply_settings(settings, restart=True,
                            note=f"Lesson {lesson.number} with its remedy ({remedy_text(lesson)}): a new run starts.")
        self.show_page(lesson.view)

    def open_preset_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open preset", str(self.preset_dir),
                                              "Presets (*.toml);;All files (*)")
        if path:
            self.load_preset(Path(path))

    def reset_to_defaults(self) -> None:
        settings = Settings()
        self.controls.set_settings(settings)
        self.controls.show_preset(None)
        self.run_controls.set_speed(DEFAULT_SPEED)
        self.curves.set_log_scale(DEFAULT_LOG_SCALE == "true")
        self.apply_settings(settings, restart=True, note="All settings are back to their defaults.")
        self.store.remove(KEY_PRESET)

    def _note(self, text: str, timeout_ms: int = NOTE_TIMEOUT_MS) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def _recording_error(self, message: str) -> None:
        self.report_error(message, title="Recording")

    def report_error(self, message: str, title: str = "rnnviz") -> None:
        """Tell the user in a message box that does not block (tests may replace this method)."""
        self.last_error = message
        log.info("%s: %s", title, message)
        if self._closed:
            return
        box = self._error_box
        if box is None:
            box = self._error_box = QMessageBox(QMessageBox.Icon.Warning, title, message,
                                                QMessageBox.StandardButton.Ok, self)
            box.setObjectName("errorBox")
        box.setWindowTitle(title)
        box.setText(message)
        box.open()

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        app = QApplication.instance()
        if app is not None:
            apply_to_application(app, theme)
        self.banner.apply_theme(theme)
        for view in (self.numbers, self.curves):
            view.apply_theme(theme)
        for page in (self.diagram_tab, self.gradients_tab, self.compare_tab, self.horizon_tab):
            page.apply_theme(theme)
        self.dark_action.setChecked(theme.dark)

    def _toggle_focus(self) -> None:
        self.focus.toggle()
        self._modes_changed()

    def _toggle_presentation(self, on: bool) -> None:
        self.focus.leave()            # presentation mode saves and restores the whole layout itself
        self.presentation.toggle(on)
        self._modes_changed()

    def _escape(self) -> None:
        """Esc leaves focus mode first, then presentation mode."""
        if self.focus.on:
            self.focus.leave()
        elif self.presentation.on:
            self.presentation.leave()
        self._modes_changed()

    def _modes_changed(self) -> None:
        self.focus_action.setChecked(self.focus.on)
        self.presentation_action.setChecked(self.presentation.on)
        # Esc is taken only while there is a mode to leave (else dialogs and the overlay get it).
        self.escape_action.setEnabled(self.focus.on or self.presentation.on)

    # ----------------------------------------------------------------- help
    def show_shortcuts(self) -> None:
        rows = [(a.text().replace("&", ""), ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText)
                                                     for s in a.shortcuts()))
                for a in self.actions() if a.shortcuts()]
        dialog = QDialog(self, objectName="shortcutsDialog")
        dialog.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, (text, keys) in enumerate(rows):
            table.setItem(r, 0, QTableWidgetItem(text))
            table.setItem(r, 1, QTableWidgetItem(keys))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.resizeColumnToContents(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.close)
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        layout.addWidget(buttons)
        dialog.resize(420, 420)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    def show_about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "About rnnviz",
                          f"<h3>rnnviz {__version__}</h3>"
                          "<p>A desktop lab that shows, live and frame by frame, why plain recurrent "
                          "networks are hard to train: vanishing and exploding gradients in "
                          "backpropagation through time, and the remedies — ReLU, identity "
                          "initialisation, skip connections, gradient clipping and the LSTM.</p>"
                          "<p>numpy engine · PySide6 · pyqtgraph · MIT licence</p>",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("aboutBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # ----------------------------------------------------------------- worker → UI (the feed API)
    def show_snapshots(self, snapshots: tuple) -> None:
        """Snapshots of the current run, oldest first (others are ignored): every view gets them,
        the banner appears at a divergence. Acknowledges the batch to the worker."""
        try:
            snaps = tuple(s for s in snapshots if s.run == self._run)
            if not snaps:
                return
            for view in self._fed_views():
                view.show_snapshots(snaps)
            if self._shown_so_far is not None:
                self._shown_so_far[1].append(snaps)
                self._pages_soon()
            last = self._latest = snaps[-1]
            self._rates.append((time.perf_counter(), last.iteration))
            if last.diverged and not self.banner.text():
                self.banner.show_message(divergence_message(last))
        finally:
            self.worker.ack()

    def show_restart(self, snapshot) -> None:
        """A new run begins with `snapshot` (iteration 0): every view clears its history."""
        collector.settle()     # the window and the engine are loaded: what exists now stays
        self._clear_engine_note()
        if self._resync_controls:
            self._resync_controls = False
            self._applied = snapshot.settings
            self.controls.set_settings(snapshot.settings)
            self.lesson_panel.show_settings(snapshot.settings)
        self._run = snapshot.run
        self._latest = snapshot
        self._rates.clear()
        self.banner.clear()
        if self._unbuilt and not self._play_pending:
            self.build_pages()    # nothing waits for the GUI thread: build the pages out of sight now
        for view in self._fed_views():
            view.restart(snapshot)
        if self._unbuilt:         # training starts at once: the pages follow its first batch, with this run
            self._shown_so_far = (snapshot, [])
            QTimer.singleShot(PAGES_WHEN_PAUSED_MS, self, self._pages_soon)
        self.iteration_label.setText(f"Iteration {snapshot.iteration}")

    def show_state(self, state: str) -> None:
        """The training state, "playing" | "paused" | "diverged": the play button, the status bar
        and the banner follow."""
        self._state = state
        self.curves.budget.release()     # every command is answered with a state
        if state != PAUSED:
            self._play_pending = False
        self._show_run_state()
        self.state_label.setText(state.capitalize())
        if state != PLAYING:
            self._rates.clear()
        if state == DIVERGED and self._latest is not None and self._latest.diverged \
                and not self.banner.text():
            self.banner.show_message(divergence_message(self._latest))

    def _on_worker_error(self, error: Exception) -> None:
        collector.settle()             # start-up is over, even if no run could be built
        self._clear_engine_note()
        self._resync_controls = True   # the worker may have kept its old settings
        self.report_error(str(error), title="Training error")

    def _on_settings_edited(self, settings: Settings) -> None:
        self.apply_settings(settings)

    def _on_speed(self, speed: float) -> None:
        self.worker.set_speed(speed)
        if self.compare_tab.content is not None:
            self.compare_tab.content.set_speed(speed)
        if self.worker.started:
            self._follow_tab()
        self.curves.budget.share = DEFAULT_SHARE   # until the measured rate shows the worker keeps up
        self.store.setValue(KEY_SPEED, speed)

    def _on_log_scale(self, on: bool) -> None:
        self.log_action.setChecked(on)
        self.store.setValue(KEY_LOG, "true" if on else "false")

    def _dark_toggled(self, on: bool) -> None:
        self.apply_theme(get_theme("dark" if on else "light"))
        self.store.setValue(KEY_THEME, self._theme.name)

    def refresh(self) -> None:
        """Bring the status bar and every view on screen up to date now, rather than on their
        display-rate timers. Views in a hidden tab keep what they were fed and draw once shown
        (a recording calls this before every frame: ~1 ms a frame less). The measured speed is
        left alone: it is wall-clock, and a fed window sets ``speed_label`` itself."""
        self._update_iteration_label()
        for view in self._built_views():
            if not in_hidden_tab(view):
                view.redraw()

    def _update_iteration_label(self) -> None:
        """The status bar follows a few times a second, not per batch (each repaint costs GIL time)."""
        if self._latest is not None:
            text = f"Iteration {self._latest.iteration}"
            if self.iteration_label.text() != text:
                self.iteration_label.setText(text)

    def _update_speed_label(self) -> None:
        """Training iterations per second over the last second, measured from the snapshots."""
        now = time.perf_counter()
        while self._rates and now - self._rates[0][0] > SPEED_WINDOW_S:
            self._rates.popleft()
        rate = 0.0
        if self._state == PLAYING and len(self._rates) >= 2:
            (t0, i0), (t1, i1) = self._rates[0], self._rates[-1]
            rate = (i1 - i0) / (t1 - t0) if t1 > t0 else 0.0
        text = f"{rate:,.0f} it/s"
        if self.speed_label.text() != text:
            self.speed_label.setText(text)
        # A worker that holds its set pace sleeps between iterations: the curves may draw more.
        target = self.run_controls.speed()
        paced = target > 0 and rate >= KEEPS_UP * target
        self.curves.budget.share = PACED_SHARE if paced else DEFAULT_SHARE

    # ----------------------------------------------------------------- shutdown
    def shutdown(self) -> None:
        """Stop training (its process and the worker's thread) and save state; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self._label_timer.stop()
        self._speed_timer.stop()
        try:
            self.save_state()
        except Exception:  # never let saving keep the window open
            log.warning("could not save settings", exc_info=True)
        if self.recorder.recording:     # closing finishes a recording: the file is saved, not lost
            self.recorder.stop()
        for page in (self.diagram_tab, self.gradients_tab, self.compare_tab, self.horizon_tab):
            page.shutdown()
        self.horizon_tab.shutdown()
        if not self.worker.stop(STOP_TIMEOUT):
            log.warning("training did not stop within %s s", STOP_TIMEOUT)
        if self._error_box is not None:
            self._error_box.close()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
