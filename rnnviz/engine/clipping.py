"""Gradient clipping: the lecture's remedy for exploding gradients.

With g the gradients of every weight stacked into one vector and ‖g‖ = √(Σ_i g_i²) its global
Euclidean norm, and a threshold τ > 0:

- ``none``:  g is left as it is.
- ``value``: g_i ← clip(g_i, −τ, τ) for every element (each element capped; the direction may change).
- ``norm``:  g ← g · τ/‖g‖ when ‖g‖ > τ (the direction kept, the length capped at τ).

Both work in place. A gradient whose norm is infinite or NaN is reported, never raised on: divergence
is a state the caller reads off the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

CLIP_MODES = ("none", "value", "norm")


@dataclass(frozen=True)
class ClipResult:
    """What clipping did: ‖g‖ before and after, and whether any gradient was changed."""

    norm_before: float
    norm_after: float
    clipped: bool


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """‖g‖ = √(Σ_names Σ_i g_i²) over every array; inf or NaN when an element is.

    The sum of squares is taken with BLAS dot products; only if it overflows while every element is
    finite (‖g‖ beyond ~1e154) is it taken again on g/max|g_i|, so a huge but finite norm stays finite.
    """
    arrays = [g.reshape(-1) for g in grads.values()]
    with np.errstate(over="ignore", invalid="ignore"):
        total = math.fsum(float(np.dot(g, g)) for g in arrays)
        if total != math.inf:
            return math.sqrt(total)                    # finite, or NaN when an element is NaN
        largest = max((float(np.abs(g).max()) for g in arrays if g.size), default=0.0)
        if not math.isfinite(largest):
            return largest                             # an infinite element (NaN went above)
        total = math.fsum(float(np.dot(g / largest, g / largest)) for g in arrays)
        return largest * math.sqrt(total)


def clip_gradients(grads: Mapping[str, np.ndarray], mode: str, threshold: float) -> ClipResult:
    """Clip ``grads`` in place by ``mode`` ("none", "value", "norm") at τ = ``threshold``.

    value: g_i ← clip(g_i, −τ, τ); norm: g ← g·τ/‖g‖ when ‖g‖ > τ. A norm that is infinite or NaN
    cannot be rescaled: "norm" leaves such gradients alone and reports ``clipped=False`` (value
    clipping still caps infinite elements; NaN stays NaN). ``threshold`` is ignored for "none".
    Raises ValueError for an unknown mode or a threshold that is not a finite number > 0.
    """
    if mode not in CLIP_MODES:
        raise ValueError(f"clip mode must be one of {', '.join(CLIP_MODES)}; got {mode!r}")
    before = global_norm(grads)
    if mode == "none":
        return ClipResult(before, before, False)
    tau = _check_threshold(threshold)
    if mode == "value":
        clipped = any(g.size and (g.max() > tau or g.min() < -tau) for g in grads.values())
        if not clipped:
            return ClipResult(before, before, False)
        for g in grads.values():
            np.clip(g, -tau, tau, out=g)               # g_i ← clip(g_i, −τ, τ)
        return ClipResult(before, global_norm(grads), True)
    if not math.isfinite(before) or before <= tau:
        return ClipResult(before, before, False)
    scale = tau / before
    for g in grads.values():
        np.multiply(g, scale, out=g)                   # g ← g · τ/‖g‖
    return ClipResult(before, global_norm(grads), True)


def _check_threshold(threshold) -> float:
    if (isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating, np.integer))
            or not math.isfinite(threshold) or threshold <= 0):
        raise ValueError(f"clip threshold must be a finite number > 0; got {threshold!r}")
    return float(threshold)
