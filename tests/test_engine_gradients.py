"""BPTT is exact: the engine's gradients against finite differences and an independent autograd.

Every arch (rnn, skip, lstm) × activation (rnn/skip) × loss × readout, on tiny sizes in float64.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from autograd_reference import reference_gradients, reference_pass
from rnnviz.engine import ACTIVATIONS, build_model

T, B, I, H, O = 5, 3, 3, 4, 3
K = 2  # skip length in the grid: with T = 5, steps 3..5 use W_S

CASES = ([("rnn", act) for act in ACTIVATIONS] + [("skip", act) for act in ACTIVATIONS]
         + [("lstm", "tanh")])
GRID = [(arch, act, loss, readout) for arch, act in CASES for loss in ("ce", "mse")
        for readout in ("last", "all")]


def _ids(case):
    return "-".join(case)


def make_problem(arch, activation, loss, readout, seed=0, sizes=(T, B, I, H, O), skip=K):
    """A model with every parameter random (no zero biases, no special structure), inputs, targets.

    For ReLU, seeds are tried until every pre-activation is at least 1e-3 away from the kink, so
    central differences with step 1e-6 never cross it.
    """
    T_, B_, I_, H_, O_ = sizes
    for attempt in range(100):
        rng = np.random.default_rng(1000 * seed + attempt)
        model = build_model(arch, I_, H_, O_, activation=activation, skip=skip if arch == "skip" else None,
                            seed=seed)
        for name, value in model.params.items():
            value[...] = rng.normal(scale=0.6, size=value.shape)
        x = rng.normal(size=(T_, B_, I_))
        target_shape = (B_,) if readout == "last" else (T_, B_)
        target = (rng.integers(0, O_, size=target_shape) if loss == "ce"
                  else rng.normal(size=target_shape + (O_,)))
        trace = model.forward_backward(x, target, loss=loss, readout=readout)
        if activation != "relu" or arch == "lstm" or np.abs(trace.pre).min() > 1e-3:
            return model, x, target, trace
    raise AssertionError("no kink-free ReLU problem found")


def finite_difference_grads(model, x, target, loss, readout, eps=1e-6):
    """Central differences (L(θ + ε) − L(θ − ε)) / 2ε for every entry of every parameter."""
    grads = {}
    for name, value in model.params.items():
        g = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + eps
            up = model.forward_backward(x, target, loss=loss, readout=readout).loss
            value[index] = saved - eps
            down = model.forward_backward(x, target, loss=loss, readout=readout).loss
            value[index] = saved
            g[index] = (up - down) / (2 * eps)
        grads[name] = g
    return grads


def relative_error(a, b):
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return np.linalg.norm(a - b) / scale if scale > 0 else 0.0


@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_gradients_match_finite_differences(case):
    arch, activation, loss, readout = case
    model, x, target, trace = make_problem(*case)
    numeric = finite_difference_grads(model, x, target, loss, readout)
    assert list(trace.grads) == list(model.params)
    for name, g in trace.grads.items():
        assert g.shape == model.params[name].shape
        assert np.linalg.norm(numeric[name]) > 0, name
        assert relative_error(g, numeric[name]) < 1e-6, name


@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_gradients_and_totals_match_reference_autograd(case):
    """Loss, every gradient and the totals ∂L/∂h_t, ∂L/∂a_t (∂L/∂c_t) agree with plain autograd."""
    arch, activation, loss, readout = case
    model, x, target, trace = make_problem(*case)
    L, grads, nodes = reference_gradients(arch, model.params, x, target, activation=activation,
                                          skip=model.skip, loss=loss, readout=readout)
    assert trace.loss == pytest.approx(L, rel=1e-13)
    for name, g in grads.items():
        assert relative_error(trace.grads[name], g) < 1e-10, name
    dh = np.stack([nodes["h"][t].grad for t in range(1, T + 1)])
    da = np.stack([nodes["a"][t].grad for t in range(1, T + 1)])
    assert relative_error(trace.dh, dh) < 1e-10
    assert relative_error(trace.da, da) < 1e-10
    hidden = np.stack([nodes["h"][t].value for t in range(T + 1)])
    np.testing.assert_allclose(trace.hidden, hidden, rtol=1e-13, atol=1e-15)
    if arch == "lstm":
        dcell = np.stack([nodes["c"][t].grad for t in range(1, T + 1)])
        assert relative_error(trace.dcell, dcell) < 1e-10
        np.testing.assert_allclose(trace.cell, np.stack([nodes["c"][t].value for t in range(T + 1)]),
                                   rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
@pytest.mark.parametrize("readout", ["last", "all"])
def test_dh_matches_finite_differences_of_a_perturbed_hidden_state(arch, readout):
    """trace.dh[t−1] = ∂L/∂h_t: nudge h_t inside the reference forward and watch L."""
    model, x, target, trace = make_problem(arch, "tanh", "ce", readout)
    eps = 1e-6
    options = dict(activation="tanh", skip=model.skip, loss="ce", readout=readout)
    for t in range(1, T + 1):
        numeric = np.zeros((B, H))
        for index in np.ndindex(B, H):
            bump = np.zeros((B, H))
            bump[index] = eps
            up = reference_pass(arch, model.params, x, target, perturb=(t, bump), **options)[0].value
            down = reference_pass(arch, model.params, x, target, perturb=(t, -bump), **options)[0].value
            numeric[index] = (up - down) / (2 * eps)
        assert relative_error(trace.dh[t - 1], numeric) < 1e-6, t


@pytest.mark.parametrize("arch, activation", CASES, ids=_ids)
@pytest.mark.parametrize("readout", ["last", "all"])
def test_grad_by_step_sums_to_grads(arch, activation, readout):
    """The lecture's claim: ∂L/∂W = Σ_t (contribution of step t), for every shared weight."""
    model, x, target, trace = make_problem(arch, activation, "mse", readout)
    expected = {"W_I", "W_H", "b"} | ({"W_S"} if arch == "skip" else set())
    assert set(trace.grad_by_step) == expected
    for name, terms in trace.grad_by_step.items():
        assert terms.shape == (T,) + model.params[name].shape
        assert relative_error(terms.sum(axis=0), trace.grads[name]) < 1e-12, name
    x_t, h_prev, delta = x[2], trace.hidden[2], trace.da[2]  # step t = 3
    np.testing.assert_allclose(trace.grad_by_step["W_H"][2], h_prev.T @ delta, rtol=1e-14)
    np.testing.assert_allclose(trace.grad_by_step["W_I"][2], x_t.T @ delta, rtol=1e-14)
    if arch == "skip":
        assert not trace.grad_by_step["W_S"][:K].any()          # h_{t-k} = 0 for t ≤ k
        np.testing.assert_allclose(trace.grad_by_step["W_S"][2], trace.hidden[3 - K].T @ delta, rtol=1e-14)


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
@pytest.mark.parametrize("batch", [2, 3, 40], ids=lambda b: f"B{b}")
@pytest.mark.parametrize("cached", [False, True], ids=["gram", "after-grad_by_step"])
def test_contribution_norms_equal_norms_of_grad_by_step(arch, batch, cached):
    """Both the Gram-matrix shortcut (small B) and the direct route give ‖grad_by_step[name][t]‖_F."""
    sizes = (6, batch, 3, 8, 3)
    model, x, target, _ = make_problem(arch, "tanh", "ce", "all", sizes=sizes)
    trace = model.forward_backward(x, target, loss="ce", readout="all")
    fresh = model.forward_backward(x, target, loss="ce", readout="all")
    if cached:
        trace.grad_by_step  # noqa: B018  (computed first: norms are read off it)
    for name, terms in fresh.grad_by_step.items():
        expected = np.sqrt((terms.reshape(terms.shape[0], -1) ** 2).sum(axis=1))
        norms = trace.contribution_norms(name)
        assert norms.shape == (6,)
        np.testing.assert_allclose(norms, expected, rtol=1e-10, atol=1e-14 * expected.max())
    # The pass itself measured W_H's terms, whatever the sizes and the path.
    assert set(trace.term_norms) == {"W_H"}
    # B = 2 takes the Gram route for every weight; B = 3 materialises W_I's terms (3·(3 + n) ≥ 3n).
    assert ("grad_by_step" in trace.__dict__) == (cached or batch > 2)
    np.testing.assert_allclose(trace.dh_norms, np.sqrt((trace.dh ** 2).sum(axis=(1, 2))), rtol=1e-14)


