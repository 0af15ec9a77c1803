"""Every teaching hook, as the main window installs them together: names, menus, no clashes."""

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFileDialog, QPushButton, QTabWidget, QWidget


@pytest.fixture
def window(qtbot, tmp_path):
    from rnnviz.gui.main_window import MainWindow

    w = MainWindow(settings_store=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    yield w
    w.close()


def test_hooks_add_their_widgets_and_actions_without_shortcut_clashes(window):
    names = {a.objectName() for a in window.actions()}
    assert {"recordAction", "presentationAction", "shortcutOverlayAction", "lessonsAction",
            "nextLessonAction", "prevLessonAction", "savePlotAction", "exportCsvAction",
            "savePresetAction", "copyPresetAction", "compareAction"} <= names
    assert window.findChild(QPushButton, "recordButton") is not None
    assert window.findChild(object, "lessonPanel") is not None
    tabs = window.findChild(QTabWidget, "viewTabs")
    assert "Compare" in [tabs.tabText(i) for i in range(tabs.count())]
    keys = [s.toString() for a in window.actions() for s in a.shortcuts() if s.toString()]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_record_button_records_the_window(qtbot, window, tmp_path, monkeypatch):
    out = tmp_path / "class.mp4"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    button = window.findChild(QPushButton, "recordButton")
    button.click()
    assert window.recorder.recording and button.text() == "Stop"
    qtbot.waitUntil(lambda: window.findChild(object, "recordingIndicator").isVisible(), timeout=3000)
    qtbot.waitUntil(lambda: window.recorder.frames >= 3, timeout=10_000)
    button.click()
    assert not window.recorder.recording and button.text() == "Record" and out.is_file()
    assert str(out) in window.statusBar().currentMessage()


def test_closing_the_window_mid_recording_saves_the_file(qtbot, window, tmp_path):
    out = tmp_path / "closed.gif"
    window.recorder.start(window, out)
    qtbot.waitUntil(lambda: window.recorder.frames >= 2, timeout=10_000)
    window.close()
    assert out.is_file() and not window.recorder.recording


def test_compare_and_horizon_tabs_are_built_when_first_opened_in_the_current_theme(qtbot, window):
    from rnnviz.gui.theme import DARK

    assert window.findChild(QWidget, "comparisonView") is None       # start-up did not build them
    assert window.findChild(QWidget, "horizonPanel") is None
    window.apply_theme(DARK)
    tabs = window.findChild(QTabWidget, "viewTabs")
    titles = [tabs.tabText(i) for i in range(tabs.count())]
    views = {}
    for title, name in (("Compare", "comparisonView"), ("Memory horizon", "horizonPanel")):
        tabs.setCurrentIndex(titles.index(title))
        views[name] = window.findChild(QWidget, name)
        assert views[name] is not None and views[name].isVisible()
    assert views["comparisonView"].theme is DARK
    assert views["horizonPanel"].plot.backgroundBrush().color() == QColor(DARK.base)
