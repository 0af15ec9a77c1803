"""What every recurrent model shares: ``RecurrentModel``.

Shared: the output layer y_t = h_t W_O + b_O, the loss, the gradients of the weights every time step
uses, and packing a pass into a ``Trace``. The recurrences themselves, forward and backward side by
side, live in ``rnn.py`` and ``lstm.py``; ``model.py`` builds a model from its arguments.

Row-vector convention throughout: x_t is (B, I), h_t is (B, H), and h_t W_H multiplies from the right.
"""

from __future__ import annotations

import numpy as np

from . import compiled
from .cancel import CancelFlag
from .losses import LOSSES, READOUTS, loss_and_grad
from .memory import Workspace
from .trace import Trace

#: Bytes of per-step terms h_{t-1}^T δ_t computed at a time: small enough to stay in cache while
#: they are summed and measured.
TERMS_BYTES = 512 << 10


def accumulate_terms(terms: np.ndarray, total: np.ndarray, squares: np.ndarray) -> None:
    """total += Σ_t terms[t] and squares[t] = ‖terms[t]‖_F² for (n, H, m) terms h_{t-1}^T δ_t."""
    total += np.add.reduce(terms, axis=0)
    flat = terms.reshape(terms.shape[0], -1)
    np.einsum("tk,tk->t", flat, flat, out=squares)