def test_contribution_norms_reject_unknown_names():
    model, x, target, trace = make_problem("rnn", "tanh", "ce", "last")
    with pytest.raises(ValueError, match="W_S"):
        trace.contribution_norms("W_S")
    with pytest.raises(ValueError, match="W_O"):
        trace.contribution_norms("W_O")


@pytest.mark.parametrize("k", [T - 1, T, T + 3])
def test_skip_longer_than_the_sequence(k):
    """k ≥ T: no step reaches back k steps, so W_S gets no gradient, and the pass is still exact."""
    model, x, target, trace = make_problem("skip", "tanh", "ce", "all", skip=k)
    numeric = finite_difference_grads(model, x, target, "ce", "all")
    for name in trace.grads:
        assert np.allclose(trace.grads[name], numeric[name], rtol=1e-6, atol=1e-9), name
    assert (np.abs(trace.grads["W_S"]).max() == 0) == (k >= T)


@pytest.mark.parametrize("arch", ["rnn", "skip", "lstm"])
def test_hidden_rms_is_the_rms_of_each_step_over_batch_and_units(arch):
    model, x, target, _ = make_problem(arch, "tanh", "ce", "all", sizes=(6, 5, 3, 8, 3))
    trace = model.forward_backward(x, target, loss="ce", readout="all")
    expected = [np.sqrt(np.mean(trace.hidden[t] ** 2)) for t in range(1, 7)]
    assert trace.hidden_rms.shape == (6,)
    np.testing.assert_allclose(trace.hidden_rms, expected, rtol=1e-14)


@pytest.mark.parametrize("compiled", [True, False])
def test_hidden_rms_of_an_overflowing_state_is_infinite_without_a_warning(compiled):
    model, x, target, _ = make_problem("rnn", "linear", "ce", "all", sizes=(6, 5, 3, 8, 3))
    model.compiled = compiled and model.compiled
    model.params["W_H"][...] = 0.0                            # each h_t = x_t W_I + b (+ 1e200 · 0)
    x[4] = 1e200                                              # h_5 finite, h_5² overflows
    x[5, 0, 0] = np.nan                                       # h_6 holds NaN
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rms = model.forward_backward(x, target, loss="ce", readout="all").hidden_rms
    assert np.isinf(rms[4]) and np.isnan(rms[5]) and np.isfinite(rms[:4]).all()
