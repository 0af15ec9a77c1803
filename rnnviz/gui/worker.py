"""Training off the GUI thread, as Qt signals.

`TrainingWorker` iterates a training loop's events (`rnnviz.trainer`) on a thread of its own with
`rnnviz.gui.background.Background` (the app's one way to work off the GUI thread) and turns each
event into a signal. The app's own sessions train in a process of their own
(`rnnviz.training_process.RemoteTrainer`: the thread only relays its events); a custom session
factory (the comparison's pair of runs, tests' fakes) trains on the thread itself (`Trainer`).

Only immutable `Snapshot` and `Inspection` objects reach the GUI thread.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from rnnviz.errors import TrainingError
from rnnviz.gui.background import Background
from rnnviz.settings import Settings
from rnnviz.trainer import PAUSED, Event, Trainer

#: How long a thread may hold Python's GIL while another waits for it (s; Python's default is
#: 0.005). While a training thread runs Python between passes, a click waits up to this long
#: for the GUI thread's turn: at default settings (~3,000 iterations/s) play's p99 response was
#: 17–27 ms with 5 ms and 14–15 ms with 1 ms, at the same training rate (A/B, 2 rounds each).
#: Where training runs in its own process, the answer to a click waits for the thread that relays
#: it to take the GIL from the GUI thread, drawing: with 5 ms, play's median response was 4.8 ms.
GIL_SWITCH_S = 0.001
#: Seconds `TrainingWorker.stop` waits for the thread. A step checks the stop flag between time
#: steps, so this is only reached if the engine itself hangs.
STOP_TIMEOUT = 10.0


class TrainingWorker(QObject):
    """Runs a `Trainer` off the GUI thread and re-emits its events as signals (see the module doc).

    Command methods are safe to call from the GUI thread; they only queue the command. If the
    loop ended with an error (a bug, or its process was killed, e.g. for lack of memory), the next
    Play, Step, Reset, settings change or inspection starts a new one: a new run with the newest
    settings, speed and emit rate.
    """

    snapshots = Signal(object)       # tuple[Snapshot, ...], oldest first
    restarted = Signal(object)       # Snapshot of the new run's iteration 0
    inspected = Signal(object)       # Inspection
    state_changed = Signal(str)      # "playing" | "paused" | "diverged"
    error = Signal(object)           # TrainingError: its message is for the user

    def __init__(self, settings: Settings | None = None,
                 session_factory: Callable[[Settings, Any], Any] | None = None,
                 *, limit_blas: bool = True) -> None:
        """`session_factory`: (Settings, cancel flag) → session, trained on this worker's thread;
        None: an app `Session`, trained in a process of its own."""
        super().__init__()
        self._settings = settings or Settings()
        self._factory = session_factory
        self._limit_blas = limit_blas
        self._speed: float | None = None
        self._emit_rate: float | None = None
        self._failed = False
        self._started = False
        self._stopped = False
        self._signals = {"snapshots": self.snapshots, "restarted": self.restarted, "inspected": self.inspected,
                         "state": self.state_changed, "error": self.error}
        self._begin()

    def _begin(self) -> None:
        """A new loop (not started) with the newest settings."""
        if self._factory is None:
            from rnnviz.training_process import RemoteTrainer

            self.trainer = RemoteTrainer(self._settings)
        else:
            self.trainer = Trainer(self._settings, self._factory)
        self._job = Background(self._work, name="trainingThread", limit_blas=self._limit_blas)
        self._job.yielded.connect(self._deliver)
        self._job.errored.connect(self._crashed)

    def _revive(self) -> None:
        """After the loop ended with an error, start a new one (see the class doc)."""
        if not self._failed or self._stopped or self._job.is_running():
            return
        self._failed = False
        self._begin()
        self.start()
        if self._speed is not None:
            self.trainer.set_speed(self._speed)
        if self._emit_rate is not None:
            self.trainer.set_emit_rate(self._emit_rate)

    def start(self) -> None:
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_S))
        self._started = True
        self._job.start()

    def is_running(self) -> bool:
        return self._job.is_running()

    @property
    def started(self) -> bool:
        """True once `start` was called, also while a loop that ended with an error waits to be
        started again: the settings, speed and emit rate sent meanwhile are the ones it gets."""
        return self._started

    @property
    def training_pid(self) -> int | None:
        """The id of the process that trains, where it is not this one (and has started)."""
        return getattr(self.trainer, "pid", None)

    # Commands: forward to the trainer's queue.
    def play(self) -> None:
        self._revive()
        self.trainer.play()

    def pause(self) -> None:
        if self._failed:          # nothing trains: the answer is the state already announced
            self.state_changed.emit(PAUSED)
        else:
            self.trainer.pause()

    def step(self) -> None:
        self._revive()
        self.trainer.step()

    def reset(self) -> None:
        if self._failed:
            self._revive()        # a new loop starts a new run: nothing to reset
        else:
            self.trainer.reset()

    def apply(self, settings: Settings, restart: bool = False) -> None:
        self._settings = settings
        if self._failed:
            self._revive()        # with these settings
        else:
            self.trainer.apply(settings, restart)

    def set_speed(self, iterations_per_second: float) -> None:
        self._speed = iterations_per_second
        self.trainer.set_speed(iterations_per_second)

    def inspect(self) -> None:
        self._revive()
        self.trainer.inspect()

    def set_emit_rate(self, batches_per_second: float) -> None:
        self._emit_rate = batches_per_second
        self.trainer.set_emit_rate(batches_per_second)

    def ack(self) -> None:
        self.trainer.ack()

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Stop training (a step under way ends at its next time step) and wait for the thread.
        True if it ended within `timeout` seconds."""
        self._stopped = True
        self.trainer.abort()
        return self._job.stop(timeout)

    def _work(self, job: Background) -> None:
        for event in self.trainer.events():
            job.emit(event)

    @Slot(object)
    def _deliver(self, event: Event) -> None:
        kind, payload = event
        self._signals[kind].emit(payload)
        if kind == "state":
            self.trainer.answer_taken()

    @Slot(object)
    def _crashed(self, exc: Exception) -> None:
        """A bug in the loop itself, or its process ended: training has stopped; tell the user."""
        self._failed = True
        self.state_changed.emit(PAUSED)      # whatever the window showed: nothing trains now
        self.error.emit(TrainingError(f"Training stopped: {exc}. Press Reset to start a new run."))
