"""The BPTT stepper driven like a user: buttons by objectName, the slider, and the keys."""


import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QSlider

from rnnviz.gui.formula_panel import FormulaPanel
from rnnviz.gui.stepper import BPTTStepper
from rnnviz.session import Session
from rnnviz.settings import Settings

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def inspection(arch="rnn", lag=6, hidden=10, batch=4):
    session = Session(Settings(task="recall", arch=arch, lag=lag, hidden=hidden, batch=batch, skip=3))
    session.step()
    return session.inspect()


@pytest.fixture
def stepper(qtbot):
    widget = BPTTStepper()
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    with qtbot.waitSignal(widget.loaded, timeout=10_000):
        widget.load(inspection())
    return widget


def button(widget, name):
    found = widget.findChild(QPushButton, name)
    assert found is not None, name
    return found


def test_frame_count_and_slider(stepper):
    T = stepper.inspection.x.shape[0]
    slider = stepper.findChild(QSlider, "frameSlider")
    assert stepper.n_frames == 2 * T + 1
    assert (slider.minimum(), slider.maximum()) == (0, 2 * T)
    assert stepper.index == 0 and slider.value() == 0
    slider.setValue(T)
    assert stepper.index == T
    assert "the loss" in stepper.findChild(FormulaPanel, "formulaPanel").text()


def test_buttons_move_one_frame_and_jump_to_the_ends(stepper, qtbot):
    last = stepper.n_frames - 1
    qtbot.mouseClick(button(stepper, "nextFrameButton"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(button(stepper, "nextFrameButton"), Qt.MouseButton.LeftButton)
    assert stepper.index == 2
    qtbot.mouseClick(button(stepper, "prevFrameButton"), Qt.MouseButton.LeftButton)
    assert stepper.index == 1
    qtbot.mouseClick(button(stepper, "lastFrameButton"), Qt.MouseButton.LeftButton)
    assert stepper.index == last
    assert "full gradient" in stepper.findChild(FormulaPanel, "formulaPanel").text()
    qtbot.mouseClick(button(stepper, "nextFrameButton"), Qt.MouseButton.LeftButton)
    assert stepper.index == last                     # stays at the end
    qtbot.mouseClick(button(stepper, "firstFrameButton"), Qt.MouseButton.LeftButton)
    assert stepper.index == 0


def test_keys(stepper, qtbot):
    stepper.setFocus()
    qtbot.keyClick(stepper, Qt.Key.Key_Right)
    assert stepper.index == 1
    qtbot.keyClick(stepper, Qt.Key.Key_Left)
    assert stepper.index == 0
    qtbot.keyClick(stepper, Qt.Key.Key_End)
    assert stepper.index == stepper.n_frames - 1
    qtbot.keyClick(stepper, Qt.Key.Key_Home)
    assert stepper.index == 0
    # the keys also work while a control inside the stepper has the focus
    slider = stepper.findChild(QSlider, "frameSlider")
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert stepper.index == 1
    qtbot.keyClick(button(stepper, "nextFrameButton"), Qt.Key.Key_Space)
    assert stepper.playing                           # Space plays the frames, not the focused button
    qtbot.waitUntil(lambda: stepper.index >= 3, timeout=5000)
    qtbot.keyClick(stepper, Qt.Key.Key_Space)
    assert not stepper.playing


def test_play_runs_to_the_end_and_stops(stepper, qtbot):
    stepper.speed_spin.setValue(60)
    qtbot.mouseClick(button(stepper, "playFramesButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: stepper.index == stepper.n_frames - 1, timeout=10_000)
    qtbot.waitUntil(lambda: not stepper.playing, timeout=2000)


def test_stepping_to_the_end_highlights_the_last_step(stepper, qtbot):
    T = stepper.frames.T
    for _ in range(2 * T):
        stepper.next()
        stepper.repaint()
    diagram = stepper.diagram.diagram
    assert diagram.highlight_step == 1 and diagram.highlight_kind == "backward"
    assert all(c is not None for c in diagram.arrow_colours)    # the backward wave reached t = 1


def test_signals_to_the_main_window(stepper, qtbot):
    with qtbot.waitSignal(stepper.inspect_requested, timeout=1000):
        qtbot.mouseClick(button(stepper, "inspectButton"), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(stepper.finished, timeout=1000):
        qtbot.mouseClick(button(stepper, "leaveStepperButton"), Qt.MouseButton.LeftButton)


def test_the_diagram_shows_the_batchs_words_and_a_new_load_supersedes_the_old(qtbot):
    session = Session(Settings(task="sentence", lag=4, hidden=8, batch=3))
    first, second = session.inspect(), session.inspect()
    widget = BPTTStepper()
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.loaded, timeout=10_000):
        widget.load(first)
        widget.load(second, example=1)              # before the first is done
    assert widget.frames.inspection is second and widget.frames.example == 1
    assert widget.diagram.diagram.labels == list(second.example_labels[1])
    assert len(set(second.example_labels[1])) > 1    # words, not one repeated token


def test_choosing_another_example_and_restart(stepper, qtbot):
    with qtbot.waitSignal(stepper.loaded, timeout=10_000):
        stepper.example_spin.setValue(3)
    assert stepper.frames.example == 2
    stepper.restart(None)
    assert stepper.frames is None and not button(stepper, "nextFrameButton").isEnabled()


@pytest.mark.parametrize("arch", ["skip", "lstm"])
def test_other_architectures_load(qtbot, arch):
    widget = BPTTStepper()
    qtbot.addWidget(widget)
    widget.show()
    with qtbot.waitSignal(widget.loaded, timeout=10_000):
        widget.load(inspection(arch))
    widget.last()
    assert "full gradient" in widget.formula.text()
