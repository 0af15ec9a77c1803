"""Training a recording's frames ahead of the camera, in a process of its own (no Qt).

`rnnviz record` films frame k of an act after ⌊k · rate⌋ iterations of its run. Training the next
frames' iterations and painting the current frame need not take turns: `FrameTrainer` trains frames
1, 2, … in a worker process (forked from the worker server, see `rnnviz.worker_processes`), at most
`ahead` frames in front of the camera, and hands over the run's first snapshot, then each frame's
snapshots (immutable, pickled across), in order:

    with FrameTrainer(settings, frames, rate, stop) as trainer:
        views.restart(trainer.first_snapshot())     # iteration 0
        for k in range(frames):
            if k > 0:
                snapshots = trainer.next_frame()   # the iterations frame k shows; () if none
            ...paint frame k...

A process, not a thread: painting a frame holds Python's GIL from start to end (PySide6's
``QWidget.render``, and pyqtgraph paints in Python), and a training thread's Python between the
compiled passes waited for it: filming the vanishing preset, the painting thread waited 5.3-5.9 ms
a frame for 6.5 ms of training CPU that could have run beside its 9.3 ms of painting.

Each frame gets exactly the iterations the one-thread loop gave it (`frame_snapshots`, the loop the
process runs), so the video is the same. Training stops at a divergence (later frames get no
snapshots). The process ignores Ctrl+C and hang-ups: the filming process handles them. A stop
request (its signal handler's) or an error in training reaches the filming thread as the exception
`first_snapshot` or `next_frame` raises; closing the trainer (the ``with`` block's end) ends the
process, and with it the iteration under way. As with any multiprocessing worker, a script that
trains this way must keep its top-level code under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import threading
import time
import traceback
from collections.abc import Iterator

from rnnviz.errors import RecordingError
from rnnviz.interrupts import StopRequest
from rnnviz.session import Session
from rnnviz.worker_processes import process_context, start_worker, widen_pipe

#: Frames trained ahead of the one being painted, at most.
AHEAD = 3
#: Seconds between looks at the stop request while waiting for the training process.
POLL_SECONDS = 0.05

def frame_snapshots(session: Session, frames: int, rate: float) -> Iterator[tuple]:
    """For frames 1 … frames − 1, the snapshots of the iterations each shows, oldest first: frame k
    shows ⌊k · rate⌋ iterations, so it adds ⌊k · rate⌋ − ⌊(k − 1) · rate⌋ (none after a divergence:
    ()). Trains lazily: each frame's iterations when it is asked for. No spectrum: `with_spectrum`
    adds the newest's (`FrameTrainer.next_frame` does, in the filming process)."""
    for k in range(1, frames):
        due = int(k * rate) - session.iteration
        if due <= 0 or session.diverged:
            yield ()
            continue
        yield tuple(session.run(due))


def with_spectrum(snapshots: tuple) -> tuple:
    """A frame's snapshots with the newest carrying its spectrum, as the app's worker adds it to a
    batch's newest."""
    if not snapshots:
        return snapshots
    return (*snapshots[:-1], snapshots[-1].with_spectrum())


