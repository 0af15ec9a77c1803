"""Finding a window's widgets the way users and tests name them: by objectName."""

from PySide6.QtWidgets import QWidget


def find(window, name: str, cls=QWidget):
    """The child of `window` called `name` (of type `cls`); fails the test if there is none."""
    widget = window.findChild(cls, name)
    assert widget is not None, f"no widget named {name!r}"
    return widget
