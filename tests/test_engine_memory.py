"""A model reuses its pass arrays only once nothing refers to them: a kept trace is never overwritten."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rnnviz.engine import build_model

T, B, I, H, O = 8, 3, 2, 5, 3


def _arrays(trace) -> dict[str, np.ndarray]:
    """Every array of the trace; ``outputs`` and ``grads`` are small and always fresh."""
    return {f.name: getattr(trace, f.name) for f in dataclasses.fields(trace)
            if isinstance(getattr(trace, f.name), np.ndarray)}


def _reused(trace) -> dict[str, np.ndarray]:
    return {name: array for name, array in _arrays(trace).items() if name != "outputs"}


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
def test_a_kept_trace_is_not_overwritten_by_later_passes(arch):
    model = build_model(arch, I, H, O, seed=2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(T, B, I))
    target = rng.integers(0, O, size=B)
    kept = model.forward_backward(x, target)
    before = {name: array.copy() for name, array in _arrays(kept).items()}
    for _ in range(3):
        model.forward_backward(rng.normal(size=(T, B, I)) * 3, rng.integers(0, O, size=B))
        model.forward(rng.normal(size=(T, B, I)))
    for name, array in _arrays(kept).items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


@pytest.mark.parametrize("arch", ["rnn", "lstm"])
def test_a_view_keeps_its_array_from_reuse(arch):
    model = build_model(arch, I, H, O, seed=2)
    x, target = np.ones((T, B, I)), np.zeros(B, dtype=int)
    last_hidden = model.forward_backward(x, target).hidden[-1]     # the trace is gone, a view remains
    kept = last_hidden.copy()
    model.forward_backward(-x, target)
    np.testing.assert_array_equal(last_hidden, kept)


@pytest.mark.parametrize("arch", ["rnn", "lstm"])
def test_arrays_of_a_dropped_trace_are_reused(arch):
    model = build_model(arch, I, H, O, seed=2)
    x, target = np.ones((T, B, I)), np.zeros(B, dtype=int)
    trace = model.forward_backward(x, target)
    addresses = {name: _address(array) for name, array in _reused(trace).items()}
    del trace
    again = model.forward_backward(x, target)
    assert {name: _address(array) for name, array in _reused(again).items()} == addresses
