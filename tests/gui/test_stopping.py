"""Reset, a rebuild and closing the window stop even a very long step at once (issue 13.6).

A step of a huge model (T = 500, H = 512, B = 1024) takes minutes on a busy machine. The engine
checks a cancel flag between time steps (tests/test_engine_cancel.py); here a session whose step
would take a minute, checking the flag as often as the engine does, stands in for it, so these
tests show the glue: the worker hands the flag to every session call and sets it when the call
has become pointless.
"""

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from rnnviz.engine import Cancelled
from rnnviz.trainer import Trainer
from rnnviz.session import Session
from rnnviz.settings import Settings

SMALL = Settings(hidden=8, lag=4, batch=4)
#: A stopped step must end well within this (it would otherwise take `LONG_STEP_S`).
PROMPT_S = 5.0
LONG_STEP_S = 60.0
ROOT = Path(__file__).resolve().parents[2]


class SlowSession(Session):
    """Every step takes a minute unless its cancel flag is set, checked every few milliseconds."""

    def __init__(self, settings, cancel=None):
        super().__init__(settings, cancel)
        self.in_step = threading.Event()
        self.cancelled_steps = 0

    def step(self, cancel=None):
        self.in_step.set()
        deadline = time.monotonic() + LONG_STEP_S
        while time.monotonic() < deadline:
            if cancel is not None and cancel.is_set():
                self.cancelled_steps += 1
                raise Cancelled
            time.sleep(0.002)
        return super().step(cancel)


def run_until_restarted(trainer, command) -> tuple[list, float, list]:
    """Play; once a step is under way, call `command()` from another thread; collect events until
    the new run's first snapshot arrives. Returns the events, the seconds `command` took to act and
    the sessions built."""
    sessions = []

    def factory(settings, cancel):
        sessions.append(SlowSession(settings, cancel))
        return sessions[-1]

    trainer._factory = factory
    trainer.play()
    asked = []

    def ask():
        while not sessions:
            time.sleep(0.005)
        sessions[0].in_step.wait(30)
        asked.append(time.perf_counter())
        command()

    threading.Thread(target=ask, daemon=True).start()
    events = []
    for kind, payload in trainer.events():
        events.append((kind, payload))
        if kind == "restarted" and payload.run > 1:
            trainer.abort()
    return events, time.perf_counter() - asked[0], sessions


def test_a_reset_stops_the_step_under_way():
    trainer = Trainer(SMALL, max_in_flight=None)
    events, took, sessions = run_until_restarted(trainer, trainer.reset)
    assert took < PROMPT_S and sessions[0].cancelled_steps >= 1
    assert [p.iteration for k, p in events if k == "restarted"][-1] == 0
    assert not [k for k, p in events if k == "error"]


def test_a_structural_change_stops_the_step_under_way():
    trainer = Trainer(SMALL, max_in_flight=None)
    events, took, sessions = run_until_restarted(trainer, lambda: trainer.apply(SMALL.replace(hidden=9)))
    assert took < PROMPT_S and sessions[0].cancelled_steps >= 1
    assert [p.recurrent.shape for k, p in events if k == "restarted"][-1] == (9, 9)


def test_only_a_reset_a_rebuild_or_abort_cancels_the_call_under_way():
    """Changing the learning rate, say, does not make the step under way pointless."""
    trainer = Trainer(SMALL, max_in_flight=None)
    trainer.step()
    trainer.apply(SMALL.replace(lr=0.02))
    assert not trainer.is_set() and trainer.cancel_byte[0] == 0
    trainer.apply(SMALL.replace(lr=0.02, hidden=9))
    assert trainer.is_set() and trainer.cancel_byte[0] == 1   # the byte the compiled engine reads
    other = Trainer(SMALL)
    other.abort()
    assert other.is_set() and other.cancel_byte[0] == 1


def test_the_cancel_byte_clears_once_the_loop_has_taken_the_reset():
    trainer = Trainer(SMALL, max_in_flight=None)
    events = trainer.events()
    next(events)                                       # the first run is built
    trainer.reset()
    assert trainer.cancel_byte[0] == 1
    while trainer.cancel_byte[0]:                      # the loop takes the reset, builds the new run
        next(events)
    assert not trainer.is_set()
    trainer.abort()


CLOSE_SCRIPT = textwrap.dedent("""
    import sys, tempfile, time
    from pathlib import Path
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    sys.path.insert(0, {tests!r})
    from test_stopping import SlowSession
    from rnnviz.gui.main_window import MainWindow

    app = QApplication([])
    store = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    sessions = []
    def factory(settings, cancel):
        sessions.append(SlowSession(settings, cancel))
        return sessions[-1]
    window = MainWindow(settings_store=store, session_factory=factory)
    window.show()
    window.play()
    def close_once_stepping():
        if sessions and sessions[-1].in_step.is_set():
            start = time.perf_counter()
            window.close()
            print(f"closed in {{time.perf_counter() - start:.3f}} s", flush=True)
        else:
            QTimer.singleShot(20, close_once_stepping)
    QTimer.singleShot(20, close_once_stepping)
    sys.exit(app.exec())
""")


def test_closing_the_window_during_a_long_step_exits_cleanly_at_once(tmp_path):
    script = tmp_path / "close.py"
    script.write_text(CLOSE_SCRIPT.format(tests=str(Path(__file__).parent)), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True,
                            timeout=LONG_STEP_S, env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "QThread" not in result.stderr
    seconds = float(result.stdout.split("closed in ")[1].split()[0])
    assert seconds < PROMPT_S
