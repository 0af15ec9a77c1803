"""The unrolled diagram: a node and arrows per step up to T = 100 at lecture size, one colour
meaning with the heatmap, and the animated forward sweep and backward wave."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox

from rnnviz.bptt_frames import BACKWARD, FORWARD, BPTTFrames, revealed
from rnnviz.gui.colour_scale import ABSOLUTE_LEVELS, RELATIVE_LEVELS
from rnnviz.gui.unrolled_view import MIN_DETAIL_PX, UnrolledView, compute_layout
from rnnviz.presets import load_preset
from rnnviz.session import Session
from rnnviz.settings import Settings

WAIT_MS = 10_000

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def preset_session(name: str, **changes) -> Session:
    return Session(load_preset(name).settings.replace(**changes))


def shown_view(qtbot, size=(900, 420), **kwargs) -> UnrolledView:
    view = UnrolledView(**kwargs)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    return view


def still(view: UnrolledView) -> UnrolledView:
    view.findChild(QCheckBox, "unrolledAnimateToggle").setChecked(False)
    return view


def step_sizes(view: UnrolledView) -> tuple[float, float, float]:
    """(pitch, node diameter, W_H arrow length) in pixels, as laid out now."""
    view.diagram._ensure_cache()
    layout = view.diagram.layout_
    assert layout.mode == "detail"
    arrow = view.diagram._fwd_polys[-1].boundingRect().width()
    return layout.pitch, 2 * layout.r, arrow


@pytest.mark.parametrize("T", [10, 40, 62, 100])
def test_every_step_is_a_node_with_its_arrows_at_1280x720_with_the_docks_open(qtbot, settings_store, T):
    from rnnviz.gui.main_window import MainWindow

    window = MainWindow(settings_store=settings_store, start_worker=False)
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    # the offscreen screen is 800 px wide, so the window tabified the lessons with the controls;
    # at 1280 px they sit side by side: the controls on the left, the lessons on the right
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.lessons_dock)
    window.lessons_dock.show()
    qtbot.waitUntil(lambda: window.lessons_dock.isVisible() and window.controls_dock.isVisible(), timeout=WAIT_MS)
    assert not window.tabifiedDockWidgets(window.controls_dock)
    session = Session(Settings(task="recall", lag=T - 2, hidden=8, batch=4))
    window.show_restart(session.snapshot())
    window.show_snapshots(tuple(session.run(2)))
    window.show_page("diagram")
    view = window.findChild(UnrolledView, "unrolledView")
    qtbot.waitUntil(lambda: view.diagram.isVisible() and view.diagram.width() > 300, timeout=WAIT_MS)
    assert view.diagram.width() < 1280 - window.controls_dock.width() - window.lessons_dock.width()
    pitch, node, arrow = step_sizes(view)
    assert node >= MIN_DETAIL_PX and arrow >= MIN_DETAIL_PX and pitch >= node + arrow, (pitch, node, arrow)
    layout = view.diagram.layout_
    canvas = view.diagram.rect()
    assert len(view.diagram._node_rects) == T
    for rect in view.diagram._node_rects:            # every node wholly on the canvas
        assert canvas.contains(rect.toAlignedRect()), rect
    assert layout.legend_top + 12 <= canvas.height()
    window.close()


def test_a_short_sequence_is_one_row_and_a_long_one_an_overview():
    assert compute_layout(10, 640, 420, "last", "rnn").rows == 1
    long = compute_layout(500, 640, 420, "last", "rnn")
    assert long.mode == "bands" and long.rows * long.per_row >= 500 and long.pitch >= 3


def test_the_w_h_arrows_are_the_heatmaps_columns_on_the_same_relative_scale(qtbot):
    from rnnviz.gui.heatmap import ContributionHeatmap

    heatmap = ContributionHeatmap()
    qtbot.addWidget(heatmap)
    view = still(shown_view(qtbot))
    s = preset_session("vanishing", lag=20)
    heatmap.restart(s.snapshot())
    view.restart(s.snapshot())
    snaps = tuple(s.run(3))
    heatmap.show_snapshots(snaps)
    view.show_snapshots(snaps)
    assert view.grad_scale.levels == heatmap.scale.levels == RELATIVE_LEVELS
    expected = (heatmap.scale.fractions_of(heatmap.image.image[-1]) * 255 + 0.5).astype(int)
    np.testing.assert_array_equal(view.diagram._fwd_idx, expected)
    assert view.diagram._fwd_idx.max() == 255                 # the iteration's largest step is lit


def left_quarter(indices: np.ndarray) -> float:
    """Mean colour position (0 dark .. 1 lit) of steps 2 .. T/4 (step 1 multiplies h_0 = 0)."""
    return float(indices[1:len(indices) // 4].mean()) / 255


def test_a_solved_run_stays_lit_on_the_left_and_a_tanh_run_goes_dark(qtbot):
    view = still(shown_view(qtbot))
    solved = preset_session("identity-init", seed=2)
    view.restart(solved.snapshot())
    view.show_snapshots(tuple(solved.run(250)))
    assert solved.snapshot().accuracy == 1.0 and solved.snapshot().loss < 1e-3
    lit_forward, lit_backward = left_quarter(view.diagram._fwd_idx), left_quarter(view.diagram._back_idx)
    tanh = preset_session("vanishing", seed=2)
    view.restart(tanh.snapshot())
    view.show_snapshots(tuple(tanh.run(30)))
    dark_forward, dark_backward = left_quarter(view.diagram._fwd_idx), left_quarter(view.diagram._back_idx)
    assert min(lit_forward, lit_backward) > 0.8, (lit_forward, lit_backward)
    assert max(dark_forward, dark_backward) < 0.3, (dark_forward, dark_backward)


def test_the_absolute_toggle_switches_caption_legend_and_levels(qtbot):
    view = still(shown_view(qtbot))
    s = preset_session("identity-init", lag=10)
    view.restart(s.snapshot())
    snap = s.step()
    view.show_snapshots((snap,))
    toggle = view.findChild(QCheckBox, "unrolledAbsoluteToggle")
    assert "relative to the iteration's largest step" in view.caption.text()
    assert view.diagram.grad_caption[0].startswith("arrows, share of the largest step")
    toggle.setChecked(True)
    assert view.grad_scale.levels == ABSOLUTE_LEVELS
    assert "absolute" in view.caption.text() and "relative" not in view.caption.text()
    assert view.diagram.grad_caption == ("arrows, absolute:", "10⁻²⁴", "10⁴")
    lo, hi = ABSOLUTE_LEVELS
    expected = ((np.clip(np.log10(snap.dh_norms), lo, hi) - lo) / (hi - lo) * 255 + 0.5).astype(int)
    np.testing.assert_array_equal(view.diagram._back_idx, expected)
    toggle.setChecked(False)
    assert view.grad_scale.levels == RELATIVE_LEVELS and view.diagram._back_idx.max() == 255


def test_the_animation_plays_forward_then_backward_then_holds_the_newest_iteration(qtbot):
    view = shown_view(qtbot)
    s = preset_session("vanishing", lag=10)
    view.restart(s.snapshot())
    first = s.step()
    view.show_snapshots((first,))
    assert view.is_animating()
    kinds = set()
    qtbot.waitUntil(lambda: kinds.add(view.diagram.front and view.diagram.front[0]) or BACKWARD in kinds,
                    timeout=WAIT_MS)
    assert FORWARD in kinds
    front = view.diagram.front
    if front is not None:                # mid-sweep: the masks are the stepper's frame there
        kind, t = front
        index = t - 1 if kind == FORWARD else 2 * first.dh_norms.size + 1 - t
        np.testing.assert_array_equal(view.diagram._grad_shown, revealed(index, len(first.dh_norms))[3])
    newer = tuple(s.run(3))
    view.show_snapshots(newer)           # arrives while the first plays: it plays next
    assert view.iteration_label.text() == f"iteration {first.iteration}"
    qtbot.waitUntil(lambda: view.iteration_label.text() == f"iteration {newer[-1].iteration}", timeout=WAIT_MS)
    played = view.frames_played
    qtbot.waitUntil(lambda: not view.is_animating(), timeout=WAIT_MS)      # no newer one: hold
    assert view.frames_played > played and not view._timer.isActive()
    assert view.diagram._hidden_shown is None and view.diagram._grad_shown is None   # complete
    # the backward arrows' colours are the held iteration's real ‖∂L/∂h_t‖
    expected = (view.grad_scale.fractions_of(view.grad_scale.coords(newer[-1].dh_norms)) * 255 + 0.5).astype(int)
    np.testing.assert_array_equal(view.diagram._back_idx, expected)


def test_the_animation_toggle_shows_the_newest_iteration_at_once(qtbot):
    view = shown_view(qtbot)
    s = preset_session("vanishing", lag=10)
    view.restart(s.snapshot())
    view.show_snapshots(tuple(s.run(2)))
    assert view.is_animating()
    still(view)
    assert not view.is_animating() and view.diagram._grad_shown is None
    snap = s.step()
    view.show_snapshots((snap,))
    assert view.iteration_label.text() == f"iteration {snap.iteration}" and not view.is_animating()


def test_the_stepper_and_the_animation_show_the_same_numbers_frame_for_frame(qtbot):
    """The animation's backward wave is the snapshot's ‖∂L/∂h_t‖_F over the batch: the stepper's
    batch ‖∂L/∂h_t‖_F for the same pass; and both reveal frame i with `revealed(i, T)`."""
    from rnnviz.gui.stepper import BPTTStepper

    s = Session(Settings(task="recall", lag=6, hidden=6, batch=4))
    snapshot, inspection = s.snapshot(), s.inspect()        # iteration 0: the same weights and batch
    frames = BPTTFrames(inspection)
    np.testing.assert_array_equal(frames.dh_norm_batch, snapshot.dh_norms)      # the trace's own arrays
    np.testing.assert_array_equal(frames.contribution_norm_batch, snapshot.contribution_norms)
    stepper = BPTTStepper()
    qtbot.addWidget(stepper)
    stepper.set_frames(frames)
    for index in (0, frames.T - 1, frames.T, frames.T + 2, 2 * frames.T):
        stepper.go_to(index)
        _, _, hidden_shown, grad_shown = revealed(index, frames.T)
        np.testing.assert_array_equal(stepper.diagram.diagram._hidden_shown, hidden_shown)
        np.testing.assert_array_equal(stepper.diagram.diagram._grad_shown, grad_shown)


def test_a_frame_shows_only_what_its_masks_reveal_also_when_grabbed_with_its_window(qtbot):
    """A sweep's frame draws the cached colours only over the steps computed so far (checked on the
    pixels of a grab of an enclosing widget, as recordings and screenshots take them)."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    layout.setContentsMargins(40, 30, 10, 10)
    view = still(UnrolledView())
    layout.addWidget(view)
    host.resize(900, 460)
    host.show()
    qtbot.waitExposed(host)
    s = preset_session("vanishing", lag=10)
    view.restart(s.snapshot())
    view.show_snapshots((s.step(),))
    canvas = view.diagram
    T = canvas.T
    canvas.set_masks(np.ones(T, bool), np.arange(1, T + 1) >= T, (BACKWARD, T))   # the first backward frame
    image = host.grab().toImage()

    def colour_at(t):
        centre = canvas._fwd_polys[t - 1].boundingRect().center()
        return image.pixelColor(canvas.mapTo(host, centre.toPoint()))

    assert colour_at(T) == canvas.colour_of(canvas._fwd_idx, T)        # revealed: its colour
    assert colour_at(2) != canvas.colour_of(canvas._fwd_idx, 2)        # not yet: the faint arrow


