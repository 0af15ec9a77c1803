"""Numbers → colours for the diagram and the heatmap, on levels that stay put from frame to frame.

Levels are fixed between frames (no per-frame auto-levels: colours mean the same thing from one
iteration to the next) and widen, to whole decades on a log scale, as soon as a value falls outside
them. With `shrink_after=n` they also narrow back to the data once it has left a decade or more of
the range unused for n observations in a row (a live view keeps its contrast as training moves on);
without it they only widen (a history, like the heatmap, keeps one scale). `restart()` forgets them.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtGui import QColor

from rnnviz.gui.theme import lookup_table

#: Values below this are drawn as the darkest colour (a gradient of 1e-300 is "zero" to the eye).
LOG_FLOOR = 1e-300


class ColourScale:
    """Maps magnitudes to a colour map; `log=True` maps log10(value), the way gradients vary."""

    def __init__(self, colormap: str = "cividis", *, log: bool = True, min_span: float = 2.0,
                 max_span: float = 16.0, initial: tuple[float, float] | None = None,
                 shrink_after: int | None = None) -> None:
        self.log = log
        self.shrink_after = shrink_after
        self._unused = 0
        self.min_span = min_span          # log: decades shown at least; linear: ignored
        self.max_span = max_span          # log: decades shown at most below the top
        self._initial = initial
        self.set_colormap(colormap)
        self.restart()

    def set_colormap(self, name: str) -> None:
        self.colormap = name
        self.lut = lookup_table(name)
        self.qcolors = [QColor(int(r), int(g), int(b)) for r, g, b, _ in self.lut]

    def restart(self) -> None:
        self.levels: tuple[float, float] | None = self._initial
        self._unused = 0

    def transform(self, values: np.ndarray) -> np.ndarray:
        """The scale's coordinate: log10(v) (v ≤ 1e-300 → −300) or v itself; inf → +inf, NaN stays."""
        values = np.asarray(values, dtype=float)
        if not self.log:
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(np.maximum(values, LOG_FLOOR))

    def observe(self, values: np.ndarray) -> bool:
        """Widen the levels to cover the finite values; True if they changed."""
        coords = self.transform(values)
        coords = coords[np.isfinite(coords)]
        if self.log:
            coords = coords[coords > math.log10(LOG_FLOOR)]
        if coords.size == 0:
            return False
        low, high = float(coords.min()), float(coords.max())
        if self.log:
            low, high = math.floor(low), math.ceil(high)
        old = self.levels
        if old is None:
            self.levels = self._bounded(low, high)
        elif low < old[0] or high > old[1]:
            self.levels = self._bounded(min(old[0], low), max(old[1], high))
            self._unused = 0
        elif self.shrink_after is not None and self.log and (high <= old[1] - 1 or low >= old[0] + 1):
            self._unused += 1
            if self._unused >= self.shrink_after:
                self.levels = self._bounded(low, high)
                self._unused = 0
        else:
            self._unused = 0
        return self.levels != old

    def _bounded(self, lo: float, hi: float) -> tuple[float, float]:
        if self.log:
            lo = max(min(lo, hi - self.min_span), hi - self.max_span)
        elif hi <= lo:
            hi = lo + 1.0
        return (lo, hi)

    def fractions(self, values: np.ndarray) -> np.ndarray:
        """Position of each value in the levels, clipped to [0, 1]; inf and NaN (a blow-up) → 1."""
        lo, hi = self.levels or (0.0, 1.0)
        coords = self.transform(values)
        out = (coords - lo) / (hi - lo)
        out[~np.isfinite(out)] = 1.0
        return np.clip(out, 0.0, 1.0, out=out)

    def indices(self, values: np.ndarray) -> np.ndarray:
        """Lookup-table index (0..255) of each value."""
        return (self.fractions(values) * (len(self.lut) - 1) + 0.5).astype(np.intp)

    def colours(self, values: np.ndarray) -> list[QColor]:
        qcolors = self.qcolors
        return [qcolors[i] for i in self.indices(values)]

    def rgba(self, values: np.ndarray) -> np.ndarray:
        """(…, 4) uint8 colours, for an RGBA image."""
        return self.lut[self.indices(values)]
