"""Initial weights.

The recurrent matrix W_H decides, before any training, whether the backward product
∏ diag(f'(a_t)) W_Hᵀ shrinks or grows, the lecture's "small numbers multiplied many times". One
factor stretches a gradient by at most max f' · σ_max(W_H) (σ_max the largest singular value): below
1 the gradient must vanish, above 1 is necessary for it to explode. The spectral radius ρ(W_H) is no
per-step bound; it governs powers of one fixed matrix (a linear RNN) and the typical rate of a long
product for random weights (Pascanu, Mikolov & Bengio 2013, §3.2). Every recurrent init below is
multiplied by ``scale``:

- ``xavier``: Glorot uniform, entries U(−√(3/H), √(3/H)), variance 2/(H + H) = 1/H.
  By the circular law the eigenvalues fill a disc of radius ρ ≈ 1 ("edge of stability");
  σ_max ≈ 2.
- ``normal``: Gaussian entries N(0, 1/H); the same variance, so again ρ ≈ 1 and σ_max ≈ 2.
- ``orthogonal``: a random orthogonal matrix (QR of a Gaussian); every singular value and every
  |eigenvalue| is exactly 1, so W_H alone neither shrinks nor grows a vector.
- ``identity``: W_H = I (IRNN, Le, Jaitly & Hinton 2015): without input h_{t-1} is copied forward
  (with input, h_t = ReLU(h_{t-1} + x_t W_I + b) accumulates the inputs), and the backward gain is 1
  on active units. Training moves the eigenvalues, often outside the unit circle (Talathi &
  Vartak 2016).

Input and output weights are always Glorot uniform, variance 2/(fan_in + fan_out); biases start at 0.
"""

from __future__ import annotations

import numpy as np

#: Names accepted for the recurrent matrix's init.
RECURRENT_INITS = ("xavier", "orthogonal", "identity", "normal")


def xavier(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """Glorot uniform (fan_in, fan_out): U(−r, r) with r = √(6/(fan_in + fan_out))."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(dtype, copy=False)


def recurrent_init(name: str, H: int, rng: np.random.Generator, scale: float = 1.0,
                   dtype=np.float64) -> np.ndarray:
    """An (H, H) recurrent matrix of the named kind (see the module docstring), times ``scale``."""
    if name == "xavier":
        W = xavier(H, H, rng, np.float64)
    elif name == "normal":
        W = rng.normal(0.0, 1.0 / np.sqrt(H), size=(H, H))
    elif name == "orthogonal":
        Q, R = np.linalg.qr(rng.normal(size=(H, H)))
        W = Q * np.where(np.diag(R) < 0, -1.0, 1.0)  # sign fix: Haar-distributed, not QR-biased
    elif name == "identity":
        W = np.eye(H)
    else:
        raise ValueError(f"init must be one of {', '.join(RECURRENT_INITS)}; got {name!r}")
    return (scale * W).astype(dtype, copy=False)
