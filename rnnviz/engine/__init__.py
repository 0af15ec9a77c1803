"""The numpy engine: models with exact backpropagation through time, losses, optimisers, clipping, tasks.

No Qt is imported anywhere under this package.
"""

# -- models (activations.py, init.py, losses.py, trace.py, model.py, rnn.py, lstm.py, cancel.py) -
import importlib

from .cancel import CancelFlag, Cancelled
from .losses import accuracy, loss_and_grad, predictions
from .trace import Trace

#: Names whose modules load the compiled kernels (numba, ~0.2 s): imported when first used, so that
#: `rnnviz.engine.tasks` (the window's memory check, the views' readout) stays light and the window
#: paints before numba has loaded (the training thread loads it).
_COMPILED = {"ACTIVATIONS": ".activations", "Activation": ".activations", "ARCHS": ".model",
             "DEFAULT_SKIP": ".model", "build_model": ".model"}


def __getattr__(name: str):
    if name not in _COMPILED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_COMPILED[name], __name__), name)
    globals()[name] = value
    return value


__all__ = ["ACTIVATIONS", "ARCHS", "Activation", "CancelFlag", "Cancelled", "DEFAULT_SKIP", "Trace", "accuracy", "build_model",
           "loss_and_grad", "predictions"]

# -- training (tasks.py, clipping.py, optimizers.py): append their imports below, with ------------
# -- `__all__ += [...]` for the names they export. -----------------------------------------------
from .clipping import CLIP_MODES, ClipResult, clip_gradients, global_norm
from .optimizers import OPTIMIZERS, SGD, Adam, Optimizer, make_optimizer
from .tasks import TASKS, Task, make_task

__all__ += ["CLIP_MODES", "ClipResult", "clip_gradients", "global_norm", "OPTIMIZERS", "SGD", "Adam",
            "Optimizer", "make_optimizer", "TASKS", "Task", "make_task"]
