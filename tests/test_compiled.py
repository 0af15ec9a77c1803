"""The compiled kernels against numpy: tanh and σ to a few ulp, and whole passes against the plain
numpy path (every array of the trace, every architecture, readout and loss)."""

import dataclasses

import numpy as np
import pytest

from rnnviz.engine import build_model, compiled
from rnnviz.engine.lstm import cell_step, cell_step_backward

pytestmark = pytest.mark.skipif(not compiled.COMPILED, reason="numba's JIT is disabled")


def ulps(y, reference):
    """|y − reference| in units of the last place of the reference."""
    return np.abs(y - reference) / np.spacing(np.abs(reference))


def tanh(a):
    """tanh through the RNN step kernel, as the forward pass calls it (carry −0: a + (−0) = a, ±0 kept)."""
    a = np.array(a, dtype=np.float64, ndmin=1)
    h, d = np.empty_like(a), np.empty_like(a)
    a, h, d = a[None, :], h[None, :], d[None, :]
    compiled.tanh_step(a, np.full_like(a, -0.0), np.full(a.shape[1], -0.0), h, d)
    return h[0]


def lstm_gates(a):
    """[σ(a) | σ(a) | tanh(a) | σ(a)] through the LSTM cell kernel, one row (carry 0, c_{t-1} = 0)."""
    H = a.size
    row = np.tile(np.asarray(a, np.float64), 4)[None, :]
    gate, c, tanh_c, h = np.empty_like(row), np.empty((1, H)), np.empty((1, H)), np.empty((1, H))
    compiled.lstm_cell(row, np.zeros_like(row), np.zeros(4 * H), np.zeros((1, H)), gate, c, tanh_c, h)
    return gate[0].reshape(4, H)


def test_the_compiled_kernels_are_in_use():
    assert build_model("rnn", 2, 3, 2).compiled and build_model("lstm", 2, 3, 2).compiled
    assert not build_model("lstm", 2, 3, 2, dtype=np.float32).compiled   # float32: plain numpy


def test_tanh_within_two_ulp_of_numpy_over_the_whole_range():
    rng = np.random.default_rng(0)
    branch_points = [c + k * np.spacing(c) for c in (0.625, 19.06, 20.0) for k in range(-300, 301)]
    x = np.concatenate([
        np.linspace(-25.0, 25.0, 1_000_001),
        rng.uniform(-2.0, 2.0, 500_000),
        np.logspace(-300, 1.3, 50_000),
        np.array(branch_points),
    ])
    x = np.concatenate([x, -x])
    y = tanh(x)
    reference = np.tanh(x)
    nonzero = reference != 0
    assert ulps(y[nonzero], reference[nonzero]).max() <= 2.0
    assert np.array_equal(y[~nonzero], reference[~nonzero])


@pytest.mark.parametrize("value, expected", [
    (0.0, 0.0), (1e-300, 1e-300), (5e-324, 5e-324), (19.5, 1.0), (1e300, 1.0), (np.inf, 1.0),
])
def test_tanh_special_values(value, expected):
    for sign in (1.0, -1.0):
        out = tanh(sign * value)
        assert out[0] == sign * expected
        assert np.signbit(out[0]) == (sign < 0)        # −0 stays −0, the sign survives saturation


def test_fused_rnn_step_finishes_a_applies_tanh_and_its_derivative():
    rng = np.random.default_rng(2)
    a, carry, b = rng.standard_normal((4, 6)) * 3, rng.standard_normal((4, 6)), rng.standard_normal(6)
    expected_a = a + b + carry
    h, d = np.empty_like(a), np.empty_like(a)
    compiled.tanh_step(a, carry, b, h, d)
    assert np.array_equal(a, expected_a)                  # a_t completed in place
    assert ulps(h, np.tanh(expected_a)).max() <= 2.0
    np.testing.assert_allclose(d, 1.0 - h * h, rtol=0, atol=2.3e-16)   # tanh'(a) = 1 − h² (one FMA rounding)


