"""The curves' bounded history, non-finite values, and the training loop without Qt."""

import math
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from rnnviz.gui.curves import (History, TrainingCurves, decade_ticks, linear_range, log_range, nice_ceil,
                               x_range)
from rnnviz.trainer import WARM_RATE, Trainer


def spectrum_ready(snapshot) -> bool:
    return snapshot.spectrum is not None
from rnnviz.settings import Settings


def rows(start, count, spike_at=None):
    it = np.arange(start, start + count, dtype=float)
    grad = np.ones(count)
    if spike_at is not None and start <= spike_at < start + count:
        grad[spike_at - start] = 1e9
    return {"iteration": it, "loss": np.full(count, 2.0), "smoothed": np.full(count, 2.0),
            "grad_before": grad, "grad_after": grad, "clipped": np.zeros(count)}


def test_history_memory_is_bounded_and_spikes_survive_thinning():
    h = History(capacity=1000)
    for start in range(0, 200_000, 250):
        h.append(rows(start, 250, spike_at=1234))
        assert len(h) <= 1000
    it = h.column("iteration")
    assert it[0] == 0 and it[-1] == 199_999 and np.all(np.diff(it) > 0)
    assert h.column("grad_before").max() == 1e9           # peak kept, not averaged away
    assert np.all(h.column("loss") == 2.0)


def test_axis_ranges_are_round_and_stable():
    assert nice_ceil(3) == 5 and nice_ceil(0.7) == 1 and nice_ceil(100) == 100
    assert x_range(0) == (0.0, 20.0) and x_range(120) == (0.0, 200.0) and x_range(3000) == (0.0, 5000.0)
    assert x_range(1900) == (0.0, 3000.0)
    assert log_range(0.02, 3.0) == (-2.0, 1.0) and log_range(1.2, 1.5) == (-1.0, 1.0)
    major, minor = decade_ticks(-3, 115)
    assert [label for _, label in major][:3] == ["1", "10²⁰", "10⁴⁰"]
    assert all(label == "" for _, label in minor)          # other decades: a tick, no crowded label
    assert sorted(v for v, _ in major + minor) == [float(e) for e in range(-3, 116)]
    assert [label for _, label in decade_ticks(-2, 1)[0]] == ["0.01", "0.1", "1", "10"]
    lo, hi = linear_range(0.013, 1.42)
    assert lo <= 0.013 and hi >= 1.42
    assert linear_range(1.0, 1.0)[0] < 1.0 < linear_range(1.0, 1.0)[1]


def snap(i, loss, grad, run=1, clipped=False, diverged=False):
    return SimpleNamespace(run=run, iteration=i, loss=loss, grad_norm=grad,
                           grad_norm_clipped=min(grad, 1.0) if clipped else grad, clipped=clipped,
                           settings=Settings(), diverged=diverged, diverged_at=i if diverged else None)


