"""Plots read at every range: log-axis labels, axes at iteration 0, legends off the data and in the
theme's colours after a switch."""

import math

import pytest
from PySide6.QtGui import QAction

from rnnviz.gui.plot_style import log_ticks, tick_label
from rnnviz.gui.spectrum import SpectrumPlot
from rnnviz.gui.theme import DARK
from rnnviz.session import Session
from rnnviz.settings import Settings


def labels(low: float, high: float, room: int = 6) -> list[str]:
    major, _minor = log_ticks(math.log10(low), math.log10(high), room)
    return [tick_label(v) for v in major]


def test_a_range_between_1_and_2_gets_several_labels():
    assert labels(1.0, 2.0) == ["1", "1.2", "1.4", "1.6", "1.8", "2"]
    assert len(labels(0.9, 1.1)) >= 3


def test_wide_ranges_label_decades_only_and_thin_them_when_many():
    assert labels(0.01, 100) == ["0.01", "0.1", "1", "10", "100"]
    many = labels(1e-20, 1.0)
    assert len(many) <= 6 and "1" in many and all("e" in t for t in many if t != "1")


def test_spectrum_axes_at_iteration_0_start_at_0_and_show_1(qtbot):
    plot = SpectrumPlot()
    qtbot.addWidget(plot)
    plot.restart(Session(Settings(hidden=8, batch=4, lag=5)).snapshot().with_spectrum())
    plot.redraw()
    (x0, x1), (y0, y1) = plot.history.getViewBox().viewRange()
    assert x0 == 0 and x1 > 0                       # not −400 … 400 "(×0.001)"
    assert y0 < 0 < y1                               # log10(1) = 0: the line at 1 shows
    assert plot.history.legend is None and "ρ" in plot.legend.text()   # the legend is not over the curves


@pytest.fixture
def window(qtbot, settings_store):
    from rnnviz.gui import MainWindow

    w = MainWindow(settings_store=settings_store, start_worker=False)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def test_a_theme_switch_restyles_pages_built_before_and_after_it(window):
    horizon = window.horizon_tab.ensure()                 # built in the light theme
    window.findChild(QAction, "darkThemeAction").trigger()
    assert {label.opts["color"] for _sample, label in horizon.legend.items} == {DARK.text}
    compare = window.compare_tab.ensure()                 # built after the switch
    assert compare.theme is DARK
    assert compare.loss_plot.backgroundBrush().color().name().lower() == DARK.base.lower()
    compare.shutdown()
