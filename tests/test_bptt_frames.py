"""The BPTT stepper's frames against the engine's own forward and backward pass (no Qt)."""

import numpy as np
import pytest

from rnnviz.bptt_frames import BACKWARD, FORWARD, LOSS, BPTTFrames, num
from rnnviz.session import Session
from rnnviz.settings import Settings

ARCHS = ("rnn", "skip", "lstm")


def inspect(arch="rnn", lag=8, hidden=12, batch=5, steps=3, **changes):
    session = Session(Settings(task="recall", arch=arch, lag=lag, hidden=hidden, batch=batch, skip=3,
                               seed=1, **changes))
    for _ in range(steps):
        session.step()
    return session.inspect()


@pytest.fixture(scope="module", params=ARCHS)
def case(request):
    inspection = inspect(request.param)
    return inspection, BPTTFrames(inspection, example=2)


def relative(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_frame_count_and_order(case):
    inspection, frames = case
    T = inspection.x.shape[0]
    assert frames.T == T and len(frames) == frames.n_frames == 2 * T + 1
    kinds = [frames.kind_and_step(i) for i in range(2 * T + 1)]
    assert kinds[:T] == [(FORWARD, t) for t in range(1, T + 1)]
    assert kinds[T] == (LOSS, T)
    assert kinds[T + 1:] == [(BACKWARD, t) for t in range(T, 0, -1)]
    with pytest.raises(IndexError):
        frames.kind_and_step(2 * T + 1)


def test_running_sum_at_the_last_frame_is_the_engines_gradient(case):
    inspection, frames = case
    engine = inspection.trace.grads["W_H"]
    last = frames.running_sum(frames.n_frames - 1)
    assert relative(last, engine) < 1e-12
    assert frames.gradient_error < 1e-12
    assert np.isclose(frames.running_sum_norm[0], np.linalg.norm(engine), rtol=1e-12)
    assert "full gradient" in frames.frame(frames.n_frames - 1).text


def test_running_sum_midway_is_the_sum_of_the_engines_later_terms(case):
    inspection, frames = case
    T = frames.T
    t = T // 2
    index = 2 * T + 1 - t                          # the backward frame of step t
    assert frames.kind_and_step(index) == (BACKWARD, t)
    assert np.allclose(frames.contribution_norm_batch, inspection.trace.contribution_norms("W_H"), rtol=1e-9)
    terms = inspection.trace.grad_by_step["W_H"]
    assert relative(frames.running_sum(index), terms[t - 1:].sum(axis=0)) < 1e-12
    assert not frames.running_sum(T).any()         # nothing summed before the backward pass


def test_forward_frames_recompute_the_engines_forward_pass(case):
    inspection, frames = case
    b = frames.example
    assert frames.forward_error < 1e-12           # x_t W_I + h_{t-1} W_H [+ h_{t-k} W_S] + b = trace.pre
    for t in (1, frames.T):
        np.testing.assert_array_equal(frames.h(t), inspection.trace.hidden[t, b])
        np.testing.assert_array_equal(frames.a(t), inspection.trace.pre[t - 1, b])
    assert np.allclose(frames.hidden_norm, np.linalg.norm(inspection.trace.hidden[1:, b], axis=1))
    assert "a_t = x_t W_I + h_(t−1) W_H" in frames.frame(0).text


def test_jacobians_carry_delta_back_exactly(case):
    """δ_{t-1} = δ_t J_t (+ the skip path), and for the LSTM on the full state (h, c)."""
    inspection, frames = case
    trace, b, H, T = inspection.trace, frames.example, frames.hidden_size, frames.T
    dh = trace.dh[:, b]
    for t in range(T, 1, -1):
        J = frames.jacobian(t)
        if frames.arch == "lstm":
            state = np.concatenate([dh[t - 1], frames.dc_cell[t - 1]])
            reached = state @ J
            np.testing.assert_allclose(reached[:H], dh[t - 2], rtol=1e-9, atol=1e-15)
            np.testing.assert_allclose(reached[H:], frames.dc_cell[t - 2], rtol=1e-9, atol=1e-15)
            # the engine's dcell is the total ∂L/∂c_t: the cell path plus the path through h_t
            o, c = trace.gates[t - 1, b, 3 * H:], trace.cell[t, b]
            total = frames.dc_cell[t - 1] + dh[t - 1] * o * (1 - np.tanh(c) ** 2)
            np.testing.assert_allclose(total, trace.dcell[t - 1, b], rtol=1e-9, atol=1e-15)
        else:
            reached = dh[t - 1] @ J
            k = frames.skip
            if k is not None and t - 1 + k <= T:
                reached = reached + trace.da[t - 2 + k, b] @ inspection.params["W_S"].T
            np.testing.assert_allclose(reached, dh[t - 2], rtol=1e-9, atol=1e-15)


def test_backward_frames_say_what_the_architecture_does(case):
    _, frames = case
    text = frames.frame(frames.T + 2).text
    assert "δ_t = ∂L/∂h_t ⊙ tanh′(a_t)" in text or frames.arch == "lstm"
    assert "‖J_T ⋯ J_t‖₂" in text and "running sum" in text
    if frames.arch == "lstm":
        assert "cell path" in text and "not diag(f′) W_Hᵀ" in text     # in the Jacobian's remark
    else:
        assert "J_t = ∂h_t/∂h_(t−1) = diag(f′(a_t)) W_Hᵀ" in text
    if frames.arch == "skip":
        assert "skip path" in text


def test_product_of_small_tanh_factors_shrinks():
    inspection = inspect("rnn", lag=20, init_scale=0.3, steps=0)
    frames = BPTTFrames(inspection)
    assert (frames.jacobian_norm < 1).all()
    backward = frames.product_norm[::-1]           # t = T, T-1, ..., 1
    assert (np.diff(backward) < 0).all()
    assert backward[-1] < 1e-3 * backward[0]


def test_example_out_of_range_and_number_format():
    inspection = inspect("rnn", lag=3, batch=2, steps=0)
    with pytest.raises(ValueError, match="example"):
        BPTTFrames(inspection, example=2)
    assert num(1.5e-7) == "1.50·10⁻⁷" and num(0.25) == "0.25" and num(float("inf")) == "∞"


def test_on_a_diverged_model_the_last_frame_says_the_gradient_is_not_finite():
    from rnnviz.presets import load_preset

    session = Session(load_preset("exploding").settings)
    for _ in session.run(2000):
        pass
    assert session.diverged
    frames = BPTTFrames(session.inspect(), example=0)
    text = frames.frame(frames.n_frames - 1).text
    assert "not finite" in text and "relative difference" not in text


@pytest.mark.parametrize("task", ["recall", "sine"])
def test_readout_and_loss_are_the_tasks(task):
    """Issue 14: whether y_T alone or every y_t is scored is the task's to say, not the arrays' shapes."""
    from rnnviz.engine.tasks import TASKS
    from rnnviz.gui.unrolled_view import readout_of

    session = Session(Settings(task=task, lag=4, seq_len=6, hidden=6, batch=3))
    frames = BPTTFrames(session.inspect())
    assert (frames.readout, frames.loss_kind) == (TASKS[task].readout, TASKS[task].loss)
    assert readout_of(session.settings) == TASKS[task].readout
    assert {TASKS[name].readout for name in TASKS} == {"last", "all"}    # both kinds are exercised
    assert "mean over t" in frames.frame(frames.T).text or frames.readout == "last"


@pytest.mark.parametrize("arch", ARCHS)
def test_an_inspection_is_the_pass_the_latest_snapshot_shows(arch):
    """After training, the stepper sees the iteration the paused diagram holds: the same batch and
    the weights before that iteration's update, so its batch numbers are the snapshot's own."""
    session = Session(Settings(task="recall", arch=arch, lag=6, hidden=8, batch=4, skip=3, seed=3))
    for _ in range(3):
        snapshot = session.step()
    weights = {name: w.copy() for name, w in session.model.params.items()}
    frames = BPTTFrames(session.inspect())
    assert frames.loss == snapshot.loss
    np.testing.assert_array_equal(frames.dh_norm_batch, snapshot.dh_norms)
    np.testing.assert_array_equal(frames.hidden_rms_batch, snapshot.hidden_rms)
    np.testing.assert_array_equal(frames.contribution_norm_batch, snapshot.contribution_norms)
    for name, w in session.model.params.items():        # the model itself is untouched
        np.testing.assert_array_equal(w, weights[name])
    assert not np.array_equal(frames.inspection.params["W_H"], weights["W_H"])   # the weights before the update
