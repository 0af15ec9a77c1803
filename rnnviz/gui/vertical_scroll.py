"""A scroll area that scrolls up and down only and is always as wide as its content needs.

A plain QScrollArea's minimum width is fixed when it is built; this one asks its content each
time, so the content is never cut off on the right, in the normal type or in presentation
mode's larger type, while the content's height no longer sets the window's minimum height.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class VerticalScroll(QScrollArea):
    """Scrolls `content` vertically; its minimum width is the content's plus the scroll bar's."""

    def __init__(self, content: QWidget, *, objectName: str) -> None:
        super().__init__(objectName=objectName)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        hint.setWidth(self.widget().minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width())
        return hint

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        hint.setWidth(self.minimumSizeHint().width())
        return hint
