"""Python's cyclic garbage collector, kept out of the way of start-up and of the frames.

    collector.hold_for_start_up()   # at launch, before the heavy imports
    collector.settle()              # once the first run has reached the window

A full collection scans every object the process holds. With Qt, pyqtgraph, numpy and numba loaded
that is about 160 000 objects and 64 ms of CPU (measured while training on a thread of the app),
during which no thread of the app runs: a hitch of several frames, and a late answer to a click, every
few seconds. During start-up the imports trigger several such collections (0.12-0.14 s of CPU
before the first iteration, measured).

Nearly all of those objects live as long as the process (modules, classes, the window's widgets), so
once start-up is over `settle` moves them out of the collector's sight (`gc.freeze`): later
collections scan only what was made since (0.2 ms). Reference counting still frees any frozen object
that is dropped; only reference cycles among frozen objects would stay, and start-up leaves next to
none (a full collection at that moment found 10 objects).
"""

from __future__ import annotations

import gc

_held = False
_settled = False


def hold_for_start_up() -> None:
    """No cyclic collections until `settle` (imports make next to no cyclic garbage)."""
    global _held
    if gc.isenabled() and not _settled:
        gc.disable()
        _held = True


def settle() -> None:
    """Start-up is over: freeze what exists now and let the collector run again (if held). Once
    per process."""
    global _held, _settled
    if _settled:
        return
    _settled = True
    gc.freeze()
    if _held:
        _held = False
        gc.enable()
