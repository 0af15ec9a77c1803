"""How the plots read: log axes labelled at every range, legends that follow the theme.

`LogAxis`: pyqtgraph's log axis labels whole decades and, within a decade, every one of 2…9: a
range between 1 and 2 shows the single label "1", and a range of a few decades labels every minor
tick until they run into each other. `LogAxis` labels

- whole decades (every 2nd, 5th, … when there are many) with unlabelled ticks at 2…9 between them,
  when the range spans at least `DECADE_TICKS_FROM` decades;
- round values (1, 1.2, 1.4 …, or 0.5, 1, 1.5 …) when it spans less, so the range 1–2 reads
  1, 1.2, 1.4, 1.6, 1.8, 2.

Values reach the axis in log10 units (pyqtgraph's log mode); labels show the values themselves.

`recolour_legend`: a pyqtgraph legend's `setLabelTextColor` reaches only labels added later; the
ones it holds keep the old colour (dark on dark after a switch to the dark theme).
"""

from __future__ import annotations

import math

import pyqtgraph as pg

#: Ranges at least this many decades wide are labelled at whole decades.
DECADE_TICKS_FROM = 1.5
#: At most one label per this many pixels of axis (at least two labels).
PIXELS_PER_LABEL = 40
_MANTISSAS = (1, 2, 2.5, 5, 10)


def _nice_step(span: float, count: int) -> float:
    """The smallest round step (1, 2, 2.5 or 5 × 10^k) that cuts `span` into at most `count` parts."""
    raw = span / max(count, 1)
    exponent = 10.0 ** math.floor(math.log10(raw))
    return next(m * exponent for m in _MANTISSAS if m * exponent >= raw * (1 - 1e-9))


def log_ticks(low: float, high: float, labels: int) -> tuple[list[float], list[float]]:
    """Major (labelled) and minor tick values, in log10 units, for the log10 range [low, high]
    with room for about `labels` labels."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [], []
    labels = max(labels, 2)
    if high - low >= DECADE_TICKS_FROM:
        first, last = math.ceil(low), math.floor(high)
        every = max(1, math.ceil((last - first + 1) / labels))
        major = [float(d) for d in range(first, last + 1) if d % every == 0]
        minor = []
        if every == 1:
            minor = [d + math.log10(k) for d in range(math.floor(low), last + 1) for k in range(2, 10)
                     if low <= d + math.log10(k) <= high]
        return major, minor
    a, b = 10.0 ** low, 10.0 ** high
    step = _nice_step(b - a, labels)
    major = [math.log10(k * step) for k in range(math.ceil(a / step - 1e-9), math.floor(b / step + 1e-9) + 1)
             if k > 0]
    return major, []


def tick_label(value: float) -> str:
    """A tick's value (given in log10 units) in at most about five characters: 0.01, 1.4, 20, 1e5."""
    number = 10.0 ** value
    if 1e-3 <= number < 1e4:
        return f"{number:.3g}"
    mantissa, exponent = f"{number:.1e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"


class LogAxis(pg.AxisItem):
    """An AxisItem whose log mode uses `log_ticks` and `tick_label` (linear mode is pyqtgraph's)."""

    def tickValues(self, minVal, maxVal, size):
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        low, high = sorted((minVal, maxVal))
        major, minor = log_ticks(low, high, int(size // PIXELS_PER_LABEL))
        return [(1.0, major), (0.1, minor)]

    def tickStrings(self, values, scale, spacing):
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        if spacing < 1.0:                      # the minor ticks: unlabelled
            return [""] * len(values)
        return [tick_label(v) for v in values]


def recolour_legend(legend: pg.LegendItem, colour: str) -> None:
    """Every label of `legend`, now and later, in `colour`."""
    legend.setLabelTextColor(colour)
    for _sample, label in legend.items:
        label.setText(label.text, color=colour)
