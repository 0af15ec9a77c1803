"""The main window driven through its objectNames, as a user (or an outside test) would."""

import math

import pytest
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import (QAbstractButton, QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QMenuBar, QMessageBox,
                               QSlider, QSpinBox, QTextBrowser)
from widgets import find

from rnnviz.gui import MainWindow
from rnnviz.settings import Settings

CONTROL_NAMES = ["presetCombo", "presetNotes", "taskCombo", "seqLenSpin", "archCombo", "activationCombo",
                 "hiddenSpin", "initCombo", "initScaleSpin", "optimizerCombo", "lrSpin", "lrSlider",
                 "clipModeCombo", "clipSpin", "seedSpin", "speedSlider", "playButton", "stepButton",
                 "resetButton"]
WAIT_MS = 10_000


def iteration(window) -> int:
    return int(find(window, "iterationLabel", QLabel).text().split()[-1])


def state(window) -> str:
    return find(window, "stateLabel", QLabel).text()


class Recorder(QObject):
    """Collects snapshots in the GUI thread (a slot of a QObject here runs here, queued)."""

    def __init__(self):
        super().__init__()
        self.seen = []

    @Slot(object)
    def add(self, snaps):
        self.seen.extend(snaps)


def record_snapshots(window):
    recorder = Recorder()
    window.worker.snapshots.connect(recorder.add)
    window._recorders = getattr(window, "_recorders", []) + [recorder]   # keep it alive
    return recorder.seen


def test_window_has_title_menus_status_bar_and_every_named_control(window):
    assert window.windowTitle() == "rnnviz"
    for name in CONTROL_NAMES + ["iterationLabel", "speedLabel", "stateLabel", "lossPlot", "gradPlot",
                                 "divergenceBanner", "viewTabs", "numbersPanel"]:
        find(window, name)
    menus = [a.text().replace("&", "") for a in window.findChild(QMenuBar).actions()]
    assert menus[:4] == ["File", "View", "Run", "Help"]
    help_items = [a.text().replace("&", "") for a in window.help_menu.actions()]
    assert any("About" in t for t in help_items) and any("Keyboard shortcuts" in t for t in help_items)
    assert not find(window, "divergenceBanner").isVisible()
    assert state(window) == "Paused" and iteration(window) == 0


def test_every_control_explains_itself_and_ranges_come_from_the_settings(window):
    from rnnviz.settings import FIELDS

    for name in CONTROL_NAMES:
        if name != "presetNotes":
            assert find(window, name).toolTip(), f"{name} has no tooltip"
    assert "τ/‖g‖" in find(window, "clipModeCombo").toolTip()
    lr = find(window, "lrSpin", QDoubleSpinBox)
    assert (lr.minimum(), lr.maximum()) == (FIELDS["lr"].low, FIELDS["lr"].high)
    hidden = find(window, "hiddenSpin", QSpinBox)
    assert (hidden.minimum(), hidden.maximum()) == (FIELDS["hidden"].low, FIELDS["hidden"].high)
    arch = find(window, "archCombo", QComboBox)
    assert [arch.itemData(i) for i in range(arch.count())] == list(FIELDS["arch"].choices)


def test_lr_spin_is_log_scaled_and_refuses_bad_text(window):
    lr = find(window, "lrSpin", QDoubleSpinBox)
    lr.setValue(1e-3)
    lr.stepBy(10)          # ten steps = one decade
    assert lr.value() == pytest.approx(1e-2)
    slider = find(window, "lrSlider", QSlider)
    slider.setValue(slider.maximum())
    assert lr.value() == pytest.approx(10.0)
    assert lr.validate("abc", 0)[0].name == "Invalid"
    assert lr.validate("1e-3", 0)[0].name == "Acceptable"
    assert lr.validate("100", 0)[0].name != "Acceptable"


