"""How often a view may redraw so that drawing leaves training its share of the machine.

Painting in Qt runs in Python-visible calls that hold the GIL. A training loop on a thread of the
window's process (the Compare page's) needs the GIL between numpy calls: every millisecond the GUI
thread paints is a millisecond training waits. The app's own training runs in a process of its
own, which drawing slows only where the two share a core. A view measures what its frames cost
(`spent`) and redraws only when `ready()`, which spaces frames so that drawing takes at most
`share` of the time, between `min_rate` and `max_rate` frames per second.
"""

from __future__ import annotations

import time

#: Share of wall time one view's drawing may take while training runs as fast as it can ...
DEFAULT_SHARE = 0.06
#: ... and while it runs at a set pace (the worker sleeps between iterations, so drawing more
#: often costs it nothing).
PACED_SHARE = 0.3
#: Weight of the newest frame in the running cost estimate.
COST_SMOOTHING = 0.3
#: Longest a view's frames wait for the answer to a command (see `FrameBudget.hold`), seconds.
HOLD_S = 0.1


class FrameBudget:
    def __init__(self, share: float = DEFAULT_SHARE, max_rate: float = 30.0, min_rate: float = 4.0) -> None:
        self.share = share
        self.min_interval = 1.0 / max_rate
        self.max_interval = 1.0 / min_rate
        self.cost = 0.0            # running estimate of one frame's cost, seconds
        self._frame_cost = 0.0     # cost of the frame being drawn so far
        self._next = 0.0
        self._held_until = 0.0

    def hold(self, seconds: float = HOLD_S) -> None:
        """No frame starts for up to `seconds`, or until `release`: a command (play, pause, step,
        reset) was clicked, and its answer should find the GUI thread free rather than a frame
        of this view (a few ms of drawing) started in between."""
        self._held_until = time.perf_counter() + seconds

    def release(self) -> None:
        """The answer has arrived: frames may start again."""
        self._held_until = 0.0

    def held(self, now: float | None = None) -> bool:
        """True while frames wait for an answer (see `hold`)."""
        return (time.perf_counter() if now is None else now) < self._held_until

    def ready(self, now: float | None = None) -> bool:
        """True if a frame may start now; starting one folds the previous frame's cost in."""
        now = time.perf_counter() if now is None else now
        if now < self._next or self.held(now):
            return False
        if self._frame_cost:
            self.cost += COST_SMOOTHING * (self._frame_cost - self.cost)
            self._frame_cost = 0.0
        interval = min(max(self.cost / self.share, self.min_interval), self.max_interval)
        self._next = now + interval
        return True

    def wait(self, now: float | None = None) -> float:
        """Seconds until `ready()` can be true (0 if now)."""
        now = time.perf_counter() if now is None else now
        return max(0.0, self._next - now, self._held_until - now)

    def spent(self, seconds: float) -> None:
        """Add time spent drawing the current frame (data updates and paint events alike)."""
        self._frame_cost += seconds

    def interval(self) -> float:
        """Seconds between frames at the current cost."""
        return min(max(self.cost / self.share, self.min_interval), self.max_interval)


def in_hidden_tab(widget) -> bool:
    """True if `widget` sits in a shown window but is not visible itself (a tab not current, a
    collapsed splitter): it should keep its data up to date but draw nothing until `showEvent`.
    A widget whose window is not shown (tests, offscreen recording) draws as usual."""
    top = widget.window()
    return top is not widget and top.isVisible() and not widget.isVisible()