@pytest.mark.parametrize("settings, size", [(Settings(), (900, 600)), (Settings(arch="lstm", lag=8), (700, 460))])
def test_each_frame_of_a_sweep_repaints_what_it_changes(qtbot, settings, size):
    """A frame repaints only the steps it reveals and where the glow was and is: what is on
    screen (which keeps the pixels of the previous frame elsewhere) is the whole canvas drawn anew."""
    from PySide6.QtWidgets import QApplication

    view = still(shown_view(qtbot, size))
    s = Session(settings)
    view.restart(s.snapshot())
    view.show_snapshots((s.step(),))
    canvas, screen = view.diagram, QApplication.primaryScreen()
    T = canvas.T
    for index in range(2 * T + 1):              # forward, the loss, backward, then every step shown
        kind, t, hidden_shown, grad_shown = revealed(index, T)
        canvas.set_masks(hidden_shown, grad_shown, (kind, t) if index < 2 * T else None)
        QApplication.processEvents()
        assert screen.grabWindow(view.winId()).toImage() == view.grab().toImage(), (index, kind, t)


@pytest.mark.parametrize("settings", [Settings(), Settings(arch="lstm", lag=8)])
def test_a_tick_that_changes_nothing_repaints_nothing(qtbot, settings):
    """The sweep's timer ticks faster than short sequences reveal steps, and keeps ticking while the
    loss and the finished iteration are held: a frame that shows what is already on screen paints
    nothing, and the screen still shows the whole canvas drawn anew after it."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                PaintCounter.paints += 1
            return False

    view = still(shown_view(qtbot, (900, 600)))
    s = Session(settings)
    view.restart(s.snapshot())
    view.show_snapshots((s.step(),))
    canvas, screen = view.diagram, QApplication.primaryScreen()
    counter = PaintCounter()
    canvas.installEventFilter(counter)
    T = canvas.T
    for index in range(2 * T + 1):
        kind, t, hidden_shown, grad_shown = revealed(index, T)
        front = (kind, t) if index < 2 * T else None
        canvas.set_masks(hidden_shown, grad_shown, front)
        QApplication.processEvents()
        painted = PaintCounter.paints
        canvas.set_masks(*revealed(index, T)[2:], front)        # the same frame again: a tick later
        QApplication.processEvents()
        assert PaintCounter.paints == painted, (index, kind, t)
        assert screen.grabWindow(view.winId()).toImage() == view.grab().toImage(), (index, kind, t)
    assert PaintCounter.paints >= 2 * T                 # the frames that changed something did paint


@pytest.mark.parametrize("width", [640, 720, 900])
def test_the_loss_glow_stays_inside_the_canvas(qtbot, width):
    """At the loss frame the glow round L is whole: the end margin is half a column, which the glow's
    1.8 node radii + 4 px outgrew at these widths (it was cut at the canvas's right edge)."""
    view = still(shown_view(qtbot, (width, 460)))
    s = Session(Settings())
    view.restart(s.snapshot())
    view.show_snapshots((s.step(),))
    canvas = view.diagram
    canvas._ensure_cache()
    cx, cy, radius = canvas._loss_glow_centre(canvas.layout_)
    assert radius > canvas.layout_.r                   # still a glow round the loss, not a dot
    assert cx + radius < canvas.width()
