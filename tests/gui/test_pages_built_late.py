"""The pages out of sight at start-up (the unrolled diagram with its stepper, the gradients) are
built just after the window's first paint, and the training thread starts then too; everything a
user does with those pages works whether they were built yet or not."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget
from widgets import find

from rnnviz.gui import MainWindow
from rnnviz.gui.heatmap import ContributionHeatmap
from rnnviz.gui.lazy_tab import LazyTab
from rnnviz.gui.spectrum import SpectrumPlot
from rnnviz.gui.unrolled_view import UnrolledView

WAIT_MS = 20_000
LATE = ("diagramTab", "gradientsTab")


def settle(ms: int = 100) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def built(window, name: str) -> bool:
    return find(window, name, LazyTab).content is not None


@pytest.fixture
def window(qtbot, settings_store):
    """A window shown but whose event loop has not run yet: it has not painted."""
    w = MainWindow(settings_store=settings_store)
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    yield w
    w.close()


def test_the_hidden_pages_are_built_once_the_first_run_is_on_screen(qtbot, window):
    assert not any(built(window, name) for name in LATE)
    assert window.findChild(UnrolledView, "unrolledView") is None and not window.worker.is_running()
    qtbot.waitUntil(lambda: window.latest_snapshot is not None, timeout=WAIT_MS)     # paused
    qtbot.waitUntil(lambda: all(built(window, name) for name in LATE), timeout=WAIT_MS)
    assert window.findChild(UnrolledView, "unrolledView") is window.diagram
    assert window.diagram.diagram.T == len(window.latest_snapshot.dh_norms)
    window.step()
    qtbot.waitUntil(lambda: window.latest_snapshot.iteration == 1, timeout=WAIT_MS)
    window.show_page("gradients")
    heatmap = window.findChild(ContributionHeatmap)
    qtbot.waitUntil(lambda: heatmap.isVisible(), timeout=WAIT_MS)
    assert window.findChild(SpectrumPlot).isVisible()


def test_pages_built_while_the_run_trains_are_given_the_run_so_far(qtbot, window):
    seen = []    # every batch the window was sent, first to last
    window.worker.snapshots.connect(lambda snaps: seen.extend(s for s in snaps if s.run == window.run_id))
    window.play()                          # Play at the first paint: the first batch builds the pages
    qtbot.waitUntil(lambda: window.latest_snapshot is not None and window.latest_snapshot.iteration >= 1,
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: all(built(window, name) for name in LATE), timeout=WAIT_MS)
    window.pause()
    qtbot.waitUntil(lambda: window.state == "paused" and seen and seen[-1] is window.latest_snapshot,
                    timeout=WAIT_MS)
    # The views built late show the whole run, as the curves do: every iteration from 0 on, once
    # (the heatmap keeps its last rows; the spectrum the snapshots that carry one).
    last = window.latest_snapshot.iteration
    assert list(window.curves.history.column("iteration").astype(int)) == list(range(last + 1))
    rows, _norms = window.heatmap.rows_in_order()
    assert list(rows) == list(range(last + 1))[-window.heatmap.rows:]
    with_spectrum = [0] + [s.iteration for s in seen if s.spectrum is not None]
    assert list(window.spectrum.history_data()[0].astype(int)) == with_spectrum
    assert window.diagram.diagram.T == len(window.latest_snapshot.dh_norms)


def test_a_shortcut_opens_a_page_before_it_was_built(qtbot, window):
    find(window, "showTab2Action", QAction).trigger()            # Ctrl+2, before the first paint
    assert window.tabs.currentWidget() is find(window, "diagramTab", LazyTab)
    qtbot.waitUntil(lambda: window.findChild(UnrolledView, "unrolledView") is not None
                    and window.findChild(UnrolledView, "unrolledView").isVisible(), timeout=WAIT_MS)
    find(window, "showTab3Action", QAction).trigger()            # Ctrl+3
    qtbot.waitUntil(lambda: window.findChild(ContributionHeatmap) is not None
                    and window.findChild(ContributionHeatmap).isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.latest_snapshot is not None, timeout=WAIT_MS)
    assert window.page_name() == "gradients"


def test_focus_mode_on_a_page_built_late(qtbot, window):
    find(window, "showTab2Action", QAction).trigger()
    layout = window.saveState()
    find(window, "focusAction", QAction).trigger()               # F, before the page was built
    settle()
    page = find(window, "diagramTab", LazyTab)
    assert window.focus.on and page.content is not None and page.isVisible()
    assert not any(dock.isVisible() for dock in window.findChildren(QDockWidget))
    assert page.width() >= window.width() - 24
    find(window, "focusAction", QAction).trigger()
    settle()
    assert not window.focus.on and window.saveState() == layout


def test_presentation_mode_before_the_pages_were_built_dresses_them_too(qtbot, window):
    find(window, "presentationAction", QAction).trigger()        # F11 before the first paint
    assert window.presentation.on and all(built(window, name) for name in LATE)
    find(window, "escapeAction", QAction).trigger()
    assert not window.presentation.on
    qtbot.waitUntil(lambda: window.latest_snapshot is not None, timeout=WAIT_MS)


def test_a_theme_chosen_before_the_pages_were_built_is_theirs(qtbot, window):
    find(window, "darkThemeAction", QAction).trigger()
    assert not any(built(window, name) for name in LATE)
    qtbot.waitUntil(lambda: window.latest_snapshot is not None, timeout=WAIT_MS)
    for view in (window.diagram, window.stepper, window.heatmap, window.spectrum):
        assert view.theme.dark, type(view).__name__


def test_a_window_closed_before_its_pages_were_built_saves_its_layout(qtbot, tmp_path):
    store = QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings_store=store)
    qtbot.addWidget(first)
    first.show()
    find(first, "lessonsAction", QAction).trigger()              # hide the Lessons panel
    assert not find(first, "lessonsDock", QDockWidget).isVisibleTo(first)
    first.close()                                                # before its first paint
    second = MainWindow(settings_store=store)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitUntil(lambda: second.latest_snapshot is not None, timeout=WAIT_MS)
    assert not find(second, "lessonsDock", QDockWidget).isVisibleTo(second)
    qtbot.waitUntil(lambda: all(built(second, name) for name in LATE), timeout=WAIT_MS)
    second.close()


def test_a_window_never_shown_still_starts_its_worker(qtbot, settings_store):
    w = MainWindow(settings_store=settings_store)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.latest_snapshot is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: all(built(w, name) for name in LATE), timeout=WAIT_MS)
    w.close()


#: `rnnviz` launched as a user launches it: what is loaded, built and running at its first paint,
#: and once its first run has arrived (the window is hooked when its event loop starts).
AT_START_UP = """
import gc, json, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
report = {}
def state(window):
    from rnnviz.gui.lazy_tab import LazyTab
    return {"modules": sorted(m for m in ("numba", "rnnviz.session", "rnnviz.gui.unrolled_view",
                                          "rnnviz.gui.stepper", "rnnviz.gui.compare") if m in sys.modules),
            "built": sorted(t.objectName() for t in window.findChildren(LazyTab) if t.content is not None),
            "worker": window.worker.is_running(), "gc": gc.isenabled(), "frozen": gc.get_freeze_count() > 0}
