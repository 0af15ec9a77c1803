"""Memory-horizon benchmark for ``rnnviz bench``: the Memory horizon tab's default sweep, timed."""

from __future__ import annotations

import time

from rnnviz.horizon import DIVERGED, PLATEAU, REACHED, Sweep, default_config, default_configs, horizons


#: Quick bench: every architecture, a short grid, one seed, a quarter of the budget.
QUICK_LAGS, QUICK_SEEDS, QUICK_BUDGET_FRACTION = (5, 20, 80), 1, 0.25


def bench_horizon(quick: bool) -> dict:
    """Wall time of the default sweep (5 architectures × 6 lags × 3 seeds on recall) in parallel
    worker processes, with the horizons it measured."""
    config = default_config()
    lags = QUICK_LAGS if quick else config.sweep.lags
    seeds = QUICK_SEEDS if quick else config.sweep.seeds
    budget = config.budget(steps=int(config.sweep.steps * (QUICK_BUDGET_FRACTION if quick else 1)))
    steps = budget.steps
    configs = default_configs(config, "recall")
    run = Sweep(configs, lags, seeds, budget, search=config.sweep.search)
    start = time.perf_counter()
    results = list(run.results())
    wall = time.perf_counter() - start
    report = {
        "sweep": f"{len(configs)} architectures × {len(lags)} lags × {seeds} seeds, recall, "
                 f"budget {steps} iterations",
        "workers": run.max_workers, "runs": len(results), "wall_seconds": wall,
        "run_seconds_total": sum(r.seconds for r in results),
        "run_cpu_seconds_total": sum(r.cpu_seconds for r in results),
        "iterations_total": sum(r.iterations for r in results),
        "stopped_early": sum(r.stopped in (REACHED, PLATEAU, DIVERGED) and r.iterations < steps
                             for r in results),
    }
    found = horizons(results, budget.target)
    for label in configs:
        value = found.get(label)
        report[f"horizon {label}"] = "none" if value is None else value
    return report
