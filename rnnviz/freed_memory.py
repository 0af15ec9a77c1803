"""Large blocks of memory go back to the system when they are freed (glibc's malloc; elsewhere,
nothing changes).

glibc serves a request of 128 KiB or more with a mapping of its own, and unmaps it when it is freed.
But the first time such a block is freed, glibc raises that threshold to the block's size (up to
32 MiB): from then on, blocks that size come from its heaps, which keep what is freed for reuse and
rarely give it back. The window receives 20-60 batches of snapshots a second, their arrays 0.1-2 MB
each, and pyqtgraph makes arrays of similar sizes as it draws: with the moving threshold, the
window's heap grew by about 20 MB over a run's first 3 minutes and stayed there (its live Python
and numpy allocations grew by 2 MB). With the threshold fixed at `MMAP_THRESHOLD_BYTES`, the heap
grew by 2.5 MB, the window's private memory settled at ~133 MB instead of ~155 MB, and training in
the window ran as fast (3 interleaved pairs, within the machine's noise; the window's page faults
and CPU time the same within noise).

Only the window's process does this. The training process's large arrays are mostly its session's
workspace, reused from step to step, and its heap grew by ~7 MB; mapped one by one, its per-step
temporaries at larger sizes would fault their pages in anew every step (H = 256, T = 100: 127 ->
382 page faults a step).
"""

from __future__ import annotations

import ctypes
import sys

#: Blocks this large or larger are mapped on their own, and unmapped when freed (glibc's default
#: threshold is 128 KiB before it starts to move).
MMAP_THRESHOLD_BYTES = 256 * 1024
#: mallopt's parameter number for it (glibc's malloc.h); setting it also stops it from moving.
M_MMAP_THRESHOLD = -3


def return_large_blocks() -> bool:
    """Fix this process's mmap threshold at `MMAP_THRESHOLD_BYTES`, where the C library is glibc.
    True if it was set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):   # not glibc (musl has no libc.so.6, nor a mallopt that does this)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
