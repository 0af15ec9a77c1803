"""The training loop, as plain Python (no Qt): a `Session` stepped on command.

`Trainer` takes commands through a thread-safe queue, each handled by the method of its name
(`_on_play`, `_on_step`, …), and its events come out of `events()` as ``(kind, payload)`` pairs.
The app runs it in a process of its own (`rnnviz.training_process`) and turns its events into Qt
signals (`rnnviz.gui.worker.TrainingWorker`); a custom session (the comparison's pair of runs,
tests' fakes) runs it on a thread of the app.

Only immutable `Snapshot` and `Inspection` objects leave the loop. Snapshots wait in an `Outbox`
(the back-pressure): they are sent together at most `MAX_EMIT_RATE` times a second (or the lower
rate the window asks for with `set_emit_rate`), and not at all while the GUI still has
`MAX_IN_FLIGHT` batches to draw, however fast training runs.

Stopping is cooperative and quick: Reset, a settings change that rebuilds the model, and `stop`
set a flag the engine checks between time steps, so even a step of a very long sequence ends
within a time step (`rnnviz.engine.Cancelled`) instead of holding the loop for seconds.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from rnnviz.errors import TrainingError
from rnnviz.settings import Settings

log = logging.getLogger(__name__)

#: Batches of snapshots sent per second at most (the display rate).
MAX_EMIT_RATE = 60.0
#: Batches the GUI may have received but not yet drawn before the worker holds snapshots back.
MAX_IN_FLIGHT = 2
#: Snapshots kept while the GUI is busy; older ones are dropped (the curves show a gap, memory stays bounded).
MAX_PENDING = 4096
#: Share of the worker's time it may spend computing spectra (eigenvalues, σ_max) for the views.
WARM_SHARE = 0.05
#: Spectra computed per second at most: the live numbers refresh 5 times a second and the spectrum
#: plot moves smoothly at this rate; every batch (60 Hz) would cost training time for nothing.
WARM_RATE = 15.0
#: Longest a loop on a thread of the app waits, after answering Play, for the GUI to take the answer
#: before training (s). Training holds Python's GIL from its first step on, and the GUI thread needs
#: the GIL to run the answer's slot: without the wait, the answer queued behind the training thread's GIL turns
#: (one switch interval per turn the GUI thread asks for, behind its own timers too) and Play took
#: 3–10 ms typically, up to 24 ms, against ~2 ms for the commands after which the worker idles.
ANSWER_WAIT_S = 0.02

PLAYING, PAUSED, DIVERGED = "playing", "paused", "diverged"

Event = tuple[str, Any]
#: What `Trainer._call` returns when the call was cancelled (a newer command is waiting).
CANCELLED = object()


def _default_session_factory(settings: Settings, cancel):
    from rnnviz.session import Session  # imports the engine; done where the loop runs

    return Session(settings, cancel)


class Outbox:
    """Back-pressure: snapshots wait here until the GUI can take another batch.

    A batch goes out at most once every `interval` seconds, and not while the GUI holds
    `max_in_flight` batches it has not drawn yet (it calls `ack` once per batch drawn, from its
    own thread; None: no limit).
    """

    def __init__(self, interval: float, max_in_flight: int | None) -> None:
        self.interval = interval
        self.max_in_flight = max_in_flight
        self.last_sent = time.perf_counter()
        self._pending: list = []
        self._in_flight = 0
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._pending)

    def add(self, snapshot) -> None:
        self._pending.append(snapshot)
        if len(self._pending) > MAX_PENDING:
            del self._pending[: len(self._pending) - MAX_PENDING]

    def discard(self) -> None:
        self._pending = []

    def ack(self) -> None:
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    def busy(self) -> bool:
        with self._lock:
            return self.max_in_flight is not None and self._in_flight >= self.max_in_flight

    def due(self, now: float) -> bool:
        return bool(self._pending) and now - self.last_sent >= self.interval

    def wait(self, now: float) -> float | None:
        """Seconds until a batch may go out; None when nothing waits. While the GUI is busy, poll
        for its ack at the display rate (never spin)."""
        if not self._pending:
            return None
        if self.busy():
            return self.interval
        return max(0.0, self.last_sent + self.interval - now)

    def take(self, force: bool = False) -> tuple | None:
        """Every waiting snapshot as one batch, oldest first, unless the GUI is busy (`force`:
        send anyway, e.g. on pause, so the screen shows where training stopped)."""
        if not self._pending:
            return None
        with self._lock:
            if not force and self.max_in_flight is not None and self._in_flight >= self.max_in_flight:
                return None
            self._in_flight += 1
        batch, self._pending = tuple(self._pending), []
        self.last_sent = time.perf_counter()
        return batch


class Trainer:
    """Steps a `Session` on command. Knows nothing about Qt; `events()` is the whole loop.

    Commands (thread-safe, from any thread): play, pause, step, reset, apply, set_speed,
    set_emit_rate, inspect, stop, abort.
    Events yielded by `events()`:
        ("restarted", Snapshot)        a new run began (build, rebuild or reset)
        ("snapshots", tuple)           every snapshot since the previous such event, oldest first
        ("state", str)                 "playing" | "paused" | "diverged" (also repeated to acknowledge)
        ("inspected", Inspection)      the answer to inspect()
        ("error", TrainingError)       something failed; its message is for the user
    """

    #: Commands that need a session (the others also work while none could be built).
    NEED_SESSION = frozenset({"play", "pause", "step", "inspect"})

    def __init__(self, settings: Settings | None = None,
                 session_factory: Callable[[Settings, Any], Any] = _default_session_factory, *,
                 max_emit_rate: float = MAX_EMIT_RATE, max_in_flight: int | None = MAX_IN_FLIGHT,
                 answer_wait: float = ANSWER_WAIT_S) -> None:
        self._settings = settings or Settings()
        self._requested = self._settings   # the newest settings asked for (caller's side)
        self._factory = session_factory
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._queued = 0          # commands numbered as they are queued ...
        self._received = 0        # ... the newest number the loop has taken from the queue
        self._interrupt_at = 0    # the number of the newest reset or rebuild
        self._stop = threading.Event()   # set by abort()
        self._answer_taken = threading.Event()   # set by answer_taken(): the GUI has a "state" answer
        self._answer_wait = answer_wait   # 0 where the GUI does not share this loop's GIL
        #: `is_set()` as one byte the compiled engine reads without the GIL (rnnviz.engine.cancel),
        #: kept up to date under the lock wherever `is_set()`'s parts change.
        self.cancel_byte = np.zeros(1, np.uint8)
        self.outbox = Outbox(1.0 / max_emit_rate, max_in_flight)
        self.session = None  # owned by the thread running events(); read it only from there
        self.state = PAUSED
        self._speed = 0.0
        self._next_step_at = 0.0
        self._next_warm = 0.0
        self._handlers: dict[str, Callable[[Any], Iterable[Event]]] = {
            "play": self._on_play, "pause": self._on_pause, "step": self._on_step, "reset": self._on_reset,
            "apply": self._on_apply, "speed": self._on_speed, "emit_rate": self._on_emit_rate,
            "inspect": self._on_inspect}

    # ----------------------------------------------------------------- commands (any thread)
    def _put(self, name: str, arg: Any = None, *, interrupts: bool = False) -> None:
        """Queue a command. One that `interrupts` (a reset, a rebuild) makes the call under way
        pointless: the engine stops it at its next time step (see `is_set`)."""
        with self._lock:
            self._queued += 1
            if interrupts:
                self._interrupt_at = self._queued
            self._commands.put((self._queued, name, arg))
            self._mirror_is_set()

    def play(self) -> None:
        self._put("play")

    def pause(self) -> None:
        self._put("pause")

    def step(self) -> None:
        self._put("step")

    def reset(self) -> None:
        self._put("reset", interrupts=True)

    def apply(self, settings: Settings, restart: bool = False) -> None:
        """Adopt `settings`: live fields apply mid-run, structural ones (or `restart`) start a new run."""
        rebuild = restart or self._requested.structural_changes(settings)
        self._requested = settings
        self._put("apply", (settings, restart), interrupts=rebuild)

    def set_speed(self, iterations_per_second: float) -> None:
        """Target training rate; 0 means as fast as possible."""
        self._put("speed", float(iterations_per_second))

    def set_emit_rate(self, batches_per_second: float) -> None:
        """Send batches of snapshots at most this often (the rate the views can use)."""
        self._put("emit_rate", float(batches_per_second))

    def inspect(self) -> None:
        self._put("inspect")

    def stop(self) -> None:
        """End the loop once the commands queued before this one have run."""
        self._put("stop")

    def abort(self) -> None:
        """End the loop now: the call under way stops at its next time step, queued commands are dropped."""
        self._stop.set()
        self._put("stop")

    def is_set(self) -> bool:
        """The `cancel` flag the engine checks between time steps: True once `abort()` was called
        or a reset or rebuild was queued after the commands the loop has taken so far."""
        return self._stop.is_set() or self._interrupt_at > self._received

    def _mirror_is_set(self) -> None:
        """cancel_byte ← is_set() (call with the lock held)."""
        self.cancel_byte[0] = self.is_set()

    def ack(self) -> None:
        """The GUI has drawn one batch of snapshots (call once per "snapshots" event received)."""
        self.outbox.ack()

    def answer_taken(self) -> None:
        """The GUI has shown a "state" event (call once it has; see `ANSWER_WAIT_S`)."""
        self._answer_taken.set()

    # ----------------------------------------------------------------- the loop
    def events(self) -> Iterator[Event]:
        """Build the session, then run commands and training until `stop()` or `abort()`."""
        with self._lock:   # commands queued before the loop began do not interrupt its first build
            self._received = self._queued
            self._mirror_is_set()
        yield from self._build_first()
        yield "state", self.state
        while not self._stop.is_set():
            for name, arg in self._receive(self._timeout()):
                if name == "stop" or self._stop.is_set():
                    return
                if self.session is not None or name not in self.NEED_SESSION:
                    yield from self._handlers[name](arg)
            if self.state == PLAYING and time.perf_counter() >= self._next_step_at:
                yield from self._train_one()
            if self.outbox.due(time.perf_counter()):
                yield from self._send(force=self.state != PLAYING)

    def _receive(self, timeout: float | None) -> list[tuple[str, Any]]:
        """The queued commands, in order, back-to-back `apply`s merged (see `_coalesce`)."""
        commands = _drain(self._commands, timeout)
        if commands:
            with self._lock:
                self._received = commands[-1][0]
                self._mirror_is_set()
        return _coalesce([(name, arg) for _, name, arg in commands])

    def _timeout(self) -> float | None:
        """How long to wait for a command: until the next step is due, or a batch may go out."""
        now = time.perf_counter()
        timeout = None
        if self.state == PLAYING:
            timeout = 0.0 if self._speed == 0 else max(0.0, self._next_step_at - now)
        wait = self.outbox.wait(now)
        if wait is not None:
            timeout = wait if timeout is None else min(timeout, wait)
        return timeout

    def _build_first(self) -> Iterator[Event]:
        built = yield from self._build(self._settings)
        if built:
            yield "restarted", self._warm(self.session.snapshot())
        elif built is False:
            # keep answering commands so the app stays usable; apply() may fix the settings
            yield "state", PAUSED

    def _build(self, settings: Settings) -> Iterator[Event]:
        """Build the session for `settings`: True if built, None if a newer command cancelled it,
        False if it failed (an "error" event says why: never a traceback)."""
        from rnnviz.engine import Cancelled  # the factory loaded the engine

        try:
            self.session = self._factory(settings, self)
        except Cancelled:
            return None
        except Exception as exc:  # a bad engine or settings
            log.debug("session construction failed", exc_info=True)
            yield "error", TrainingError(f"Could not build the model: {exc}")
            return False
        return True

    def _train_one(self) -> Iterator[Event]:
        """One step; at full speed, steps back to back until a command is queued or a batch can
        go out (the loop's bookkeeping between two steps, a timeout and a drained queue, cost
        several µs a step, a few per cent at default settings)."""
        while True:
            snap = yield from self._call(self.session.step)
            if snap is CANCELLED:          # a reset, rebuild or stop is waiting in the queue
                return
            if snap is None:               # the engine raised; already reported
                self.state = PAUSED
                yield "state", self.state
                return
            self.outbox.add(snap)
            if self._speed > 0:
                interval = 1.0 / self._speed
                self._next_step_at = max(self._next_step_at + interval, time.perf_counter() - interval)
            if snap.diverged:
                self.state = DIVERGED
                yield from self._send(force=True)
                yield "state", self.state
                return
            if self._speed > 0 or not self._commands.empty() or \
                    (self.outbox.due(time.perf_counter()) and not self.outbox.busy()):
                return

    # ----------------------------------------------------------------- one method per command
    def _on_play(self, _arg) -> Iterator[Event]:
        if self.state != DIVERGED:
            self.state = PLAYING
            self._next_step_at = time.perf_counter()
        self._answer_taken.clear()
        yield "state", self.state
        if self.state == PLAYING and self._answer_wait > 0:   # training is about to take the GIL:
            self._answer_taken.wait(self._answer_wait)           # the answer goes first

    def _on_pause(self, _arg) -> Iterator[Event]:
        if self.state == PLAYING:
            self.state = PAUSED
        yield "state", self.state           # the answer first; where training stopped follows at once
        yield from self._send(force=True)

    def _on_step(self, _arg) -> Iterator[Event]:
        if self.state == PLAYING:
            self.state = PAUSED
        if self.state != DIVERGED:
            snap = yield from self._call(self.session.step)
            if snap is not None and snap is not CANCELLED:
                self.outbox.add(snap)
                self.state = DIVERGED if snap.diverged else PAUSED
        yield from self._send(force=True)
        yield "state", self.state

    def _on_reset(self, _arg) -> Iterator[Event]:
        if self.session is None:   # none was built (a Reset interrupted the first build, or it failed)
            yield from self._build_first()
            yield "state", self.state
            return
        # The run is about to be discarded and its curves cleared: drawing its unsent snapshots
        # first would only compete with the rebuild for the GIL.
        self.outbox.discard()
        snap = yield from self._call(self.session.reset)
        if snap is CANCELLED:
            return
        self.state = PAUSED
        if snap is not None:
            yield "restarted", self._warm(snap)
        yield "state", self.state

    def _on_apply(self, arg: tuple[Settings, bool]) -> Iterator[Event]:
        settings, restart = arg
        yield from self._send(force=True)   # the old run's snapshots go out before it changes
        if (yield from self._apply(settings, restart)):
            self.outbox.discard()
            yield "restarted", self._warm(self.session.snapshot())
            if self.state == DIVERGED:
                self.state = PAUSED
            yield "state", self.state

    def _on_speed(self, speed: float) -> Iterable[Event]:
        self._speed = max(0.0, speed)
        self._next_step_at = time.perf_counter()
        return ()

    def _on_emit_rate(self, rate: float) -> Iterable[Event]:
        self.outbox.interval = 1.0 / min(max(rate, 1.0), MAX_EMIT_RATE)
        return ()

    def _on_inspect(self, _arg) -> Iterator[Event]:
        yield from self._send(force=True)   # the views show the run up to the inspected batch
        inspection = yield from self._call(self.session.inspect)
        if inspection is not None and inspection is not CANCELLED:
            yield "inspected", inspection

    # ----------------------------------------------------------------- helpers
    def _send(self, force: bool) -> Iterator[Event]:
        batch = self.outbox.take(force)
        if batch:
            yield "snapshots", batch[:-1] + (self._warm_within_budget(batch[-1], always=force),)

    def _warm_within_budget(self, snapshot, always: bool = False):
        """The snapshot with its spectrum, computed here at most `WARM_RATE` times a second, and
        less often if that would take more than `WARM_SHARE` of the time (a large H); else as it is.
        `always`: a batch sent on pause, step or divergence, whose snapshot stays on screen."""
        now = time.perf_counter()
        if now < self._next_warm and not always:
            return snapshot
        snapshot = self._warm(snapshot)
        cost = time.perf_counter() - now
        self._next_warm = now + max(cost / WARM_SHARE, 1.0 / WARM_RATE)
        return snapshot

    @staticmethod
    def _warm(snapshot):
        """The snapshot with its spectrum computed here, in the worker, not in the GUI thread."""
        try:
            return snapshot.with_spectrum()
        except Exception:  # a view will show NaN; the training loop must not stop for it
            log.debug("spectrum failed", exc_info=True)
            return snapshot

    def _call(self, method) -> Iterator[Event]:
        """Run a session method with the interrupt flag as `cancel`. Returns its result, CANCELLED
        if a newer command interrupted it, or None after yielding an "error" event."""
        from rnnviz.engine import (
            Cancelled,  # the engine is loaded by now, in this thread
        )

        try:
            return method(cancel=self)
        except Cancelled:
            return CANCELLED
        except Exception as exc:
            log.debug("training call failed", exc_info=True)
            yield "error", TrainingError(f"Training stopped: {type(exc).__name__}: {exc}")
            return None

    def _apply(self, settings: Settings, restart: bool) -> Iterator[Event]:
        """Adopt `settings` in the session (build one if there is none); True if a new run began."""
        from rnnviz.engine import Cancelled

        if self.session is None:
            if not (yield from self._build(settings)):
                return False
            self._settings = settings
            return True

        old = self.session.settings
        try:
            restarted = self.session.apply(settings, cancel=self)
            if restart and not restarted:
                self.session.reset(cancel=self)
                restarted = True
        except Cancelled:            # a newer command is waiting; the session kept its run
            return False
        except Exception as exc:
            log.debug("apply failed", exc_info=True)
            yield "error", TrainingError(f"Could not apply the settings: {exc}")
            try:
                self.session.apply(old)
            except Exception:
                log.debug("restoring the old settings failed too", exc_info=True)
            return True
        self._settings = settings
        return restarted


def _drain(commands: queue.SimpleQueue, timeout: float | None) -> list:
    """Every queued command, waiting up to `timeout` seconds (None: forever) for the first one."""
    out = []
    try:
        out.append(commands.get(timeout=timeout) if timeout != 0 else commands.get_nowait())
    except queue.Empty:
        return out
    while True:
        try:
            out.append(commands.get_nowait())
        except queue.Empty:
            return out


def _coalesce(commands: list) -> list:
    """Merge each run of back-to-back `apply` commands (a spin box held down sends many) into its
    last one, which restarts the run if any of them asked to. Other commands keep their order."""
    out: list = []
    for name, arg in commands:
        if name == "apply" and out and out[-1][0] == "apply":
            out[-1] = ("apply", (arg[0], arg[1] or out[-1][1][1]))
        else:
            out.append((name, arg))
    return out


