"""Engine benchmarks for ``rnnviz bench``.

Engine: forward+backward (with per-step contribution norms) in ms/step against the *matmul floor*,
the same matrix products done bare into preallocated outputs, so the ratio says how much the
Python around the maths costs. The same step in its peers too, where they are installed (the
``bench`` extra: ``pip install -e ".[bench]"``): ``torch.nn.RNN`` / ``torch.nn.LSTM`` and JAX
``jit(grad)`` over ``lax.scan``, all float64 on one thread. Every ratio is the median of ratios
taken within one round of interleaved calls, so a shared machine's drift cancels out. Times are
CPU time, as every side computes on one thread: the calling thread's (rnnviz, the floor, PyTorch),
the whole process's for JAX, which computes on threads of its own. On a busy shared machine the
wall-clock time of a call also counts the time it waited for a core: same-round wall-clock ratios
swung by ±30% on a 2-core VM with a load of 8-12, CPU-time ratios by a few %.
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import time
from collections.abc import Callable

import numpy as np

from rnnviz.bench.timing import interleaved_rounds, paired_ratio
from rnnviz.engine import build_model, compiled
from rnnviz.session import Session
from rnnviz.settings import Settings

SIZES = [(32, 64, 100), (32, 32, 50), (64, 128, 100), (32, 64, 300)]   # (B, H, T); the first is the targets'
INPUTS, OUTPUTS = 8, 8
ARCHS = (("rnn", 1), ("lstm", 4))                                       # (arch, gate blocks in W_H)
#: One thread for XLA as for BLAS and PyTorch (read when jax is first imported).
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def matmul_floor(B: int, H: int, T: int, gates: int, rng: np.random.Generator) -> Callable[[], None]:
    """The matrix products one BPTT step needs, bare: x W_I and y = h W_O as one GEMM each, T
    recurrent products h_{t-1} W_H forward and T products δ W_Hᵀ backward, and the weight-gradient
    GEMMs Xᵀ δA, H_prevᵀ δA, Hᵀ dY. W_Hᵀ is a contiguous copy, as the engine uses it (BLAS runs
    that layout ~1.5× faster at these sizes)."""
    G = gates * H
    X = rng.standard_normal((T * B, INPUTS))
    W_I, W_H, W_O = rng.standard_normal((INPUTS, G)), rng.standard_normal((H, G)), rng.standard_normal((H, OUTPUTS))
    Hs, dA = rng.standard_normal((T * B, H)), rng.standard_normal((T * B, G))
    A, Y, dY = np.empty((T * B, G)), np.empty((T * B, OUTPUTS)), rng.standard_normal((T * B, OUTPUTS))
    W_HT = np.ascontiguousarray(W_H.T)
    rec, back = np.empty((B, G)), np.empty((B, H))
    gI, gH, gO = np.empty((INPUTS, G)), np.empty((H, G)), np.empty((H, OUTPUTS))

    def run() -> None:
        np.matmul(X, W_I, out=A)
        for t in range(T):
            np.matmul(Hs[t * B:(t + 1) * B], W_H, out=rec)
        np.matmul(Hs, W_O, out=Y)
        for t in range(T):
            np.matmul(dA[t * B:(t + 1) * B], W_HT, out=back)
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
    """The same work with ``torch.nn.RNN`` / ``torch.nn.LSTM`` (CPU, float64, one thread), or None
    when torch is not installed."""
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


def jax_step(arch: str, B: int, H: int, T: int, rng: np.random.Generator):
    """The same work as JAX ``jit(grad(loss))`` over ``lax.scan`` (CPU, float64, one thread), or None
    when jax is not installed."""
    if "jax" not in sys.modules:
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {XLA_ONE_THREAD}".strip()
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    G = (1 if arch == "rnn" else 4) * H
    params = {"W_I": rng.standard_normal((INPUTS, G)) / np.sqrt(INPUTS),
              "W_H": rng.standard_normal((H, G)) / np.sqrt(H), "b": np.zeros(G),
              "W_O": rng.standard_normal((H, OUTPUTS)) / np.sqrt(H), "b_O": np.zeros(OUTPUTS)}
    params = {name: jnp.asarray(value) for name, value in params.items()}
    x = jnp.asarray(rng.standard_normal((T, B, INPUTS)))
    target = jnp.asarray(rng.integers(0, OUTPUTS, size=B))

    def rnn_cell(p, h, x_t):
        h = jnp.tanh(x_t @ p["W_I"] + h @ p["W_H"] + p["b"])
        return h, h

    def lstm_cell(p, state, x_t):
        h, c = state
        a_i, a_f, a_g, a_o = jnp.split(x_t @ p["W_I"] + h @ p["W_H"] + p["b"], 4, axis=1)
        c = jax.nn.sigmoid(a_f) * c + jax.nn.sigmoid(a_i) * jnp.tanh(a_g)
        h = jax.nn.sigmoid(a_o) * jnp.tanh(c)
        return (h, c), h

    def loss(p):
        zeros = jnp.zeros((B, H))
        cell, state = (rnn_cell, zeros) if arch == "rnn" else (lstm_cell, (zeros, zeros))
        _, hs = jax.lax.scan(lambda s, x_t: cell(p, s, x_t), state, x)
        log_p = jax.nn.log_softmax(hs[-1] @ p["W_O"] + p["b_O"])
        return -jnp.mean(log_p[jnp.arange(B), target])

    grad = jax.jit(jax.grad(loss))

    def run():
        jax.block_until_ready(grad(params))
    return run


def bench_engine(quick: bool) -> list[dict]:
    """Per size: best CPU ms per step of each side; ratios are medians of same-round pairs, and at
    each size both architectures, their floors and their peers take turns in the same rounds. The
    first size (the targets') gets the most rounds."""
    rng = np.random.default_rng(0)
    rows = []
    for index, (B, H, T) in enumerate(SIZES[:2] if quick else SIZES):
        rounds, number = (10, 2) if quick else (40, 3) if index == 0 else (15, 2)
        fns = {}
        for arch, gates in ARCHS:
            fns[arch] = engine_step(arch, B, H, T, rng)
            fns[f"{arch} floor"] = matmul_floor(B, H, T, gates, rng)
            for peer, run in (("torch", torch_step(arch, B, H, T)), ("jax", jax_step(arch, B, H, T, rng))):
                if run is not None:
                    fns[f"{arch} {peer}"] = run
        t = interleaved_rounds(fns, rounds, number, clock=time.thread_time,
                               clocks={name: time.process_time for name in fns if name.endswith(" jax")})
        for arch, _gates in ARCHS:
            row = {"arch": arch, "B": B, "H": H, "T": T, "ms_per_step": 1e3 * t[arch].min(),
                   "floor_ms": 1e3 * t[f"{arch} floor"].min(),
                   "ratio_to_floor": paired_ratio(t[arch], t[f"{arch} floor"])}
            for peer in ("torch", "jax"):
                if f"{arch} {peer}" in t:
                    row[f"{peer}_ms"] = 1e3 * t[f"{arch} {peer}"].min()
                    row[f"speedup_vs_{peer}"] = paired_ratio(t[f"{arch} {peer}"], t[arch])
                    row[f"floor_speedup_vs_{peer}"] = paired_ratio(t[f"{arch} {peer}"], t[f"{arch} floor"])
            if arch == "lstm":
                row["ratio_to_rnn"] = paired_ratio(t["lstm"], t["rnn"])
            rows.append(row)
    return rows


def bench_session(quick: bool) -> dict:
    """A full training step (batch, BPTT, clipping, Adam, snapshot) and memory over many steps."""
    settings = Settings(task="adding", seq_len=100, hidden=64, batch=32, arch="rnn")
    session = Session(settings)
    t = interleaved_rounds({"step": session.step, "floor": matmul_floor(32, 64, 100, 1, np.random.default_rng(1))},
                           10 if quick else 40, 3, clock=time.thread_time)
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


#: Issue 15's targets at the first size: (row's arch, key, bound, ≥ or ≤, what it means).
TARGETS = (("lstm", "speedup_vs_torch", 2.0, ">=", "LSTM step faster than torch.nn.LSTM"),
           ("lstm", "speedup_vs_jax", 1.5, ">=", "LSTM step faster than JAX jit(grad)"),
           ("lstm", "ratio_to_rnn", 4.5, "<=", "LSTM step / RNN step"),
           ("rnn", "speedup_vs_torch", 3.0, ">=", "RNN step faster than torch.nn.RNN"),
           ("rnn", "speedup_vs_jax", 1.5, ">=", "RNN step faster than JAX jit(grad)"),
           ("rnn", "ratio_to_floor", 1.2, "<=", "RNN step / bare matrix products"))


def _print_engine(rows: list[dict]) -> None:
    kernel = "compiled (numba) time loops" if compiled.COMPILED else f"plain numpy: {compiled.DGEMM}"
    print(f"engine: forward+backward incl. per-step contribution norms (float64, I=O={INPUTS}, one thread "
          f"each, {kernel}); ms: CPU time, best round; ratios: median of same-round pairs")
    print(f"  {'arch':<5}{'B':>4}{'H':>5}{'T':>5}{'ms/step':>10}{'floor ms':>10}{'×floor':>8}"
          f"{'torch ms':>10}{'speedup':>9}{'jax ms':>9}{'speedup':>9}")
    for r in rows:
        peers = "".join(f"{r[f'{peer}_ms']:>{width}.2f}{r[f'speedup_vs_{peer}']:>8.2f}×" if f"{peer}_ms" in r
                        else f"{'n/a':>{width}}{'':>9}" for peer, width in (("torch", 10), ("jax", 9)))
        print(f"  {r['arch']:<5}{r['B']:>4}{r['H']:>5}{r['T']:>5}{r['ms_per_step']:>10.2f}"
              f"{r['floor_ms']:>10.2f}{r['ratio_to_floor']:>8.2f}{peers}")
    missing = [peer for peer in ("torch", "jax") if f"{peer}_ms" not in rows[0]]
    if missing:
        print(f"  ({' and '.join(missing)} not installed: pip install -e \".[bench]\" to compare)")
    B, H, T = SIZES[0]
    print(f"  targets at B={B} H={H} T={T}:")
    for arch, key, bound, sense, meaning in TARGETS:
        row = next(r for r in rows if r["arch"] == arch and (r["B"], r["H"], r["T"]) == (B, H, T))
        if key not in row:
            print(f"    {meaning}: n/a (target {sense} {bound})")
            continue
        met = row[key] >= bound if sense == ">=" else row[key] <= bound
        ceiling = ""
        if key.startswith("speedup_vs_"):       # what the bare matrix products alone would reach
            ceiling = f"; the bare matrix products: {row['floor_' + key]:.2f}×"
        print(f"    {meaning}: {row[key]:.2f}× (target {sense} {bound}{ceiling}) {'met' if met else 'NOT met'}")


def report_engine(quick: bool) -> None:
    """Print the engine table, the targets and the full session step."""
    _print_engine(bench_engine(quick))
    s = bench_session(quick)
    print(f"session: full training step {s['ms_per_training_step']:.2f} ms CPU "
          f"({s['ratio_to_floor']:.2f}× floor {s['floor_ms']:.2f} ms) [{s['settings']}]")
    print(f"  max RSS growth over {s['steps_for_memory']} further steps: {s['max_rss_growth_mb']:.1f} MB")
