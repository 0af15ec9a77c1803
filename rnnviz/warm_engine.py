"""Importing this module loads the engine's compiled kernels, as a memory-horizon sweep's workers
use them (no Qt).

numba reads each compiled kernel from its on-disk cache the first time a process calls it (about
0.3 s of CPU for the recurrent passes, most of it numba setting up its compiler at the first read).
A sweep forks its workers from a process that has imported this module: the sweep's forkserver,
which preloads it (see `rnnviz.worker_processes.PRELOAD`), or the command line's own process
(`rnnviz.horizon.Sweep`'s ``fork``). The kernels are then read once, before the first fork, and
every worker starts with them, instead of each worker reading them at its first run. The import
trains one step and evaluates once with a tiny network of each architecture.

SciPy is hidden while the engine loads. Where SciPy is installed, numba imports it to check its
version and, when it first reads a kernel, to offer ``np.dot`` and ``np.linalg`` inside compiled
code. The engine's kernels use neither: their products call BLAS's dgemm directly. Without it the
worker server spent 0.43-0.45 s of CPU before its first fork instead of 0.55-0.56 s (measured with
SciPy 1.17 installed, which a bench-only extra brings).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def _scipy_hidden() -> Iterator[None]:
    """Within the block, ``import scipy`` fails (numba then goes without it); unless something has
    imported SciPy or numba already, in which case nothing changes."""
    if "scipy" in sys.modules or "numba" in sys.modules:
        yield
        return
    sys.modules["scipy"] = None        # an import of a module that maps to None raises ImportError
    try:
        yield
    finally:
        if sys.modules.get("scipy", 0) is None:
            del sys.modules["scipy"]


def warm_up() -> None:
    """One training step and one held-out evaluation per architecture, at tiny sizes, float64."""
    from rnnviz.session import Session
    from rnnviz.settings import Settings

    for arch in ("rnn", "skip", "lstm"):
        session = Session(Settings(task="recall", lag=2, arch=arch, skip=2, hidden=4, batch=2,
                                   dtype="float64", seed=0))
        session.step()
        session.evaluate(4)


with _scipy_hidden():
    warm_up()
