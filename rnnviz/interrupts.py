"""Stopping long work on Ctrl+C, SIGTERM (``kill``, a CI timeout) or SIGHUP (the terminal closed).

Python's default Ctrl+C raises KeyboardInterrupt wherever the main thread happens to be, and inside
a Qt paint callback (pyqtgraph draws from Python while rendering a frame) PySide reports and
swallows it, so a recording carried on. Here a signal only sets a flag; the work checks it at safe
points (between frames and training iterations) and raises `Interrupted` there, outside any Qt
callback, so every signal stops the work and ``with`` blocks clean up (the unfinished video is
deleted, an existing one is not replaced).
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

#: The signals that stop work: Ctrl+C, kill / timeouts, the terminal going away.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """The work was stopped by a signal; `signum` says which (the exit code is 128 + signum)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopRequest:
    """Set by a signal handler; `check()` raises `Interrupted` once a stop was asked for.
    `on_stop`, if given, is called from the handler too (it must be signal-safe: take no lock)."""

    def __init__(self, on_stop: Callable[[], None] | None = None) -> None:
        self.signum: int | None = None
        self._on_stop = on_stop

    def __call__(self, signum: int, _frame=None) -> None:
        self.signum = signum
        if self._on_stop is not None:
            self._on_stop()

    def check(self) -> None:
        if self.signum is not None:
            raise Interrupted(self.signum)


@contextmanager
def stop_on_signals(signals=STOP_SIGNALS, on_stop: Callable[[], None] | None = None
                    ) -> Iterator[StopRequest]:
    """Within the block, `signals` set the yielded `StopRequest` instead of their usual action;
    the previous handlers come back afterwards. Outside the main thread (where Python cannot set
    handlers) the request is never set."""
    request = StopRequest(on_stop)
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in signals:
            previous[signum] = signal.signal(signum, request)
    try:
        yield request
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
