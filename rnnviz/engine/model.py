"""What every recurrent model shares, and ``build_model``, the one way to make one.

Shared: the argument checks, the output layer y_t = h_t W_O + b_O, the loss, the gradients of the
weights every time step uses (one GEMM each over all T·B rows), and packing a pass into a ``Trace``.
The recurrences themselves, forward and backward side by side, live in ``rnn.py`` and ``lstm.py``.

Row-vector convention throughout: x_t is (B, I), h_t is (B, H), and h_t W_H multiplies from the right.
"""

from __future__ import annotations

import numbers

import numpy as np

from .activations import ACTIVATIONS
from .cancel import CancelFlag
from .dtypes import check_dtype
from .init import RECURRENT_INITS
from .losses import LOSSES, READOUTS, loss_and_grad
from .memory import keep_freed_memory
from .trace import Trace, terms_are_cheap

ARCHS = ("rnn", "skip", "lstm")
#: k for arch "skip" when ``skip=None``: h_t also receives h_{t-4} W_S.
DEFAULT_SKIP = 4


def check_choice(argument: str, value, allowed) -> None:
    """Raise ValueError naming ``argument`` and its allowed values unless ``value`` is one of them."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{argument} must be one of {', '.join(allowed)}; got {value!r}")


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

    The first call also tunes glibc malloc so each pass's fresh arrays cost no page faults
    (``memory.keep_freed_memory``).
    """
    from .lstm import LSTM
    from .rnn import RNN

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
    keep_freed_memory()
    if arch == "lstm":
        return LSTM(**sizes, init=init, init_scale=init_scale, forget_bias=forget_bias, seed=seed,
                    dtype=dtype)
    k = (DEFAULT_SKIP if skip is None else skip) if arch == "skip" else None
    return RNN(**sizes, activation=activation, init=init, init_scale=init_scale, skip=k, seed=seed,
               dtype=dtype)


