"""Focus mode (F): the page showing takes the whole window; F again or Esc gives back the layout."""

import pytest
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget

from rnnviz.gui import MainWindow
from rnnviz.gui.presentation import shortcut_rows


def settle(ms: int = 100) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


@pytest.fixture
def window(qtbot, settings_store):
    w = MainWindow(settings_store=settings_store, start_worker=False)
    qtbot.addWidget(w)
    w.show()
    settle()
    yield w
    w.close()


def action(window, name) -> QAction:
    found = window.findChild(QAction, name)
    assert found is not None, name
    return found


def test_focus_gives_the_page_the_whole_window_and_f_gives_the_layout_back(window):
    window.show_page("diagram")
    layout, page = window.saveState(), window.pages["diagram"]
    narrow = page.width()
    action(window, "focusAction").trigger()
    settle()
    assert window.focus.on and action(window, "focusAction").isChecked()
    assert not any(d.isVisible() for d in window.findChildren(QDockWidget))
    assert not window.tabs.tabBar().isVisible() and not window.statusBar().isVisible()
    assert not window.menuBar().isVisible() and not window.run_toolbar.isVisible()
    assert page.isVisible() and page.width() > narrow and page.width() >= window.width() - 24
    action(window, "focusAction").trigger()
    settle()
    assert not window.focus.on and window.saveState() == layout
    assert window.tabs.tabBar().isVisible() and window.menuBar().isVisible() and window.statusBar().isVisible()


def test_esc_leaves_focus_mode_and_is_free_otherwise(window):
    escape = action(window, "escapeAction")
    assert not escape.isEnabled()                 # dialogs and the ? overlay get Esc
    layout = window.saveState()
    action(window, "focusAction").trigger()
    assert escape.isEnabled()
    escape.trigger()
    settle()
    assert not window.focus.on and window.saveState() == layout and not escape.isEnabled()


def test_focus_mode_is_in_the_view_menu_and_the_shortcut_list(window):
    assert action(window, "focusAction") in window.view_menu.actions()
    rows = {(text, keys) for _group, text, keys in shortcut_rows(window)}
    assert ("Focus on the view", "F") in rows and ("Leave focus or presentation mode", "Esc") in rows


def test_presentation_mode_leaves_focus_mode_first_and_restores_the_normal_layout(window):
    layout = window.saveState()
    action(window, "focusAction").trigger()
    action(window, "presentationAction").trigger()
    settle()
    assert window.presentation.on and not window.focus.on
    action(window, "escapeAction").trigger()       # Esc leaves presentation mode too
    settle(300)
    assert not window.presentation.on and not action(window, "presentationAction").isChecked()
    assert window.saveState() == layout
