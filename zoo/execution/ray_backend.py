"""The Ray backend: each job a Ray task needing one CPU, on a running cluster or on a private
local instance bound to 127.0.0.1.

Ray reruns a task whose worker or node died (``max_retries``: the policy's ``retries``). A Ray
the caller already connected to is used as it is and left open; one this module started is
shut down when the work is done.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from zoo.exceptions import ZooError, one_line
from zoo.execution.outcomes import Outcome
from zoo.execution.reaper import INSTANCE_ENV

#: Set before Ray is imported so a Ray instance the zoo starts itself stays on loopback.
RAY_LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
LOOPBACK = "127.0.0.1"
#: Set before the zoo starts a local Ray instance (see connect_ray).
RAY_DIES_WITH_DRIVER_ENV = {"RAY_enable_pipe_based_agent_to_parent_health_check": "1"}
#: Seconds a reading of the cluster's CPUs is trusted (nodes come and go).
CPUS_FRESH = 5.0


def ray_over_loopback(address: str | None) -> bool:
    """Whether Ray will be reached on loopback: a local instance the zoo starts, or a head
    started with ``--node-ip-address=127.0.0.1``. Resolves ``auto`` as Ray does (RAY_ADDRESS,
    then the temp dir's ray_current_cluster), without importing Ray: its switch must be set first."""
    if address is None:
        return True
    address = os.environ.get("RAY_ADDRESS") or address
    if address == "auto":
        temp = os.environ.get("RAY_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
        try:
            address = (Path(temp) / "ray" / "ray_current_cluster").read_text(encoding="utf-8").strip()
        except OSError:
            return False
    host = address.split("://")[-1].rsplit(":", 1)[0]
    return host in (LOOPBACK, "localhost")


def connect_ray(address: str | None, workers: int, runtime_env: Mapping[str, Any] | None = None) -> bool:
    """Connect to Ray; returns True if this call started it (and so must shut it down, with
    :func:`shutdown_ray`)."""
    if ray_over_loopback(address):
        # Otherwise Ray swaps 127.0.0.1 for the machine's external address, which a
        # loopback-only head does not listen on (the driver then retries for minutes).
        for name, value in RAY_LOOPBACK_ENV.items():
            os.environ.setdefault(name, value)
    try:
        import ray
    except ImportError:
        raise ZooError("the ray backend needs Ray: pip install ray "
                       "(the project's ray extra: pip install -e '.[ray]' in a checkout)") from None
    if ray.is_initialized():
        return False
    if address is not None:
        try:
            ray.init(address=address, runtime_env=dict(runtime_env) if runtime_env else None,
                     logging_level="WARNING")
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ZooError(f"cannot connect to the Ray cluster at {address!r}: {one_line(exc)} (start one with "
                           "`ray start --head`; a cluster with token authentication, the default when a token "
                           "exists, also needs RAY_AUTH_MODE=token and its token here: docs/sweep.md)") from None
        return True
    # address="local": a new instance even if `ray start` left a cluster recorded in /tmp/ray.
    # Its processes die with this driver, even when it is SIGKILLed: Ray ties the head's processes
    # to the driver, its agents notice their raylet's end on a pipe (a switch read before Ray starts
    # them; they polled for about a minute without it), and a reaper kills what is left.
    for name, value in RAY_DIES_WITH_DRIVER_ENV.items():
        os.environ.setdefault(name, value)
    token = _start_reaper()
    try:
        if token is not None:  # inherited by the processes ray.init starts, and so by theirs; not by ours
            os.environ[INSTANCE_ENV] = token
        try:
            ray.init(address="local", num_cpus=workers, include_dashboard=False, _node_ip_address=LOOPBACK,
                     runtime_env=dict(runtime_env) if runtime_env else None, logging_level="WARNING")
        finally:
            os.environ.pop(INSTANCE_ENV, None)
        addresses = {ray.util.get_node_ip_address(), *(n["NodeManagerAddress"] for n in ray.nodes())}
    except BaseException:
        shutdown_ray()
        raise
    if addresses != {LOOPBACK}:
        shutdown_ray()
        raise ZooError(f"the local Ray instance advertised {sorted(addresses)}, not only {LOOPBACK}; "
                       "set RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 before Ray is imported")
    return True


def shutdown_ray() -> None:
    """``ray.shutdown()``, then the reaper of a Ray instance this process started makes sure
    nothing of it is left."""
    import ray

    ray.shutdown()
    _stop_reaper()


_reaper: subprocess.Popen | None = None


def _start_reaper() -> str | None:
    """A reaper (:mod:`zoo.execution.reaper`) for the instance about to start, where processes
    can be found by their environment (Linux); returns the token its processes are to carry."""
    global _reaper
    _stop_reaper()
    if not Path("/proc/self/environ").exists():
        return None
    token = uuid.uuid4().hex
    _reaper = subprocess.Popen([sys.executable, "-m", "zoo.execution.reaper", token], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return token


def _stop_reaper() -> None:
    global _reaper
    if _reaper is None:
        return
    reaper, _reaper = _reaper, None
    try:
        reaper.stdin.close()
        reaper.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        reaper.kill()


class RayTasks:
    """Jobs as Ray tasks, at most ``limit`` in flight (default: the cluster's CPUs, read again as
    nodes join or leave)."""

    def __init__(self, function: Callable[[Any], Any], retries: int, limit: int | None) -> None:
        import ray

        self._ray = ray
        self._task = ray.remote(num_cpus=1, max_retries=retries)(function)
        self._limit = limit
        self._refs: dict[Any, int] = {}
        self._stopping: str | None = None
        self._cpus, self._cpus_read = 0, -CPUS_FRESH

    def capacity(self) -> int:
        if self._stopping is not None:
            return 0
        return (self._limit or self._cluster_cpus()) - len(self._refs)

    def in_flight(self) -> int:
        return len(self._refs)

    def submit(self, key: int, job: Any) -> None:
        self._refs[self._task.remote(job)] = key

    def poll(self, timeout: float) -> list[Outcome]:
        if not self._refs:
            return []
        ready, _ = self._ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        outcomes = []
        for ref in ready:
            key = self._refs.pop(ref)
            try:
                outcomes.append(Outcome(key, "done", self._ray.get(ref)))
            except self._ray.exceptions.RayTaskError as exc:  # the job raised: its own error, not Ray's wrapping
                cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                outcomes.append(Outcome(key, "lost", self._stopping or one_line(cause)))
            except Exception as exc:  # RayError: its worker or node is gone after the retries, or it was cancelled
                outcomes.append(Outcome(key, "lost", self._stopping or one_line(exc)))
        return outcomes

    def interrupt(self, reason: str) -> None:
        self._stopping = reason
        self.kill()

    def kill(self) -> None:
        for ref in self._refs:
            self._ray.cancel(ref, force=True)

    def close(self) -> None:
        pass  # the connection is the executor's

    def _cluster_cpus(self) -> int:
        if time.monotonic() - self._cpus_read >= CPUS_FRESH:
            self._cpus = max(1, int(self._ray.cluster_resources().get("CPU", 1)))
            self._cpus_read = time.monotonic()
        return self._cpus
