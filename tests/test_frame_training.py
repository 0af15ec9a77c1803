"""FrameTrainer: a recording's training in a worker process gives every frame exactly the iterations
the one-thread loop gave it, stops at a divergence, and hands a stop or an error to the filming
thread; the process ignores Ctrl+C (the filming process handles it) and ends when closed."""

import multiprocessing
import os
import pickle
import signal

import numpy as np
import pytest

from rnnviz.errors import RecordingError
from rnnviz.frame_training import FrameTrainer
from rnnviz.interrupts import Interrupted, StopRequest
from rnnviz.presets import load_preset
from rnnviz.session import Session
from rnnviz.settings import Settings

TINY = Settings(task="recall", lag=4, hidden=6, batch=4)
#: A frame of 10 000 iterations of these takes half an hour (0.13-0.19 s each, one thread).
SLOW = Settings(task="adding", seq_len=500, hidden=256, batch=32)


def one_thread(settings, frames, rate):
    """What the recording did before, in one thread: per frame, the iterations it shows."""
    session, shown = Session(settings), []
    for k in range(1, frames):
        due = int(k * rate) - session.iteration
        shown.append(tuple(session.run(due)) if due > 0 and not session.diverged else ())
    return shown


def same(a, b):
    return (a.iteration, a.loss, a.grad_norm, a.diverged) == (b.iteration, b.loss, b.grad_norm, b.diverged) \
        and np.array_equal(a.contribution_norms, b.contribution_norms) and np.array_equal(a.recurrent, b.recurrent)


def training_process():
    (process,) = [p for p in multiprocessing.active_children() if p.name == "rnnviz-record-training"]
    return process


@pytest.mark.parametrize("rate", [3, 0.4, 2.5])
def test_every_frame_gets_the_iterations_of_the_one_thread_loop(rate):
    frames = 12
    expected = one_thread(TINY, frames, rate)
    with FrameTrainer(TINY, frames, rate, ahead=2) as trainer:
        process = training_process()
        first = trainer.first_snapshot()
        got = [trainer.next_frame() for _ in range(1, frames)]
        with pytest.raises(RuntimeError, match="every frame"):
            trainer.next_frame()
    assert same(first, Session(TINY).snapshot()) and first.iteration == 0
    assert [len(g) for g in got] == [len(e) for e in expected]
    assert all(same(a, b) for g, e in zip(got, expected) for a, b in zip(g, e))
    assert [s for batch in got for s in batch][-1].iteration == int((frames - 1) * rate)
    for batch in got:   # the newest snapshot of a frame carries its spectrum, the others do not
        if batch:
            assert batch[-1].spectrum is not None and all(s.spectrum is None for s in batch[:-1])
    assert trainer.train_cpu_seconds > 0 and not process.is_alive()


def test_training_stops_at_a_divergence():
    settings = load_preset("exploding").settings
    expected = one_thread(settings, 20, 2)
    with FrameTrainer(settings, 20, 2) as trainer:
        got = [trainer.next_frame() for _ in range(19)]
    diverged = [k for k, batch in enumerate(got) if batch and batch[-1].diverged]
    assert len(diverged) == 1 and all(batch == () for batch in got[diverged[0] + 1:])
    assert [len(g) for g in got] == [len(e) for e in expected]


def test_a_stop_request_reaches_the_filming_thread():
    stop = StopRequest()
    with FrameTrainer(TINY, 1000, 5, stop, ahead=1) as trainer:
        trainer.next_frame()
        stop(signal.SIGTERM)                    # what the signal handler does
        with pytest.raises(Interrupted) as caught:
            trainer.next_frame()
    assert caught.value.signum == signal.SIGTERM


def test_ctrl_c_is_left_to_the_filming_process():
    with FrameTrainer(TINY, 6, 1, ahead=1) as trainer:
        trainer.first_snapshot()
        os.kill(training_process().pid, signal.SIGINT)   # as a terminal sends it to the whole group
        assert [len(trainer.next_frame()) for _ in range(5)] == [1] * 5


@pytest.mark.skipif(not hasattr(os, "setsid"), reason="POSIX sessions")
def test_the_training_process_runs_in_a_session_of_its_own():
    """Its own session (on Linux its own scheduler autogroup): the CPU is shared between training and
    the filming process's threads as between two programs, not thread by thread."""
    with FrameTrainer(TINY, 4, 1, ahead=1) as trainer:
        trainer.first_snapshot()
        pid = training_process().pid
        assert os.getsid(pid) == pid != os.getsid(0)
        assert [len(trainer.next_frame()) for _ in range(3)] == [1] * 3


