"""The app's training loop in a process of its own (no Qt).

`RemoteTrainer` has the interface of `rnnviz.trainer.Trainer` (its commands and `events()`), for a
`Trainer` that runs in a process of its own: commands go down one pipe and are handed to the loop
by a thread there; the loop's events come up another pipe (`send`: pickled, each array's bytes
written from the array itself; a batch of snapshots packed per field, `pack_snapshots`) and
`events()` yields them here, in order, their arrays read-only as they were made.

A process, not a thread of the app: the training loop runs Python between its compiled passes, and
on a thread it took turns with the GUI thread for Python's GIL, every time the window painted or
answered an event. At default settings (about 3,000 iterations a second, quiet machine, interleaved
runs) the window trained at 0.76-0.82 of the rate of the same loop alone on a thread, and at
0.93-0.95 with the loop in a process of its own.

The process is a fresh interpreter (spawned), started when `events()` is first iterated, on the
caller's thread (the app's worker thread, once the window has painted its first frame). It loads
only the engine and the kernels of the run it trains (`rnnviz.engine_warm_up.warm_up`, without
SciPy): forked from the sweeps' worker server instead, it waited for the server to read every
architecture's kernels, and the first iteration came 0.1-0.2 s later. Commands sent before the
process runs wait in the pipe. It ends when the loop does (`stop`, `abort`), when the app's process
is gone, or, if it does not end within `KILL_AFTER_S` of `abort`, killed. If it ends any other
way, `events()` raises `TrainingError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np

from rnnviz.engine_warm_up import warm_up
from rnnviz.errors import TrainingError
from rnnviz.settings import Settings
from rnnviz.trainer import Event, Trainer
from rnnviz.worker_processes import start_worker, widen_pipe

log = logging.getLogger(__name__)

#: The commands the loop's process accepts: `Trainer`'s methods of these names.
COMMANDS = frozenset({"play", "pause", "step", "reset", "apply", "set_speed", "set_emit_rate", "inspect",
                      "stop", "abort", "ack"})
#: How long the process's own threads may hold its GIL while another waits (s): the thread that takes
#: commands gets its turn within this of a command's arrival, and a reset interrupts the step under
#: way at its next time step (Python's default is 0.005).
SWITCH_INTERVAL_S = 0.001
#: Seconds after `abort` before a process that has not ended is killed (a step checks the stop flag
#: between time steps, so only a hung engine gets here).
KILL_AFTER_S = 5.0
#: Seconds between looks at a pending kill while no event arrives.
POLL_SECONDS = 0.1


class RemoteTrainer:
    """A `Trainer` in a process of its own (see the module doc). Command methods may be called from
    any thread before and while `events()` runs; `events()` runs on one thread, once."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings or Settings()
        self._their_commands, self._commands = multiprocessing.Pipe(duplex=False)
        self._events, self._their_events = multiprocessing.Pipe(duplex=False)
        widen_pipe(self._events)   # a batch of snapshots at default settings takes ~450 KB
        widen_pipe(self._their_commands)   # commands sent while the process starts wait there
        self._send_lock = threading.Lock()
        self._process = None
        self._stopping = False     # stop() or abort() was sent: the process's end is expected
        self._aborted_at: float | None = None

    @property
    def pid(self) -> int | None:
        """The process's id once it has started."""
        return None if self._process is None else self._process.pid

    # ----------------------------------------------------------------- commands (any thread)
    def _send(self, name: str, *args: Any) -> None:
        try:
            with self._send_lock:
                self._commands.send((name, args))
        except OSError:   # the process has ended; events() says why
            log.debug("command %r not sent: the training process has ended", name, exc_info=True)

    def play(self) -> None:
        self._send("play")

    def pause(self) -> None:
        self._send("pause")

    def step(self) -> None:
        self._send("step")

    def reset(self) -> None:
        self._send("reset")

    def apply(self, settings: Settings, restart: bool = False) -> None:
        self._send("apply", settings, restart)

    def set_speed(self, iterations_per_second: float) -> None:
        self._send("set_speed", float(iterations_per_second))

    def set_emit_rate(self, batches_per_second: float) -> None:
        self._send("set_emit_rate", float(batches_per_second))

    def inspect(self) -> None:
        self._send("inspect")

    def stop(self) -> None:
        self._stopping = True
        self._send("stop")

    def abort(self) -> None:
        self._stopping = True
        if self._aborted_at is None:
            self._aborted_at = time.monotonic()
        self._send("abort")

    def ack(self) -> None:
        self._send("ack")

    def answer_taken(self) -> None:
        """Nothing to do: the loop waits for the GUI's answer only where they share a GIL."""

    # ----------------------------------------------------------------- the loop's events
    def events(self) -> Iterator[Event]:
        """Start the process, then yield its loop's events until it ends. Raises `TrainingError` if
        it could not start, if its loop failed, or if it ended without being asked to. However this
        ends (the caller may also close the generator), the process is ended and reaped."""
        if self._aborted_at is not None:    # aborted before it started: nothing to start
            self._their_commands.close()
            self._their_events.close()
            self._close()
            return
        self._process = multiprocessing.get_context("spawn").Process(
            target=serve, name="rnnviz-training", daemon=True,
            args=(self._settings, self._their_commands, self._their_events, os.getpid()))
        try:
            with _interrupts_held():
                self._process.start()
        except Exception as exc:   # no process, no training: the window says so and stays usable
            log.debug("the training process did not start", exc_info=True)
            self._close()
            raise TrainingError(f"the training process could not start: {type(exc).__name__}: {exc}") from exc
        finally:   # the process holds its own ends now (or never will)
            self._their_commands.close()
            self._their_events.close()
        # The snapshots' module (it loads the engine, ~0.25 s of CPU) is loaded now, while the
        # process loads its own, not when the first snapshot arrives (that delayed the first run
        # by as much).
        import rnnviz.session  # noqa: F401

        try:
            yield from self._relay()
            asked = self._stopping
        finally:
            self._end()
        if not asked:
            raise TrainingError(f"the training process ended unexpectedly (exit code {self._process.exitcode})")

    def _relay(self) -> Iterator[Event]:
        """The process's events, in order, until it ends; a process that has not ended
        `KILL_AFTER_S` after `abort` is killed."""
        while True:
            if self._aborted_at is not None and time.monotonic() - self._aborted_at > KILL_AFTER_S:
                self._process.kill()
            if not self._events.poll(POLL_SECONDS):
                continue
            try:
                kind, payload = receive(self._events)
            except EOFError:           # the process has ended
                return
            if kind == "crashed":
                message, trace = payload
                log.debug("the training loop failed:\n%s", trace)
                raise TrainingError(message)
            yield kind, unpack_snapshots(payload) if kind == "snapshots" else payload

    def _end(self) -> None:
        """End the process (asked first, killed if it does not end within `KILL_AFTER_S`), reap
        it and close this side's pipes."""
        if self._process.is_alive():
            self.abort()
            self._process.join(KILL_AFTER_S)
            if self._process.is_alive():
                self._process.kill()
        self._process.join()
        self._close()

    def _close(self) -> None:
        self._events.close()
        with self._send_lock:
            self._commands.close()


