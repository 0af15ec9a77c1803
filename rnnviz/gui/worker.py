"""Training off the GUI thread.

`Trainer` is the training loop as a plain generator (no Qt): commands go in through a thread-safe
queue, events come out as ``(kind, payload)`` pairs. `TrainingWorker` is the thin Qt wrapper (the
idea of superqt's generator workers, cut down to what rnnviz needs): it runs the generator in a
QThread with BLAS limited to one thread and turns each event into a signal.

Only immutable `Snapshot` and `Inspection` objects cross threads. Snapshots are coalesced: they are
collected and sent together at most `MAX_EMIT_RATE` times a second (or the lower rate the window
asks for with `set_emit_rate`), and not at all while the GUI still has `MAX_IN_FLIGHT` batches to
draw, however fast training runs.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

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
#: Seconds `TrainingWorker.stop` waits for the current iteration to finish.
STOP_TIMEOUT = 10.0

PLAYING, PAUSED, DIVERGED = "playing", "paused", "diverged"

#: Workers whose thread outlived `stop`'s timeout, kept referenced until their thread finishes.
_STRAGGLERS: set = set()


def _default_session_factory(settings: Settings):
    from rnnviz.session import Session  # imports the engine; done in the worker thread

    return Session(settings)


class Trainer:
    """Steps a `Session` on command. Knows nothing about Qt; `events()` is the whole loop.

    Commands (thread-safe, from any thread): play, pause, step, reset, apply, set_speed,
    set_emit_rate, inspect, stop.
    Events yielded by `events()`:
        ("restarted", Snapshot)        a new run began (build, rebuild or reset)
        ("snapshots", tuple)           every snapshot since the previous such event, oldest first
        ("state", str)                 "playing" | "paused" | "diverged" (also repeated to acknowledge)
        ("inspected", Inspection)      the answer to inspect()
        ("error", str)                 a message for the user
    """

    def __init__(self, settings: Settings | None = None,
                 session_factory: Callable[[Settings], Any] = _default_session_factory, *,
                 max_emit_rate: float = MAX_EMIT_RATE, max_in_flight: int | None = MAX_IN_FLIGHT) -> None:
        self._settings = settings or Settings()
        self._factory = session_factory
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._emit_interval = 1.0 / max_emit_rate
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._lock = threading.Lock()
        self.session = None  # owned by the thread running events(); read it only from there
        self._next_warm = 0.0

    # ----------------------------------------------------------------- commands (any thread)
    def play(self) -> None:
        self._commands.put(("play", None))

    def pause(self) -> None:
        self._commands.put(("pause", None))

    def step(self) -> None:
        self._commands.put(("step", None))

    def reset(self) -> None:
        self._commands.put(("reset", None))

    def apply(self, settings: Settings, restart: bool = False) -> None:
        """Adopt `settings`: live fields apply mid-run, structural ones (or `restart`) start a new run."""
        self._commands.put(("apply", (settings, restart)))

    def set_speed(self, iterations_per_second: float) -> None:
        """Target training rate; 0 means as fast as possible."""
        self._commands.put(("speed", float(iterations_per_second)))

    def set_emit_rate(self, batches_per_second: float) -> None:
        """Send batches of snapshots at most this often (the rate the views can use)."""
        self._commands.put(("emit_rate", float(batches_per_second)))

    def inspect(self) -> None:
        self._commands.put(("inspect", None))

    def stop(self) -> None:
        self._commands.put(("stop", None))

    def ack(self) -> None:
        """The GUI has drawn one batch of snapshots (call once per "snapshots" event received)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    # ----------------------------------------------------------------- the loop
    def events(self) -> Iterator[tuple[str, Any]]:
        try:
            self.session = self._factory(self._settings)
        except Exception as exc:  # a bad engine or settings: tell the user, never a traceback
            log.debug("session construction failed", exc_info=True)
            yield "error", f"Could not build the model: {exc}"
            yield "state", PAUSED
            # Keep answering commands so the app stays usable; apply() may fix the settings.
        state = PAUSED
        speed = 0.0
        pending: list = []
        last_emit = time.perf_counter()
        next_step_at = last_emit
        if self.session is not None:
            yield "restarted", _warm(self.session.snapshot())
        yield "state", state

        def flush(force: bool):
            nonlocal pending, last_emit
            if not pending:
                return None
            with self._lock:
                if not force and self._max_in_flight is not None and self._in_flight >= self._max_in_flight:
                    return None
                self._in_flight += 1
            batch, pending = tuple(pending), []
            self._warm_within_budget(batch[-1], always=force)
            last_emit = time.perf_counter()
            return "snapshots", batch

        while True:
            now = time.perf_counter()
            if state == PLAYING:
                timeout = 0.0 if speed == 0 else max(0.0, next_step_at - now)
            else:
                timeout = None
            if pending:
                if self._gui_busy():  # poll for the GUI's ack at the display rate, never spin
                    until_flush = self._emit_interval
                else:
                    until_flush = max(0.0, last_emit + self._emit_interval - now)
                timeout = until_flush if timeout is None else min(timeout, until_flush)
            commands = _coalesce(_drain(self._commands, timeout))

            for name, arg in commands:
                if name == "stop":
                    return
                if name == "reset":
                    # The run is about to be discarded and its curves cleared: drawing its unsent
                    # snapshots first would only compete with the rebuild for the GIL.
                    pending = []
                elif name == "apply" or (name == "inspect" and pending):
                    # The old run's snapshots go out before anything that changes or reads the run.
                    event = flush(force=True)
                    if event:
                        yield event
                if self.session is None and name not in ("apply", "speed", "emit_rate"):
                    continue
                if name == "play":
                    if state != DIVERGED:
                        state = PLAYING
                        next_step_at = time.perf_counter()
                    yield "state", state
                elif name == "pause":
                    if state == PLAYING:
                        state = PAUSED
                    event = flush(force=True)
                    if event:
                        yield event
                    yield "state", state
                elif name == "step":
                    if state == PLAYING:
                        state = PAUSED
                    if state != DIVERGED:
                        snap = yield from self._guarded(self.session.step)
                        if snap is not None:
                            pending.append(snap)
                            state = DIVERGED if snap.diverged else PAUSED
                    event = flush(force=True)
                    if event:
                        yield event
                    yield "state", state
                elif name == "reset":
                    snap = yield from self._guarded(self.session.reset)
                    state = PAUSED
                    if snap is not None:
                        yield "restarted", _warm(snap)
                    yield "state", state
                elif name == "apply":
                    settings, restart = arg
                    restarted = yield from self._apply(settings, restart)
                    if restarted:
                        pending = []
                        yield "restarted", _warm(self.session.snapshot())
                        if state == DIVERGED:
                            state = PAUSED
                        yield "state", state
                elif name == "speed":
                    speed = max(0.0, arg)
                    next_step_at = time.perf_counter()
                elif name == "emit_rate":
                    self._emit_interval = 1.0 / min(max(arg, 1.0), MAX_EMIT_RATE)
                elif name == "inspect":
                    inspection = yield from self._guarded(self.session.inspect)
                    if inspection is not None:
                        yield "inspected", inspection

            if state == PLAYING and time.perf_counter() >= next_step_at:
                snap = yield from self._guarded(self.session.step)
                if snap is None:  # the engine raised; already reported
                    state = PAUSED
                    yield "state", state
                    continue
                pending.append(snap)
                if len(pending) > MAX_PENDING:
                    del pending[: len(pending) - MAX_PENDING]
                if speed > 0:
                    interval = 1.0 / speed
                    next_step_at = max(next_step_at + interval, time.perf_counter() - interval)
                if snap.diverged:
                    state = DIVERGED
                    event = flush(force=True)
                    if event:
                        yield event
                    yield "state", state
                    continue
            if pending and time.perf_counter() - last_emit >= self._emit_interval:
                event = flush(force=state != PLAYING)
                if event:
                    yield event

    def _warm_within_budget(self, snapshot, always: bool = False) -> None:
        """Compute the spectrum of a batch's newest snapshot here, at most `WARM_RATE` times a
        second, and less often if that would take more than `WARM_SHARE` of the time (a large H).
        `always`: a batch sent on pause, step or divergence, whose snapshot stays on screen."""
        now = time.perf_counter()
        if now < self._next_warm and not always:
            return
        _warm(snapshot)
        cost = time.perf_counter() - now
        self._next_warm = now + max(cost / WARM_SHARE, 1.0 / WARM_RATE)

    def _gui_busy(self) -> bool:
        with self._lock:
            return self._max_in_flight is not None and self._in_flight >= self._max_in_flight

    def _guarded(self, call):
        """Run a session call; an exception becomes an "error" event (and None) instead of a crash."""
        try:
            return call()
        except Exception as exc:
            log.debug("training call failed", exc_info=True)
            yield "error", f"Training stopped: {type(exc).__name__}: {exc}"
            return None

    def _apply(self, settings: Settings, restart: bool):
        if self.session is None:
            try:
                self.session = self._factory(settings)
            except Exception as exc:
                log.debug("session construction failed", exc_info=True)
                yield "error", f"Could not build the model: {exc}"
                return False
            self._settings = settings
            return True
        old = self.session.settings
        try:
            restarted = self.session.apply(settings)
            if restart and not restarted:
                self.session.reset()
                restarted = True
        except Exception as exc:
            log.debug("apply failed", exc_info=True)
            yield "error", f"Could not apply the settings: {exc}"
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


