"""The numpy engine: models with exact backpropagation through time, losses, optimisers, clipping, tasks.

No Qt is imported anywhere under this package.
"""

# -- models (activations.py, init.py, losses.py, trace.py, model.py, rnn.py, lstm.py, cancel.py) -
from .activations import ACTIVATIONS, Activation
from .cancel import CancelFlag, Cancelled
from .losses import accuracy, loss_and_grad, predictions
from .model import ARCHS, DEFAULT_SKIP, build_model
from .trace import Trace

__all__ = ["ACTIVATIONS", "ARCHS", "Activation", "CancelFlag", "Cancelled", "DEFAULT_SKIP", "Trace", "accuracy", "build_model",
           "loss_and_grad", "predictions"]

# -- training (tasks.py, clipping.py, optimizers.py): append their imports below, with ------------
# -- `__all__ += [...]` for the names they export. -----------------------------------------------
from .clipping import CLIP_MODES, ClipResult, clip_gradients, global_norm
from .optimizers import OPTIMIZERS, SGD, Adam, Optimizer, make_optimizer
from .tasks import TASKS, Task, make_task

__all__ += ["CLIP_MODES", "ClipResult", "clip_gradients", "global_norm", "OPTIMIZERS", "SGD", "Adam",
            "Optimizer", "make_optimizer", "TASKS", "Task", "make_task"]