def test_an_error_in_training_is_raised_by_next_frame():
    with FrameTrainer(TINY, 5, float("nan")) as trainer, pytest.raises(ValueError, match="NaN") as caught:
        trainer.next_frame()
    assert "training process" in "".join(caught.value.__notes__)


def test_a_training_process_that_dies_is_an_error_not_a_hang():
    with FrameTrainer(Settings(task="recall", lag=4, hidden=64, seq_len=400), 10, 10_000) as trainer:
        trainer.first_snapshot()
        os.kill(training_process().pid, signal.SIGKILL)
        with pytest.raises(RecordingError, match="ended unexpectedly .killed by SIGKILL"):
            trainer.next_frame()


def test_a_training_process_that_dies_between_frames_is_an_error_not_a_broken_pipe():
    """Frames it sent before it died still arrive; the camera's go-ahead for the next one finds no
    reader (a broken pipe), and the frame after the last one sent says the process ended."""
    with FrameTrainer(TINY, 10, 1, ahead=3) as trainer:
        trainer.first_snapshot()
        assert trainer._inbox.poll(30)          # frame 1 is sent
        process = training_process()
        process.kill()
        process.join()
        with pytest.raises(RecordingError, match="ended unexpectedly .killed by SIGKILL"):
            for _ in range(9):
                trainer.next_frame()


def test_closing_early_ends_the_process_in_the_middle_of_a_frame():
    trainer = FrameTrainer(SLOW, 1000, 10_000)
    trainer.first_snapshot()                   # the process is training frame 1: half an hour of work
    process = training_process()
    assert process.is_alive()
    trainer.close()
    assert not process.is_alive() and multiprocessing.active_children() == []


def test_frames_bigger_than_the_pipe_arrive_whole():
    from threadpoolctl import threadpool_limits

    settings = Settings(task="recall", lag=4, hidden=256, batch=2)     # 3 × 512 KB of W_H a frame
    with threadpool_limits(1):    # as the training process and a recording train: one BLAS thread
        expected = one_thread(settings, 4, 3)
    with FrameTrainer(settings, 4, 3) as trainer:
        got = [trainer.next_frame() for _ in range(3)]
    assert all(same(a, b) for g, e in zip(got, expected) for a, b in zip(g, e))
    assert [len(g) for g in got] == [3, 3, 3]


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc (Linux)")
def test_the_training_process_ends_when_the_filming_process_is_killed():
    """SIGKILL leaves the filming process no chance to end its training process, which trains a
    frame of minutes here and is not its child (the worker server forked it): it must notice."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from rnnviz.worker_processes import process_running

    script = ("from rnnviz.frame_training import FrameTrainer\n"
              "from rnnviz.settings import Settings\n"
              f"trainer = FrameTrainer(Settings(**{SLOW.as_dict()!r}), 3, 10_000)\n"
              "trainer.first_snapshot()\n"
              "print(trainer._process.pid, flush=True)\n"
              "input()\n")
    recorder = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parent.parent,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pid = None
    try:
        pid = int(recorder.stdout.readline())
        assert process_running(pid)
        recorder.kill()
        recorder.wait()
        deadline = time.monotonic() + 10
        while process_running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process_running(pid), "the training process outlived the filming process"
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait()
        if pid is not None and process_running(pid):
            os.kill(pid, signal.SIGKILL)


def _pipes():
    inbox, out = multiprocessing.Pipe(duplex=False)
    credits_in, credits = multiprocessing.Pipe(duplex=False)
    return inbox, out, credits_in, credits


def test_an_oserror_in_training_reaches_the_filming_process(monkeypatch):
    """Only the pipes' own errors mean "the filming process is gone"; an OSError of training's is
    an error to report (here in the calling process, as the training process runs it)."""
    from rnnviz import frame_training

    def no_space(settings):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(frame_training, "Session", no_space)
    inbox, out, credits_in, _credits = _pipes()
    frame_training._train_frames(TINY, 5, 1, 3, credits_in, out)
    kind, error, where = pickle.loads(inbox.recv_bytes())
    assert kind == "error" and isinstance(error, OSError) and error.errno == 28
    assert "no_space" in where


def test_an_error_nobody_reads_ends_training_quietly(monkeypatch):
    from rnnviz import frame_training

    def fails(settings):
        raise ValueError("bad")

    monkeypatch.setattr(frame_training, "Session", fails)
    inbox, out, credits_in, _credits = _pipes()
    inbox.close()                          # the filming process is gone
    frame_training._train_frames(TINY, 5, 1, 3, credits_in, out)   # no BrokenPipeError
