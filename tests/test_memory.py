"""REINFORCE's training keeps freed memory for the next update (zoo.agents.memory): glibc serves
a batch-sized array from its heap, where the next one reuses it, instead of mapping fresh pages
for it and returning them when it is freed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Makes a 64 MB array and frees it; prints glibc's count of memory in mapped blocks while it
# lived, and of free memory kept in the heap after (mallinfo2, glibc 2.33 and later).
_WHERE_A_BIG_ARRAY_LIVES = """
import ctypes, json, sys
import numpy as np

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]

mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Info
if sys.argv[1] == "kept":
    from zoo.agents import memory
    memory.keep_freed_memory()
array = np.ones(1 << 24, np.float32)
mapped = mallinfo2().hblkhd
del array
print(json.dumps({"mapped": mapped, "kept_free": mallinfo2().fordblks}))
"""


def _allocator(mode: str) -> dict[str, int]:
    result = subprocess.run([sys.executable, "-c", _WHERE_A_BIG_ARRAY_LIVES, mode], capture_output=True, text=True)
    if "mallinfo2" in result.stderr:
        pytest.skip("glibc's allocator (2.33 or later) only")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator only")
def test_a_batch_sized_array_lives_in_the_heap_and_its_memory_stays_there():
    size = 1 << 26
    default, kept = _allocator("default"), _allocator("kept")
    assert default["mapped"] >= size and default["kept_free"] < size  # mapped, then given back
    assert kept["mapped"] < size and kept["kept_free"] >= size


def test_training_keeps_freed_memory(monkeypatch):
    import zoo
    from zoo.agents import memory

    calls = []
    monkeypatch.setattr(memory, "keep_freed_memory", lambda: calls.append(True))
    agent = zoo.make_agent("reinforce", "cartpole", seed=0)
    agent.start_training(lambda n: zoo.make_vec_env("cartpole", n))
    agent.stop_training()
    assert calls == [True]
