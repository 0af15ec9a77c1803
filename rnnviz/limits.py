"""Upper bounds on every count a user can type or put in a file, so no input makes rnnviz run for
days or overflow: checked where the count is read (presets, lessons, the command line), each
refused in one line that names the limit (`count_problem`). A leaf module: no rnnviz imports."""

from __future__ import annotations

#: Iterations of one run: a preset's or lesson's ``steps``, ``--steps``, ``--iterations-per-frame``
#: and everything a recording trains (the engine's fastest settings do ~10,000 per second).
MAX_STEPS = 1_000_000
#: A recording's length (seconds) and frame rate.
MAX_SECONDS = 3600
MAX_FPS = 120
#: Seeds per lag in a memory-horizon sweep.
MAX_SEEDS = 100


def count_problem(name: str, value: int, high: int) -> str | None:
    """One line if `value` is not an integer in [1, high]; None if it is."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        return f"{name} must be an integer from 1 to {high:,}; got {value!r}"
    return None
