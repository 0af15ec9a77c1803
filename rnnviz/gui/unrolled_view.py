"""The network unrolled through time: x_t → h_t → y_t for every step, and the backward wave on W_H.

One step t is one column: the input x_t at the bottom, the hidden state h_t in the middle, the output
y_t on top (only y_T when the loss reads the last step). Arrows W_I (x_t → h_t), W_H (h_{t-1} → h_t)
and W_O (h_t → y_t) are the same three matrices at every step. Skip connections add arcs
h_{t-k} → h_t (W_S); an LSTM's h_t is a cell with the cell state c_t running along its top.

Colours: each W_H arrow by ‖∂L/∂h_t‖ on a log scale (cividis), the gradient that flows back along it,
so vanishing shows as a fade to the left and exploding as a glare; each h_t by its activation
(rms over units, viridis). Both colour bars are always shown. Zoomed out (T = 100–500), steps turn
into bands, and an overview strip below shows the whole sequence with the visible window marked.

The diagram is one item painted in a single pass: a run creates it once (`set_structure`) and a
frame only recolours it (`set_values`), so a redraw costs a few milliseconds even at T = 500.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from rnnviz.gui.colour_scale import ColourScale, GradientScale
from rnnviz.gui.frame_budget import in_hidden_tab
from rnnviz.gui.theme import LIGHT, OKABE_ITO, Theme, colormap

#: Tasks whose loss reads every step's output y_t (the others read only y_T). Mirrors the engine's tasks.
READOUT_ALL_TASKS = frozenset({"sine", "text"})

Y_X, Y_H, Y_Y = 0.0, 1.0, 2.0          # rows of x_t, h_t, y_t in data coordinates
Y_LABEL = -0.62                         # step labels under x_t
LABEL_SOURCE = "example 1 of the inspected batch"   # what `set_labels` words are, by default
Y_RANGE = (-0.95, 2.55)
DETAIL_PX = 14.0                        # below this many pixels per step, steps are drawn as bands
MAX_ROW_PX = 120                        # pixels between the x, h and y rows at most
FIT_STEPS = 40                          # up to this many steps the view opens on all of them
INITIAL_STEPS = 30                      # a longer sequence opens on its last steps (the overview shows all)

_SUBSCRIPT = str.maketrans("0123456789-+", "₀₁₂₃₄₅₆₇₈₉₋₊")


def sub(name: str, t: int | str) -> str:
    """h, 7 → h₇."""
    return name + str(t).translate(_SUBSCRIPT)


def readout_of(settings) -> str:
    return "all" if getattr(settings, "task", "") in READOUT_ALL_TASKS else "last"


class UnrolledDiagram(pg.GraphicsObject):
    """The unrolled network as one QGraphicsItem, painted in device pixels at any zoom."""

    def __init__(self, theme: Theme = LIGHT) -> None:
        super().__init__()
        self.T = 0
        self.arch = "rnn"
        self.skip: int | None = None
        self.readout = "last"
        self.labels: list[str] = []
        self.node_colours: list[QColor | None] = []
        self.arrow_colours: list[QColor | None] = []
        self.highlight_step: int | None = None
        self.highlight_kind: str | None = None
        self.set_theme(theme)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._text = QColor(theme.text)
        self._muted = QColor(theme.muted)
        self._base = QColor(theme.base)
        self._cell = QColor(OKABE_ITO["green"] if not theme.dark else "#3FC3A0")
        self._skip = QColor(OKABE_ITO["purple"])
        glow = QColor(theme.highlight)
        glow.setAlpha(48)
        self._glow = glow
        self._accent = QColor(OKABE_ITO["vermillion"] if not theme.dark else OKABE_ITO["orange"])
        self.update()

    # ------------------------------------------------------------------ model
    def set_structure(self, T: int, arch: str, skip: int | None, readout: str, labels=None) -> None:
        self.prepareGeometryChange()
        self.T = int(T)
        self.arch = arch
        self.skip = int(skip) if arch == "skip" and skip else None
        self.readout = readout
        self.labels = list(labels) if labels is not None else []
        self.node_colours = [None] * self.T
        self.arrow_colours = [None] * self.T
        self.highlight_step = None
        self.update()

    def set_colours(self, nodes: list[QColor | None], arrows: list[QColor | None]) -> None:
        self.node_colours = nodes
        self.arrow_colours = arrows
        self.update()

    def set_highlight(self, step: int | None, kind: str | None) -> None:
        self.highlight_step, self.highlight_kind = step, kind
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(-0.7, Y_RANGE[0], self.T + 1.4, Y_RANGE[1] - Y_RANGE[0])

    # ------------------------------------------------------------------ painting
    def paint(self, p: QPainter, option, widget=None) -> None:
        if self.T == 0:
            return
        tr = p.transform()
        sx, ox, sy, oy = tr.m11(), tr.dx(), tr.m22(), tr.dy()
        if sx <= 0 or sy == 0:
            return
        vb = self.getViewBox()
        x0, x1 = vb.viewRange()[0] if vb is not None else (0, self.T)
        reach = (self.skip or 1) + 1
        lo, hi = max(0, int(math.floor(x0)) - reach), min(self.T, int(math.ceil(x1)) + 1)
        X = lambda x: sx * x + ox
        Y = lambda y: sy * y + oy
        unit = abs(sy)
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.highlight_step is not None:
            self._paint_highlight(p, X, Y, sx)
        if sx >= DETAIL_PX:
            self._paint_detail(p, X, Y, sx, unit, lo, hi)
        else:
            self._paint_bands(p, X, Y, sx, unit, lo, hi)
        self._paint_labels(p, X, Y, sx, lo, hi)
        p.restore()

    def _paint_highlight(self, p, X, Y, sx) -> None:
        t = self.highlight_step
        half = max(sx * 0.5, 3.0)
        rect = QRectF(X(t) - half, Y(Y_Y + 0.45), 2 * half, Y(Y_X - 0.45) - Y(Y_Y + 0.45))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._glow)
        p.drawRoundedRect(rect, 6, 6)

    def _arrow(self, p: QPainter, a: QPointF, b: QPointF, pen: QPen, head: float) -> None:
        """A line from a to b with a filled head of length `head` at b, at least as wide as the pen."""
        dx, dy = b.x() - a.x(), b.y() - a.y()
        length = math.hypot(dx, dy)
        if length < 1e-6:
            return
        ux, uy = dx / length, dy / length
        head = min(head, 0.6 * length)
        p.setPen(pen)
        p.drawLine(a, QPointF(b.x() - 0.8 * head * ux, b.y() - 0.8 * head * uy))
        if head <= 0:
            return
        half = max(0.5 * head, 0.95 * pen.widthF())
        base = QPointF(b.x() - head * ux, b.y() - head * uy)
        left = QPointF(base.x() + half * uy, base.y() - half * ux)
        right = QPointF(base.x() - half * uy, base.y() + half * ux)
        p.setBrush(pen.color())
        p.setPen(Qt.PenStyle.NoPen)
        p.drawPolygon(QPolygonF([b, left, right]))

    def _paint_detail(self, p, X, Y, sx, unit, lo, hi) -> None:
        r = min(0.26 * sx, 0.24 * unit, 16.0)
        lstm = self.arch == "lstm"
        cell_w, cell_h = (1.1 * r, 1.3 * r) if lstm else (r, r)      # half sizes of the h node
        head = min(max(r * 0.55, 4.0), 9.0)
        hy, xy, yy = Y(Y_H), Y(Y_X), Y(Y_Y)
        width = max(1.5, min(5.0, 0.35 * r))
        ribbon = max(3.0, min(10.0, 0.75 * r))           # the W_H arrows carry the story: drawn wide
        muted = QPen(self._muted, max(1.0, width * 0.6))
        # W_I and W_O arrows
        for t in range(max(1, lo), hi + 1):
            cx = X(t)
            self._arrow(p, QPointF(cx, xy - r), QPointF(cx, hy + cell_h), muted, head * 0.8)
            if self.readout == "all" or t == self.T:
                self._arrow(p, QPointF(cx, hy - cell_h), QPointF(cx, yy + r), muted, head * 0.8)
        # skip arcs h_{t-k} → h_t, above the hidden row
        if self.skip is not None:
            k = self.skip
            pen = QPen(self._skip, max(1.0, width * 0.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            rise = min(0.55 * unit, 0.35 * k * sx)
            for t in range(max(k + 1, lo), hi + 1):
                path = QPainterPath(QPointF(X(t - k) + 0.3 * cell_w, hy - cell_h))
                path.cubicTo(QPointF(X(t - k) + 0.3 * k * sx, hy - cell_h - rise),
                             QPointF(X(t) - 0.3 * k * sx, hy - cell_h - rise),
                             QPointF(X(t) - 0.3 * cell_w, hy - cell_h))
                p.setPen(pen)
                p.drawPath(path)
        # LSTM: the cell state line along the top of the cells
        if lstm:
            cy = hy - 0.62 * cell_h
            pen = QPen(self._cell, max(2.0, width))
            for t in range(max(1, lo), hi + 1):
                start = X(t - 1) + (cell_w if t > 1 else 0.35 * sx)
                self._arrow(p, QPointF(start, cy), QPointF(X(t) - cell_w, cy), pen, head * 0.8 if t > 1 else 0)
        # W_H arrows h_{t-1} → h_t, coloured by ‖∂L/∂h_t‖
        for t in range(max(1, lo), hi + 1):
            colour = self.arrow_colours[t - 1]
            if colour is None:
                pen = QPen(self._muted, width * 0.6, Qt.PenStyle.DashLine)
            else:
                pen = QPen(colour, ribbon * (1.4 if t == self.highlight_step else 1.0))
                pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            start = X(t - 1) + (cell_w if t > 1 else 0.3 * r)
            y = hy + (0.25 * cell_h if lstm else 0.0)
            self._arrow(p, QPointF(start, y), QPointF(X(t) - cell_w - 1, y), pen,
                        max(head, 1.2 * pen.widthF()) if colour is not None else head)
        # nodes
        outline = QPen(self._text, 1.2)
        faint = QPen(self._muted, 1.0)
        p.setPen(faint)
        p.setBrush(self._base)
        p.drawEllipse(QPointF(X(0), hy), 0.45 * r, 0.45 * r)          # h_0 = 0
        for t in range(max(1, lo), hi + 1):
            cx = X(t)
            p.setPen(faint)
            p.setBrush(self._base)
            p.drawEllipse(QPointF(cx, xy), r, r)
            if self.readout == "all" or t == self.T:
                p.setPen(outline)
                p.drawEllipse(QPointF(cx, yy), r, r)
            colour = self.node_colours[t - 1]
            p.setPen(outline if colour is not None else QPen(self._muted, 1.0, Qt.PenStyle.DashLine))
            p.setBrush(colour if colour is not None else self._base)
            if lstm:
                p.drawRoundedRect(QRectF(cx - cell_w, hy - cell_h, 2 * cell_w, 2 * cell_h), 0.3 * r, 0.3 * r)
            else:
                p.drawEllipse(QPointF(cx, hy), r, r)
        if self.highlight_step is not None and lo <= self.highlight_step <= hi:
            t = self.highlight_step
            p.setPen(QPen(self._accent, 2.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            if lstm:
                p.drawRoundedRect(QRectF(X(t) - cell_w - 3, hy - cell_h - 3, 2 * cell_w + 6, 2 * cell_h + 6),
                                  0.3 * r + 2, 0.3 * r + 2)
            else:
                p.drawEllipse(QPointF(X(t), hy), r + 3, r + 3)
        if r >= 9:
            self._paint_node_names(p, X, Y, r, lo, hi)
        self._paint_weight_names(p, X, Y, sx, r, cell_w, cell_h, lo, hi)

    def _paint_node_names(self, p, X, Y, r, lo, hi) -> None:
        font = QFont()
        font.setPixelSize(max(8, int(r * 0.75)))
        p.setFont(font)
        for t in range(max(1, lo), hi + 1):
            for name, row in (("x", Y_X), ("h", Y_H), ("y", Y_Y)):
                if name == "y" and not (self.readout == "all" or t == self.T):
                    continue
                colour = self.node_colours[t - 1] if name == "h" else None
                p.setPen(self._text if colour is None else _ink_on(colour))
                rect = QRectF(X(t) - 2 * r, Y(row) - r, 4 * r, 2 * r)
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, sub(name, t))

    def _paint_weight_names(self, p, X, Y, sx, r, cell_w, cell_h, lo, hi) -> None:
        """W_I, W_H, W_O (and W_S, c_t) beside every arrow when there is room, else at the last visible step."""
        if sx < 22:
            return
        font = QFont()
        font.setPixelSize(11)
        font.setItalic(True)
        p.setFont(font)
        vb = self.getViewBox()
        x1 = vb.viewRange()[0][1] if vb is not None else self.T
        last = max(1, min(self.T, int(math.floor(x1 - 0.3))))
        steps = range(max(1, lo), hi + 1) if sx >= 80 else [last]
        metrics = QFontMetricsF(font)
        for t in steps:
            cx, hy = X(t), Y(Y_H)
            dx = 4 if len(steps) > 1 else -4 - metrics.horizontalAdvance("W_I")
            p.setPen(self._muted)
            p.drawText(QPointF(cx + dx, 0.5 * (Y(Y_X) + hy) + 4), "W_I")
            if self.readout == "all" or t == self.T:
                p.drawText(QPointF(cx + dx, 0.5 * (Y(Y_Y) + hy) + 4), "W_O")
            y = hy + (0.25 * cell_h if self.arch == "lstm" else 0.0)
            p.setPen(self._text)
            p.drawText(QPointF(X(t - 0.5) - 12, y + 15), "W_H")
            if self.arch == "lstm":
                p.setPen(self._cell)
                p.drawText(QPointF(X(t - 0.5) - 5, hy - 0.62 * cell_h - 5), "c")
        if self.skip is not None and last > self.skip:
            p.setPen(self._skip)
            rise = min(0.55 * abs(Y(1) - Y(0)), 0.35 * self.skip * sx)
            p.drawText(QPointF(X(last - self.skip / 2) - 10, Y(Y_H) - cell_h - 0.75 * rise - 4), "W_S")

    def _paint_bands(self, p, X, Y, sx, unit, lo, hi) -> None:
        """Zoomed out: one thin column per step, h_t above and the W_H arrow's colour below."""
        w = max(sx * 0.86, 1.0)
        p.setPen(Qt.PenStyle.NoPen)
        top_h, bottom_h = Y(Y_H + 0.22), Y(Y_H - 0.02)
        top_g, bottom_g = Y(Y_H - 0.1), Y(Y_H - 0.34)
        for t in range(max(1, lo), hi + 1):
            left = X(t) - 0.5 * w
            colour = self.node_colours[t - 1]
            p.setBrush(colour if colour is not None else self._base)
            p.drawRect(QRectF(left, top_h, w, bottom_h - top_h))
            colour = self.arrow_colours[t - 1]
            p.setBrush(colour if colour is not None else self._base)
            p.drawRect(QRectF(left, top_g, w, bottom_g - top_g))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(self._muted, 1.0))
        for t in range(max(1, lo), hi + 1):                       # inputs as ticks
            p.drawLine(QPointF(X(t), Y(Y_X - 0.1)), QPointF(X(t), Y(Y_X + 0.1)))
        if self.arch == "lstm":
            p.setPen(QPen(self._cell, 2.5))
            p.drawLine(QPointF(X(max(lo, 0.5)), Y(Y_H + 0.36)), QPointF(X(min(hi, self.T) + 0.5), Y(Y_H + 0.36)))
        if self.skip is not None and sx * self.skip >= 12:
            p.setPen(QPen(self._skip, 1.0))
            rise = min(0.35 * unit, 0.3 * self.skip * sx)
            for t in range(max(self.skip + 1, lo), hi + 1):
                path = QPainterPath(QPointF(X(t - self.skip), Y(Y_H + 0.45)))
                path.quadTo(QPointF(X(t - self.skip / 2), Y(Y_H + 0.45) - rise), QPointF(X(t), Y(Y_H + 0.45)))
                p.drawPath(path)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._text)
        top_y, bottom_y = Y(Y_Y + 0.12), Y(Y_Y - 0.12)
        for t in range(max(1, lo), hi + 1):
            if self.readout == "all" or t == self.T:
                p.drawRect(QRectF(X(t) - 0.5 * w, top_y, w, bottom_y - top_y))

    def _paint_labels(self, p, X, Y, sx, lo, hi) -> None:
        """Step labels (tokens or words) under x_t, thinned out so they never overlap."""
        if not self.labels:
            return
        font = QFont()
        font.setPixelSize(11)
        p.setFont(font)
        metrics = QFontMetricsF(font)
        widest = max(metrics.horizontalAdvance(s) for s in self.labels[max(0, lo - 1):hi] or [""]) + 6
        stride = max(1, int(math.ceil(widest / max(sx, 1e-6))))
        y = Y(Y_LABEL)
        p.setPen(self._text)
        for t in range(max(1, lo), hi + 1):
            if (self.T - t) % stride:
                continue
            text = self.labels[t - 1] if t - 1 < len(self.labels) else ""
            w = metrics.horizontalAdvance(text)
            p.drawText(QPointF(X(t) - 0.5 * w, y), text)


