"""A strip of live numbers: the few quantities the lecture reasons with, in large type.

Shows the latest snapshot only, refreshed a few times a second so the digits can be read.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from rnnviz.gui.theme import LIGHT, Theme
from rnnviz.gui.worker import newest_with_spectrum

#: Times per second the numbers change (faster is unreadable, and costs training time).
REFRESH_RATE = 5

# objectName, title, tooltip
CARDS = (
    ("lossValue", "Loss", "Training loss L on this iteration's batch."),
    ("accuracyValue", "Accuracy",
     "Share of this batch answered correctly; compare with chance, 1/K for K classes (25 % on "
     "recall with 4 symbols). Not defined for regression tasks (adding, sine)."),
    ("gradValue", "‖g‖ before → after",
     "Global gradient norm ‖g‖ = √Σ‖∂L/∂θ‖² before and after clipping (one number when "
     "this iteration was not clipped)."),
    ("clipValue", "Clipped", "Iterations whose gradient was clipped so far in this run."),
    ("radiusValue", "ρ(W_H)",
     "Spectral radius ρ(W_H) = max |λ|. It is not a bound on one backward step (σ_max is): it "
     "sets how powers of one fixed W_H grow or shrink (a linear RNN), and the typical rate of a "
     "long product of factors diag(f'(a_t)) W_Hᵀ for random weights (Pascanu, Mikolov & Bengio "
     "2013). W_H = 2[[1, 1], [−1, −1]] has ρ = 0, yet a factor with gain 2 when one unit's f' = 0."),
    ("sigmaValue", "σ_max(W_H)",
     "Largest singular value ‖W_H‖₂: one backward factor diag(f'(a_t)) W_Hᵀ grows a gradient by "
     "at most max f' · σ_max. Below 1 (times max f') the gradient must vanish with distance; "
     "above 1 is necessary, not sufficient, for it to explode."),
)

#: For an LSTM the numbers describe the candidate block W_g only; its gradient flows along the
#: cell, c_t = σ(f)·c_{t-1} + σ(i)·tanh(g), which they do not describe.
LSTM_NOTE = ("LSTM: this is the candidate block W_g of the recurrent weights. The gradient flows back "
             "along the cell (c_t = σ(f)·c_{t-1} + …, a factor σ(f) per step), which this number does "
             "not describe: no verdict on vanishing or exploding follows from it.")
#: The ρ and σ_max cards' titles for an LSTM.
LSTM_TITLES = {"radiusValue": "ρ(W_g), LSTM block", "sigmaValue": "σ_max(W_g), LSTM block"}


#: Cards that hold two numbers get this much more room.
WIDE_CARDS = {"gradValue": 2}
#: The widest text each value shows in practice. Its label is this wide from the start and never
#: asks for more: a longer number used to raise the panel's minimum width, re-lay out the window
#: and shrink both docks a little each time. (The values' font is in pixels, so presentation
#: mode's larger application font does not change these widths.)
WIDEST = {"lossValue": "8.88e-88", "accuracyValue": "100%", "gradValue": "8.88e+88 → 8.88",
          "clipValue": "88.8k of 88.8k", "radiusValue": "8.88e+88", "sigmaValue": "8.88e+88"}


def _fmt(value: float, digits: int = 3) -> str:
    if value is None:
        return "—"
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}g}"


def _count(n: int) -> str:
    """A count in at most five characters: 9999, 12.3k, 999k, 1.23M."""
    if n < 10_000:
        return str(n)
    if n < 999_500:
        return f"{n / 1e3:.3g}k"
    return f"{n / 1e6:.3g}M"


class LiveNumbers(QFrame):
    """Cards for loss, accuracy, gradient norm, clip count, spectral radius and σ_max of W_H."""


    def __init__(self, parent: QWidget | None = None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.setObjectName("numbersPanel")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._latest = None
        self._spectral = None   # the newest snapshot whose spectrum is computed (see worker)
        self._shown = None
        self._lstm = False   # the ρ and σ_max cards then say they describe the block W_g only
        self.values: dict[str, QLabel] = {}
        self._titles: list[QLabel] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        for name, title, tip in CARDS:
            card = QFrame(objectName=name.replace("Value", "Card"))
            card.setToolTip(tip)
            column = QVBoxLayout(card)
            column.setContentsMargins(6, 4, 6, 6)
            column.setSpacing(0)
            heading = QLabel(title)
            heading.setWordWrap(True)          # large type (presentation) wraps instead of widening
            value = QLabel("—", objectName=name)
            column.addWidget(heading)
            column.addWidget(value)
            layout.addWidget(card, WIDE_CARDS.get(name, 1))
            self.values[name] = value
            self._titles.append(heading)
        self.apply_theme(theme)
        for name, value in self.values.items():
            value.ensurePolished()                  # the style sheet's font, not the default one
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance(WIDEST[name]))
            value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._timer = QTimer(self)  # one-shot, armed by new data: idle means no wake-ups
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(1000 / REFRESH_RATE))
        self._timer.timeout.connect(self.redraw)

    def apply_theme(self, theme: Theme) -> None:
        self.setStyleSheet(
            f"QFrame#numbersPanel QFrame {{ background: {theme.base}; border: 1px solid {theme.muted}40;"
            f" border-radius: 6px; }}"
            f"QFrame#numbersPanel QLabel {{ border: none; background: transparent; color: {theme.muted}; }}"
            f"QFrame#numbersPanel QLabel[objectName$=\"Value\"] {{ color: {theme.text};"
            f" font-size: 14px; font-weight: 600; }}")

    # ----------------------------------------------------------------- view protocol
    def restart(self, snapshot) -> None:
        self._latest = self._spectral = snapshot
        self.redraw()

    def show_snapshots(self, snapshots: tuple) -> None:
        if snapshots:
            self._latest = snapshots[-1]
            spectral = newest_with_spectrum(snapshots)
            if spectral is not None:
                self._spectral = spectral
            if not self._timer.isActive():
                self._timer.start()

    def redraw(self) -> None:
        snap = self._latest
        if snap is None or snap is self._shown:
            return
        self._shown = snap
        v = self.values
        v["lossValue"].setText(_fmt(snap.loss))
        if snap.accuracy is None:
            v["accuracyValue"].setText("—")
        else:
            v["accuracyValue"].setText(f"{snap.accuracy:.0%}")
        if snap.clipped:
            v["gradValue"].setText(f"{_fmt(snap.grad_norm)} → {_fmt(snap.grad_norm_clipped)}")
        else:                                   # nothing cut: one number says both
            v["gradValue"].setText(_fmt(snap.grad_norm))
        v["clipValue"].setText(f"{_count(snap.clip_events)} of {_count(snap.iteration)}")
        spectral = self._spectral if self._spectral is not None else snap
        lstm = snap.settings.arch == "lstm"
        v["radiusValue"].setText(_fmt(spectral.spectral_radius))
        v["sigmaValue"].setText(_fmt(spectral.max_singular))
        if lstm != self._lstm:
            self._lstm = lstm
            for (name, title, tip), heading in zip(CARDS, self._titles):
                if name in LSTM_TITLES:
                    heading.setText(LSTM_TITLES[name] if lstm else title)
                    v[name].parentWidget().setToolTip(f"{tip}\n\n{LSTM_NOTE}" if lstm else tip)