def test_play_advances_the_iteration_label_and_pause_stops_it(qtbot, window):
    qtbot.mouseClick(find(window, "playButton", QAbstractButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: iteration(window) >= 5, timeout=WAIT_MS)
    assert state(window) == "Playing"
    qtbot.mouseClick(find(window, "playButton", QAbstractButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state(window) == "Paused", timeout=WAIT_MS)
    stopped_at = window.latest_snapshot.iteration     # the worker sends what it trained before it says "paused"
    with qtbot.waitSignal(window.worker.state_changed, timeout=WAIT_MS):
        window.pause()                        # a round trip: anything trained meanwhile would arrive first
    assert window.latest_snapshot.iteration == stopped_at
    assert len(window.curves.history) == stopped_at + 1   # iteration 0 and every one after


def test_step_trains_exactly_one_iteration(qtbot, window):
    seen = record_snapshots(window)
    find(window, "stepButton", QAbstractButton).click()
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=WAIT_MS)
    find(window, "stepButton", QAbstractButton).click()
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=WAIT_MS)
    assert [s.iteration for s in seen] == [1, 2]
    qtbot.waitUntil(lambda: iteration(window) == 2, timeout=WAIT_MS)


def test_learning_rate_changes_mid_run_without_a_restart(qtbot, window):
    seen = record_snapshots(window)
    window.play()
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=WAIT_MS)
    run = seen[-1].run
    find(window, "lrSpin", QDoubleSpinBox).setValue(0.02)
    qtbot.waitUntil(lambda: seen[-1].settings.lr == 0.02, timeout=WAIT_MS)
    window.pause()
    changed = [s for s in seen if s.settings.lr == 0.02]
    # Same run, continued: the session applied it (test_session checks that its optimiser steps with it).
    assert changed[0].run == run and changed[0].iteration > 1


