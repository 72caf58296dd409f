"""The allocator settings that keep an hour's session flat (glibc; elsewhere no-ops)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from voicecoach import memory

# Buffers the size of microphone blocks and clips, freed after glibc has raised its own mmap
# threshold (which it does when the first big buffer is freed): left alone, the 15 MB stays
# in the heap. In a child process, so that no earlier test has settled the allocator already.
SCENARIO = """
import sys, numpy as np
from voicecoach import memory
def rss_kb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
if "settle" in sys.argv: memory.settle()
big = np.ones(2_000_000, dtype=np.float32); del big
before = rss_kb()
buffers = [np.ones(n, dtype=np.float32) for n in (70_000, 300_000, 900_000) * 10]
small = [np.ones(10, dtype=np.float32) for _ in range(30)]
del buffers
if "give_back" in sys.argv: memory.give_back()
print(rss_kb() - before)
"""


def grown_kb(*args: str) -> int:
    out = subprocess.run([sys.executable, "-c", SCENARIO, *args], capture_output=True,
                         text=True, check=True).stdout
    return int(out)


# Asked without settle(), which would change this test process's allocator at collection.
@pytest.mark.skipif(memory._glibc() is None, reason="glibc only")
def test_freed_buffers_go_back_to_the_system() -> None:
    pytest.importorskip("numpy")
    assert grown_kb() > 10_000  # left alone, glibc keeps them
    assert grown_kb("settle") < 2_000
    assert grown_kb("give_back") < 2_000


def test_the_calls_are_safe_to_repeat() -> None:
    for _ in range(3):
        memory.settle()
        memory.give_back()
