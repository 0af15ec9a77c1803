"""The exploding and clipping presets tell the lecture's story, on seeds other than their own, and
the divergence diagnosis gives advice that works when applied from the command line.

The story: at initialisation nothing is wrong (the loss is about that of predicting zero), then the
gradient norm spikes, an update overshoots and the run diverges within a few iterations; the same
run with a 10× lower learning rate stays finite for the preset's whole budget; with norm clipping at
the preset's own learning rate it stays finite and learns. A preset edit that breaks any of this
fails here.
"""

import json
import math

import numpy as np
import pytest

from rnnviz.cli import main
from rnnviz.divergence import FORWARD, OVERSHOOT, diagnose
from rnnviz.engine import make_task
from rnnviz.presets import load_preset
from rnnviz.session import Session
from rnnviz.settings import Settings

#: Seeds other than the presets' own (0).
SEEDS = (3, 8)


def zero_predictor_loss(settings) -> float:
    """The held-out MSE of predicting 0 for every value: the mean of target² on the held-out batch
    that `Session.evaluate` scores (the first one of the task's held-out stream)."""
    _, target = make_task(settings.task, length=settings.length, seed=settings.seed).eval_batch(256)
    return float(np.mean(target * target))


@pytest.fixture(params=SEEDS, ids=lambda seed: f"seed{seed}")
def exploding(request):
    preset = load_preset("exploding")
    return preset, preset.settings.replace(seed=request.param)


def test_the_forward_pass_is_ordinary_then_an_update_overshoots(exploding):
    _, settings = exploding
    assert settings.seed != load_preset("exploding").settings.seed
    session = Session(settings)
    first = session.snapshot()
    trivial = zero_predictor_loss(settings)
    assert math.isfinite(first.loss) and first.loss < 10 * trivial
    snaps = list(session.run(100))
    last = snaps[-1]
    assert last.diverged and last.diverged_at <= 100
    finite = [s.grad_norm for s in snaps if math.isfinite(s.grad_norm)]
    assert max(finite) > 100 * first.grad_norm        # the gradient norm spiked
    assert diagnose(last).cause == OVERSHOOT            # and an update, not the init, blew it up


def test_a_ten_times_lower_learning_rate_stays_finite(exploding):
    preset, settings = exploding
    session = Session(settings.replace(lr=settings.lr / 10))
    last = list(session.run(preset.steps))[-1]
    assert not last.diverged and last.iteration == preset.steps


def test_clipping_at_the_same_learning_rate_stays_finite_and_learns(exploding):
    _, settings = exploding
    clipping = load_preset("clipping").settings.replace(seed=settings.seed)
    assert clipping.lr == settings.lr and clipping.clip == "norm"
    session = Session(clipping)
    last = list(session.run(300))[-1]
    assert not last.diverged and last.clip_events > 0
    assert session.evaluate()["loss"] < zero_predictor_loss(clipping) / 2


def train(capsys, *args) -> dict:
    """`rnnviz train --json ...`'s final report."""
    assert main(["train", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out.splitlines()[-1])


@pytest.mark.parametrize("seed", SEEDS)
def test_the_advice_for_an_overshoot_works_from_the_cli(capsys, seed):
    base = ["--preset", "exploding", "--set", f"seed={seed}"]
    report = train(capsys, *base)
    assert report["status"] == "diverged" and report["diagnosis"]["cause"] == OVERSHOOT
    advice = report["diagnosis"]["advice"]
    assert {"lr"} in [set(option) for option in advice] and any(o.get("clip") == "norm" for o in advice)
    for option in advice:            # every remedy offered keeps the run finite for its budget
        fixed = train(capsys, *base, *[a for k, v in option.items() for a in ("--set", f"{k}={v}")])
        assert fixed["status"] == "finished", option
        assert fixed["eval_loss"] < report["initial_loss"] * 10


@pytest.mark.parametrize("seed", SEEDS)
def test_the_advice_for_an_overflowing_init_works_from_the_cli(capsys, seed):
    """W_H three times too large: the forward pass overflows before any update. The advice lowers
    the init scale; following the advice again (an overshoot at η = 1) reaches a finite run."""
    args = ["--preset", "exploding", "--set", f"seed={seed}", "--set", "init_scale=3"]
    report = train(capsys, *args)
    assert report["status"] == "diverged" and report["diagnosis"]["cause"] == FORWARD
    initial = report["initial_loss"]
    assert initial is None or initial > 1e3                     # not finite (JSON null), or huge
    trivial = zero_predictor_loss(Settings.from_dict(report["settings"]))
    for _ in range(2):
        option = report["diagnosis"]["advice"][0]
        args += [a for k, v in option.items() for a in ("--set", f"{k}={v}")]
        report = train(capsys, *args)
        assert report["initial_loss"] < 10 * trivial       # the forward pass no longer overflows
        if report["status"] == "finished":
            break
        assert report["diagnosis"]["cause"] == OVERSHOOT
    assert report["status"] == "finished"
