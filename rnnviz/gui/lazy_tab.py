"""A tab page that builds its content the first time it is shown.

Start-up should not pay for tabs nobody has opened yet: the Compare tab alone (two unrolled
diagrams and three plots) took a third of the window's construction time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtWidgets import QVBoxLayout, QWidget

from rnnviz.gui.theme import LIGHT, Theme


class Page(Protocol):
    """What a lazily built page offers: colours, and stopping its background work."""

    def apply_theme(self, theme: Theme) -> None: ...

    def shutdown(self) -> None: ...


class LazyTab(QWidget):
    """Holds the page `build(theme)` returns, built on the first show (or the first `ensure()`)
    in the theme of the moment; theme changes and `shutdown` reach it once it exists."""

    def __init__(self, build: Callable[[Theme], Page], theme: Theme = LIGHT,
                 parent: QWidget | None = None, *, objectName: str = "") -> None:
        super().__init__(parent, objectName=objectName)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._build = build
        self._theme = theme
        self.content: Page | None = None

    def ensure(self) -> Page:
        """The content, built now if it was not yet."""
        if self.content is None:
            self.content = self._build(self._theme)
            self.layout().addWidget(self.content)
            self.content.show()      # a child added while its parent is being shown stays hidden otherwise
        return self.content

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        if self.content is not None:
            self.content.apply_theme(theme)

    def shutdown(self) -> None:
        if self.content is not None:
            self.content.shutdown()

    def showEvent(self, event) -> None:
        self.ensure()
        super().showEvent(event)
