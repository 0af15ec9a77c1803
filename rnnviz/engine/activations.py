"""The nonlinearity f in h_t = f(a_t) and its derivative f'(a_t).

Backpropagation through time multiplies one factor per step,

    ∂L/∂h_{t-1} = (∂L/∂h_t ⊙ f'(a_t)) W_H^T,

so the range of f' is the lecture's first suspect: tanh' ∈ (0, 1] and sigmoid' ∈ (0, 1/4] can only
shrink the product, the more as units saturate (vanishing). ReLU' ∈ {0, 1} is no larger, but it does
not saturate: active units pass W_H's factor on unchanged, inactive ones (f' = 0) cut their paths, so
‖δ‖ still shrinks by about √(fraction active) per step, and a large W_H can make it explode.
linear' = 1 shows W_H's spectrum with nothing in the way.

Each function takes ``out=`` so the model's loops write into arrays it already owns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Activation:
    """f and f' for one nonlinearity.

    ``f(a, out=None)`` returns h = f(a). ``derivative(a, h, out=None)`` returns f'(a) elementwise; it may
    read h = f(a) instead of a when that is cheaper (tanh' = 1 − h², sigmoid' = h(1 − h)).
    """

    name: str
    f: Callable[..., np.ndarray]
    derivative: Callable[..., np.ndarray]


def _tanh_derivative(a, h, out=None):
    """tanh'(a) = 1 − tanh²(a) = 1 − h², in (0, 1]."""
    out = np.multiply(h, h, out=out)
    return np.subtract(1.0, out, out=out)


_EXP_CAP = {"d": 709.0, "f": 88.0}  # largest x with e^x finite, rounded down, by dtype char


def sigmoid(a, out=None):
    """σ(a) = 1 / (1 + e^{−a}), accurate to rounding for a ≥ −709 (float64).

    e^{−a} is capped below overflow (−a ≤ 709 in float64, 88 in float32), so a very negative a gives
    σ ≈ 1e−308 (float64) instead of an overflow warning. One libm exp per element: cheaper than
    the equivalent ½ + ½ tanh(a/2).
    """
    out = np.negative(a, out=out)
    np.minimum(out, _EXP_CAP[out.dtype.char], out=out)
    np.exp(out, out=out)
    np.add(out, 1.0, out=out)
    return np.reciprocal(out, out=out)


def _sigmoid_derivative(a, h, out=None):
    """σ'(a) = σ(a)(1 − σ(a)) = h(1 − h), in (0, 1/4]."""
    out = np.subtract(1.0, h, out=out)
    return np.multiply(out, h, out=out)


def _relu(a, out=None):
    """ReLU(a) = max(a, 0)."""
    return np.maximum(a, 0.0, out=out)


def _relu_derivative(a, h, out=None):
    """ReLU'(a) = 1 where a > 0, else 0 (the value 0 is taken at the kink a = 0)."""
    if out is None:
        return (a > 0).astype(a.dtype)
    return np.greater(a, 0.0, out=out, casting="unsafe")


def _linear(a, out=None):
    """f(a) = a."""
    if out is None:
        return a.copy()
    np.copyto(out, a)
    return out


def _linear_derivative(a, h, out=None):
    """f'(a) = 1."""
    if out is None:
        return np.ones_like(a)
    out.fill(1.0)
    return out


#: The activations a vanilla or skip RNN can use, by the names the settings and presets use.
ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", np.tanh, _tanh_derivative),
    "relu": Activation("relu", _relu, _relu_derivative),
    "sigmoid": Activation("sigmoid", sigmoid, _sigmoid_derivative),
    "linear": Activation("linear", _linear, _linear_derivative),
}
