"""Optimisers: how a gradient g = ∂L/∂θ turns into a change of the weights θ.

- ``SGD`` with momentum μ (the velocity form of Sutskever et al. 2013, as in the settings panel):

      v ← μ v − η g
      θ ← θ + v

  μ = 0 is plain gradient descent θ ← θ − η g. v is a running sum of past steps, so a large
  gradient keeps pushing for a while after it happened: with a high η that is how weights explode.
  (PyTorch keeps v' = v/(−η) instead; the two agree while η is constant.)

- ``Adam`` (Kingma & Ba 2015), with t the number of steps taken:

      m ← β₁ m + (1 − β₁) g              first moment (a momentum)
      v ← β₂ v + (1 − β₂) g²             second moment
      m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ) bias correction of the zero start
      θ ← θ − η m̂ / (√v̂ + ε)

  Each weight's step is about η whatever the size of its gradient (on step 1 exactly
  η g/(|g| + ε) ≈ η sign(g)), so Adam rescales a tiny summed gradient ∂L/∂W_H to a normal-sized
  step. It cannot raise the early time steps' share of that sum: what vanished stays outweighed.

Both update the parameter arrays in place; their state (per parameter name) is allocated at the
first step and reused after. ``lr`` and ``momentum`` are plain attributes: change them between
steps and the next step uses them. ``reset()`` forgets the state.

The updates are written below as numpy operations. Where the compiled kernels run (``compiled.py``:
numba; float64 C-contiguous arrays), each parameter's update is one compiled loop instead
(``adam_update``, ``sgd_update``) with the same operations in the same order: the same numbers to
the last bit, one call instead of 13 (Adam) or 4 (SGD). ``optimizer.compiled = False`` selects the
numpy operations.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

OPTIMIZERS = ("sgd", "adam")


class Optimizer:
    """Shared by SGD and Adam: the live learning rate η (``lr``) and momentum μ, and per-name state."""

    def __init__(self, lr: float, momentum: float = 0.0):
        self.lr = _check_number("lr", lr, low=0.0)
        self.momentum = _check_number("momentum", momentum, low=0.0, below=1.0)
        self._state: dict[str, tuple[np.ndarray, ...]] = {}
        from . import compiled     # numba's kernels, loaded here rather than with the package
        self._kernels = compiled
        #: Whether float64 updates run the compiled loops (see the module docstring).
        self.compiled = compiled.COMPILED

    def reset(self) -> None:
        """Forget velocities/moments and the step count, as if no step had been taken."""
        self._state.clear()

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place from the gradient of the same name."""
        self._begin_step()
        for name, theta in params.items():
            state = self._state.get(name)
            if state is None or state[0].shape != theta.shape or state[0].dtype != theta.dtype:
                state = self._state[name] = self._new_state(theta)
            self._update(theta, grads[name], state)

    def _begin_step(self) -> None:
        """Hook for what changes once per step rather than per parameter (Adam's t)."""

    def _new_state(self, theta: np.ndarray) -> tuple[np.ndarray, ...]:
        raise NotImplementedError

    def _update(self, theta: np.ndarray, g: np.ndarray, state: tuple[np.ndarray, ...]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, momentum={self.momentum:g})"


class SGD(Optimizer):
    """v ← μ v − η g;  θ ← θ + v.  State per parameter: the velocity v and a scratch buffer."""

    def _new_state(self, theta):
        return np.zeros_like(theta), np.empty_like(theta)

    def _update(self, theta, g, state):
        v, scratch = state
        if self.compiled and _compiles(theta, g):
            self._kernels.sgd_update(theta, g, v, self.momentum, self.lr)   # as the four lines below
            return
        np.multiply(v, self.momentum, out=v)          # μ v
        np.multiply(g, self.lr, out=scratch)          # η g
        np.subtract(v, scratch, out=v)                # v ← μ v − η g
        np.add(theta, v, out=theta)                   # θ ← θ + v


class Adam(Optimizer):
    """θ ← θ − η m̂/(√v̂ + ε) with bias-corrected moments m̂, v̂ (see the module docstring).

    ``momentum`` is kept only so a live change of that setting has somewhere to land; Adam's own
    momentum is β₁.
    """

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 momentum: float = 0.0):
        super().__init__(lr, momentum)
        self.beta1 = _check_number("beta1", beta1, low=0.0, below=1.0)
        self.beta2 = _check_number("beta2", beta2, low=0.0, below=1.0)
        self.eps = _check_number("eps", eps, low=0.0)
        if self.eps == 0.0:
            raise ValueError("eps must be a finite number > 0; got 0")
        self.t = 0

    def reset(self) -> None:
        super().reset()
        self.t = 0

    def _begin_step(self):
        self.t += 1

    def _new_state(self, theta):
        return np.zeros_like(theta), np.zeros_like(theta), np.empty_like(theta)

    def _update(self, theta, g, state):
        m, v, scratch = state
        b1, b2 = self.beta1, self.beta2
        if self.compiled and _compiles(theta, g):                           # as the lines below
            self._kernels.adam_update(theta, g, m, v, b1, b2, 1.0 / math.sqrt(1.0 - b2 ** self.t), self.eps,
                                      self.lr / (1.0 - b1 ** self.t))
            return
        np.multiply(m, b1, out=m)
        np.multiply(g, 1.0 - b1, out=scratch)
        np.add(m, scratch, out=m)                     # m ← β₁ m + (1 − β₁) g
        np.multiply(v, b2, out=v)
        np.multiply(g, g, out=scratch)
        np.multiply(scratch, 1.0 - b2, out=scratch)
        np.add(v, scratch, out=v)                     # v ← β₂ v + (1 − β₂) g²
        np.sqrt(v, out=scratch)
        np.multiply(scratch, 1.0 / math.sqrt(1.0 - b2 ** self.t), out=scratch)
        np.add(scratch, self.eps, out=scratch)        # √v̂ + ε
        np.divide(m, scratch, out=scratch)
        np.multiply(scratch, self.lr / (1.0 - b1 ** self.t), out=scratch)   # η m̂ / (√v̂ + ε)
        np.subtract(theta, scratch, out=theta)


def make_optimizer(name: str, lr: float, momentum: float = 0.0) -> Optimizer:
    """``"sgd"`` → SGD(lr, momentum); ``"adam"`` → Adam(lr) with β₁ = 0.9, β₂ = 0.999, ε = 1e-8.

    Raises ValueError naming the allowed names, or the argument out of range (lr >= 0, 0 <= μ < 1).
    """
    if name == "sgd":
        return SGD(lr, momentum)
    if name == "adam":
        return Adam(lr, momentum=momentum)
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")


_FLOAT64 = np.dtype(np.float64)


def _compiles(theta: np.ndarray, g: np.ndarray) -> bool:
    """Whether the compiled update takes θ and g: C-contiguous float64 arrays of one shape (the state
    arrays are made like θ)."""
    return (theta.dtype is _FLOAT64 and g.dtype is _FLOAT64 and theta.shape == g.shape
            and theta.flags.c_contiguous and g.flags.c_contiguous)


def _check_number(argument: str, value, *, low: float, below: float | None = None) -> float:
    """``value`` as a float if it is a finite number with low <= value (< below); else ValueError."""
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
          and math.isfinite(value) and value >= low and (below is None or value < below))
    if not ok:
        bound = f"in [{low:g}, {below:g})" if below is not None else f">= {low:g}"
        raise ValueError(f"{argument} must be a finite number {bound}; got {value!r}")
    return float(value)
