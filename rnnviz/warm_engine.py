"""Importing this module loads the engine's compiled kernels, as a memory-horizon sweep's workers
use them (no Qt).

numba reads each compiled kernel from its on-disk cache the first time a process calls it (about
0.3 s of CPU for the recurrent passes). A sweep's workers are forked from one forkserver, which
preloads this module (see `rnnviz.horizon.PRELOAD`): the kernels are then read once, before the
first fork, and every worker starts with them, instead of each worker reading them at its first
run. The import trains one step and evaluates once with a tiny network of each architecture.
"""

from __future__ import annotations

from rnnviz.session import Session
from rnnviz.settings import Settings


def warm_up() -> None:
    """One training step and one held-out evaluation per architecture, at tiny sizes, float64."""
    for arch in ("rnn", "skip", "lstm"):
        session = Session(Settings(task="recall", lag=2, arch=arch, skip=2, hidden=4, batch=2,
                                   dtype="float64", seed=0))
        session.step()
        session.evaluate(4)


warm_up()
