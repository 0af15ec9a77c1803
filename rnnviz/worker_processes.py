"""The worker processes of the memory-horizon sweeps and of a recording's training (no Qt); the
app's training process (`rnnviz.training_process`, spawned) starts as a worker too (`start_worker`).

A sweep (`rnnviz.horizon.Sweep`) trains its runs in a pool of worker processes, and ``rnnviz
record`` trains a video's frames in a process of its own (`rnnviz.frame_training`). Both come from
here:

- where a worker is forked from (`process_context`): the calling process itself, once it has loaded
  the engine, where that is safe (the command line's sweeps), else the worker server
  (`start_worker_server`, a forkserver that has imported `PRELOAD`), else a fresh interpreter;
- how a worker starts (`start_worker`): Ctrl+C ignored (the process that asked for the worker
  decides what stops), SIGTERM ending it, SIGHUP ending it or ignored (the caller says which), and
  a watch that ends it once that process is gone, even killed by SIGKILL;
- loading the engine in a worker (`load_engine`): an engine that fails to load there is one
  `rnnviz.errors.EngineError`, not a traceback from the worker.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Collection, Sequence
from pathlib import Path

from rnnviz.engine_warm_up import warm_up, warmed
from rnnviz.errors import EngineError

#: What the worker server imports before it forks any worker: the sweep's code, and the engine with
#: the compiled kernels of every architecture read once (`rnnviz.engine_preload`) instead of by every
#: worker at its first run (0.33 s of CPU per worker per sweep, measured; reading them in the
#: server took 0.32 s once).
PRELOAD = ["rnnviz.horizon", "rnnviz.engine_preload"]

#: Bytes a pipe from a worker holds (`widen_pipe`); Linux allows an unprivileged process up to 1 MB.
PIPE_BYTES = 1 << 20

WATCH_SECONDS = 0.5  # how often a worker checks that the process it works for still runs

#: The environment that makes OpenBLAS start without a thread pool; it reads it once, when numpy
#: loads it. A process that forks its workers sets it before it loads the engine (and numpy with
#: it), if nothing has loaded numpy yet (see `process_context`).
ONE_BLAS_THREAD = ("OPENBLAS_NUM_THREADS", "1")


# ----------------------------------------------------------------------------- where workers come from
def process_context(fork: bool = False, archs: Collection[str] | None = None):
    """The multiprocessing context to start workers in.

    Side effect: where it forks (below) and numpy is not loaded yet, it sets OPENBLAS_NUM_THREADS=1
    in ``os.environ`` for good (unless the environment sets it already): this process and every
    process it starts later inherit it.

    With `fork`, where fork is available and this process runs no other thread: fork, after
    loading the engine here with the kernels of `archs` (`rnnviz.engine_warm_up.warm_up`: the
    architectures the workers will train; default every one), so the workers start with them. Loading it starts
    BLAS's thread pool, so this forks only when every pool is OpenBLAS's, which stops its threads
    around each fork (`_blas_stops_around_fork`), and only if the engine loaded. This saves the
    server's own start (a second interpreter importing the sweep's code before the engine): the
    CPU spent before the first worker starts went from 0.43-0.45 s to 0.36-0.38 s. Otherwise
    forkserver where available: workers are forked from a clean server process, never from a
    process that runs Qt or other threads; spawn elsewhere. A process's first call starts the
    server, unless `start_worker_server` did; if the engine failed to load here, a server started
    now does not preload it (a preload that raises anything but ImportError ends the server
    before its first worker): its workers load it themselves (`load_engine`) and say why it fails.

    A process that forks its workers has OpenBLAS load without a thread pool (`ONE_BLAS_THREAD`),
    unless numpy is already loaded or the environment says otherwise: it only collects results,
    and every worker runs BLAS on one thread. ``threadpool_limits(1)`` does not remove a pool
    OpenBLAS started: the command line's process kept a pool thread, and each forked worker got one
    re-created after the fork; they spun. Measured on the identity-init sweep (seeds 0-5, 8
    interleaved pairs, load 2.2-2.7): the command line's CPU 0.41-0.45 -> 0.36-0.39 s, a worker's
    first run 48-60 -> 37 ms of CPU, the sweep's wall time 1.22-1.89 (median 1.39) -> 1.12-1.38
    (median 1.21) s."""
    preload = PRELOAD
    if fork and "fork" in multiprocessing.get_all_start_methods() and _only_thread():
        if "numpy" not in sys.modules:       # then OpenBLAS loads with the engine, without a pool
            os.environ.setdefault(*ONE_BLAS_THREAD)
        if not _engine_warmed(archs):
            preload = [name for name in PRELOAD if name != "rnnviz.engine_preload"]
        elif _blas_stops_around_fork():
            return multiprocessing.get_context("fork")
    if "forkserver" in multiprocessing.get_all_start_methods():
        start_worker_server(preload)      # unless it runs already
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def start_worker_server(preload: Sequence[str] = PRELOAD) -> None:
    """Start the worker server (a forkserver) now, for an app that sweeps later (the Horizon
    panel): the server's start-up (a Python process importing `preload`, about 0.6 s of CPU) then
    happens while the user sets up the sweep, not inside the first one (measured under load 6-7: a
    first sweep of two one-step runs took 1.5 s wall without it, 0.25-0.5 s with it). A recording
    starts it while its window is built, for its training process (`rnnviz.frame_training`).

    The server starts with Ctrl+C (SIGINT) ignored, and the processes it forks inherit that: a
    terminal sends Ctrl+C to every process of the command, and the command decides what stops (a
    server interrupted while it imports printed a traceback and failed a recording). For the few
    milliseconds the server takes to start, this process ignores Ctrl+C too."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(list(preload))  # if not running yet
    handler = signal.getsignal(signal.SIGINT)
    swap = handler is not None and threading.current_thread() is threading.main_thread()
    if swap:      # an ignored signal stays ignored in the started program; a handler does not
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        if swap:
            signal.signal(signal.SIGINT, handler)


