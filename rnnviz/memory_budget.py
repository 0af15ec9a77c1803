"""How much memory a training configuration needs, estimated before anything is built, and the
budget it must fit in. No Qt: the CLI, the GUI and `Session` all ask here first, so settings that
would exhaust the machine are refused with one line instead of swapping, being killed, or
failing with a numpy traceback part-way.

What a training step keeps grows with T·B (time steps × sequences) times the hidden units H and the
input and output widths, plus a few copies of the parameters. The factors below were measured with
tracemalloc over a session's build, three iterations and one inspection (the stepper's pass), for
T = 50–200, B = 16–64, H = 16–256 and every task: the estimate came within 5 % of the peak.
Where a pass's arrays sit on 2 MiB pages (1 MiB or more, on Linux), each occupies whole pages: the
estimate adds what that rounding costs the arrays a model keeps in its workspace.

The app trains in a process of its own, and its window keeps a copy of the inspection it shows (the
stepper's trace, pickled across): the window's estimate (`window=True`) adds that copy. For the two
processes together (a session's build, three iterations and one inspection, the inspection relayed
across a pipe), measured with tracemalloc for the settings above, the window's estimate came within
0.77-0.84 of the peak; without the copy, the peak exceeded the estimate by up to 1.44x. The copy's
arrays follow the run's dtype (a float32 run's inspection is all float32): counted at 8 bytes a
number, a float32 run's window estimate came to 1.96-2.0 times its peak.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rnnviz.errors import LimitError

#: Arrays of T·B·H numbers a step keeps (hidden states, pre-activations, δ, ∂L/∂h, workspace and
#: the trace handed out; the LSTM's four gates and its cell state), per architecture ...
PER_HIDDEN = {"rnn": 4.7, "skip": 4.8, "lstm": 18.2}
#: ... arrays of T·B·(inputs + outputs) numbers (inputs, outputs, their gradients) ...
PER_INPUT_OUTPUT = 3.2
#: ... and copies of the parameters (weights, gradients, optimiser moments, clipping).
PER_PARAMETER = 8
#: The (T, B, k·H) arrays a training pass keeps in the model's workspace, as k per array: hidden
#: states, pre-activations, δ, ∂L/∂h; the LSTM's pre-activations, gates and δ of its four gates, then
#: its hidden and cell states, tanh(c_t) and ∂L/∂c. Each occupies whole pages once on huge pages.
WORKSPACE_WIDTHS = {"rnn": (1, 1, 1, 1), "skip": (1, 1, 1, 1), "lstm": (4, 4, 4, 1, 1, 1, 1, 1)}
#: The inspection the window keeps: arrays of T·B·H numbers (hidden states, pre-activations, δ and
#: ∂L/∂h; the LSTM's four gates' pre-activations, δ and values, its cell states and ∂L/∂c) ...
INSPECTION_PER_HIDDEN = {"rnn": 4, "skip": 4, "lstm": 16}
#: ... arrays of T·B·(inputs + outputs) numbers (the inputs twice: the batch's and the trace's; the
#: outputs) ...
INSPECTION_PER_INPUT_OUTPUT = 2
#: ... and copies of the parameters (the weights and their gradients).
INSPECTION_PER_PARAMETER = 2
#: Headroom over the measured factors (allocator slack, snapshots, the views' history).
MARGIN = 1.25
#: Share of the memory available at start that one configuration may use.
BUDGET_SHARE = 0.5


def shape(settings) -> dict[str, int]:
    """T, B, H and the task's input and output widths for `settings` (builds only the task)."""
    from rnnviz.engine.tasks import make_task

    task = make_task(settings.task, length=settings.length, seed=settings.seed, dtype=np.dtype(settings.dtype))
    x, _ = task.batch(1)
    return {"T": int(x.shape[0]), "B": settings.batch, "H": settings.hidden,
            "I": int(task.input_size), "O": int(task.output_size)}


def parameter_count(arch: str, I: int, H: int, O: int) -> int:
    gates = 4 if arch == "lstm" else 1
    recurrent = gates * (I * H + H * H + H) + (H * H if arch == "skip" else 0)
    return recurrent + H * O + O


def estimate_bytes(settings, window: bool = False) -> int:
    """Memory (bytes) that training `settings` needs, from its sizes alone; `window`: trained for
    the app's window, which keeps a copy of the inspection it shows."""
    s = shape(settings)
    itemsize = np.dtype(settings.dtype).itemsize
    item = 8   # float32 counted as float64: not every array follows dtype (a float32 run measured 2/3 of this)
    parameters = parameter_count(settings.arch, s["I"], s["H"], s["O"])
    numbers = (s["T"] * s["B"] * (PER_HIDDEN[settings.arch] * s["H"] + PER_INPUT_OUTPUT * (s["I"] + s["O"]))
               + PER_PARAMETER * parameters)
    need = MARGIN * item * numbers
    if window:   # the inspection's arrays all follow dtype (float32 in a float32 run)
        copy = (s["T"] * s["B"] * (INSPECTION_PER_HIDDEN[settings.arch] * s["H"]
                                   + INSPECTION_PER_INPUT_OUTPUT * (s["I"] + s["O"]))
                + INSPECTION_PER_PARAMETER * parameters)
        need += MARGIN * itemsize * copy
    return int(need) + page_rounding_bytes(settings.arch, s, itemsize)


def page_rounding_bytes(arch: str, s: dict[str, int], item: int) -> int:
    """Bytes the workspace's pass arrays occupy beyond their size: up to a 2 MiB page each for those
    on huge pages (none where there are none)."""
    from rnnviz.engine.memory import occupied_bytes

    sizes = [s["T"] * s["B"] * k * s["H"] * item for k in WORKSPACE_WIDTHS[arch]]
    return sum(occupied_bytes(n) - n for n in sizes)


def available_bytes() -> int | None:
    """Memory this process may still use: the system's available memory, or less under a cgroup
    (container) limit; None where neither can be read."""
    candidates = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                candidates.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if limit != "max":
            candidates.append(max(0, int(limit) - int(used)))
    except (OSError, ValueError):
        pass
    if not candidates:
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return None
    return min(candidates)


def size_text(n: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} bytes"


def memory_problem(settings, available: int | None = None, window: bool = False) -> str | None:
    """One line if `settings` would need more than the budget (`BUDGET_SHARE` of `available`,
    default: measured now); None if it fits or if available memory cannot be read. `window` as in
    `estimate_bytes`."""
    available = available_bytes() if available is None else available
    if available is None:
        return None
    need, budget = estimate_bytes(settings, window), BUDGET_SHARE * available
    if need <= budget:
        return None
    s = shape(settings)
    return (f"these settings need about {size_text(need)} of memory ({settings.arch}, hidden {s['H']}, "
            f"batch {s['B']}, T = {s['T']} steps, {settings.dtype}), more than the {size_text(budget)} "
            f"allowed ({BUDGET_SHARE:.0%} of the {size_text(available)} available): lower hidden, batch "
            f"or the sequence length")


def check_memory(settings, available: int | None = None) -> None:
    """Raise `LimitError` with `memory_problem`'s line if `settings` does not fit."""
    problem = memory_problem(settings, available)
    if problem:
        raise LimitError(problem)