def _warm(snapshot):
    """Compute a snapshot's spectrum here, in the worker, not in the GUI thread; returns it."""
    try:
        snapshot.compute_spectrum()
    except Exception:  # a view will show NaN; the training loop must not stop for it
        log.debug("spectrum failed", exc_info=True)
    return snapshot


def spectrum_ready(snapshot) -> bool:
    """True if the snapshot's eigenvalues and σ_max are already computed (reading them is free)."""
    cached = vars(snapshot)
    return "eigenvalues" in cached and "max_singular" in cached


def newest_with_spectrum(snapshots):
    """The batch's newest snapshot if the worker computed its spectrum, else None. The worker only
    ever computes it for a batch's newest snapshot (at most `WARM_RATE` times a second)."""
    if snapshots and spectrum_ready(snapshots[-1]):
        return snapshots[-1]
    return None


class TrainingWorker(QObject):
    """Runs a `Trainer` in its own QThread and re-emits its events as signals (see the module doc).

    Command methods are safe to call from the GUI thread; they only queue the command.
    """

    snapshots = Signal(object)       # tuple[Snapshot, ...], oldest first
    restarted = Signal(object)       # Snapshot of the new run's iteration 0
    inspected = Signal(object)       # Inspection
    state_changed = Signal(str)      # "playing" | "paused" | "diverged"
    error = Signal(str)

    def __init__(self, settings: Settings | None = None,
                 session_factory: Callable[[Settings], Any] = _default_session_factory,
                 *, limit_blas: bool = True) -> None:
        super().__init__()  # no parent: the object lives in its own thread
        self.trainer = Trainer(settings, session_factory)
        self._limit_blas = limit_blas
        self._thread = QThread()
        self._thread.setObjectName("trainingThread")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)
        self._stopped = False

    def start(self) -> None:
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    # Commands: forward to the trainer's queue.
    def play(self) -> None:
        self.trainer.play()

    def pause(self) -> None:
        self.trainer.pause()

    def step(self) -> None:
        self.trainer.step()

    def reset(self) -> None:
        self.trainer.reset()

    def apply(self, settings: Settings, restart: bool = False) -> None:
        self.trainer.apply(settings, restart)

    def set_speed(self, iterations_per_second: float) -> None:
        self.trainer.set_speed(iterations_per_second)

    def inspect(self) -> None:
        self.trainer.inspect()

    def set_emit_rate(self, batches_per_second: float) -> None:
        self.trainer.set_emit_rate(batches_per_second)

    def ack(self) -> None:
        self.trainer.ack()

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Ask the loop to end after the current iteration and wait for the thread. True if it ended."""
        self._stopped = True
        self.trainer.stop()
        if not self._thread.isRunning():
            return True
        if self._thread.wait(int(timeout * 1000)):
            return True
        # Still inside a long iteration: keep this object (and its QThread) alive until the thread
        # ends, since destroying a running QThread aborts the process.
        _STRAGGLERS.add(self)
        self._thread.finished.connect(lambda: _STRAGGLERS.discard(self))
        return False

    @Slot()
    def _run(self) -> None:
        try:
            if self._limit_blas:
                from threadpoolctl import threadpool_limits

                with threadpool_limits(limits=1):
                    self._loop()
            else:
                self._loop()
        finally:
            # Hand the object back to the GUI thread, so it is deleted there after this thread ends.
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            self._thread.quit()

    def _loop(self) -> None:
        signals = {"snapshots": self.snapshots, "restarted": self.restarted, "inspected": self.inspected,
                   "state": self.state_changed, "error": self.error}
        try:
            for kind, payload in self.trainer.events():
                signals[kind].emit(payload)
        except Exception as exc:  # a bug in the loop itself: report it, end the thread quietly
            log.exception("training worker crashed")
            self.error.emit(f"The training thread stopped: {exc}")