class FrameTrainer:
    """Trains a run of `settings` for frames 1 … frames − 1 of an act at `rate` iterations per frame,
    in a worker process."""

    def __init__(self, settings, frames: int, rate: float, stop: StopRequest | None = None,
                 ahead: int = AHEAD) -> None:
        self.frames = frames
        self.stop = stop or StopRequest()
        self.ahead = max(1, ahead)
        self.train_seconds = 0.0       # wall-clock time spent training, in the training process
        self.train_cpu_seconds = 0.0   # CPU time of the training process (training and pickling)
        self.wait_seconds = 0.0        # time `next_frame` waited for training
        self._taken = 0                # frames handed over so far
        self._first = None
        context = process_context()
        self._inbox, frames_out = context.Pipe(duplex=False)
        widen_pipe(self._inbox)   # `AHEAD` frames of snapshots at the presets' sizes take ~210 KB
        credits_in, self._credits = context.Pipe(duplex=False)
        self._process = context.Process(target=_train, name="rnnviz-record-training", daemon=True,
                                        args=(settings, frames, rate, self.ahead, credits_in, frames_out,
                                              os.getpid()))
        try:
            self._process.start()
        except (EOFError, OSError) as exc:   # the server that forks it is gone (a signal to the group?)
            self._inbox.close()
            self._credits.close()
            self.stop.check()
            raise RecordingError(f"could not start the recording's training process: {exc}") from None
        finally:
            frames_out.close()        # the process's ends: it alone holds them now, so a pipe reports
            credits_in.close()        # its end (EOF) when it exits

    def __enter__(self) -> FrameTrainer:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def first_snapshot(self):
        """The run's snapshot at iteration 0 (the freshly built model)."""
        if self._first is None:
            self._first = self._receive("first")
        return self._first

    def next_frame(self) -> tuple:
        """The next frame's snapshots, oldest first (the newest carries its spectrum), or () if the
        frame shows no new iteration. Raises what stopped training (`Interrupted`, an error in
        training, `RecordingError` if the process died)."""
        self.stop.check()
        if self._taken >= self.frames - 1:
            raise RuntimeError("FrameTrainer: every frame was taken already")
        self.first_snapshot()
        start = time.perf_counter()
        snapshots, seconds, cpu_seconds = self._receive("frame")
        self.wait_seconds += time.perf_counter() - start
        # The spectrum here, not in the training process: training is a recording's critical path
        # (the camera waits for it), and the newest snapshot's eigenvalues and σ_max cost ~0.5 ms a
        # frame at the lstm preset (7 iterations of ~2 ms), time the filming thread has to spare.
        snapshots = with_spectrum(snapshots)
        self._taken += 1
        self.train_seconds += seconds
        self.train_cpu_seconds = cpu_seconds
        if self._taken + self.ahead <= self.frames - 1:
            try:
                self._credits.send_bytes(b"")   # the process may train one frame more
            except (BrokenPipeError, ConnectionResetError):   # it is gone (a signal to the whole
                pass                                           # group?): the next frame says why
        return snapshots

    def close(self) -> None:
        """End the process (and the iteration under way, if any) and wait for it."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._inbox.close()
        self._credits.close()

    def _receive(self, kind: str):
        while not self._inbox.poll(POLL_SECONDS):
            self.stop.check()
        try:
            message = pickle.loads(self._inbox.recv_bytes())
        except EOFError:
            self.stop.check()        # a signal to the whole process group ended it too
            self._process.join(1)
            raise RecordingError(f"the recording's training process ended unexpectedly "
                               f"({_exit_status(self._process.exitcode)})") from None
        if message[0] == "error":
            _, error, where = message
            error.add_note(f"(raised in the recording's training process)\n{where}")
            raise error
        assert message[0] == kind, (message[0], kind)
        return message[1]


def _exit_status(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


# --------------------------------------------------------------------------- the training process
def _train(settings, frames: int, rate: float, ahead: int, credits, out, recorder_pid: int) -> None:
    """The training process: the run's first snapshot, then each frame's snapshots, sent to `out`;
    frame k > ahead only once the camera has taken frame k − ahead (a message on `credits`). Ends
    once the filming process `recorder_pid` is gone, even SIGKILLed in the middle of a frame that
    trains for minutes (this process is the worker server's child, not the filming process's)."""
    start_worker(recorder_pid, end_on_hangup=False)   # the filming process stops this one
    _own_session()
    try:
        _train_frames(settings, frames, rate, ahead, credits, out)
    finally:
        out.close()


def _own_session() -> None:
    """Move this process into a session of its own (POSIX ``setsid``). On Linux that gives it a
    scheduler autogroup of its own: the CPU is then shared between it and the filming process's
    threads as between two programs, not thread by thread. Training is a recording's critical path
    (the camera waits for it), and in the filming process's group its one thread got a third of two
    cores whenever painting and encoding were busy too. Signals to the recording's process group no
    longer reach it; it needs none: it ignores Ctrl+C and hang-ups, the filming process ends it,
    and it ends by itself once the filming process is gone. Where there is no setsid, or it is
    refused, the process stays where it is."""
    try:
        os.setsid()
    except (AttributeError, OSError):
        pass


class _RecorderGone(Exception):
    """The filming process closed its ends of the pipes or is gone: nobody reads any more."""


class _Sender:
    """Pickles the messages handed to `send` and writes them to `out`, in order, on a thread of its
    own. Training is a recording's critical path; pickling and writing a frame's snapshots took
    ~0.24 ms of its ~13.8 ms at the lstm preset (7 iterations), cold after the iterations. The
    compiled passes release the GIL, so this thread does that while the next frame trains."""

    def __init__(self, out) -> None:
        self._out = out
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._gone = False
        self._thread = threading.Thread(target=self._write, name="rnnviz-record-sender", daemon=True)
        self._thread.start()

    def send(self, message) -> None:
        """Queue `message`; `_RecorderGone` if a message before could not be written."""
        if self._gone:
            raise _RecorderGone
        self._queue.put(message)

    def close(self) -> None:
        """Return once every message queued is written (or nobody reads any more)."""
        self._queue.put(None)
        self._thread.join()

    def _write(self) -> None:
        while (message := self._queue.get()) is not None:
            if self._gone:
                continue
            try:
                data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:   # the filming thread raises it, and reads no more
                self._gone = True
                error = RuntimeError(f"{type(exc).__name__}: {exc}")
                data = pickle.dumps(("error", error, traceback.format_exc()))
            try:
                self._out.send_bytes(data)
            except OSError:            # e.g. a broken pipe: nobody reads any more
                self._gone = True


def _train_frames(settings, frames: int, rate: float, ahead: int, credits, out) -> None:
    """`_train`'s work, in the calling process: the snapshots, or the error that stopped training
    (sent as ``("error", exception, traceback)``; an `OSError` of training's is one too), written
    by a `_Sender`. Returns quietly once nobody reads, and only once everything sent is written."""
    from threadpoolctl import threadpool_limits

    def wait_for_credit() -> None:
        try:
            credits.recv_bytes()
        except (EOFError, ConnectionResetError):
            raise _RecorderGone from None

    sender = _Sender(out)
    try:
        with threadpool_limits(1):    # as the filming process's: the same numbers, one core
            session = Session(settings)
            sender.send(("first", session.snapshot()))
            cpu_start = time.process_time()
            batches = frame_snapshots(session, frames, rate)
            for k in range(1, frames):
                if k > ahead:
                    wait_for_credit()
                tick = time.perf_counter()
                snapshots = next(batches)
                sender.send(("frame", (snapshots, time.perf_counter() - tick, time.process_time() - cpu_start)))
    except _RecorderGone:
        pass
    except BaseException as exc:
        where = traceback.format_exc()
        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        try:
            sender.send(("error", exc, where))
        except _RecorderGone:
            pass
    finally:
        sender.close()