def _only_thread() -> bool:
    """Whether this process runs a single thread, native ones included (Linux: /proc)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _blas_stops_around_fork() -> bool:
    """Whether every thread pool this process has loaded is OpenBLAS's, which registers fork
    handlers (pthread_atfork) that stop its threads before a fork and start them again after.
    MKL's and Intel's or LLVM's OpenMP, BLIS or a libgomp BLAS do not, so a child forked while
    their threads run starts with a pool whose threads are missing (it can hang at its first
    product)."""
    from threadpoolctl import threadpool_info

    return all(info.get("internal_api") == "openblas" for info in threadpool_info())


def _engine_warmed(archs: Collection[str] | None) -> bool:
    """Read the compiled kernels of `archs` here, once, for the workers to inherit; False if the
    engine fails to load: the worker server's workers then load it themselves."""
    try:
        warm_up(archs)
    except Exception:  # noqa: BLE001 - any failure only costs the fork's saving
        return False
    return True


def widen_pipe(connection) -> None:
    """Let the pipe `connection` reads hold `PIPE_BYTES` where the system allows (Linux): a pipe
    holds 64 KB by default, and a worker that sends more at once would wait for the reader to take
    each 64 KB instead of going on with its work. Elsewhere it waits."""
    try:
        import fcntl

        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


