"""Timing that compares like with like on a noisy machine: interleaved rounds and same-round ratios."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def interleaved_rounds(fns: dict[str, Callable[[], object]], rounds: int, number: int,
                       clock: Callable[[], float] = time.perf_counter,
                       clocks: dict[str, Callable[[], float]] | None = None) -> dict[str, np.ndarray]:
    """Seconds per call of each function in each of `rounds` rounds of `number` calls. The functions
    take turns round by round, so that each round's timings were taken within milliseconds of each
    other: on a machine whose speed drifts (a shared VM, another process) their ratios compare
    like with like, where the best or mean of separate runs would not. ``clock``: wall time by
    default; ``time.thread_time`` counts only the CPU time the calling thread used, which leaves
    out the time it waited for a core while others ran. ``clocks``: a different clock for some
    functions, by name (e.g. ``time.process_time`` for one that computes on threads of its own)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            timer = (clocks or {}).get(name, clock)
            start = timer()
            for _ in range(number):
                fn()
            times[name].append((timer() - start) / number)
    return {name: np.array(values) for name, values in times.items()}


def paired_ratio(numerator: np.ndarray, denominator: np.ndarray) -> float:
    """Median over rounds of numerator / denominator timed in the same round."""
    return float(np.median(numerator / denominator))
