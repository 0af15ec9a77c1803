"""Why a run diverged, and what to change: the banner's and `rnnviz train`'s diagnosis (no Qt).

A run can end in inf/NaN for two different reasons, and they need different remedies:

- **The forward pass overflowed at initialisation.** W_H starts so large that h_t = f(x_t W_I +
  h_{t-1} W_H + b) grows at every step, and the loss of the *initial* weights is already huge (or
  infinite) before any update. No learning rate and no clipping can help: the first update has not
  happened yet. Remedy: a smaller initial scale of W_H (``init_scale``).
- **An update overshot.** The initial loss is ordinary, but the gradient norm spikes (the backward
  product of factors diag(f'(a_t)) W_Hᵀ grows over the sequence) and one step θ ← θ − η g throws
  the weights far away; the next forward pass overflows. Remedy: a lower learning rate η, or
  gradient clipping (or, with clipping on, a lower threshold τ: with momentum μ a clipped step can
  still reach η·τ/(1 − μ)).

`diagnose` tells them apart from a diverged snapshot alone (its ``initial_loss`` is the loss of the
initial weights) and returns the advice as settings changes, so the CLI can print the exact
``--set`` arguments and a test can apply them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

#: Every task's targets are of order one (sine values in [−1.3, 1.3], adding sums in [0, 2], class
#: ids scored by cross-entropy, log K ≤ 5 for a uniform guess), so an untrained network's loss is of
#: order one. An initial loss above this means the forward pass itself blew up.
INITIAL_LOSS_LIMIT = 1e3

FORWARD = "forward overflow at initialisation"
OVERSHOOT = "update overshot"


@dataclass(frozen=True)
class Diagnosis:
    """What made a run diverge, in words, and the settings changes that address it."""

    cause: str                                  # FORWARD or OVERSHOOT
    iteration: int                              # the iteration at which the run diverged
    message: str                                # the banner's sentence: what happened and what to do
    advice: tuple[Mapping[str, Any], ...]       # alternative remedies, first one first, as settings

    def set_arguments(self, option: int = 0) -> list[str]:
        """``--set key=value`` arguments that apply remedy number ``option`` on the command line."""
        args = []
        for key, value in self.advice[option].items():
            args += ["--set", f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"]
        return args

    def as_dict(self) -> dict:
        return {"cause": self.cause, "iteration": self.iteration, "message": self.message,
                "advice": [dict(option) for option in self.advice]}


def diagnose(snapshot) -> Diagnosis | None:
    """The diagnosis of a diverged snapshot; None if the run has not diverged."""
    if not snapshot.diverged:
        return None
    s = snapshot.settings
    k = snapshot.diverged_at
    initial = snapshot.initial_loss
    # Iteration k's loss and gradient come from the weights after k − 1 updates: if they failed at
    # k = 1, the initial weights failed before any update.
    failed_before_update = not (math.isfinite(snapshot.loss) and math.isfinite(snapshot.grad_norm))
    if not (initial <= INITIAL_LOSS_LIMIT) or (k == 1 and failed_before_update):
        scale = _smaller_scale(s.init_scale)
        message = (f"Exploded at iteration {k}, before any update could cause it: the forward pass "
                   f"overflowed at initialisation (loss {_fmt(initial)} at iteration 0, where an "
                   f"untrained network scores about 1). W_H starts too large (init_scale = "
                   f"{s.init_scale:g}), so h_t grows at every step. Lower the init scale to "
                   f"{scale:g}; a lower learning rate or clipping cannot help here.")
        return Diagnosis(FORWARD, k, message, ({"init_scale": scale},))

    peak = snapshot.max_grad_norm
    what = snapshot.divergence or "the numbers became infinite"
    lr = _round(s.lr / 10)
    if s.clip == "none":
        tau = _clip_threshold(s)
        advice = ({"lr": lr}, {"clip": "norm", "clip_threshold": tau})
        remedy = f"Lower the learning rate to {lr:g} or turn on clipping (clip = norm, τ = {tau:g})."
    else:
        tau = _round(s.clip_threshold / 10)
        advice = ({"lr": lr}, {"clip_threshold": tau})
        remedy = (f"Lower the learning rate to {lr:g}, or the clipping threshold τ to {tau:g} "
                  f"(a clipped step can still reach η·τ/(1 − μ)).")
    peak_text = f" (‖g‖ reached {_fmt(peak)})" if peak > 0 and math.isfinite(peak) else ""
    message = f"Exploded at iteration {k}: an update overshot{peak_text} and then {what}. {remedy}"
    return Diagnosis(OVERSHOOT, k, message, advice)


def divergence_message(snapshot) -> str:
    """The banner's words for a snapshot: the diagnosis, or "" if the run has not diverged."""
    diagnosis = diagnose(snapshot)
    return diagnosis.message if diagnosis else ""


def _smaller_scale(scale: float) -> float:
    """An init scale that keeps the forward pass bounded: 1 (ρ(W_H) ≈ 1 for the random inits)
    from anything larger, otherwise half of it."""
    return 1.0 if scale > 1.0 else _round(scale / 2)


def _clip_threshold(s) -> float:
    """A norm-clipping threshold τ for these settings: with SGD a step is at most η·τ/(1 − μ) long
    (momentum sums past steps), so τ = (1 − μ)/η caps it at 1; never above 1. (With Adam each
    weight's step is about η whatever the gradient: τ = 1.)"""
    if s.optimizer != "sgd":
        return 1.0
    return _round(min(1.0, (1.0 - s.momentum) / s.lr))


def _round(value: float) -> float:
    """Two significant digits: advice a person can type."""
    return float(f"{value:.2g}")


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else "infinite"
    return f"{value:.3g}"
