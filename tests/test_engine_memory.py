"""A model reuses its pass arrays only once nothing refers to them: a kept trace is never overwritten;
large ones sit on huge pages."""

from __future__ import annotations

import dataclasses
import mmap
import os
import tracemalloc

import numpy as np
import pytest

from rnnviz.engine import build_model
from rnnviz.engine.memory import HUGE_FROM, HUGE_PAGE, on_huge_pages

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


@pytest.mark.parametrize("huge_pages", [True, False], ids=["huge-pages", "np.empty"])
def test_a_view_keeps_a_large_array_from_reuse(huge_pages, monkeypatch):
    """The same promise for arrays of 1 MiB or more, whatever their allocation: a view of the trace's
    hidden states outlives the trace and is not overwritten by the next pass; once it is gone too,
    the workspace's array is reused."""
    if not huge_pages:
        monkeypatch.delattr(mmap, "MADV_HUGEPAGE", raising=False)
    model = build_model("rnn", 8, 64, 8, seed=0)
    rng = np.random.default_rng(0)
    trace = model.forward_backward(rng.standard_normal((100, 32, 8)), np.zeros(32, dtype=int))
    assert trace.hidden.nbytes >= HUGE_FROM
    view = trace.hidden[1:]
    kept = view.copy()
    del trace
    again = model.forward_backward(rng.standard_normal((100, 32, 8)) * 3, np.ones(32, dtype=int))
    assert not np.shares_memory(view, again.hidden)
    np.testing.assert_array_equal(view, kept)
    address = _address(again.hidden)
    del again, view
    assert _address(model.forward_backward(np.ones((100, 32, 8)), np.zeros(32, dtype=int)).hidden) == address


@pytest.mark.parametrize("arch", ["rnn", "lstm"])
def test_arrays_of_a_dropped_trace_are_reused(arch):
    model = build_model(arch, I, H, O, seed=2)
    x, target = np.ones((T, B, I)), np.zeros(B, dtype=int)
    trace = model.forward_backward(x, target)
    addresses = {name: _address(array) for name, array in _reused(trace).items()}
    del trace
    again = model.forward_backward(x, target)
    assert {name: _address(array) for name, array in _reused(again).items()} == addresses


@pytest.mark.skipif(not hasattr(mmap, "MADV_HUGEPAGE"), reason="no huge-page request on this platform")
def test_large_pass_arrays_start_on_a_huge_page_and_stay_private_to_the_process():
    """A trace's (T, B, H) arrays of 1 MiB or more start on a 2 MiB boundary (memory asked to be
    backed by 2 MiB pages), writable and C-contiguous like np.empty's; smaller ones are np.empty's.
    The memory is private: a child forked after the pass writes into its own copy."""
    model = build_model("rnn", 8, 64, 8, seed=0)
    x = np.random.default_rng(0).standard_normal((100, 32, 8))
    trace = model.forward_backward(x, np.zeros(32, dtype=int))
    for name in ("hidden", "pre", "da", "dh"):
        array = getattr(trace, name)
        assert array.nbytes >= HUGE_FROM
        assert _address(array) % HUGE_PAGE == 0, name
        assert array.flags.c_contiguous and array.flags.writeable, name
    small = build_model("rnn", I, H, O, seed=0).forward_backward(np.ones((T, B, I)), np.zeros(B, dtype=int))
    assert small.hidden.nbytes < HUGE_FROM and small.hidden.base is None      # np.empty's own array
    before = trace.hidden.copy()
    child = os.fork()
    if child == 0:                                       # the child overwrites its copy, then leaves
        trace.hidden[:] = -1.0
        os._exit(0)
    assert os.waitpid(child, 0)[1] == 0
    assert np.array_equal(trace.hidden, before)


@pytest.mark.skipif(not hasattr(mmap, "MADV_HUGEPAGE"), reason="no huge-page request on this platform")
def test_a_kernel_that_refuses_huge_pages_still_gives_working_arrays(monkeypatch):
    """madvise fails with EINVAL on a kernel built without transparent huge pages (simulated with an
    advice no kernel knows): the pass still gets its arrays, on ordinary pages, and computes the
    same trace."""
    x = np.random.default_rng(1).standard_normal((100, 32, 8))
    expected = build_model("rnn", 8, 64, 8, seed=0).forward_backward(x, np.zeros(32, dtype=int))
    monkeypatch.setattr(mmap, "MADV_HUGEPAGE", 12345)
    with pytest.raises(OSError):                          # the simulated refusal is real
        mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS).madvise(mmap.MADV_HUGEPAGE)
    trace = build_model("rnn", 8, 64, 8, seed=0).forward_backward(x, np.zeros(32, dtype=int))
    assert _address(trace.hidden) % HUGE_PAGE == 0
    for name in ("hidden", "pre", "da", "dh"):
        assert np.array_equal(getattr(trace, name), getattr(expected, name)), name


@pytest.mark.skipif(not hasattr(mmap, "MADV_HUGEPAGE"), reason="no huge-page request on this platform")
def test_a_huge_page_array_is_reported_to_tracemalloc_as_whole_pages_and_fails_like_numpy():
    """tracemalloc sees the whole 2 MiB pages the array occupies (what the budget measures with); an
    allocation the machine cannot hold raises MemoryError as np.empty does, not OSError."""
    shape = (101, 32, 64)                               # 1.65 MB: one 2 MiB page
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        array = on_huge_pages(shape, np.float64)
        assert tracemalloc.get_traced_memory()[0] - before >= HUGE_PAGE > array.nbytes
        del array
        assert tracemalloc.get_traced_memory()[0] - before < HUGE_FROM
    finally:
        tracemalloc.stop()
    with pytest.raises(MemoryError):
        on_huge_pages((1 << 57,), np.float64)           # 1 EiB