def test_curves_drop_non_finite_values_and_mark_the_divergence(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(800, 500)
    curves.show()
    curves.restart(snap(0, 1.4, 2.0))
    curves.show_snapshots((snap(1, 1.3, 5.0, clipped=True), snap(2, 6e100, 1e150),
                           snap(3, math.nan, math.inf, diverged=True)))
    curves.set_log_scale(True)
    curves.redraw()
    qtbot.wait(50)
    for item in (curves.raw_curve, curves.smooth_curve, curves.before_curve, curves.after_curve):
        x, y = item.getData()
        assert len(x) == 3 and np.all(np.isfinite(y))
    xs, ys = curves.clip_marks.xData, curves.clip_marks.yData   # the bar from ‖g‖ after to before
    assert list(xs) == [1, 1] and sorted(ys) == [1.0, 5.0]
    assert curves.diverged_lines[0].isVisible() and curves.diverged_lines[0].value() == 3
    curves.restart(snap(0, 1.4, 2.0, run=2))
    qtbot.waitUntil(lambda: not curves.diverged_lines[0].isVisible(), timeout=2000)   # next frame
    assert len(curves.history) == 1
    bars, _ = curves.clip_marks.getData()
    assert bars is None or len(bars) == 0     # the old run's bar is gone


@pytest.mark.parametrize("log_scale", [False, True])
def test_every_curve_reports_the_same_bounds_as_pyqtgraph_would(qtbot, log_scale):
    import pyqtgraph as pg
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(800, 500)
    curves.show()
    curves.restart(snap(0, 1.4, 2.0))
    curves.show_snapshots(tuple(snap(i, 1.0 / i, 10.0 / i, clipped=i % 3 == 0) for i in range(1, 40)))
    curves.set_log_scale(log_scale)
    curves.redraw()
    items = (curves.raw_curve, curves.smooth_curve, curves.before_curve, curves.after_curve, curves.clip_marks)
    for item in items:
        for axis in (0, 1):
            general = pg.PlotCurveItem.dataBounds(item.curve, axis)
            assert general[0] < general[1] and item.curve.dataBounds(axis) == general
    empty = TrainingCurves()    # no data yet: no bounds, as pyqtgraph says
    qtbot.addWidget(empty)
    assert empty.raw_curve.curve.dataBounds(1) == (None, None)


def test_curves_ignore_snapshots_of_an_old_run(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.restart(snap(0, 1.0, 1.0, run=2))
    curves.show_snapshots((snap(7, 1.0, 1.0, run=1),))
    assert len(curves.history) == 1


def events_until_stopped(trainer):
    return list(trainer.events())


def test_trainer_runs_queued_commands_in_order_without_qt():
    trainer = Trainer(Settings(hidden=8, lag=4, batch=4), max_in_flight=None)
    trainer.step()
    trainer.step()
    trainer.apply(Settings(hidden=8, lag=4, batch=4, lr=0.05))   # live
    trainer.step()
    trainer.apply(Settings(hidden=6, lag=4, batch=4, lr=0.05))   # structural: a new run
    trainer.step()
    trainer.stop()
    events = events_until_stopped(trainer)
    kinds = [k for k, _ in events]
    assert kinds[0] == "restarted" and kinds.count("restarted") == 2
    snaps = [s for k, p in events if k == "snapshots" for s in p]
    assert [s.iteration for s in snaps] == [1, 2, 3, 1]
    assert snaps[2].settings.lr == 0.05 and snaps[2].run == snaps[0].run
    assert snaps[3].run == snaps[0].run + 1 and snaps[3].recurrent.shape == (6, 6)


def test_trainer_plays_until_paused_and_stops_on_divergence():
    trainer = Trainer(Settings(activation="relu", init="normal", init_scale=3.0, optimizer="sgd", lr=0.1,
                               momentum=0.9, clip="none", hidden=32), max_in_flight=None)
    trainer.play()
    events = []
    for kind, payload in trainer.events():
        events.append((kind, payload))
        if kind == "state" and payload == "diverged":
            trainer.play()          # refused: still diverged
            trainer.stop()
    states = [p for k, p in events if k == "state"]
    assert states[-2:] == ["diverged", "diverged"]
    last = [s for k, p in events if k == "snapshots" for s in p][-1]
    assert last.diverged


def test_trainer_reports_engine_errors_instead_of_raising():
    def broken(settings, cancel):
        raise RuntimeError("no engine")

    trainer = Trainer(Settings(), broken)
    trainer.play()
    trainer.stop()
    events = events_until_stopped(trainer)
    assert events[0][0] == "error" and "no engine" in str(events[0][1])


def test_trainer_paces_to_the_requested_speed():
    """Never faster than asked (a loaded machine can only make it slower, so no lower bound)."""
    trainer = Trainer(Settings(hidden=8, lag=4, batch=4), max_in_flight=None)
    trainer.set_speed(50)
    trainer.play()
    snaps, start = [], time.perf_counter()
    for kind, payload in trainer.events():
        if kind == "snapshots":
            snaps.extend(payload)
            if len(snaps) >= 20:
                trainer.stop()
    elapsed = time.perf_counter() - start
    assert len(snaps) >= 20 and len(snaps) <= 50 * elapsed + 2


def test_worker_thread_emits_coalesced_batches(qtbot):
    from PySide6.QtCore import QObject, Slot

    from rnnviz.gui.worker import TrainingWorker

    worker = TrainingWorker(Settings(hidden=8, lag=4, batch=4))

    class Receiver(QObject):  # a QObject in this thread: its slots run here, queued
        batches, restarts = [], []

        @Slot(object)
        def snapshots(self, snaps):
            self.batches.append(snaps)
            worker.ack()

        @Slot(object)
        def restarted(self, snap):
            self.restarts.append(snap)

    receiver = Receiver()
    worker.snapshots.connect(receiver.snapshots)
    worker.restarted.connect(receiver.restarted)
    worker.start()
    try:
        qtbot.waitUntil(lambda: bool(receiver.restarts), timeout=5000)
        worker.set_speed(0)
        started = time.perf_counter()
        worker.play()
        qtbot.waitUntil(lambda: sum(len(b) for b in receiver.batches) > 200, timeout=10_000)
        elapsed = time.perf_counter() - started
    finally:
        assert worker.stop()
    sizes = [len(b) for b in receiver.batches]
    assert max(sizes) > 1                     # coalesced, not one signal per iteration
    its = [s.iteration for b in receiver.batches for s in b]
    assert its == list(range(1, len(its) + 1))
    # Spectra are computed in the worker, for a batch's newest snapshot, at most WARM_RATE a second.
    warmed = [spectrum_ready(b[-1]) for b in receiver.batches]
    assert spectrum_ready(receiver.restarts[0]) and any(warmed)
    assert sum(warmed) <= WARM_RATE * elapsed + 2
    assert not any(spectrum_ready(s) for b in receiver.batches for s in b[:-1])


def test_queued_settings_changes_collapse_into_the_last_one():
    from rnnviz.trainer import _coalesce

    a, b, c = Settings(hidden=4), Settings(hidden=5), Settings(hidden=6)
    commands = [("apply", (a, True)), ("step", None), ("apply", (b, True)), ("apply", (c, False))]
    assert _coalesce(commands) == [("apply", (a, True)), ("step", None), ("apply", (c, True))]
    assert _coalesce([("apply", (a, False))]) == [("apply", (a, False))]


def test_a_reset_builds_the_run_a_failed_first_build_left_out():
    """No session (the first build failed, or a Reset interrupted it): Reset builds one."""
    from rnnviz.session import Session

    calls = []

    def factory(settings, cancel):
        calls.append(settings)
        if len(calls) == 1:
            raise ValueError("not this time")
        return Session(settings, cancel)

    trainer = Trainer(Settings(hidden=4, lag=2, batch=2), factory, max_in_flight=None)
    trainer.reset()
    trainer.stop()
    kinds = [kind for kind, _ in trainer.events()]
    assert kinds.count("error") == 1 and kinds.count("restarted") == 1
    assert kinds.index("error") < kinds.index("restarted") and len(calls) == 2


def test_a_failed_rebuild_reports_and_keeps_the_old_run():
    from rnnviz.session import Session

    class Fragile(Session):
        def apply(self, settings, cancel=None):
            if settings.hidden == 13:
                raise ValueError("13 is unlucky")
            return super().apply(settings, cancel)

    trainer = Trainer(Settings(hidden=8, lag=4, batch=4), Fragile, max_in_flight=None)
    trainer.apply(Settings(hidden=13, lag=4, batch=4))
    trainer.step()
    trainer.stop()
    events = list(trainer.events())
    assert any(k == "error" and "unlucky" in str(p) for k, p in events)
    snaps = [s for k, p in events if k == "snapshots" for s in p]
    assert snaps[-1].settings.hidden == 8


def test_hovering_a_plot_shows_the_values_under_the_crosshair(qtbot):
    from PySide6.QtCore import QPointF

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(800, 500)
    curves.show()
    curves.restart(snap(0, 1.4, 2.0))
    curves.show_snapshots(tuple(snap(i, 1.0 / i, 0.5, clipped=False) for i in range(1, 30)))
    curves.redraw()
    qtbot.wait(20)
    view = curves.loss_plot.getPlotItem().vb
    curves._loss_cross._moved((view.mapViewToScene(QPointF(10.2, 0.0)),))
    assert curves.loss_hover.text().startswith("iteration 10: loss 0.1")
    assert curves._loss_cross.vline.isVisible()
    view = curves.grad_plot.getPlotItem().vb
    curves._grad_cross._moved((view.mapViewToScene(QPointF(3.0, 0.0)),))
    assert curves.grad_hover.text().startswith("iteration 3: ‖g‖ 0.5")
    curves._loss_cross._left()
    assert not curves._loss_cross.vline.isVisible()


def test_a_reset_discards_the_old_runs_unsent_snapshots():
    """Snapshots still waiting for the display when Reset arrives belong to a run about to be
    cleared: they are dropped, not sent (sending them only delays the new run)."""
    from rnnviz.session import Session

    def factory(settings, cancel):
        session = Session(settings, cancel)
        step = session.step

        def counted(cancel=None):
            snap = step(cancel)
            if snap.iteration == 5 and snap.run == 1:
                trainer.reset()
            return snap

        session.step = counted
        return session

    trainer = Trainer(Settings(hidden=8, lag=4, batch=4), factory, max_emit_rate=1e-3, max_in_flight=None)
    trainer.play()
    events = []
    for kind, payload in trainer.events():
        events.append((kind, payload))
        if kind == "restarted" and payload.run == 2:
            trainer.stop()
    kinds = [k for k, _ in events]
    assert kinds.count("restarted") == 2
    assert "snapshots" not in kinds
    assert events[-1] == ("state", "paused")


def test_trainer_sends_batches_no_more_often_than_the_emit_rate():
    trainer = Trainer(Settings(hidden=8, lag=4, batch=4), max_in_flight=None)
    trainer.set_emit_rate(10)
    trainer.play()
    batches, start = [], time.perf_counter()
    for kind, payload in trainer.events():
        if kind == "snapshots":
            batches.append(payload)
            if len(batches) == 5:
                trainer.stop()
    elapsed = time.perf_counter() - start
    assert len(batches) <= 10 * elapsed + 1
    assert sum(len(b) for b in batches) > len(batches)        # many iterations per batch


def test_a_batch_sent_on_step_or_pause_always_has_its_spectrum():
    """What stays on screen while paused must show its own ρ(W_H), whatever the warm-up rate."""
    trainer = Trainer(Settings(hidden=8, lag=4, batch=4), max_in_flight=None)
    for _ in range(3):
        trainer.step()
    trainer.stop()
    batches = [p for k, p in trainer.events() if k == "snapshots"]
    assert len(batches) == 3 and all(spectrum_ready(b[-1]) for b in batches)


def test_a_worker_training_on_its_thread_lets_the_gui_thread_take_the_gil_within_a_millisecond(qtbot):
    import sys

    from rnnviz.gui.worker import GIL_SWITCH_S, TrainingWorker
    from rnnviz.session import Session

    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    worker = TrainingWorker(Settings(hidden=4, lag=2, batch=2), session_factory=Session)
    try:
        worker.start()
        assert sys.getswitchinterval() == pytest.approx(GIL_SWITCH_S)
    finally:
        assert worker.stop()
        sys.setswitchinterval(before)


def test_after_answering_play_the_trainer_waits_for_the_gui_to_take_the_answer():
    """Training takes Python's GIL from its first step on: the answer to Play goes first."""
    import queue

    trainer = Trainer(Settings(hidden=8, lag=4, batch=4), max_in_flight=None, answer_wait=30.0)
    trainer.play()
    events: queue.SimpleQueue = queue.SimpleQueue()
    thread = threading.Thread(target=lambda: [events.put(e) for e in trainer.events()])
    thread.start()
    try:
        while events.get(timeout=10) != ("state", "playing"):
            pass
        thread.join(0.2)                        # a trainer that did not wait would be training by now
        assert events.empty()
        trainer.answer_taken()
        kind, payload = events.get(timeout=10)
        assert kind == "snapshots" and payload[0].iteration == 1
    finally:
        trainer.abort()
        thread.join(10)
    assert not thread.is_alive()


@pytest.mark.parametrize("log_scale", [False, True])
def test_toggling_the_log_scale_keeps_both_axes_on_round_ranges(qtbot, log_scale):
    """pyqtgraph's log-mode switch turns auto-range back on: the x axis would then follow the data
    exactly (0.98 … 39.02 here) until the next round step, and the y axis too."""
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(800, 500)
    curves.show()
    curves.set_log_scale(not log_scale)
    curves.restart(snap(0, 1.4, 2.0))
    curves.show_snapshots(tuple(snap(i, 1.0 / i, 10.0 / i) for i in range(1, 40)))
    curves.redraw()
    curves.set_log_scale(log_scale)
    curves.show_snapshots((snap(40, 0.02, 0.2),))
    curves.redraw()
    for plot in (curves.loss_plot, curves.grad_plot):
        (x0, x1), _ = plot.getPlotItem().vb.viewRange()
        assert (x0, x1) == pytest.approx(x_range(40)), plot.objectName()
    _, (y0, y1) = curves.loss_plot.getPlotItem().vb.viewRange()
    low, high = log_range(0.02, 1.4) if log_scale else linear_range(0.02, 1.4)
    pad = 0.02 * (high - low)
    assert (y0, y1) == pytest.approx((low - pad, high + pad))
