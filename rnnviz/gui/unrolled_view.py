"""The network unrolled through time, drawn the way a lecturer draws it on the board.

A chain h_0 → h_1 → … → h_T, one node per time step, the input x_t under each node and the output
y_t above it (or y_T → L after the last node when the loss reads only the last step). Between two
nodes run two arrows:

- → the **W_H arrow** h_{t-1} → h_t, coloured by step t's contribution ‖h_{t-1}ᵀ δ_t‖_F to dL/dW_H
  (the contribution heatmap's column t);
- ← the **backward arrow** under it, coloured by ‖∂L/∂h_t‖, the gradient leaving h_t for h_{t-1}.

Both use the one gradient colour scale (`rnnviz.gui.colour_scale.GradientScale`): relative to the
largest step of the same iteration by default (dark = vanished), or absolute (a toggle). Nodes show
rms h_t (viridis). Skip connections add arcs h_{t-k} → h_t; an LSTM's h_t is a square cell with its
cell state c_t running along the top.

A long sequence wraps into rows like a line of text (each row's first arrows come in from the left
edge); the layout picks the number of rows that makes nodes and arrows largest, so up to T = 100
every step is a node with its arrows at 1280×720. Where even that is too small the diagram becomes
an overview: each step a thin column (h_t, its W_H share, ‖∂L/∂h_t‖) in the same rows.

Animated: each iteration plays as the lecture tells it, a forward sweep left → right (h_t appears),
the loss, then the backward wave right → left whose colour is the real ‖∂L/∂h_t‖ (the snapshot's
batch ‖∂L/∂h_t‖_F, `Trace.dh_norms`, the very array the BPTT stepper prints and colours by). Frame i of the sweep reveals what
frame i of the stepper reveals (`rnnviz.bptt_frames.revealed`). A new iteration starts when the
previous one has played; paused, the diagram holds the last iteration, complete.

Cheap: the layout and the static parts (x and y nodes, W_I and W_O arrows, empty h nodes, labels,
the colour legend) are painted once into a cached pixmap, and each iteration's colours once into two
more (node fills, gradient arrows); a frame of the sweep draws the first and the rectangles of the
other two that its steps have reached: a dozen Qt calls whatever T is.
"""

from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (QBrush, QColor, QFont, QFontInfo, QFontMetricsF, QLinearGradient, QPainter, QPainterPath, QPen,
                           QPixmap, QPolygonF, QRegion)
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from rnnviz.bptt_frames import BACKWARD, FORWARD, LOSS, revealed
from rnnviz.gui.colour_scale import ABSOLUTE, RELATIVE, ColourScale, GradientScale
from rnnviz.gui.frame_budget import in_hidden_tab
from rnnviz.gui.theme import LIGHT, OKABE_ITO, Theme

LABEL_SOURCE = "example 1 of the inspected batch"   # what `set_labels` words are, by default
MIN_DETAIL_PX = 8.0        # nodes and arrows at least this large, or the diagram becomes an overview
NARROW_PX = 420            # a view narrower than this gets the short caption
COMFORT_PX = 14.0          # the fewest rows that give nodes and arrows this size (one row if it can)
MAX_RADIUS = 18.0          # node radius at most (short sequences)
MAX_ROWS = 12
MIN_BAND_ROW_PX = 46       # overview rows at least this tall
MIN_NAME_PX = 8            # the W_H name shrinks to fit above its arrow, never below this
#: The animation: seconds for the forward sweep, the loss, the backward wave and the complete
#: picture held before the next iteration plays; frames are drawn every FRAME_MS.
FORWARD_S, LOSS_S, BACKWARD_S, HOLD_S = 0.6, 0.15, 0.9, 0.45
FRAME_MS = 15

_SUBSCRIPT = str.maketrans("0123456789-+", "₀₁₂₃₄₅₆₇₈₉₋₊")


def sub(name: str, t: int | str) -> str:
    """h, 7 → h₇."""
    return name + str(t).translate(_SUBSCRIPT)


def readout_of(settings) -> str:
    """"last" (only y_T is scored) or "all" (every y_t is): the task's own `readout`."""
    from rnnviz.engine.tasks import TASKS  # here: importing the engine (numba) would delay the first paint

    return TASKS[settings.task].readout


