"""Cooperative cancellation of a long pass: a flag the caller sets, checked between time steps.

A forward or backward pass at a large T and H can take seconds. ``forward_backward`` and ``forward``
accept ``cancel``, any object with ``is_set() -> bool`` (a ``threading.Event`` fits), and test it once
per time step of the forward and of the backward pass; when it is set they raise `Cancelled`. The
model's parameters are only read by a pass, so a cancelled pass leaves the model as it was.

The compiled kernels ask a plain ``is_set()`` through a callback that takes Python's GIL at every
time step, which stalls a pass while another thread runs Python (the window drawing). A flag that
also offers ``cancel_byte``, a one-element ``uint8`` numpy array that is nonzero exactly when
``is_set()`` is True (the GUI's training worker keeps one), is read from memory instead.
"""

from __future__ import annotations

from typing import Protocol


class CancelFlag(Protocol):
    """What ``cancel=`` needs: ``threading.Event`` and anything else with ``is_set()``."""

    def is_set(self) -> bool: ...


class Cancelled(Exception):
    """A pass stopped between two time steps because its ``cancel`` flag was set."""

    def __init__(self) -> None:
        super().__init__("the pass was cancelled")
