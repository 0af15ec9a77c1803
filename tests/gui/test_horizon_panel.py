"""The Horizon panel: a tiny sweep fills the plot and the table, Cancel stops it, the UI stays live."""

import csv
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QLineEdit, QPushButton

from rnnviz.gui.horizon_panel import HorizonPanel
from rnnviz.horizon import Sweep, default_config

ARCHITECTURES = default_config().architectures


@pytest.fixture
def panel(qtbot):
    widget = HorizonPanel()
    qtbot.addWidget(widget)
    widget.resize(1100, 650)
    widget.show()
    yield widget
    widget.shutdown()


def configure(panel, lags, steps, seeds=1, archs=("tanh", "lstm"), every_lag=True):
    panel.findChild(QLineEdit, "horizonLagsEdit").setText(lags)
    panel.findChild(QCheckBox, "horizonEveryLagCheck").setChecked(every_lag)
    panel.steps_spin.setValue(steps)
    panel.seeds_spin.setValue(seeds)
    for arch in ARCHITECTURES:
        panel.findChild(QCheckBox, f"horizonArch_{arch.key}").setChecked(arch.key in archs)


def test_builds_standalone_with_every_architecture_and_the_definition(panel):
    assert panel.objectName() == "horizonPanel"
    boxes = [panel.findChild(QCheckBox, f"horizonArch_{a.key}") for a in ARCHITECTURES]
    assert all(b is not None and b.isChecked() and b.toolTip() for b in boxes)
    assert "memory horizon" in panel.definition_label.text().lower()
    assert panel.findChild(QPushButton, "horizonRunButton").isEnabled()
    assert not panel.findChild(QPushButton, "horizonCancelButton").isEnabled()


def test_before_a_sweep_the_progress_says_so_and_curves_differ_in_shape(panel):
    assert panel.progress.text() == "No sweep yet" and "0 /" not in panel.progress.text()
    styles = {(c.opts["symbol"], c.opts["symbolSize"], c.opts["pen"].style()) for c in panel.curves.values()}
    assert len(styles) == len(panel.curves)            # coinciding curves stay distinguishable


def test_run_button_needs_lags_and_an_architecture(panel):
    configure(panel, "", 10)
    assert not panel.run_button.isEnabled()
    configure(panel, "2", 10, archs=())
    assert not panel.run_button.isEnabled()


def test_a_tiny_sweep_fills_plot_and_table_and_saves(panel, qtbot, tmp_path, monkeypatch):
    configure(panel, "2, 3", steps=20)
    # The event loop keeps turning while the sweep trains: a GUI timer fires between its results.
    # (A sweep run on the GUI thread would let no tick through until it had finished.) The sweep
    # holds its first run until a tick has come while it runs (10 s at most): without that, under
    # load its four tiny runs could all be over before the event loop first turned.
    ticks, ticked = [], threading.Event()

    def tick():
        ticks.append((panel.running, len(panel.results)))
        if panel.running:
            ticked.set()

    results = Sweep.results

    def results_after_a_tick(sweep):
        ticked.wait(10)
        yield from results(sweep)

    monkeypatch.setattr(Sweep, "results", results_after_a_tick)
    timer = QTimer(interval=5, timeout=tick)
    timer.start()
    with qtbot.waitSignal(panel.sweepFinished, timeout=30_000) as finished:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert panel.running and not panel.run_button.isEnabled()
    timer.stop()
    assert finished.args == [False]
    assert len(panel.results) == 4 and panel.progress.value() == 4 and panel.progress.text() == "4 / 4 runs"
    assert any(running and done < 4 for running, done in ticks), "the UI thread was blocked during the sweep"
    for label in ("tanh RNN", "LSTM"):
        x, y = panel.curves[label].xData, panel.curves[label].yData
        shift = np.log10(x) - np.log10([2, 3])          # drawn a little sideways, never onto another lag
        assert shift[0] == pytest.approx(shift[1]) and 0 < abs(shift[0]) < 0.05 and all(0 <= v <= 1 for v in y)
    assert panel.curves["tanh RNN"].xData[0] != panel.curves["LSTM"].xData[0]
    assert panel.table.rowCount() == 2 and panel.table.item(0, 0).text() == "tanh RNN"
    assert set(panel.horizons()) == {"tanh RNN", "LSTM"}
    assert "Done" in panel.status_label.text() and panel.run_button.isEnabled()

    panel.save_csv(tmp_path / "h.csv")
    rows = list(csv.DictReader(open(tmp_path / "h.csv", encoding="utf-8")))
    assert len(rows) == 4 and {"arch", "lag", "seed", "accuracy", "reached"} <= set(rows[0])
    assert panel.save_png(tmp_path / "h.png") and (tmp_path / "h.png").stat().st_size > 1000


def test_by_default_a_bisection_trains_only_the_lags_it_needs(panel, qtbot):
    assert not panel.findChild(QCheckBox, "horizonEveryLagCheck").isChecked()
    # 20 iterations teach a tanh RNN nothing: the middle lag 3 fails, then lag 2; 5 is never trained.
    configure(panel, "2, 3, 5", steps=20, archs=("tanh",), every_lag=False)
    with qtbot.waitSignal(panel.sweepFinished, timeout=30_000) as finished:
        assert panel.start()
    assert finished.args == [False]
    assert [r.lag for r in panel.results] == [3, 2]
    assert panel.progress.value() == panel.progress.maximum() == len(panel.results)
    assert "Done" in panel.status_label.text()


def test_cancel_stops_a_long_sweep_promptly(panel, qtbot):
    configure(panel, "60, 80", steps=100_000, seeds=3, archs=("tanh", "relu"))
    panel.target_spin.setValue(1.0)
    with qtbot.waitSignal(panel.sweepStarted, timeout=10_000):
        assert panel.start()
    assert panel.running and panel.cancel_button.isEnabled()
    # Uncancelled, each run would train 100,000 iterations (minutes). Cancelling usually ends the
    # sweep within a second; the bound is loose because the shared machine may be loaded.
    with qtbot.waitSignal(panel.sweepFinished, timeout=30_000) as finished:
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args == [True]
    assert not panel.running and "Cancelled" in panel.status_label.text()
    assert panel.run_button.isEnabled()


def test_closing_mid_sweep_stops_cleanly(qtbot):
    widget = HorizonPanel()
    qtbot.addWidget(widget)
    configure(widget, "60", steps=100_000, archs=("tanh",))
    with qtbot.waitSignal(widget.sweepStarted, timeout=10_000):
        assert widget.start()
    assert widget.running
    widget.close()
    assert not widget.running