def test_a_killed_training_process_is_reported_and_reset_starts_a_new_one(qtbot, window, monkeypatch):
    """The app trains in a process of its own; if it dies (out of memory, a kill), the window says
    so and keeps running, and Reset trains again."""
    import os
    import signal

    errors = []
    window.report_error = lambda message, title="rnnviz": errors.append(message)
    seen = record_snapshots(window)
    window.play()
    qtbot.waitUntil(lambda: state(window).lower() == "playing", timeout=WAIT_MS)
    os.kill(window.worker.training_pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert "ended unexpectedly" in errors[0] and "Reset" in errors[0]
    qtbot.waitUntil(lambda: not window.worker.is_running(), timeout=WAIT_MS)   # its thread ends just after
    qtbot.waitUntil(lambda: state(window).lower() == "paused", timeout=WAIT_MS)   # not left "playing"
    seen.clear()
    # The emit rate asked for while nothing trains is the one the next process gets.
    from rnnviz.gui.main_window import DIAGRAM_EMIT_RATE
    from rnnviz.training_process import RemoteTrainer

    asked: list[float] = []
    real = RemoteTrainer.set_emit_rate
    monkeypatch.setattr(RemoteTrainer, "set_emit_rate", lambda self, rate: (asked.append(rate), real(self, rate)))
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    window.tabs.setCurrentIndex(titles.index("Unrolled network"))
    qtbot.waitUntil(lambda: window.diagram_tab.content is not None, timeout=WAIT_MS)
    window.diagram.animate_toggle.setChecked(False)      # each batch's newest iteration at once
    find(window, "resetButton", QAbstractButton).click()
    qtbot.waitUntil(window.worker.is_running, timeout=WAIT_MS)
    assert asked[-1:] == [DIAGRAM_EMIT_RATE]              # sent to the new process
    find(window, "stepButton", QAbstractButton).click()
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
    assert seen[-1].iteration == 1 and len(errors) == 1


def test_a_structural_change_restarts_the_run_and_says_so(qtbot, window):
    window.play()
    qtbot.waitUntil(lambda: window.latest_snapshot.iteration >= 3, timeout=WAIT_MS)
    old_run = window.run_id
    find(window, "hiddenSpin", QSpinBox).setValue(16)
    qtbot.waitUntil(lambda: window.run_id != old_run, timeout=WAIT_MS)
    assert window.latest_snapshot.settings.hidden == 16
    assert "rebuilt" in window.statusBar().currentMessage()
    assert window.latest_snapshot.recurrent.shape == (16, 16)
    window.pause()


def test_exploding_preset_shows_the_banner_and_reset_clears_it(qtbot, window):
    combo = find(window, "presetCombo", QComboBox)
    index = combo.findData("exploding")
    assert index >= 0
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    notes = find(window, "presetNotes", QTextBrowser).toPlainText()
    assert "Exploding" in notes
    assert find(window, "clipModeCombo", QComboBox).currentData() == "none"
    qtbot.waitUntil(lambda: window.latest_snapshot.settings.clip == "none", timeout=WAIT_MS)
    window.play()
    banner = find(window, "divergenceBanner")
    qtbot.waitUntil(banner.isVisible, timeout=WAIT_MS)
    assert "Exploded at iteration" in banner.text() and "turn on clipping" in banner.text()
    qtbot.waitUntil(lambda: state(window) == "Diverged", timeout=WAIT_MS)
    assert not find(window, "playButton", QAbstractButton).isChecked()
    # The curves kept the finite iterations before the explosion.
    xs, ys = window.curves.raw_curve.getData()
    assert len(xs) >= 1 and all(math.isfinite(y) for y in ys)
    find(window, "resetButton", QAbstractButton).click()
    qtbot.waitUntil(lambda: not banner.isVisible() and state(window) == "Paused", timeout=WAIT_MS)
    assert window.latest_snapshot.iteration == 0


def test_closing_mid_run_stops_the_worker_cleanly(qtbot, settings_store):
    w = MainWindow(settings_store=settings_store)
    qtbot.addWidget(w)
    w.show()
    w.play()
    qtbot.waitUntil(lambda: w.latest_snapshot is not None and w.latest_snapshot.iteration > 3, timeout=WAIT_MS)
    w.close()
    assert not w.worker.is_running()


def test_an_invalid_preset_file_is_reported_and_the_app_keeps_working(qtbot, window, tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("title = \n[settings\n", encoding="utf-8")
    errors = []
    window.report_error = lambda message, title="": errors.append(message)
    assert window.load_preset(bad) is False
    assert errors and "not valid TOML" in errors[0]
    seen = record_snapshots(window)
    window.step()
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=WAIT_MS)


def test_the_default_error_report_is_a_message_box_that_does_not_block(qtbot, window, tmp_path):
    bad = tmp_path / "bad-value.toml"
    bad.write_text('[settings]\nlr = -1\n', encoding="utf-8")
    assert window.load_preset(bad) is False
    box = window.findChild(QMessageBox, "errorBox")
    qtbot.waitUntil(box.isVisible, timeout=WAIT_MS)
    assert "lr" in box.text()
    box.close()


def test_settings_and_speed_persist_and_reset_to_defaults(qtbot, settings_store):
    first = MainWindow(settings_store=settings_store)
    qtbot.addWidget(first)
    find(first, "lrSpin", QDoubleSpinBox).setValue(0.05)
    find(first, "hiddenSpin", QSpinBox).setValue(24)
    find(first, "speedSlider", QSlider).setValue(2)
    first.close()
    second = MainWindow(settings_store=settings_store)
    qtbot.addWidget(second)
    assert find(second, "lrSpin", QDoubleSpinBox).value() == pytest.approx(0.05)
    assert find(second, "hiddenSpin", QSpinBox).value() == 24
    assert find(second, "speedSlider", QSlider).value() == 2
    assert second.controls.settings() == Settings(lr=0.05, hidden=24)
    second.findChild(type(second.play_action), "resetDefaultsAction").trigger()
    assert second.controls.settings() == Settings()
    second.close()


def test_keyboard_shortcuts(qtbot, window):
    names = {a.objectName(): [k.toString() for k in a.shortcuts()] for a in window.actions()}
    assert names["playAction"] == ["Space"]
    assert set(names["stepAction"]) == {"S", "Right"}
    assert set(names["resetAction"]) == {"R", "Ctrl+R"}
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    find(window, "viewTabs").setFocus()
    qtbot.keyClick(window, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: window.latest_snapshot.iteration == 1, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state(window) == "Playing", timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state(window) == "Paused", timeout=WAIT_MS)


def test_log_scale_toggle_and_help_dialogs(qtbot, window):
    assert window.curves.log_scale()            # the default: the loss spans decades
    window.log_action.trigger()
    assert not window.curves.log_scale() and not window.log_action.isChecked()
    assert not window.curves.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    window.findChild(QCheckBox, "lossLogCheck").click()
    assert window.curves.log_scale() and window.log_action.isChecked()
    window.findChild(type(window.play_action), "shortcutsAction").trigger()
    window.findChild(type(window.play_action), "aboutAction").trigger()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "aboutBox") is not None, timeout=WAIT_MS)
    window.findChild(QMessageBox, "aboutBox").close()


def test_dark_theme_switches_and_persists(qtbot, window, settings_store):
    window.dark_action.trigger()
    assert window.theme.dark
    assert settings_store.value("theme") == "dark"
    window.dark_action.trigger()
    assert not window.theme.dark


