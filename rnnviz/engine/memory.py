"""Arrays a model reuses from one pass to the next, never while anyone still holds them.

Every ``forward_backward`` returns a trace that owns its arrays (hidden states, pre-activations,
δ, ∂L/∂h: a few MB at B=32, H=64, T=100). Allocated afresh each pass, arrays that size come from
the kernel (mmap) and cost one page fault per 4 KiB on first touch: measured ≈7 ms for five 1.6 MB
arrays on a 2-core VM, more than the arithmetic of a whole RNN step. So each model keeps a
`Workspace`: a pass asks it for its arrays by name, and gets last pass's array back when nothing
outside the workspace refers to it any more (the trace that held it, and every view of it, are
gone); otherwise a fresh one. A returned trace is never overwritten.

Arrays of 1 MiB or more start on a 2 MiB boundary in memory the kernel is asked to back with 2 MiB
pages (Linux's transparent huge pages, ``madvise(MADV_HUGEPAGE)``), where it offers them. A pass
sweeps through its (T, B, H) arrays step by step, a 4 KiB page every 256 doubles; on a VM each
page's first touch in a pass can cost a nested page-table walk once other work has filled the TLB.
Measured on a 2-core KVM guest, the engine bench's RNN full pass (B = 32, H = 64, T = 100, run
between the other sides as the bench runs it) took 2.48-2.78 -> 2.28-2.54 ms CPU (median of 20
rounds, three runs). An array then occupies whole 2 MiB pages (1.6 MB -> 2 MiB at those sizes).
"""

from __future__ import annotations

import ctypes
import mmap
import sys
import weakref

import numpy as np

#: References to a free array inside `Workspace.empty`: the workspace's dict, the local name and
#: ``sys.getrefcount``'s own argument. Views and traces add theirs: a view refers to the array it
#: was taken from when that array's base is not itself an array (np.empty's, `on_huge_pages`').
_FREE = 3
#: The size of a huge page, and the size from which an array is put on them (see the module's note).
HUGE_PAGE = 2 << 20
HUGE_FROM = 1 << 20


def occupied_bytes(nbytes: int) -> int:
    """The memory a workspace array of ``nbytes`` occupies: whole 2 MiB pages from `HUGE_FROM` where
    `on_huge_pages` can ask for them, else ``nbytes``."""
    if nbytes < HUGE_FROM or not hasattr(mmap, "MADV_HUGEPAGE"):
        return nbytes
    return -(-nbytes // HUGE_PAGE) * HUGE_PAGE


def on_huge_pages(shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised C-contiguous array that starts on a 2 MiB boundary of private anonymous
    memory the kernel is asked to back with huge pages (a kernel that refuses the request gives
    ordinary pages); a plain ``np.empty`` where ``mmap`` cannot ask (no MADV_HUGEPAGE: not Linux)
    or cannot map the memory (then np.empty raises MemoryError if memory is really short).

    The array is the first array over its mapping (its base is the mmap, not another array), so every
    view of it refers to it and `Workspace` sees them in its reference count. It keeps the mapping
    alive and unmaps it when it is freed. Private: a process forked later gets its own copy, as with
    np.empty."""
    if not hasattr(mmap, "MADV_HUGEPAGE"):
        return np.empty(shape, dtype)
    dtype = np.dtype(dtype)
    pages = occupied_bytes(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize)
    try:
        memory = mmap.mmap(-1, pages + HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # room to align
    except (OSError, OverflowError):     # no room (ENOMEM), a limit, a sandbox: numpy's allocation and errors
        return np.empty(shape, dtype)
    try:
        memory.madvise(mmap.MADV_HUGEPAGE)
    except OSError:        # a kernel built without huge pages (EINVAL), a sandbox: 4 KiB pages then
        pass
    start = -np.frombuffer(memory, np.uint8, count=1).ctypes.data % HUGE_PAGE
    array = np.ndarray(shape, dtype, buffer=memory, offset=start)
    _trace_like_numpy(array, pages)
    return array


#: The tracemalloc domain numpy reports its arrays' data in (numpy's NPY_TRACE_DOMAIN).
_NUMPY_DOMAIN = 389047


def _trace_like_numpy(array: np.ndarray, size: int) -> None:
    """Report ``size`` bytes at ``array``'s data to tracemalloc, as numpy reports the data of the
    arrays it allocates, until the array is freed: memory from mmap is otherwise invisible to it (and
    to whoever measures a session's allocations with it). ``size`` is what the array occupies: whole
    2 MiB pages, which the process's resident memory carries when the kernel backs them with huge
    pages. Nothing to do while tracemalloc is not tracing."""
    address = array.ctypes.data
    if ctypes.pythonapi.PyTraceMalloc_Track(ctypes.c_uint(_NUMPY_DOMAIN), ctypes.c_size_t(address),
                                            ctypes.c_size_t(size)) == 0:
        weakref.finalize(array, ctypes.pythonapi.PyTraceMalloc_Untrack, ctypes.c_uint(_NUMPY_DOMAIN),
                         ctypes.c_size_t(address))


class Workspace:
    """Named arrays for a model's passes (one pass at a time per model, like its parameters)."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def empty(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialised array: the one kept under ``name`` if it has this shape and dtype and
        nothing else refers to it, else a new one (kept under ``name`` from now on)."""
        array = self._arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype or sys.getrefcount(array) > _FREE:
            size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            array = on_huge_pages(shape, dtype) if size >= HUGE_FROM else np.empty(shape, dtype)
            self._arrays[name] = array
        return array
