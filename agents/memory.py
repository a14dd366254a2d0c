"""Batch-sized arrays reuse the memory the last update freed (glibc's allocator only).

Every update of REINFORCE makes arrays the size of its batch: the networks' activations and
gradients, the batch's observations, returns and weights. On Pong's long episodes they reach
50-160 MB each. glibc serves any allocation above its mmap threshold (at most 32 MB by default)
with fresh pages from the kernel and gives them back when the array is freed, so every update
faults all of its memory in again, one zeroed page at a time: a matrix product into fresh memory
took 3x as long as into memory used before (benchmarks/results/training-speed.md, run 10).
Raising the mmap and trim thresholds keeps freed memory in the heap for the next update. The
arithmetic, and so every bit of a training, is unchanged; the process holds on to the memory of
its largest update instead of returning it between updates.
"""

from __future__ import annotations

import ctypes
import sys

#: mallopt's parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Allocations up to this size come from the heap, and this much free memory may stay at its top.
HEAP_LIMIT = 1 << 30

_kept = False


def keep_freed_memory() -> None:
    """From now on this process keeps freed memory of up to :data:`HEAP_LIMIT` for reuse (a no-op
    on a C library other than glibc)."""
    global _kept
    if _kept or not sys.platform.startswith("linux"):
        return
    _kept = True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a C library without mallopt
        return
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, HEAP_LIMIT)
    mallopt(_M_TRIM_THRESHOLD, HEAP_LIMIT)
