"""The app's training loop in a process of its own (rnnviz.training_process): what crosses the pipe
arrives whole and immutable, commands reach the loop, and an ended process is reported, not hidden."""

import dataclasses
import math
import multiprocessing
import os
import signal
import threading

import numpy as np
import pytest

from rnnviz.errors import TrainingError
from rnnviz.session import Session
from rnnviz.settings import Settings
from rnnviz.training_process import (
    RemoteTrainer,
    pack_snapshots,
    receive,
    send,
    unpack_snapshots,
)

SMALL = Settings(hidden=6, lag=3, batch=4)


def same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def test_a_batch_crosses_the_pipe_field_for_field_and_read_only():
    session = Session(Settings(hidden=5, lag=4, batch=3))
    batch = tuple(session.step() for _ in range(6))
    batch = batch[:-1] + (batch[-1].with_spectrum(),)          # as the loop sends it: the newest warmed
    reader, writer = multiprocessing.Pipe(duplex=False)
    send(writer, ("snapshots", pack_snapshots(batch)))
    kind, packed = receive(reader)
    out = unpack_snapshots(packed)
    assert kind == "snapshots" and len(out) == len(batch)
    for before, after in zip(batch, out):
        assert same(before, after)
        arrays = [getattr(after, f.name) for f in dataclasses.fields(after)]
        arrays += [after.spectrum.eigenvalues] if after.spectrum is not None else []
        for array in arrays:
            if isinstance(array, np.ndarray):
                assert not array.flags.writeable
    assert out[-1].spectrum is not None and all(s.spectrum is None for s in out[:-1])


def test_a_batch_whose_arrays_differ_in_shape_keeps_them_apart():
    """A run rebuilt at another length between two snapshots of one batch cannot be stacked."""
    a = Session(Settings(hidden=4, lag=3, batch=2)).step()
    b = Session(Settings(hidden=4, lag=6, batch=2)).step()
    out = unpack_snapshots(pack_snapshots((a, b)))
    assert same(out[0], a) and same(out[1], b)


def collect(trainer: RemoteTrainer, until) -> list:
    events = []
    for event in trainer.events():
        events.append(event)
        if until(events):
            trainer.abort()
    return events


def test_commands_reach_the_loop_in_its_process_and_its_events_come_back():
    trainer = RemoteTrainer(SMALL)
    for _ in range(3):
        trainer.step()
    events = collect(trainer, lambda ev: sum(len(p) for k, p in ev if k == "snapshots") >= 3)
    kinds = [k for k, _ in events]
    assert kinds[0] == "restarted" and events[0][1].iteration == 0 and events[0][1].settings == SMALL
    its = [s.iteration for k, p in events if k == "snapshots" for s in p]
    assert its == [1, 2, 3]
    assert trainer._process.pid != os.getpid() and trainer._process.exitcode == 0   # ended by abort


def test_a_reset_while_playing_starts_a_new_run():
    """Reset reaches the loop while it trains (the command thread in its process hands it over)."""
    trainer = RemoteTrainer(SMALL)
    trainer.set_speed(0)
    trainer.play()
    started = threading.Event()

    def reset_once_playing(events):
        if ("state", "playing") in events and not started.is_set():
            started.set()
            trainer.reset()
        return sum(k == "restarted" for k, _ in events) == 2

    events = collect(trainer, reset_once_playing)
    restarts = [p for k, p in events if k == "restarted"]
    assert restarts[1].run == restarts[0].run + 1 and restarts[1].iteration == 0


def test_a_killed_process_is_reported_not_waited_for():
    trainer = RemoteTrainer(SMALL)
    events = trainer.events()
    assert next(events)[0] == "restarted"
    os.kill(trainer._process.pid, signal.SIGKILL)
    with pytest.raises(TrainingError, match="ended unexpectedly.*-9"):
        for _ in events:
            pass


def test_a_process_that_does_not_end_after_abort_is_killed(monkeypatch):
    import rnnviz.training_process as module

    monkeypatch.setattr(module, "KILL_AFTER_S", 0.2)
    trainer = RemoteTrainer(SMALL)
    events = trainer.events()
    assert next(events)[0] == "restarted"
    os.kill(trainer._process.pid, signal.SIGSTOP)       # hung: it cannot take the abort
    trainer.abort()
    assert {kind for kind, _ in events} <= {"state"}    # ends, no error: the app asked it to stop
    assert trainer._process.exitcode == -signal.SIGKILL


def test_stop_ends_the_process_after_the_commands_before_it():
    trainer = RemoteTrainer(SMALL)
    trainer.step()
    trainer.step()
    trainer.stop()
    events = list(trainer.events())           # ends without an error
    assert [s.iteration for k, p in events if k == "snapshots" for s in p] == [1, 2]
    assert trainer._process.exitcode == 0


def test_an_abort_before_the_start_starts_nothing():
    trainer = RemoteTrainer(SMALL)
    trainer.abort()
    assert list(trainer.events()) == [] and trainer.pid is None
    trainer.step()                         # dropped: the pipe is closed


def test_commands_after_the_process_ended_are_dropped_quietly():
    trainer = RemoteTrainer(SMALL)
    trainer.stop()
    list(trainer.events())                 # the loop took the stop and its process ended
    assert trainer._process.exitcode == 0
    for _ in range(1000):                  # more than the pipe holds, were they kept: none blocks
        trainer.apply(SMALL, restart=True)


def test_an_inspection_crosses_whole_and_read_only():
    """The stepper's pass, from the other process, equals the same pass made here (same seed)."""
    trainer = RemoteTrainer(SMALL)
    trainer.step()
    trainer.step()
    trainer.inspect()
    events = collect(trainer, lambda ev: any(k == "inspected" for k, _ in ev))
    remote = next(p for k, p in events if k == "inspected")
    session = Session(SMALL)
    session.step()
    session.step()
    local = session.inspect()
    assert same(remote, local)
    assert not remote.x.flags.writeable and not remote.params["W_H"].flags.writeable


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the signal mask from /proc")
def test_the_first_process_started_holds_ctrl_c_back_until_it_ignores_it(tmp_path):
    """Starting multiprocessing's resource tracker unblocks SIGINT in the calling thread; a process
    started first in a fresh interpreter must still start with it blocked (then `serve` ignores it)."""
    import subprocess
    import sys

    script = tmp_path / "first_spawn.py"
    script.write_text(
        "import multiprocessing, signal\n"
        "from rnnviz.training_process import _interrupts_held\n"
        "def mask(pipe):\n"
        "    status = open('/proc/self/status').read()\n"
        "    pipe.send(int(status.split('SigBlk:')[1].split()[0], 16))\n"
        "if __name__ == '__main__':\n"
        "    reader, writer = multiprocessing.Pipe(duplex=False)\n"
        "    with _interrupts_held():\n"
        "        child = multiprocessing.get_context('spawn').Process(target=mask, args=(writer,))\n"
        "        child.start()\n"
        "    print(reader.recv() & (1 << (signal.SIGINT - 1)) != 0)\n"
        "    child.join()\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.stdout.strip() == "True", done.stderr


def test_a_process_that_cannot_start_is_an_error_not_a_silent_end(monkeypatch):
    from multiprocessing import context

    def refuse(self):
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(context.SpawnProcess, "start", refuse)
    with pytest.raises(TrainingError, match="could not start.*Too many open files"):
        list(RemoteTrainer(SMALL).events())
