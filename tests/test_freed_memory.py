"""Freed large blocks go back to the system (glibc): the window's and the training process's memory
does not keep what a batch of snapshots or a frame's arrays once needed."""

import subprocess
import sys

import pytest

from rnnviz.freed_memory import return_large_blocks

#: Frees 200 touched 300 kB blocks that lie between small blocks still in use, after a 4 MB block
#: was freed (which moves glibc's threshold), and prints how much resident memory that left (bytes).
CHILD = r"""
import sys
from rnnviz.freed_memory import return_large_blocks
if sys.argv[1] == "fixed":
    assert return_large_blocks()

def resident():
    with open("/proc/self/smaps_rollup") as rollup:
        return next(int(line.split()[1]) * 1024 for line in rollup if line.startswith("Rss:"))

big = bytes(4 << 20)
del big
before = resident()
blocks, kept = [], []
for _ in range(200):
    blocks.append(bytes(300_000))
    kept.append(bytearray(2_000))
del blocks
print(resident() - before)
"""


def _left_resident(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_freed_large_blocks_leave_no_resident_memory_behind():
    if not return_large_blocks():
        pytest.skip("not glibc: the C library's own policy applies")
    fixed, default = _left_resident("fixed"), _left_resident("default")
    assert fixed < 5_000_000, fixed
    assert default > fixed + 20_000_000, (default, fixed)    # what glibc's moving threshold keeps
