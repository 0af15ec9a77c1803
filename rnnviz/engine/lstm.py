"""The LSTM (Hochreiter & Schmidhuber 1997, with a forget gate): the lecture's way out.

Forward, for t = 1..T, with h_0 = c_0 = 0:

    a_t = x_t W_I + h_{t-1} W_H + b = [a_i | a_f | a_g | a_o]      four (B, H) blocks
    i = σ(a_i),  f = σ(a_f),  g = tanh(a_g),  o = σ(a_o)           input, forget, candidate, output
    c_t = f ⊙ c_{t-1} + i ⊙ g                                       cell: additive memory
    h_t = o ⊙ tanh(c_t)
    y_t = h_t W_O + b_O                                            (model.py)

Backward through time, from t = T down to 1:

    ∂L/∂c_t = ∂L/∂h_t ⊙ o ⊙ (1 − tanh²(c_t)) + ∂L/∂c_{t+1} ⊙ f_{t+1}
    δ_i = ∂L/∂c_t ⊙ g ⊙ i(1 − i)          δ_f = ∂L/∂c_t ⊙ c_{t-1} ⊙ f(1 − f)
    δ_g = ∂L/∂c_t ⊙ i ⊙ (1 − g²)          δ_o = ∂L/∂h_t ⊙ tanh(c_t) ⊙ o(1 − o)
    ∂L/∂h_{t-1} += δ_t W_H^T               with δ_t = [δ_i | δ_f | δ_g | δ_o]

The cell path c_t → c_{t-1} multiplies by the forget gate f alone (no W_H, no squashing derivative):
with f ≈ 1 the gradient crosses many steps undiminished. That is why ``forget_bias`` (added to b's f
block, σ(1) ≈ 0.73, σ(3) ≈ 0.95) matters.
"""

from __future__ import annotations

import numpy as np

from . import compiled
from .activations import sigmoid
from .cancel import CancelFlag, Cancelled
from .init import recurrent_init, xavier
from .recurrent import RecurrentModel


def _blocks(gates: np.ndarray) -> tuple[np.ndarray, ...]:
    """Views i, f, g, o (or a_i, a_f, a_g, a_o; δ_i, δ_f, δ_g, δ_o) of a (…, 4H) array."""
    H = gates.shape[-1] // 4
    return tuple(gates[..., j * H:(j + 1) * H] for j in range(4))


def cell_step(a, carry, b, c_prev, gate, c, tanh_c, h) -> None:
    """One step forward, into the given (B, ·) arrays (the plain numpy path; ``compiled.lstm_cell``
    computes the same in one pass, with the carry already in a): a += b + carry completes a_t = x_t W_I + b + h_{t-1} W_H, then

        i, f, o = σ(a_i), σ(a_f), σ(a_o),  g = tanh(a_g)   → gate
        c_t = f ⊙ c_{t-1} + i ⊙ g                          → c
        h_t = o ⊙ tanh(c_t)                                → tanh_c, h
    """
    np.add(a, b, out=a)
    np.add(a, carry, out=a)                                # a_t complete
    _, _, a_g, a_o = _blocks(a)
    i, f, g, o = _blocks(gate)
    H = c.shape[1]
    sigmoid(a[:, :2 * H], out=gate[:, :2 * H])             # i = σ(a_i), f = σ(a_f)
    np.tanh(a_g, out=g)                                    # g = tanh(a_g)
    sigmoid(a_o, out=o)                                    # o = σ(a_o)
    np.multiply(f, c_prev, out=c)                          # c_t = f ⊙ c_{t-1}
    np.multiply(i, g, out=tanh_c)                          #     + i ⊙ g
    np.add(c, tanh_c, out=c)
    np.tanh(c, out=tanh_c)
    np.multiply(o, tanh_c, out=h)                          # h_t = o ⊙ tanh(c_t)


