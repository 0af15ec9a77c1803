"""The stepper's formula panel in the window as shipped: it fits, and every number it talks about is on screen.

Also: the stepper's diagram and the live, animated diagram draw the same colours for the same pass
and frame, and a diverged pass says its gradient is not finite."""

import numpy as np
import pytest
from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtWidgets import QLabel

from rnnviz.bptt_frames import BPTTFrames, revealed
from rnnviz.gui.formula_panel import FormulaPanel
from rnnviz.gui.main_window import MainWindow
from rnnviz.gui.stepper import BPTTStepper
from rnnviz.gui.unrolled_view import UnrolledView
from rnnviz.presets import load_preset
from rnnviz.session import Session
from rnnviz.settings import Settings

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")
WAIT_MS = 30_000


def open_stepper(qtbot, tmp_path, size, session):
    window = MainWindow(settings_store=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                        start_worker=False)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    if size[0] >= 1280:
        # the offscreen screen is 800 px wide, so the window tabified the lessons with the controls;
        # on a 1280 px screen they are three columns: controls left, lessons right
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.lessons_dock)
        window.lessons_dock.show()
        qtbot.waitUntil(lambda: window.lessons_dock.isVisible() and window.controls_dock.isVisible(),
                        timeout=WAIT_MS)
    window.controls.set_settings(session.settings)
    window.show_restart(session.snapshot())
    window.show_page("stepper")
    with qtbot.waitSignal(window.stepper.loaded, timeout=WAIT_MS):
        window.show_inspection(session.inspect())
    return window


def fully_inside(widget, panel: FormulaPanel) -> bool:
    """The whole of `widget` lies in the panel's viewport: readable without scrolling."""
    viewport = panel.viewport()
    top_left = widget.mapTo(viewport, widget.rect().topLeft())
    return viewport.rect().contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize("size", [(1280, 720), (1024, 768)])
@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
def test_every_number_of_every_kind_of_frame_is_on_screen(qtbot, tmp_path, arch, size):
    T = 40
    session = Session(Settings(task="recall", lag=T - 2, arch=arch, hidden=16, batch=8, skip=4, seed=2))
    session.step()
    window = open_stepper(qtbot, tmp_path, size, session)
    stepper = window.stepper
    panel = window.findChild(FormulaPanel, "formulaPanel")
    for index in (T // 2, T, T + 1 + T // 2, 2 * T):       # forward, loss, backward, the last step
        stepper.go_to(index)
        frame = stepper.frames.frame(index)

        def hidden_numbers():
            """The frame's quantities whose label is missing, wrong, or not wholly on screen."""
            wrong = []
            for quantity in frame.quantities:
                label = panel.findChild(QLabel, f"quantity_{quantity.key}")
                if not (label is not None and label.isVisible() and quantity.shown in label.text()
                        and fully_inside(label, panel)):
                    wrong.append(quantity.key)
            return wrong

        qtbot.waitUntil(lambda: not hidden_numbers() and fully_inside(panel.title, panel), timeout=WAIT_MS)
        assert panel.horizontalScrollBar().maximum() == 0
        assert panel.widget().width() <= panel.viewport().width()
        assert f"Frame {index + 1} of {2 * T + 1}" in panel.title.text()

def test_the_last_frame_of_a_diverged_run_says_the_gradient_is_not_finite(qtbot):
    session = Session(load_preset("exploding").settings.replace(seed=0))
    for snapshot in session.run(50):
        pass
    assert snapshot.diverged
    stepper = BPTTStepper()
    qtbot.addWidget(stepper)
    stepper.resize(900, 700)
    stepper.show()
    with qtbot.waitSignal(stepper.loaded, timeout=WAIT_MS):
        stepper.load(session.inspect())
    stepper.last()
    text = stepper.formula.text()
    assert "is not finite" in text and "relative difference" not in text
    assert stepper.formula.findChild(QLabel, "quantity_gradient_error") is None


def test_the_stepper_draws_what_the_animation_draws_frame_for_frame(qtbot):
    """Same pass (iteration 0: the snapshot's pass and the inspection's are one), same frame →
    the same colours on both diagrams, from the same numbers."""
    session = Session(Settings(task="recall", lag=10, hidden=16, batch=8, seed=4))
    snapshot, inspection = session.snapshot(), session.inspect()
    frames = BPTTFrames(inspection)
    np.testing.assert_array_equal(frames.dh_norm_batch, snapshot.dh_norms)
    np.testing.assert_array_equal(frames.hidden_rms_batch, snapshot.hidden_rms)
    np.testing.assert_array_equal(frames.contribution_norm_batch, snapshot.contribution_norms)

    live = UnrolledView()
    qtbot.addWidget(live)
    live.restart(snapshot)
    stepper = BPTTStepper()
    qtbot.addWidget(stepper)
    stepper.set_frames(frames)
    T = frames.T
    for index in (0, T // 2, T, T + 3, 2 * T):
        stepper.go_to(index)
        _, _, hidden_shown, grad_shown = revealed(index, T)
        live.diagram.set_masks(hidden_shown, grad_shown)      # the animation's frame `index`
        assert stepper.diagram.diagram.node_colours == live.diagram.node_colours, index
        assert stepper.diagram.diagram.arrow_colours == live.diagram.arrow_colours, index
