"""What one forward + backward pass returns: every quantity the lecture draws.

Time runs t = 1..T. Arrays over time are indexed from 0, so index t−1 holds step t, except
``hidden`` and ``cell``, which also hold the initial state: ``hidden[t]`` is h_t, ``hidden[0]`` = h_0 = 0.

The lecture's central claim is that the gradient of a shared weight is a sum over time steps,

    ∂L/∂W_H = Σ_t h_{t-1}^T δ_t,      δ_t = ∂L/∂a_t (the ``da`` array),

and that the far-back terms vanish (or explode). ``grad_by_step`` holds the terms, ``contribution_norms``
their sizes (W_H's measured by the pass itself, ``term_norms``), ``dh_norms`` the size of ∂L/∂h_t itself
and ``hidden_rms`` that of h_t. These per-step sizes are defined here once: training snapshots copy
them, the animated diagram draws them and the BPTT stepper prints them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False, repr=False)
class Trace:
    """One forward + backward pass. Treat as immutable: no array is shared with the model or another
    trace (the model reuses a trace's arrays for a later pass only once nothing refers to them).

    loss:    L, the mean loss (float).
    outputs: y_T (B, O) for readout "last", y_1..y_T (T, B, O) for "all" (logits for ce).
    grads:   ∂L/∂θ for every parameter, same keys and shapes as ``model.params`` (the caller may clip
             them in place: they are this trace's own arrays, not the model's).
    inputs:  x (T, B, I), a copy of what the pass saw (a training step's pass: x itself, see ``da``).
    hidden:  h_0..h_T (T+1, B, H).
    pre:     a_t = x_t W_I + h_{t-1} W_H [+ h_{t-k} W_S] + b, (T, B, H); LSTM: (T, B, 4H), gates i, f, g, o.
    da:      δ_t = ∂L/∂a_t, total through all paths, same shape as ``pre``.
             ``pre``, ``da``, ``dh`` and ``dcell`` are None in a training step's trace (``keep_steps=False``):
             only the views that step through a pass read them, and they ask for a full one.
    dh:      ∂L/∂h_t, total through all paths (the output at t and every later step), (T, B, H).
    skip:    k for the skip architecture (h_{t-k} W_S enters a_t), else None.
    cell, gates, dcell: LSTM only: c_0..c_T (T+1, B, H); σ(i), σ(f), tanh(g), σ(o) (T, B, 4H);
             ∂L/∂c_t total (T, B, H).
    term_norms: sizes of W_H's per-step terms the pass measured, {"W_H": (T,) ‖h_{t-1}^T δ_t‖_F}.
    dh_norms: ‖∂L/∂h_t‖_F over the batch, t = 1..T (T,): how much the loss still feels h_t.
    hidden_squares: Σ over the batch and the units of h_t², t = 1..T (T,), as the pass summed it
             while h_t was in cache (``hidden_rms`` reads it).
    """

    arch: str
    loss: float
    outputs: np.ndarray
    grads: dict[str, np.ndarray]
    inputs: np.ndarray
    hidden: np.ndarray
    pre: np.ndarray | None
    da: np.ndarray | None
    dh: np.ndarray | None
    skip: int | None = None
    cell: np.ndarray | None = None
    gates: np.ndarray | None = None
    dcell: np.ndarray | None = None
    term_norms: dict[str, np.ndarray] = field(default_factory=dict)
    dh_norms: np.ndarray | None = None
    hidden_squares: np.ndarray | None = None

    @property
    def T(self) -> int:
        """Sequence length."""
        return self.hidden.shape[0] - 1

    def __repr__(self) -> str:
        T, B = self.T, self.hidden.shape[1]
        return f"Trace(arch={self.arch!r}, T={T}, B={B}, loss={self.loss:.6g})"

    def _step_inputs(self, name: str) -> np.ndarray:
        """The (T, B, m) array A with ∂L/∂W = Σ_t A_t^T δ_t for W = W_I, W_H, W_S.

        W_I: A_t = x_t.  W_H: A_t = h_{t-1}.  W_S: A_t = h_{t-k}, zero for t ≤ k (h_j = 0 for j ≤ 0).
        """
        if name == "W_I":
            return self.inputs
        if name == "W_H":
            return self.hidden[:-1]
        if name == "W_S" and self.skip is not None:
            k = self.skip
            A = np.zeros_like(self.hidden[:-1])
            if k < self.T:
                A[k:] = self.hidden[1:self.T + 1 - k]    # step t (index t−1 ≥ k) reads h_{t-k}
            return A
        raise ValueError(f"per-step contributions exist for {', '.join(self._step_names())}; got {name!r}")

    def _step_names(self) -> tuple[str, ...]:
        return ("W_I", "W_H", "W_S", "b") if self.skip is not None else ("W_I", "W_H", "b")

    @functools.cached_property
    def grad_by_step(self) -> dict[str, np.ndarray]:
        """Each time step's term of the shared weights' gradient, name -> (T, *shape).

        grad_by_step["W_H"][t−1] = h_{t-1}^T δ_t (likewise x_t^T δ_t for W_I, h_{t-k}^T δ_t for W_S),
        grad_by_step["b"][t−1] = Σ_batch δ_t. Summing over axis 0 gives ``grads[name]``.
        Computed on first access (it costs about as much as the backward pass's weight gradients).
        """
        self._need_steps()
        terms = {name: np.matmul(self._step_inputs(name).transpose(0, 2, 1), self.da)
                 for name in self._step_names() if name != "b"}
        terms["b"] = self.da.sum(axis=1)
        return terms

    def contribution_norms(self, name: str = "W_H") -> np.ndarray:
        """‖grad_by_step[name][t−1]‖_F for t = 1..T, without materialising the terms when cheaper.

        For W = W_I, W_H, W_S the term is A_t^T δ_t with A_t (B, m), δ_t (B, n), and
        ‖A_t^T δ_t‖_F² = Σ_ij (A_t A_t^T)_ij (δ_t δ_t^T)_ij: two (B, B) Gram matrices per step instead of
        one (m, n) product. Used when the terms are the dearer route (`terms_are_cheap`) and were
        not yet computed. W_H's come from the pass (``term_norms``).
        """
        if name not in self._step_names():
            raise ValueError(f"per-step contributions exist for {', '.join(self._step_names())}; "
                             f"got {name!r}")
        if name in self.term_norms:
            return self.term_norms[name]
        self._need_steps()
        if name in self.__dict__.get("grad_by_step", {}):
            return _norms_per_step(self.grad_by_step[name])
        if name == "b":
            return _norms_per_step(self.da.sum(axis=1))
        A = self._step_inputs(name)
        B, m, n = A.shape[1], A.shape[2], self.da.shape[2]
        if terms_are_cheap(B, m, n):
            return _norms_per_step(self.grad_by_step[name])
        gram_A = np.matmul(A, A.transpose(0, 2, 1))
        gram_D = np.matmul(self.da, self.da.transpose(0, 2, 1))
        squared = np.einsum("tij,tij->t", gram_A, gram_D)
        return np.sqrt(np.maximum(squared, 0.0, out=squared))  # rounding can leave −tiny for 0

    def _need_steps(self) -> None:
        if self.da is None:
            raise ValueError("this trace was made without its per-step δ_t (a training step's pass, "
                             "keep_steps=False); run forward_backward with keep_steps=True for the terms")

    @functools.cached_property
    def hidden_rms(self) -> np.ndarray:
        """rms of h_t over the batch and the units, t = 1..T: how much the forward pass carries."""
        _, B, H = self.hidden.shape
        return np.sqrt(self.hidden_squares / (B * H))


def terms_are_cheap(batch: int, m: int, n: int) -> bool:
    """True if each step's (m, n) term A_t^T δ_t is no larger than the inputs (B, m) and (B, n) it is
    made from: then computing the terms is the cheaper way to their norms (measured: 2.3× faster at
    B = 32, m = n = 64), otherwise two (B, B) Gram matrices per step are."""
    return m * n <= batch * (m + n)


def _norms_per_step(terms: np.ndarray) -> np.ndarray:
    """Frobenius norm of each terms[t]."""
    flat = terms.reshape(terms.shape[0], -1)
    return np.sqrt(np.einsum("tk,tk->t", flat, flat))
