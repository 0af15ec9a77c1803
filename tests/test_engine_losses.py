"""Loss means exactly as torch's cross_entropy / mse_loss define them, written out independently."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from rnnviz.engine import accuracy, loss_and_grad, predictions


def direct_cross_entropy(logits, classes):
    """−mean over rows of log(e^{z_c} / Σ_j e^{z_j}), one row at a time with math.exp."""
    rows = logits.reshape(-1, logits.shape[-1])
    total = 0.0
    for z, c in zip(rows, np.asarray(classes).reshape(-1)):
        total += -math.log(math.exp(z[c]) / sum(math.exp(v) for v in z))
    return total / len(rows)


@pytest.mark.parametrize("shape", [(4, 3), (5, 4, 3)], ids=["last", "all"])
def test_cross_entropy_is_the_mean_over_batch_and_time(shape):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=shape)
    classes = rng.integers(0, 3, size=shape[:-1])
    readout = "last" if len(shape) == 2 else "all"
    L, dy = loss_and_grad(logits, classes, "ce", readout)
    assert L == pytest.approx(direct_cross_entropy(logits, classes), rel=1e-14)
    eps = 1e-6
    for index in np.ndindex(shape):
        bump = np.zeros(shape)
        bump[index] = eps
        numeric = (direct_cross_entropy(logits + bump, classes)
                   - direct_cross_entropy(logits - bump, classes)) / (2 * eps)
        assert dy[index] == pytest.approx(numeric, rel=1e-6, abs=1e-10)


@pytest.mark.parametrize("shape", [(4, 3), (5, 4, 3)], ids=["last", "all"])
def test_mse_is_the_mean_over_every_element(shape):
    rng = np.random.default_rng(1)
    y, target = rng.normal(size=shape), rng.normal(size=shape)
    L, dy = loss_and_grad(y, target, "mse", "last" if len(shape) == 2 else "all")
    assert L == pytest.approx(float(((y - target) ** 2).sum()) / y.size, rel=1e-14)
    np.testing.assert_allclose(dy, 2 * (y - target) / y.size, rtol=1e-15)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [-1e5, 1e5, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L, dy = loss_and_grad(logits, np.array([0, 0]), "ce", "last")
    assert L == pytest.approx(2e5 / 2)
    np.testing.assert_allclose(dy, [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-300)


def test_predictions_and_accuracy():
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]])
    assert predictions(logits, "ce").tolist() == [1, 0]
    assert predictions(logits, "mse") is logits
    assert accuracy(logits, np.array([1, 2])) == 0.5
    with pytest.raises(ValueError, match="loss"):
        predictions(logits, "hinge")


@pytest.mark.parametrize("loss, target, message", [
    ("ce", np.zeros(3, int), "shape"),
    ("ce", np.zeros((2, 3), int), "shape"),
    ("ce", np.zeros(2), "integer"),
    ("ce", np.array([0, 3]), "0..2"),
    ("ce", np.array([-1, 0]), "0..2"),
    ("mse", np.zeros((2,)), "shape"),
    ("hinge", np.zeros(2, int), "loss"),
])
def test_bad_targets_raise_value_error(loss, target, message):
    with pytest.raises(ValueError, match=message):
        loss_and_grad(np.zeros((2, 3)), target, loss, "last")
