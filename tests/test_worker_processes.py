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
