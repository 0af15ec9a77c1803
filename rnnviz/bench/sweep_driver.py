"""Run one memory-horizon sweep with the rnnviz of a given checkout, and print it as JSON.

    python sweep_driver.py CHECKOUT SPEC_JSON

``rnnviz bench --only horizon --against CHECKOUT`` starts this file in a fresh process for either
side of a comparison, so the code under test is whatever CHECKOUT holds: today's tree, or an older
commit whose `rnnviz.horizon` API differs. The checkout replaces this file's folder at the front
of ``sys.path`` (the forkserver, and so every worker, inherits that path) before anything from
rnnviz is imported; this file imports nothing of rnnviz at module level, so it can be loaded by the
workers of any checkout.

SPEC_JSON names the sweep: ``{"sweep": "default"}`` (the Memory horizon tab's default: every
architecture of horizon.toml on recall) or ``{"sweep": "preset", "preset": NAME}`` (``rnnviz
horizon --preset NAME``), with ``lags``, ``seeds`` (a list), ``steps`` and ``target``. It prints one
JSON object: the sweep's wall time (worker start-up included, as in the app), its runs and the
horizons the checkout's own `horizons` computed.

Two APIs are known: `Sweep(configs, lags, seeds, budget, search=...)` with a `Budget` (since the
lag search landed) and `Sweep(configs, lags, seeds, steps, target)` (every lag on every seed, as at
d745917, when issue 15 was filed).
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import time


def _sweep_api(horizon, spec: dict):
    """(configs, make_sweep) for the checkout's API."""
    from rnnviz.presets import load_preset

    if spec["sweep"] == "preset":
        configs = {spec["preset"]: load_preset(spec["preset"]).settings}
    elif hasattr(horizon, "Budget"):
        configs = horizon.default_configs(horizon.default_config(), "recall")
    else:
        configs = horizon.default_configs("recall")
    if hasattr(horizon, "Budget"):
        config = horizon.default_config()
        budget = config.budget(steps=spec["steps"], target=spec["target"])
        search = spec.get("search") or config.sweep.search
        # As `rnnviz horizon` starts its sweep (workers forked from its own process), where this
        # checkout's Sweep can; the tab's sweep runs in a process with threads (the worker server).
        options = ({"fork": True} if spec["sweep"] == "preset"
                   and "fork" in inspect.signature(horizon.Sweep).parameters else {})
        return configs, lambda: horizon.Sweep(configs, spec["lags"], spec["seeds"], budget,
                                              search=search, **options)
    return configs, lambda: horizon.Sweep(configs, spec["lags"], spec["seeds"], spec["steps"],
                                          spec["target"])


def main(checkout: str, spec_text: str) -> None:
    sys.path[0] = os.path.abspath(checkout)
    spec = json.loads(spec_text)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)      # the sweeping process itself only collects results
    from rnnviz import horizon

    configs, make_sweep = _sweep_api(horizon, spec)
    start, cpu_start = time.perf_counter(), time.process_time()
    run = make_sweep()
    results = list(run.results())
    wall = time.perf_counter() - start
    found = horizon.horizons(results, spec["target"])
    print(json.dumps({
        "module": horizon.__file__, "wall": wall, "parent_cpu": time.process_time() - cpu_start,
        "workers": run.max_workers, "runs": [r.as_dict() for r in results],
        # runs a newer Sweep stopped once its vote was settled: their CPU counts too
        "cpu": sum(r.cpu_seconds for r in [*results, *getattr(run, "discarded", [])]),
        "discarded": len(getattr(run, "discarded", [])),
        "iterations": sum(r.iterations for r in results),
        "horizons": {label: found.get(label) for label in configs},
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
