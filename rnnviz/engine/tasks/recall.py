"""``recall``: the lecture's "remember the language named long ago", reduced to symbols.

    step   1        2 … lag+1                 lag+2
    x_t    A        ·2 ·0 ·3 ·3 ·1 …          ?          one-hot over K symbols + D distractors + query
    target                                    A          (ce, readout "last", chance 1/K)

The first token is one of K symbols; then ``lag`` distractor tokens, each drawn at random from D
distractor symbols; then a query token, at which the network must name the first symbol. Only the
first step carries the answer, so the gradient that teaches it must cross lag + 1 steps back: ``lag``
is the knob that reveals the memory horizon. Random distractors matter: with a single constant
distractor token even a plain RNN bridged long lags when measured.

Held out: the distractor sequences of ``eval_batch`` are never those of ``batch`` (``split_sequences``
on the distractors; each symbol is seen with every training sequence).
"""

from __future__ import annotations

import functools
import string

import numpy as np

from .base import Task, check_int, split_sequences


class Recall(Task):
    """x (lag+2, B, K+D+1) one-hot; target (B,) the first symbol's id in 0 … K−1."""

    name = "recall"
    loss = "ce"
    readout = "last"
    OPTIONS = ("symbols", "distractors")
    MIN_LENGTH = 0

    def __init__(self, *, length: int, seed: int = 0, dtype=np.float64, symbols: int = 4,
                 distractors: int = 4):
        super().__init__(length=length, seed=seed, dtype=dtype)
        self.symbols = check_int("symbols", symbols, 2, len(string.ascii_uppercase))
        self.distractors = check_int("distractors", distractors, 1, 100)
        K, D = self.symbols, self.distractors
        self.seq_len = self.length + 2
        self.input_size = K + D + 1          # ids: symbols 0…K−1, distractors K…K+D−1, query K+D
        self.output_size = K
        self.chance = 1.0 / K
        self.class_labels = tuple(string.ascii_uppercase[:K])

    def _draw(self, rng, batch_size, heldout):
        K, D, T, I = self.symbols, self.distractors, self.seq_len, self.input_size
        first = rng.integers(K, size=batch_size)
        noise = rng.integers(D, size=(batch_size, self.length))
        split_sequences(noise, D, heldout, rng)
        # x one-hot, written directly (as `one_hot` of the ids would give it, with fewer passes
        # over the batch: this runs for every training batch)
        x = np.zeros((T, batch_size, I), self.dtype)
        x[0, np.arange(batch_size), first] = 1                     # step 1: the symbol, ids 0…K−1
        distractors = x.reshape(-1)[batch_size * I + K:]           # from unit K of step 2 on
        distractors[_step_rows(self.length, batch_size, I) + noise] = 1  # steps 2…lag+1: ids K…K+D−1
        x[-1, :, K + D] = 1                                        # the query
        return x, first

    def step_labels(self, x, example=0):
        """"A" … for symbols, "·0" … "·{D−1}" for distractors, "?" for the query."""
        K, D = self.symbols, self.distractors
        return [self.class_labels[i] if i < K else f"·{i - K}" if i < K + D else "?"
                for i in self._tokens(x, example).tolist()]


@functools.lru_cache(maxsize=4)      # the training and the held-out batch size of a task or two
def _step_rows(steps: int, batch_size: int, width: int) -> np.ndarray:
    """(B, steps): the offset (j·B + b)·width of step j, example b in a flattened (steps, B, width)
    array."""
    rows = (np.arange(steps) * batch_size + np.arange(batch_size)[:, None]) * width
    rows.setflags(write=False)
    return rows
