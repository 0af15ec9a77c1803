"""Live training curves: the loss, and the gradient norm before and after clipping.

History lives in a `History` of fixed capacity: when it fills, the older half is thinned two to one
(losses averaged, gradient norms keep their maximum so spikes survive), so an hour-long run costs
the same memory and frame time as a minute-long one. Every plot item is created once; a frame is a
few `setData` calls on finite values only (inf/NaN are dropped before they reach a plot).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from rnnviz.gui.frame_budget import FrameBudget
from rnnviz.gui.theme import LIGHT, Theme

#: Points kept per curve; beyond that the oldest half is thinned 2:1.
HISTORY_CAPACITY = 3000
#: Bins per pixel when a plot downsamples what it draws; each bin draws its min and max, so 0.5
#: draws about one point per pixel column.
SAMPLES_PER_PIXEL = 0.5
#: Weight β of the exponential moving average drawn as the smoothed loss (about 1/(1-β) iterations).
SMOOTHING = 0.95
#: Losses are floored at this before the log in the smoothed curve (a loss can be exactly 0).
TINY_LOSS = 1e-300
#: Redraws per second at most; fewer when frames are costly (see frame_budget).
REDRAW_RATE = 30
#: Width of the left axes (px), equal so the linked x axes line up.
AXIS_WIDTH = 58
#: Space between the parts of a plot's header row (px).
HEADER_GAP = 12
#: Mouse-move events per second the crosshair follows.
HOVER_RATE = 60
#: The x axis runs to a round number at least this factor past the newest iteration.
X_HEADROOM = 1.1
#: Round numbers the x axis may end at (× 10^k). Few of them: each change of range rebuilds both
#: x axes (≈4 ms a frame while training fast); with these the data still fills 55–100 % of the width.
X_MANTISSAS = (1, 2, 3, 5)
#: The x axis spans at least this many iterations (a fresh run is not a dot in the middle).
MIN_X_SPAN = 20
#: A log y axis spans at least this many decades, and labels at most this many.
MIN_DECADES = 2
MAX_LOG_LABELS = 6
#: A linear y axis is rounded to about this many steps.
Y_DIVISIONS = 5

#: Shown over the empty loss plot of a fresh run.
START_HINT = "Press Play (Space) to train, or Step (S) for one iteration."

COLUMNS = ("iteration", "loss", "smoothed", "grad_before", "grad_after", "clipped")
# How two neighbouring points become one when old history is thinned.
_MERGE = {"iteration": "first", "loss": "mean", "smoothed": "mean",
          "grad_before": "max", "grad_after": "max", "clipped": "max"}


class History:
    """Per-iteration numbers in bounded memory (no Qt). Columns are float arrays of equal length."""

    def __init__(self, capacity: int = HISTORY_CAPACITY) -> None:
        if capacity < 4:
            raise ValueError(f"capacity must be at least 4, got {capacity}")
        self.capacity = capacity
        self._data = {name: np.zeros(capacity) for name in COLUMNS}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def clear(self) -> None:
        self._size = 0

    def column(self, name: str) -> np.ndarray:
        """The stored values (a read-only view, valid until the next append)."""
        view = self._data[name][: self._size]
        view.flags.writeable = False
        return view

    def append(self, rows: dict[str, np.ndarray]) -> None:
        """Append equal-length arrays, one per column, thinning old points when full."""
        count = len(rows["iteration"])
        if count > self.capacity // 2:  # more than fits after thinning: keep the newest
            rows = {k: v[-(self.capacity // 2):] for k, v in rows.items()}
            count = self.capacity // 2
        while self._size + count > self.capacity:
            self._thin()
        for name in COLUMNS:
            self._data[name][self._size: self._size + count] = rows[name]
        self._size += count

    def _thin(self) -> None:
        """Merge the older half pairwise: it shrinks to a quarter of the capacity."""
        half = (self._size // 2) & ~1
        for name in COLUMNS:
            column = self._data[name]
            pairs = column[:half].reshape(-1, 2)
            how = _MERGE[name]
            if how == "first":
                merged = pairs[:, 0]
            elif how == "mean":
                merged = pairs.mean(axis=1)
            else:
                merged = pairs.max(axis=1)
            rest = column[half: self._size].copy()
            column[: half // 2] = merged
            column[half // 2: half // 2 + len(rest)] = rest
        self._size -= half // 2


class SmoothedLoss:
    """The smoothed loss every loss plot draws (the training curves and Compare): a debiased EMA
    (as in Adam / TensorBoard) of log L with weight `SMOOTHING`, shown as exp of it. A geometric
    mean, so one iteration at 1e27 does not dominate the next hundreds, as it would in a plain average."""

    def __init__(self) -> None:
        self._ema = 0.0
        self._count = 0

    def add(self, loss: float) -> float:
        """Take the next finite loss; the smoothed loss up to it."""
        self._count += 1
        self._ema = SMOOTHING * self._ema + (1 - SMOOTHING) * math.log(max(loss, TINY_LOSS))
        return math.exp(self._ema / (1 - SMOOTHING ** self._count))


def _rows(snapshots, smoothed: SmoothedLoss) -> dict[str, np.ndarray]:
    """Columns for `History.append` from snapshots whose loss and gradient norm are finite."""
    keep = [s for s in snapshots if math.isfinite(s.loss) and math.isfinite(s.grad_norm)]
    n = len(keep)
    rows = {name: np.empty(n) for name in COLUMNS}
    for i, s in enumerate(keep):
        rows["iteration"][i] = s.iteration
        rows["loss"][i] = s.loss
        rows["smoothed"][i] = smoothed.add(s.loss)
        rows["grad_before"][i] = s.grad_norm
        rows["grad_after"][i] = s.grad_norm_clipped if math.isfinite(s.grad_norm_clipped) else s.grad_norm
        rows["clipped"][i] = float(s.clipped)
    return rows


def _finite(x: np.ndarray, y: np.ndarray, positive: bool) -> tuple[np.ndarray, np.ndarray]:
    mask = np.isfinite(y) & (y > 0) if positive else np.isfinite(y)
    return x[mask], y[mask]


def _finite_bounds(item: pg.PlotDataItem) -> None:
    """Give the item's curve a data-bounds function for finite data: plain min/max instead of
    pyqtgraph's NaN-tolerant one (nanmin/nanmax under a warnings guard), which Qt's bounding-rect
    query runs for every curve after every setData. Only finite values reach these curves."""
    curve = item.curve
    general = curve.dataBounds

    def bounds(ax, frac=1.0, orthoRange=None):
        if frac < 1.0 or orthoRange is not None or curve.opts["fillLevel"] is not None:
            return general(ax, frac, orthoRange)
        data = curve.getData()[ax]
        if data is None or len(data) == 0:
            return None, None
        return float(data.min()), float(data.max())

    curve.dataBounds = bounds


def _pen(colour: str, width: float = 1.5, style=Qt.PenStyle.SolidLine):
    return pg.mkPen(colour, width=width, style=style)


def nice_ceil(value: float, mantissas=(1, 2, 5)) -> float:
    """The smallest mantissa × 10^k that is ≥ value (value > 0); by default 1, 2 or 5 × 10^k."""
    exponent = 10.0 ** math.floor(math.log10(value))
    for mantissa in (*mantissas, 10):
        if mantissa * exponent >= value * (1 - 1e-12):
            return mantissa * exponent
    return 10 * exponent


def x_range(last_iteration: float) -> tuple[float, float]:
    """0 to a round number past the newest iteration: it changes rarely, so axes repaint rarely,
    and the data fills most of the width."""
    return 0.0, nice_ceil(max(last_iteration * X_HEADROOM, MIN_X_SPAN), X_MANTISSAS)


def linear_range(low: float, high: float) -> tuple[float, float]:
    """[low, high] widened to multiples of a round step (a fifth of the span, rounded up)."""
    if not high > low:
        half = max(abs(low), 1.0) * 0.05
        low, high = low - half, high + half
    step = nice_ceil((high - low) / Y_DIVISIONS)
    return math.floor(low / step) * step, math.ceil(high / step) * step


def log_range(low: float, high: float) -> tuple[float, float]:
    """Whole decades around [low, high] (positive; at least MIN_DECADES), in log10 units as a
    log-mode ViewBox wants."""
    a, b = math.floor(math.log10(low)), math.ceil(math.log10(high))
    if b - a < MIN_DECADES:  # one decade gets crowded minor labels (0.2 0.3 … 0.9); widen downwards
        a = b - MIN_DECADES
    return float(a), float(b)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decade_label(exponent: int) -> str:
    """1, 10, 0.01 for small exponents; 10⁵, 10⁻⁸ beyond."""
    if -2 <= exponent <= 3:
        return f"{10.0 ** exponent:g}"
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def decade_ticks(low: float, high: float) -> list:
    """Ticks for a log axis spanning log10 values [low, high]: one label per decade (or per few
    decades when there are many), no crowded minor labels."""
    first, last = math.floor(low), math.ceil(high)
    step = int(nice_ceil(max(1.0, (last - first) / MAX_LOG_LABELS)))
    major = [(float(e), decade_label(e)) for e in range(first, last + 1) if e % step == 0]
    minor = [(float(e), "") for e in range(first, last + 1) if e % step != 0]
    return [major, minor]


class _Plot(pg.PlotWidget):
    """A PlotWidget that reports what its paint events cost and when the mouse leaves it."""

    left = Signal()

    def __init__(self, budget: FrameBudget, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self._budget = budget
        # The view paints all of its viewport with its background brush; Qt filled it with the
        # palette first (a viewport fills its background), and the view then copied its cached
        # background over that: two passes over every plot pixel before the curves, one is enough.
        self.viewport().setAutoFillBackground(False)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setCacheMode(self.CacheModeFlag.CacheNone)

    def paintEvent(self, event) -> None:
        start = time.perf_counter()
        super().paintEvent(event)
        self._budget.spent(time.perf_counter() - start)

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        self.left.emit()


class _Crosshair:
    """Vertical and horizontal lines following the mouse; `describe(x)` says what is under it."""

    def __init__(self, plot: _Plot, label: QLabel, describe, theme: Theme) -> None:
        self.plot, self.label, self.describe = plot, label, describe
        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.hline = pg.InfiniteLine(angle=0, movable=False)
        for line in (self.vline, self.hline):
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
        self.apply_theme(theme)
        self._proxy = pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=HOVER_RATE, slot=self._moved)
        plot.left.connect(self._left)

    def apply_theme(self, theme: Theme) -> None:
        pen = _pen(theme.crosshair, 1, Qt.PenStyle.DashLine)
        self.vline.setPen(pen)
        self.hline.setPen(pen)

    def _moved(self, event) -> None:
        position = event[0]
        view = self.plot.getPlotItem().vb
        if not view.sceneBoundingRect().contains(position):
            self._left()
            return
        point = view.mapSceneToView(position)
        self.vline.setPos(point.x())
        self.hline.setPos(point.y())
        self.vline.setVisible(True)
        self.hline.setVisible(True)
        self.label.setText(self.describe(point.x()))

    def _left(self) -> None:
        self.vline.setVisible(False)
        self.hline.setVisible(False)
        self.label.setText("")


def legend_text(entries) -> str:
    """Rich text: a coloured line sample before each name."""
    return "&nbsp;&nbsp;&nbsp;".join(f'<span style="color:{colour}; font-weight:900">━━</span>&nbsp;{name}'
                                     for colour, name in entries)


def _nearest(iterations: np.ndarray, x: float) -> int | None:
    if len(iterations) == 0:
        return None
    i = int(np.searchsorted(iterations, x))
    if i >= len(iterations):
        return len(iterations) - 1
    if i > 0 and x - iterations[i - 1] < iterations[i] - x:
        return i - 1
    return i


def _fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


class TrainingCurves(QWidget):
    """The Training tab's plots: `lossPlot` above `gradPlot`, x axes linked, one shared history.

    The axes follow the run in round steps (so they repaint rarely); dragging or zooming a plot
    stops that until the plot is double-clicked.
    """

    log_scale_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.setObjectName("trainingCurves")
        self.history = History()
        self.budget = FrameBudget(max_rate=REDRAW_RATE)
        self._smoothed = SmoothedLoss()
        self._run: int | None = None
        self._clip_mode = "none"
        self._threshold = 1.0
        self._threshold_shown: float | None = None   # where the τ line is (None: not placed yet)
        self._bars_shown = (np.empty(0), np.empty(0))   # the clip bars' data the plot has
        self._diverged_at: int | None = None
        self._dirty = False
        self._follow = True
        self._ranges: dict[str, tuple[float, float]] = {}
        self._theme = theme
        self._layers: list = []          # `CurveLayer`s, while `keep_curve_pixels` is on

        self.loss_plot = _Plot(self.budget, "lossPlot")
        self.grad_plot = _Plot(self.budget, "gradPlot")
        self.log_check = QCheckBox("Log scale", objectName="lossLogCheck")
        self.log_check.setToolTip("Show the loss on a logarithmic axis (L): small improvements late "
                                  "in training and huge values while exploding both stay visible.")
        self.log_check.toggled.connect(self.set_log_scale)
        self.loss_hover = QLabel(objectName="lossHoverLabel")
        self.grad_hover = QLabel(objectName="gradHoverLabel")
        navigation = "Drag to pan, wheel to zoom, double-click to follow the run again."
        self.loss_legend = QLabel(objectName="lossLegend")
        self.grad_legend = QLabel(objectName="gradLegend")
        loss_box = self._titled("Loss", self.loss_legend, self.loss_plot, self.loss_hover, self.log_check,
                                tooltip="Training loss L per iteration (thin) and its moving geometric "
                                        f"mean (thick, EMA of log L, β = {SMOOTHING}). {navigation}")
        grad_box = self._titled("Gradient norm ‖g‖", self.grad_legend, self.grad_plot, self.grad_hover,
                                tooltip="Global gradient norm ‖g‖ = √Σ‖∂L/∂θ‖² before and after "
                                        "clipping, on a log axis. Norm clipping: g ← g·τ/‖g‖ when "
                                        "‖g‖ > τ; red bars show what clipping cut off. " + navigation)
        # What new snapshots never change: the titles, the legends and the log-scale box.
        self._headers = [*(box.findChild(QLabel, "plotTitle") for box in (loss_box, grad_box)),
                         self.loss_legend, self.grad_legend, self.log_check]
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(loss_box)
        splitter.addWidget(grad_box)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        # One-shot: armed when data arrives, so an idle window never wakes Python to draw.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)

        self._build_items()
        self._loss_cross = _Crosshair(self.loss_plot, self.loss_hover, self._describe_loss, theme)
        self._grad_cross = _Crosshair(self.grad_plot, self.grad_hover, self._describe_grad, theme)
        self.apply_theme(theme)


    # ----------------------------------------------------------------- construction
    @staticmethod
    def _titled(title: str, legend: QLabel, plot: pg.PlotWidget, hover: QLabel, *extra: QWidget,
                tooltip: str) -> QWidget:
        """A plot under a header row: title, legend, what the mouse is over, extra widgets."""
        box = QWidget()
        header = QHBoxLayout()
        header.setContentsMargins(6, 2, 6, 0)
        name = QLabel(f"<b>{title}</b>", objectName="plotTitle")
        name.setToolTip(tooltip)
        header.addWidget(name)
        header.addSpacing(HEADER_GAP)
        header.addWidget(legend)
        header.addSpacing(HEADER_GAP)
        header.addWidget(hover, 1)
        hover.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # Neither may set the window's minimum width (large type must still fit 1280 px): the
        # legend is as wide as its text when there is room and is cut at the right when there is
        # not; the hover text takes what room is left.
        legend.setMinimumWidth(1)
        hover.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        for widget in extra:
            header.addWidget(widget)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(plot, 1)
        plot.setToolTip(tooltip)
        return box

    def _build_items(self) -> None:
        lp, gp = self.loss_plot.getPlotItem(), self.grad_plot.getPlotItem()
        for plot in (lp, gp):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.disableAutoRange()
            plot.vb.sigRangeChangedManually.connect(self._stop_following)
            for name in ("left", "bottom"):
                plot.getAxis(name).enableAutoSIPrefix(False)
            plot.getAxis("left").setWidth(AXIS_WIDTH)
        for widget in (self.loss_plot, self.grad_plot):
            widget.scene().sigMouseClicked.connect(self._clicked)
        gp.setLabel("bottom", "iteration")
        gp.setLogMode(y=True)
        gp.setXLink(lp)

        self.raw_curve = lp.plot(name="loss", skipFiniteCheck=True)
        self.smooth_curve = lp.plot(name="smoothed", skipFiniteCheck=True)
        # Drawn bottom to top: ‖g‖ after (thick), what clipping cut off (a vertical bar from after to
        # before at each clipped iteration; line pairs draw far faster than symbols), ‖g‖ before (thin).
        self.after_curve = gp.plot(name="after clipping", skipFiniteCheck=True)
        self.clip_marks = pg.PlotDataItem(name="cut off by clipping", connect="pairs", skipFiniteCheck=True)
        gp.addItem(self.clip_marks)
        self.clip_marks.setDownsampling(ds=1, auto=False)  # thinning would break the pairs
        self.clip_marks.setClipToView(False)
        self.before_curve = gp.plot(name="before clipping", skipFiniteCheck=True)
        for z, item in enumerate((self.after_curve, self.clip_marks, self.before_curve)):
            item.setZValue(z)
        for item in (self.raw_curve, self.smooth_curve, self.after_curve, self.clip_marks, self.before_curve):
            _finite_bounds(item)
        for item in (self.raw_curve, self.smooth_curve, self.before_curve, self.after_curve):
            # "peak" keeps each bin's min and max, so spikes survive; fewer segments draw faster.
            item.opts["autoDownsampleFactor"] = SAMPLES_PER_PIXEL
        self.threshold_line = pg.InfiniteLine(angle=0, movable=False, label="τ",
                                              labelOpts={"position": 0.98, "anchors": [(1, 1), (1, 1)]})
        gp.addItem(self.threshold_line, ignoreBounds=True)
        self.threshold_line.setVisible(False)
        self.diverged_lines = []
        for plot in (lp, gp):
            line = pg.InfiniteLine(angle=90, movable=False, label="diverged",
                                   labelOpts={"position": 0.92, "anchors": [(0, 0), (0, 0)]})
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self.diverged_lines.append(line)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        for widget in (self.loss_plot, self.grad_plot):
            widget.setBackground(theme.base)
            plot = widget.getPlotItem()
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(theme.muted)
                axis.setTextPen(theme.text)
        self.raw_curve.setPen(_pen(theme.loss_raw, 1))
        self.smooth_curve.setPen(_pen(theme.loss_smooth, 2.5))
        self.before_curve.setPen(_pen(theme.grad_before, 1.2))
        self.after_curve.setPen(_pen(theme.grad_after, 3.5))
        self.clip_marks.setPen(_pen(theme.clip_event, 1.5))
        self.threshold_line.setPen(_pen(theme.threshold, 1.5, Qt.PenStyle.DashLine))
        self.threshold_line.label.setColor(theme.threshold)
        self.threshold_line.label.fill = pg.mkBrush(theme.base + "D0")
        for line in self.diverged_lines:
            line.setPen(_pen(theme.diverged, 2, Qt.PenStyle.DashLine))
            line.label.setColor(theme.diverged)
            line.label.fill = pg.mkBrush(theme.base + "D0")
        self.loss_legend.setText(legend_text(((theme.loss_raw, "loss"), (theme.loss_smooth, "smoothed"))))
        self.grad_legend.setText(legend_text(((theme.grad_before, "before clipping"),
                                          (theme.grad_after, "after clipping"),
                                          (theme.clip_event, "cut off by clipping"))))
        self._loss_cross.apply_theme(theme)
        self._grad_cross.apply_theme(theme)
        self._dirty = True
        self._schedule()

    # ----------------------------------------------------------------- view protocol
    def restart(self, snapshot) -> None:
        """A new run: forget the history and start from the run's iteration-0 snapshot."""
        self.history.clear()
        self._smoothed = SmoothedLoss()
        self._run = snapshot.run
        self._diverged_at = None
        self._follow = True
        self._ranges.clear()
        self.set_clipping(snapshot.settings.clip, snapshot.settings.clip_threshold)
        self.show_snapshots((snapshot,))   # drawn by the next frame, not here: reset stays snappy

    def show_snapshots(self, snapshots: tuple) -> None:
        snaps = [s for s in snapshots if self._run is None or s.run == self._run]
        if not snaps:
            return
        if self._run is None:
            self._run = snaps[0].run
        start = time.perf_counter()
        self.history.append(_rows(snaps, self._smoothed))
        last = snaps[-1]
        self.set_clipping(last.settings.clip, last.settings.clip_threshold)
        if last.diverged and self._diverged_at is None:
            self._diverged_at = last.diverged_at
            self.redraw()  # show the end of the run at once
        self._dirty = True
        self.budget.spent(time.perf_counter() - start)
        self._schedule()

    # ----------------------------------------------------------------- settings
    def set_clipping(self, mode: str, threshold: float) -> None:
        if (mode, threshold) == (self._clip_mode, self._threshold):
            return
        self._clip_mode, self._threshold = mode, threshold
        self._dirty = True
        self._schedule()

    def set_log_scale(self, on: bool) -> None:
        if self.log_check.isChecked() != on:
            self.log_check.setChecked(on)  # re-enters through toggled
            return
        self.loss_plot.getPlotItem().setLogMode(y=on)
        self.loss_plot.getPlotItem().getAxis("left").setTicks(None)
        # pyqtgraph's switch turns auto-range back on for both axes: set both round ranges again
        self._ranges.pop("loss", None)
        self._ranges.pop("x", None)
        self._dirty = True
        self.redraw()
        self.log_scale_changed.emit(on)

    def log_scale(self) -> bool:
        return self.log_check.isChecked()

    def still_widgets(self) -> tuple[tuple, list]:
        """(state, widgets): the plots' titles, legends and log-scale box, which look the same from
        frame to frame while `state` (the legends' text, which carries the theme's colours, and the
        box's check) does; `rnnviz record` paints them only when it changes (see its `Camera`)."""
        return (self.loss_legend.text(), self.grad_legend.text(), self.log_check.isChecked()), self._headers

    def keep_curve_pixels(self, on: bool = True) -> None:
        """Paint the wide curves and the clipping bars from the pixels they kept, stroking only what
        each frame adds (`CurveLayer`): for `rnnviz record`, which paints every frame; the pixels are
        the same. The thin raw loss is left alone: pyqtgraph draws it as one polyline, whose square
        ends would differ if it were drawn in pieces (and Qt's one-pixel lines are cheap)."""
        from rnnviz.gui.curve_layers import CurveLayer   # recordings only: not at the app's start-up

        for layer in self._layers:
            layer.release()
        self._layers = ([CurveLayer(item.curve) for item in
                         (self.smooth_curve, self.after_curve, self.clip_marks, self.before_curve)] if on else [])

    def follow(self) -> None:
        """Let the axes follow the run again (after the user zoomed or panned)."""
        self._follow = True
        self._ranges.clear()
        self._dirty = True
        self.redraw()

    def _stop_following(self, *_args) -> None:
        self._follow = False
        for widget in (self.loss_plot, self.grad_plot):   # zoomed in: pyqtgraph's own ticks
            widget.getPlotItem().getAxis("left").setTicks(None)

    def _clicked(self, event) -> None:
        if event.double():
            self.follow()

    # ----------------------------------------------------------------- drawing
    def _schedule(self) -> None:
        """Redraw as soon as the frame budget allows (if anything changed and we are visible)."""
        if self._dirty and not self._timer.isActive():
            self._timer.start(math.ceil(self.budget.wait() * 1000))

    def _tick(self) -> None:
        if not (self._dirty and self.isVisible()):
            return          # a hidden tab redraws when shown (showEvent)
        if self.budget.ready():
            self.redraw()
        else:
            self._schedule()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._schedule()

    def redraw(self) -> None:
        """Push the history into the plot items (a few setData calls) and move the axes if needed."""
        start = time.perf_counter()
        self._dirty = False
        h = self.history
        x = h.column("iteration")
        log_loss = self.log_scale()
        loss = _finite(x, h.column("loss"), log_loss)
        before = _finite(x, h.column("grad_before"), True)
        after = _finite(x, h.column("grad_after"), True)
        if self._follow:
            # Ranges first: a range change makes every clipped/downsampled curve recompute what it
            # shows, so setting them after setData would do that work twice.
            self._follow_data(x, loss[1], np.concatenate([before[1], after[1]]), log_loss)
        self.raw_curve.setData(*loss)
        self.smooth_curve.setData(*_finite(x, h.column("smoothed"), log_loss))
        self.before_curve.setData(*before)
        self.after_curve.setData(*after)
        bars = self._clip_bars(x)
        if not all(np.array_equal(new, old) for new, old in zip(bars, self._bars_shown)):
            # Bars change only at clipped iterations (rare once a run settles); an unchanged set
            # would cost a full setData and new bounds, and draw the same.
            self._bars_shown = bars
            self.clip_marks.setData(*bars)
        show_threshold = self._clip_mode == "norm"
        self.threshold_line.setVisible(show_threshold)
        if show_threshold and self._threshold_shown != self._threshold:   # moving it re-lays its label
            self._threshold_shown = self._threshold
            self.threshold_line.setValue(math.log10(self._threshold))
            self.threshold_line.label.setFormat(f"τ = {self._threshold:g}")
        for line in self.diverged_lines:
            line.setVisible(self._diverged_at is not None)
            if self._diverged_at is not None:
                line.setValue(self._diverged_at)
        for widget in (self.loss_plot, self.grad_plot):
            # Apply a range change now rather than in the paint: pyqtgraph defers the view matrix to
            # the scene's prepare-for-paint, and the geometry that changes then (curve bounds, line
            # labels) schedules a second paint of the same frame.
            widget.getPlotItem().vb.updateMatrix()
        if not self._loss_cross.vline.isVisible():
            self.loss_hover.setText(START_HINT if len(h) <= 1 else "")
        self.budget.spent(time.perf_counter() - start)

    def _clip_bars(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = self.history
        clipped = h.column("clipped") > 0
        top, bottom = h.column("grad_before")[clipped], h.column("grad_after")[clipped]
        ok = np.isfinite(top) & np.isfinite(bottom) & (top > 0) & (bottom > 0)
        xs = np.repeat(x[clipped][ok], 2)
        ys = np.empty(len(xs))
        ys[0::2], ys[1::2] = bottom[ok], top[ok]
        return xs, ys

    def _follow_data(self, x, loss, grads, log_loss: bool) -> None:
        self._set_range("x", self.loss_plot, x_range(x[-1] if len(x) else 0.0), axis="x")
        if len(loss):
            lo, hi = float(loss.min()), float(loss.max())
            self._set_range("loss", self.loss_plot, log_range(lo, hi) if log_loss else linear_range(lo, hi))
        if len(grads):
            lo, hi = float(grads.min()), float(grads.max())
            if self._clip_mode == "norm":
                lo, hi = min(lo, self._threshold), max(hi, self._threshold)
            self._set_range("grad", self.grad_plot, log_range(lo, hi))

    def _set_range(self, key: str, widget: pg.PlotWidget, bounds: tuple[float, float], axis: str = "y") -> None:
        if self._ranges.get(key) == bounds:
            return
        self._ranges[key] = bounds
        plot = widget.getPlotItem()
        if axis == "x":
            plot.vb.setXRange(*bounds, padding=0)
            return
        plot.vb.setYRange(*bounds, padding=0.02)
        log = plot.ctrl.logYCheck.isChecked()
        plot.getAxis("left").setTicks(decade_ticks(*bounds) if log else None)

    def _describe_loss(self, x: float) -> str:
        i = _nearest(self.history.column("iteration"), x)
        if i is None:
            return ""
        h = self.history
        return (f"iteration {int(h.column('iteration')[i])}: loss {_fmt(h.column('loss')[i])}, "
                f"smoothed {_fmt(h.column('smoothed')[i])}")

    def _describe_grad(self, x: float) -> str:
        i = _nearest(self.history.column("iteration"), x)
        if i is None:
            return ""
        h = self.history
        clipped = " (clipped)" if h.column("clipped")[i] > 0 else ""
        return (f"iteration {int(h.column('iteration')[i])}: ‖g‖ {_fmt(h.column('grad_before')[i])} "
                f"→ {_fmt(h.column('grad_after')[i])}{clipped}")
