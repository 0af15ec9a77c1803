"""What many GUI tests start from: the main window at 1280×720 (a projector), its first run shown."""

import pytest

from rnnviz.gui import MainWindow

#: How long the window may take to show its first run (a loaded machine builds the model slowly).
FIRST_RUN_MS = 20_000


@pytest.fixture
def window(qtbot, settings_store, request):
    """The main window shown at 1280×720 (or the module's ``WINDOW_SIZE``) with its first snapshot
    drawn; closing it stops its worker. A module that needs another window (not yet painted)
    defines its own `window`."""
    w = MainWindow(settings_store=settings_store)
    qtbot.addWidget(w)
    w.resize(*getattr(request.module, "WINDOW_SIZE", (1280, 720)))
    w.show()
    qtbot.waitUntil(lambda: w.latest_snapshot is not None, timeout=FIRST_RUN_MS)
    yield w
    w.close()
    assert not w.worker.is_running()
