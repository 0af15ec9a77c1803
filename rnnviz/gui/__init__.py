"""The desktop app (PySide6 + pyqtgraph): `MainWindow`, the training worker and one module per view.

`MainWindow` is imported on first use, so that `rnnviz.gui.app` can set up the start-up (the
garbage collector held, see `rnnviz.gui.collector`) before Qt, pyqtgraph and the window load.
"""

__all__ = ["MainWindow"]


def __getattr__(name: str):
    if name == "MainWindow":
        from rnnviz.gui.main_window import MainWindow

        return MainWindow
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
