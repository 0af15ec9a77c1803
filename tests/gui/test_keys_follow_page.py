"""The run commands (Space, S, R, the tool bar's Play/Step/Reset) act on the run the page shows, and
the main run's banner and status labels stay with the main run's pages."""

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel
from widgets import find


WAIT_MS = 20_000


def compare_iteration(window) -> int:
    return int(find(window, "compareIterationLabel", QLabel).text().split()[-1])


def test_on_compare_the_keys_and_the_tool_bar_drive_the_comparison_not_the_hidden_run(qtbot, window):
    find(window, "resetAction", QAction).trigger()            # on the Training page: the main run
    window.show_page("compare")
    qtbot.waitUntil(lambda: window.compare_tab.content.worker is not None, timeout=WAIT_MS)
    main_iteration = window.latest_snapshot.iteration

    find(window, "stepAction", QAction).trigger()
    qtbot.waitUntil(lambda: compare_iteration(window) == 1, timeout=WAIT_MS)
    find(window, "playAction", QAction).trigger()             # Space
    play = find(window, "playButton", QAbstractButton)        # the tool bar's, not Compare's own
    qtbot.waitUntil(lambda: play.isChecked() and compare_iteration(window) >= 3, timeout=WAIT_MS)
    assert find(window, "comparePlayButton", QAbstractButton).isChecked()
    play.click()                                              # the tool bar pauses the comparison
    qtbot.waitUntil(lambda: window.compare_tab.content.state == "paused", timeout=WAIT_MS)
    assert not play.isChecked()
    find(window, "resetAction", QAction).trigger()
    qtbot.waitUntil(lambda: compare_iteration(window) == 0, timeout=WAIT_MS)
    assert window.latest_snapshot.iteration == main_iteration and window.state == "paused"

    window.show_page("curves")                                # back: the keys drive the main run
    find(window, "stepAction", QAction).trigger()
    qtbot.waitUntil(lambda: window.latest_snapshot.iteration == main_iteration + 1, timeout=WAIT_MS)
    assert compare_iteration(window) == 0


def test_a_run_out_of_sight_pauses_and_the_play_button_shows_the_run_in_sight(qtbot, window):
    window.play()
    play = find(window, "playButton", QAbstractButton)
    qtbot.waitUntil(play.isChecked, timeout=WAIT_MS)
    window.show_page("compare")
    qtbot.waitUntil(lambda: window.state == "paused", timeout=WAIT_MS)
    assert not play.isChecked() and "paused" in window.statusBar().currentMessage()
    find(window, "playAction", QAction).trigger()
    qtbot.waitUntil(lambda: window.compare_tab.content.state == "playing", timeout=WAIT_MS)
    window.show_page("diagram")                               # the comparison pauses out of sight
    qtbot.waitUntil(lambda: window.compare_tab.content.state == "paused", timeout=WAIT_MS)
    assert window.state == "paused" and not play.isChecked()


def test_the_memory_horizon_page_has_no_run_to_play(qtbot, window):
    window.show_page("horizon")
    assert not find(window, "playAction", QAction).isEnabled()
    assert not find(window, "playButton", QAbstractButton).isEnabled()
    assert not find(window, "iterationLabel", QLabel).isVisible()
    window.show_page("gradients")
    assert find(window, "playAction", QAction).isEnabled() and find(window, "playButton", QAbstractButton).isEnabled()
    assert find(window, "iterationLabel", QLabel).isVisible()


def test_the_divergence_banner_stays_over_the_run_it_describes(qtbot, window):
    combo = find(window, "presetCombo", QComboBox)
    index = combo.findData("exploding")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    qtbot.waitUntil(lambda: window.latest_snapshot.settings.clip == "none", timeout=WAIT_MS)
    window.play()
    banner = find(window, "divergenceBanner")
    qtbot.waitUntil(banner.isVisible, timeout=WAIT_MS)
    text = banner.text()
    window.show_page("compare")
    assert not banner.isVisible()
    window.show_page("horizon")
    assert not banner.isVisible()
    window.show_page("gradients")
    assert banner.isVisible() and banner.text() == text
