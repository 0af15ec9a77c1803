"""FrameBudget spaces a view's frames; a command's answer is drawn before the next frame."""

import time

from PySide6.QtGui import QAction
from widgets import find

from rnnviz.gui import MainWindow
from rnnviz.gui.frame_budget import HOLD_S, FrameBudget

WAIT_MS = 20_000


def test_a_held_budget_starts_no_frame_until_released_or_the_hold_runs_out():
    budget = FrameBudget(max_rate=30.0)
    later = time.perf_counter() + 1.0                 # past any spacing of frames (min_rate 4/s)
    budget.hold()
    assert budget.held() and not budget.ready() and budget.wait() > 0
    budget.release()
    assert not budget.held() and budget.wait(now=later) == 0 and budget.ready(now=later)
    budget.hold(HOLD_S)
    assert budget.held(now=time.perf_counter())
    assert not budget.held(now=time.perf_counter() + HOLD_S)          # a hold never released ends
    assert budget.ready(now=time.perf_counter() + HOLD_S + 1.0)


def test_the_window_holds_the_curves_frames_from_a_command_to_its_answer(qtbot, settings_store):
    w = MainWindow(settings_store=settings_store)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.latest_snapshot is not None, timeout=WAIT_MS)
    held_at_answer = []      # connected after the window: runs once the window has taken the state
    w.worker.state_changed.connect(lambda _state: held_at_answer.append(w.curves.budget.held()))
    for count, name in enumerate(("stepAction", "playAction", "playAction", "resetAction"), 1):  # S, Space, Space, R
        find(w, name, QAction).trigger()
        assert w.curves.budget.held()                  # held as the command leaves ...
        qtbot.waitUntil(lambda: len(held_at_answer) >= count, timeout=WAIT_MS)
    assert not any(held_at_answer)                     # ... and released by its answer
    qtbot.waitUntil(lambda: w.state == "paused" and w.latest_snapshot.iteration == 0, timeout=WAIT_MS)
    w.close()
