"""The issue-5 views inside the main window: tabs, live updates, and the stepper's pause/inspect/resume."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QTabWidget
from widgets import find

from rnnviz.gui.heatmap import ContributionHeatmap
from rnnviz.gui.spectrum import SpectrumPlot
from rnnviz.gui.stepper import BPTTStepper
from rnnviz.gui.unrolled_view import UnrolledView

WAIT_MS = 10_000
#: The `window` fixture (tests/gui/conftest.py) at this size: the stepper's page wants the height.
WINDOW_SIZE = (1280, 800)

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def state(window) -> str:
    return find(window, "stateLabel", QLabel).text()


def test_views_sit_in_their_tabs_and_follow_training(window, qtbot):
    tabs = find(window, "viewTabs", QTabWidget)
    titles = [tabs.tabText(i) for i in range(tabs.count())]
    assert "Unrolled network" in titles and "Gradients" in titles
    heatmap = find(window, "contributionHeatmap", ContributionHeatmap)
    diagram = find(window, "unrolledView", UnrolledView)
    tabs.setCurrentIndex(titles.index("Gradients"))
    window.play()
    qtbot.waitUntil(lambda: heatmap.rows_in_order()[0].size >= 10, timeout=WAIT_MS)
    window.pause()
    qtbot.waitUntil(lambda: state(window) == "Paused", timeout=WAIT_MS)   # sent after the last snapshots
    latest = window.latest_snapshot
    np.testing.assert_array_equal(heatmap.newest_row(), latest.contribution_norms)
    assert diagram.diagram.T == len(latest.dh_norms)
    assert find(window, "spectrumPlot", SpectrumPlot).n_points() == latest.settings.hidden


def test_stepper_pauses_training_steps_and_resumes(window, qtbot):
    stepper = find(window, "bpttStepper", BPTTStepper)
    tabs = find(window, "viewTabs", QTabWidget)
    tabs.setCurrentIndex([tabs.tabText(i) for i in range(tabs.count())].index("Unrolled network"))
    window.play()
    qtbot.waitUntil(lambda: window.latest_snapshot.iteration >= 3, timeout=WAIT_MS)
    with qtbot.waitSignal(stepper.loaded, timeout=WAIT_MS):
        qtbot.mouseClick(find(stepper, "inspectButton", QAbstractButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state(window) == "Paused", timeout=WAIT_MS)
    T = stepper.frames.T
    assert stepper.n_frames == 2 * T + 1 and T == len(window.latest_snapshot.dh_norms)
    stepper.setFocus()
    qtbot.keyClick(stepper, Qt.Key.Key_End)
    assert stepper.index == 2 * T
    qtbot.keyClick(stepper, Qt.Key.Key_Left)
    assert stepper.index == 2 * T - 1 and state(window) == "Paused"   # keys step frames, not training
    qtbot.mouseClick(find(stepper, "leaveStepperButton", QAbstractButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state(window) == "Playing", timeout=WAIT_MS)
    window.pause()
