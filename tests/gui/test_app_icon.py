"""The app has an icon: the window's, the taskbar's (via the desktop file name) and rnnviz.desktop's."""

from PySide6.QtWidgets import QApplication

from rnnviz.gui import app as gui_app


def test_the_icon_renders(qapp):
    icon = gui_app.application_icon()
    assert not icon.isNull()
    image = icon.pixmap(64, 64).toImage()
    assert image.width() == 64 and image.pixelColor(32, 32).alpha() == 255


def test_run_gui_gives_the_application_its_icon_and_desktop_file(qtbot, monkeypatch):
    shown = []

    class Window:
        def show(self):
            shown.append(self)

        def close(self):
            pass

    monkeypatch.setattr("rnnviz.gui.main_window.MainWindow", Window)
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    app = QApplication.instance()
    previous = app.windowIcon()
    try:
        assert gui_app.run_gui() == 0
        assert shown and not app.windowIcon().isNull()
        assert app.desktopFileName() == "rnnviz"
    finally:
        app.setWindowIcon(previous)
