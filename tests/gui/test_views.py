"""The gradient views and the unrolled diagram fed with real session snapshots."""

import warnings

import numpy as np
import pytest

from rnnviz.gui.heatmap import ContributionHeatmap
from rnnviz.gui.spectrum import SpectrumPlot
from rnnviz.gui.unrolled_view import UnrolledView
from rnnviz.session import Session
from rnnviz.settings import Settings


def session(arch="rnn", lag=8, hidden=8, **changes):
    return Session(Settings(task="recall", arch=arch, lag=lag, hidden=hidden, batch=4, skip=3, **changes))


def view(qtbot, cls, size=(900, 400)):
    widget = cls()
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    return widget


def test_every_view_offers_what_the_window_calls(qtbot):
    from rnnviz.gui.view import View

    for cls in (UnrolledView, ContributionHeatmap, SpectrumPlot):
        assert isinstance(view(qtbot, cls), View)


def test_heatmap_newest_row_is_the_snapshots_contribution_norms(qtbot):
    heatmap = view(qtbot, ContributionHeatmap)
    s = session()
    heatmap.restart(s.snapshot())
    for _ in range(3):
        batch = tuple(s.run(4))
        heatmap.show_snapshots(batch)
        np.testing.assert_array_equal(heatmap.newest_row(), batch[-1].contribution_norms)
    iterations, rows = heatmap.rows_in_order()
    assert list(iterations) == list(range(13)) and rows.shape == (13, s.task.seq_len)
    lo, hi = heatmap.scale.levels
    assert hi > lo and heatmap.image.image.shape == (13, s.task.seq_len)


def test_hovering_shows_exact_values(qtbot):
    from PySide6.QtCore import QPointF

    heatmap = view(qtbot, ContributionHeatmap)
    diagram = view(qtbot, UnrolledView, (1200, 420))
    s = session()
    heatmap.restart(s.snapshot())
    diagram.restart(s.snapshot())
    snap = s.step()
    heatmap.show_snapshots((snap,))
    diagram.show_snapshots((snap,))
    qtbot.wait(50)
    t = 5
    heatmap._mouse_moved(heatmap.plot.getViewBox().mapViewToScene(QPointF(t, snap.iteration)))
    assert f"{snap.contribution_norms[t - 1]:.4g}" in heatmap.hover_label.text()
    diagram._mouse_moved(diagram.position_of(t))
    assert f"step t = {t}" in diagram.hover_label.text()
    assert f"{snap.dh_norms[t - 1]:.4g}" in diagram.hover_label.text()
    assert f"{snap.contribution_norms[t - 1]:.4g}" in diagram.hover_label.text()
    assert f"{snap.hidden_rms[t - 1]:.4g}" in diagram.hover_label.text()


def test_heatmap_keeps_a_bounded_ring_of_rows(qtbot):
    heatmap = ContributionHeatmap(rows=5)
    qtbot.addWidget(heatmap)
    s = session()
    heatmap.restart(s.snapshot())
    snaps = tuple(s.run(12))
    heatmap.show_snapshots(snaps)
    iterations, _ = heatmap.rows_in_order()
    assert list(iterations) == [8, 9, 10, 11, 12]
    np.testing.assert_array_equal(heatmap.newest_row(), snaps[-1].contribution_norms)


