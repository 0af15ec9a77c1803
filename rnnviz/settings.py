"""Everything a control panel sets, validated in one place.

`Settings` is an immutable dataclass; `FIELDS` describes each key once (type, allowed values or range,
and a help text with the formula behind it) so presets, ``--set key=value``, the GUI's widgets and
their tooltips all read the same description instead of repeating numbers.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any


class SettingsError(ValueError):
    """A setting has a bad name or value; the message names the field and what it allows."""


@dataclass(frozen=True)
class Field:
    """How one setting is typed, bounded and explained."""

    kind: type
    help: str
    choices: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False  # the GUI shows it on a log scale

    def allowed(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(self.choices)
        if self.kind is int:
            return f"an integer in [{int(self.low)}, {int(self.high)}]"
        return f"a number in [{self.low:g}, {self.high:g}]"


FIELDS: dict[str, Field] = {
    "task": Field(str, "What the network must learn. recall: name the first of K symbols after `lag` "
                  "distractors; adding: sum two marked numbers; sine: predict the next value; text: "
                  "next character; sentence: the language of a country named many words before.",
                  choices=("recall", "adding", "sine", "text", "sentence")),
    "lag": Field(int, "Distance the memory must bridge (recall: distractor tokens; sentence: filler "
                 "words). recall: T = lag + 2; sentence: T = lag + 9.", low=1, high=500),
    "seq_len": Field(int, "Sequence length T for the adding, sine and text tasks.", low=2, high=500),
    "arch": Field(str, "rnn: h_t = f(x_t W_I + h_{t-1} W_H + b). skip: adds h_{t-k} W_S. "
                  "lstm: gated cell c_t = σ(f)·c_{t-1} + σ(i)·tanh(g), h_t = σ(o)·tanh(c_t).",
                  choices=("rnn", "skip", "lstm")),   # rnnviz.engine.ARCHS: not imported, no numpy here
    "activation": Field(str, "f in h_t = f(a_t). The factor f'(a_t) enters every step of the "
                        "backward product diag(f'(a_t)) W_Hᵀ. tanh' ≤ 1 and falls towards 0 as a "
                        "unit saturates; ReLU' ∈ {0, 1} does not saturate, but inactive units (f' = 0) "
                        "cut paths, so ‖δ‖ shrinks by about √(fraction active) per step.",
                        choices=("tanh", "relu", "sigmoid", "linear")),
    "init": Field(str, "Initial recurrent matrix W_H (times init_scale). xavier: U(±√(3/H)), "
                  "variance 1/H, spectral radius ≈ 1; orthogonal: all singular values 1; "
                  "identity: W_H = I (IRNN, Le, Jaitly & Hinton 2015); normal: N(0, 1/H) entries.",
                  choices=("xavier", "orthogonal", "identity", "normal")),
    "init_scale": Field(float, "Multiplies the initial W_H. One backward factor diag(f'(a_t)) W_Hᵀ "
                        "stretches a gradient by at most max f'·σ_max(W_H): below 1 the gradient "
                        "must vanish; above 1 is needed for it to explode. The spectral radius "
                        "ρ(W_H) sets the typical rate of a long product (Pascanu, Mikolov & Bengio "
                        "2013), not a per-step bound.",
                        low=0.0, high=10.0),
    "skip": Field(int, "k for skip connections: h_t also receives h_{t-k} W_S, so a gradient can "
                  "cross k steps with one factor instead of k.", low=2, high=100),
    "hidden": Field(int, "Hidden units H (size of h_t).", low=1, high=512),
    "batch": Field(int, "Sequences per iteration B; the loss is their mean.", low=1, high=1024),
    "optimizer": Field(str, "sgd: v ← μv − η g, θ ← θ + v. adam: θ ← θ − η m̂/(√v̂ + ε): each "
                       "weight's step is about η however small its summed gradient, though the "
                       "early steps' share of that sum stays as small.",
                       choices=("sgd", "adam")),
    "lr": Field(float, "Learning rate η in θ ← θ − η g. Too high a rate makes updates overshoot "
                "and can explode the weights.", low=1e-5, high=10.0, log=True),
    "momentum": Field(float, "Momentum μ for SGD: v ← μv − η g.", low=0.0, high=0.999),
    "clip": Field(str, "Gradient clipping. value: g ← clip(g, −τ, τ) elementwise; norm: "
                  "g ← g·τ/‖g‖ when ‖g‖ > τ. The gradient is capped, not the step: with SGD "
                  "momentum μ a step can still reach η·τ/(1 − μ).", choices=("none", "value", "norm")),
    "clip_threshold": Field(float, "Clipping threshold τ.", low=1e-6, high=1e6, log=True),
    "seed": Field(int, "Seed for the initial weights and the data; the same seed replays the run "
                  "bit for bit.", low=0, high=2**31 - 1),
    "dtype": Field(str, "Floating-point precision. float32 shows the vanishing lesson as float64 "
                   "does: at lags 30–60 the early steps' shares of dL/dW_H (1e-9 … 1e-19 of the "
                   "largest) are the same in both; zeros appear only at much longer lags (at lag "
                   "160, about 90 of 161 steps).", choices=("float64", "float32")),
    "forget_bias": Field(float, "LSTM only: added to the forget gate's bias at init; σ(5) ≈ 0.993 "
                         "keeps the cell's memory open early in training (the forget gate: Gers, "
                         "Schmidhuber & Cummins 2000).", low=-10.0, high=10.0),
}

#: Tasks whose length knob is `lag` (distance between the cue and the question); the others use `seq_len`.
LAG_TASKS = ("recall", "sentence")

#: Changing one of these rebuilds the model and restarts the run; the others apply live.
STRUCTURAL = frozenset({"task", "lag", "seq_len", "arch", "activation", "init", "init_scale", "skip",
                        "hidden", "batch", "seed", "dtype", "forget_bias"})
LIVE = frozenset(FIELDS) - STRUCTURAL


@dataclass(frozen=True)
class Settings:
    """One training run's configuration. Build it with keywords; it validates itself."""

    task: str = "recall"
    lag: int = 20
    seq_len: int = 50
    arch: str = "rnn"
    activation: str = "tanh"
    init: str = "xavier"
    init_scale: float = 1.0
    skip: int = 4
    hidden: int = 32
    batch: int = 32
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    clip: str = "norm"
    clip_threshold: float = 1.0
    seed: int = 0
    dtype: str = "float64"
    forget_bias: float = 1.0

    def __post_init__(self) -> None:
        for name in FIELDS:
            object.__setattr__(self, name, coerce(name, getattr(self, name)))

    @property
    def length(self) -> int:
        """The task's length knob: `lag` for recall-like tasks, `seq_len` otherwise."""
        return self.lag if self.task in LAG_TASKS else self.seq_len

    def replace(self, **changes: Any) -> "Settings":
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise SettingsError(unknown_key_message(sorted(unknown)[0]))
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Settings":
        return cls().replace(**values)

    def structural_changes(self, other: "Settings") -> set[str]:
        """Names of structural fields that differ between two settings."""
        return {k for k in STRUCTURAL if getattr(self, k) != getattr(other, k)}


