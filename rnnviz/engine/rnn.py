"""The vanilla RNN (arch "rnn") and the RNN with skip connections k steps back (arch "skip").

Forward, for t = 1..T, with h_0 = 0 and h_j = 0 for j <= 0:

    a_t = x_t W_I + h_{t-1} W_H [+ h_{t-k} W_S] + b        pre-activation
    h_t = f(a_t)                                           hidden state
    y_t = h_t W_O + b_O                                    output (model.py)

Backward through time (BPTT), from t = T down to 1, with ∂L/∂h_t first holding what y_t sends:

    δ_t = ∂L/∂h_t ⊙ f'(a_t)                                through the nonlinearity
    ∂L/∂h_{t-1} += δ_t W_H^T                               handed one step back
    ∂L/∂h_{t-k} += δ_t W_S^T                               (skip) handed k steps back in one factor

so a gradient reaching h_1 from y_T has crossed T−1 factors diag(f'(a_t)) W_H^T: the lecture's long
chain of derivatives, small numbers multiplied many times (vanishing) or large ones (exploding).
A skip connection offers a path with about T/k factors instead.

Weight gradients sum one term per step (the lecture's "sum over time steps"):

    ∂L/∂W_H = Σ_t h_{t-1}^T δ_t,   ∂L/∂W_I = Σ_t x_t^T δ_t,   ∂L/∂W_S = Σ_t h_{t-k}^T δ_t,   ∂L/∂b = Σ_t Σ_batch δ_t
"""

from __future__ import annotations

import numpy as np

from . import compiled
from .activations import ACTIVATIONS
from .cancel import CancelFlag, Cancelled
from .init import recurrent_init, xavier
from .recurrent import RecurrentModel


def backward_step(dh: np.ndarray, fprime: np.ndarray) -> float:
    """δ_t = ∂L/∂h_t ⊙ f'(a_t), in place over f'(a_t); returns ‖∂L/∂h_t‖_F² (the plain numpy path)."""
    np.multiply(dh, fprime, out=fprime)
    return float(np.vdot(dh, dh))


