"""A tab page that builds its content the first time it is shown.

Start-up should not pay for tabs nobody has opened yet: the Compare tab alone (two unrolled
diagrams and three plots) took a third of the window's construction time.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QVBoxLayout, QWidget


class LazyTab(QWidget):
    """Holds the widget `build()` returns, built on the first show (or the first `ensure()`)."""

    def __init__(self, build: Callable[[], QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._build = build
        self.content: QWidget | None = None

    def ensure(self) -> QWidget:
        """The content, built now if it was not yet."""
        if self.content is None:
            self.content = self._build()
            self.layout().addWidget(self.content)
            self.content.show()      # a child added while its parent is being shown stays hidden otherwise
        return self.content

    def showEvent(self, event) -> None:
        self.ensure()
        super().showEvent(event)
