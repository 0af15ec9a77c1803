"""Arrays a model reuses from one pass to the next, never while anyone still holds them.

Every ``forward_backward`` returns a trace that owns its arrays (hidden states, pre-activations,
δ, ∂L/∂h: a few MB at B=32, H=64, T=100). Allocated afresh each pass, arrays that size come from
the kernel (mmap) and cost one page fault per 4 KiB on first touch: measured ≈7 ms for five 1.6 MB
arrays on a 2-core VM, more than the arithmetic of a whole RNN step. So each model keeps a
`Workspace`: a pass asks it for its arrays by name, and gets last pass's array back when nothing
outside the workspace refers to it any more (the trace that held it, and every view of it, are
gone); otherwise a fresh one. A returned trace is never overwritten.
"""

from __future__ import annotations

import sys

import numpy as np

#: References to a free array inside `Workspace.empty`: the workspace's dict, the local name and
#: ``sys.getrefcount``'s own argument. Views and traces add theirs (a view refers to its base).
_FREE = 3


class Workspace:
    """Named arrays for a model's passes (one pass at a time per model, like its parameters)."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def empty(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialised array: the one kept under ``name`` if it has this shape and dtype and
        nothing else refers to it, else a new one (kept under ``name`` from now on)."""
        array = self._arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype or sys.getrefcount(array) > _FREE:
            array = np.empty(shape, dtype)
            self._arrays[name] = array
        return array
