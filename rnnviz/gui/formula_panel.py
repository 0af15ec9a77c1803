"""The stepper's formula panel: one frame's formulas, typeset, beside the numbers they produce.

A grid: each formula (Qt rich text: subscripts, superscripts, italic variables; see
`rnnviz.formula`) on the left, its quantities on the right, one label each, named
``quantity_<key>`` so tests and recordings can find every number. The quantities sit in two
columns when the panel is wide enough and in one otherwise, and every label wraps: the panel never
needs a horizontal scroll bar. Labels are rebuilt only when the shape of the frame changes (forward,
loss, backward, the last step); moving between frames of the same kind only sets their text.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from rnnviz.bptt_frames import CONCLUSION, WARNING, Frame, Quantity, Row
from rnnviz.formula import rich
from rnnviz.gui.theme import LIGHT, OKABE_ITO, Theme

#: Quantities whose value is a vector go under their formula, on a line of their own.
_WIDE = ("[",)


def _label(name: str, wrap: bool = True) -> QLabel:
    label = QLabel(objectName=name)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _is_wide(quantity: Quantity) -> bool:
    return isinstance(quantity.value, str) and quantity.value.startswith(_WIDE)


class FormulaPanel(QScrollArea):
    """Shows one `Frame` (`show_frame`) or a message (`show_message`); `text()` is what it shows, as plain text."""

    def __init__(self, parent: QWidget | None = None, *, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.setObjectName("formulaPanel")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)   # labels wrap instead
        self.panel = QWidget(objectName="formulaContent")
        self.title = _label("frameTitle")
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(14)
        self.grid.setVerticalSpacing(2)
        box = QVBoxLayout(self.panel)
        box.setContentsMargins(8, 6, 8, 6)
        box.setSpacing(4)
        box.addWidget(self.title)
        box.addLayout(self.grid)
        box.addStretch(1)
        self.setWidget(self.panel)
        self.theme = theme
        self.frame: Frame | None = None
        self._message = ""
        self._shape: tuple | None = None
        self._formulas: list[QLabel] = []
        self.quantity_labels: dict[str, QLabel] = {}
        self.apply_theme(theme)

    # ------------------------------------------------------------------ public
    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.panel.setStyleSheet(f"QWidget#formulaContent {{ background: {theme.base}; }} "
                                 f"QWidget#formulaContent QLabel {{ color: {theme.text}; }}")
        if self.frame is not None:
            self._shape = None
            self.show_frame(self.frame)

    def show_frame(self, frame: Frame) -> None:
        self.frame, self._message = frame, ""
        self.title.setText(f"<b>{html.escape(frame.title)}</b>")
        self.title.setToolTip(frame.title)
        columns = self._value_columns()
        shape = (columns, tuple((len(row.formula) > 0, tuple(q.key for q in row.quantities), row.tone)
                                for row in frame.rows))
        if shape != self._shape:
            self._build(frame.rows, columns)
            self._shape = shape
        for row, label in zip(frame.rows, self._formulas):
            label.setText(self._formula_html(row))
            label.setToolTip(row.remark)
        for quantity in frame.quantities:
            self.quantity_labels[quantity.key].setText(self._quantity_html(quantity))

    def show_message(self, text: str) -> None:
        """A message instead of a frame (e.g. the frames could not be computed)."""
        self.frame, self._message = None, text
        self._clear()
        self.title.setText(html.escape(text))

    def clear(self) -> None:
        self.frame, self._message = None, ""
        self._clear()
        self.title.setText("")

    def text(self) -> str:
        """What the panel shows, as plain text (the frame's own text, or the message)."""
        return self.frame.text if self.frame is not None else self._message

    def content_height(self) -> int:
        """The height the frame shown needs at the panel's width, without scrolling (measured as
        if a vertical scroll bar took its share of the width, so that one never makes it wrong)."""
        width = self.viewport().width()
        if not self.verticalScrollBar().isVisible():
            width -= self.verticalScrollBar().sizeHint().width()
        return self.panel.layout().totalHeightForWidth(width)

    # ------------------------------------------------------------------ layout
    def _value_columns(self) -> int:
        """Two columns of quantities when about 100 average characters fit across, else one."""
        width = self.viewport().width()
        return 2 if width >= 100 * self.fontMetrics().averageCharWidth() else 1

    def _clear(self) -> None:
        while self.grid.count():
            widget = self.grid.takeAt(0).widget()
            if widget is not None:
                widget.setParent(None)      # out of the panel now (its name is reused), deleted later
                widget.deleteLater()
        self._formulas = []
        self.quantity_labels = {}
        self._shape = None

    def _build(self, rows: tuple[Row, ...], columns: int) -> None:
        """Lay out labels for rows of this shape: the formula left with its vectors under it, its
        numbers in `columns` columns right."""
        self._clear()
        line = 0
        for number, row in enumerate(rows):
            formula = _label(f"formula_{number}")
            self._formulas.append(formula)
            if not row.quantities:                        # a sentence: the whole width
                self.grid.addWidget(formula, line, 0, 1, columns + 1)
                line += 1
                continue
            vectors = [q for q in row.quantities if _is_wide(q)]
            values = [q for q in row.quantities if not _is_wide(q)]
            value_lines = -(-len(values) // columns)
            span = max(1, value_lines - len(vectors))       # the formula's lines; its vectors below it
            self.grid.addWidget(formula, line, 0, span, 1)
            for offset, quantity in enumerate(vectors):
                label = self._quantity_label(quantity)
                label.setContentsMargins(12, 0, 0, 0)
                self.grid.addWidget(label, line + span + offset, 0)
            for number_in_row, quantity in enumerate(values):
                row_offset, column = divmod(number_in_row, columns)
                self.grid.addWidget(self._quantity_label(quantity), line + row_offset, 1 + column)
            line += max(span + len(vectors), value_lines)
        for label in (*self._formulas, *self.quantity_labels.values()):
            label.show()        # now, not when Qt gets round to showing children added to a shown panel
        for column in range(3):
            self.grid.setColumnStretch(column, 0)
        self.grid.setColumnStretch(0, 6)
        for column in range(1, columns + 1):
            self.grid.setColumnStretch(column, 5 if columns == 1 else 3)

    def _quantity_label(self, quantity: Quantity) -> QLabel:
        label = _label(f"quantity_{quantity.key}")
        label.setToolTip(quantity.note)
        self.quantity_labels[quantity.key] = label
        return label

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.frame is not None and self._shape is not None and self._shape[0] != self._value_columns():
            self.show_frame(self.frame)

    # ------------------------------------------------------------------ text
    def _tone_colour(self, tone: str) -> str | None:
        if tone == CONCLUSION:
            return OKABE_ITO["green"] if not self.theme.dark else "#3FC3A0"
        if tone == WARNING:
            return self.theme.diverged
        return None

    def _formula_html(self, row: Row) -> str:
        text = rich(row.formula)
        colour = self._tone_colour(row.tone)
        if colour is not None:
            return f"<span style='color:{colour}'><b>{text}</b></span>"
        return text

    def _quantity_html(self, quantity: Quantity) -> str:
        value = f"{rich(quantity.symbol)} = <b>{html.escape(quantity.shown)}</b>"
        if quantity.note:
            value += f" <small style='color:{self.theme.muted}'>{rich(quantity.note)}</small>"
        return value

