"""The teaching tasks: seeded generators of (x, target) batches, one module per task.

    task = make_task("recall", length=20, seed=0)          # length: the lag for recall/sentence,
    x, target = task.batch(32)                              #         T for adding, sine and text
    x_eval, target_eval = task.eval_batch(256)              # held-out stream
    model.forward_backward(x, target, loss=task.loss, readout=task.readout)

See ``base.Task`` for the attributes every task has.
"""

from __future__ import annotations

import numpy as np

from .adding import Adding
from .base import Task
from .recall import Recall
from .sentence import Sentence
from .sine import Sine
from .text import Text

#: Every task by the name ``make_task`` takes.
TASKS: dict[str, type[Task]] = {task.name: task for task in (Recall, Adding, Sine, Text, Sentence)}


def make_task(name: str, *, length: int, seed: int = 0, dtype=np.float64, **options) -> Task:
    """The task ``name`` with its length knob, seed, dtype and task-specific ``options``:

    recall (length = lag >= 0; options symbols=4, distractors=4), adding (length = T >= 2),
    sine (length = T >= 1; noise=0.1), text (length = T >= 1; path=None: the shipped corpus),
    sentence (length = number of filler words >= 0; path: the vocabulary TOML).
    Raises ValueError naming the allowed names, options or range.
    """
    if name not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}; got {name!r}")
    task = TASKS[name]
    unknown = sorted(set(options) - set(task.OPTIONS))
    if unknown:
        allowed = ", ".join(task.OPTIONS) or "none"
        raise ValueError(f"task {name!r} takes the options {allowed}; got {', '.join(unknown)}")
    return task(length=length, seed=seed, dtype=dtype, **options)


__all__ = ["TASKS", "Task", "make_task"]
