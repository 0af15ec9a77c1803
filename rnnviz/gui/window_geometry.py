"""Where the main window opens: on first launch a size that fits the screen, and a saved geometry
only where it still fits (a window saved on a larger monitor would otherwise open with its status
bar and right edge off screen)."""

from __future__ import annotations

from PySide6.QtCore import QRect

#: The window's size on first launch where the screen has room for it (logical pixels) ...
PREFERRED_SIZE = (1400, 900)
#: ... else this share of the screen's available area in each direction (room for the frame).
SCREEN_SHARE = 0.92


def first_launch_geometry(available: QRect, preferred: tuple[int, int] = PREFERRED_SIZE) -> QRect:
    """The preferred size, shrunk to fit `available` (a screen's area without panels), centred in it."""
    width = min(preferred[0], int(available.width() * SCREEN_SHARE))
    height = min(preferred[1], int(available.height() * SCREEN_SHARE))
    rect = QRect(0, 0, width, height)
    rect.moveCenter(available.center())
    return rect


def fits(geometry: QRect, available: QRect) -> bool:
    """Whether a window at `geometry` lies wholly inside `available`."""
    return available.contains(geometry)