@contextlib.contextmanager
def _interrupts_held():
    """Ctrl+C (SIGINT) held back in this thread, and so in a process started from it, which then
    ignores it (`serve`): a terminal sends Ctrl+C to every process of the command, and the app
    decides what stops; the new process would otherwise die of it, a traceback, while it starts.
    multiprocessing's resource tracker is started first: starting it unblocks SIGINT in the
    calling thread, which would let the first process started here go without the hold.
    Windows has no signal mask: there a console's Ctrl+C reaches the new process until it ignores
    it (`start_worker`)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


# ----------------------------------------------------------------------------- in the process
def serve(settings: Settings, commands, events, app_pid: int) -> None:
    """The process's work: run a `Trainer`'s loop and send its events up `events`, while a thread
    hands it the commands that come down `commands`. Ends with the loop, or with the app."""
    # Ctrl+C ignored from here on ...; a hang-up too: the app decides (under nohup it lives on), and
    # this process ends with it (the commands' pipe closes, and start_worker's watch).
    start_worker(app_pid, end_on_hangup=False)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})   # ... so no longer held back
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    from threadpoolctl import threadpool_limits

    try:   # the engine and the kernels this run trains, read without SciPy (see there) ...
        warm_up([settings.arch])
    except Exception:   # the loop's first build says why in the window
        log.debug("the engine did not load", exc_info=True)
    gc.freeze()   # ... then their ~100 000 objects are moved out of the collector's sight: they live
    # as long as the process, and a full collection that scanned them took 25 ms (a click's
    # answer waited for it)
    trainer = Trainer(settings, answer_wait=0.0)
    threading.Thread(target=_take_commands, args=(trainer, commands), name="rnnviz-commands", daemon=True).start()
    try:
        with threadpool_limits(limits=1):      # two cores are shared with the window
            for kind, payload in trainer.events():
                send(events, (kind, pack_snapshots(payload) if kind == "snapshots" else payload))
    except Exception as exc:   # a bug in the loop: the app says so in one line (its log gets the trace)
        log.debug("the training loop failed", exc_info=True)
        try:
            send(events, ("crashed", (f"{type(exc).__name__}: {exc}", traceback.format_exc())))
        except OSError:        # the app has gone
            pass


def send(connection, message: Any) -> None:
    """Send `message` pickled, its arrays' bytes as they lie in memory: a count and the pickle
    (arrays left out), then each array's bytes, written to the pipe from the array itself."""
    buffers: list = []
    data = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    connection.send_bytes(len(buffers).to_bytes(4, "little") + data)
    for buffer in buffers:
        connection.send_bytes(buffer.raw())


