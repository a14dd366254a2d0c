"""The local backend: jobs in spawned worker processes of a ``concurrent.futures`` process pool.

Spawned, not forked: no torch or Ray state is copied into the workers. Each worker starts a
session of its own, so a Ctrl-C at the terminal reaches only the driver, which decides what
happens to the running jobs (see :mod:`zoo.execution`). Each worker dies with its driver, however
the driver ends (SIGKILL included): Linux delivers it SIGKILL when its parent dies
(``PR_SET_PDEATHSIG``); elsewhere a thread watching the parent's process id kills the worker's
process group. Each worker reports the job it starts,
and its process id, on a queue: that tells, when a worker dies and takes the pool down with
it, which jobs had started (suspects, rerun one at a time) and which had not (handed out again).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from zoo.exceptions import one_line
from zoo.execution.outcomes import Outcome, times

#: Set in each worker: where it reports the jobs it starts.
_started_queue: Any = None
#: Why no job can run here, once a pool has shown it.
_CANNOT_START = ("worker processes died before starting any job (in a script, call it under "
                 "`if __name__ == '__main__':`)")


#: Seconds between looks at the parent, where Linux cannot be asked to tell.
PARENT_WATCH_SECONDS = 1.0


def _start_worker(queue: Any, driver: int) -> None:
    global _started_queue
    _started_queue = queue
    if hasattr(os, "setsid"):
        os.setsid()
    die_with(driver)


def die_with(parent: int) -> None:
    """End this process when ``parent`` (its parent process) ends, even by SIGKILL."""
    if _kernel_kills_on_parent_death():
        if os.getppid() != parent:  # it died before the kernel was asked
            os._exit(1)
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_WATCH_SECONDS)
        with contextlib.suppress(OSError):
            os.killpg(os.getpgrp(), signal.SIGKILL)  # this worker, and whatever it started in its group
        os._exit(1)

    threading.Thread(target=watch, name="zoo-parent-watch", daemon=True).start()


def _kernel_kills_on_parent_death() -> bool:
    """Linux: ask for SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    pr_set_pdeathsig = 1
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _run(function: Callable[[Any], Any], key: int, job: Any) -> Any:
    _started_queue.put((key, os.getpid()))
    return function(job)


class LocalPool:
    """Up to ``workers`` jobs at once; a job whose worker died is rerun up to ``retries`` times."""

    def __init__(self, function: Callable[[Any], Any], workers: int, retries: int) -> None:
        import multiprocessing

        self.function, self.workers, self.retries = function, workers, retries
        self._context = multiprocessing.get_context("spawn")
        self._queue = self._context.SimpleQueue()
        self._pool: ProcessPoolExecutor | None = None
        self._pool_size = 0
        self._pool_started_a_job = False
        self._futures: dict[Future, tuple[int, Any]] = {}
        self._pids: dict[int, int] = {}  # key -> the worker running it
        self._deaths: dict[int, int] = {}
        self._suspects: list[tuple[int, Any]] = []
        self._stopping: str | None = None
        self._cannot_start: str | None = None
        self._ready: list[Outcome] = []

    # -- what the driver calls --------------------------------------------------------------------
    def capacity(self) -> int:
        if self._suspects or self._stopping is not None:
            return 0
        return self.workers - len(self._futures)

    def in_flight(self) -> int:
        return len(self._futures) + len(self._suspects) + len(self._ready)

    def submit(self, key: int, job: Any) -> None:
        self._submit(key, job, self.workers)

    def poll(self, timeout: float) -> list[Outcome]:
        if self._ready:
            ready, self._ready = self._ready, []
            return ready
        if self._suspects and not self._futures:
            if self._stopping is not None:
                suspects, self._suspects = self._suspects, []
                return [Outcome(key, "lost", self._stopping) for key, _ in suspects]
            self._submit(*self._suspects.pop(0), size=1)  # alone: if it dies, it was its own doing
        if not self._futures:
            return []
        done, _ = wait(self._futures, timeout=timeout, return_when=FIRST_COMPLETED)
        self._read_started()
        outcomes = []
        for future in done:
            if isinstance(future.exception(), BrokenProcessPool):
                return outcomes + self._after_break()
            key, _ = self._futures.pop(future)
            self._pids.pop(key, None)
            outcomes.append(self._outcome(key, future))
        return outcomes

    def interrupt(self, reason: str) -> None:
        """Stop the running jobs: SIGTERM to their workers (training saves and stops)."""
        self._stopping = reason
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # -- inside ----------------------------------------------------------------------------------
    def _submit(self, key: int, job: Any, size: int) -> None:
        if self._cannot_start is None and (self._pool is None or self._pool_size != size):
            self._start_pool(size)
        if self._cannot_start is not None:
            self._ready.append(Outcome(key, "lost", self._cannot_start))
            return
        self._futures[self._pool.submit(_run, self.function, key, job)] = (key, job)

    def _start_pool(self, size: int) -> None:
        """A new pool, its workers started before any job: a pool that starts them as jobs come
        (Python 3.11) may notice a worker's death only once another job ends."""
        self.close()
        self._pool = ProcessPoolExecutor(max_workers=size, mp_context=self._context, initializer=_start_worker,
                                         initargs=(self._queue, os.getpid()))
        self._pool_size, self._pool_started_a_job = size, False
        started = [self._pool.submit(os.getpid) for _ in range(size)]
        wait(started)
        if any(future.exception() is not None for future in started):
            self._cannot_start = _CANNOT_START
            self.close()

    def _read_started(self) -> None:
        while not self._queue.empty():
            key, pid = self._queue.get()
            self._pids[key] = pid
            self._pool_started_a_job = True

    def _outcome(self, key: int, future: Future) -> Outcome:
        exc = future.exception()
        if exc is None:
            return Outcome(key, "done", future.result())
        return Outcome(key, "lost", self._stopping or one_line(exc))

    def _after_break(self) -> list[Outcome]:
        """A worker died: the pool is gone with every job in it. Finished jobs are reported, those
        that had started become suspects (or are lost), the others go back to the driver."""
        self._pool.shutdown(wait=True, cancel_futures=True)  # every future now holds its outcome
        self._pool = None
        self._read_started()
        futures, self._futures = self._futures, {}
        outcomes, started_any = [], self._pool_started_a_job
        for future, (key, job) in futures.items():
            pid = self._pids.pop(key, None)
            if not future.cancelled() and not isinstance(future.exception(), BrokenProcessPool):
                outcomes.append(self._outcome(key, future))
            elif self._stopping is not None:
                outcomes.append(Outcome(key, "lost", self._stopping) if pid is not None else Outcome(key, "again"))
            elif pid is None and started_any:
                outcomes.append(Outcome(key, "again"))
            elif pid is None:
                self._cannot_start = _CANNOT_START
                outcomes.append(Outcome(key, "lost", self._cannot_start))
            else:
                self._deaths[key] = self._deaths.get(key, 0) + 1
                if self._deaths[key] > self.retries:
                    outcomes.append(Outcome(key, "lost", f"its worker process died {times(self._deaths[key])} "
                                                         "(killed, out of memory, or a crash in native code)"))
                else:
                    self._suspects.append((key, job))
        return outcomes

    def _signal(self, signum: int) -> None:
        self._read_started()
        for pid in self._pids.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)
