"""Training a recording's frames ahead of the camera, in a worker thread (no Qt).

`rnnviz record` films frame k of an act after ⌊k · rate⌋ iterations of its session. Training the
next frame's iterations and painting the current frame need not take turns: `FrameTrainer` trains
frames 1, 2, … in its own thread, at most `ahead` frames in front of the camera, and hands over each
frame's snapshots (immutable) in order:

    with FrameTrainer(session, frames, rate, stop) as trainer:
        for k in range(frames):
            if k > 0:
                snapshots = trainer.next_frame()   # the iterations frame k shows; () if none
            ...paint frame k...

Each frame gets exactly the iterations the single-threaded loop gave it, so the video is the
same. Training stops at a divergence (later frames get no snapshots). Until the trainer is closed,
only its thread touches the session. A stop request (a signal) or an error in training reaches
the filming thread as the exception `next_frame` raises; closing the trainer (the ``with`` block's
end) cancels the iteration under way and waits for the thread.
"""

from __future__ import annotations

import queue
import threading
import time

from rnnviz.engine.cancel import CancelByte, Cancelled
from rnnviz.interrupts import StopRequest

#: Frames trained ahead of the one being painted, at most.
AHEAD = 3
_ENDED = object()


class FrameTrainer:
    """Trains `session` for frames 1 … frames − 1 of an act at `rate` iterations per frame."""

    def __init__(self, session, frames: int, rate: float, stop: StopRequest | None = None,
                 ahead: int = AHEAD) -> None:
        self.session = session
        self.frames = frames
        self.rate = rate
        self.stop = stop or StopRequest()
        self.train_seconds = 0.0       # wall-clock time spent training, in the worker thread
        self.train_cpu_seconds = 0.0   # its CPU time
        self.wait_seconds = 0.0        # time `next_frame` waited for training
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, ahead))
        self._cancel = CancelByte()   # the engine reads it without the GIL the painting holds
        self._thread = threading.Thread(target=self._work, name="record-training", daemon=True)
        self._thread.start()

    def __enter__(self) -> FrameTrainer:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def next_frame(self) -> tuple:
        """The next frame's snapshots, oldest first (the newest carries its spectrum), or () if the
        frame shows no new iteration. Raises what stopped training (`Interrupted`, an error)."""
        start = time.perf_counter()
        item = self._queue.get()
        self.wait_seconds += time.perf_counter() - start
        if item is _ENDED:
            raise RuntimeError("FrameTrainer: every frame was taken already")
        if isinstance(item, BaseException):
            raise item
        return item

    @property
    def running(self) -> bool:
        """True while the worker thread is alive (training, or waiting for the camera)."""
        return self._thread.is_alive()

    def close(self) -> None:
        """Cancel the iteration under way (if any) and wait for the thread."""
        self._cancel.set()
        while self._thread.is_alive():
            self._drain()              # a worker blocked on a full queue wakes up
            self._thread.join(0.05)

    # ----------------------------------------------------------------- the worker thread
    def _work(self) -> None:
        try:
            for k in range(1, self.frames):
                if not self._put(self._train_frame(k)):
                    return
            self._put(_ENDED)
        except Cancelled:
            return
        except BaseException as exc:   # Interrupted or an error: the filming thread raises it
            self._put(exc)

    def _train_frame(self, k: int) -> tuple:
        session = self.session
        due = int(k * self.rate) - session.iteration      # frame k shows ⌊k · rate⌋ iterations
        if due <= 0 or session.diverged:
            return ()
        tick, tick_cpu = time.perf_counter(), time.thread_time()
        snapshots = []
        for _ in range(due):
            snapshot = session.step(self._cancel)
            snapshots.append(snapshot)
            self.stop.check()
            if snapshot.diverged:
                break
        # The spectrum for the frame's newest snapshot, as the app's worker adds it to a batch's newest.
        snapshots[-1] = snapshots[-1].with_spectrum()
        self.train_seconds += time.perf_counter() - tick
        self.train_cpu_seconds += time.thread_time() - tick_cpu
        return tuple(snapshots)

    def _put(self, item) -> bool:
        """Hand `item` over, waiting while the camera is `ahead` frames behind; False once cancelled."""
        while not self._cancel.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
