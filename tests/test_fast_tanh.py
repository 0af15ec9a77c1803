"""The compiled float64 tanh agrees with numpy's to 2 ulp, special values included."""

import numpy as np
import pytest

from rnnviz.engine import fast_tanh
from rnnviz.engine.fast_tanh import tanh


def ulps(y, reference):
    """|y − reference| in units of the last place of the reference."""
    return np.abs(y - reference) / np.spacing(np.abs(reference))


def test_the_compiled_kernel_is_in_use():
    assert fast_tanh.COMPILED, "numba is a dependency: without it the engine runs at numpy's speed"


def test_within_two_ulp_of_numpy_over_the_whole_range():
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
    (0.0, 0.0), (1e-300, 1e-300), (5e-324, 5e-324), (19.5, 1.0), (1e300, 1.0),
    (np.inf, 1.0),
])
def test_special_values(value, expected):
    for sign in (1.0, -1.0):
        out = tanh(np.array([sign * value]))
        assert out[0] == sign * expected
        assert np.signbit(out[0]) == (sign < 0)        # −0 stays −0, the sign survives saturation


def test_nan_stays_nan():
    assert np.isnan(tanh(np.array([np.nan, -np.nan]))).all()


def test_writes_into_out_and_falls_back_to_numpy_where_it_cannot_compile():
    a = np.random.default_rng(1).standard_normal((8, 12))
    out = np.empty_like(a)
    assert tanh(a, out=out) is out and ulps(out, np.tanh(a)).max() <= 2.0
    strided = a[:, ::2]                                   # not contiguous: numpy's own tanh
    assert np.array_equal(tanh(strided), np.tanh(strided))
    single = a.astype(np.float32)                         # float32: numpy's (vectorised) tanh
    result = tanh(single)
    assert result.dtype == np.float32 and np.array_equal(result, np.tanh(single))


def test_fused_rnn_step_finishes_a_applies_tanh_and_its_derivative():
    rng = np.random.default_rng(2)
    a, carry = rng.standard_normal((4, 6)) * 3, rng.standard_normal((4, 6))
    expected_a = a + carry
    h, d = np.empty_like(a), np.empty_like(a)
    fast_tanh.tanh_step(a, carry, h, d)
    assert np.array_equal(a, expected_a)                  # a_t completed in place
    assert ulps(h, np.tanh(expected_a)).max() <= 2.0
    np.testing.assert_allclose(d, 1.0 - h * h, rtol=0, atol=2.3e-16)   # tanh'(a) = 1 − h² (one FMA rounding)


def test_anything_but_a_separate_contiguous_float64_array_goes_to_numpy():
    assert tanh([0.5, -1.0]) == pytest.approx(np.tanh([0.5, -1.0]), rel=0, abs=0)
    assert tanh(np.float64(0.5)) == np.tanh(0.5)
    buffer = np.linspace(-3, 3, 50)
    expected = np.tanh(buffer[:-1])
    tanh(buffer[:-1], out=buffer[1:])                     # overlapping out: numpy's buffered loop
    assert np.array_equal(buffer[1:], expected)
    in_place = np.linspace(-3, 3, 50)
    assert ulps(tanh(in_place, out=in_place), np.tanh(np.linspace(-3, 3, 50))).max() <= 2.0