def cell_step_backward(dh, dc_next, gate, c_prev, tanh_c, dc, delta) -> float:
    """One step backward (the plain numpy path; ``compiled.lstm_cell_backward`` computes the same in
    one pass). From dh = ∂L/∂h_t and dc_next = ∂L/∂c_{t+1} ⊙ f_{t+1}:

        ∂L/∂c_t = ∂L/∂h_t ⊙ o ⊙ (1 − tanh²(c_t)) + ∂L/∂c_{t+1} ⊙ f_{t+1}     → dc
        δ_i = ∂L/∂c_t ⊙ g ⊙ i(1 − i)          δ_f = ∂L/∂c_t ⊙ c_{t-1} ⊙ f(1 − f)
        δ_g = ∂L/∂c_t ⊙ i ⊙ (1 − g²)          δ_o = ∂L/∂h_t ⊙ tanh(c_t) ⊙ o(1 − o)   → delta
        dc_next ← ∂L/∂c_t ⊙ f                                                  handed to c_{t-1}

    Returns ‖∂L/∂h_t‖_F², for ``dh_norms``.
    """
    i, f, g, o = _blocks(gate)
    d_i, d_f, d_g, d_o = _blocks(delta)
    np.multiply(tanh_c, tanh_c, out=dc)                    # ∂L/∂c_t through h_t = o ⊙ tanh(c_t) ...
    np.subtract(1.0, dc, out=dc)
    np.multiply(dc, o, out=dc)
    np.multiply(dc, dh, out=dc)
    np.add(dc, dc_next, out=dc)                            # ... plus c_{t+1}'s share: total ∂L/∂c_t
    np.subtract(1.0, i, out=d_i)                           # δ_i = ∂L/∂c_t ⊙ g ⊙ i(1 − i)
    np.multiply(d_i, i, out=d_i)
    np.multiply(d_i, g, out=d_i)
    np.multiply(d_i, dc, out=d_i)
    np.subtract(1.0, f, out=d_f)                           # δ_f = ∂L/∂c_t ⊙ c_{t-1} ⊙ f(1 − f)
    np.multiply(d_f, f, out=d_f)
    np.multiply(d_f, c_prev, out=d_f)
    np.multiply(d_f, dc, out=d_f)
    np.multiply(g, g, out=d_g)                             # δ_g = ∂L/∂c_t ⊙ i ⊙ (1 − g²)
    np.subtract(1.0, d_g, out=d_g)
    np.multiply(d_g, i, out=d_g)
    np.multiply(d_g, dc, out=d_g)
    np.subtract(1.0, o, out=d_o)                           # δ_o = ∂L/∂h_t ⊙ tanh(c_t) ⊙ o(1 − o)
    np.multiply(d_o, o, out=d_o)
    np.multiply(d_o, tanh_c, out=d_o)
    np.multiply(d_o, dh, out=d_o)
    np.multiply(dc, f, out=dc_next)                        # handed to c_{t-1} through the forget gate
    return float(np.vdot(dh, dh))


