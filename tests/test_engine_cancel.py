"""Cooperative cancellation: a pass checks its ``cancel`` flag between time steps and stops there."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from rnnviz.engine import Cancelled, build_model
from rnnviz.session import Session
from rnnviz.settings import Settings

T, B, I, H, O = 12, 3, 3, 5, 4


class SetAfter:
    """A cancel flag that reads as set from its (n+1)-th check on, and counts the checks."""

    def __init__(self, n: int) -> None:
        self.n, self.checks = n, 0

    def is_set(self) -> bool:
        self.checks += 1
        return self.checks > self.n


class CancelByte:
    """A flag that also offers ``cancel_byte`` (as the GUI's training worker does): one byte,
    nonzero exactly when ``is_set()``, which the compiled kernels read without Python."""

    def __init__(self) -> None:
        self.cancel_byte = np.zeros(1, np.uint8)

    def set(self) -> None:
        self.cancel_byte[0] = 1

    def is_set(self) -> bool:
        return bool(self.cancel_byte[0])


def _batch(readout="last"):
    rng = np.random.default_rng(3)
    shape = (B,) if readout == "last" else (T, B)
    return rng.normal(size=(T, B, I)), rng.integers(0, O, size=shape)


def _model(arch: str, compiled: bool):
    """The model on the compiled path (the default for float64, where numba is there) or on numpy's."""
    model = build_model(arch, I, H, O, seed=1)
    model.compiled = compiled and model.compiled
    return model


PATHS = pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])


@PATHS
@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
@pytest.mark.parametrize("readout", ["last", "all"])
def test_an_unset_flag_is_checked_every_step_and_changes_nothing(arch, readout, compiled):
    model = _model(arch, compiled)
    x, target = _batch(readout)
    flag = SetAfter(10**9)
    with_flag = model.forward_backward(x, target, readout=readout, cancel=flag)
    without = model.forward_backward(x, target, readout=readout)
    assert flag.checks == 2 * T                       # once per step forward, once per step backward
    assert with_flag.loss == without.loss
    for name in model.params:
        np.testing.assert_array_equal(with_flag.grads[name], without.grads[name])


@PATHS
@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
@pytest.mark.parametrize("stop_after", [0, 5, T, T + 7])      # in the forward pass, or in the backward
def test_a_set_flag_stops_the_pass_at_the_next_step_and_leaves_the_model(arch, stop_after, compiled):
    model = _model(arch, compiled)
    before = {name: p.copy() for name, p in model.params.items()}
    flag = SetAfter(stop_after)
    with pytest.raises(Cancelled):
        model.forward_backward(*_batch(), cancel=flag)
    assert flag.checks == stop_after + 1              # no step ran after the flag was seen
    for name, p in model.params.items():
        np.testing.assert_array_equal(p, before[name])


@PATHS
@pytest.mark.parametrize("arch", ["rnn", "lstm"])
def test_forward_alone_is_cancellable(arch, compiled):
    model = _model(arch, compiled)
    flag = SetAfter(3)
    with pytest.raises(Cancelled):
        model.forward(_batch()[0], cancel=flag)
    assert flag.checks == 4


def test_a_threading_event_cancels_a_session_step_and_leaves_the_session_as_it_was():
    session = Session(Settings(task="recall", lag=5, hidden=8, batch=4))
    session.step()
    last = session.snapshot()
    weights = {name: p.copy() for name, p in session.model.params.items()}
    event = threading.Event()
    event.set()
    with pytest.raises(Cancelled):
        session.step(cancel=event)
    assert session.iteration == 1 and session.snapshot() is last
    for name, p in session.model.params.items():
        np.testing.assert_array_equal(p, weights[name])
    event.clear()
    assert session.step(cancel=event).iteration == 2   # a clear flag lets the next step run


@PATHS
@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
def test_a_cancel_byte_is_read_at_every_step_without_asking_python(arch, compiled):
    """A `CancelByte` is read from memory by the compiled kernels (no callback): clear, the pass is
    the one without a flag; set, the pass stops at its first step."""
    model = _model(arch, compiled)
    x, target = _batch()
    flag = CancelByte()
    with_flag = model.forward_backward(x, target, cancel=flag)
    without = model.forward_backward(x, target)
    assert with_flag.loss == without.loss
    for name in model.params:
        np.testing.assert_array_equal(with_flag.grads[name], without.grads[name])
    flag.set()
    with pytest.raises(Cancelled):
        model.forward_backward(x, target, cancel=flag)


@PATHS
def test_a_flag_given_a_new_cancel_byte_is_read_at_the_new_one(compiled):
    """The compiled path keeps each flag's byte address between passes: a byte replaced is read anew."""
    model = _model("rnn", compiled)
    x, target = _batch()
    flag = CancelByte()
    model.forward_backward(x, target, cancel=flag)
    flag.cancel_byte = np.ones(1, np.uint8)           # set, in a new array
    with pytest.raises(Cancelled):
        model.forward_backward(x, target, cancel=flag)
    flag.cancel_byte = np.zeros(1, np.uint8)          # clear again, in another
    model.forward_backward(x, target, cancel=flag)