def check_choice(argument: str, value, allowed) -> None:
    """Raise ValueError naming ``argument`` and its allowed values unless ``value`` is one of them."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{argument} must be one of {', '.join(allowed)}; got {value!r}")


class RecurrentModel:
    """Base of RNN and LSTM: y_t = h_t W_O + b_O on top of a recurrence the subclass defines.

    Subclasses set ``params`` and implement ``_forward(x, for_backward=False, cancel=None,
    keep_steps=True) -> dict`` (``hidden`` (T+1, B, H) and ``pre``, and with ``for_backward`` what
    their backward pass reads), ``_backward(x, fwd, dh, only_last, cancel, keep_steps=True) -> dict``
    (``da``, ``dh_norms``, and the weight gradients as `_weight_grads` returns them, ``grads`` and
    ``term_norms``; it turns dh from the outputs' direct ∂L/∂h_t into the total, in place; with
    ``only_last`` only dh[-1] is set on entry, as no y_t but y_T is scored, and dh[:-1] is
    uninitialised; with ``keep_steps=False`` the compiled path may return a_t, δ_t and ∂L/∂c_t in
    one-step buffers, which the trace leaves out), ``step``, ``initial_state`` and
    ``recurrent_matrix``. Both passes raise `Cancelled` between time steps once
    ``cancel.is_set()``. Both return the same keys on the compiled and the numpy path.

    ``compiled``: True when the passes run the compiled kernels of ``compiled.py`` (float64 with
    numba); set it False to run the plain numpy path. The two give the same numbers to rounding.
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
        self.compiled = compiled.COMPILED and self.dtype == np.float64
        self._workspace = Workspace()

    # -- the pass ---------------------------------------------------------------------------------

    def forward_backward(self, x, target, loss: str = "ce", readout: str = "last",
                         cancel: CancelFlag | None = None, keep_steps: bool = True) -> Trace:
        """Loss, gradients and every per-step quantity for inputs x (T, B, I) and their targets.

        Targets: ce takes integer class ids (B,) for readout "last", (T, B) for "all"; mse takes
        values (B, O) or (T, B, O). Infinities and NaNs propagate silently (divergence is a state the
        caller reads off ``trace.loss`` and ``trace.grads``, not an exception). ``cancel``: checked
        between time steps; once ``cancel.is_set()`` the pass raises `Cancelled` (see ``cancel.py``).

        ``keep_steps=False`` is a training step's pass: the trace leaves out the per-step arrays only
        the views step through, a_t, δ_t, ∂L/∂h_t and (LSTM) ∂L/∂c_t (``pre``, ``da``, ``dh`` and
        ``dcell`` are None), and everything else is the same to the last bit. The compiled path then passes each step's
        a_t and δ_t through one reused buffer instead of (T, B, ·) arrays: at the lstm preset's
        sizes that is 4.5 of the 9 MB a pass wrote, and the code that runs after the pass finds
        more of its own data still in cache. Its trace's ``inputs`` is x itself when x already is a
        C-contiguous array of the model's dtype (a full pass keeps a copy).
        """
        check_choice("loss", loss, LOSSES)
        check_choice("readout", readout, READOUTS)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            x = self._check_inputs(x, copy=keep_steps)
            T, B, _ = x.shape
            H = self.hidden_size
            fwd = self._forward(x, for_backward=True, cancel=cancel, keep_steps=keep_steps)
            hidden = fwd["hidden"]
            # ∂L/∂h_t, or (a training pass of y_T alone, compiled, no skips) two rows in turn
            handed = 2 if (not keep_steps and readout == "last" and self.compiled
                           and getattr(self, "skip", None) is None) else T
            dh = self._workspace.empty("dh" if handed == T else "dh_t", (handed, B, H), self.dtype)
            L, y, grad_W_O, grad_b_O = self._readout(hidden, target, loss, readout, dh)
            back = self._backward(x, fwd, dh, readout == "last", cancel, keep_steps)  # dh: the total ∂L/∂h_t
            grads, term_norms = back["grads"], back["term_norms"]
            grads["W_O"], grads["b_O"] = grad_W_O, grad_b_O
        return Trace(arch=self.arch, loss=L, outputs=y, grads={name: grads[name] for name in self.params},
                     inputs=x, hidden=hidden, pre=fwd["pre"] if keep_steps else None,
                     da=back["da"] if keep_steps else None, dh=dh if keep_steps else None,
                     skip=getattr(self, "skip", None),
                     cell=fwd.get("cell"), gates=fwd.get("gates"), dcell=back.get("dcell") if keep_steps else None,
                     term_norms=term_norms, dh_norms=back["dh_norms"], hidden_squares=fwd["hidden_squares"])

    def _readout(self, hidden, target, loss, readout, dh):
        """(L, y, ∂L/∂W_O, ∂L/∂b_O) of y_t = h_t W_O + b_O for the h_t scored, and into dh what each
        y_t sends to its h_t: ∂L/∂h_t = ∂L/∂y_t W_Oᵀ (dh[-1] only for readout "last").

        Numpy on both paths. A compiled version (plain loops, 4-7% of a training step faster) was
        tried and dropped: it sums in another order, and that rounding (~5e-16 of the loss) changed
        which seeds of the LSTM lesson learn a lag of 160 (Adam turns near-zero gradients' signs into
        full-size steps): `rnnviz horizon --preset lstm` took 9.9 s instead of 1.4 s on its own seeds
        and its horizon on seeds 3-5 moved away from the earlier code's."""
        T, B, H = hidden.shape[0] - 1, hidden.shape[1], hidden.shape[2]
        W_O, b_O = self.params["W_O"], self.params["b_O"]
        read = hidden[-1] if readout == "last" else hidden[1:].reshape(T * B, H)  # the h_t scored
        y = read @ W_O + b_O                                                      # y_t = h_t W_O + b_O
        if readout == "all":
            y = y.reshape(T, B, self.output_size)
        L, dy = loss_and_grad(y, target, loss, readout)
        dy = dy.reshape(read.shape[0], self.output_size)
        if readout == "last":                                   # only h_T feeds the loss directly:
            np.matmul(dy, W_O.T, out=dh[-1])                    #   dh[:-1] is left for _backward
        else:                                                   # every h_t feeds its own y_t
            np.matmul(dy, W_O.T, out=dh.reshape(T * B, H))
        return L, y, read.T @ dy, dy.sum(axis=0)                # Σ_t h_t^T ∂L/∂y_t, Σ_t ∂L/∂y_t

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

        Returns (grads, term_norms). The sum for W_H is written out as the lecture writes it: each
        step's term h_{t-1}^T δ_t is computed (a few steps at a time, in an array small enough to
        stay in cache; the same flops as one GEMM), added to the sum and measured, since the views
        show each term's size: term_norms["W_H"][t−1] = ‖h_{t-1}^T δ_t‖_F. The same steps' shares
        of W_I's and b's sums are added while their δ_t are in cache. (The numpy path; the compiled
        backward kernels compute the same inside their time loop.)
        """
        T, B, n = da.shape
        H = hidden.shape[2]
        delta, x_rows = da.reshape(T * B, n), x.reshape(T * B, -1)
        grad_I, grad_b = np.zeros((x.shape[2], n), self.dtype), np.zeros(n, self.dtype)
        ones = np.ones(T * B, self.dtype)
        h_prev_T = hidden[:-1].transpose(0, 2, 1)                # h_{t-1}^T, (T, H, B)
        per_chunk = max(1, TERMS_BYTES // (H * n * self.dtype.itemsize))
        terms = self._workspace.empty("terms", (min(per_chunk, T), H, n), self.dtype)
        grad_H = np.zeros((H, n), self.dtype)
        squares = np.empty(T, self.dtype)
        for start in range(0, T, per_chunk):
            stop = min(start + per_chunk, T)
            chunk = terms[:stop - start]
            np.matmul(h_prev_T[start:stop], da[start:stop], out=chunk)    # h_{t-1}^T δ_t, t = start+1..stop
            accumulate_terms(chunk, grad_H, squares[start:stop])          # Σ_t, and ‖h_{t-1}^T δ_t‖_F²
            rows = slice(start * B, stop * B)                             # the same steps' rows, while
            grad_I += x_rows[rows].T @ delta[rows]                        #   in cache: Σ_t x_t^T δ_t
            grad_b += ones[rows] @ delta[rows]                            #   Σ_t Σ_batch δ_t
        grads = {"W_I": grad_I, "W_H": grad_H, "b": grad_b}
        return grads, {"W_H": np.sqrt(squares, out=squares)}

    # -- checks -----------------------------------------------------------------------------------

    def _check_inputs(self, x, copy: bool) -> np.ndarray:
        """x as a C-contiguous (T, B, I) array of the model's dtype (the pass's own copy if ``copy``)."""
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != self.input_size or x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(f"x must have shape (T, B, {self.input_size}) with T, B >= 1; "
                             f"got shape {x.shape}")
        if copy:
            own = self._workspace.empty("inputs", x.shape, self.dtype)
            np.copyto(own, x, casting="unsafe")
            return own
        return np.ascontiguousarray(x, dtype=self.dtype)

    def _check_step_input(self, x_t) -> np.ndarray:
        x_t = np.ascontiguousarray(x_t, dtype=self.dtype)
        if x_t.ndim != 2 or x_t.shape[1] != self.input_size:
            raise ValueError(f"x_t must have shape (B, {self.input_size}); got shape {x_t.shape}")
        return x_t

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(arch={self.arch!r}, I={self.input_size}, H={self.hidden_size}, "
                f"O={self.output_size}, dtype={self.dtype.name})")