def _ink_on(colour: QColor) -> QColor:
    """Black or white text, whichever reads on `colour`."""
    luminance = 0.2126 * colour.redF() + 0.7152 * colour.greenF() + 0.0722 * colour.blueF()
    return QColor("#000000") if luminance > 0.5 else QColor("#FFFFFF")


class UnrolledView(QWidget):
    """The unrolled network with its colour bars, overview strip and hover read-out.

    Live (`show_snapshots`): nodes show rms h_t of the batch, arrows ‖∂L/∂h_t‖ of the batch.
    The BPTT stepper drives its own instance through `set_values(..., shown=...)` and `highlight`.
    """

    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, theme: Theme = LIGHT, object_name: str = "unrolledView",
                 live: bool = True) -> None:
        """`live`: colours follow training, each iteration relative to its own largest step; the
        stepper's instance passes False and fixes the reference with `fix_levels` while it steps."""
        super().__init__(parent)
        self.setObjectName(object_name)
        self._pending = None        # the newest snapshot received while in a hidden tab
        self.grad_scale = GradientScale(theme.colormap)
        self._grad_reference: float | None = None   # the stepper's: the largest of its full array
        self.act_scale = ColourScale(theme.alt_colormap, log=False, initial=(0.0, 1.0))
        self._hidden: np.ndarray | None = None
        self._grad: np.ndarray | None = None
        self._hidden_shown: np.ndarray | None = None
        self._grad_shown: np.ndarray | None = None
        self._structure: tuple | None = None
        self._labels: list[str] | None = None
        self._label_source = LABEL_SOURCE
        self._name = ""
        self._iteration: int | None = None
        self._syncing = False

        self.caption = QLabel(objectName="unrolledCaption")
        self.caption.setWordWrap(True)
        self.iteration_label = QLabel("", objectName="unrolledIterationLabel")
        self.fit_button = QPushButton("Show all steps", objectName="unrolledFitButton")
        self.fit_button.setToolTip("Zoom out to the whole sequence (mouse wheel zooms, drag pans)")
        self.fit_button.clicked.connect(self.show_all)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setContentsMargins(4, 4, 4, 4)
        self.hover_label = QLabel(" ", objectName="unrolledHoverLabel")
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.plot = self.graphics.addPlot(row=0, col=0)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.getViewBox().disableAutoRange()
        self.plot.setYRange(*Y_RANGE, padding=0)
        self.plot.getAxis("left").setTicks([[(Y_X, "x_t"), (Y_H, "h_t"), (Y_Y, "y_t")]])
        self.plot.getAxis("left").setWidth(40)
        self.plot.setLabel("bottom", "time step t")
        self.diagram = UnrolledDiagram(theme)
        self.plot.addItem(self.diagram)

        self.grad_bar = pg.ColorBarItem(values=self.grad_scale.levels, colorMap=colormap(theme.colormap),
                                        label=self.grad_scale.bar_label("‖∂L/∂h_t‖") + " (W_H arrows)",
                                        interactive=False,
                                        colorMapMenu=False, width=14)
        self.act_bar = pg.ColorBarItem(values=(0, 1), colorMap=colormap(theme.alt_colormap),
                                       label="rms h_t (nodes)", interactive=False, colorMapMenu=False, width=14)
        self.graphics.addItem(self.grad_bar, row=0, col=1)
        self.graphics.addItem(self.act_bar, row=0, col=2)

        self.overview = self.graphics.addPlot(row=1, col=0)
        self.overview.setMenuEnabled(False)
        self.overview.hideButtons()
        self.overview.setMouseEnabled(x=False, y=False)
        self.overview.getAxis("left").setTicks([[(1.5, "h_t"), (0.5, "‖δ_t‖")]])
        self.overview.getAxis("left").setWidth(40)   # as wide as the diagram's, so the steps line up
        self.overview.getAxis("bottom").setHeight(18)
        self.overview.setMaximumHeight(62)
        self.overview.setYRange(0, 2, padding=0)
        self.overview_image = pg.ImageItem(axisOrder="row-major")
        self.overview.addItem(self.overview_image)
        self.window_region = pg.LinearRegionItem(values=(0, 1), movable=True)
        self.window_region.setZValue(10)
        self.overview.addItem(self.window_region)
        self.graphics.ci.layout.setRowStretchFactor(0, 6)
        self.graphics.ci.layout.setRowStretchFactor(1, 1)

        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.iteration_label)
        top.addWidget(self.fit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.hover_label)

        self.plot.getViewBox().sigXRangeChanged.connect(self._view_moved)
        self.plot.getViewBox().sigResized.connect(self._resized)
        self._row_ticks: tuple | None = None
        self.window_region.sigRegionChanged.connect(self._region_moved)
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)
        self.apply_theme(theme)

    # ------------------------------------------------------------------ view contract
    def set_labels(self, labels: list[str] | None, source: str = LABEL_SOURCE) -> None:
        """Words or tokens to write under x_t for the rest of the run (e.g. an Inspection's
        step_labels); the live snapshots carry none, since each batch has its own sequences.
        The caption says where they come from (`source`): while training goes on, the colours are
        newer batches' and the words are still those of one inspected example."""
        self._labels = list(labels) if labels else None
        self._label_source = source
        self._update_caption()
        if self._structure is not None:     # labels of another length than T are not drawn
            T, arch, skip, readout, _ = self._structure
            fits = self._labels if self._labels is not None and len(self._labels) == T else None
            self.set_structure(T, arch, skip, readout, fits)
            self.set_values(self._hidden, self._grad, hidden_shown=self._hidden_shown, grad_shown=self._grad_shown)

    def restart(self, snapshot) -> None:
        """A new run: forget the colour range and the labels, rebuild the diagram for its T and architecture."""
        self._labels = None
        self.act_scale.restart()
        self._structure = None
        self.show_snapshots((snapshot,))

    def show_snapshots(self, snapshots: tuple) -> None:
        """Recolour from the newest snapshot (the older ones in the batch are already history).
        In a hidden tab only the structure follows (cheap); the colours wait until it is shown."""
        if not snapshots:
            return
        snap = snapshots[-1]
        s = snap.settings
        T = len(snap.dh_norms)
        labels = self._labels if self._labels is not None and len(self._labels) == T else None
        self.set_structure(T, s.arch, s.skip, readout_of(s), labels)
        self._iteration = snap.iteration
        if in_hidden_tab(self):
            self._pending = snap
            return
        self._pending = None
        self.set_values(getattr(snap, "hidden_rms", None), snap.dh_norms)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.redraw()

    def redraw(self) -> None:
        """Draw the newest snapshot received while hidden, if any."""
        if self._pending is not None:
            self.show_snapshots((self._pending,))

    # ------------------------------------------------------------------ API for the stepper and the window
    def set_structure(self, T: int, arch: str, skip: int | None, readout: str, labels=None) -> None:
        """Build the diagram for a run (cheap to call again with the same structure)."""
        key = (T, arch, skip if arch == "skip" else None, readout, tuple(labels) if labels else None)
        if key == self._structure:
            return
        same_length = self._structure is not None and self._structure[0] == T
        self._structure = key
        self.diagram.set_structure(T, arch, skip, readout, labels)
        vb = self.plot.getViewBox()
        vb.setLimits(xMin=-1.0, xMax=T + 1.0, minXRange=3.0, maxXRange=T + 2.0)
        self.overview.setXRange(0.5, T + 0.5, padding=0)
        if not same_length:
            start = 0.4 if T <= FIT_STEPS else T - INITIAL_STEPS + 0.5
            self.plot.setXRange(start - 0.3, T + 0.7, padding=0)
        name = {"rnn": "RNN", "skip": f"RNN + skip connections (k = {skip})", "lstm": "LSTM"}.get(arch, arch)
        self._name = f"{name}, T = {T}"
        self._update_caption()

    def set_values(self, hidden: np.ndarray | None, grad: np.ndarray | None, *,
                   hidden_shown: np.ndarray | None = None, grad_shown: np.ndarray | None = None) -> None:
        """Recolour: nodes by `hidden` (rms h_t), W_H arrows by `grad` (‖∂L/∂h_t‖), each (T,).

        `*_shown` masks (bool, (T,)) leave steps not yet computed grey (the stepper's forward and
        backward waves); None means all shown."""
        T = self.diagram.T
        self._hidden = None if hidden is None else np.asarray(hidden, dtype=float)
        self._grad = None if grad is None else np.asarray(grad, dtype=float)
        self._hidden_shown, self._grad_shown = hidden_shown, grad_shown
        nodes: list = [None] * T
        arrows: list = [None] * T
        if self._grad is not None and len(self._grad) == T:
            arrows = self.grad_scale.gradient_colours(self._grad, self._grad_reference)
        if self._hidden is not None and len(self._hidden) == T:
            visible = self._hidden if hidden_shown is None else self._hidden[hidden_shown]
            if self.act_scale.observe(visible):
                self.act_bar.setLevels(self.act_scale.levels)
            nodes = self.act_scale.colours(self._hidden)
        if hidden_shown is not None:
            nodes = [c if shown else None for c, shown in zip(nodes, hidden_shown)]
        if grad_shown is not None:
            arrows = [c if shown else None for c, shown in zip(arrows, grad_shown)]
        self.diagram.set_colours(nodes, arrows)
        self._update_overview(nodes, arrows)
        if self._iteration is not None:
            self.iteration_label.setText(f"iteration {self._iteration}")

    def fix_levels(self, hidden: np.ndarray | None, grad: np.ndarray | None) -> None:
        """Set both colour ranges from complete arrays (the stepper: colours stay put while it steps)."""
        self.act_scale.restart()
        finite = np.asarray(grad, dtype=float)[np.isfinite(grad)] if grad is not None else np.zeros(0)
        self._grad_reference = float(finite.max()) if finite.size else None
        if hidden is not None and self.act_scale.observe(hidden):
            self.act_bar.setLevels(self.act_scale.levels)

    def highlight(self, step: int | None, kind: str | None = None) -> None:
        """Mark step t (1..T) — the stepper's current frame — and scroll it into view; None clears."""
        self.diagram.set_highlight(step, kind)
        if step is None:
            return
        (x0, x1) = self.plot.getViewBox().viewRange()[0]
        if not x0 + 0.5 <= step <= x1 - 0.5:
            width = x1 - x0
            self.plot.setXRange(step - width / 2, step + width / 2, padding=0)

    def show_all(self) -> None:
        T = self.diagram.T
        self.plot.setXRange(-0.6, T + 0.7, padding=0)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.graphics.setBackground(theme.base)
        for item in (self.plot, self.overview, self.grad_bar, self.act_bar):
            for name in ("left", "bottom", "right"):
                axis = item.getAxis(name) if name in item.axes else None
                if axis is not None:
                    axis.setPen(theme.muted)
                    axis.setTextPen(theme.text)
        self.window_region.setBrush(_alpha(theme.highlight, 50))
        self.diagram.set_theme(theme)

    # ------------------------------------------------------------------ internals
    def _update_caption(self) -> None:
        text = (f"<b>{self._name}</b> · W_H arrows: ‖∂L/∂h_t‖, the gradient flowing back, relative to "
                "the largest step's (log scale; dark = vanished) · nodes: rms h_t")
        tip = ("Colours: the whole training batch, updated every iteration.\nArrows: "
               + self.grad_scale.describe() + ".")
        if self._labels and self.diagram.labels == self._labels:     # shown: their length is T
            text += f" · words under x_t: {html.escape(self._label_source)}"
            tip += (f"\nWords under x_t: {self._label_source}. Each batch has its own sequences, so "
                    "they describe the batch inspected in the BPTT stepper, not the batch now coloured; "
                    "they stay until the run restarts or the next inspection.")
        self.caption.setText(text)
        self.caption.setToolTip(tip)

    def _update_overview(self, nodes, arrows) -> None:
        T = self.diagram.T
        if T == 0:
            return
        image = np.empty((2, T, 4), dtype=np.uint8)
        base = QColor(self.theme.window)
        fill = (base.red(), base.green(), base.blue(), 255)
        for row, colours in ((0, arrows), (1, nodes)):      # row 0 is drawn at the bottom
            image[row] = [(c.red(), c.green(), c.blue(), 255) if c is not None else fill for c in colours]
        self.overview_image.setImage(image, autoLevels=False)
        self.overview_image.setRect(QRectF(0.5, 0, T, 2))      # after setImage: the scale depends on its size

    def _resized(self, vb) -> None:
        """Keep the rows at most MAX_ROW_PX apart: a tall view adds margin, not gaps between rows."""
        span = max(Y_RANGE[1] - Y_RANGE[0], vb.height() / MAX_ROW_PX)
        middle = 0.5 * (Y_RANGE[0] + Y_RANGE[1])
        self.plot.setYRange(middle - span / 2, middle + span / 2, padding=0)
        self._set_row_ticks(vb.viewRange()[0])

    def _set_row_ticks(self, x_range) -> None:
        """Name the rows; zoomed out, the hidden row splits into its two bands (h_t and ‖∂L/∂h_t‖)."""
        width = self.plot.getViewBox().width()
        bands = width / max(x_range[1] - x_range[0], 1e-9) < DETAIL_PX
        ticks = [(Y_X, "x_t"), (Y_Y, "y_t")]
        if bands:
            ticks += [(Y_H + 0.1, "h_t"), (Y_H - 0.22, "‖δ_t‖")]
            if self.diagram.arch == "lstm":
                ticks.append((Y_H + 0.36, "c_t"))
        else:
            ticks.append((Y_H, "h_t"))
        key = tuple(ticks)
        if key != self._row_ticks:
            self._row_ticks = key
            self.plot.getAxis("left").setTicks([ticks])

    def _view_moved(self, _vb, x_range) -> None:
        self._set_row_ticks(x_range)
        if self._syncing:
            return
        self._syncing = True
        try:
            self.window_region.setRegion(x_range)
        finally:
            self._syncing = False

    def _region_moved(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.plot.setXRange(*self.window_region.getRegion(), padding=0)
        finally:
            self._syncing = False

    def _mouse_moved(self, pos) -> None:
        if self.diagram.T == 0:
            return
        for plot in (self.plot, self.overview):
            if plot.sceneBoundingRect().contains(pos):
                point = plot.getViewBox().mapSceneToView(pos)
                self.hover_label.setText(self.describe(point.x(), point.y() if plot is self.plot else None))
                self.hovered.emit(self.hover_label.text())
                return

    def describe(self, x: float, y: float | None) -> str:
        """The exact values at a point of the diagram (the hover read-out)."""
        T = self.diagram.T
        t = int(round(x))
        if not 1 <= t <= T:
            return "h₀ = 0 (the initial state)" if t == 0 else " "
        parts = [f"step t = {t}"]
        if self.diagram.labels and t - 1 < len(self.diagram.labels):
            parts[0] += f" “{self.diagram.labels[t - 1]}”"
        if self._hidden is not None and (self._hidden_shown is None or self._hidden_shown[t - 1]):
            parts.append(f"rms h_{t} = {self._hidden[t - 1]:.4g}")
        if self._grad is not None and (self._grad_shown is None or self._grad_shown[t - 1]):
            parts.append(f"‖∂L/∂h_{t}‖ = {self._grad[t - 1]:.4g} (W_H arrow h_{t - 1} → h_{t})")
        if y is not None and y < 0.5:
            parts.append(f"input x_{t}")
        return " · ".join(parts)


def _alpha(colour: str, alpha: int) -> QColor:
    c = QColor(colour)
    c.setAlpha(alpha)
    return c
