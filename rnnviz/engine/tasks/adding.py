"""``adding`` (Hochreiter & Schmidhuber 1997): add the two marked numbers of a long sequence.

    channel 0   0.31 0.87 0.05 0.62 … 0.44 0.90 …     values u_t ~ U(0, 1)
    channel 1   0    1    0    0    … 0    1    …     markers: one in the first half, one in the second
    target      0.87 + 0.90 = 1.77                      (mse, readout "last")

The first marker lies in steps 1 … ⌊T/2⌋, so its value must be carried up to T/2 steps or more.
Always answering 1 (the mean of the sum) scores an MSE of 1/6 ≈ 0.167: the baseline to beat.
Values are continuous, so training and held-out sequences coincide with probability 0; the held-out
stream is a separate random stream.
"""

from __future__ import annotations

import numpy as np

from .base import Task


class Adding(Task):
    """x (T, B, 2): value and marker channels; target (B, 1): the sum of the two marked values."""

    name = "adding"
    loss = "mse"
    readout = "last"
    MIN_LENGTH = 2
    input_size = 2
    output_size = 1

    def __init__(self, *, length: int, seed: int = 0, dtype=np.float64):
        super().__init__(length=length, seed=seed, dtype=dtype)
        self.seq_len = self.length

    def _draw(self, rng, batch_size, heldout):
        T, half = self.seq_len, self.seq_len // 2
        x = np.zeros((T, batch_size, 2), self.dtype)
        x[:, :, 0] = rng.random((T, batch_size))
        columns = np.arange(batch_size)
        first = rng.integers(0, half, size=batch_size)
        second = rng.integers(half, T, size=batch_size)
        x[first, columns, 1] = 1.0
        x[second, columns, 1] = 1.0
        target = (x[first, columns, 0] + x[second, columns, 0])[:, None]
        return x, target

    def step_labels(self, x, example=0):
        """The value at the two marked steps ("0.87"), "·" elsewhere."""
        return [f"{value:.2f}" if marker else "·" for value, marker in self._example(x, example).tolist()]