class RecurrentModel:
    """Base of RNN and LSTM: y_t = h_t W_O + b_O on top of a recurrence the subclass defines.

    Subclasses set ``params`` and implement ``_forward(x, for_backward=False, cancel=None) -> dict``
    (at least ``hidden`` (T+1, B, H) and ``pre``), ``_backward(fwd, dh, only_last, cancel) -> dict``
    (at least ``da``; it turns dh from the outputs' direct ∂L/∂h_t into the total, in place; with
    ``only_last`` only dh[-1] is set on entry, as no y_t but y_T is scored, and dh[:-1] is
    uninitialised), ``step``, ``initial_state`` and ``recurrent_matrix``. Both passes raise
    `Cancelled` between time steps once ``cancel.is_set()``.
    """

    arch: str
    params: dict[str, np.ndarray]

    def __init__(self, input_size: int, hidden_size: int, output_size: int, dtype, seed: int,
                 init: str, init_scale: float):
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.dtype = np.dtype(dtype)
        self.seed = seed
        self.init = init
        self.init_scale = init_scale

    # -- the pass ---------------------------------------------------------------------------------

    def forward_backward(self, x, target, loss: str = "ce", readout: str = "last",
                         cancel: CancelFlag | None = None) -> Trace:
        """Loss, gradients and every per-step quantity for inputs x (T, B, I) and their targets.

        Targets: ce takes integer class ids (B,) for readout "last", (T, B) for "all"; mse takes
        values (B, O) or (T, B, O). Infinities and NaNs propagate silently (divergence is a state the
        caller reads off ``trace.loss`` and ``trace.grads``, not an exception). ``cancel``: checked
        between time steps; once ``cancel.is_set()`` the pass raises `Cancelled` (see ``cancel.py``).
        """
        check_choice("loss", loss, LOSSES)
        check_choice("readout", readout, READOUTS)
        x = self._check_inputs(x, copy=True)
        T, B, _ = x.shape
        H = self.hidden_size
        W_O = self.params["W_O"]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            fwd = self._forward(x, for_backward=True, cancel=cancel)
            hidden = fwd["hidden"]
            read = hidden[-1] if readout == "last" else hidden[1:].reshape(T * B, H)  # the h_t scored
            y = read @ W_O + self.params["b_O"]                                      # y_t = h_t W_O + b_O
            if readout == "all":
                y = y.reshape(T, B, self.output_size)
            L, dy = loss_and_grad(y, target, loss, readout)
            dy = dy.reshape(read.shape[0], self.output_size)
            dh = np.empty((T, B, H), self.dtype)
            if readout == "last":                                   # only h_T feeds the loss directly:
                np.matmul(dy, W_O.T, out=dh[-1])                    #   dh[:-1] is left for _backward
            else:                                                   # every h_t feeds its own y_t
                np.matmul(dy, W_O.T, out=dh.reshape(T * B, H))
            back = self._backward(fwd, dh, readout == "last", cancel)     # dh becomes the total ∂L/∂h_t
            grads, terms = self._weight_grads(x, hidden, back["da"])
            grads["W_O"] = read.T @ dy                              # Σ_t h_t^T ∂L/∂y_t
            grads["b_O"] = dy.sum(axis=0)
        return Trace(arch=self.arch, loss=L, outputs=y, grads={name: grads[name] for name in self.params},
                     inputs=x, hidden=hidden, pre=fwd["pre"], da=back["da"], dh=dh,
                     skip=getattr(self, "skip", None), cell=fwd.get("cell"), gates=fwd.get("gates"),
                     dcell=back.get("dcell"), terms=terms)

    def forward(self, x, readout: str = "last", cancel: CancelFlag | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """(outputs, hidden) without gradients: y_T (B, O) or y_1..y_T (T, B, O), and h_0..h_T.
        ``cancel`` as in `forward_backward`."""
        check_choice("readout", readout, READOUTS)
        x = self._check_inputs(x, copy=False)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            hidden = self._forward(x, cancel=cancel)["hidden"]
            y = (hidden[-1] if readout == "last" else hidden[1:]) @ self.params["W_O"] + self.params["b_O"]
        return y, hidden

    def _weight_grads(self, x: np.ndarray, hidden: np.ndarray, da: np.ndarray
                      ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """∂L/∂W_I = Σ_t x_t^T δ_t,  ∂L/∂W_H = Σ_t h_{t-1}^T δ_t,  ∂L/∂b = Σ_t Σ_batch δ_t.

        Returns (grads, terms). The sums over t and over the batch are one GEMM each (stack all T·B
        rows), except for W_H when its per-step terms are small (see `terms_are_cheap`): then the
        terms h_{t-1}^T δ_t are computed (one batched GEMM, the same flops) and summed, the
        lecture's sum written out, and returned in ``terms`` for the views, which show each
        term's size.
        """
        T, B, n = da.shape
        delta = da.reshape(T * B, n)
        grads = {"W_I": x.reshape(T * B, -1).T @ delta, "b": delta.sum(axis=0)}
        h_prev = hidden[:-1]
        terms = {}
        if terms_are_cheap(B, h_prev.shape[2], n):
            terms["W_H"] = np.matmul(h_prev.transpose(0, 2, 1), da)       # (T, H, n): h_{t-1}^T δ_t
            grads["W_H"] = terms["W_H"].sum(axis=0)
        else:
            grads["W_H"] = h_prev.reshape(T * B, -1).T @ delta
        return grads, terms

    # -- checks -----------------------------------------------------------------------------------

    def _check_inputs(self, x, copy: bool) -> np.ndarray:
        """x as a C-contiguous (T, B, I) array of the model's dtype (a fresh copy if ``copy``)."""
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != self.input_size or x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(f"x must have shape (T, B, {self.input_size}) with T, B >= 1; "
                             f"got shape {x.shape}")
        if copy:
            return np.array(x, dtype=self.dtype, order="C", copy=True)
        return np.ascontiguousarray(x, dtype=self.dtype)

    def _check_step_input(self, x_t) -> np.ndarray:
        x_t = np.ascontiguousarray(x_t, dtype=self.dtype)
        if x_t.ndim != 2 or x_t.shape[1] != self.input_size:
            raise ValueError(f"x_t must have shape (B, {self.input_size}); got shape {x_t.shape}")
        return x_t

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(arch={self.arch!r}, I={self.input_size}, H={self.hidden_size}, "
                f"O={self.output_size}, dtype={self.dtype.name})")
