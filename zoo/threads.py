"""How many threads torch (and numpy's BLAS) may use: one setting for every agent and tool.

Small networks on few cores run fastest, and reproducibly, on one intra-op thread (measured:
two threads were never faster on two cores, and up to 46x slower under load). The same holds
for numpy's OpenBLAS, which REINFORCE's acting and update run on (agents/gradients.py): its
threads spin while they wait, and on a busy 2-core machine a 5,000-row forward and backward
took 46 ms on its default 2 threads against 13 ms on one (threadpoolctl limits it). Agents call
:func:`use_torch_threads` before they compute; tools that run agents side by side (sweeps)
call :func:`limit_torch_threads` so that every agent they start keeps to it.
"""

from __future__ import annotations

import os
import sys

THREADS_VAR = "ZOO_TORCH_THREADS"


def torch_threads() -> int:
    """The configured number of torch threads: ``ZOO_TORCH_THREADS``, default 1."""
    try:
        return max(1, int(os.environ.get(THREADS_VAR, "1")))
    except ValueError:
        return 1


def use_torch_threads() -> None:
    """Set torch and numpy's BLAS to :func:`torch_threads` threads (imports torch only if it is
    not yet loaded by the caller, which is about to use it anyway)."""
    import torch

    threads = torch_threads()
    torch.set_num_threads(threads)
    _limit_blas(threads)


_blas_threads: int | None = None


def _limit_blas(threads: int) -> None:
    global _blas_threads
    if _blas_threads != threads:  # threadpoolctl inspects the loaded libraries: once is enough
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")
        _blas_threads = threads


def limit_torch_threads(threads: int) -> None:
    """From now on, in this process and the processes it starts, agents use ``threads`` threads."""
    os.environ[THREADS_VAR] = str(threads)
    if "torch" in sys.modules:
        use_torch_threads()
