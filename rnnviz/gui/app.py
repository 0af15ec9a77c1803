"""Start the desktop app: ``run_gui()`` is what ``python main.py`` and ``rnnviz`` call."""

from __future__ import annotations

import signal
import sys

#: How often Python gets a moment to notice Ctrl+C while Qt's event loop runs (ms).
SIGNAL_POLL_MS = 250


def application_icon():
    """The rnnviz icon (the window's, the taskbar's and rnnviz.desktop's)."""
    from PySide6.QtGui import QIcon

    from rnnviz.desktop_entry import ICON

    return QIcon(str(ICON))


def run_gui(argv: list[str] | None = None, *, preset: str | None = None) -> int:
    """Create the QApplication and the main window, load `preset` if given, run; the exit code.

    Heavy modules (numpy, pyqtgraph, the window) are imported here, not at CLI start-up, with the
    cyclic garbage collector held until the first run reaches the window; the engine is imported
    by the worker thread once the window has painted.
    """
    from rnnviz.freed_memory import return_large_blocks
    from rnnviz.gui import collector

    return_large_blocks()            # the batches the window receives do not stay in its heap
    collector.hold_for_start_up()    # until the first run has reached the window
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setOrganizationName("rnnviz")
    app.setApplicationName("rnnviz")
    app.setDesktopFileName("rnnviz")      # the taskbar matches the window to rnnviz.desktop
    app.setWindowIcon(application_icon())

    from rnnviz.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if preset:
        window.load_preset(preset)

    # Ctrl+C in the terminal closes the window (saving settings) instead of being ignored until
    # the next Python callback: a timer lets the interpreter run its signal handlers.
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    poll = QTimer()
    poll.timeout.connect(lambda: None)
    poll.start(SIGNAL_POLL_MS)
    try:
        return app.exec()
    finally:
        poll.stop()
        signal.signal(signal.SIGINT, previous)
