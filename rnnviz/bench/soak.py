"""Memory soak for ``rnnviz bench --only soak``: the app trains flat out for an hour, and its
memory must stay flat (issue 15).

The main window (1280×720, default settings, offscreen when there is no display) trains at full
speed while the page shown changes every `PAGE_SECONDS` through the run's pages (Training,
Unrolled network, Gradients), so every live view draws for part of the run. Memory (the
proportional set sizes of the window's process and of the process it trains in) is sampled every
`SAMPLE_SECONDS` and printed as it goes (a soak killed part-way still says what it saw). The
summary gives the growth over the first minutes (histories filling up to their caps), over the rest
of the run, and the slope of the last half in MB per hour: flat means about 0.
"""

from __future__ import annotations

import gc
import math
import os
import time

import numpy as np

from rnnviz.settings import Settings

SOAK_MINUTES = 60.0
SAMPLE_SECONDS = 10.0
PAGE_SECONDS = 60.0
SOAK_PAGES = ("curves", "diagram", "gradients")
#: Histories (curves, metrics log) fill up to their caps in the first minutes; growth after this is
#: what a flat app must not show.
SETTLE_MINUTES = 5.0


def soak(minutes: float = SOAK_MINUTES, settings: Settings | None = None, echo=print) -> dict:
    """Train in the window for `minutes`, sampling memory; `echo` gets a line per sample minute."""
    from rnnviz.bench.gui import _idle, _memory_mb, _quiet_offscreen, _wait, _Window

    settings = settings or Settings()
    seconds = minutes * 60.0
    samples: list[tuple[float, float, int]] = []
    with _quiet_offscreen(), _Window(settings, record=False) as bench:
        window = bench.window
        window.play()
        start = time.perf_counter()
        page, next_page, next_echo = 0, PAGE_SECONDS, 60.0
        while (elapsed := time.perf_counter() - start) < seconds:
            iteration = window.latest_snapshot.iteration
            samples.append((elapsed, _memory_mb(window), iteration))
            if elapsed >= next_echo:
                echo(f"  soak: {elapsed / 60:5.1f} min  memory {samples[-1][1]:7.1f} MB  "
                     f"iteration {iteration}  load {os.getloadavg()[0]:.1f}")
                next_echo += 60.0
            if elapsed >= next_page:
                page = (page + 1) % len(SOAK_PAGES)
                window.show_page(SOAK_PAGES[page])
                next_page += PAGE_SECONDS
            _idle(SAMPLE_SECONDS)
        window.pause()
        _wait(lambda: window.state != "playing")
        gc.collect()
        final = (time.perf_counter() - start, _memory_mb(window), window.latest_snapshot.iteration)
    samples.append(final)
    return summarise(samples)


def summarise(samples: list[tuple[float, float, int]]) -> dict:
    """Growth before and after `SETTLE_MINUTES`, and the last half's slope (MB per hour)."""
    t, mb, iterations = (np.array(column, dtype=float) for column in zip(*samples))
    settled = t >= SETTLE_MINUTES * 60.0
    half = t >= t[-1] / 2
    slope = np.polyfit(t[half], mb[half], 1)[0] * 3600.0 if half.sum() >= 2 else math.nan
    at_settle = mb[settled][0] if settled.any() else mb[-1]
    return {
        "minutes": t[-1] / 60.0,
        "iterations": int(iterations[-1] - iterations[0]),
        "memory (PSS) at start MB": mb[0],
        f"memory growth over the first {SETTLE_MINUTES:g} min MB": at_settle - mb[0],
        f"memory growth after {SETTLE_MINUTES:g} min MB": mb[-1] - at_settle,
        "memory peak MB": mb.max(),
        "last half's slope MB per hour (flat: ~0)": slope,
    }


def bench_soak(quick: bool) -> dict:
    """An hour (five minutes with --quick) of training flat out in the window."""
    return soak(minutes=5.0 if quick else SOAK_MINUTES, echo=lambda line: print(line, flush=True))
