"""Each time step's share of dL/dW_H, iteration after iteration: where the gradient comes from.

One row per training iteration (newest on top), one column per time step t, colour = log10 of
‖h_{t−1}ᵀ δ_t‖_F with δ_t = ∂L/∂a_t (`Snapshot.contribution_norms`), by default relative to the largest step of the
same iteration (`rnnviz.gui.colour_scale`): a tanh RNN whose gradient vanishes shows a dark left
side (early steps contribute nothing), a solved IRNN, skip or LSTM run keeps it lit however small
its loss. The absolute view (a toggle) shows the norms themselves on fixed levels.

The rows live in a fixed-size ring buffer; each redraw hands one `ImageItem.setImage` the buffer in
time order with fixed levels. The iteration axis spans the rows received with some headroom, in
doubling steps (`Y_SPAN_STEP`, 2·…), so it re-lays out its ticks seldom.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from rnnviz.gui.colour_scale import ABSOLUTE, RELATIVE, GradientScale, relative_to_largest
from rnnviz.gui.frame_budget import in_hidden_tab
from rnnviz.gui.theme import LIGHT, Theme, colormap

#: Iterations kept on screen.
ROWS = 400
#: The iteration axis's smallest span; it doubles whenever the rows outgrow it.
Y_SPAN_STEP = 50
#: The contribution in the caption (rich text): δ_t = ∂L/∂a_t, as in the engine and the stepper.
QUANTITY_HTML = "‖h<sub>t−1</sub><sup>T</sup> δ<sub>t</sub>‖<sub>F</sub>"
#: The same in plain text (tooltips, the colour bar's axis).
QUANTITY_TEXT = "‖hₜ₋₁ᵀ δₜ‖_F"


class ContributionHeatmap(QWidget):
    """Time step × iteration image of each step's contribution to dL/dW_H (log colour scale)."""


    def __init__(self, parent: QWidget | None = None, *, theme: Theme = LIGHT, rows: int = ROWS) -> None:
        super().__init__(parent)
        self._stale = False
        self.setObjectName("contributionHeatmap")
        self.rows = rows
        self.scale = GradientScale(theme.colormap)
        self._raw = np.zeros((rows, 0))            # ‖·‖_F as received
        self._log = np.zeros((rows, 0), np.float32)  # what the image shows
        self._iterations = np.zeros(rows, np.int64)
        self._head = 0                              # next row to write
        self._count = 0
        self._unlogged = 0                          # newest rows received hidden, not in `_log` yet
        self._y_span = Y_SPAN_STEP                  # iterations the y axis shows (grows in steps)

        self.title = QLabel(objectName="heatmapTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.absolute_toggle = QCheckBox("Absolute", objectName="heatmapAbsoluteToggle")
        self.absolute_toggle.setToolTip(
            "Off (default): each step's contribution divided by the largest step's of the same "
            "iteration, log₁₀ on 10⁻¹⁶ … 1: lit = still contributes, dark = vanished, whatever the loss.\n"
            f"On: the norm {QUANTITY_TEXT} (δₜ = ∂L/∂aₜ) itself on one fixed log₁₀ range for every run.")
        self.absolute_toggle.toggled.connect(self.set_absolute)
        self.graphics = pg.GraphicsLayoutWidget()
        self.plot = self.graphics.addPlot(row=0, col=0)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setLabel("bottom", "time step t")
        self.plot.setLabel("left", "iteration")
        self.plot.getViewBox().disableAutoRange()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(values=self.scale.levels, colorMap=colormap(theme.colormap),
                                   interactive=False, colorMapMenu=False, width=14)
        self.graphics.addItem(self.bar, row=0, col=1)
        self.hover_label = QLabel(" ", objectName="heatmapHoverLabel")
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hover_label.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.absolute_toggle, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.hover_label)
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)
        self._describe_scale()
        self.apply_theme(theme)

    # ------------------------------------------------------------------ view contract
    def restart(self, snapshot) -> None:
        self._count = self._head = 0
        self._y_span = Y_SPAN_STEP
        self._allocate(len(snapshot.contribution_norms))
        self.show_snapshots((snapshot,))

    def show_snapshots(self, snapshots: tuple) -> None:
        if not snapshots:
            return
        kept = snapshots[-self.rows:]
        if any(len(s.contribution_norms) != self._raw.shape[1] for s in kept):
            # A new T without a restart: start over with the newest snapshots of that length.
            T = len(kept[-1].contribution_norms)
            kept = [s for s in kept if len(s.contribution_norms) == T]
            self._count = self._head = 0
            self._allocate(T)
        fresh = np.array([s.contribution_norms for s in kept], dtype=float)
        slots = (self._head + np.arange(len(kept))) % self.rows
        self._raw[slots] = fresh
        self._iterations[slots] = [s.iteration for s in kept]
        self._head = (self._head + len(kept)) % self.rows
        self._count = min(self._count + len(kept), self.rows)
        # The newest rows are coloured when drawn: now, or, in a hidden tab, once it is shown (rows
        # received hidden before these are coloured with them, however the tab was hidden).
        self._unlogged = min(self._unlogged + len(fresh), self._count)
        if in_hidden_tab(self):
            self._stale = True
            return
        self._redraw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._redraw()

    def redraw(self) -> None:
        """Draw what was received now (also while hidden)."""
        self._redraw()

    # ------------------------------------------------------------------ accessors
    def newest_row(self) -> np.ndarray:
        """The norms of the newest iteration's row, as received (a copy)."""
        if self._count == 0:
            return np.zeros(0)
        return self._raw[(self._head - 1) % self.rows].copy()

    def rows_in_order(self) -> tuple[np.ndarray, np.ndarray]:
        """(iterations, norms) of every row kept, oldest first."""
        order = (np.arange(self._count) + self._head - self._count) % self.rows
        return self._iterations[order].copy(), self._raw[order].copy()

    def set_absolute(self, on: bool) -> None:
        """Show the norms themselves (True) or relative to each iteration's largest step (False)."""
        if self.absolute_toggle.isChecked() != on:
            self.absolute_toggle.setChecked(on)      # comes back here through `toggled`
            return
        self.scale.set_mode(ABSOLUTE if on else RELATIVE)
        self._describe_scale()
        self._relog_all()
        self._redraw()

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.graphics.setBackground(theme.base)
        self.scale.set_colormap(theme.colormap)
        self.image.setLookupTable(self.scale.lut)
        self.bar.setColorMap(colormap(theme.colormap))
        for item in (self.plot, self.bar):
            for name in ("left", "bottom", "right"):
                if name in item.axes:
                    item.getAxis(name).setPen(theme.muted)
                    item.getAxis(name).setTextPen(theme.text)

    # ------------------------------------------------------------------ internals
    def _allocate(self, T: int) -> None:
        self._raw = np.zeros((self.rows, T))
        self._log = np.zeros((self.rows, T), np.float32)
        self._unlogged = 0
        self.plot.setXRange(0.5, T + 0.5, padding=0)

    def _describe_scale(self) -> None:
        quantity = QUANTITY_HTML
        if self.scale.relative:
            text = (f"Each step's contribution {quantity} to dL/dW_H, per iteration, relative to the "
                    "largest step of the same iteration (lit = still contributes; dark on the left = "
                    "early steps no longer contribute: vanishing)")
        else:
            lo, hi = self.scale.levels
            text = (f"Each step's contribution {quantity} to dL/dW_H, per iteration, absolute "
                    f"(one fixed range 10^{lo:g} … 10^{hi:g} for every run; dark = small, whatever the "
                    "other steps do)")
        self.title.setText(text + " (δ<sub>t</sub> = ∂L/∂a<sub>t</sub>)")
        self.title.setToolTip("Colour: " + self.scale.describe())
        self.bar.setLevels(self.scale.levels)
        self.bar.getAxis("left").setLabel(self.scale.bar_label(QUANTITY_TEXT))

    def _to_log(self, values: np.ndarray) -> np.ndarray:
        """The image's values: log10 of each row relative to its largest finite entry (or absolute),
        clipped to the fixed levels; a blow-up (inf, NaN) shows as the top colour."""
        return self.scale.coords(values)

    def _log_rows(self, n: int) -> None:
        """Recompute the image rows of the newest `n` snapshots (one vectorised pass)."""
        newest = (self._head - 1 - np.arange(min(n, self._count))) % self.rows
        self._log[newest] = self._to_log(self._raw[newest])

    def _relog_all(self) -> None:
        self._log[:] = self._to_log(self._raw)
        self._unlogged = 0

    def _redraw(self) -> None:
        self._stale = False
        if self._unlogged:
            self._log_rows(self._unlogged)
            self._unlogged = 0
        n, T = self._count, self._raw.shape[1]
        if n == 0 or T == 0:
            return
        if n < self.rows:
            image = self._log[:n]
        else:
            image = np.concatenate((self._log[self._head:], self._log[:self._head]))
        self.image.setImage(image, autoLevels=False, levels=self.scale.levels)
        order = (np.arange(n) + self._head - n) % self.rows
        first, last = int(self._iterations[order[0]]), int(self._iterations[order[-1]])
        height = max(last - first + 1, n)           # rows are stretched over gaps (dropped snapshots)
        self.image.setRect(QRectF(0.5, first - 0.5, T, height))
        while height * 1.1 > self._y_span:          # headroom; doubling keeps re-layouts rare
            self._y_span *= 2
        self.plot.setYRange(first - 0.5, first - 0.5 + self._y_span, padding=0)

    def _mouse_moved(self, pos) -> None:
        if self._count == 0 or not self.plot.sceneBoundingRect().contains(pos):
            return
        point = self.plot.getViewBox().mapSceneToView(pos)
        t = int(round(point.x()))
        iterations, norms = self.rows_in_order()
        if not 1 <= t <= norms.shape[1]:
            return
        row = int(np.argmin(np.abs(iterations - point.y())))
        value = norms[row, t - 1]
        share = relative_to_largest(norms[row])[t - 1]
        self.hover_label.setText(f"iteration {iterations[row]}, step t = {t}: "
                                 f"‖h<sub>{t - 1}</sub><sup>T</sup> δ<sub>{t}</sub>‖<sub>F</sub> = {value:.4g} ({share:.3g} × the largest step's)")
