"""Run something once a window's first frame is on screen.

    FirstPaint(window, callback)

`callback` runs from the event loop just after the window's first paint event (so that frame has
been drawn and flushed), once. Start-up work that the first frame does not need (the training
thread importing the engine, pages out of sight) waits for it: on two cores, and with one GIL, it
would otherwise delay the frame. A window that is not showing when the event loop first runs (it
was never shown, so nothing will paint) runs `callback` then; one shown but not painted within
`FALLBACK_MS` (a minimised start) runs it then.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

#: The callback runs at the latest this long after the window was built (ms).
FALLBACK_MS = 3000


class FirstPaint(QObject):
    """Watches `window`'s events until its first paint (see the module doc); then `callback()`."""

    def __init__(self, window: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(window)
        self._window = window
        self._callback: Callable[[], None] | None = callback
        window.installEventFilter(self)
        QTimer.singleShot(0, self, self._unless_showing)
        QTimer.singleShot(FALLBACK_MS, self, self._run)

    @property
    def pending(self) -> bool:
        """True until the callback has run."""
        return self._callback is not None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Paint and self.pending:
            self._window.removeEventFilter(self)
            QTimer.singleShot(0, self, self._run)      # after this frame has been flushed
        return False

    def _unless_showing(self) -> None:
        if not self._window.isVisible():
            self._run()

    def _run(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            self._window.removeEventFilter(self)
            callback()
