"""A one-line label that shortens its text at a word boundary with "…" when it is too narrow.

The full text stays in the tooltip, so a narrow window (1024 px, presentation mode) never shows a
sentence cut mid-word.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """`full_text` shown whole when it fits, else its longest prefix of whole words + " …"."""

    def __init__(self, text: str, parent: QWidget | None = None, *, objectName: str = "") -> None:
        super().__init__(parent, objectName=objectName)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.full_text = ""
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.setToolTip(text)
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = self.contentsRect().width()
        metrics = self.fontMetrics()
        words = self.full_text.split(" ")
        shown = self.full_text
        while len(words) > 1 and metrics.horizontalAdvance(shown) > width:
            words.pop()
            shown = " ".join(words).rstrip(",:;") + " …"
        if shown != self.text():
            self.setText(shown)
