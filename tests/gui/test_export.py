"""Plots to PNG/SVG, the metrics history to CSV, settings to a preset that loads back identically."""

import math

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage

from rnnviz.gui.export import (CSV_COLUMNS, ExportError, MetricsLog, read_metrics_csv, save_plot,
                               save_settings_preset, settings_toml)
from rnnviz.presets import load_preset
from rnnviz.session import Session
from rnnviz.settings import Settings


@pytest.fixture
def plot(qtbot):
    widget = pg.PlotWidget(objectName="lossPlot")
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    widget.plot(np.arange(50), np.sin(np.arange(50) / 5))
    return widget


def test_plot_saves_as_png_and_svg(plot, tmp_path):
    png = save_plot(plot, tmp_path / "loss.png")
    image = QImage(str(png))
    assert not image.isNull() and image.width() >= 400
    svg = save_plot(plot, tmp_path / "loss.svg")
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and "path" in text
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    assert renderer.isValid() and renderer.viewBox().width() == plot.width()
    with pytest.raises(ExportError, match=r"use \.png or \.svg"):
        save_plot(plot, tmp_path / "loss.jpg")
    with pytest.raises(ExportError, match="does not exist"):
        save_plot(plot, tmp_path / "missing" / "loss.png")


def test_metrics_history_exports_to_csv(tmp_path):
    session = Session(Settings(lag=3, hidden=4, batch=4))
    log = MetricsLog()
    log.restart(session.snapshot())
    snaps = tuple(session.run(12))
    log.show_snapshots(snaps[:5])
    log.show_snapshots(snaps[5:])
    log.show_snapshots(snaps[-1:])  # repeated (e.g. a diverged run): not a new row
    path = log.write_csv(tmp_path / "metrics.csv")
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(CSV_COLUMNS)
    data = read_metrics_csv(path)
    assert list(data["iteration"]) == list(range(13))
    assert np.array_equal(data["loss"][1:], [s.loss for s in snaps])   # repr() keeps every digit
    assert np.array_equal(data["grad_norm"][1:], [s.grad_norm for s in snaps])
    with pytest.raises(ExportError, match="csv"):
        log.write_csv(tmp_path / "metrics.txt")


def test_metrics_memory_is_bounded():
    log = MetricsLog(capacity=100)
    session = Session(Settings(lag=2, hidden=2, batch=2))
    log.restart(session.snapshot())
    for _ in range(3):
        log.show_snapshots(tuple(session.run(60)))
    rows = log.rows()
    assert len(rows) <= 100 and rows[-1][1] == 180 and rows[0][1] == 0
    assert all(a[1] < b[1] for a, b in zip(rows, rows[1:]))


def test_nonfinite_values_survive_the_round_trip(tmp_path):
    session = Session(load_preset("exploding").settings)
    log = MetricsLog()
    log.restart(session.snapshot())
    log.show_snapshots(tuple(session.run(50)))
    data = read_metrics_csv(log.write_csv(tmp_path / "m.csv"))
    assert not np.isfinite(data["loss"]).all() or not np.isfinite(data["grad_norm"]).all() \
        or data["grad_norm"].max() > 1e6


@pytest.mark.parametrize("changes", [
    {}, {"lr": 0.00031, "clip_threshold": 0.37, "init_scale": 0.85, "momentum": 0.95},
    {"arch": "lstm", "forget_bias": 3.0, "task": "adding", "seq_len": 77, "dtype": "float32"},
])
def test_settings_preset_loads_back_identically(tmp_path, changes):
    settings = Settings().replace(**changes)
    path = save_settings_preset(settings, tmp_path / "mine.toml", title="Mine", commentary="why")
    preset = load_preset(path)
    assert preset.settings == settings and preset.title == "Mine" and preset.commentary == "why"
    copy = tmp_path / "copy.toml"
    copy.write_text(settings_toml(settings), encoding="utf-8")
    assert load_preset(copy).settings == settings
    with pytest.raises(ExportError, match=r"\.toml"):
        save_settings_preset(settings, tmp_path / "mine.txt")
    assert math.isfinite(preset.settings.lr)


def test_metrics_rows_come_back_exactly_as_the_snapshots_gave_them():
    """The compact table gives back each snapshot's row: ints as ints, None accuracy as None
    (sine has no accuracy), NaN and inf as themselves, the status by name."""
    from rnnviz.gui.export import row

    for settings in (load_preset("exploding").settings, Settings(task="sine", lag=3, hidden=4, batch=4),
                     Settings(lag=3, hidden=4, batch=4)):
        session = Session(settings)
        log = MetricsLog()
        log.restart(session.snapshot())
        snaps = (session.snapshot(),) + tuple(session.run(20))
        log.show_snapshots(snaps)
        expected = [row(s) for s in snaps]
        expected = [r for i, r in enumerate(expected) if i == 0 or r[1] > expected[i - 1][1]]
        got = log.rows()
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            assert [type(v) for v in a] == [type(v) for v in b]
            assert all(x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y)) for x, y in zip(a, b))


def test_thinning_keeps_every_other_older_row_and_every_newer_one():
    log = MetricsLog(capacity=10)
    session = Session(Settings(lag=2, hidden=2, batch=2))
    log.restart(session.snapshot())                       # iteration 0
    log.show_snapshots(tuple(session.run(10)))            # 1…10: the 11th row thins the table
    assert [r[1] for r in log.rows()] == [0, 2, 4, 5, 6, 7, 8, 9, 10]
    log.show_snapshots(tuple(session.run(2)))             # 11 rows again: thinned again
    assert [r[1] for r in log.rows()] == [0, 4, 6, 7, 8, 9, 10, 11, 12]