class Paint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and "paint" not in report:
            report["paint"] = state(window)
        return False
paint = Paint()
run = QApplication.exec
def hooked_exec(app):
    global window
    from rnnviz.gui.main_window import MainWindow
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
    app.installEventFilter(paint)
    def restarted(_snapshot):
        report["run"] = state(window)
        print(json.dumps(report), flush=True)
        QTimer.singleShot(0, window.close)
    window.worker.restarted.connect(restarted)
    return run()
QApplication.exec = hooked_exec
from rnnviz.cli import main
sys.exit(main([]))
"""


def test_at_the_first_paint_nothing_hidden_is_loaded_or_built_and_start_up_leaves_the_collector_settled(tmp_path):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", AT_START_UP], env=env, cwd=root, capture_output=True,
                          text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-2000:]
    report = json.loads(lines[0])
    # The cyclic collector is held through start-up ...
    assert report["paint"] == {"modules": [], "built": [], "worker": False, "gc": False, "frozen": False}
    # ... and once the first run has arrived, what start-up made is frozen and collection is back on.
    assert report["run"]["worker"]
    assert report["run"]["gc"] and report["run"]["frozen"] and "numba" in report["run"]["modules"]


def test_building_the_hidden_pages_leaves_the_keyboard_focus_where_it_was(qtbot, window):
    from PySide6.QtWidgets import QApplication

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    find(window, "viewTabs").setFocus()
    focused = QApplication.focusWidget()              # the tab bar (the tab widget's focus proxy)
    assert focused is not None and not any(built(window, name) for name in LATE)
    qtbot.waitUntil(lambda: all(built(window, name) for name in LATE), timeout=WAIT_MS)
    assert window.isActiveWindow() and QApplication.focusWidget() is focused


def test_while_the_engine_loads_slowly_the_status_bar_says_so(qtbot, settings_store):
    import threading

    from rnnviz.gui.main_window import ENGINE_NOTE
    from rnnviz.session import Session

    loaded = threading.Event()

    def slow_engine(settings, cancel):      # a first launch: numba compiling the kernels
        loaded.wait(30)
        return Session(settings, cancel)

    w = MainWindow(settings_store=settings_store, session_factory=slow_engine)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.statusBar().currentMessage() == ENGINE_NOTE, timeout=WAIT_MS)
    assert w.latest_snapshot is None
    loaded.set()
    qtbot.waitUntil(lambda: w.latest_snapshot is not None, timeout=WAIT_MS)
    assert w.statusBar().currentMessage() != ENGINE_NOTE
    w.close()
