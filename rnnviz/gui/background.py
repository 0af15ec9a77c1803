"""Work off the GUI thread, one way for all of it: training, the stepper's frames, horizon sweeps.

    job = Background(work, name="bpttFrames")     # work(job) -> result, plain Python, no Qt
    job.yielded.connect(...)                      # each job.emit(value) from inside work
    job.returned.connect(...)                     # what work returned
    job.errored.connect(...)                      # the exception work raised (its message is for the user)
    job.finished.connect(...)                     # always last, once the thread has ended
    job.start()
    job.stop(timeout)                             # cancel and wait; True if the thread ended

This is the idea of superqt's `create_worker`, cut down to what rnnviz needs: `work` runs in a
QThread of its own with BLAS limited to one thread (two cores are shared with the GUI), reports
through `job.emit`, and stops cooperatively: `cancel()` sets `job.cancel` (a `threading.Event`),
which `work` passes on to the engine (`cancel=`, checked between time steps) or tests itself. A
`Cancelled` exception ends the work quietly; any other exception reaches the GUI thread as `errored`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)

#: Jobs whose thread outlived `stop`'s timeout, kept referenced until their thread finishes:
#: destroying a running QThread aborts the process.
_STRAGGLERS: set = set()


class Background(QObject):
    """Runs `work(self)` in its own QThread once (see the module doc)."""

    yielded = Signal(object)     # a value passed to emit()
    returned = Signal(object)    # work's return value
    errored = Signal(object)     # the exception work raised (not Cancelled)
    finished = Signal()

    def __init__(self, work: Callable[[Background], Any], *, name: str, limit_blas: bool = True) -> None:
        super().__init__()   # no parent: the object lives in its own thread while the work runs
        self.cancel = threading.Event()
        self._work = work
        self._limit_blas = limit_blas
        self._thread = QThread()
        self._thread.setObjectName(name)
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)
        # Queued to the GUI thread (this object lives there again by the time the thread ends).
        self._thread.finished.connect(self._ended)

    # ----------------------------------------------------------------- from the GUI thread
    def start(self) -> None:
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def request_cancel(self) -> None:
        """Ask the work to stop at its next check (it raises `Cancelled` or returns)."""
        self.cancel.set()

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the thread to end; True if it has."""
        return not self._thread.isRunning() or self._thread.wait(int(timeout * 1000))

    def stop(self, timeout: float) -> bool:
        """Cancel and wait up to `timeout` seconds. True if the thread ended; if not, the job is
        kept alive until it does, so the process never destroys a running thread."""
        self.request_cancel()
        if self.wait(timeout):
            return True
        _STRAGGLERS.add(self)
        self._thread.finished.connect(lambda: _STRAGGLERS.discard(self))
        return False

    # ----------------------------------------------------------------- from inside the work
    def emit(self, value: Any) -> None:
        """Send `value` to the GUI thread (`yielded`)."""
        self.yielded.emit(value)

    def check(self) -> None:
        """Raise `Cancelled` if the job was asked to stop."""
        if self.cancel.is_set():
            from rnnviz.engine.cancel import (
                Cancelled,  # in the work's thread: the engine loads there
            )

            raise Cancelled

    # ----------------------------------------------------------------- the thread
    @Slot()
    def _run(self) -> None:
        # Imported here, in this thread: importing the engine holds the GIL for about half a
        # second, which the window's first frame must not wait for.
        from rnnviz.engine.cancel import Cancelled

        try:
            result = self._call()
        except Cancelled:
            pass
        except Exception as exc:   # reaches the GUI as an exception; the traceback goes to the log
            log.debug("background work %r failed", self._thread.objectName(), exc_info=True)
            self.errored.emit(exc)
        else:
            self.returned.emit(result)
        finally:
            # Hand the object back to the GUI thread, so it is deleted there after this thread ends.
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            self._thread.quit()

    @Slot()
    def _ended(self) -> None:
        """The thread has ended (in the GUI thread): whoever drops the job on `finished` may."""
        self._thread.wait()
        self.finished.emit()

    def _call(self) -> Any:
        if not self._limit_blas:
            return self._work(self)
        from threadpoolctl import (
            threadpool_limits,  # the first import costs ~10 ms: not at start-up
        )

        with threadpool_limits(limits=1):
            return self._work(self)
