"""Warming up the engine: reading its compiled kernels in this process before workers fork from it
(no Qt).

numba reads each compiled kernel from its on-disk cache the first time a process calls it (about
0.3 s of CPU for the recurrent passes, most of it numba setting up its compiler at the first read).
A process that workers fork from reads the kernels once (`warm_up`), so every worker starts with
them instead of reading them at its first run: the sweep's worker server, which preloads
`rnnviz.engine_preload` (every architecture, see `rnnviz.worker_processes.PRELOAD`), or the command
line's own process, which reads only those of the architectures its sweep trains
(`rnnviz.horizon.Sweep`'s ``fork``). A kernel not read before the fork still works: the worker
reads it at its first call.

SciPy is hidden while the engine loads. Where SciPy is installed, numba imports it to check its
version and, when it first reads a kernel, to offer ``np.dot`` and ``np.linalg`` inside compiled
code. The engine's kernels use neither: their products call BLAS's dgemm directly. Without it the
worker server spent 0.43-0.45 s of CPU before its first fork instead of 0.55-0.56 s (measured with
SciPy 1.17 installed, which a bench-only extra brings).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

_warmed: set[str] = set()    # the architectures this process has warmed up (a fork inherits it)


def warm_up(archs: Iterable[str] | None = None) -> None:
    """One training step and one held-out evaluation, at tiny sizes, float64, for each architecture
    of `archs` (default: every one the engine trains, `rnnviz.engine.ARCHS`) this process has not
    warmed up yet. Raises whatever stops the engine loading."""
    with _scipy_hidden():
        from rnnviz.engine import ARCHS
        from rnnviz.session import Session
        from rnnviz.settings import Settings

        for arch in ARCHS if archs is None else archs:
            if arch in _warmed:
                continue
            session = Session(Settings(task="recall", lag=2, arch=arch, skip=2, hidden=4, batch=2,
                                       dtype="float64", seed=0))
            session.step()
            session.evaluate(4)
            _warmed.add(arch)


def warmed() -> frozenset[str]:
    """The architectures whose kernels this process has read through `warm_up` (or inherited from
    the process it was forked from)."""
    return frozenset(_warmed)


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
