"""Headless training from the command line: ``rnnviz train`` and ``rnnviz presets``."""

from __future__ import annotations

import json
import math
import sys
import time

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from rnnviz.divergence import diagnose
from rnnviz.presets import PresetError, load_preset, preset_names, preset_with_overrides
from rnnviz.session import Session, Snapshot


def list_presets_command() -> int:
    names = preset_names()
    width = max(map(len, names), default=0)
    for name in names:
        try:
            title = load_preset(name).title
        except PresetError as exc:   # one broken file must not hide the others
            title = f"(invalid: {exc})"
        print(f"{name:<{width}}  {title}")
    return 0


def json_number(value: float | None) -> float | None:
    """JSON has no inf/NaN: finite floats stay numbers, the others become None (null)."""
    return value if value is None or math.isfinite(value) else None


def _word(value: float) -> str:
    return "NaN" if math.isnan(value) else ("+inf" if value > 0 else "-inf")


def strict_json(record: dict) -> str:
    """`record` as one line of strict JSON: a NaN or infinite number becomes null, and
    ``non_finite`` names what it was (``{"loss": "NaN", "grad_norm": "+inf"}``). Only a diverged
    run has such values, so ``status`` (``"diverged"``, with ``divergence`` saying how) tells why."""
    out, odd = {}, {}
    for key, value in record.items():
        if isinstance(value, float) and not math.isfinite(value):
            odd[key] = _word(value)
            value = None
        out[key] = value
    if odd:
        out["non_finite"] = odd
    return json.dumps(out, allow_nan=False)


def log_record(snap: Snapshot) -> dict:
    """One log line: the scalars of a snapshot."""
    return {
        "iteration": snap.iteration, "loss": snap.loss, "accuracy": snap.accuracy,
        "grad_norm": snap.grad_norm, "grad_norm_clipped": snap.grad_norm_clipped,
        "clip_events": snap.clip_events, "spectral_radius": snap.spectral_radius, "status": snap.status,
    }


def summary(session: Session, preset: str, seconds: float) -> dict:
    """The final report: how the run ended and how well the model does on fresh data."""
    snap = session.snapshot()
    evaluation = session.evaluate()
    diagnosis = diagnose(snap)
    return {
        "status": snap.status if snap.diverged else "finished",
        "preset": preset,
        "iterations": snap.iteration,
        "final_loss": snap.loss,
        "accuracy": evaluation["accuracy"],
        "eval_loss": evaluation["loss"],
        "chance": session.task.chance,
        "initial_loss": snap.initial_loss,
        "diverged_at": snap.diverged_at,
        "divergence": snap.divergence,
        "diagnosis": diagnosis.as_dict() if diagnosis else None,
        "max_grad_norm": snap.max_grad_norm,
        "clip_events": snap.clip_events,
        "spectral_radius": snap.spectral_radius,
        "seconds": round(seconds, 3),
        "settings": snap.settings.as_dict(),
    }


def train_command(args) -> int:
    preset, settings = preset_with_overrides(args.preset, args.overrides)
    steps = args.steps or preset.steps
    session = Session(settings)
    start = time.perf_counter()
    bar = tqdm(total=steps, unit="it", disable=not sys.stderr.isatty(), file=sys.stderr,
               desc=preset.name, leave=False)
    # One BLAS thread: on small matrices extra threads only compete (measured on two shared cores:
    # BLAS limited to one thread trained faster, not slower).
    with bar, threadpool_limits(1):
        for snap in session.run(steps):
            bar.update(1)
            if snap.iteration % args.log_every == 0 or snap.diverged:
                bar.set_postfix(loss=f"{snap.loss:.4g}", grad=f"{snap.grad_norm:.3g}", refresh=False)
                if args.json:
                    print(strict_json(log_record(snap)), flush=True)
                elif bar.disable:
                    print(_log_line(snap), flush=True)
    report = summary(session, preset.name, time.perf_counter() - start)
    if args.json:
        print(strict_json(report), flush=True)
    else:
        print(_summary_text(report))
    return 0


def _log_line(snap: Snapshot) -> str:
    acc = "" if snap.accuracy is None else f"  acc {snap.accuracy:.4g}"
    return (f"it {snap.iteration:>6}  loss {snap.loss:.4g}{acc}  ‖g‖ {snap.grad_norm:.4g}"
            f"  clipped {snap.clip_events}")


def number(value: float | None) -> str:
    """A number for plain text: 4 significant digits ("nan", "inf" as they are); "none" if missing."""
    return "none" if value is None else f"{value:.4g}"


def times(count: int) -> str:
    """ "1 time", "3 times"."""
    return f"{count} time" if count == 1 else f"{count} times"


def _summary_text(report: dict) -> str:
    lines = [f"{report['preset']}: {report['status']} after {report['iterations']} iterations "
             f"in {report['seconds']:.1f} s"]
    if report["diagnosis"] is not None:
        diagnosis = report["diagnosis"]
        lines.append(f"  {diagnosis['message']}")
        tries = " or ".join(" ".join(f"--set {k}={v}" for k, v in option.items())
                            for option in diagnosis["advice"])
        lines.append(f"  try: {tries}")
    lines.append(f"  final loss {number(report['final_loss'])}, held-out loss {number(report['eval_loss'])}")
    if report["accuracy"] is not None:
        lines.append(f"  held-out accuracy {number(report['accuracy'])} (chance {number(report['chance'])})")
    lines.append(f"  largest gradient norm {number(report['max_grad_norm'])}, "
                 f"clipped {times(report['clip_events'])}")
    return "\n".join(lines)
