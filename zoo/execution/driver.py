"""The driver: hands jobs to a backend as it has room, reports what becomes of each, and turns
Ctrl-C and SIGTERM into the stop requests of the failure policy (see :mod:`zoo.execution`)."""

from __future__ import annotations

import itertools
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from zoo.execution.options import DEFAULT_RETRIES, Backend, check_backend, default_workers

#: Seconds between looks at the signals while jobs run.
POLL_SECONDS = 0.2

#: ``next_job()``: the next job to run, or None when there are no more.
NextJob = Callable[[], Any]
#: ``on_done(job, result)``: the job returned ``result``.
OnDone = Callable[[Any, Any], None]
#: ``on_lost(job, reason)``: the job raised, its worker is gone, or it was stopped; ``reason`` is one line.
OnLost = Callable[[Any, str], None]


@dataclass(frozen=True)
class Stopped:
    """The signal that stopped a run of jobs early."""

    signum: int

    @property
    def name(self) -> str:
        return "Ctrl-C" if self.signum == signal.SIGINT else signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class _StopRequests:
    """How hard the driver has been asked to stop: 0 not at all, 1 start nothing more (a first
    Ctrl-C), 2 stop the running jobs (a second Ctrl-C, or SIGTERM), 3 kill them."""

    def __init__(self) -> None:
        self.level = 0
        self.first: int | None = None

    def __call__(self, signum: int, frame: Any) -> None:  # noqa: ARG002
        self.first = self.first or signum
        self.level = min(3, max(self.level + 1, 2 if signum == signal.SIGTERM else 1))

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
            yield
            return
        previous = {signum: signal.signal(signum, self) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


class Executor:
    """A backend, connected (:func:`open_executor`), that runs jobs with :meth:`run`."""

    def __init__(self, backend: Backend, workers: int | None, address: str | None,
                 runtime_env: Mapping[str, Any] | None, retries: int) -> None:
        self.backend, self.workers, self.address, self.runtime_env = backend, workers, address, runtime_env
        self.retries = retries
        self._ray_started = False

    def connect(self) -> None:
        if self.backend == "ray":
            from zoo.execution.ray_backend import connect_ray

            self._ray_started = connect_ray(self.address, self.workers or default_workers(), self.runtime_env)

    def close(self) -> None:
        if self._ray_started:
            from zoo.execution.ray_backend import shutdown_ray

            shutdown_ray()
            self._ray_started = False

    def _runner(self, function: Callable[[Any], Any]) -> Any:
        if self.backend == "ray":
            from zoo.execution.ray_backend import RayTasks

            # With a cluster, --workers caps the jobs in flight; without, the cluster's CPUs do.
            return RayTasks(function, self.retries, self.workers)
        from zoo.execution.local import LocalPool

        return LocalPool(function, self.workers or default_workers(), self.retries)

    def run(self, function: Callable[[Any], Any], next_job: NextJob, on_done: OnDone,
            on_lost: OnLost) -> Stopped | None:
        """Run ``function(job)`` for every job ``next_job`` gives, asking for one whenever a
        worker is free; report each with ``on_done`` or ``on_lost``. Returns how it was stopped,
        or None when every job was run. Jobs never started are not reported."""
        runner = self._runner(function)
        stop = _StopRequests()
        jobs: dict[int, Any] = {}
        keys = itertools.count()
        again: deque[int] = deque()
        exhausted, interrupted, killed = False, False, False
        try:
            with stop.installed():
                while True:
                    if stop.level >= 2 and not interrupted:
                        runner.interrupt(f"interrupted ({Stopped(stop.first).name}) before it finished")
                        interrupted = True
                    if stop.level >= 3 and not killed:
                        runner.kill()
                        killed = True
                    while stop.level == 0 and runner.capacity() > 0 and (again or not exhausted):
                        if again:
                            key = again.popleft()
                        else:
                            job = next_job()
                            if job is None:
                                exhausted = True
                                break
                            key = next(keys)
                            jobs[key] = job
                        runner.submit(key, jobs[key])
                    if runner.in_flight() == 0 and (stop.level or (exhausted and not again)):
                        break
                    for outcome in runner.poll(POLL_SECONDS):
                        if outcome.kind == "again":
                            again.append(outcome.key)
                        elif outcome.kind == "done":
                            on_done(jobs.pop(outcome.key), outcome.value)
                        else:
                            on_lost(jobs.pop(outcome.key), outcome.value)
        except BaseException:
            runner.kill()  # nothing is left running behind an error
            raise
        finally:
            runner.close()
        return Stopped(stop.first) if stop.first is not None else None


@contextmanager
def open_executor(backend: Backend = "local", *, workers: int | None = None, address: str | None = None,
                  runtime_env: Mapping[str, Any] | None = None, retries: int | None = None) -> Iterator[Executor]:
    """The backend, checked and connected (Ray: before the caller writes anything, so a cluster
    that cannot be reached leaves nothing behind); a Ray instance it started is shut down on exit.

    ``backend="local"``: a spawn process pool of ``workers`` processes (default: the cores).
    ``backend="ray"``: Ray tasks; ``address`` names a running cluster (``"auto"`` finds the local
    head), otherwise a loopback-only Ray instance with ``workers`` CPUs is started. ``runtime_env``
    goes to ``ray.init``. ``retries``: how often a job whose worker died is run again."""
    check_backend(backend, workers=workers, address=address, runtime_env=runtime_env, retries=retries)
    executor = Executor(backend, workers, address, runtime_env, DEFAULT_RETRIES if retries is None else retries)
    executor.connect()
    try:
        yield executor
    finally:
        executor.close()