def unknown_key_message(key: str) -> str:
    return f"unknown setting {key!r}; known settings: {', '.join(FIELDS)}"


def coerce(name: str, value: Any) -> Any:
    """Convert `value` to the field's type and check it against its choices or range."""
    field = FIELDS[name]
    if field.kind is str:
        if not isinstance(value, str) or value not in field.choices:
            raise SettingsError(f"{name} = {value!r} is not allowed; {name} must be {field.allowed()}")
        return value
    if isinstance(value, bool):
        raise SettingsError(f"{name} = {value!r} is not a number; {name} must be {field.allowed()}")
    if field.kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise SettingsError(f"{name} = {value!r} is not an integer; {name} must be {field.allowed()}")
    else:
        if not isinstance(value, (int, float)):
            raise SettingsError(f"{name} = {value!r} is not a number; {name} must be {field.allowed()}")
        value = float(value)
        if not math.isfinite(value):
            raise SettingsError(f"{name} = {value!r} is not finite; {name} must be {field.allowed()}")
    if not field.low <= value <= field.high:
        raise SettingsError(f"{name} = {value!r} is out of range; {name} must be {field.allowed()}")
    return value


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``key=value`` from the command line into a typed, validated pair."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise SettingsError(f"expected key=value, got {text!r}")
    if key not in FIELDS:
        raise SettingsError(unknown_key_message(key))
    field = FIELDS[key]
    if field.kind is str:
        return key, coerce(key, raw)
    if not raw.isascii():   # int() and float() also read full-width and Arabic-Indic digits
        raise SettingsError(f"{key} = {raw!r} is not a number; {key} must be {field.allowed()}")
    try:
        number = int(raw) if field.kind is int and raw.lstrip("+-").isdigit() else float(raw)
    except ValueError:
        raise SettingsError(f"{key} = {raw!r} is not a number; {key} must be {field.allowed()}") from None
    return key, coerce(key, number)
