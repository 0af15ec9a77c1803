"""``sine``: predict the next value of a noisy sine wave.

    s_t = sin(ω t + φ) + ε_t,   ε_t ~ N(0, σ²),   t = 0 … T
    x_t = s_{t−1},  target_t = s_t   for t = 1 … T                   (mse, readout "all")

Each sequence has its own phase φ ~ U(0, 2π) and angular frequency ω ~ U(2π/40, 2π/8) (a period of
8 to 40 steps), so the network must infer both from what it has seen: a short-memory task that
every architecture can learn, the contrast to ``recall``. The noise (σ = ``noise``) cannot be
predicted: the best possible MSE is σ².
"""

from __future__ import annotations

import math

import numpy as np

from .base import Task, check_number

#: Range of the angular frequency ω in radians per step (periods of 40 down to 8 steps).
FREQUENCIES = (2 * math.pi / 40, 2 * math.pi / 8)


class Sine(Task):
    """x (T, B, 1) the observed values; target (T, B, 1) each step's next value."""

    name = "sine"
    loss = "mse"
    readout = "all"
    OPTIONS = ("noise",)
    input_size = 1
    output_size = 1

    def __init__(self, *, length: int, seed: int = 0, dtype=np.float64, noise: float = 0.1):
        super().__init__(length=length, seed=seed, dtype=dtype)
        self.noise = check_number("noise", noise, 0.0, 10.0)
        self.seq_len = self.length

    def _draw(self, rng, batch_size, heldout):
        T = self.seq_len
        omega = rng.uniform(*FREQUENCIES, size=batch_size)
        phi = rng.uniform(0.0, 2 * math.pi, size=batch_size)
        t = np.arange(T + 1)[:, None]
        s = np.sin(omega * t + phi) + self.noise * rng.standard_normal((T + 1, batch_size))
        s = s.astype(self.dtype)[:, :, None]
        return s[:-1], s[1:].copy()                 # x and target: separate arrays

    def step_labels(self, x, example=0):
        """Each step's input value, "+0.42"."""
        return [f"{value:+.2f}" for value in self._example(x, example)[:, 0].tolist()]
