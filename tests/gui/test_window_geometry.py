"""The window opens inside the screen: first launch fits it, a saved geometry is kept only if it fits."""

from PySide6.QtCore import QRect

from rnnviz.gui import MainWindow
from rnnviz.gui.main_window import KEY_GEOMETRY
from rnnviz.gui.window_geometry import PREFERRED_SIZE, first_launch_geometry, fits


def test_first_launch_geometry_fits_small_screens_and_keeps_the_preferred_size_on_large_ones():
    small = QRect(0, 27, 1280, 693)        # 1280x720 with a top panel
    rect = first_launch_geometry(small)
    assert fits(rect, small) and rect.width() < PREFERRED_SIZE[0] and rect.height() < PREFERRED_SIZE[1]
    assert rect.center() == small.center()
    large = QRect(1920, 0, 2560, 1400)     # a second monitor
    rect = first_launch_geometry(large)
    assert (rect.width(), rect.height()) == PREFERRED_SIZE and fits(rect, large)


def opened(qtbot, store) -> MainWindow:
    window = MainWindow(settings_store=store, start_worker=False)
    qtbot.addWidget(window)
    return window


def test_the_first_window_fits_the_screen(qtbot, settings_store):
    window = opened(qtbot, settings_store)
    available = window.screen().availableGeometry()
    assert fits(window.geometry(), available), (window.geometry(), available)


def test_a_saved_geometry_is_restored_where_it_fits_and_replaced_where_it_does_not(qtbot, settings_store):
    window = opened(qtbot, settings_store)
    available = window.screen().availableGeometry()
    inside = QRect(available.x() + 10, available.y() + 20, available.width() // 2, available.height() // 2)
    window.setGeometry(inside)
    window.save_state()
    restored = opened(qtbot, settings_store).geometry()   # Qt may shift it by a guessed title bar
    assert restored.size() == inside.size() and abs(restored.y() - inside.y()) < 40

    window.setGeometry(QRect(available.x(), available.y(), available.width() + 600, available.height() + 300))
    window.save_state()
    assert window.geometry().width() > available.width()     # saved larger than this screen
    reopened = opened(qtbot, settings_store)
    assert fits(reopened.geometry(), available)
    assert settings_store.value(KEY_GEOMETRY) is not None


def test_on_a_screen_too_narrow_for_three_columns_the_lessons_share_the_controls_column(qtbot, settings_store):
    from PySide6.QtWidgets import QDockWidget

    window = opened(qtbot, settings_store)     # the offscreen screen is 800 px wide
    lessons = window.findChild(QDockWidget, "lessonsDock")
    assert lessons in window.tabifiedDockWidgets(window.controls_dock)
    assert window.minimumSizeHint().width() < PREFERRED_SIZE[0]
