"""Small jobs for the execution layer's tests (tests/test_execution.py): importable by name, so
that spawned pool workers and Ray workers can run them. Each takes one picklable argument."""

from __future__ import annotations

import os
import time
from pathlib import Path


def square(x: int) -> int:
    return x * x


def fail_on_one(x: int) -> int:
    if x == 1:
        raise RuntimeError("job 1 fails\nthis second line is not reported")
    return x


def nap(job: tuple[str, int, float]) -> int:
    """Mark the job started, sleep, mark it done."""
    folder, x, seconds = job
    Path(folder, f"{x}.started").touch()
    time.sleep(seconds)
    Path(folder, f"{x}.done").touch()
    return x


def die_on_one(job: tuple[str, int, int]) -> int:
    """Job 1 kills its worker process the first ``deaths`` times it runs, once job 0 has started;
    the others run for 3 seconds after job 1 has started (so that a local pool has both running
    when it breaks)."""
    folder, x, deaths = job
    Path(folder, f"{x}.started").touch()
    if x == 1:
        runs = len(list(Path(folder).glob("died-*")))
        if runs < deaths:
            deadline = time.time() + 60
            while not Path(folder, "0.started").exists() and time.time() < deadline:
                time.sleep(0.01)
            Path(folder, f"died-{runs}").touch()
            os._exit(3)
    else:
        deadline = time.time() + 60
        while not Path(folder, "1.started").exists() and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(3.0)  # still running when job 1's worker dies, however loaded the machine
    return x
