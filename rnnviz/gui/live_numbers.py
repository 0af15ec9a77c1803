"""A strip of live numbers: the few quantities the lecture reasons with, in large type.

Shows the latest snapshot only, refreshed a few times a second so the digits can be read.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from rnnviz.gui.theme import LIGHT, Theme
from rnnviz.gui.view import newest_with_spectrum

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
#: and shrink both docks a little each time. (Refitted only when the font changes, e.g. on
#: entering presentation mode.)
WIDEST = {"lossValue": "8.88e-88", "accuracyValue": "100%", "gradValue": "8.88e+88 → 8.88",
          "clipValue": "88.8k of 88.8k", "radiusValue": "8.88e+88", "sigmaValue": "8.88e+88"}
#: Values are this much larger than their headings (the application's font), in any type size.
VALUE_SCALE = 1.3
#: The cards sit in one row when the panel is wide enough, else in rows of this many.
NARROW_COLUMNS = 3


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


class _Holder(QWidget):
    """Holds one value label and has no layout: the label fills it. Setting a label's text asks its
    parent's layout for a new geometry, and then every layout up to the window's ran again, the
    docks' included, for each change of a number (a tenth of the painting of each frame of a
    recording). A parent without a layout ends that request; the holder's size hints are the
    label's, so it gets the place the label had."""

    def __init__(self, label: QLabel) -> None:
        super().__init__()
        self.label = label
        label.setParent(self)

    def sizeHint(self):
        return self.label.sizeHint()

    def minimumSizeHint(self):
        return self.label.minimumSizeHint()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.label.setGeometry(self.rect())


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
        self._cards: list[QFrame] = []
        self._columns = 0
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(4, 4, 4, 4)
        self._grid.setSpacing(4)
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
            column.addWidget(_Holder(value))
            self._cards.append(card)
            self.values[name] = value
            self._titles.append(heading)
        self.apply_theme(theme)
        for value in self.values.values():
            value.parentWidget().setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._fit_values()
        self._arrange(len(CARDS))
        self._timer = QTimer(self)  # one-shot, armed by new data: idle means no wake-ups
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(1000 / REFRESH_RATE))
        self._timer.timeout.connect(self.redraw)

    def apply_theme(self, theme: Theme) -> None:
        self.setStyleSheet(
            f"QFrame#numbersPanel QFrame {{ background: {theme.base}; border: 1px solid {theme.muted}40;"
            f" border-radius: 6px; }}"
            f"QFrame#numbersPanel QLabel {{ border: none; background: transparent; color: {theme.muted}; }}"
            f"QFrame#numbersPanel QLabel[objectName$=\"Value\"] {{ color: {theme.text}; }}")

    def _fit_values(self) -> None:
        """Values in type `VALUE_SCALE` times their headings', each label as wide as its widest text."""
        for name, value in self.values.items():
            font = self.font()
            font.setPointSizeF(font.pointSizeF() * VALUE_SCALE)
            font.setWeight(font.Weight.DemiBold)
            value.setFont(font)
            holder = value.parentWidget()
            holder.setMinimumWidth(value.fontMetrics().horizontalAdvance(WIDEST[name]))
            holder.updateGeometry()    # its height follows the label's font

    def _arrange(self, columns: int) -> None:
        """The cards in rows of `columns`; wide cards take the room of `WIDE_CARDS` narrow ones."""
        if columns == self._columns:
            return
        self._columns = columns
        for card in self._cards:
            self._grid.removeWidget(card)
        for c in range(self._grid.columnCount()):
            self._grid.setColumnStretch(c, 0)
        for index, ((name, _, _), card) in enumerate(zip(CARDS, self._cards)):
            row, column = divmod(index, columns)
            self._grid.addWidget(card, row, column)
            self._grid.setColumnStretch(column, max(self._grid.columnStretch(column), WIDE_CARDS.get(name, 1)))

    def _one_row_width(self) -> int:
        margins = self._grid.contentsMargins()
        return (sum(card.minimumSizeHint().width() for card in self._cards)
                + self._grid.spacing() * (len(self._cards) - 1) + margins.left() + margins.right())

    def minimumSizeHint(self):
        """As narrow as the cards in rows of `NARROW_COLUMNS` allow (they rearrange when narrow)."""
        hint = super().minimumSizeHint()
        if self._columns != NARROW_COLUMNS:
            margins = self._grid.contentsMargins()
            widths = [max(card.minimumSizeHint().width() for card in self._cards[c::NARROW_COLUMNS])
                      for c in range(NARROW_COLUMNS)]
            hint.setWidth(sum(widths) + self._grid.spacing() * (NARROW_COLUMNS - 1)
                          + margins.left() + margins.right())
        return hint

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange(len(CARDS) if event.size().width() >= self._one_row_width() else NARROW_COLUMNS)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:      # e.g. presentation mode's larger type
            self._fit_values()

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
            for (name, title, tip), heading, card in zip(CARDS, self._titles, self._cards):
                if name in LSTM_TITLES:
                    heading.setText(LSTM_TITLES[name] if lstm else title)
                    card.setToolTip(f"{tip}\n\n{LSTM_NOTE}" if lstm else tip)
