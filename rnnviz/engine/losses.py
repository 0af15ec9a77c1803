"""Losses L(y, target) and their gradients ∂L/∂y, averaged exactly as PyTorch averages them.

Outputs y are (B, O) for readout "last" (only y_T is scored) or (T, B, O) for readout "all" (every
y_t is scored). With N the number of scored rows (B, or T·B):

- ``ce``: softmax cross-entropy on logits with integer class targets,
  L = −(1/N) Σ_n log softmax(y_n)[c_n], ∂L/∂y_n = (softmax(y_n) − onehot(c_n)) / N
  (= ``torch.nn.functional.cross_entropy`` on the rows).
- ``mse``: L = (1/(N·O)) Σ (y − target)², ∂L/∂y = 2 (y − target) / (N·O)
  (= ``torch.nn.functional.mse_loss``, mean over every element).
"""

from __future__ import annotations

import numpy as np

LOSSES = ("ce", "mse")
READOUTS = ("last", "all")


def loss_and_grad(outputs: np.ndarray, target, loss: str, readout: str) -> tuple[float, np.ndarray]:
    """(L, ∂L/∂y) for outputs y of the given readout; raises ValueError on a target that does not fit."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}")
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {', '.join(READOUTS)}; got {readout!r}")
    expected = outputs.ndim - 1 if loss == "ce" else outputs.ndim
    shape = outputs.shape[:expected]
    target = np.asarray(target)
    if target.shape != shape:
        what = "integer class ids" if loss == "ce" else "values"
        raise ValueError(f"target for loss {loss!r} with readout {readout!r} must be {what} of shape "
                         f"{shape}; got shape {target.shape}")
    if loss == "ce":
        return cross_entropy(outputs, target)
    return mean_squared_error(outputs, target)


def cross_entropy(logits: np.ndarray, classes: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy over all rows of ``logits`` (…, O) and its gradient.

    Every training step of a classification task runs this on a few rows, so it calls the ufuncs'
    reductions (``np.maximum.reduce`` …) instead of the array methods (``.max()`` …) that wrap
    them in Python; they compute the same numbers."""
    if classes.dtype.kind not in "iu":
        raise ValueError(f"target for loss 'ce' must hold integer class ids; got dtype {classes.dtype}")
    O = logits.shape[-1]
    z = logits.reshape(-1, O)
    c = classes.reshape(-1)
    if c.size and (np.minimum.reduce(c) < 0 or np.maximum.reduce(c) >= O):
        raise ValueError(f"target class ids must lie in 0..{O - 1}; got {c.min()}..{c.max()}")
    N = z.shape[0]
    rows = np.arange(N)
    shifted = z - np.maximum.reduce(z, axis=1, keepdims=True)  # softmax is shift-invariant: no overflow
    p = np.exp(shifted)
    total = np.add.reduce(p, axis=1, keepdims=True)
    log_p_target = shifted[rows, c] - np.log(total[:, 0])
    L = -float(np.add.reduce(log_p_target) / N)            # the mean
    p /= total                                            # softmax(y_n)
    p[rows, c] -= 1.0                                     # − onehot(c_n)
    p /= N                                                # the mean's 1/N
    return L, p.reshape(logits.shape)


def mean_squared_error(y: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean of (y − target)² over every element, and its gradient 2 (y − target) / size."""
    diff = y - np.asarray(target, dtype=y.dtype)
    L = float(np.mean(diff * diff))
    diff *= 2.0 / diff.size
    return L, diff


def predictions(outputs: np.ndarray, loss: str) -> np.ndarray:
    """What the model answers: the arg-max class for ``ce``, the outputs themselves for ``mse``."""
    if loss == "ce":
        return outputs.argmax(axis=-1)
    if loss == "mse":
        return outputs
    raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}")


def accuracy(outputs: np.ndarray, target) -> float:
    """Fraction of rows whose arg-max class equals the integer target (classification only)."""
    hits = outputs.argmax(axis=-1) == np.asarray(target)
    return int(np.count_nonzero(hits)) / hits.size