# ----------------------------------------------------------------------------- inside a worker
def start_worker(parent_pid: int, *, end_on_hangup: bool) -> None:
    """What a worker process does first, for the process `parent_pid` that asked for it.

    - Ctrl+C (SIGINT) is ignored: a terminal sends it to every process of the command, and the
      command decides what stops (it stops its workers itself).
    - SIGTERM ends the worker (a worker forked from the command line would otherwise inherit its
      handler, which only sets a flag).
    - SIGHUP (a terminal that closed) ends the worker if `end_on_hangup`, as a sweep's workers do:
      the sweep's process cancels the sweep on it. Otherwise it is ignored, as a recording's
      training process does: the filming process stops on it and ends its training process itself.
    - The worker ends once process `parent_pid` is gone (`_exit_with`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_DFL if end_on_hangup else signal.SIG_IGN)
    _exit_with(parent_pid)


#: Where Linux lists its processes (``<pid>/stat`` says whether one is a zombie). Other systems have
#: none (macOS, the BSDs, Windows): there `process_running` asks the system instead.
PROC = Path("/proc")


def process_running(pid: int) -> bool:
    """Whether process `pid` exists and, where /proc says so (Linux), is not a zombie (a killed
    parent nobody has reaped yet). Other POSIX systems: whether it exists (signal 0; a zombie counts
    as running). Windows: whether it has not exited (`_windows_process_running`; ``os.kill`` there
    would terminate it)."""
    if sys.platform == "win32":
        return _windows_process_running(pid)
    if not PROC.is_dir():
        return _signal_reaches(pid)
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:              # /proc hides it (another user's, hidepid): existence is all we can ask
        return _signal_reaches(pid)
    return stat[stat.rindex(")") + 2] not in "ZX"


def _signal_reaches(pid: int) -> bool:
    """Whether process `pid` exists (POSIX): signal 0 checks without sending anything."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # it exists, it is not ours
        pass
    return True


# Windows' answers (winbase.h, winerror.h)
_SYNCHRONIZE, _WAIT_TIMEOUT, _ERROR_ACCESS_DENIED = 0x00100000, 0x102, 5


def _windows_process_running(pid: int) -> bool:
    """Whether process `pid` exists and has not exited, asked without touching it: a handle that may
    only wait on it (OpenProcess(SYNCHRONIZE)), and a wait that times out at once while it runs.
    No handle: gone (ERROR_INVALID_PARAMETER), or running but not ours (ERROR_ACCESS_DENIED)."""
    import ctypes

    kernel32 = _kernel32()
    handle = kernel32.OpenProcess(_SYNCHRONIZE, False, pid)
    if not handle:
        return ctypes.get_last_error() == _ERROR_ACCESS_DENIED
    try:
        return kernel32.WaitForSingleObject(handle, 0) == _WAIT_TIMEOUT
    finally:
        kernel32.CloseHandle(handle)


@functools.cache
def _kernel32():
    """Windows' kernel32 with the signatures `_windows_process_running` calls, loaded once (the parent
    watch asks every `WATCH_SECONDS`)."""
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.WaitForSingleObject.argtypes = [wintypes.HANDLE, wintypes.DWORD]
    kernel32.WaitForSingleObject.restype = wintypes.DWORD
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    return kernel32


def _exit_with(parent_pid: int) -> None:
    """End this worker once process `parent_pid` is gone (killed, even by SIGKILL), so no orphan
    keeps burning CPU. Workers are usually children of the worker server, which itself lives as
    long as they do, so the kernel's parent-death signal cannot do this: a thread polls instead."""
    def watch() -> None:
        while process_running(parent_pid):
            time.sleep(WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="rnnviz-parent-watch", daemon=True).start()


def load_engine() -> None:
    """Load the engine and its compiled kernels here (`rnnviz.engine_preload`): nothing to do in a
    worker forked from a process that loaded it (with the kernels of the architectures its sweep
    trains; another one's are read at their first call) or from a worker server that preloaded it
    (the server skips the preload where the engine failed to load in the process that started it).
    Raises `EngineError`, one line naming the engine's own exception, if it fails to load."""
    if warmed():
        return
    try:
        import rnnviz.engine_preload  # noqa: F401
    except Exception as exc:   # whatever stops the engine loading, the user sees it
        raise EngineError(f"the engine could not load: {type(exc).__name__}: {exc}") from exc
