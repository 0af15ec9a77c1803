"""Comparison mode: two runs on the same seed and data, stepped together by one worker."""

import numpy as np

from rnnviz.gui.compare import ComparisonView, PairSession, same_data
from rnnviz.presets import load_preset
from rnnviz.settings import Settings


def test_pair_session_sees_the_same_batches():
    a = Settings(lag=5, hidden=4, batch=4, seed=3)
    b = Settings(lag=9, hidden=6, batch=8, seed=1, arch="lstm")
    assert same_data(a, b).lag == 5 and same_data(a, b).seed == 3 and same_data(a, b).arch == "lstm"
    pair = PairSession(a, b)
    for _ in range(3):
        snap = pair.step()
    assert snap.a.iteration == snap.b.iteration == 3
    xa, ta = pair.a._batch
    xb, tb = pair.b._batch
    assert np.array_equal(xa, xb) and np.array_equal(ta, tb)


def test_a_diverged_run_stops_while_the_other_goes_on():
    pair = PairSession(load_preset("exploding").settings, load_preset("clipping").settings)
    for _ in range(30):
        snap = pair.step()
    assert snap.a.diverged and not snap.b.diverged and not snap.diverged
    assert snap.b.iteration == 30 and snap.a.iteration < 30


def test_comparison_view_steps_both_runs(qtbot):
    view = ComparisonView(pair=("vanishing", "lstm"))
    qtbot.addWidget(view)
    view.names = ("vanishing", "lstm")
    view.resize(1000, 700)
    view.show()
    assert view.objectName() == "comparisonView"
    qtbot.waitUntil(lambda: view.run_id is not None, timeout=10000)
    view.step_button.click()
    view.step_button.click()
    qtbot.waitUntil(lambda: all(t.last is not None and t.last.iteration == 2 for t in view.tracks),
                    timeout=10000)
    view.redraw()
    assert "Iteration 2" in view.iteration_label.text()
    assert "LSTM" in view.status[1].text() and "tanh RNN" in view.status[0].text()
    view.set_pair("exploding", "clipping")
    qtbot.waitUntil(lambda: view.tracks[0].last is not None
                    and view.tracks[0].last.settings.activation == "relu", timeout=10000)
    view.close()
    assert view.worker is None


def test_compare_smooths_the_loss_as_the_training_curves_do(qtbot):
    """One smoothing rule: "smoothed" means the same curve in both places."""
    from rnnviz.gui.compare import _Track
    from rnnviz.gui.curves import TrainingCurves
    from rnnviz.session import Session

    session = Session(Settings(hidden=8, lag=4, batch=4, lr=0.05))
    snaps = (session.snapshot(), *session.run(30))
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.restart(snaps[0])
    curves.show_snapshots(snaps[1:])
    track = _Track()
    for snap in snaps:
        track.add(snap)
    np.testing.assert_allclose(track.array("smoothed"), curves.history.column("smoothed"))
