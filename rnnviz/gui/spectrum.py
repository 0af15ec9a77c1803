"""The spectrum of W_H: why the backward product shrinks or grows.

Left: the eigenvalues λ of W_H in the complex plane with the unit circle. Right: the largest
singular value σ_max = ‖W_H‖₂ and the spectral radius ρ = max |λ| over the iterations, with the
line 1 they are measured against. They say different things (Pascanu, Mikolov & Bengio 2013, §3.2):

- σ_max bounds one backward step: ‖diag(f'(a_t)) W_Hᵀ‖₂ ≤ max f' · σ_max. With max f' · σ_max < 1
  the gradient must vanish with distance; > 1 is necessary (not sufficient) for it to explode.
- ρ bounds nothing per step (W_H = 2[[1, 1], [−1, −1]] has ρ = 0, yet a factor with gain 2 when one
  unit's f' = 0). It governs powers of one fixed matrix, W_Hᵏ (a linear RNN), and the typical rate
  of a long product for random weights: all eigenvalues inside the circle, such products tend to
  shrink; some outside, they tend to grow.

For an LSTM the matrix is the candidate block W_g (`model.recurrent_matrix()`); the LSTM's gradient
flows along its cell, which W_g does not describe, so no verdict is drawn for it.

Only the newest snapshot of each batch is used: the worker has already computed its spectrum.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from rnnviz.gui.curves import legend_text, x_range
from rnnviz.gui.frame_budget import in_hidden_tab
from rnnviz.gui.plot_style import LogAxis
from rnnviz.gui.theme import LIGHT, OKABE_ITO, Theme
from rnnviz.gui.view import newest_with_spectrum

#: Points of σ_max / ρ history kept; when full, every other old point is dropped (bounded memory).
HISTORY = 4000
#: The σ/ρ plot's y axis always shows 1 (what both are measured against) and moves in steps of this
#: many decades (it changes seldom, so the axis repaints seldom).
Y_STEP_DECADES = 0.1
def legend_names(arch: str) -> tuple[str, str]:
    """The σ and ρ legend entries, naming the matrix the title names (W_g for an LSTM)."""
    matrix = "W_g" if arch == "lstm" else "W_H"
    return f"σ_max = ‖{matrix}‖₂", f"ρ = max |λ({matrix})|"


class SpectrumPlot(QWidget):
    """Eigenvalues of W_H in the complex plane, and σ_max(W_H), ρ(W_H) over iterations."""


    def __init__(self, parent: QWidget | None = None, *, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self._stale = self._range_stale = False
        self._shown = None
        self.setObjectName("spectrumPlot")
        self._iterations = np.zeros(HISTORY)
        self._sigma = np.zeros(HISTORY)
        self._rho = np.zeros(HISTORY)
        self._n = 0
        self._radius = 1.2
        self._eigenvalues = np.zeros(0, complex)
        self._arch = "rnn"                         # names the matrix in the legend

        self.title = QLabel(" ", objectName="spectrumTitle")
        self.title.setWordWrap(True)
        # The σ/ρ legend sits beside the title, above the plots: inside, it covered the ρ curve.
        self.legend = QLabel(objectName="spectrumLegend")
        self.legend.setWordWrap(True)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.graphics = pg.GraphicsLayoutWidget()
        self.plane = self.graphics.addPlot(row=0, col=0)
        self.plane.setMenuEnabled(False)
        self.plane.hideButtons()
        self.plane.setAspectLocked(True)
        self.plane.setMouseEnabled(x=False, y=False)
        self.plane.setLabel("bottom", "Re λ")
        self.plane.setLabel("left", "Im λ")
        # thin axes through 0 instead of a grid: a grid makes the axes span the plot and repaint every frame
        self.zero_lines = [pg.InfiniteLine(pos=0.0, angle=angle) for angle in (0, 90)]
        for line in self.zero_lines:
            self.plane.addItem(line)
        angle = np.linspace(0, 2 * np.pi, 256)
        self.circle = pg.PlotCurveItem(np.cos(angle), np.sin(angle))
        self.plane.addItem(self.circle)
        # a module-level tip function: a bound method here makes a cycle that crashes Qt's garbage collection
        self.points = pg.ScatterPlotItem(size=7, hoverable=True, tip=_eigenvalue_tip, hoverSize=10)
        self.plane.addItem(self.points)

        self.history = self.graphics.addPlot(row=0, col=1, axisItems={"left": LogAxis("left")})
        self.history.setMenuEnabled(False)
        self.history.hideButtons()
        self.history.setMouseEnabled(x=False, y=False)
        self.history.setLogMode(x=False, y=True)
        self.history.getAxis("left").enableAutoSIPrefix(False)
        self.history.getAxis("bottom").enableAutoSIPrefix(False)    # no "(×0.001)" at iteration 0
        self.history.setLabel("bottom", "iteration")
        self._x_bounds: tuple[float, float] | None = None
        self._y_bounds: tuple[float, float] | None = None
        self.sigma_curve = self.history.plot([], [])
        self.rho_curve = self.history.plot([], [])
        self.one = pg.InfiniteLine(pos=0.0, angle=0)          # log10(1) = 0 in log mode
        self.history.addItem(self.one)
        self.graphics.ci.layout.setColumnStretchFactor(0, 1)
        self.graphics.ci.layout.setColumnStretchFactor(1, 1)
        self.readout = QLabel(" ", objectName="spectrumReadout")
        self.readout.setWordWrap(True)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.legend, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.readout)
        self.apply_theme(theme)
        self._set_range(1.2)

    # ------------------------------------------------------------------ view contract
    def restart(self, snapshot) -> None:
        self._n = 0
        self._radius = 1.2
        self._range_stale = False
        self._set_range(1.2)
        self._x_bounds = self._y_bounds = None
        self.show_snapshots((snapshot,))

    def show_snapshots(self, snapshots: tuple) -> None:
        snap = newest_with_spectrum(snapshots)   # never compute eigenvalues on the GUI thread
        if snap is None:
            return
        values = np.asarray(snap.eigenvalues)
        finite = values[np.isfinite(values)]
        self._eigenvalues = finite
        if finite.size:
            radius = float(np.abs(finite).max())
            if radius * 1.1 > self._radius:
                self._radius = radius * 1.15
                self._range_stale = True
        sigma, rho = float(snap.max_singular), float(snap.spectral_radius)
        self._append(snap.iteration, sigma, rho)
        self._shown = (snap, len(values), rho, sigma)
        if in_hidden_tab(self):          # a hidden tab keeps its history and draws when shown
            self._stale = True
            return
        self.redraw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.redraw()

    def redraw(self) -> None:
        """Draw the newest spectrum and the σ/ρ history received so far."""
        self._stale = False
        if self._shown is None:
            return
        snap, H, rho, sigma = self._shown
        finite = self._eigenvalues
        self.points.setData(finite.real, finite.imag)
        if self._range_stale:
            self._range_stale = False
            self._set_range(self._radius)
        x = self._iterations[:self._n]
        shown = []
        for curve, y in ((self.sigma_curve, self._sigma[:self._n]), (self.rho_curve, self._rho[:self._n])):
            keep = np.isfinite(y) & (y > 0)
            curve.setData(x[keep], y[keep])
            shown.append(y[keep])
        self._follow_axes(snap.iteration, np.concatenate(shown))
        matrix = "W_g, the LSTM's candidate block of W_H" if snap.settings.arch == "lstm" else "W_H"
        title = f"Eigenvalues of {matrix} (H = {H}) and the unit circle"
        if title != self.title.text():
            self.title.setText(title)
        if snap.settings.arch != self._arch:
            self._arch = snap.settings.arch
            self._write_legend()
        verdict = _verdict(rho, sigma, snap.settings)
        self.readout.setText(f"iteration {snap.iteration}: ρ = {rho:.3g}, σ_max = {sigma:.3g} — {verdict}")

    # ------------------------------------------------------------------ accessors
    def n_points(self) -> int:
        """Eigenvalues drawn (H for a finite W_H)."""
        if self._stale:
            self.redraw()
        return len(self.points.data)

    def history_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self._n
        return self._iterations[:n].copy(), self._sigma[:n].copy(), self._rho[:n].copy()

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.graphics.setBackground(theme.base)
        point = OKABE_ITO["blue"] if not theme.dark else OKABE_ITO["sky"]
        self.points.setBrush(pg.mkBrush(point))
        self.points.setPen(pg.mkPen(theme.base, width=0.5))
        self.circle.setPen(pg.mkPen(theme.muted, width=1.5, style=Qt.PenStyle.DashLine))
        self.sigma_curve.setPen(pg.mkPen(point, width=2))
        self.rho_curve.setPen(pg.mkPen(OKABE_ITO["orange"], width=2))
        self.one.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DashLine))
        for line in self.zero_lines:
            line.setPen(pg.mkPen(theme.muted, width=0.5))
        for plot in (self.plane, self.history):
            for name in ("left", "bottom"):
                plot.getAxis(name).setPen(theme.muted)
                plot.getAxis(name).setTextPen(theme.text)
        self._write_legend()

    def _write_legend(self) -> None:
        point = OKABE_ITO["sky"] if self.theme.dark else OKABE_ITO["blue"]
        sigma, rho = legend_names(self._arch)
        self.legend.setText(legend_text(((point, sigma), (OKABE_ITO["orange"], rho))))

    # ------------------------------------------------------------------ internals
    def _follow_axes(self, last_iteration: int, values: np.ndarray) -> None:
        """x from 0 to a round number past the newest iteration (as the training curves); y over
        the values and 1, in steps of `Y_STEP_DECADES`. Set only when they change."""
        x = x_range(last_iteration)
        if x != self._x_bounds:
            self._x_bounds = x
            self.history.setXRange(*x, padding=0)
        logs = np.log10(values) if values.size else np.zeros(1)
        low = math.floor(min(logs.min(), 0.0) / Y_STEP_DECADES - 0.5) * Y_STEP_DECADES
        high = math.ceil(max(logs.max(), 0.0) / Y_STEP_DECADES + 0.5) * Y_STEP_DECADES
        if (low, high) != self._y_bounds:
            self._y_bounds = (low, high)
            self.history.setYRange(low, high, padding=0)

    def _set_range(self, radius: float) -> None:
        self.plane.setRange(xRange=(-radius, radius), yRange=(-radius, radius), padding=0)

    def _append(self, iteration: int, sigma: float, rho: float) -> None:
        if self._n == HISTORY:                          # keep every other old point
            half = HISTORY // 2
            for array in (self._iterations, self._sigma, self._rho):
                array[:half] = array[:HISTORY:2]
            self._n = half
        i = self._n
        self._iterations[i], self._sigma[i], self._rho[i] = iteration, sigma, rho
        self._n += 1


def _verdict(rho: float, sigma: float, settings) -> str:
    """What ρ and σ_max say about the backward product (see the module doc), in a few words."""
    if settings.arch == "lstm":
        return "LSTM block W_g: no verdict, the gradient flows along the cell"
    if not (math.isfinite(rho) and math.isfinite(sigma)):
        return "not finite"
    gain = {"tanh": 1.0, "relu": 1.0, "linear": 1.0, "sigmoid": 0.25}[settings.activation]
    if gain * sigma < 1:
        return "every backward step shrinks δ: max f'·σ_max < 1"
    return "long products tend to shrink: ρ < 1" if rho < 1 else "long products tend to grow: ρ > 1"


def _eigenvalue_tip(x: float, y: float, data) -> str:
    return f"λ = {x:.4g} {'+' if y >= 0 else '−'} {abs(y):.4g}i\n|λ| = {math.hypot(x, y):.4g}"
