"""What every teaching task shares: seeded training and held-out streams, checks, one-hot inputs.

A task makes batches ``(x, target)`` with x of shape (T, B, I) in the task's dtype (time first, as the
models take it) and a target the task's loss reads: integer class ids (B,) or (T, B) for ``ce``,
values (B, O) or (T, B, O) for ``mse``.

Two random streams, both fixed by the seed:
- ``batch(B)`` draws from ``np.random.default_rng(seed)``, the training stream;
- ``eval_batch(B)`` draws from a child of the same seed (``SeedSequence(seed, spawn_key=(1,))``),
  the held-out stream; evaluating never moves the training stream, so a run replays bit for bit
  however often it is evaluated. Symbolic tasks also keep the two streams' sequences apart
  (``split_sequences``).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..dtypes import check_dtype
from ..losses import accuracy as classification_accuracy

#: Longest sequence any task makes: beyond it a batch is a memory accident, not a lesson.
MAX_LENGTH = 10_000


class Task:
    """Base of the tasks. Subclasses set the class attributes and ``seq_len``, ``input_size``,
    ``output_size``, ``chance`` and ``class_labels`` in ``__init__``, and implement ``_draw`` and
    ``step_labels``.

    Attributes:
      name          the name ``make_task`` knows it by
      loss          "ce" (integer class targets) or "mse" (real-valued targets)
      readout       "last" (only y_T is scored) or "all" (every y_t is)
      input_size    I, the width of x_t
      output_size   O, the number of classes (ce) or values (mse) per scored step
      seq_len       T
      length        the length knob as given (recall/sentence: the lag; otherwise T)
      chance        accuracy of guessing (1/#classes when they are balanced), None for regression
      class_labels  a label per class for ce tasks (what an output unit means), None for mse
      seed, dtype   as given
    """

    name: str
    loss: str
    readout: str
    #: Extra keyword options ``make_task`` passes through.
    OPTIONS: tuple[str, ...] = ()
    #: Allowed range of ``length``.
    MIN_LENGTH = 1

    seq_len: int
    input_size: int
    output_size: int
    chance: float | None = None
    class_labels: tuple[str, ...] | None = None

    def __init__(self, *, length: int, seed: int = 0, dtype=np.float64):
        self.length = check_int("length", length, self.MIN_LENGTH, self.max_length(),
                                what=f"for task {self.name!r}")
        self.seed = check_int("seed", seed, 0, None)
        self.dtype = check_dtype(dtype)
        self._train_rng = np.random.default_rng(self.seed)
        self._eval_rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(1,)))

    def max_length(self) -> int:
        """Largest allowed ``length`` (a data-bound task such as text lowers it)."""
        return MAX_LENGTH

    def batch(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """A training batch (x (T, B, I), target) from the task's training stream."""
        return self._draw(self._train_rng, check_int("batch_size", batch_size, 1, None), heldout=False)

    def eval_batch(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """A held-out batch from the separate evaluation stream (never seen by ``batch``)."""
        return self._draw(self._eval_rng, check_int("batch_size", batch_size, 1, None), heldout=True)

    def accuracy(self, outputs: np.ndarray, target) -> float | None:
        """Fraction of scored steps whose arg-max output is the target class; None for mse tasks."""
        if self.loss != "ce":
            return None
        return classification_accuracy(outputs, target)

    def step_labels(self, x: np.ndarray, example: int = 0) -> list[str]:
        """A short label per time step of example ``example`` of x (token, word or value)."""
        raise NotImplementedError

    def _draw(self, rng: np.random.Generator, batch_size: int, heldout: bool):
        raise NotImplementedError

    def _example(self, x: np.ndarray, example: int) -> np.ndarray:
        """The inputs (T, I) of example ``example`` of x (T, B, I); ValueError if they do not fit."""
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"x must have shape (T, B, {self.input_size}); got shape {x.shape}")
        check_int("example", example, 0, x.shape[1] - 1)
        return x[:, example]

    def _tokens(self, x: np.ndarray, example: int) -> np.ndarray:
        """The token id of each step of one example of a one-hot x: argmax over the input axis."""
        return self._example(x, example).argmax(axis=1)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(length={self.length}, T={self.seq_len}, I={self.input_size}, "
                f"O={self.output_size}, seed={self.seed}, dtype={self.dtype.name})")


def one_hot(ids: np.ndarray, size: int, dtype: np.dtype) -> np.ndarray:
    """x with x[..., i] = 1 where i = ids[...], else 0: zeros, then one 1 per row written through
    flat indices (2.3x faster than gathering rows of the identity at T=62, B=32, 9 symbols: this
    runs for every training batch)."""
    ids = np.asarray(ids)
    if ids.size and not (0 <= ids.min() and ids.max() < size):
        raise ValueError(f"symbol ids must lie in [0, {size}), got {ids.min()}…{ids.max()}")
    x = np.zeros(ids.shape + (size,), dtype)
    x.reshape(-1)[np.arange(ids.size) * size + ids.reshape(-1)] = 1
    return x


def split_sequences(ids: np.ndarray, alphabet: int, heldout: bool, rng: np.random.Generator) -> None:
    """Move each row of ``ids`` (B, L) into the training or the held-out part, in place.

    The part of a sequence s = (s_1 … s_L) over ``alphabet`` n symbols is c(s) = (Σ_j s_j) mod n:
    held-out sequences have c = 0, training ones c ≠ 0, so no sequence is in both. A row in the
    wrong part gets its last symbol shifted, s_L ← (s_L + r) mod n, with r = −c for held-out rows
    and r uniform in 1 … n−1 for training rows: a bijection between the parts, so rows drawn
    uniformly stay uniform within their part (training keeps (n−1)/n of all sequences). With n = 1
    or L = 0 there is a single sequence and nothing to split.
    """
    if alphabet < 2 or ids.shape[1] == 0:
        return
    c = np.add.reduce(ids, axis=1) % alphabet              # (ids.sum(axis=1), without its wrapper)
    if heldout:
        shift = -c
    else:
        shift = np.where(c == 0, rng.integers(1, alphabet, size=len(ids)), 0)
    ids[:, -1] = (ids[:, -1] + shift) % alphabet


def check_int(argument: str, value, low: int, high: int | None, what: str = "") -> int:
    """``value`` as an int if it is an integer in [low, high]; otherwise ValueError naming the range."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low
            or (high is not None and value > high)):
        allowed = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        raise ValueError(f"{argument}{' ' + what if what else ''} must be {allowed}; got {value!r}")
    return int(value)


def check_number(argument: str, value, low: float, high: float) -> float:
    """``value`` as a float if it is a finite number in [low, high]; otherwise ValueError."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value)
            or not low <= value <= high):
        raise ValueError(f"{argument} must be a number in [{low:g}, {high:g}]; got {value!r}")
    return float(value)
