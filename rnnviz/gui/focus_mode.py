"""Focus mode: the page showing (the diagram, the stepper, a plot) takes the whole window.

    focus = FocusMode(window, tabs)
    focus.enter()    focus.leave()    focus.toggle()    focus.on

`enter` hides the docks, tool bars, menu bar, status bar and the tab bar; `leave` puts back
exactly what was there (QMainWindow.saveState: which docks, where and how wide). Keys keep working
while the bars are hidden: the window's actions are the window's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabWidget, QToolBar, QWidget


@dataclass
class _Saved:
    layout: QByteArray                   # QMainWindow.saveState: docks and tool bars
    bars: list[QWidget]                  # the menu, status and tab bars that were showing


class FocusMode:
    """Switches `window` in and out of focus mode; `tabs` is the tab widget whose page is kept."""

    def __init__(self, window: QMainWindow, tabs: QTabWidget) -> None:
        self.window = window
        self.tabs = tabs
        self._saved: _Saved | None = None

    @property
    def on(self) -> bool:
        return self._saved is not None

    def enter(self) -> None:
        """Give the page showing the whole window (does nothing if already on)."""
        if self.on:
            return
        window = self.window
        bars = [window.menuBar(), window.statusBar(), self.tabs.tabBar()]
        self._saved = _Saved(window.saveState(), [bar for bar in bars if bar.isVisibleTo(window)])
        for widget in (*window.findChildren(QDockWidget), *window.findChildren(QToolBar), *bars):
            widget.hide()

    def leave(self) -> None:
        """Back to the window as it was before `enter`."""
        saved, self._saved = self._saved, None
        if saved is None:
            return
        for bar in saved.bars:
            bar.show()
        self.window.restoreState(saved.layout)

    def toggle(self) -> None:
        self.leave() if self.on else self.enter()
