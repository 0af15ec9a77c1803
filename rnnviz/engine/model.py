"""``build_model``, the one way to make a model: it checks every argument and picks the class.

The models: ``rnn.py`` (arch "rnn" and "skip") and ``lstm.py`` (arch "lstm"), both built on
``recurrent.py``'s ``RecurrentModel``.
"""

from __future__ import annotations

import numbers

import numpy as np

from .activations import ACTIVATIONS
from .dtypes import check_dtype
from .init import RECURRENT_INITS
from .lstm import LSTM
from .recurrent import check_choice
from .rnn import RNN

ARCHS = ("rnn", "skip", "lstm")
#: k for arch "skip" when ``skip=None``: h_t also receives h_{t-4} W_S.
DEFAULT_SKIP = 4


def _check_int(argument: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{argument} must be an integer >= {low}; got {value!r}")
    return int(value)


def _check_real(argument: str, value, low: float | None = None) -> float:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value)
            or (low is not None and value < low)):
        bound = "a finite number" if low is None else f"a finite number >= {low}"
        raise ValueError(f"{argument} must be {bound}; got {value!r}")
    return float(value)


def build_model(arch: str, input_size: int, hidden_size: int, output_size: int, *,
                activation: str = "tanh", init: str = "xavier", init_scale: float = 1.0,
                skip: int | None = None, forget_bias: float = 1.0, seed: int = 0, dtype=np.float64):
    """A freshly initialised model; the same arguments give bit-identical parameters.

    arch: "rnn" (h_t = f(x_t W_I + h_{t-1} W_H + b)), "skip" (adds h_{t-k} W_S, k = ``skip``, default
    4, k >= 2), "lstm" (gates i, f, g, o). ``activation`` is f for rnn/skip (the LSTM's σ and tanh are
    fixed). ``init`` and ``init_scale`` set the recurrent matrices (see ``init.py``). ``forget_bias`` is
    added to the LSTM's forget-gate bias. ``skip`` is ignored by rnn and lstm, ``forget_bias`` by rnn
    and skip. Raises ValueError naming the argument and what it allows.
    """
    check_choice("arch", arch, ARCHS)
    sizes = {name: _check_int(name, value, 1) for name, value in
             (("input_size", input_size), ("hidden_size", hidden_size), ("output_size", output_size))}
    check_choice("activation", activation, tuple(ACTIVATIONS))
    check_choice("init", init, RECURRENT_INITS)
    init_scale = _check_real("init_scale", init_scale, low=0.0)
    if skip is not None:
        skip = _check_int("skip", skip, 2)
    forget_bias = _check_real("forget_bias", forget_bias)
    seed = _check_int("seed", seed, 0)
    dtype = check_dtype(dtype)
    if arch == "lstm":
        return LSTM(**sizes, init=init, init_scale=init_scale, forget_bias=forget_bias, seed=seed,
                    dtype=dtype)
    k = (DEFAULT_SKIP if skip is None else skip) if arch == "skip" else None
    return RNN(**sizes, activation=activation, init=init, init_scale=init_scale, skip=k, seed=seed,
               dtype=dtype)