def receive(connection) -> Any:
    """The next message `send` sent; its arrays are read-only (they lie in the bytes received)."""
    data = connection.recv_bytes()
    buffers = [connection.recv_bytes() for _ in range(int.from_bytes(data[:4], "little"))]
    return pickle.loads(memoryview(data)[4:], buffers=buffers)


def pack_snapshots(batch: tuple) -> tuple:
    """A batch of snapshots (dataclasses of one type) as its columns: per field, one array of the
    batch's values where they are arrays of one shape and type (stacked), else a list of them. At
    default settings a batch of 50 snapshots pickled in 0.6 ms as they are: 50 objects and 200
    small arrays, paid for by the training process at 60 batches a second."""
    kind = type(batch[0])
    return kind, len(batch), {field.name: _column([getattr(s, field.name) for s in batch])
                              for field in dataclasses.fields(kind)}


def _column(values: list) -> Any:
    first = values[0]
    if isinstance(first, np.ndarray) and all(
            isinstance(v, np.ndarray) and v.shape == first.shape and v.dtype == first.dtype for v in values):
        return np.stack(values)
    return values


def unpack_snapshots(packed: tuple) -> tuple:
    """The batch `pack_snapshots` packed (a stacked column's rows are views of it)."""
    kind, count, columns = packed
    return tuple(kind(**{name: column[i] for name, column in columns.items()}) for i in range(count))


def _take_commands(trainer: Trainer, commands) -> None:
    """Hand each command that arrives to `trainer`; abort it once the app's end of the pipe closes."""
    while True:
        try:
            name, args = commands.recv()
        except (EOFError, OSError):
            trainer.abort()
            return
        # One bad command must not end this thread: the loop could no longer be stopped.
        except Exception:
            log.warning("a training command could not be read", exc_info=True)
            continue
        try:
            if name not in COMMANDS:
                raise ValueError(f"unknown training command {name!r}")
            getattr(trainer, name)(*args)
        except Exception:
            log.warning("training command %r failed", name, exc_info=True)
