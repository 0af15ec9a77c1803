"""Memory-horizon benchmark for ``rnnviz bench``: the bisection against the exhaustive grid, timed.

Every figure compares the two searches of `rnnviz.horizon.Sweep` on the same machine in the same
run: ``grid`` trains every lag on every seed (the sweep as it was before the bisection) and
``bisect`` trains only the lags and seeds a bisection on the lag grid needs. They take turns round by
round (the first one alternates), so both see the same load. Each round uses its own seeds (round r:
seeds 3r, 3r+1, …; for a preset, its own seed + 3r, …), so the horizons are compared on several
seed sets, not one repeated. Wall times include starting the worker processes, as in the app.

1. The Memory horizon tab's default sweep: horizon.toml's architectures × lags × seeds on recall.
2. ``rnnviz horizon --preset P`` for the lesson presets behind those architectures.
3. The sweep's cost as it grows (architectures × lags × seeds): runs trained, CPU and wall time.

``--against CHECKOUT`` compares instead this tree's sweeps with another checkout's (e.g. the
code as it was when issue 15 was filed): the tab's default sweep and ``rnnviz horizon --preset P``
for each preset, each side in a fresh process that imports its own checkout (`sweep_driver`), the
sides taking turns (the first alternates round by round), on the same seeds, lags and budget. It
reports both sides' wall times, the same-round ratios, the CPU time of the runs, the load average
and both sides' horizons.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from rnnviz.errors import UsageError
from rnnviz.horizon import Budget, Sweep, default_config, default_configs, horizons
from rnnviz.presets import load_preset
from rnnviz.settings import Settings

SEARCHES = ("grid", "bisect")
#: Rounds of each comparison (each round runs both searches).
ROUNDS, QUICK_ROUNDS = 3, 1
#: Quick bench: a short grid, one seed, a quarter of the budget.
QUICK_LAGS, QUICK_SEEDS, QUICK_BUDGET_FRACTION = (5, 20, 80), 1, 0.25
#: Growth: (architectures, lags) points timed with both searches on one seed, then a finer lag grid
#: (√2 apart) on every seed with the bisection alone.
GROWTH_POINTS = ((1, (5, 20, 80)), (5, (5, 20, 80)), (5, (5, 10, 20, 40, 80, 160)))
FINE_LAGS = (5, 7, 10, 14, 20, 28, 40, 57, 80, 113, 160)


def _sweep(configs: Mapping[str, Settings], lags: Sequence[int], seeds: Sequence[int],
           budget: Budget, search: str) -> dict:
    run = Sweep(configs, lags, seeds, budget, search=search)
    start = time.perf_counter()
    results = list(run.results())
    return {"wall": time.perf_counter() - start, "runs": len(results),
            "cpu": sum(r.cpu_seconds for r in [*results, *run.discarded]),
            "iterations": sum(r.iterations for r in results),
            "horizons": horizons(results, budget.target)}


def _compare(configs: Mapping[str, Settings], lags: Sequence[int], seeds: int, budget: Budget,
             rounds: int, first_seed: int = 0) -> list[dict[str, dict]]:
    """`rounds` rounds of both searches on the same configurations; round r trains `seeds` seeds
    from first_seed + seeds·r."""
    measured = []
    for r in range(rounds):
        round_seeds = [first_seed + seeds * r + i for i in range(seeds)]
        order = SEARCHES if r % 2 == 0 else SEARCHES[::-1]
        measured.append({search: _sweep(configs, lags, round_seeds, budget, search)
                         for search in order})
    return measured


def _span(values: Sequence[float], unit: str = " s") -> str:
    low, high = min(values), max(values)
    return f"{low:.1f}{unit}" if len(values) == 1 else f"{low:.1f}–{high:.1f}{unit}"


def _summary(measured: list[dict[str, dict]]) -> dict[str, str]:
    ratios = [m["grid"]["wall"] / m["bisect"]["wall"] for m in measured]
    cpu_ratios = [m["grid"]["cpu"] / max(m["bisect"]["cpu"], 1e-9) for m in measured]
    agree = sum(m["grid"]["horizons"] == m["bisect"]["horizons"] for m in measured)
    return {
        "grid wall": _span([m["grid"]["wall"] for m in measured]),
        "bisect wall": _span([m["bisect"]["wall"] for m in measured]),
        "speed-up (wall, same round)": f"{statistics.median(ratios):.2f}× (rounds {_span(ratios, '×')})",
        "speed-up (CPU of the runs)": f"{statistics.median(cpu_ratios):.2f}× "
                                      f"(rounds {_span(cpu_ratios, '×')})",
        "runs grid / bisect": " | ".join(f"{m['grid']['runs']} / {m['bisect']['runs']}"
                                         for m in measured),
        "horizons agree": f"{agree} of {len(measured)} rounds",
    }


def _horizon_rows(measured: list[dict[str, dict]]) -> dict[str, str]:
    def shown(value):
        return "none" if value is None else str(value)

    labels = list(measured[0]["grid"]["horizons"])
    return {f"horizon {label} (grid | bisect, per round)":
            " ".join(f"{shown(m['grid']['horizons'].get(label))}|"
                     f"{shown(m['bisect']['horizons'].get(label))}" for m in measured)
            for label in labels}


def bench_horizon(quick: bool, against: str | None = None) -> dict:
    """The default sweep, the presets and the growth table, grid against bisection; with
    `against`, this tree's sweeps against another checkout's (`compare_checkouts`)."""
    if against:
        return compare_checkouts(Path(against), quick)
    config = default_config()
    rounds = QUICK_ROUNDS if quick else ROUNDS
    lags = QUICK_LAGS if quick else config.sweep.lags
    seeds = QUICK_SEEDS if quick else config.sweep.seeds
    budget = config.budget(steps=int(config.sweep.steps * (QUICK_BUDGET_FRACTION if quick else 1)))
    report: dict[str, object] = {}

    configs = default_configs(config, "recall")
    report["default sweep"] = (f"{len(configs)} architectures × {len(lags)} lags × {seeds} seeds, "
                               f"recall, budget {budget.steps} iterations, {rounds} rounds")
    measured = _compare(configs, lags, seeds, budget, rounds)
    report.update({f"default sweep: {k}": v for k, v in _summary(measured).items()})
    report.update(_horizon_rows(measured))

    for arch in config.architectures:
        preset = load_preset(arch.preset).settings
        # Round 0 is `rnnviz horizon --preset P` with its defaults (the preset's seed and the next).
        per_round = _compare({arch.preset: preset}, lags, seeds, budget, rounds, preset.seed)
        summary = _summary(per_round)
        report[f"preset {arch.preset}"] = (
            f"grid {summary['grid wall']}, bisect {summary['bisect wall']}, speed-up "
            f"{summary['speed-up (wall, same round)']}; CPU {summary['speed-up (CPU of the runs)']}; "
            f"runs {summary['runs grid / bisect']}; horizons agree {summary['horizons agree']} "
            f"({' '.join(str(m['grid']['horizons'][arch.preset]) for m in per_round)})")

    points = GROWTH_POINTS[:1] if quick else GROWTH_POINTS
    for count, point_lags in points:
        chosen = dict(list(configs.items())[:count])
        m = _compare(chosen, point_lags, 1, budget, 1)[0]
        report[f"growth {count}×{len(point_lags)}×1"] = (
            f"grid {m['grid']['runs']} runs, {m['grid']['cpu']:.1f} s CPU, {m['grid']['wall']:.1f} s; "
            f"bisect {m['bisect']['runs']} runs, {m['bisect']['cpu']:.1f} s CPU, "
            f"{m['bisect']['wall']:.1f} s")
    grid_runs = [m["grid"]["runs"] for m in measured]
    report[f"growth {len(configs)}×{len(lags)}×{seeds}"] = (
        f"grid {grid_runs[0]} runs, {statistics.median(m['grid']['cpu'] for m in measured):.1f} s "
        f"CPU; bisect {statistics.median(m['bisect']['runs'] for m in measured):.0f} runs, "
        f"{statistics.median(m['bisect']['cpu'] for m in measured):.1f} s CPU (default sweep, medians)")
    if not quick:
        fine = _sweep(configs, FINE_LAGS, list(range(seeds)), budget, "bisect")
        report[f"growth {len(configs)}×{len(FINE_LAGS)}×{seeds}"] = (
            f"bisect {fine['runs']} runs, {fine['cpu']:.1f} s CPU, {fine['wall']:.1f} s "
            f"(the grid would train {len(configs) * len(FINE_LAGS) * seeds} runs); horizons "
            + ", ".join(f"{k} {v}" for k, v in fine["horizons"].items()))
    return report


# ----------------------------------------------------------------------------- against a checkout
#: Rounds of the checkout comparison (each round runs every sweep on both sides).
AGAINST_ROUNDS, AGAINST_QUICK_ROUNDS = 2, 1
THIS_CHECKOUT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("sweep_driver.py")


def run_checkout_sweep(checkout: Path, spec: dict) -> dict:
    """One sweep (`sweep_driver`'s spec) with `checkout`'s rnnviz, in a fresh process whose working
    folder and PYTHONPATH are the checkout (the forkserver that forks the workers starts from
    them; Python 3.11's ignores the parent's sys.path), at this process's priority."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, str(DRIVER), str(checkout), json.dumps(spec)], cwd=checkout,
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"sweep in {checkout} failed ({done.returncode}): {done.stderr[-2000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(measured["module"]).resolve().parents[1] != checkout.resolve():
        raise RuntimeError(f"the sweep for {checkout} imported {measured['module']}")
    return measured


def _specs(quick: bool) -> list[tuple[str, dict]]:
    config = default_config()
    lags = list(QUICK_LAGS if quick else config.sweep.lags)
    steps = int(config.sweep.steps * (QUICK_BUDGET_FRACTION if quick else 1))
    common = {"lags": lags, "steps": steps, "target": config.sweep.target}
    specs = [("default sweep", {"sweep": "default", "first_seed": 0, **common})]
    for arch in config.architectures:
        seed = load_preset(arch.preset).settings.seed
        specs.append((f"preset {arch.preset}",
                      {"sweep": "preset", "preset": arch.preset, "first_seed": seed, **common}))
    return specs


def compare_checkouts(other: Path, quick: bool, this: Path = THIS_CHECKOUT,
                      rounds: int | None = None) -> dict:
    """`this` tree's default sweep and preset sweeps against `other`'s, in interleaved rounds."""
    other, this = other.resolve(), this.resolve()
    if not (other / "rnnviz" / "horizon.py").is_file():
        raise UsageError(f"--against {other}: no rnnviz/horizon.py there")
    seeds = QUICK_SEEDS if quick else default_config().sweep.seeds
    rounds = rounds or (AGAINST_QUICK_ROUNDS if quick else AGAINST_ROUNDS)
    sides = {"other": other, "this": this}
    report: dict[str, object] = {"against": f"{other} (other) vs {this} (this); {rounds} "
                                            f"round(s), {seeds} seed(s), 2 worker processes each"}
    for side in sides.values():
        # Untimed: numba keeps its compiled kernels beside the code they came from, so a checkout's
        # first sweep would otherwise time their compilation (~10 s), not the sweep.
        run_checkout_sweep(side, {"sweep": "default", "lags": [5], "seeds": [0], "steps": 1,
                                  "target": default_config().sweep.target})
    measured: dict[str, list[dict]] = {name: [] for name, _ in _specs(quick)}
    for r in range(rounds):
        for i, (name, spec) in enumerate(_specs(quick)):
            first = spec["first_seed"] + seeds * r
            spec = {**spec, "seeds": list(range(first, first + seeds))}
            order = list(sides) if (r + i) % 2 == 0 else list(sides)[::-1]
            load = os.getloadavg()[0]
            row = {side: run_checkout_sweep(sides[side], spec) for side in order}
            row.update(load=(load, os.getloadavg()[0]), seeds=spec["seeds"], first=order[0])
            measured[name].append(row)
            print(f"  [{name} round {r}: other {row['other']['wall']:.1f} s, this "
                  f"{row['this']['wall']:.1f} s, load {load:.1f}]", file=sys.stderr, flush=True)
    for name, rows in measured.items():
        report.update(_against_rows(name, rows))
    return report


def _against_rows(name: str, rows: list[dict]) -> dict[str, str]:
    def shown(horizons: dict) -> str:
        return ",".join("none" if v is None else str(v) for v in horizons.values())

    ratios = [row["other"]["wall"] / row["this"]["wall"] for row in rows]
    cpu_ratios = [row["other"]["cpu"] / max(row["this"]["cpu"], 1e-9) for row in rows]
    loads = [value for row in rows for value in row["load"]]
    agree = sum(row["other"]["horizons"] == row["this"]["horizons"] for row in rows)
    return {
        f"{name}: wall other | this": f"{_span([r['other']['wall'] for r in rows])} | "
                                      f"{_span([r['this']['wall'] for r in rows])}",
        f"{name}: speed-up (wall, same round)": f"{statistics.median(ratios):.2f}× "
                                                f"(rounds {_span(ratios, '×')})",
        f"{name}: speed-up (CPU of the runs)": f"{statistics.median(cpu_ratios):.2f}× "
                                               f"(rounds {_span(cpu_ratios, '×')})",
        f"{name}: runs other | this": " ; ".join(f"{len(r['other']['runs'])} | {len(r['this']['runs'])}"
                                               for r in rows),
        f"{name}: horizons other | this (per round, seeds)": " ; ".join(
            f"{shown(r['other']['horizons'])} | {shown(r['this']['horizons'])} "
            f"(seeds {r['seeds'][0]}-{r['seeds'][-1]})" for r in rows),
        f"{name}: horizons agree": f"{agree} of {len(rows)} rounds",
        f"{name}: load average (1 min) at start/end": _span(loads, ""),
    }
