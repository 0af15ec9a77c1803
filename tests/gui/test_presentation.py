"""Presentation mode on the real main window: on and off again restores everything; the ? overlay."""

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QLabel

from rnnviz.gui import presentation
from rnnviz.gui.lazy_tab import LazyTab


@pytest.fixture
def window(qtbot, tmp_path):
    from rnnviz.gui.main_window import MainWindow

    w = MainWindow(settings_store=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def pens(window):
    return [pg.mkPen(item.opts["pen"]).widthF() for view in window.findChildren(pg.GraphicsView)
            for item in view.scene().items() if isinstance(item, pg.PlotDataItem) and item.opts.get("pen")]


def test_presentation_mode_toggles_and_restores(qtbot, window):
    action = window.findChild(QAction, "presentationAction")
    assert action.objectName() == "presentationAction" and action.shortcut().toString() == "F11"
    app = QApplication.instance()
    for tab in window.findChildren(LazyTab):   # entering builds them; build them first to compare
        tab.ensure()
    font_before, widths_before = app.font().pointSizeF(), pens(window)
    model_group = window.controls.groups["Model"]
    assert model_group.isVisibleTo(window)
    action.trigger()
    assert window.presentation.on and window.isFullScreen()
    assert app.font().pointSizeF() > font_before * 1.3
    assert not model_group.isVisibleTo(window) and window.controls.groups["Clipping"].isVisibleTo(window)
    assert max(pens(window)) >= 2 * max(widths_before)
    action.trigger()
    assert not window.presentation.on and not window.isFullScreen()
    assert app.font().pointSizeF() == font_before and pens(window) == widths_before
    assert model_group.isVisibleTo(window)


def test_shortcut_overlay_lists_the_windows_shortcuts(qtbot, window):
    overlay_action = window.findChild(QAction, "shortcutOverlayAction")
    overlay_action.trigger()
    overlay = window.shortcut_overlay
    assert overlay.isVisible() and overlay.objectName() == "shortcutOverlay"
    texts = {label.text() for label in overlay.findChildren(QLabel)}
    assert {"F11", "Space"} <= texts and "Presentation mode" in texts
    rows = presentation.shortcut_rows(window)
    assert all(keys for _, _, keys in rows)
    qtbot.keyClick(overlay, "a")
    assert not overlay.isVisible()


def test_tabs_not_yet_opened_are_built_and_dressed_for_presenting(window):
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    compare_tab = window.tabs.widget(titles.index("Compare"))
    assert isinstance(compare_tab, LazyTab) and compare_tab.content is None
    window.presentation.enter()
    try:
        assert compare_tab.content is not None
        assert min(pens(compare_tab.content)) >= 2.0          # thick lines in the new tab too (else 1 and 2)
    finally:
        window.presentation.leave()
