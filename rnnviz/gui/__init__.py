"""The desktop app (PySide6 + pyqtgraph): `MainWindow`, the training worker and one module per view."""

from rnnviz.gui.main_window import MainWindow

__all__ = ["MainWindow"]
