"""The window fits a 1280x720 projector in presentation mode and a 1024x768 screen outside it, on
every page, after each page has been built and shown with data; leaving presentation mode puts
the docks back where they were."""

import pytest
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QLabel
from widgets import find

from rnnviz.gui import MainWindow
from rnnviz.gui.main_window import PAGES

WAIT_MS = 20_000
PRESENTATION_SCREEN = (1280, 720)
NORMAL_SCREEN = (1024, 768)


def settle(ms: int = 200) -> None:
    """Let queued layout and geometry events run (an event loop, so the worker thread runs too)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


@pytest.fixture
def window(qtbot, settings_store):
    w = MainWindow(settings_store=settings_store)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.latest_snapshot is not None, timeout=WAIT_MS)
    yield w
    w.close()


def visit_every_page_with_data(qtbot, window, pages=tuple(name for name, _ in PAGES)):
    """Show each page with a few iterations in it; (page, minimumSizeHint, minimumSize) on each."""
    sizes = []
    for name in pages:
        window.show_page(name)
        if name == "curves":
            for _ in range(3):
                find(window, "stepAction", QAction).trigger()
            qtbot.waitUntil(lambda: window.latest_snapshot.iteration >= 3, timeout=WAIT_MS)
        if name == "compare":
            find(window, "compareStepButton", QAbstractButton).click()
            qtbot.waitUntil(lambda: find(window, "compareIterationLabel", QLabel).text() == "Iteration 1",
                            timeout=WAIT_MS)
        settle()
        sizes.append((name, window.minimumSizeHint().toTuple(), window.minimumSize().toTuple()))
    return sizes


def test_the_normal_window_fits_1024_by_768_on_every_page(qtbot, window):
    for name, hint, minimum in visit_every_page_with_data(qtbot, window):
        for size in (hint, minimum):
            assert size[0] <= NORMAL_SCREEN[0] and size[1] <= NORMAL_SCREEN[1], (name, size)


def test_presentation_mode_fits_1280_by_720_on_every_page(qtbot, window):
    window.presentation.enter()
    try:
        settle()
        for name, hint, minimum in visit_every_page_with_data(qtbot, window):
            for size in (hint, minimum):
                assert size[0] <= PRESENTATION_SCREEN[0] and size[1] <= PRESENTATION_SCREEN[1], (name, size)
    finally:
        window.presentation.leave()


def test_leaving_presentation_mode_restores_the_layout_exactly(qtbot, window):
    # Every page as wide as it will be. Not Compare's run: its two diagrams then ask for more
    # width than this 800 px test screen leaves beside the docks.
    visit_every_page_with_data(qtbot, window, pages=("curves", "diagram", "gradients", "horizon"))
    available = window.screen().availableGeometry()
    window.resize(available.width() - 20, available.height() - 40)
    settle()
    layout, size = window.saveState(), window.size()
    window.presentation.enter()
    settle()
    for name in ("curves", "diagram", "gradients", "horizon"):     # shown in the large type
        window.show_page(name)
        settle(50)
    window.presentation.leave()
    settle(300)
    assert window.size() == size
    assert window.saveState() == layout     # docks, their sizes, tool bar
    scroll = find(window, "controlsScroll")   # the controls are not cut off on the right
    assert scroll.viewport().width() >= window.controls.minimumSizeHint().width()
    combo = find(window, "optimizerCombo")    # measured again in the normal type
    assert combo.minimumSizeHint().width() <= combo.sizeHint().width()


def test_preset_notes_read_without_scrolling_inside_their_box(qtbot, window):
    window.resize(1280, 720)
    window.load_preset("vanishing")                 # the longest commentary
    notes = find(window, "presetNotes")
    lines = notes.fontMetrics().lineSpacing()
    # The box grows once the layout has run: wait for it, then nothing is left to scroll.
    qtbot.waitUntil(lambda: notes.height() > 8 * lines, timeout=WAIT_MS)
    settle()
    assert notes.verticalScrollBar().maximum() == 0, "the notes box scrolls"