def test_spectrum_shows_one_point_per_eigenvalue(qtbot):
    spectrum = view(qtbot, SpectrumPlot)
    s = session(hidden=12)
    first = s.snapshot().with_spectrum()   # the worker warms restart snapshots too
    spectrum.restart(first)
    snaps = tuple(s.run(3))
    spectrum.show_snapshots(snaps)
    assert list(spectrum.history_data()[0]) == [0]   # never computes a spectrum on the GUI thread
    snaps = snaps[:-1] + (snaps[-1].with_spectrum(),)   # the worker's job
    spectrum.show_snapshots(snaps)
    assert spectrum.n_points() == 12
    iterations, sigma, rho = spectrum.history_data()
    assert list(iterations) == [0, 3] and (sigma >= rho - 1e-12).all()


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
@pytest.mark.parametrize("T", [10, 200])
def test_unrolled_view_builds_without_warnings(qtbot, arch, T):
    diagram = view(qtbot, UnrolledView, (1200, 420))
    diagram.animate_toggle.setChecked(False)          # still: every step's colours at once
    s = session(arch, lag=T - 2, hidden=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        diagram.restart(s.snapshot())
        diagram.show_snapshots((s.step(),))
        diagram.grab()
        diagram.highlight(T // 2, "backward")
        diagram.grab()
    assert diagram.diagram.T == T and diagram.diagram.arch == arch
    assert all(c is not None for c in diagram.diagram.arrow_colours)
    text = diagram.describe(T)
    assert f"step t = {T}" in text and "‖∂L/∂h" in text


def test_live_numbers_keep_their_width_whatever_the_digits(qtbot):
    """Longer numbers must not widen the panel (that re-laid out the window and shrank the docks)."""
    import dataclasses

    from rnnviz.gui.live_numbers import LiveNumbers

    panel = LiveNumbers()
    qtbot.addWidget(panel)
    snap = Session(Settings(hidden=8, lag=4, batch=4)).snapshot()
    panel.restart(snap)
    width = panel.minimumSizeHint().width()
    long = dataclasses.replace(snap, loss=1.234e-45, grad_norm=1.234e30, grad_norm_clipped=1.0,
                               clipped=True, clip_events=99_999, iteration=123_456)
    panel.show_snapshots((long,))
    panel.redraw()
    assert panel.values["gradValue"].text() == "1.23e+30 → 1"
    assert panel.values["clipValue"].text() == "100k of 123k"
    assert panel.minimumSizeHint().width() == width
    for name, label in panel.values.items():      # and every value still fits the room kept for it
        assert label.fontMetrics().horizontalAdvance(label.text()) <= label.parentWidget().minimumWidth(), name


def test_a_new_number_does_not_lay_out_the_window_again(qtbot):
    """A value's new text used to re-run every layout up to the window's, several times a second
    (each frame of a recording): the request must end below the panel."""
    import dataclasses

    from PySide6.QtCore import QCoreApplication, QEvent, QObject

    from rnnviz.gui.live_numbers import LiveNumbers

    class Count(QObject):
        layouts = 0

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.LayoutRequest:
                Count.layouts += 1
            return False

    panel = LiveNumbers()
    qtbot.addWidget(panel)
    panel.show()
    snap = Session(Settings(hidden=8, lag=4, batch=4)).snapshot()
    panel.restart(snap)
    QCoreApplication.sendPostedEvents()
    count = Count()
    panel.installEventFilter(count)
    for card in panel._cards:
        card.installEventFilter(count)
    panel.show_snapshots((dataclasses.replace(snap, loss=0.123, iteration=7, clip_events=3),))
    panel.redraw()
    for _ in range(3):
        QCoreApplication.sendPostedEvents()
    assert panel.values["lossValue"].text() == "0.123" and Count.layouts == 0


def _preset_session(name: str, **changes) -> Session:
    from rnnviz.presets import load_preset

    return Session(load_preset(name).settings.replace(**changes))


def _left_quarter(heatmap) -> float:
    """Mean colour coordinate (log10 of the share) of the newest row's first quarter of steps,
    step 1 left out (h_0 = 0: its share is always 0)."""
    row = heatmap.image.image[-1]
    return float(row[1:len(row) // 4].mean())


def test_the_relative_scale_has_the_same_fixed_levels_for_every_preset(qtbot):
    from rnnviz.gui.colour_scale import RELATIVE_LEVELS

    heatmap = view(qtbot, ContributionHeatmap)
    for preset in ("vanishing", "relu", "clipping"):
        s = _preset_session(preset)
        heatmap.restart(s.snapshot())
        heatmap.show_snapshots(tuple(s.run(3)))
        assert heatmap.scale.levels == RELATIVE_LEVELS
        assert tuple(heatmap.bar.levels()) == RELATIVE_LEVELS
        assert heatmap.image.levels is not None and tuple(heatmap.image.levels) == RELATIVE_LEVELS
        assert heatmap.image.image[-1].max() == RELATIVE_LEVELS[1]   # each row's largest step is at the top


def test_a_solved_run_stays_lit_on_the_left_and_a_tanh_run_goes_dark(qtbot):
    """identity-init solves the lag-60 recall task within ~200 iterations (loss ~1e-9); the
    vanishing preset's tanh RNN never does. Relative colours tell them apart whatever the loss."""
    heatmap = view(qtbot, ContributionHeatmap)
    solved = _preset_session("identity-init", seed=1)
    heatmap.restart(solved.snapshot())
    heatmap.show_snapshots(tuple(solved.run(250)))
    assert solved.snapshot().accuracy == 1.0
    lit = _left_quarter(heatmap)
    tanh = _preset_session("vanishing", seed=1)
    heatmap.restart(tanh.snapshot())
    heatmap.show_snapshots(tuple(tanh.run(30)))
    dark = _left_quarter(heatmap)
    assert lit > -3.0 and dark < -11.0, (lit, dark)


def test_the_absolute_toggle_switches_caption_and_levels(qtbot):
    from PySide6.QtWidgets import QCheckBox

    from rnnviz.gui.colour_scale import ABSOLUTE_LEVELS, RELATIVE_LEVELS

    heatmap = view(qtbot, ContributionHeatmap)
    s = _preset_session("vanishing", lag=8)
    heatmap.restart(s.snapshot())
    snaps = tuple(s.run(2))
    heatmap.show_snapshots(snaps)
    toggle = heatmap.findChild(QCheckBox, "heatmapAbsoluteToggle")
    assert not toggle.isChecked() and "relative to the largest step" in heatmap.title.text()
    toggle.setChecked(True)
    assert heatmap.scale.levels == ABSOLUTE_LEVELS and tuple(heatmap.image.levels) == ABSOLUTE_LEVELS
    assert "absolute" in heatmap.title.text() and "relative" not in heatmap.title.text()
    expected = np.clip(np.log10(np.maximum(snaps[-1].contribution_norms, 1e-300)), *ABSOLUTE_LEVELS)
    np.testing.assert_allclose(heatmap.image.image[-1], expected, rtol=1e-6)
    toggle.setChecked(False)
    assert heatmap.scale.levels == RELATIVE_LEVELS and "relative" in heatmap.title.text()
