"""Errors a user sees: each is reported in one line (the CLI exits with code 2, the GUI shows a message).

A leaf module: it imports nothing from rnnviz, so every layer can raise these without importing the
layer above it (recording and the memory horizon raise `UsageError` without importing the CLI).
"""


class UsageError(Exception):
    """Bad input from the command line or a dialog: reported in one line, exit code 2."""


class LimitError(UsageError):
    """A size or count beyond what this machine can do (memory, iterations, frames): refused before
    any work starts, in one line that names the sizes, the limit and what to lower."""


class RecordingError(Exception):
    """A recording that cannot go on for a reason outside the user's input (its training process
    died or could not start): reported in one line, exit code 2, the unfinished video deleted."""


class EngineError(Exception):
    """The engine (its compiled kernels included) could not load where work needs it, e.g. in a
    memory-horizon sweep's worker process: reported in one line naming the engine's own error,
    exit code 2."""


class TrainingError(Exception):
    """The app's training loop could not build, train or inspect (or its process ended): the message
    is for the user, shown in the window."""
