"""A signal to `rnnviz horizon` stops its worker processes too: SIGTERM, SIGINT and SIGHUP cancel
the sweep (one line, exit code 128 + signum); even SIGKILL, which the sweep cannot handle, leaves
no worker running (the workers die with their parent). The command line forks its workers from its
own process (no worker server), which leaves the workers its signal handlers unless they reset them."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of a live process, None once it is gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = text[text.rindex(")") + 2:].split()[:2]
    return None if state in "ZX" else (state, int(ppid))


def descendants(root: int) -> dict[int, int]:
    """Every live descendant of `root`: pid → depth below it (1 for a child)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            parents[int(entry.name)] = stat[1]
    found, frontier, depth = {}, {root}, 0
    while frontier:
        depth += 1
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier and pid not in found}
        found.update(dict.fromkeys(frontier, depth))
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL],
                         ids=lambda s: s.name)
def test_a_signal_to_the_sweep_leaves_no_worker_running(signum):
    process = subprocess.Popen(
        [sys.executable, "-m", "rnnviz", "horizon", "--preset", "vanishing", "--lags", "5,10,20",
         "--seeds", "2", "--search", "grid", "--steps", "100000", "--target", "1.0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    family: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 60
        while sum(depth == 1 for depth in family.values()) < 2:   # both workers, forked from it
            assert time.monotonic() < deadline, "no worker started"
            assert process.poll() is None, process.communicate()
            family.update(descendants(process.pid))
            time.sleep(0.05)
        time.sleep(0.5)                                              # the workers are training
        family.update(descendants(process.pid))
        assert set(family.values()) == {1}, "the command line forks its workers itself"
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while (alive := [pid for pid in family if _stat(pid)]) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        for pid in family:                                           # never leave one behind
            if _stat(pid):
                os.kill(pid, signal.SIGKILL)
    assert alive == [], f"still running after {signum.name}: {alive}"
    if signum == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 128 + signum, err
        assert err.strip() == f"rnnviz: interrupted ({signum.name})"


def test_the_worker_server_ignores_ctrl_c_whoever_starts_it():
    """A terminal's Ctrl+C reaches every process of the command; the worker server and what it forks
    (sweep workers, a recording's training) leave it to the command, which decides what stops."""
    script = ("from multiprocessing import forkserver\n"
              "from rnnviz.worker_processes import start_worker_server\n"
              "start_worker_server()\n"
              "print(forkserver._forkserver._forkserver_pid, flush=True)\n"
              "input()\n")
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        server = int(process.stdout.readline())
        status = Path(f"/proc/{server}/status").read_text()
    finally:
        process.communicate("\n", timeout=30)
    (ignored,) = [line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")]
    assert int(ignored, 16) & 1 << (signal.SIGINT - 1)
    assert process.returncode == 0