def test_the_window_feeds_every_view_and_the_stepper_gets_its_inspection(qtbot, settings_store):
    from rnnviz.gui.view import RunView, View

    w = MainWindow(settings_store=settings_store)
    qtbot.addWidget(w)
    titles = [w.tabs.tabText(i) for i in range(w.tabs.count())]
    assert titles == ["Training", "Unrolled network", "Gradients", "Compare", "Memory horizon"]
    seen = {}
    for view in w.run_views:   # every view's restart and show_snapshots is called, in the GUI thread
        for name in ("restart", "show_snapshots"):
            method = getattr(view, name)

            def spy(arg, method=method, key=(id(view), name)):
                seen.setdefault(key, []).append(arg)
                return method(arg)
            setattr(view, name, spy)
    qtbot.waitUntil(lambda: w.latest_snapshot is not None, timeout=WAIT_MS)
    w.step()
    qtbot.waitUntil(lambda: w.latest_snapshot.iteration == 1, timeout=WAIT_MS)
    for view in w.run_views:
        assert len(seen[id(view), "restart"]) == 1 and seen[id(view), "show_snapshots"][-1][-1] is w.latest_snapshot
    assert all(isinstance(v, View) for v in w.views) and isinstance(w.metrics, RunView)
    with qtbot.waitSignal(w.stepper.loaded, timeout=WAIT_MS):
        w.stepper.inspect_requested.emit()
    assert w.stepper.inspection.settings == w.latest_snapshot.settings
    w.close()


def test_the_worker_sends_batches_as_often_as_the_showing_tab_can_use_them(qtbot, window, monkeypatch):
    """The rate the window asks the training loop for (the loop's side: test_curves_and_worker)."""
    from rnnviz.gui.main_window import DIAGRAM_EMIT_RATE, EMIT_RATE, FLAT_OUT_EMIT_RATE

    asked: list[float] = []
    monkeypatch.setattr(window.worker.trainer, "set_emit_rate", asked.append)
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    window.tabs.setCurrentIndex(titles.index("Unrolled network"))
    window.diagram.animate_toggle.setChecked(False)       # each batch's newest iteration drawn at once
    qtbot.waitUntil(lambda: asked[-1:] == [DIAGRAM_EMIT_RATE], timeout=5000)
    window.diagram.animate_toggle.setChecked(True)        # the newest iteration as each sweep ends
    qtbot.waitUntil(lambda: asked[-1:] == [EMIT_RATE], timeout=5000)
    window.diagram.animate_toggle.setChecked(False)
    qtbot.waitUntil(lambda: asked[-1:] == [DIAGRAM_EMIT_RATE], timeout=5000)
    window.diagram.animate_toggle.setChecked(True)
    window.tabs.setCurrentIndex(titles.index("Training"))
    qtbot.waitUntil(lambda: asked[-1:] == [EMIT_RATE], timeout=5000)
    window.run_controls.set_speed(0)                      # flat out: the curves redraw seldom
    qtbot.waitUntil(lambda: asked[-1:] == [FLAT_OUT_EMIT_RATE], timeout=5000)


def test_curves_may_draw_more_often_while_the_worker_holds_a_set_pace(qtbot, window):
    from rnnviz.gui.frame_budget import DEFAULT_SHARE, PACED_SHARE

    window.run_controls.set_speed(0)                    # as fast as possible: drawing yields
    assert window.curves.budget.share == DEFAULT_SHARE
    window.run_controls.set_speed(20)                   # a pace this small model easily holds
    window.play()
    qtbot.waitUntil(lambda: window.curves.budget.share == PACED_SHARE, timeout=5000)
    window.pause()
    qtbot.waitUntil(lambda: window.curves.budget.share == DEFAULT_SHARE, timeout=5000)


def test_status_labels_have_a_fixed_size_that_follows_the_font(qtbot, window):
    """A status label that could change size would re-lay out the whole window at every new text."""
    label = window.findChild(QLabel, "iterationLabel")
    size = label.size()
    assert label.minimumSize() == label.maximumSize() == size
    label.setText("Iteration 1234567")
    assert label.size() == size and label.fontMetrics().horizontalAdvance(label.text()) <= size.width()
    window.presentation.enter()
    try:
        qtbot.waitUntil(lambda: label.width() > size.width(), timeout=3000)   # larger type, larger label
        assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    finally:
        window.presentation.leave()
