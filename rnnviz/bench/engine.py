"""Engine benchmarks for ``rnnviz bench``.

Engine: forward+backward (with per-step contribution norms) in ms/step against the *matmul floor*,
the same matrix products done bare into preallocated outputs, so the ratio says how much the
Python around the maths costs. If PyTorch is importable, the same step in PyTorch CPU too.
"""

from __future__ import annotations

import gc
import resource
from typing import Callable

import numpy as np

from rnnviz.bench.timing import interleaved_rounds, paired_ratio
from rnnviz.engine import build_model, fast_tanh
from rnnviz.session import Session
from rnnviz.settings import Settings

SIZES = [(32, 64, 100), (32, 32, 50), (64, 128, 100), (32, 64, 300)]   # (B, H, T)
INPUTS, OUTPUTS = 8, 4


def matmul_floor(B: int, H: int, T: int, gates: int, rng: np.random.Generator) -> Callable[[], None]:
    """The matrix products one BPTT step needs, bare: x W_I and y = h W_O as one GEMM each, T
    recurrent products h_{t-1} W_H forward and T products δ W_Hᵀ backward, and the weight-gradient
    GEMMs Xᵀ δA, H_prevᵀ δA, Hᵀ dY."""
    G = gates * H
    X = rng.standard_normal((T * B, INPUTS))
    W_I, W_H, W_O = rng.standard_normal((INPUTS, G)), rng.standard_normal((H, G)), rng.standard_normal((H, OUTPUTS))
    Hs, dA = rng.standard_normal((T * B, H)), rng.standard_normal((T * B, G))
    A, Y, dY = np.empty((T * B, G)), np.empty((T * B, OUTPUTS)), rng.standard_normal((T * B, OUTPUTS))
    rec, back = np.empty((B, G)), np.empty((B, H))
    gI, gH, gO = np.empty((INPUTS, G)), np.empty((H, G)), np.empty((H, OUTPUTS))

    def run() -> None:
        np.matmul(X, W_I, out=A)
        for t in range(T):
            np.matmul(Hs[t * B:(t + 1) * B], W_H, out=rec)
        np.matmul(Hs, W_O, out=Y)
        for t in range(T):
            np.matmul(dA[t * B:(t + 1) * B], W_H.T, out=back)
        np.matmul(X.T, dA, out=gI)
        np.matmul(Hs.T, dA, out=gH)
        np.matmul(Hs.T, dY, out=gO)
    return run


def engine_step(arch: str, B: int, H: int, T: int, rng: np.random.Generator) -> Callable[[], object]:
    """One forward+backward of the model, including each step's contribution norms for W_H."""
    model = build_model(arch, INPUTS, H, OUTPUTS, seed=0)
    x = rng.standard_normal((T, B, INPUTS))
    target = rng.integers(0, OUTPUTS, size=B)

    def run():
        trace = model.forward_backward(x, target, loss="ce", readout="last")
        return trace.contribution_norms("W_H"), trace.dh_norms
    return run


def torch_step(arch: str, B: int, H: int, T: int):
    """The same work in PyTorch CPU (float64, one thread), or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cls = torch.nn.RNN if arch == "rnn" else torch.nn.LSTM
    net = cls(INPUTS, H, nonlinearity="tanh").double() if arch == "rnn" else cls(INPUTS, H).double()
    head = torch.nn.Linear(H, OUTPUTS).double()
    x = torch.randn(T, B, INPUTS, dtype=torch.float64)
    target = torch.randint(0, OUTPUTS, (B,))

    def run():
        net.zero_grad()
        head.zero_grad()
        out, _ = net(x)
        loss = torch.nn.functional.cross_entropy(head(out[-1]), target)
        loss.backward()
    return run


def bench_engine(quick: bool) -> list[dict]:
    """Per size: best ms per step, floor and torch; ratios are medians of same-round pairs."""
    rng = np.random.default_rng(0)
    rounds, number = (10, 2) if quick else (40, 3)
    rows = []
    for arch, gates in (("rnn", 1), ("lstm", 4)):
        for B, H, T in SIZES[:2] if quick else SIZES:
            fns = {"step": engine_step(arch, B, H, T, rng), "floor": matmul_floor(B, H, T, gates, rng)}
            torch_run = torch_step(arch, B, H, T)
            if torch_run is not None:
                fns["torch"] = torch_run
            t = interleaved_rounds(fns, rounds, number)
            row = {"arch": arch, "B": B, "H": H, "T": T, "ms_per_step": 1e3 * t["step"].min(),
                   "floor_ms": 1e3 * t["floor"].min(), "ratio_to_floor": paired_ratio(t["step"], t["floor"])}
            if "torch" in t:
                row.update(torch_ms=1e3 * t["torch"].min(), speedup_vs_torch=paired_ratio(t["torch"], t["step"]))
            rows.append(row)
    return rows


def bench_session(quick: bool) -> dict:
    """A full training step (batch, BPTT, clipping, Adam, snapshot) and memory over many steps."""
    settings = Settings(task="adding", seq_len=100, hidden=64, batch=32, arch="rnn")
    session = Session(settings)
    t = interleaved_rounds({"step": session.step, "floor": matmul_floor(32, 64, 100, 1, np.random.default_rng(1))},
                           10 if quick else 40, 3)
    step_ms, floor_ms = 1e3 * t["step"].min(), 1e3 * t["floor"].min()
    steps = 2_000 if quick else 20_000
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(steps):
        session.step()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"settings": "adding T=100 H=64 B=32 rnn/tanh adam", "ms_per_training_step": step_ms,
            "floor_ms": floor_ms, "ratio_to_floor": paired_ratio(t["step"], t["floor"]),
            "steps_for_memory": steps, "max_rss_growth_mb": (rss_after - rss_before) / 1024}


def _print_engine(rows: list[dict]) -> None:
    kernel = "compiled (numba)" if fast_tanh.COMPILED else "numpy's"
    print("engine: forward+backward incl. per-step contribution norms (float64, 1 BLAS thread, "
          f"{kernel} tanh)")
    print("  targets at B=32 H=64 T=100 rnn: ×floor ≤ 1.5, speedup over torch ≥ 2 (ratios: median of "
          "same-round pairs; ms: best round)")
    print(f"  {'arch':<5}{'B':>4}{'H':>5}{'T':>5}{'ms/step':>10}{'floor ms':>10}{'×floor':>8}{'torch ms':>10}{'speedup':>9}")
    for r in rows:
        torch_part = (f"{r['torch_ms']:>10.2f}{r['speedup_vs_torch']:>8.2f}×" if "torch_ms" in r
                      else f"{'n/a':>10}{'':>9}")
        print(f"  {r['arch']:<5}{r['B']:>4}{r['H']:>5}{r['T']:>5}{r['ms_per_step']:>10.2f}"
              f"{r['floor_ms']:>10.2f}{r['ratio_to_floor']:>8.2f}{torch_part}")


def report_engine(quick: bool) -> None:
    """Print the engine table and the full session step."""
    _print_engine(bench_engine(quick))
    s = bench_session(quick)
    print(f"session: full training step {s['ms_per_training_step']:.2f} ms "
          f"({s['ratio_to_floor']:.2f}× floor {s['floor_ms']:.2f} ms) [{s['settings']}]")
    print(f"  max RSS growth over {s['steps_for_memory']} further steps: {s['max_rss_growth_mb']:.1f} MB")
