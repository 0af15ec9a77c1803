"""The heatmap's iteration axis follows its rows; its caption writes δ_t = ∂L/∂a_t."""

import pytest
from PySide6.QtWidgets import QLabel

from rnnviz.gui.heatmap import ROWS, Y_SPAN_STEP, ContributionHeatmap
from rnnviz.session import Session
from rnnviz.settings import Settings


def session(arch="rnn"):
    return Session(Settings(task="recall", arch=arch, lag=6, hidden=6, batch=2, skip=3))


def y_range(heatmap):
    return heatmap.plot.getViewBox().viewRange()[1]


def test_the_heatmaps_iteration_axis_follows_the_rows_with_stepped_headroom(qtbot):
    heatmap = ContributionHeatmap()
    qtbot.addWidget(heatmap)
    heatmap.resize(700, 400)
    heatmap.show()
    s = session()
    heatmap.restart(s.snapshot())
    heatmap.show_snapshots(tuple(s.run(20)))
    lo, hi = y_range(heatmap)
    assert lo == pytest.approx(-0.5) and 21 < hi - lo <= 2 * Y_SPAN_STEP < ROWS
    spans = set()
    for _ in range(10):                                # 21 → 81 rows: the span grows in few steps
        heatmap.show_snapshots(tuple(s.run(6)))
        lo, hi = y_range(heatmap)
        assert hi > heatmap.rows_in_order()[0][-1] + 0.5     # the newest row is on screen
        spans.add(round(hi - lo))
    assert len(spans) <= 2 and max(spans) < 4 * 81
    heatmap.restart(s.snapshot())                      # a new run starts small again
    lo, hi = y_range(heatmap)
    assert hi - lo == pytest.approx(Y_SPAN_STEP)


def test_the_heatmap_caption_writes_delta_t_with_sub_and_superscripts(qtbot):
    heatmap = ContributionHeatmap()
    qtbot.addWidget(heatmap)
    title = heatmap.findChild(QLabel, "heatmapTitle")
    assert "δ<sub>t</sub>" in title.text() and "<sup>T</sup>" in title.text()
    assert "δa" not in title.text() and "δa" not in heatmap.absolute_toggle.toolTip()