# ---------------------------------------------------------------------------------------------- layout
@dataclass(frozen=True)
class Layout:
    """Where everything goes, in widget pixels. Steps t = 1..T; index 0 of `x`, `y` is h_0."""

    mode: str                  # "detail" (nodes and arrows) or "bands" (the overview)
    rows: int
    per_row: int
    pitch: float               # pixels from one step to the next
    r: float                   # node radius (detail)
    x: np.ndarray              # (T+1,) centre of h_t
    y: np.ndarray              # (T+1,) centre of h_t (detail) / of the row's h band (bands)
    row_top: np.ndarray        # (rows,)
    row_height: float
    left: float                # where every row starts (the entry margin)
    right: float
    y_band: float              # height above h reserved for y_t (readout "all")
    legend_top: float
    label_px: float            # height of a line of label text (the widget's font)

    @property
    def band(self) -> float:
        """The overview: height of each of a row's three strips (h_t, → W_H share, ← ‖∂L/∂h_t‖)."""
        return max(2.0, (self.row_height - self.label_px - 4.0) / 3.2)

    def row_of(self, t: int) -> int:
        return 0 if t == 0 else (t - 1) // self.per_row

    def step_at(self, px: float, py: float) -> int | None:
        """The step t (0..T) whose column holds the point, or None."""
        T = len(self.x) - 1
        if T <= 0 or not self.row_top[0] <= py < self.row_top[-1] + self.row_height:
            return None
        row = int((py - self.row_top[0]) // self.row_height)
        col = int(math.floor((px - self.left) / self.pitch))
        if row == 0 and col == 0:
            return 0
        if not 1 <= col <= self.per_row:
            return None
        t = row * self.per_row + col
        return t if t <= T else None


def _row_shape(readout: str, arch: str) -> tuple[float, float, float]:
    """Detail rows in units of the node radius r: (above h: y band, above h: arcs or the c line,
    below h to the bottom of x_t); plus a line of label text."""
    y_band = 3.6 if readout == "all" else 0.0
    arcs = 2.0 if arch in ("skip", "lstm") else 0.8
    return y_band, arcs, 1.0 + 3.3 + 0.75 + 0.5


def compute_layout(T: int, width: float, height: float, readout: str, arch: str, label_px: float = 13.0) -> Layout:
    """Choose the fewest rows that make the nodes and arrows COMFORT_PX (the smaller of the node's
    diameter and the W_H arrow's length), else the rows that make them largest; below
    MIN_DETAIL_PX the overview's thin columns. `label_px`: a line of text (labels, the legend)."""
    left, right = 4.0, max(width - 4.0, 10.0)
    top, bottom = 4.0, max(height - 2.0 * label_px - 6.0, 20.0)
    y_band, arcs, below = _row_shape(readout, arch)
    units = y_band + arcs + 1.0 + below
    extra = 1.0 + (1.9 if readout == "last" else 0.0)     # entry margin (h_0), and y_T → L at the end
    best = None
    for rows in range(1, min(T, MAX_ROWS) + 1):
        per_row = math.ceil(T / rows)
        rows = math.ceil(T / per_row)
        pitch = (right - left) / (per_row + extra)
        row_height = (bottom - top) / rows
        r = min(0.3 * pitch, (row_height - label_px - 6) / units, MAX_RADIUS)
        size = min(2 * r, pitch - 2 * r - 2)
        if best is None or size > best[0] + 0.5:
            best = (size, rows, per_row, pitch, r, row_height)
        if size >= COMFORT_PX:
            best = (size, rows, per_row, pitch, r, row_height)
            break
    size, rows, per_row, pitch, r, row_height = best
    mode = "detail" if size >= MIN_DETAIL_PX else "bands"
    if mode == "bands":      # the overview: as many rows as fit, so each step's column is widest
        rows = max(1, min(int((bottom - top) // MIN_BAND_ROW_PX), T))
        per_row = math.ceil(T / rows)
        rows = math.ceil(T / per_row)
        left += 2.0 * label_px                 # a column for the strips' names
        pitch = (right - left) / per_row
        left -= pitch                          # column 0 (the entry margin) lies under the names
        row_height = min((bottom - top) / rows, 90.0)
        r = 0.0
    if mode == "detail":     # rows as tall as their contents, the block centred in the space
        needed = units * r + label_px + 6
        top += max(0.0, 0.5 * (bottom - top - rows * needed))
        row_height = min(row_height, needed)
    steps = np.arange(T + 1)
    row = np.where(steps == 0, 0, (steps - 1) // per_row)
    col = np.where(steps == 0, 0, (steps - 1) % per_row + 1)
    row_top = top + row_height * np.arange(rows)
    x = left + (col + 0.5) * pitch
    if mode == "detail":
        y = row_top[row] + (y_band + arcs + 1.0) * r
    else:
        y = row_top[row] + 0.5 * (row_height - label_px)      # the strips, then a line of step numbers
    return Layout(mode=mode, rows=rows, per_row=per_row, pitch=pitch, r=r, x=x, y=y, row_top=row_top,
                  row_height=row_height, left=left, right=right, y_band=y_band * r,
                  legend_top=row_top[-1] + row_height + 2.0, label_px=label_px)


def _arrow(x0: float, x1: float, y: float, width: float, head: float, spread: float) -> QPolygonF:
    """A horizontal arrow from x0 to x1 (either way) as one polygon: shaft `width` thick, a head
    `head` long and `spread` wide."""
    d = 1.0 if x1 >= x0 else -1.0
    head = min(head, 0.6 * abs(x1 - x0))
    xh = x1 - d * head
    w, s = 0.5 * width, 0.5 * max(spread, width)
    return QPolygonF([QPointF(x0, y - w), QPointF(xh, y - w), QPointF(xh, y - s), QPointF(x1, y),
                      QPointF(xh, y + s), QPointF(xh, y + w), QPointF(x0, y + w)])


class _Sweep:
    """Which frame of the forward/loss/backward sequence is showing, from the time it started."""

    def __init__(self, T: int, start: float) -> None:
        self.T, self.start = T, start

    def index(self, now: float) -> int | None:
        """Frame 0..2T at `now`; 2T (everything computed) while the picture is held; None once over."""
        T, e = self.T, now - self.start
        if e < FORWARD_S:
            return min(int(e / FORWARD_S * T), T - 1)
        e -= FORWARD_S
        if e < LOSS_S:
            return T
        e -= LOSS_S
        if e < BACKWARD_S:
            return T + 1 + min(int(e / BACKWARD_S * T), T - 1)
        return 2 * T if e < BACKWARD_S + HOLD_S else None


# ---------------------------------------------------------------------------------------------- canvas
class DiagramCanvas(QWidget):
    """The painted diagram. The view hands it the structure, colour indices and masks; it lays out,
    caches what does not change and paints."""

    def __init__(self, theme: Theme = LIGHT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("unrolledCanvas")
        self.setMouseTracking(True)
        self.setMinimumSize(200, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.T = 0
        self.arch = "rnn"
        self.skip: int | None = None
        self.readout = "last"
        self.labels: list[str] = []
        self.highlight_step: int | None = None
        self.highlight_kind: str | None = None
        self.front: tuple[str, int] | None = None     # the sweep's current (kind, t)
        self.layout_: Layout | None = None
        self._node_idx: np.ndarray | None = None      # LUT indices per step, or None (not computed)
        self._fwd_idx: np.ndarray | None = None
        self._back_idx: np.ndarray | None = None
        self._hidden_shown: np.ndarray | None = None
        self._grad_shown: np.ndarray | None = None
        self._under: QPixmap | None = None
        self._values: tuple[QPixmap, QPixmap] | None = None       # node fills, gradient arrows
        self._layers: tuple[QPixmap, QPixmap] | None = None       # the pixmaps `_values` are painted in
        self._regions: tuple = (None, None)                       # rectangles of them the masks show
        self._node_rects: list[QRectF] = []
        self._fwd_polys: list[QPolygonF] = []
        self._back_polys: list[QPolygonF] = []
        self.grad_lut = self.node_lut = None
        self.grad_caption = ("", "", "")
        self.node_levels = (0.0, 1.0)
        self.set_theme(theme)

    # ------------------------------------------------------------------ model
    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._text = QColor(theme.text)
        self._muted = QColor(theme.muted)
        self._base = QColor(theme.base)
        self._faint = QColor(theme.muted)
        self._faint.setAlpha(70)
        self._cell = QColor(OKABE_ITO["green"] if not theme.dark else "#3FC3A0")
        self._skip = QColor(OKABE_ITO["purple"])
        self._accent = QColor(OKABE_ITO["vermillion"] if not theme.dark else OKABE_ITO["orange"])
        glow = QColor(theme.highlight)
        glow.setAlpha(90 if theme.dark else 60)
        self._glow = glow
        self.invalidate()

    def set_luts(self, grad_lut: np.ndarray, node_lut: np.ndarray) -> None:
        """The colour maps (256×4 uint8) of the gradient arrows and the nodes."""
        self.grad_lut, self.node_lut = grad_lut, node_lut
        self._grad_brushes = [QBrush(QColor(int(r), int(g), int(b))) for r, g, b, _ in grad_lut]
        self._node_brushes = [QBrush(QColor(int(r), int(g), int(b))) for r, g, b, _ in node_lut]
        self.invalidate()

    def set_legend(self, grad_caption: tuple[str, str, str], node_levels: tuple[float, float]) -> None:
        """What the legend says: the gradient bar's (title, low end, high end) and the nodes' range."""
        if (grad_caption, node_levels) != (self.grad_caption, self.node_levels):
            self.grad_caption, self.node_levels = grad_caption, node_levels
            self.invalidate()

    def set_structure(self, T: int, arch: str, skip: int | None, readout: str, labels=None) -> None:
        self.T = int(T)
        self.arch = arch
        self.skip = int(skip) if arch == "skip" and skip else None
        self.readout = readout
        self.labels = list(labels) if labels is not None else []
        self._node_idx = self._fwd_idx = self._back_idx = None
        self._hidden_shown = self._grad_shown = None
        self.highlight_step = None
        self.front = None
        self.layout_ = None
        self.invalidate()

    def set_indices(self, nodes: np.ndarray | None, forward: np.ndarray | None, backward: np.ndarray | None) -> None:
        """LUT indices (T,) of each step's node fill, W_H arrow and backward arrow (None: not known)."""
        self._node_idx, self._fwd_idx, self._back_idx = nodes, forward, backward
        self._values = None
        self.update()

    def set_masks(self, hidden_shown: np.ndarray | None, grad_shown: np.ndarray | None,
                  front: tuple[str, int] | None = None) -> None:
        """Which steps' h_t and gradients exist yet (None: all), and where the sweep is. Only what
        changed is repainted (see `_changed`), nothing when nothing did."""
        before = (self._hidden_shown, self._grad_shown, self._marked(), self.front)
        self._hidden_shown, self._grad_shown, self.front = hidden_shown, grad_shown, front
        self._regions = (self._region(hidden_shown, arrows=False), self._region(grad_shown, arrows=True))
        changed = self._changed(*before)
        if changed is None:
            self.update()
        elif not changed.isEmpty():
            self.update(changed)

    def _marked(self) -> tuple[str, int] | None:
        """The step the glow marks: the sweep's front, else the stepper's step."""
        return self.front or ((self.highlight_kind, self.highlight_step) if self.highlight_step else None)

    def _changed(self, hidden, grad, marked, front) -> QRegion | None:
        """What a frame of the sweep changes: the steps revealed since the last one, where the glow
        was and is if it moved, and the loss glow if the front came to or left it; None: the whole
        canvas (nothing cached yet, or a change to or from showing every step); empty: nothing (the
        sweep's frame timer ticks every FRAME_MS, and many ticks show the picture already on screen:
        while the loss or the finished iteration is held, and at T below the frames a phase lasts).
        A frame of the sweep repainted the whole canvas: at 60 frames a second while training, that
        was most of the GUI thread's time with the diagram showing. Repainting the ticks that change
        nothing took, at default settings (T = 22, two ticks in three), training with the diagram
        shown from a median 0.83 of headless to 0.79 (5 interleaved pairs, load 1-3)."""
        L = self.layout_
        if L is None or self._under is None or self._values is None:
            return None
        pairs = ((hidden, self._hidden_shown, False), (grad, self._grad_shown, True))
        if any((a is None) != (b is None) or (a is not None and a.shape != b.shape) for a, b, _ in pairs):
            return None
        region = QRegion()
        for a, b, arrows in pairs:
            if a is not None:
                for rect in self._region(a != b, arrows):
                    region += rect.toAlignedRect()
        now = self._marked()
        for m in (marked, now) if marked != now else ():
            if m is not None and 1 <= m[1] <= self.T:
                t, half, halo = m[1], 0.5 * L.pitch, 1.8 * L.r
                glow = QRectF(L.x[t] - half, L.row_top[L.row_of(t)], 2 * half, L.row_height - 2)
                glow = glow.united(QRectF(L.x[t] - halo, L.y[t] - halo, 2 * halo, 2 * halo))
                region += glow.adjusted(-2, -2, 2, 2).toAlignedRect()
        if L.mode == "detail" and front != self.front and any(f is not None and f[0] == LOSS
                                                               for f in (front, self.front)):
            cx, cy, radius = self._loss_glow_centre(L)
            region += QRectF(cx - radius - 2, cy - radius - 2, 2 * radius + 4, 2 * radius + 4).toAlignedRect()
        return region

    def set_highlight(self, step: int | None, kind: str | None) -> None:
        self.highlight_step, self.highlight_kind = step, kind
        self.update()

    def colour_of(self, indices: np.ndarray | None, t: int, nodes: bool = False) -> QColor | None:
        if indices is None:
            return None
        brushes = self._node_brushes if nodes else self._grad_brushes
        return brushes[int(indices[t - 1])].color()

    @property
    def arrow_colours(self) -> list[QColor | None]:
        """The W_H arrows' colours as drawn now (None: not yet computed)."""
        shown = self._grad_shown
        return [self.colour_of(self._fwd_idx, t) if shown is None or shown[t - 1] else None
                for t in range(1, self.T + 1)]

    @property
    def node_colours(self) -> list[QColor | None]:
        shown = self._hidden_shown
        return [self.colour_of(self._node_idx, t, nodes=True) if shown is None or shown[t - 1] else None
                for t in range(1, self.T + 1)]

    def invalidate(self) -> None:
        """Lay out and cache again at the next paint (size, structure, theme or legend changed)."""
        self._under = self._values = None
        self.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.layout_ = None
        self.invalidate()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:      # e.g. presentation mode's larger type
            self.layout_ = None
            self.invalidate()

    def sizeHint(self) -> QSize:
        return QSize(640, 360)

    # ------------------------------------------------------------------ geometry and caches
    def _ensure_cache(self) -> None:
        if self.layout_ is None:
            self.layout_ = compute_layout(self.T, self.width(), self.height(), self.readout, self.arch,
                                          QFontMetricsF(self.font()).height()) if self.T else None
            self._under = self._values = self._layers = None
            if self.layout_ is not None:
                self._build_shapes(self.layout_)
                self._regions = (self._region(self._hidden_shown, arrows=False),
                                 self._region(self._grad_shown, arrows=True))
        if self._under is None:
            self._under = self._pixmap(self.devicePixelRatioF(), self._base)
            p = QPainter(self._under)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            if self.layout_ is not None:
                self._paint_under(p, self.layout_)
            self._paint_legend(p)
            p.end()

    def _pixmap(self, ratio: float, fill) -> QPixmap:
        pixmap = QPixmap(max(1, int(self.width() * ratio)), max(1, int(self.height() * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(fill)
        return pixmap

    def _build_shapes(self, L: Layout) -> None:
        """Node rectangles and arrow polygons of every step, once per layout."""
        T, r, P = self.T, L.r, L.pitch
        self._node_rects, self._fwd_polys, self._back_polys = [], [], []
        if L.mode == "detail":
            w = max(3.0, 0.5 * r)
            head = min(max(0.9 * r, 4.0), 10.0)
            for t in range(1, T + 1):
                cx, cy = float(L.x[t]), float(L.y[t])
                self._node_rects.append(QRectF(cx - r, cy - r, 2 * r, 2 * r))
                start = cx - P + r + 1.5       # the right edge of h_{t-1}, or the row's entry margin
                self._fwd_polys.append(_arrow(start, cx - r - 1.5, cy, w, head, 2.2 * w))
                by = cy + r + 0.75 * w + 2.0
                self._back_polys.append(_arrow(cx - 0.25 * r, start - r + 0.25 * r + 1.0, by, 0.8 * w, head,
                                               1.9 * w))
        else:
            band = L.band
            wdt = L.pitch * 0.84 if L.pitch >= 6 else L.pitch + 0.5    # thin columns touch (no moiré)
            for t in range(1, T + 1):
                left, cy = float(L.x[t]) - 0.5 * wdt, float(L.y[t])
                self._node_rects.append(QRectF(left, cy - 1.5 * band, wdt, band))
                self._fwd_polys.append(QPolygonF(QRectF(left, cy - 0.5 * band, wdt, band)))
                self._back_polys.append(QPolygonF(QRectF(left, cy + 0.5 * band, wdt, band)))

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:
        """A frame: the cached layers, the values revealed so far (clipped to the steps the masks
        show) and the sweep's front — a dozen calls whatever T is."""
        p = QPainter(self)
        self._ensure_cache()
        p.drawPixmap(0, 0, self._under)
        L = self.layout_
        if L is not None:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, L.mode == "detail")
            self._paint_front(p, L)
            if self._regions == (None, None):       # everything shown (still, or held): paint straight on
                self._paint_nodes(p, L)
                self._paint_arrows(p, L)
            else:                                   # a sweep: reveal parts of the cached layers
                self._ensure_values(L)
                ratio = self._values[0].devicePixelRatio()
                for layer, rects in zip(self._values, self._regions):
                    if rects is None:
                        p.drawPixmap(0, 0, layer)
                        continue
                    for rect in rects:           # source rectangles, not a clip region: clipping
                        p.drawPixmap(rect, layer, QRectF(rect.x() * ratio, rect.y() * ratio,   # is not honoured
                                                         rect.width() * ratio, rect.height() * ratio))  # by grab()
        if L is not None and L.mode == "detail":
            self._paint_marks(p, L)
        p.end()

    def _paint_front(self, p: QPainter, L: Layout) -> None:
        """The sweep's front (or the stepper's step): a glow over its column and a halo round h_t."""
        marked = self.front or ((self.highlight_kind, self.highlight_step) if self.highlight_step else None)
        if marked is None or not 1 <= marked[1] <= self.T:
            return
        t = marked[1]
        half = 0.5 * L.pitch
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._glow)
        p.drawRoundedRect(QRectF(L.x[t] - half, L.row_top[L.row_of(t)], 2 * half, L.row_height - 2), 4, 4)
        halo = self._halo(marked[0], t)
        if halo is not None and L.mode == "detail":   # the wavefront, in the colour of what it carries
            p.setBrush(halo)
            p.drawEllipse(QPointF(L.x[t], L.y[t]), 1.8 * L.r, 1.8 * L.r)

    def _paint_marks(self, p: QPainter, L: Layout) -> None:
        """The stepper's current step (a ring) and the loss while the sweep is at it."""
        if self.highlight_step is not None and 1 <= self.highlight_step <= self.T:
            rect = self._node_rects[self.highlight_step - 1].adjusted(-3, -3, 3, 3)
            p.setPen(QPen(self._accent, 2.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(rect) if self.arch != "lstm" else p.drawRoundedRect(rect, 0.3 * L.r + 2, 0.3 * L.r + 2)
        if self.front is not None and self.front[0] == LOSS:
            self._paint_loss_glow(p, L)

    def _ensure_values(self, L: Layout) -> None:
        """Paint every step's colours, once per new set of colours, into two layers: node fills
        and gradient arrows (a frame of the sweep then only reveals parts of them)."""
        if self._values is not None:
            return
        ratio = self.devicePixelRatioF()
        if self._layers is None:             # allocated once per layout, cleared for each new set of colours
            self._layers = (self._pixmap(ratio, Qt.GlobalColor.transparent),
                            self._pixmap(ratio, Qt.GlobalColor.transparent))
        for layer, paint in zip(self._layers, (self._paint_nodes, self._paint_arrows)):
            layer.fill(Qt.GlobalColor.transparent)
            p = QPainter(layer)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, L.mode == "detail")
            paint(p, L)
            p.end()
        self._values = self._layers

    def _paint_nodes(self, p: QPainter, L: Layout) -> None:
        """Every node's fill (rms h_t) and, when large, its name."""
        if self._node_idx is None:
            return
        p.setPen(Qt.PenStyle.NoPen if L.mode == "bands" else QPen(self._text, 1.2))
        brushes = self._node_brushes
        for rect, i in zip(self._node_rects, self._node_idx):
            p.setBrush(brushes[i])
            if L.mode == "bands":
                p.drawRect(rect)
            elif self.arch == "lstm":
                p.drawRoundedRect(rect, 0.3 * L.r, 0.3 * L.r)
            else:
                p.drawEllipse(rect)
        if L.mode == "detail" and L.r >= 9:
            self._paint_node_names(p, L)

    def _paint_arrows(self, p: QPainter, L: Layout) -> None:
        """Every W_H arrow (share of dL/dW_H) and backward arrow (‖∂L/∂h_t‖) in its colour."""
        p.setPen(Qt.PenStyle.NoPen)
        brushes = self._grad_brushes
        for polys, indices in ((self._fwd_polys, self._fwd_idx), (self._back_polys, self._back_idx)):
            if indices is not None:
                for poly, i in zip(polys, indices):
                    p.setBrush(brushes[i])
                    p.drawPolygon(poly)

    def _region(self, mask: np.ndarray | None, arrows: bool) -> list[QRectF] | None:
        """The rectangles of the steps `mask` shows (None: all), one per run of steps in a row. A
        step's node owns its column x_t ± pitch/2; its arrows own the gap before it, x_t − pitch … x_t."""
        L = self.layout_
        if mask is None or L is None:
            return None
        steps = np.flatnonzero(mask) + 1
        if steps.size == 0:
            return []
        rows = (steps - 1) // L.per_row
        cuts = np.flatnonzero((np.diff(steps) != 1) | (np.diff(rows) != 0)) + 1
        before, after = (L.pitch, 0.0) if arrows and L.mode == "detail" else (0.5 * L.pitch, 0.5 * L.pitch)
        rects = []
        for run in np.split(steps, cuts):
            a, b = int(run[0]), int(run[-1])
            x0, x1 = math.floor(L.x[a] - before), math.ceil(L.x[b] + after)
            top = math.floor(L.row_top[L.row_of(a)])
            rects.append(QRectF(x0, top, x1 - x0, math.ceil(L.row_height)))
        return rects

    def _halo(self, kind: str, t: int) -> QColor | None:
        """The sweep's front at step t: forward, h_t's colour; backward, ‖∂L/∂h_t‖'s (so the wave
        itself fades where the gradient vanishes)."""
        indices, nodes = (self._back_idx, False) if kind == BACKWARD else (self._node_idx, True)
        colour = self.colour_of(indices, t, nodes) if kind in (FORWARD, BACKWARD) else None
        if colour is None:
            return None
        colour = QColor(colour)
        colour.setAlpha(170)
        return colour

    def _loss_glow_centre(self, L: Layout) -> tuple[float, float, float]:
        """Centre and radius of the glow round the loss: 1.8 node radii + 4 px, less where the
        canvas's right edge comes first (the end margin is half a column; the glow was cut there)."""
        T = self.T
        cx = L.x[T] + (1.9 * L.pitch if self.readout == "last" else 0.0)
        cy = L.y[T] - (0.0 if self.readout == "last" else L.y_band)
        return cx, cy, min(1.8 * L.r + 4, self.width() - 1.0 - cx)

    def _paint_loss_glow(self, p: QPainter, L: Layout) -> None:
        cx, cy, radius = self._loss_glow_centre(L)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._glow)
        p.drawEllipse(QPointF(cx, cy), radius, radius)

    def _paint_node_names(self, p: QPainter, L: Layout, coloured: bool = True) -> None:
        """h₁, h₂, … inside the nodes, in ink that reads on each node's colour (or on the empty node)."""
        font = QFont()
        font.setPixelSize(max(8, int(L.r * 0.7)))
        p.setFont(font)
        for t in range(1, self.T + 1):
            colour = self.colour_of(self._node_idx, t, nodes=True) if coloured else None
            p.setPen(self._text if colour is None else _ink_on(colour))
            p.drawText(self._node_rects[t - 1], Qt.AlignmentFlag.AlignCenter, sub("h", t))

    def _paint_under(self, p: QPainter, L: Layout) -> None:
        """Static, under the values: x_t and y_t nodes, W_I, W_O, skip arcs, the c_t line, labels."""
        if L.mode == "bands":
            self._paint_bands_static(p, L)
            return
        T, r, P = self.T, L.r, L.pitch
        thin = QPen(self._muted, max(1.0, 0.12 * r))
        font = self.font()
        metrics = QFontMetricsF(font)
        # the lanes: a faint track under every arrow, so a vanished (darkest) arrow still has its shape
        track = QColor(self._muted)
        track.setAlpha(40)
        p.setPen(QPen(track, 2.0))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for poly in self._fwd_polys + self._back_polys:
            p.drawPolygon(poly)
        p.setPen(Qt.PenStyle.NoPen)              # a W_H arrow whose gradient is not known yet: faint
        p.setBrush(self._faint)
        for poly in self._fwd_polys:
            p.drawPolygon(poly)
        # h_0 = 0
        p.setPen(QPen(self._muted, 1.0))
        p.setBrush(self._base)
        p.drawEllipse(QPointF(L.x[0], L.y[0]), 0.55 * r, 0.55 * r)
        rx = 0.75 * r
        for t in range(1, T + 1):
            cx, cy = float(L.x[t]), float(L.y[t])
            xy = cy + 3.3 * r
            p.setPen(thin)
            p.setBrush(self._base)
            p.drawEllipse(QPointF(cx, xy), rx, rx)                       # x_t
            _vertical_arrow(p, cx, xy - rx - 1, cy + r + 1, self._muted, max(1.0, 0.12 * r), 0.5 * r)   # W_I
            if self.readout == "all":
                yy = cy - L.y_band
                p.setPen(QPen(self._text, 1.2))
                p.setBrush(self._base)
                p.drawEllipse(QPointF(cx, yy), 0.8 * r, 0.8 * r)
                _vertical_arrow(p, cx, cy - r - 1, yy + 0.8 * r + 1, self._muted, max(1.0, 0.12 * r), 0.5 * r)
        p.setFont(font)
        p.setPen(self._muted)
        for row in range(1, L.rows):        # a wrapped chain: "⋯" where a row leaves off and resumes
            first = row * L.per_row + 1
            p.drawText(QRectF(L.x[first - 1] + r, L.y[first - 1] - 0.5 * P, 0.5 * P + 2, P),
                       Qt.AlignmentFlag.AlignCenter, "⋯")
            p.drawText(QRectF(L.left, L.y[first] - 0.5 * P, 0.5 * P, P), Qt.AlignmentFlag.AlignCenter, "⋯")
        if self.readout == "last":          # h_T → y_T → L
            cx, cy = float(L.x[T]), float(L.y[T])
            yx = cx + 1.1 * P
            _horizontal_arrow(p, cx + r + 1, yx - 0.8 * r - 1, cy, self._muted, max(1.0, 0.12 * r), 0.5 * r)
            p.setPen(QPen(self._text, 1.2))
            p.setBrush(self._base)
            p.drawEllipse(QPointF(yx, cy), 0.8 * r, 0.8 * r)
            p.setFont(font)
            p.setPen(self._text)
            p.drawText(QPointF(yx + 0.8 * r + 3, cy + 0.35 * metrics.ascent()), "→ L")
        if self.arch == "lstm":              # the cell state c_{t-1} → c_t along the top of the cells
            cy_off = -1.45 * r
            pen_w = max(1.5, 0.22 * r)
            for t in range(1, T + 1):
                cx, cy = float(L.x[t]), float(L.y[t]) + cy_off
                _horizontal_arrow(p, cx - P + 0.3 * r, cx + 0.3 * r, cy, self._cell, pen_w, 0.5 * r)
        if self.skip is not None:
            self._paint_skip_arcs(p, L)
        p.setPen(QPen(self._muted, 1.2))          # every node empty, as before the forward pass reaches it
        p.setBrush(self._base)
        for rect in self._node_rects:
            p.drawEllipse(rect) if self.arch != "lstm" else p.drawRoundedRect(rect, 0.3 * r, 0.3 * r)
        if r >= 9:
            self._paint_node_names(p, L, coloured=False)
        self._paint_step_labels(p, L, font, metrics)
        if P >= 30:
            self._paint_weight_names(p, L, font)

    def _paint_skip_arcs(self, p: QPainter, L: Layout) -> None:
        """The skip arcs h_{t-k} → h_t along the short path back from h_T (T, T−k, T−2k, …: k times
        fewer factors than the W_H chain); every step has one, drawing them all would hide the path.
        An arc that crosses a row break is drawn as two halves (leaving at the right edge, entering
        at the left), as the W_H arrows wrap."""
        k, r, P = self.skip, L.r, L.pitch
        p.setPen(QPen(self._skip, max(1.5, 0.2 * r)))
        p.setBrush(Qt.BrushStyle.NoBrush)
        rise = 1.8 * r
        for t in range(self.T, k, -k):
            for anchor in (t, t - k):
                row = L.row_of(anchor)
                if anchor == t - k and row == L.row_of(t):
                    continue                          # same row: drawn once, from the target
                p.save()
                p.setClipRect(QRectF(L.left, L.row_top[row], L.right - L.left, L.row_height))
                x1 = float(L.x[t]) if anchor == t else float(L.x[t - k]) + k * P
                x0 = x1 - k * P
                base_y = float(L.y[anchor]) - r
                path = QPainterPath(QPointF(x0 + 0.3 * r, base_y))
                path.cubicTo(QPointF(x0 + 0.1 * k * P, base_y - rise), QPointF(x1 - 0.1 * k * P, base_y - rise),
                             QPointF(x1 - 0.3 * r, base_y))
                p.drawPath(path)
                if anchor == t:                       # its head, into h_t
                    p.save()
                    p.setPen(Qt.PenStyle.NoPen)
                    p.setBrush(self._skip)
                    h = max(4.0, 0.5 * r)
                    tip = QPointF(x1 - 0.3 * r, base_y)
                    p.drawPolygon(QPolygonF([tip, QPointF(tip.x() - 0.2 * h, tip.y() - h),
                                             QPointF(tip.x() + 0.7 * h, tip.y() - 0.6 * h)]))
                    p.restore()
                p.restore()

    def _paint_step_labels(self, p: QPainter, L: Layout, font: QFont, metrics: QFontMetricsF) -> None:
        """Under x_t: the words or tokens when given (thinned from the last one, the question), else
        x₁, x₂, … when they fit, else the step numbers at round intervals and at each row's start."""
        p.setFont(font)
        p.setPen(self._text)
        T, r = self.T, L.r
        words = bool(self.labels) and len(self.labels) == T
        if words:
            texts = self.labels
        elif metrics.horizontalAdvance(sub("x", T)) + 4 <= L.pitch:
            texts = [sub("x", t) for t in range(1, T + 1)]
        else:
            texts = [str(t) for t in range(1, T + 1)]
        need = max(1, math.ceil((max(metrics.horizontalAdvance(s) for s in texts) + 4) / L.pitch))
        if words:
            shown = [t for t in range(1, T + 1) if (T - t) % need == 0]
        else:
            stride = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 250, 500) if s >= need) if need <= 500 else T
            starts = {t for t in range(1, T + 1) if (t - 1) % L.per_row == 0}
            shown = sorted(t for t in range(1, T + 1)
                           if (t % stride == 0 and not any(0 < t - s < need for s in starts)) or t in starts
                           or stride == 1)
        for t in shown:
            text = texts[t - 1]
            w = metrics.horizontalAdvance(text)
            p.drawText(QPointF(L.x[t] - 0.5 * w, L.y[t] + 4.05 * r + 2 + metrics.ascent()), text)

    def _paint_weight_names(self, p: QPainter, L: Layout, font: QFont) -> None:
        """W_I, W_H (and W_O, W_S) once, at the first step: the same matrices at every step."""
        italic = QFont(font)
        italic.setItalic(True)
        p.setFont(italic)
        metrics = QFontMetricsF(italic)
        r, P = L.r, L.pitch
        cx, cy = float(L.x[1]), float(L.y[1])
        p.setPen(self._muted)
        # Clear of the arrows (their geometry is `_build_shapes`'s) and, for an LSTM, of the cell line
        # above them: W_H rests on whichever is higher; at small sizes its font shrinks to fit above.
        w = max(3.0, 0.5 * r)
        above = cy - 1.1 * w - 1.0
        if self.arch == "lstm":
            above = min(above, cy - 1.45 * r - 0.5 * max(1.5, 0.22 * r) - 1.0)
        small = QFont(italic)
        px = QFontInfo(italic).pixelSize()
        while QFontMetricsF(small).height() > above and px > MIN_NAME_PX:
            px -= 1
            small.setPixelSize(px)
        m = QFontMetricsF(small)
        p.setFont(small)
        p.drawText(QPointF(cx - 0.5 * P - 0.5 * m.horizontalAdvance("W_H"),
                           min(cy - 0.45 * r - 3, above - m.descent())), "W_H")
        p.setFont(italic)
        below = cy + r + 0.75 * w + 2.0 + 0.95 * w + 1.0        # under the backward arrow
        p.drawText(QPointF(cx - 0.75 * r - 3 - metrics.horizontalAdvance("W_I"),
                           max(cy + 3.3 * r + 4, below + metrics.ascent())), "W_I")
        if self.readout == "all":
            p.drawText(QPointF(cx + 0.3 * r + 3, cy - 0.5 * L.y_band - 0.2 * r), "W_O")
        else:
            T = self.T
            p.drawText(QPointF(L.x[T] + 0.55 * P - 0.5 * metrics.horizontalAdvance("W_O"), L.y[T] - 0.45 * r - 3), "W_O")
        if self.skip is not None and self.skip < self.T:
            t = self.skip + 1
            if L.row_of(t) == 0:
                p.setPen(self._skip)
                p.drawText(QPointF(0.5 * (L.x[1] + L.x[t]) - 8, L.y[1] - 2.3 * r), "W_S")

    def _paint_bands_static(self, p: QPainter, L: Layout) -> None:
        """The overview's row names and step numbers."""
        p.setFont(self.font())
        p.setPen(self._muted)
        band = L.band
        metrics = QFontMetricsF(self.font())
        names = QRectF(L.left + L.pitch - 2 * L.label_px, 0, 2 * L.label_px - 3, band)
        for row in range(L.rows):
            first = row * L.per_row + 1
            cy = float(L.y[first])
            for text, y in (("h", cy - band), ("→", cy), ("←", cy + band)):
                p.drawText(names.translated(0, y - 0.5 * band), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                           text)
            last = min(self.T, first + L.per_row - 1)
            baseline = cy + 1.5 * band + 2 + metrics.ascent()
            p.drawText(QPointF(L.x[first] - 0.5 * L.pitch, baseline), str(first))
            p.drawText(QPointF(L.x[last] + 0.5 * L.pitch - metrics.horizontalAdvance(str(last)), baseline), str(last))

    def _paint_legend(self, p: QPainter) -> None:
        """The two colour bars, under the rows: gradient (arrows) and rms h_t (nodes)."""
        if self.grad_lut is None:
            return
        font = self.font()
        p.setFont(font)
        metrics = QFontMetricsF(font)
        L = self.layout_
        top = L.legend_top if L is not None else self.height() - 2 * metrics.height()
        x = 6.0
        bar_h = metrics.ascent()
        title, low, high = self.grad_caption
        node_lo, node_hi = f"{self.node_levels[0]:.2g}", f"{self.node_levels[1]:.2g}"
        items = [[self.grad_lut, title, low, high, 150.0], [self.node_lut, "nodes: rms h_t", node_lo, node_hi, 70.0]]
        text = lambda: sum(metrics.horizontalAdvance(c) + metrics.horizontalAdvance(lo) + metrics.horizontalAdvance(hi)
                           + 30 for _, c, lo, hi, _ in items)
        if text() + 220 > self.width() - 12:        # narrow: short names, bars to fit
            items[0][1], items[1][1] = "arrows:", "h_t:"
        spare = self.width() - 12 - text()
        if spare < 220:
            items[0][4], items[1][4] = max(30.0, 0.68 * spare), max(20.0, 0.32 * spare)
        for lut, caption, lo_text, hi_text, width in items:
            p.setPen(self._text)
            p.drawText(QPointF(x, top + bar_h), caption)
            x += metrics.horizontalAdvance(caption) + 6
            p.drawText(QPointF(x, top + bar_h), lo_text)
            x += metrics.horizontalAdvance(lo_text) + 3
            gradient = QLinearGradient(x, 0, x + width, 0)
            for i in range(0, 256, 15):
                r, g, b, _ = lut[i]
                gradient.setColorAt(i / 255.0, QColor(int(r), int(g), int(b)))
            r, g, b, _ = lut[255]
            gradient.setColorAt(1.0, QColor(int(r), int(g), int(b)))
            p.setPen(QPen(self._muted, 1.0))
            p.setBrush(QBrush(gradient))
            p.drawRect(QRectF(x, top + 1, width, bar_h))
            x += width + 3
            p.setPen(self._text)
            p.drawText(QPointF(x, top + bar_h), hi_text)
            x += metrics.horizontalAdvance(hi_text) + 18


def _vertical_arrow(p: QPainter, x: float, y0: float, y1: float, colour: QColor, width: float, head: float) -> None:
    p.setPen(QPen(colour, width))
    d = 1.0 if y1 >= y0 else -1.0
    head = min(head, 0.5 * abs(y1 - y0))
    p.drawLine(QPointF(x, y0), QPointF(x, y1 - d * head))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)
    p.drawPolygon(QPolygonF([QPointF(x, y1), QPointF(x - 0.6 * head, y1 - d * head), QPointF(x + 0.6 * head, y1 - d * head)]))


def _horizontal_arrow(p: QPainter, x0: float, x1: float, y: float, colour: QColor, width: float, head: float) -> None:
    p.setPen(QPen(colour, width))
    d = 1.0 if x1 >= x0 else -1.0
    head = min(head, 0.5 * abs(x1 - x0))
    p.drawLine(QPointF(x0, y), QPointF(x1 - d * head, y))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)
    p.drawPolygon(QPolygonF([QPointF(x1, y), QPointF(x1 - d * head, y - 0.6 * head), QPointF(x1 - d * head, y + 0.6 * head)]))


def _ink_on(colour: QColor) -> QColor:
    """Black or white text, whichever reads on `colour`."""
    luminance = 0.2126 * colour.redF() + 0.7152 * colour.greenF() + 0.0722 * colour.blueF()
    return QColor("#000000") if luminance > 0.5 else QColor("#FFFFFF")


# ---------------------------------------------------------------------------------------------- the view
class UnrolledView(QWidget):
    """The unrolled network with its caption, toggles, colour legend and hover read-out.

    Live (`show_snapshots`): nodes show rms h_t of the batch, W_H arrows each step's share of
    dL/dW_H, backward arrows ‖∂L/∂h_t‖ of the batch, animated as forward sweep and backward wave.
    The BPTT stepper drives its own instance (`live=False`) through `set_values(..., *_shown=...)`
    and `highlight`.
    """

    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, theme: Theme = LIGHT, object_name: str = "unrolledView",
                 live: bool = True) -> None:
        """`live`: follows training and may animate; the stepper's instance passes False."""
        super().__init__(parent)
        self.setObjectName(object_name)
        self.live = live
        self._pending = None        # the newest snapshot received while in a hidden tab
        self.grad_scale = GradientScale(theme.colormap)
        self.act_scale = ColourScale(theme.alt_colormap, log=False, initial=(0.0, 1.0))
        self._hidden: np.ndarray | None = None
        self._grad: np.ndarray | None = None
        self._contrib: np.ndarray | None = None
        self._hidden_shown: np.ndarray | None = None
        self._grad_shown: np.ndarray | None = None
        self._structure: tuple | None = None
        self._labels: list[str] | None = None
        self._label_source = LABEL_SOURCE
        self._name = ""
        self._iteration: int | None = None
        self._latest = None               # the newest snapshot (animation: the next to play)
        self._sweep: _Sweep | None = None
        self._playing = None              # the snapshot the animation is playing
        self.frames_played = 0            # animation frames shown so far

        self.caption = QLabel(objectName="unrolledCaption")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.iteration_label = QLabel("", objectName="unrolledIterationLabel")
        self.animate_toggle = QCheckBox("Animate", objectName="unrolledAnimateToggle")
        self.animate_toggle.setToolTip(
            "Play each iteration as the lecture tells it: the forward sweep left → right (h_t), the "
            "loss, then the backward wave right → left coloured by the real ‖∂L/∂h_t‖. A new "
            "iteration starts when one has played; paused, the last one stays.")
        self.animate_toggle.setChecked(live)
        if not live:     # (showing it here, before it has a parent, would open it as a window)
            self.animate_toggle.hide()
        self.animate_toggle.toggled.connect(self._animate_toggled)
        self.absolute_toggle = QCheckBox("Absolute", objectName="unrolledAbsoluteToggle")
        self.absolute_toggle.setToolTip(
            "Off (default): every arrow relative to the largest step of the same iteration, log₁₀ "
            "10⁻¹⁶ … 1: lit = this step still contributes, dark = vanished, whatever the loss.\n"
            "On: the norms themselves on one fixed log₁₀ range for every run.")
        self.absolute_toggle.toggled.connect(self.set_absolute)
        self.diagram = DiagramCanvas(theme)
        self.hover_label = QLabel(" ", objectName="unrolledHoverLabel")
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.diagram.installEventFilter(self)

        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.iteration_label, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.animate_toggle, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.absolute_toggle, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.diagram, 1)
        layout.addWidget(self.hover_label)

        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._tick)
        self.apply_theme(theme)

    # ------------------------------------------------------------------ view contract
    def set_labels(self, labels: list[str] | None, source: str = LABEL_SOURCE) -> None:
        """Words or tokens to write under x_t for the rest of the run (e.g. an Inspection's
        step_labels); the live snapshots carry none, since each batch has its own sequences.
        The caption says where they come from (`source`): while training goes on, the colours are
        newer batches' and the words are still those of one inspected example."""
        self._labels = list(labels) if labels else None
        self._label_source = source
        if self._structure is not None:     # labels of another length than T are not drawn
            T, arch, skip, readout, _ = self._structure
            fits = self._labels if self._labels is not None and len(self._labels) == T else None
            self.set_structure(T, arch, skip, readout, fits)
            self._recolour()
        self._update_caption()

    def restart(self, snapshot) -> None:
        """A new run: forget the activation range, the labels and the animation; rebuild for its T
        and show its iteration 0 still (the animation plays the iterations training brings)."""
        self._labels = None
        self.act_scale.restart()
        self._structure = None
        self._sweep = None
        self._timer.stop()
        self._show_newest((snapshot,), animate=False)

    def show_snapshots(self, snapshots: tuple) -> None:
        """Show the newest snapshot (older ones in the batch are history): at once, or as the next
        iteration to play when animating. In a hidden tab only the structure follows."""
        self._show_newest(snapshots, animate=True)

    def _show_newest(self, snapshots: tuple, animate: bool) -> None:
        if not snapshots:
            return
        snap = snapshots[-1]
        s = snap.settings
        T = len(snap.dh_norms)
        labels = self._labels if self._labels is not None and len(self._labels) == T else None
        self.set_structure(T, s.arch, s.skip, readout_of(s), labels)
        self._latest = snap
        if in_hidden_tab(self):
            self._pending = snap
            return
        self._pending = None
        if animate and self._animating():
            if self._sweep is None:
                self._play(snap)
            return
        self._playing = snap
        self._show_snapshot(snap)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.redraw()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        if self._sweep is not None:       # hidden mid-sweep: hold the iteration, complete
            self._timer.stop()
            self._sweep = None
            self._show_masks(None, None)

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
        self._structure = key
        self.diagram.set_structure(T, arch, skip, readout, labels)
        self._hidden = self._grad = self._contrib = None
        self._sweep = None
        name = {"rnn": "RNN", "skip": f"RNN + skip connections (k = {skip})", "lstm": "LSTM"}.get(arch, arch)
        self._name = f"{name}, T = {T}"
        self._update_caption()

    def set_values(self, hidden: np.ndarray | None, grad: np.ndarray | None, contributions: np.ndarray | None = None,
                   *, hidden_shown: np.ndarray | None = None, grad_shown: np.ndarray | None = None) -> None:
        """Recolour: nodes by `hidden` (rms h_t), backward arrows by `grad` (‖∂L/∂h_t‖), W_H arrows by
        `contributions` (‖h_{t-1}ᵀ δ_t‖_F; `grad` when not given), each (T,).

        `*_shown` masks (bool, (T,)) leave steps not yet computed empty (the forward and backward
        waves); None means all shown. Colours come from the complete arrays, so they stay put while
        the masks reveal them."""
        T = self.diagram.T
        self._hidden = _vector(hidden, T)
        self._grad = _vector(grad, T)
        self._contrib = _vector(contributions, T) if contributions is not None else self._grad
        self._recolour()
        self._show_masks(hidden_shown, grad_shown)

    def fix_levels(self, hidden: np.ndarray | None) -> None:
        """The activation colour range from the complete array (the stepper: colours stay put while
        it steps); gradient colours are relative to each array's largest value or absolute, fixed."""
        self.act_scale.restart()
        if hidden is not None:
            self.act_scale.observe(hidden)
        self._update_legend()

    def highlight(self, step: int | None, kind: str | None = None) -> None:
        """Mark step t (1..T) — the stepper's current frame — None clears."""
        self.diagram.set_highlight(step, kind)

    def set_absolute(self, on: bool) -> None:
        """Arrows by the norms themselves (True) or relative to the iteration's largest step (False)."""
        if self.absolute_toggle.isChecked() != on:
            self.absolute_toggle.setChecked(on)       # comes back here through `toggled`
            return
        self.grad_scale.set_mode(ABSOLUTE if on else RELATIVE)
        self._recolour()
        self._update_caption()

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.grad_scale.set_colormap(theme.colormap)
        self.act_scale.set_colormap(theme.alt_colormap)
        self.diagram.set_luts(self.grad_scale.lut, self.act_scale.lut)
        self.diagram.set_theme(theme)
        self._update_legend()

    def is_animating(self) -> bool:
        """True while an iteration is playing (False: the last one is held, complete)."""
        return self._sweep is not None

    # ------------------------------------------------------------------ animation
    def _animating(self) -> bool:
        """Animate when asked to and actually on screen (an offscreen recording grabs still frames)."""
        window = self.window()
        return (self.live and self.animate_toggle.isChecked() and self.isVisible()
                and not window.testAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen))

    def _animate_toggled(self, on: bool) -> None:
        if not on:
            self._timer.stop()
            self._sweep = None
            if self._latest is not None:
                self._show_snapshot(self._latest)
        elif self._latest is not None and self._animating():
            self._play(self._latest)

    def _play(self, snap) -> None:
        self._show_snapshot(snap, masks=False)
        self._sweep = _Sweep(self.diagram.T, time.perf_counter())
        self._playing = snap
        self._tick()
        self._timer.start()

    def _tick(self) -> None:
        sweep = self._sweep
        if sweep is None:
            self._timer.stop()
            return
        index = sweep.index(time.perf_counter())
        if index is None:                         # played: the next iteration, or hold this one
            self._sweep = None
            if self._latest is not None and self._latest is not self._playing and self._animating():
                self._play(self._latest)
            else:
                self._timer.stop()
                self._show_masks(None, None)
            return
        kind, t, hidden_shown, grad_shown = revealed(index, sweep.T)
        held = index == 2 * sweep.T and time.perf_counter() - sweep.start > FORWARD_S + LOSS_S + BACKWARD_S
        self._show_masks(hidden_shown, grad_shown, None if held else (kind, t))
        self.frames_played += 1

    # ------------------------------------------------------------------ internals
    def _show_snapshot(self, snap, *, masks: bool = True) -> None:
        self._iteration = snap.iteration
        self.set_values(getattr(snap, "hidden_rms", None), snap.dh_norms, snap.contribution_norms)
        if not masks:
            return
        self._show_masks(None, None)

    def _show_masks(self, hidden_shown, grad_shown, front=None) -> None:
        self._hidden_shown, self._grad_shown = hidden_shown, grad_shown
        self.diagram.set_masks(hidden_shown, grad_shown, front)
        if self._iteration is not None:
            self.iteration_label.setText(f"iteration {self._iteration}")

    def _recolour(self) -> None:
        T = self.diagram.T
        top = len(self.grad_scale.lut) - 1
        to_index = lambda values: (self.grad_scale.fractions_of(self.grad_scale.coords(values)) * top
                                   + 0.5).astype(np.intp)
        nodes = fwd = back = None
        if self._hidden is not None:
            if self.live and self.act_scale.observe(self._hidden):
                self._update_legend()
            nodes = self.act_scale.indices(self._hidden)
        if self._grad is not None:
            back = to_index(self._grad)
            fwd = to_index(self._contrib) if self._contrib is not self._grad else back
        if T:
            self.diagram.set_indices(nodes, fwd, back)

    def _update_legend(self) -> None:
        lo, hi = self.grad_scale.levels
        if self.grad_scale.relative:
            caption = ("arrows, share of the largest step:", _power(lo), "1")
        else:
            caption = ("arrows, absolute:", _power(lo), _power(hi))
        self.diagram.set_legend(caption, self.act_scale.levels or (0.0, 1.0))

    def _update_caption(self) -> None:
        scale = ("relative to the iteration's largest step (dark = vanished)" if self.grad_scale.relative
                 else "absolute, one fixed range")
        if self.width() >= NARROW_PX:
            text = f"<b>{html.escape(self._name)}</b> · → W_H share of dL/dW_H · ← ‖∂L/∂h_t‖ · {scale}"
        else:                 # e.g. Compare's two diagrams side by side: the tooltip says the rest
            text = (f"<b>{html.escape(self._name)}</b> · "
                    + ("relative (dark = vanished)" if self.grad_scale.relative else "absolute"))
        tip = ("→ W_H arrows: each step's share ‖h_(t−1)ᵀ δ_t‖_F of dL/dW_H; ← arrows: ‖∂L/∂h_t‖, "
               "the gradient flowing back.\nColours: the whole training batch. Arrows: "
               + self.grad_scale.describe() + ".\n"
               "Nodes: rms h_t. Step 1's W_H arrow is always dark: it multiplies h_0 = 0.")
        if self._labels and self.diagram.labels == self._labels:     # shown: their length is T
            text += f" · words under x_t: {html.escape(self._label_source)}"
            tip += (f"\nWords under x_t: {self._label_source}. Each batch has its own sequences, so "
                    "they describe the batch inspected in the BPTT stepper, not the batch now coloured; "
                    "they stay until the run restarts or the next inspection.")
        self.caption.setText(text)
        self.caption.setToolTip(tip)
        self._update_legend()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if (event.oldSize().width() >= NARROW_PX) != (event.size().width() >= NARROW_PX):
            self._update_caption()

    def eventFilter(self, watched, event) -> bool:
        if watched is self.diagram and event.type() == event.Type.MouseMove:
            self._mouse_moved(event.position())
        return super().eventFilter(watched, event)

    def _mouse_moved(self, pos: QPointF) -> None:
        layout = self.diagram.layout_
        if layout is None:
            return
        t = layout.step_at(pos.x(), pos.y())
        if t is None:
            return
        self.hover_label.setText(self.describe(t))
        self.hovered.emit(self.hover_label.text())

    def position_of(self, t: int) -> QPointF:
        """Where h_t is drawn, in the canvas's pixels (tests and tools)."""
        self.diagram._ensure_cache()
        layout = self.diagram.layout_
        return QPointF(float(layout.x[t]), float(layout.y[t]))

    def describe(self, t: int) -> str:
        """The exact values at step t (the hover read-out)."""
        T = self.diagram.T
        if t == 0:
            return "h₀ = 0 (the initial state)"
        if not 1 <= t <= T:
            return " "
        parts = [f"step t = {t}"]
        if self.diagram.labels and t - 1 < len(self.diagram.labels):
            parts[0] += f" “{self.diagram.labels[t - 1]}”"
        # the stepper's numbers appear as its frames compute them; the live view's all at once
        hidden_shown, grad_shown = (None, None) if self.live else (self._hidden_shown, self._grad_shown)
        if self._hidden is not None and (hidden_shown is None or hidden_shown[t - 1]):
            parts.append(f"rms h_{t} = {self._hidden[t - 1]:.4g}")
        if self._grad is not None and (grad_shown is None or grad_shown[t - 1]):
            shares = self.grad_scale.shown(self._contrib) if self.grad_scale.relative else None
            if self._contrib is not self._grad:
                parts.append(f"‖h_{t - 1}ᵀ δ_{t}‖_F = {self._contrib[t - 1]:.4g}"
                             + (f" ({shares[t - 1]:.3g} × the largest step's)" if shares is not None else ""))
            parts.append(f"‖∂L/∂h_{t}‖ = {self._grad[t - 1]:.4g}")
        return " · ".join(parts)


def _power(exponent: float) -> str:
    """-16 → 10⁻¹⁶."""
    return "10" + f"{exponent:g}".translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _vector(values, T: int) -> np.ndarray | None:
    if values is None:
        return None
    values = np.asarray(values, dtype=float)
    return values if len(values) == T else None
