"""Numbers → colours for the diagram and the heatmap: the one place that says what a colour means.

Gradients (each step's contribution to dL/dW_H, ‖∂L/∂h_t‖) are shown on one log10 colour scale with
fixed levels, the same for every preset, lesson and view (`GradientScale`):

- **relative** (the default): each value divided by the largest finite value of the same iteration,
  levels `RELATIVE_LEVELS` = 10⁻¹⁶ … 1. Lit means "this step still contributes", dark means
  "vanished", whatever the loss scale: a solved run whose loss is 1e-9 stays lit where its steps
  still share the gradient. 10⁻¹⁶ is float64's resolution (ε ≈ 2.2e-16): a step below it no longer
  changes a single bit of the summed gradient.
- **absolute**: log10 of the value itself on `ABSOLUTE_LEVELS`, fixed too, so two runs compare
  colour for colour; values outside are drawn at the ends (said in the caption).

Non-finite values (a run that blew up) are drawn in the top colour in both modes.

`ColourScale` is the plain map with levels that stay put from frame to frame and widen, to whole
decades on a log scale, when a value falls outside (the diagram's node activations).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtGui import QColor

from rnnviz.gui.theme import lookup_table

#: Values below this are drawn as the darkest colour (a gradient of 1e-300 is "zero" to the eye).
LOG_FLOOR = 1e-300

#: log10 of a value relative to the largest of its iteration: 1e-16 (float64's ε) … 1.
RELATIVE_LEVELS = (-16.0, 0.0)
#: log10 of the value itself. Measured on the presets: tanh's far-back steps reach 1e-21, a solved
#: IRNN sits near 1e-8, fresh runs near 1; a run that explodes passes the top (drawn at the top).
ABSOLUTE_LEVELS = (-24.0, 4.0)

RELATIVE, ABSOLUTE = "relative", "absolute"


class ColourScale:
    """Maps magnitudes to a colour map; `log=True` maps log10(value), the way gradients vary.

    Levels are fixed between frames (no per-frame auto-levels) and widen, to whole decades on a log
    scale, as soon as a value falls outside them; `fixed=True` keeps `initial` whatever comes.
    With `shrink_after=n` they also narrow back to the data once it has left a decade or more of
    the range unused for n observations in a row. `restart()` forgets them.
    """

    def __init__(self, colormap: str = "cividis", *, log: bool = True, min_span: float = 2.0,
                 max_span: float = 16.0, initial: tuple[float, float] | None = None,
                 shrink_after: int | None = None, fixed: bool = False) -> None:
        self.log = log
        self.shrink_after = shrink_after
        self.fixed = fixed
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

    def set_levels(self, levels: tuple[float, float]) -> None:
        """Fixed levels from now on (e.g. another mode's)."""
        self._initial = self.levels = (float(levels[0]), float(levels[1]))

    def transform(self, values: np.ndarray) -> np.ndarray:
        """The scale's coordinate: log10(v) (v ≤ 1e-300 → −300) or v itself; inf → +inf, NaN stays."""
        values = np.asarray(values, dtype=float)
        if not self.log:
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(np.maximum(values, LOG_FLOOR))

    def observe(self, values: np.ndarray) -> bool:
        """Widen the levels to cover the finite values; True if they changed."""
        if self.fixed:
            return False
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

    def fractions_of(self, coords: np.ndarray) -> np.ndarray:
        """Position of each coordinate (already transformed) in the levels, clipped to [0, 1];
        inf and NaN (a blow-up) → 1."""
        lo, hi = self.levels or (0.0, 1.0)
        out = (np.asarray(coords, dtype=float) - lo) / (hi - lo)
        out[~np.isfinite(out)] = 1.0
        return np.clip(out, 0.0, 1.0, out=out)

    def fractions(self, values: np.ndarray) -> np.ndarray:
        """Position of each value in the levels, clipped to [0, 1]; inf and NaN (a blow-up) → 1."""
        return self.fractions_of(self.transform(values))

    def indices(self, values: np.ndarray) -> np.ndarray:
        """Lookup-table index (0..255) of each value."""
        return (self.fractions(values) * (len(self.lut) - 1) + 0.5).astype(np.intp)

    def colours(self, values: np.ndarray) -> list[QColor]:
        qcolors = self.qcolors
        return [qcolors[i] for i in self.indices(values)]

    def rgba(self, values: np.ndarray) -> np.ndarray:
        """(…, 4) uint8 colours, for an RGBA image."""
        return self.lut[self.indices(values)]


def relative_to_largest(values: np.ndarray, reference: float | None = None) -> np.ndarray:
    """values / the largest finite value along the last axis (or / `reference`), as float64.

    Non-finite values stay non-finite (inf: drawn as the top colour); a row whose largest finite
    value is 0 (nothing flows at all) comes out all 0."""
    values = np.asarray(values, dtype=float)
    if reference is None:
        finite = np.where(np.isfinite(values), values, 0.0)
        top = finite.max(axis=-1, keepdims=True) if values.size else np.ones(values.shape[:-1] + (1,))
    else:
        top = np.asarray(reference, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(top > 0, values / np.where(top > 0, top, 1.0), np.where(np.isfinite(values), 0.0, values))


class GradientScale(ColourScale):
    """The gradient colour scale shared by the heatmap and the diagram: relative or absolute,
    log10, on fixed levels (see the module's docstring)."""

    def __init__(self, colormap: str = "cividis", mode: str = RELATIVE) -> None:
        super().__init__(colormap, log=True, fixed=True, initial=RELATIVE_LEVELS)
        self.set_mode(mode)

    def set_mode(self, mode: str) -> None:
        if mode not in (RELATIVE, ABSOLUTE):
            raise ValueError(f"mode is {RELATIVE!r} or {ABSOLUTE!r}, not {mode!r}")
        self.mode = mode
        self.set_levels(RELATIVE_LEVELS if mode == RELATIVE else ABSOLUTE_LEVELS)

    @property
    def relative(self) -> bool:
        return self.mode == RELATIVE

    def shown(self, values: np.ndarray, reference: float | None = None) -> np.ndarray:
        """What the colour encodes, before the log: the values relative to the largest finite one of
        their row (or to `reference`) in relative mode, the values themselves in absolute mode."""
        return relative_to_largest(values, reference) if self.relative else np.asarray(values, dtype=float)

    def coords(self, values: np.ndarray, reference: float | None = None) -> np.ndarray:
        """log10 of what is shown, clipped to the levels; a blow-up (inf, NaN) → the top level."""
        lo, hi = self.levels
        coords = self.transform(self.shown(values, reference))
        coords[np.isnan(coords) | (coords > hi)] = hi
        return np.maximum(coords, lo)

    def gradient_colours(self, values: np.ndarray, reference: float | None = None) -> list[QColor]:
        qcolors, top = self.qcolors, len(self.lut) - 1
        return [qcolors[i] for i in (self.fractions_of(self.coords(values, reference)) * top + 0.5).astype(np.intp)]

    def bar_label(self, quantity: str) -> str:
        """The colour bar's title for `quantity` (e.g. "‖∂L/∂h_t‖"; the relative one names the share)."""
        if self.relative:
            return "log₁₀ share of the largest step"
        return f"log₁₀ {quantity}"

    def describe(self) -> str:
        """One sentence: what a colour means in this mode (captions and tooltips)."""
        lo, hi = self.levels
        if self.relative:
            return (f"relative to the largest step of the same iteration, log scale 10^{lo:g} … 1: "
                    "lit = this step still contributes, dark = vanished (below 1e-16 a step changes "
                    "nothing in float64); inf/NaN at the top")
        return (f"absolute, log scale fixed at 10^{lo:g} … 10^{hi:g} for every run (values beyond are "
                "drawn at the ends; inf/NaN at the top)")
