"""The main window's feed API (`start_worker=False`): driven synchronously from a Session, as
`rnnviz record` does, through the same methods the worker's signals reach."""

import pytest
from PySide6.QtWidgets import QLabel

from rnnviz.gui import MainWindow
from rnnviz.gui.unrolled_view import UnrolledView
from rnnviz.session import Session
from rnnviz.settings import Settings

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

TINY = Settings(task="recall", lag=4, hidden=6, batch=4)


@pytest.fixture
def fed(qtbot, settings_store):
    w = MainWindow(settings_store=settings_store, start_worker=False)
    qtbot.addWidget(w)
    yield w, Session(TINY)
    w.close()


def label(window, name) -> str:
    return window.findChild(QLabel, name).text()


def test_the_worker_signals_reach_the_feed_methods(fed):
    window, session = fed
    w = window.worker               # not running: its signals, emitted here, call the window directly
    w.restarted.emit(session.snapshot())
    w.state_changed.emit("playing")
    snaps = tuple(session.run(3))
    w.snapshots.emit(snaps)
    window.refresh()
    assert label(window, "iterationLabel") == "Iteration 3" and label(window, "stateLabel") == "Playing"
    assert label(window, "lossValue") == f"{snaps[-1].loss:.3g}"
    w.inspected.emit(session.inspect())
    assert window.findChild(UnrolledView, "unrolledView").diagram.labels


def test_a_fed_window_shows_what_it_is_fed(fed):
    window, session = fed
    assert not window.worker.is_running()
    window.show_restart(session.snapshot())
    window.show_state("playing")
    snaps = tuple(session.run(5))
    window.show_snapshots(snaps)
    window.refresh()
    assert label(window, "iterationLabel") == "Iteration 5"
    assert label(window, "stateLabel") == "Playing"
    assert label(window, "lossValue") == f"{snaps[-1].loss:.3g}"
    diagram = window.findChild(UnrolledView, "unrolledView")
    assert diagram.diagram.T == len(snaps[-1].dh_norms)


def test_inspection_writes_example_1_words_under_the_live_diagram_until_a_restart(fed):
    window, session = fed
    window.show_restart(session.snapshot())
    window.show_snapshots(tuple(session.run(2)))
    diagram = window.findChild(UnrolledView, "unrolledView")
    assert diagram.diagram.labels == [] and "inspected" not in diagram.caption.text()
    inspection = session.inspect()
    window.show_inspection(inspection)
    assert diagram.diagram.labels == list(inspection.step_labels)
    assert "example 1 of the inspected batch" in diagram.caption.text()
    assert "not the batch now coloured" in diagram.caption.toolTip()
    window.show_snapshots(tuple(session.run(1)))            # training goes on: the words stay, said so
    assert diagram.diagram.labels == list(inspection.step_labels)
    window.show_restart(session.reset())                    # a new run: that batch is gone
    assert diagram.diagram.labels == [] and "inspected" not in diagram.caption.text()


def test_the_window_fits_a_1280_pixel_screen(fed):
    # A 1280x720 projector, and `rnnviz record`'s default size: nothing may be cut off on the right.
    window, _ = fed
    assert window.minimumSizeHint().width() <= 1280
