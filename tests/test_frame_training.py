"""FrameTrainer: a recording's training in a worker thread gives every frame exactly the iterations
the one-thread loop gave it, stops at a divergence, and hands a stop or an error to the filming thread."""

import signal
import threading

import numpy as np
import pytest

from rnnviz.engine.cancel import Cancelled
from rnnviz.frame_training import FrameTrainer
from rnnviz.interrupts import Interrupted, StopRequest
from rnnviz.presets import load_preset
from rnnviz.session import Session
from rnnviz.settings import Settings

TINY = Settings(task="recall", lag=4, hidden=6, batch=4)


def one_thread(settings, frames, rate):
    """What the recording did before, in one thread: per frame, the iterations it shows."""
    session, shown = Session(settings), []
    for k in range(1, frames):
        due = int(k * rate) - session.iteration
        shown.append(tuple(session.run(due)) if due > 0 and not session.diverged else ())
    return shown


def same(a, b):
    return (a.iteration, a.loss, a.grad_norm, a.diverged) == (b.iteration, b.loss, b.grad_norm, b.diverged) \
        and np.array_equal(a.contribution_norms, b.contribution_norms)


@pytest.mark.parametrize("rate", [3, 0.4, 2.5])
def test_every_frame_gets_the_iterations_of_the_one_thread_loop(rate):
    frames = 12
    expected = one_thread(TINY, frames, rate)
    session = Session(TINY)
    with FrameTrainer(session, frames, rate, ahead=2) as trainer:
        got = [trainer.next_frame() for _ in range(1, frames)]
    assert [len(g) for g in got] == [len(e) for e in expected]
    assert all(same(a, b) for g, e in zip(got, expected) for a, b in zip(g, e))
    assert session.iteration == int((frames - 1) * rate)
    for batch in got:   # the newest snapshot of a frame carries its spectrum, the others do not
        if batch:
            assert batch[-1].spectrum is not None and all(s.spectrum is None for s in batch[:-1])
    with pytest.raises(RuntimeError, match="every frame"):
        FrameTrainer(Session(TINY), 1, rate).next_frame()


def test_training_stops_at_a_divergence():
    settings = load_preset("exploding").settings
    expected = one_thread(settings, 20, 2)
    with FrameTrainer(Session(settings), 20, 2) as trainer:
        got = [trainer.next_frame() for _ in range(19)]
    diverged = [k for k, batch in enumerate(got) if batch and batch[-1].diverged]
    assert len(diverged) == 1 and all(batch == () for batch in got[diverged[0] + 1:])
    assert [len(g) for g in got] == [len(e) for e in expected]


def test_a_stop_request_reaches_the_filming_thread():
    stop = StopRequest()
    with FrameTrainer(Session(TINY), 1000, 5, stop, ahead=1) as trainer:
        trainer.next_frame()
        stop(signal.SIGTERM)                    # what the signal handler does
        with pytest.raises(Interrupted) as caught:
            while True:
                trainer.next_frame()
    assert caught.value.signum == signal.SIGTERM


def test_an_error_in_training_is_raised_by_next_frame():
    session = Session(TINY)

    def broken(cancel=None):
        raise FloatingPointError("the engine broke")

    session.step = broken
    with FrameTrainer(session, 5, 1) as trainer, pytest.raises(FloatingPointError, match="engine broke"):
        trainer.next_frame()


def test_closing_early_cancels_the_step_under_way_and_ends_the_thread():
    session = Session(TINY)
    started = threading.Event()

    def endless_step(cancel=None):             # a step that only a cancel ends, as the engine's does
        started.set()
        cancel.wait()
        raise Cancelled()

    session.step = endless_step
    trainer = FrameTrainer(session, 1000, 50)
    assert started.wait(30)
    trainer.close()
    assert not trainer.running
