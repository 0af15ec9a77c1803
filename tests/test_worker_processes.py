"""How a worker process starts: a sweep's workers and a recording's training process share one
start-up that differs only in SIGHUP."""

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
