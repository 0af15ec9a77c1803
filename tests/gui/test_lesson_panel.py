"""The lessons panel: navigation, the signal the window loads from, and the window hook."""

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QPushButton

from rnnviz.gui.lesson_panel import LessonPanel
from rnnviz.lessons import load_lessons


@pytest.fixture
def panel(qtbot):
    widget = LessonPanel()
    qtbot.addWidget(widget)
    widget.resize(380, 520)
    widget.show()
    return widget


def test_panel_walks_the_lessons_with_next_and_previous(qtbot, panel):
    lessons = load_lessons()
    assert panel.objectName() == "lessonPanel"
    next_button = panel.findChild(QPushButton, "nextLessonButton")
    prev_button = panel.findChild(QPushButton, "prevLessonButton")
    assert panel.current == lessons[0] and not prev_button.isEnabled()
    assert lessons[0].title in panel.title_label.text()
    with qtbot.waitSignal(panel.lesson_chosen) as blocker:
        qtbot.mouseClick(next_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [lessons[1]]
    assert lessons[1].title in panel.title_label.text() and "Watch for" in panel.commentary.text()
    with qtbot.waitSignal(panel.lesson_chosen) as blocker:
        qtbot.mouseClick(prev_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [lessons[0]]
    panel.go_to(len(lessons) - 1, start=False)
    assert not next_button.isEnabled() and "LSTM" in panel.title_label.text()
    with qtbot.assertNotEmitted(panel.lesson_chosen):
        panel.next()


def test_a_broken_lessons_folder_is_reported_in_the_panel(qtbot, tmp_path, monkeypatch):
    (tmp_path / "01-bad.toml").write_text("title = ", encoding="utf-8")
    monkeypatch.setattr("rnnviz.lessons.LESSON_DIR", tmp_path)
    widget = LessonPanel()
    qtbot.addWidget(widget)
    assert widget.current is None and "not valid TOML" in widget.commentary.text()
    assert not widget.next_button.isEnabled()


def test_the_lessons_panel_in_the_main_window_loads_the_lesson(qtbot, tmp_path):
    from rnnviz.gui.main_window import MainWindow

    window = MainWindow(settings_store=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    panel = window.findChild(LessonPanel, "lessonPanel")
    assert panel is window.lesson_panel
    lesson = load_lessons()[5]   # exploding: the Training tab
    panel.go_to(5)
    assert window.controls.settings() == lesson.settings
    assert window.tabs.tabText(window.tabs.currentIndex()) == lesson.tab
    names = {a.objectName() for a in window.actions()}
    assert {"lessonsAction", "nextLessonAction", "prevLessonAction"} <= names
    window.close()


def test_the_panel_says_whether_the_controls_hold_the_shown_lesson(qtbot):
    lessons = load_lessons()
    panel = LessonPanel(held=lessons[0].settings.replace(lag=60))
    qtbot.addWidget(panel)
    assert "Not loaded" in panel.status_label.text() and "lag" in panel.status_label.text()
    assert "Start" in panel.status_label.text()
    panel.show_settings(lessons[0].settings)
    assert panel.status_label.text().startswith("✓ Loaded")
    panel.go_to(1, start=False)                      # moving on without Start: not loaded
    assert "Not loaded" in panel.status_label.text() and "task" in panel.status_label.text()


def test_loading_a_preset_shows_its_lesson_or_says_the_shown_one_is_not_loaded(qtbot):
    from rnnviz.presets import load_preset

    lessons = load_lessons()
    panel = LessonPanel(held=lessons[0].settings)
    qtbot.addWidget(panel)
    clipping = load_preset("clipping")
    panel.select_preset("clipping", clipping.settings)     # lesson 7 is exactly the preset
    assert panel.current.preset == "clipping" and panel.status_label.text().startswith("✓ Loaded")
    vanishing = load_preset("vanishing")                   # its lessons change lag and task
    panel.select_preset("vanishing", vanishing.settings)
    assert panel.current.preset == "vanishing" and "Not loaded" in panel.status_label.text()


def test_in_the_window_the_panel_follows_presets_and_edits(qtbot, tmp_path):
    from rnnviz.gui.main_window import MainWindow

    window = MainWindow(settings_store=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    panel = window.lesson_panel
    first = panel.status_label.text()                 # first launch: defaults, lesson 1 shown
    assert "Not loaded" in first and "Start" in first
    assert window.load_preset("exploding")
    assert panel.current.preset == "exploding" and panel.status_label.text().startswith("✓ Loaded")
    window.apply_settings(window.applied_settings.replace(lr=0.1))
    assert "Not loaded" in panel.status_label.text() and "lr" in panel.status_label.text()
    panel.start()
    assert panel.status_label.text().startswith("✓ Loaded")
    window.close()


def test_a_lesson_with_a_remedy_offers_it_and_the_window_runs_it(qtbot, tmp_path):
    from rnnviz.gui.main_window import MainWindow

    window = MainWindow(settings_store=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    panel = window.lesson_panel
    button = panel.findChild(QPushButton, "remedyButton")
    panel.go_to(0)
    assert button.isHidden()                          # lesson 1 has no remedy
    index = next(i for i, lesson in enumerate(panel.lessons) if lesson.remedy)
    panel.go_to(index)
    assert not button.isHidden() and "clip = norm" in button.toolTip()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.controls.settings() == panel.current.remedy_settings
    assert panel.status_label.text().startswith("✓ Remedy loaded")
    window.close()
