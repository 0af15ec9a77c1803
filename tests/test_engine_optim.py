"""Gradient clipping and the optimisers, against hand-computed values."""

import math

import numpy as np
import pytest

from rnnviz.engine.clipping import clip_gradients, global_norm
from rnnviz.engine.optimizers import SGD, Adam, make_optimizer


def random_grads(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return {"W_I": scale * rng.standard_normal((3, 5)), "W_H": scale * rng.standard_normal((5, 5)),
            "b": scale * rng.standard_normal(5)}


def flat(grads):
    return np.concatenate([g.ravel() for g in grads.values()])


# -- clipping ---------------------------------------------------------------------------------------

def test_global_norm_is_the_norm_of_all_gradients_stacked():
    grads = random_grads()
    assert global_norm(grads) == pytest.approx(np.linalg.norm(flat(grads)), rel=1e-14)


def test_norm_clipping_rescales_to_the_threshold_and_keeps_the_direction():
    grads = random_grads(scale=10.0)
    before = flat(grads).copy()
    arrays = {k: id(v) for k, v in grads.items()}
    result = clip_gradients(grads, "norm", 1.0)
    assert result.clipped
    assert result.norm_before == pytest.approx(np.linalg.norm(before))
    assert result.norm_after == pytest.approx(1.0, rel=1e-12)
    assert np.linalg.norm(flat(grads)) == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(flat(grads), before / np.linalg.norm(before), rtol=1e-12)
    assert {k: id(v) for k, v in grads.items()} == arrays          # in place


def test_norm_clipping_leaves_small_gradients_alone():
    grads = random_grads(scale=0.01)
    before = flat(grads).copy()
    result = clip_gradients(grads, "norm", 1.0)
    assert not result.clipped and result.norm_after == result.norm_before
    np.testing.assert_array_equal(flat(grads), before)


def test_value_clipping_caps_every_element():
    grads = random_grads(scale=3.0)
    before = flat(grads).copy()
    result = clip_gradients(grads, "value", 0.5)
    after = flat(grads)
    assert result.clipped and np.abs(after).max() <= 0.5
    np.testing.assert_array_equal(after, np.clip(before, -0.5, 0.5))
    assert result.norm_after == pytest.approx(np.linalg.norm(after))
    assert result.norm_after < result.norm_before
    assert not clip_gradients(random_grads(scale=1e-3), "value", 0.5).clipped


def test_none_reports_the_norm_and_changes_nothing():
    grads = random_grads()
    before = flat(grads).copy()
    result = clip_gradients(grads, "none", 1e-9)
    assert not result.clipped and result.norm_before == result.norm_after == pytest.approx(
        np.linalg.norm(before))
    np.testing.assert_array_equal(flat(grads), before)


@pytest.mark.parametrize("bad, expected", [(np.inf, math.inf), (np.nan, math.nan)])
@pytest.mark.parametrize("mode", ["none", "value", "norm"])
def test_infinite_and_nan_gradients_are_reported_not_raised(mode, bad, expected):
    grads = random_grads()
    grads["W_H"][1, 2] = bad
    result = clip_gradients(grads, mode, 1.0)
    if math.isnan(expected):
        assert math.isnan(result.norm_before)
    else:
        assert result.norm_before == math.inf
    if mode == "norm":                             # cannot rescale by τ/∞: left alone, not clipped
        assert not result.clipped
        assert not np.isfinite(grads["W_H"][1, 2])


def test_value_clipping_caps_an_infinite_element():
    grads = random_grads()
    grads["b"][0] = -np.inf
    result = clip_gradients(grads, "value", 1.0)
    assert result.clipped and grads["b"][0] == -1.0 and math.isfinite(result.norm_after)


def test_a_huge_but_finite_norm_stays_finite_and_clips():
    grads = random_grads(scale=1e200)             # Σ g² overflows, ‖g‖ does not
    expected = 1e200 * np.linalg.norm(flat(random_grads()))
    assert global_norm(grads) == pytest.approx(expected, rel=1e-12)
    result = clip_gradients(grads, "norm", 1.0)
    assert result.clipped and result.norm_after == pytest.approx(1.0)


@pytest.mark.parametrize("mode, threshold, words", [
    ("sometimes", 1.0, "none, value, norm"),
    ("norm", 0.0, "> 0"),
    ("value", -1.0, "> 0"),
    ("norm", float("nan"), "> 0"),
])
def test_bad_clipping_arguments_raise(mode, threshold, words):
    with pytest.raises(ValueError, match=words):
        clip_gradients(random_grads(), mode, threshold)


def test_clipping_keeps_float32():
    grads = {k: v.astype(np.float32) for k, v in random_grads(scale=10.0).items()}
    clip_gradients(grads, "norm", 1.0)
    assert all(g.dtype == np.float32 for g in grads.values())


# -- SGD --------------------------------------------------------------------------------------------

def test_sgd_without_momentum_is_plain_gradient_descent():
    theta = {"w": np.array([1.0, 2.0])}
    array = theta["w"]
    SGD(0.1).step(theta, {"w": np.array([0.5, -1.0])})
    np.testing.assert_allclose(theta["w"], [0.95, 2.1], rtol=1e-15)
    assert theta["w"] is array                                  # in place


def test_sgd_momentum_by_hand():
    theta = {"w": np.array([1.0, 2.0])}
    g = {"w": np.array([0.5, -1.0])}
    opt = SGD(0.1, momentum=0.9)
    opt.step(theta, g)            # v = −0.1 g = [−0.05, 0.1];          θ = [0.95, 2.1]
    opt.step(theta, g)            # v = 0.9 v − 0.1 g = [−0.095, 0.19]; θ = [0.855, 2.29]
    np.testing.assert_allclose(theta["w"], [0.855, 2.29], rtol=1e-14)


def test_live_changes_and_reset():
    theta = {"w": np.array([1.0])}
    g = {"w": np.array([1.0])}
    opt = make_optimizer("sgd", 0.1, momentum=0.5)
    opt.step(theta, g)                                          # v = −0.1, θ = 0.9
    opt.lr, opt.momentum = 0.2, 0.0
    opt.step(theta, g)                                          # v = −0.2, θ = 0.7
    assert theta["w"][0] == pytest.approx(0.7)
    opt.momentum = 0.5
    opt.reset()                                                 # v forgotten
    opt.step(theta, g)                                          # v = −0.2, θ = 0.5
    assert theta["w"][0] == pytest.approx(0.5)


# -- Adam -------------------------------------------------------------------------------------------

def test_adam_first_step_is_lr_times_sign():
    theta = {"w": np.array([0.0, 0.0, 0.0])}
    g = {"w": np.array([1e-9, -3.0, 250.0])}                   # any size: m̂/√v̂ = sign(g)
    Adam(0.01).step(theta, g)
    np.testing.assert_allclose(theta["w"], -0.01 * g["w"] / (np.abs(g["w"]) + 1e-8), rtol=1e-12)
    theta = {"w": np.array([0.0, 0.0])}
    Adam(0.01).step(theta, {"w": np.array([0.5, -2.0])})
    np.testing.assert_allclose(theta["w"], [-0.01, 0.01], rtol=1e-7)


def test_adam_two_steps_by_hand():
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.1
    g1, g2 = 0.5, -0.2
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1 ** 2
    theta = 1.0 - lr * (m1 / (1 - b1)) / (math.sqrt(v1 / (1 - b2)) + eps)
    m2, v2 = b1 * m1 + (1 - b1) * g2, b2 * v1 + (1 - b2) * g2 ** 2
    theta -= lr * (m2 / (1 - b1 ** 2)) / (math.sqrt(v2 / (1 - b2 ** 2)) + eps)
    params = {"w": np.array([1.0])}
    opt = make_optimizer("adam", lr)
    opt.step(params, {"w": np.array([g1])})
    opt.step(params, {"w": np.array([g2])})
    assert params["w"][0] == pytest.approx(theta, rel=1e-14)
    opt.reset()
    assert opt.t == 0


def test_optimizers_keep_float32_and_update_every_parameter():
    params = {k: v.astype(np.float32) for k, v in random_grads(1).items()}
    before = {k: v.copy() for k, v in params.items()}
    grads = {k: v.astype(np.float32) for k, v in random_grads(2).items()}
    for opt in (SGD(0.1, 0.9), Adam(0.01)):
        opt.step(params, grads)
        assert all(p.dtype == np.float32 for p in params.values())
    assert all(not np.array_equal(params[k], before[k]) for k in params)


@pytest.mark.parametrize("call, words", [
    (lambda: make_optimizer("rmsprop", 0.1), "sgd, adam"),
    (lambda: make_optimizer("sgd", -0.1), "lr"),
    (lambda: make_optimizer("sgd", 0.1, momentum=1.0), "momentum"),
    (lambda: Adam(0.1, beta1=1.5), "beta1"),
])
def test_bad_optimizer_arguments_raise(call, words):
    with pytest.raises(ValueError, match=words):
        call()
