"""How a worker process starts: a sweep's workers and a recording's training process share one
start-up that differs only in SIGHUP."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("end_on_hangup", [True, False], ids=["sweep worker", "recording's training"])
def test_a_worker_ignores_ctrl_c_ends_on_sigterm_and_on_sighup_only_if_asked(end_on_hangup):
    # The handlers a worker forked from the command line inherits (they only set a flag) go.
    code = ("import os, signal\n"
            "from rnnviz.worker_processes import start_worker\n"
            "for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n"
            "    signal.signal(signum, lambda *_: None)\n"
            f"start_worker(os.getppid(), end_on_hangup={end_on_hangup})\n"
            "print(*(signal.getsignal(s).name for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    hangup = "SIG_DFL" if end_on_hangup else "SIG_IGN"
    assert done.stdout.split() == ["SIG_IGN", "SIG_DFL", hangup], done.stderr


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="threads counted in /proc (Linux)")
def test_a_process_that_forks_its_workers_loads_openblas_without_a_thread_pool():
    """The command line's sweep loads the engine (numpy, OpenBLAS) itself before it forks: OpenBLAS
    must start no pool thread there (it would spin in this process and in every forked worker),
    and the workers must still get the fork."""
    code = ("import os, sys\n"
            "assert 'numpy' not in sys.modules\n"
            "from rnnviz.worker_processes import process_context\n"
            "context = process_context(fork=True)\n"
            "print(context.get_start_method(), len(os.listdir('/proc/self/task')), "
            "os.environ.get('OPENBLAS_NUM_THREADS'))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True, env=env)
    assert done.stdout.split() == ["fork", "1", "1"], done.stderr


def _reaped_child_pid() -> int:
    """The pid of a child process that has ended and been reaped (nothing runs under it now)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")
@pytest.mark.parametrize("proc", [True, False], ids=["/proc (Linux)", "no /proc (macOS, BSD)"])
def test_process_running_tells_a_running_process_from_a_gone_one(proc, tmp_path, monkeypatch):
    """A worker's parent watch ends the worker once this says False: without /proc it must still say
    True for a running process (it said False for every process, so every worker ended at once)."""
    import rnnviz.worker_processes as worker_processes

    if not proc:
        monkeypatch.setattr(worker_processes, "PROC", tmp_path / "no-proc")
    elif not worker_processes.PROC.is_dir():
        pytest.skip("no /proc here")
    assert worker_processes.process_running(os.getpid())
    assert worker_processes.process_running(os.getppid())
    assert not worker_processes.process_running(_reaped_child_pid())


def test_on_windows_a_process_is_asked_through_a_wait_handle_that_is_always_closed(monkeypatch):
    """Windows' branch, with a stand-in for kernel32: running while a zero wait times out; exited once
    it is signalled; gone when no handle opens (invalid parameter), running when access is denied."""
    import ctypes

    from rnnviz import worker_processes

    class Kernel32:
        def __init__(self, wait=None, error=0):
            self.wait, self.error, self.opened, self.closed = wait, error, [], []

        def OpenProcess(self, access, inherit, pid):
            self.opened.append((access, inherit, pid))
            monkeypatch.setattr(ctypes, "get_last_error", lambda: self.error, raising=False)   # Windows' only
            return 0 if self.wait is None else 77

        def WaitForSingleObject(self, handle, milliseconds):
            assert (handle, milliseconds) == (77, 0)
            return self.wait

        def CloseHandle(self, handle):
            self.closed.append(handle)

    def running_with(kernel32) -> bool:
        monkeypatch.setattr(worker_processes, "_kernel32", lambda: kernel32)
        return worker_processes._windows_process_running(42)

    running, exited = Kernel32(wait=0x102), Kernel32(wait=0)
    assert running_with(running) and not running_with(exited)
    assert running.opened == [(0x00100000, False, 42)] and running.closed == exited.closed == [77]
    assert not running_with(Kernel32(error=87))
    assert running_with(Kernel32(error=5))