def test_sigmoid_within_four_ulp_of_numpy_over_the_whole_range():
    x = np.concatenate([np.linspace(-40.0, 40.0, 200_001), np.linspace(-708.0, 708.0, 20_001),
                        np.logspace(-300, 0, 1_000)])
    x = np.concatenate([x, -x])
    gates = lstm_gates(x)
    reference = 1.0 / (1.0 + np.exp(-x))
    for block in (0, 1, 3):                               # i, f, o
        assert ulps(gates[block], reference).max() <= 4.0
    assert ulps(gates[2][x != 0], np.tanh(x[x != 0])).max() <= 2.0   # g


def test_sigmoid_special_values():
    i = lstm_gates(np.array([np.inf, -np.inf, np.nan, 0.0, 800.0, -800.0]))[0]
    assert i[0] == 1.0 and 0.0 < i[1] < 1e-307 and np.isnan(i[2]) and i[3] == 0.5
    assert i[4] == 1.0 and i[5] == i[1]                   # beyond |x| = 708: 1 and σ(−708)


def test_lstm_cell_kernels_match_the_numpy_steps():
    rng = np.random.default_rng(5)
    B, H = 3, 7
    a, carry, b = rng.standard_normal((B, 4 * H)) * 2, rng.standard_normal((B, 4 * H)), rng.standard_normal(4 * H)
    c_prev, dh, dc_next = rng.standard_normal((B, H)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    outs = {}
    for name, forward, backward in (("numpy", cell_step, cell_step_backward),
                                    ("compiled", compiled.lstm_cell, compiled.lstm_cell_backward)):
        a_t, gate, c, tanh_c, h = a.copy(), np.empty((B, 4 * H)), *np.empty((3, B, H))
        forward(a_t, carry, b, c_prev, gate, c, tanh_c, h)
        handed, dc, delta = dc_next.copy(), np.empty((B, H)), np.empty((B, 4 * H))
        backward(dh, handed, gate, c_prev, tanh_c, dc, delta)
        outs[name] = (a_t, gate, c, tanh_c, h, handed, dc, delta)
    for numpy_array, compiled_array in zip(*outs.values()):
        np.testing.assert_allclose(compiled_array, numpy_array, rtol=1e-14, atol=1e-15)


def _trace_arrays(trace):
    arrays = {f.name: getattr(trace, f.name) for f in dataclasses.fields(trace)
              if isinstance(getattr(trace, f.name), np.ndarray)}
    arrays.update({f"grads[{k}]": v for k, v in trace.grads.items()})
    arrays.update({f"term_norms[{k}]": v for k, v in trace.term_norms.items()})
    arrays["dh_norms"] = trace.dh_norms
    return arrays


@pytest.mark.parametrize("arch, activation", [("rnn", "tanh"), ("skip", "tanh"), ("lstm", "tanh"),
                                              ("rnn", "relu")])
@pytest.mark.parametrize("loss, readout", [("ce", "last"), ("ce", "all"), ("mse", "all")])
def test_compiled_and_numpy_passes_give_the_same_trace(arch, activation, loss, readout):
    T, B, I, H, O = 30, 5, 3, 9, 4
    rng = np.random.default_rng(7)
    x = rng.standard_normal((T, B, I)) * 2
    shape = (B,) if readout == "last" else (T, B)
    target = rng.integers(0, O, size=shape) if loss == "ce" else rng.standard_normal(shape + (O,))
    model = build_model(arch, I, H, O, activation=activation, init_scale=1.5, seed=3)
    assert model.compiled
    fast = model.forward_backward(x, target, loss=loss, readout=readout)
    model.compiled = False
    plain = model.forward_backward(x, target, loss=loss, readout=readout)
    fast_arrays, plain_arrays = _trace_arrays(fast), _trace_arrays(plain)
    assert fast_arrays.keys() == plain_arrays.keys()                 # the same quantities on both paths
    assert fast.loss == pytest.approx(plain.loss, rel=1e-13)
    for name, expected in plain_arrays.items():
        scale = np.abs(expected).max()
        np.testing.assert_allclose(fast_arrays[name], expected, rtol=1e-11, atol=1e-12 * scale, err_msg=name)
    y_fast, h_fast = build_model(arch, I, H, O, activation=activation, init_scale=1.5, seed=3).forward(x, readout)
    y_plain, h_plain = model.forward(x, readout)
    np.testing.assert_allclose(h_fast, h_plain, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y_fast, y_plain, rtol=1e-12, atol=1e-14)