class LSTM(RecurrentModel):
    """LSTM with gates in the order i, f, g, o along the 4H axis.

    Parameters (row-vector convention):
      W_I (I, 4H)  input weights, four (I, H) blocks i, f, g, o
      W_H (H, 4H)  recurrent weights, four (H, H) blocks, each initialised by ``init`` × ``init_scale``
      b   (4H,)    gate biases; the f block starts at ``forget_bias``, the rest at 0
      W_O (H, O)   output weights
      b_O (O,)     output bias
    """

    arch = "lstm"
    activation = None  # σ and tanh are fixed
    skip = None

    def __init__(self, input_size: int, hidden_size: int, output_size: int, *, init: str = "xavier",
                 init_scale: float = 1.0, forget_bias: float = 1.0, seed: int = 0, dtype=np.float64):
        super().__init__(input_size, hidden_size, output_size, dtype, seed, init, init_scale)
        self.forget_bias = forget_bias
        rng = np.random.default_rng(seed)
        I, H, O, dt = input_size, hidden_size, output_size, self.dtype
        b = np.zeros(4 * H, dt)
        b[H:2 * H] = forget_bias
        self.params = {
            "W_I": np.concatenate([xavier(I, H, rng, dt) for _gate in "ifgo"], axis=1),
            "W_H": np.concatenate([recurrent_init(init, H, rng, init_scale, dt) for _gate in "ifgo"], axis=1),
            "b": b,
            "W_O": xavier(H, O, rng, dt),
            "b_O": np.zeros(O, dt),
        }

    def recurrent_matrix(self) -> np.ndarray:
        """The candidate block W_H[:, 2H:3H] (h_{t-1} → a_g), a view: the LSTM's closest analogue of W_H."""
        H = self.hidden_size
        return self.params["W_H"][:, 2 * H:3 * H]

    # -- forward and backward through time --------------------------------------------------------

    def _forward(self, x: np.ndarray, for_backward: bool = False, cancel: CancelFlag | None = None,
                 keep_steps: bool = True) -> dict[str, np.ndarray]:
        """a_t = x_t W_I + h_{t-1} W_H + b; i, f, o = σ, g = tanh; c_t = f c_{t-1} + i g; h_t = o tanh(c_t).

        Returns hidden, pre (a_t), cell (c_0..c_T), gates (i, f, g, o), tanh_c (tanh(c_t)) and
        hidden_squares (Σ_batch,units h_t², (T,); None on the numpy path without ``for_backward``) on
        both paths. Each step computes its own x_t W_I (the step's arrays stay in cache: 7% faster
        than one product for all t); its elementwise work is `cell_step`. Compiled path: the time
        loop is ``compiled.lstm_forward``; without ``keep_steps`` each step's a_t goes through one
        (1, B, 4H) buffer (the backward pass reads the gates, not a_t). It also returns ``columns``
        there: where each one-hot x_t has its 1, for both kernels (x_t W_I read off W_I's rows).
        """
        T, B, _ = x.shape
        H, dt, workspace = self.hidden_size, self.dtype, self._workspace
        W_I, W_H, b = self.params["W_I"], self.params["W_H"], self.params["b"]
        pre = (workspace.empty("pre", (T, B, 4 * H), dt) if keep_steps or not self.compiled
               else workspace.empty("pre_t", (1, B, 4 * H), dt))     # a_t, kept or one step's
        gates = workspace.empty("gates", (T, B, 4 * H), dt)
        hidden = workspace.empty("hidden", (T + 1, B, H), dt)
        cell = workspace.empty("cell", (T + 1, B, H), dt)
        hidden[0] = 0.0                                            # h_0 = 0
        cell[0] = 0.0                                              # c_0 = 0
        tanh_c = workspace.empty("tanh_c", (T, B, H), dt)          # tanh(c_t), kept for the backward pass
        out = {"hidden": hidden, "pre": pre, "cell": cell, "gates": gates, "tanh_c": tanh_c, "hidden_squares": None}
        if self.compiled:
            flag, _keep = compiled.flag_address(cancel)
            out["hidden_squares"] = np.empty(T, dt)
            out["columns"] = workspace.empty("columns", (T, B), np.int64)   # one-hot x_t's 1s, for _backward
            if compiled.lstm_forward(x, np.ascontiguousarray(W_I), np.ascontiguousarray(W_H),
                                     np.ascontiguousarray(b), pre, gates, hidden, cell, tanh_c, flag,
                                     out["hidden_squares"], out["columns"]):
                raise Cancelled
            return out
        carry = workspace.empty("carry", (B, 4 * H), dt)
        for t in range(1, T + 1):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            np.matmul(x[t - 1], W_I, out=pre[t - 1])               # x_t W_I
            np.matmul(hidden[t - 1], W_H, out=carry)               # h_{t-1} W_H
            cell_step(pre[t - 1], carry, b, cell[t - 1], gates[t - 1], cell[t], tanh_c[t - 1], hidden[t])
        if for_backward:
            out["hidden_squares"] = np.einsum("tbh,tbh->t", hidden[1:], hidden[1:])
        return out

    def _backward(self, x: np.ndarray, fwd: dict[str, np.ndarray], dh: np.ndarray, only_last: bool = False,
                  cancel: CancelFlag | None = None, keep_steps: bool = True) -> dict[str, np.ndarray]:
        """BPTT through the cell (formulas in the module docstring), one `cell_step_backward` per
        step, then ∂L/∂h_{t-1} += δ_t W_H^T; then the weight gradients (``_weight_grads``).

        On entry dh[t−1] holds only what y_t sends to h_t; on exit the total ∂L/∂h_t. With
        ``only_last`` only y_T is scored: dh[-1] is set and dh[:-1] is uninitialised on entry.
        Returns {"da": δ (T, B, 4H), "dcell": ∂L/∂c_t (T, B, H), "dh_norms": ‖∂L/∂h_t‖_F (T,),
        "grads", "term_norms"}. Compiled path: all of it is ``compiled.lstm_backward``; without
        ``keep_steps`` each step's δ_t and ∂L/∂c_t go through one-step buffers.
        """
        gates, cell, tanh_c = fwd["gates"], fwd["cell"], fwd["tanh_c"]
        T, B, H = tanh_c.shape
        dt, workspace = self.dtype, self._workspace
        W_HT = np.ascontiguousarray(self.params["W_H"].T)    # laid out row by row: faster BLAS
        steps = T if keep_steps or not self.compiled else 1          # δ_t, ∂L/∂c_t kept, or one step's
        da = workspace.empty("da" if steps == T else "da_t", (steps, B, 4 * H), dt)
        dcell = workspace.empty("dcell" if steps == T else "dcell_t", (steps, B, H), dt)
        dc_next = workspace.empty("dc_next", (B, H), dt)      # ∂L/∂c_{t+1} ⊙ f_{t+1}, handed back
        dh_norms = np.empty(T, dt)
        if self.compiled:
            grads = {"W_I": np.empty((self.input_size, 4 * H), dt), "W_H": np.empty((H, 4 * H), dt),
                     "b": np.empty(4 * H, dt)}
            squares = np.empty(T, dt)
            flag, _keep = compiled.flag_address(cancel)
            if compiled.lstm_backward(dh, gates, cell, tanh_c, fwd["hidden"], x, W_HT, only_last, flag, da, dcell,
                                      dc_next, grads["W_I"], grads["W_H"], grads["b"],
                                      workspace.empty("term", (H, 4 * H), dt), squares, dh_norms,
                                      fwd["columns"]):
                raise Cancelled
            return {"da": da, "dcell": dcell, "dh_norms": np.sqrt(dh_norms, out=dh_norms), "grads": grads,
                    "term_norms": {"W_H": np.sqrt(squares, out=squares)}}
        dc_next[:] = 0.0                                       # nothing comes from beyond c_T
        handed = workspace.empty("handed", (B, H), dt)
        for t in reversed(range(1, T + 1)):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            delta = da[t - 1]
            dh_norms[t - 1] = cell_step_backward(dh[t - 1], dc_next, gates[t - 1], cell[t - 1], tanh_c[t - 1],
                                                 dcell[t - 1], delta)
            if t > 1 and only_last:                            # y_{t-1} is not scored: h_{t-1} reaches L
                np.matmul(delta, W_HT, out=dh[t - 2])          # only through a_t, ∂L/∂h_{t-1} = δ_t W_H^T
            elif t > 1:
                np.matmul(delta, W_HT, out=handed)             # δ_t W_H^T: handed to h_{t-1} ...
                np.add(dh[t - 2], handed, out=dh[t - 2])       # ... joins what y_{t-1} sent to it
        grads, term_norms = self._weight_grads(x, fwd["hidden"], da)
        return {"da": da, "dcell": dcell, "dh_norms": np.sqrt(dh_norms, out=dh_norms), "grads": grads,
                "term_norms": term_norms}

    # -- one step at a time (sampling) ------------------------------------------------------------

    def initial_state(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """(h_0, c_0), both zero."""
        zeros = np.zeros((batch_size, self.hidden_size), self.dtype)
        return zeros, zeros.copy()

    def step(self, x_t, state: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """(y_t, (h_t, c_t)) from x_t (B, I) and (h_{t-1}, c_{t-1})."""
        x_t = self._check_step_input(x_t)
        h, c = state
        p = self.params
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            a_i, a_f, a_g, a_o = _blocks(x_t @ p["W_I"] + h @ p["W_H"] + p["b"])
            c = sigmoid(a_f) * c + sigmoid(a_i) * np.tanh(a_g)
            h = sigmoid(a_o) * np.tanh(c)
            y = h @ p["W_O"] + p["b_O"]
        return y, (h, c)
