"""Importing this module loads the engine's compiled kernels for float64, as a memory-horizon sweep
uses them (no Qt).

numba reads each kernel from its on-disk cache the first time a process calls it: about 0.25 s of
CPU per process. A sweep's worker processes are forked from one forkserver, which preloads this
module (see `rnnviz.horizon`), so the kernels are loaded once, before the first fork, and every
worker starts with them instead of loading them itself. The import trains one step and evaluates
once with a tiny network of each architecture and activation the sweep's presets use.
"""

from __future__ import annotations

from rnnviz.session import Session
from rnnviz.settings import Settings


def warm_up() -> None:
    """One training step and one held-out evaluation per architecture and activation, tiny sizes."""
    for arch, activation in (("rnn", "tanh"), ("rnn", "relu"), ("skip", "tanh"), ("skip", "relu"),
                             ("lstm", "tanh")):
        settings = Settings(task="recall", lag=2, arch=arch, activation=activation, skip=2, hidden=4,
                            batch=2, dtype="float64", seed=0)
        session = Session(settings)
        session.step()
        session.evaluate(4)


warm_up()
