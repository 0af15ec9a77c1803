"""``rnnviz bench``: the speed and memory figures the issues ask for, measured in one run.

One module per part: `engine` (forward+backward against the matmul floor and PyTorch), `gui`
(throughput, latency, diagram frame rate; `startup`: first paint and first iteration), `recording`
(filming + encoding), `horizon` (the memory horizon sweep) and `soak` (an hour of training in the
window, resident memory sampled; only when asked for: ``--only soak``). `timing` holds the interleaved-rounds timer they share.
"""

from __future__ import annotations

import importlib

from threadpoolctl import threadpool_limits


def bench_command(args) -> int:
    parts = args.only or ["engine", "gui", "record", "horizon"]
    if "engine" in parts:
        # Imported first: threadpoolctl limits only the BLAS libraries already loaded (numpy's).
        from rnnviz.bench.engine import report_engine
        with threadpool_limits(1):
            report_engine(args.quick)
    for part, module, function in (("gui", "rnnviz.bench.gui", "bench_gui"),
                                   ("record", "rnnviz.bench.recording", "bench_record"),
                                   ("horizon", "rnnviz.bench.horizon", "bench_horizon"),
                                   ("soak", "rnnviz.bench.soak", "bench_soak")):
        if part in parts:
            options = {"against": args.against} if part == "horizon" and args.against else {}
            _run_optional(part, module, function, args.quick, **options)
    return 0


def _run_optional(part: str, module: str, function: str, quick: bool, **options) -> None:
    try:
        bench = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        print(f"{part}: not available ({exc})")
        return
    print(f"{part}:")
    for key, value in bench(quick, **options).items():
        shown = f"{value:.3g}" if isinstance(value, float) else value
        print(f"  {key}: {shown}")