class RNN(RecurrentModel):
    """h_t = f(x_t W_I + h_{t-1} W_H [+ h_{t-k} W_S] + b), y_t = h_t W_O + b_O.

    Parameters (row-vector convention):
      W_I (I, H)  input weights: x_t → a_t
      W_H (H, H)  recurrent weights: h_{t-1} → a_t, the matrix whose powers BPTT multiplies
      W_S (H, H)  skip weights (arch "skip" only): h_{t-k} → a_t
      b   (H,)    hidden bias
      W_O (H, O)  output weights: h_t → y_t
      b_O (O,)    output bias
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, *, activation: str = "tanh",
                 init: str = "xavier", init_scale: float = 1.0, skip: int | None = None, seed: int = 0,
                 dtype=np.float64):
        super().__init__(input_size, hidden_size, output_size, dtype, seed, init, init_scale)
        self.arch = "rnn" if skip is None else "skip"
        self.activation = activation
        self.skip = skip
        self._f = ACTIVATIONS[activation]
        rng = np.random.default_rng(seed)
        I, H, O, dt = input_size, hidden_size, output_size, self.dtype
        self.params = {"W_I": xavier(I, H, rng, dt), "W_H": recurrent_init(init, H, rng, init_scale, dt)}
        if skip is not None:  # W_S: same kind and scale as W_H, drawn independently
            self.params["W_S"] = recurrent_init(init, H, rng, init_scale, dt)
        self.params["b"] = np.zeros(H, dt)
        self.params["W_O"] = xavier(H, O, rng, dt)
        self.params["b_O"] = np.zeros(O, dt)

    def recurrent_matrix(self) -> np.ndarray:
        """W_H: the factor ∂a_t/∂h_{t-1} whose spectrum decides vanishing or exploding."""
        return self.params["W_H"]

    # -- forward and backward through time --------------------------------------------------------

    def _forward(self, x: np.ndarray, for_backward: bool = False, cancel: CancelFlag | None = None,
                 keep_steps: bool = True) -> dict[str, np.ndarray]:
        """a_t = x_t W_I + h_{t-1} W_H [+ h_{t-k} W_S] + b and h_t = f(a_t) for t = 1..T.

        Returns {"hidden": h_0..h_T, "pre": a_t, "hidden_squares": Σ_batch,units h_t² (T,) (None on the
        numpy path without ``for_backward``)}, and on the numpy path with ``for_backward`` also
        "fprime": f'(a_t), which BPTT multiplies by. Compiled path (``self.compiled``): the time
        loop is ``compiled.rnn_forward``, x_t W_I a product per step; its backward pass takes f'(a_t)
        from h_t as it goes; without ``keep_steps`` each step's a_t goes through one (1, B, H) buffer.
        Numpy path: x_t W_I as one product for all t, the loop below, then f'(a_t) for all t at once.
        """
        T, B, I = x.shape
        H, k, dt, workspace = self.hidden_size, self.skip, self.dtype, self._workspace
        W_I, W_H, W_S, b = self.params["W_I"], self.params["W_H"], self.params.get("W_S"), self.params["b"]
        hidden = workspace.empty("hidden", (T + 1, B, H), dt)      # h_t at index t
        hidden[0] = 0.0                                            # h_0 = 0
        if self.compiled:
            pre = workspace.empty("pre", (T, B, H), dt) if keep_steps else workspace.empty("pre_t", (1, B, H), dt)
            out = {"hidden": hidden, "pre": pre, "hidden_squares": np.empty(T, dt)}
            flag, _keep = compiled.flag_address(cancel)
            W_I, W_H, b = np.ascontiguousarray(W_I), np.ascontiguousarray(W_H), np.ascontiguousarray(b)
            W_S = W_H if k is None else np.ascontiguousarray(W_S)    # (not read without skips)
            if compiled.rnn_forward(x, W_I, pre, hidden, W_H, b, W_S, k or 0, compiled.ACTIVATIONS[self.activation],
                                    flag, out["hidden_squares"]):
                raise Cancelled
            return out
        pre = workspace.empty("pre", (T, B, H), dt)                # a_t at index t−1
        np.matmul(x.reshape(T * B, I), W_I, out=pre.reshape(T * B, H))  # x_t W_I, all t
        out = {"hidden": hidden, "pre": pre, "hidden_squares": None}
        f = self._f.f
        carry = workspace.empty("carry", (B, H), dt)
        for t in range(1, T + 1):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            a = pre[t - 1]                                         # x_t W_I
            if k is not None and t > k:                            # h_{t-k} = 0 while t ≤ k
                np.matmul(hidden[t - k], W_S, out=carry)           # + h_{t-k} W_S
                np.add(a, carry, out=a)
            np.matmul(hidden[t - 1], W_H, out=carry)               # h_{t-1} W_H
            np.add(a, b, out=a)                                    # + b
            np.add(a, carry, out=a)                                # + h_{t-1} W_H: a_t complete
            f(a, out=hidden[t])                                    # h_t = f(a_t)
        if for_backward:
            out["fprime"] = self._f.derivative(pre, hidden[1:], out=workspace.empty("fprime", (T, B, H), dt))
            out["hidden_squares"] = np.einsum("tbh,tbh->t", hidden[1:], hidden[1:])
        return out

    def _backward(self, x: np.ndarray, fwd: dict[str, np.ndarray], dh: np.ndarray, only_last: bool = False,
                  cancel: CancelFlag | None = None, keep_steps: bool = True) -> dict[str, np.ndarray]:
        """BPTT: δ_t = ∂L/∂h_t ⊙ f'(a_t); ∂L/∂h_{t-1} += δ_t W_H^T; ∂L/∂h_{t-k} += δ_t W_S^T; then the
        weight gradients (``_weight_grads``).

        On entry dh[t−1] holds only what y_t sends to h_t; on exit the total ∂L/∂h_t. With
        ``only_last`` only y_T is scored: dh[-1] is set and dh[:-1] is uninitialised on entry.
        Returns {"da": δ (T, B, H), "dh_norms": ‖∂L/∂h_t‖_F (T,), "grads", "term_norms"}. Compiled
        path: all of it is ``compiled.rnn_backward``; without ``keep_steps`` (and without skips,
        whose ∂L/∂W_S reads every δ_t at the end) each step's δ_t goes through one (1, B, H) buffer.
        """
        T, B, H = fwd["hidden"].shape[0] - 1, dh.shape[1], dh.shape[2]
        k = self.skip
        W_HT = np.ascontiguousarray(self.params["W_H"].T)    # W_H^T laid out row by row: BLAS
        W_ST = np.ascontiguousarray(self.params["W_S"].T) if k is not None else None  # multiplies it faster
        dh_norms = np.empty(T, self.dtype)
        if self.compiled:
            return self._compiled_backward(x, fwd, dh, W_HT, W_ST, dh_norms, only_last, cancel, keep_steps)
        da = fwd["fprime"]                                     # f'(a_t); becomes δ_t in place
        # Without skips and with y_T alone scored, h_{t-1} (t ≤ T) reaches L only through a_t, so
        # ∂L/∂h_{t-1} = δ_t W_H^T exactly: write it in place instead of adding it to zeros.
        overwrite = only_last and k is None
        if only_last and not overwrite:
            dh[:-1] = 0.0                                      # y_1..y_{T-1} send nothing
        handed = self._workspace.empty("handed", (B, H), self.dtype)  # the gradient handed to an earlier h
        for t in reversed(range(1, T + 1)):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            delta = da[t - 1]
            dh_norms[t - 1] = backward_step(dh[t - 1], delta)  # δ_t = ∂L/∂h_t ⊙ f'(a_t): backprop through f'
            if t > 1 and overwrite:
                np.matmul(delta, W_HT, out=dh[t - 2])          # δ_t W_H^T: all that reaches h_{t-1}
            elif t > 1:
                np.matmul(delta, W_HT, out=handed)             # δ_t W_H^T: δ handed to step t−1 ...
                np.add(dh[t - 2], handed, out=dh[t - 2])       # ... joins what y_{t-1} sent to h_{t-1}
            if k is not None and t > k:
                np.matmul(delta, W_ST, out=handed)             # δ_t W_S^T: handed k steps back ...
                np.add(dh[t - k - 1], handed, out=dh[t - k - 1])  # ... to h_{t-k}, in one factor
        grads, term_norms = self._weight_grads(x, fwd["hidden"], da)
        return {"da": da, "dh_norms": np.sqrt(dh_norms, out=dh_norms), "grads": grads, "term_norms": term_norms}

    def _compiled_backward(self, x, fwd, dh, W_HT, W_ST, dh_norms, only_last, cancel, keep_steps) -> dict:
        """`_backward` as one ``compiled.rnn_backward`` call: BPTT and the weight gradients."""
        T, B, H = fwd["hidden"].shape[0] - 1, dh.shape[1], dh.shape[2]
        dt, k = self.dtype, self.skip
        da = (self._workspace.empty("da", (T, B, H), dt) if keep_steps or k is not None
              else self._workspace.empty("da_t", (1, B, H), dt))    # δ_t, kept or one step's
        grads = {"W_I": np.empty((self.input_size, H), dt), "W_H": np.empty((H, H), dt), "b": np.empty(H, dt)}
        if k is not None:
            grads["W_S"] = np.empty((H, H), dt)
        squares = np.empty(T, dt)
        flag, _keep = compiled.flag_address(cancel)
        if compiled.rnn_backward(dh, da, fwd["hidden"], compiled.ACTIVATIONS[self.activation], x, W_HT,
                                 W_HT if k is None else W_ST, k or 0, only_last, flag,
                                 grads["W_I"], grads["W_H"], grads.get("W_S", grads["W_H"]), grads["b"],
                                 self._workspace.empty("term", (H, H), dt), squares, dh_norms):
            raise Cancelled
        return {"da": da, "dh_norms": np.sqrt(dh_norms, out=dh_norms), "grads": grads,
                "term_norms": {"W_H": np.sqrt(squares, out=squares)}}

    def _weight_grads(self, x: np.ndarray, hidden: np.ndarray, da: np.ndarray
                      ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """As ``RecurrentModel._weight_grads``, plus ∂L/∂W_S = Σ_{t>k} h_{t-k}^T δ_t for skip."""
        grads, term_norms = super()._weight_grads(x, hidden, da)
        k = self.skip
        if k is not None:
            T, _, H = da.shape
            reached = hidden[1:max(T + 1 - k, 1)]             # h_{t-k} for t = k+1..T (none if k ≥ T)
            grads["W_S"] = reached.reshape(-1, H).T @ da[k:].reshape(-1, H)
        return grads, term_norms

    # -- one step at a time (sampling) ------------------------------------------------------------

    def initial_state(self, batch_size: int) -> tuple[np.ndarray, ...]:
        """(h_0,) for rnn; (h_0, h_{-1}, …, h_{1-k}) for skip, all zero."""
        depth = 1 if self.skip is None else self.skip
        return tuple(np.zeros((batch_size, self.hidden_size), self.dtype) for _ in range(depth))

    def step(self, x_t, state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """(y_t, new state) from x_t (B, I) and the state (h_{t-1}, …, h_{t-k}) from the previous step."""
        x_t = self._check_step_input(x_t)
        p = self.params
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            a = x_t @ p["W_I"] + state[0] @ p["W_H"] + p["b"]
            if self.skip is not None:
                a += state[-1] @ p["W_S"]
            h = self._f.f(a)
            y = h @ p["W_O"] + p["b_O"]
        return y, (h,) + state[:-1]
