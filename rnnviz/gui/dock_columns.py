"""The docks beside the views, or sharing one column when the screen is too narrow for both.

Side by side, the controls and the lessons leave the views the middle of the window; on a narrow
screen (1024 px, or 1280 px in presentation mode's large type) that middle is too narrow for
Compare's two diagrams or the six live numbers, so the docks then share one column as tabs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow


def _docked(window: QMainWindow) -> list[QDockWidget]:
    return [d for d in window.findChildren(QDockWidget) if d.isVisibleTo(window) and not d.isFloating()]


def crowded(window: QMainWindow, share: float) -> bool:
    """Whether the docks side by side, each at its narrowest, take more than `share` of the
    screen's width, or the window no longer fits the screen (False once they share a column)."""
    screen, docks = window.screen(), _docked(window)
    if screen is None or len(docks) < 2 or set(docks[1:]) <= set(window.tabifiedDockWidgets(docks[0])):
        return False
    width = screen.availableGeometry().width()
    return (sum(d.minimumSizeHint().width() for d in docks) > share * width
            or window.minimumSizeHint().width() > width)


def share_one_column(window: QMainWindow) -> None:
    """Every dock in the first one's column, as tabs; the last (the lessons) on top."""
    docks = _docked(window)
    for dock in docks[1:]:
        window.tabifyDockWidget(docks[0], dock)
    if docks:
        docks[-1].raise_()


def narrowest(window: QMainWindow) -> None:
    """The docks as narrow as their contents allow: the views get the room."""
    docks = _docked(window)
    if docks:
        window.resizeDocks(docks, [d.minimumSizeHint().width() for d in docks], Qt.Orientation.Horizontal)
