import math

import numpy as np
import pytest

from rnnviz.presets import load_preset
from rnnviz.session import Session
from rnnviz.settings import Settings

SMALL = Settings(task="recall", lag=5, hidden=8, batch=4)


def test_initial_snapshot_describes_the_fresh_model():
    session = Session(SMALL)
    snap = session.snapshot()
    assert snap.iteration == 0 and snap.status == "ok" and math.isfinite(snap.loss)
    T = SMALL.lag + 2
    assert snap.contribution_norms.shape == (T,) and snap.dh_norms.shape == (T,)
    assert snap.eigenvalues.shape == (SMALL.hidden,)
    assert snap.spectral_radius == pytest.approx(max(abs(np.linalg.eigvals(session.model.params["W_H"]))))
    assert snap.max_singular == pytest.approx(np.linalg.norm(session.model.params["W_H"], 2))


def test_step_advances_and_snapshots_are_immutable_copies():
    session = Session(SMALL)
    first = session.step()
    before = first.recurrent.copy()
    second = session.step()
    assert (first.iteration, second.iteration) == (1, 2)
    np.testing.assert_array_equal(first.recurrent, before)   # later updates did not leak in
    assert not np.shares_memory(first.recurrent, session.model.params["W_H"])
    with pytest.raises(ValueError):
        first.contribution_norms[0] = 1.0
    with pytest.raises(Exception):
        first.loss = 0.0


def test_snapshot_norms_match_a_full_inspection():
    session = Session(SMALL)
    session.step()
    inspection = session.inspect()
    trace = inspection.trace
    by_step = trace.grad_by_step["W_H"]
    np.testing.assert_allclose(by_step.sum(axis=0), trace.grads["W_H"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(trace.contribution_norms("W_H"),
                               np.linalg.norm(by_step.reshape(len(by_step), -1), axis=1), rtol=1e-9)
    assert len(inspection.step_labels) == SMALL.lag + 2


def test_clipping_is_reported():
    session = Session(SMALL.replace(clip="norm", clip_threshold=1e-6))
    snap = session.step()
    assert snap.clipped and snap.clip_events == 1
    assert snap.grad_norm > 1e-6 and snap.grad_norm_clipped == pytest.approx(1e-6)
    assert snap.max_grad_norm == snap.grad_norm


def test_reset_reproduces_the_run_bit_for_bit():
    session = Session(SMALL.replace(optimizer="sgd", lr=0.1))
    losses = [s.loss for s in session.run(20)]
    weights = session.model.params["W_H"].copy()
    session.reset()
    assert session.iteration == 0
    assert [s.loss for s in session.run(20)] == losses
    np.testing.assert_array_equal(session.model.params["W_H"], weights)
    assert [s.loss for s in Session(session.settings).run(20)] == losses


def test_live_changes_keep_the_run_structural_ones_restart_it():
    session = Session(SMALL)
    session.step()
    assert session.update(lr=0.05, clip="value", clip_threshold=0.5) is False
    assert session.iteration == 1 and session.optimizer.lr == 0.05
    assert session.snapshot().settings.lr == 0.05
    assert session.update(optimizer="sgd", momentum=0.5) is False
    assert type(session.optimizer).__name__ == "SGD" and session.optimizer.momentum == 0.5
    run = session.snapshot().run
    assert session.update(hidden=6) is True
    assert session.iteration == 0 and session.snapshot().run == run + 1
    assert session.model.params["W_H"].shape == (6, 6)


def test_exploding_preset_diverges_and_then_stands_still():
    session = Session(load_preset("exploding").settings)
    last = None
    for last in session.run(500):
        pass
    assert last.diverged and last.status == "diverged"
    assert last.diverged_at == last.iteration and "became" in last.divergence
    assert session.step() is last                 # nothing happens until reset
    assert not session.reset().diverged


def test_divergence_from_a_huge_learning_rate_is_a_state_not_an_exception():
    session = Session(SMALL.replace(activation="linear", init="identity", init_scale=3.0,
                                    optimizer="sgd", lr=10.0, momentum=0.0, clip="none"))
    snaps = list(session.run(200))
    assert snaps[-1].diverged, [s.loss for s in snaps[-5:]]
    assert snaps[-1].divergence


def test_evaluate_uses_fresh_held_out_data_without_changing_the_model():
    session = Session(SMALL)
    weights = {k: w.copy() for k, w in session.model.params.items()}
    result = session.evaluate(64)
    assert 0.0 <= result["accuracy"] <= 1.0 and math.isfinite(result["loss"])
    for k, w in session.model.params.items():
        np.testing.assert_array_equal(w, weights[k])


@pytest.mark.parametrize("task", ["adding", "sine", "text", "sentence"])
def test_every_task_trains_a_few_steps(task):
    session = Session(Settings(task=task, seq_len=12, lag=4, hidden=8, batch=4))
    snap = list(session.run(3))[-1]
    assert snap.iteration == 3 and math.isfinite(snap.loss)
    assert (snap.accuracy is None) == (session.task.chance is None)


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
def test_every_architecture_trains(arch):
    session = Session(SMALL.replace(arch=arch, skip=2))
    snap = list(session.run(3))[-1]
    assert snap.eigenvalues.shape == (SMALL.hidden,) and math.isfinite(snap.loss)


def test_clipping_preset_stays_finite_where_exploding_diverges():
    session = Session(load_preset("clipping").settings)
    snaps = list(session.run(150))
    assert not snaps[-1].diverged and snaps[-1].iteration == 150
    assert snaps[-1].clip_events > 100                 # nearly every step needed it
    assert np.mean([s.loss for s in snaps[-20:]]) < 0.5 * snaps[0].loss  # and learned anyway


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
@pytest.mark.parametrize("task", ["recall", "adding", "text"])   # ce and mse; readout last and all
def test_chunked_evaluation_scores_exactly_as_one_pass(arch, task):
    settings = Settings(task=task, arch=arch, seq_len=12, lag=4, hidden=8, batch=8, seed=3)
    trained, plain = Session(settings), Session(settings)
    for session in (trained, plain):   # the same trained model and held-out stream in both
        list(session.run(20))
    for batch_size, chunk in [(300, 128), (300, 7), (64, 128)]:
        chunked, whole = trained.evaluate(batch_size, chunk=chunk), plain.evaluate(batch_size, chunk=None)
        assert chunked["accuracy"] == whole["accuracy"]            # the same counts
        assert chunked["loss"] == pytest.approx(whole["loss"], rel=1e-12, abs=0.0)
