"""What the main window asks of the views it feeds: two small protocols, checked by type checkers.

    RunView   restart(snapshot)          a new run begins at `snapshot` (iteration 0): clear history
              show_snapshots(snapshots)  the run's newest snapshots, oldest first: append, cheaply
    View      a RunView that is a widget: also
              apply_theme(theme)         colours from a `Theme`, at start and on every change
              redraw()                   bring the display up to date now (views otherwise redraw
                                         from their own display-rate timer; a recording calls this)

Snapshots are immutable (`rnnviz.session.Snapshot`), so a view may keep them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from rnnviz.gui.theme import Theme
    from rnnviz.session import Snapshot


@runtime_checkable
class RunView(Protocol):
    """Something that follows the training run: the window calls these two on every view."""

    def restart(self, snapshot: Snapshot) -> None: ...

    def show_snapshots(self, snapshots: tuple[Snapshot, ...]) -> None: ...


@runtime_checkable
class View(RunView, Protocol):
    """A widget that shows the training run."""

    def apply_theme(self, theme: Theme) -> None: ...

    def redraw(self) -> None: ...


def newest_with_spectrum(snapshots: tuple[Snapshot, ...]) -> Snapshot | None:
    """The batch's newest snapshot if it carries its spectrum, else None: views never compute a
    spectrum on the GUI thread. The worker adds it to a batch's newest snapshot, a few times a second."""
    if snapshots and snapshots[-1].spectrum is not None:
        return snapshots[-1]
    return None
