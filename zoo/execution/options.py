"""The execution options a user gives (backend, workers, retries), checked before anything starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from zoo.exceptions import ZooError
from zoo.limits import check_count

Backend = Literal["local", "ray"]
BACKENDS = ("local", "ray")
#: Most jobs side by side (processes here, or jobs in flight on a cluster).
MAX_WORKERS = 4096
#: How often a job whose worker died is run again before it is reported lost.
DEFAULT_RETRIES = 1
#: Most reruns one may ask for: more only repeats a crash.
MAX_RETRIES = 100


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_backend(backend: str, *, workers: int | None = None, address: str | None = None,
                  runtime_env: Mapping[str, Any] | None = None, retries: int | None = None) -> None:
    """Refuse backend options that cannot work together, before anything starts."""
    if backend not in BACKENDS:
        raise ZooError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if workers is not None:
        check_count(workers, "--workers", maximum=MAX_WORKERS)
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int)
                                or not 0 <= retries <= MAX_RETRIES):
        raise ZooError(f"retries must be a whole number from 0 to {MAX_RETRIES}, got {retries!r}")
    if backend == "local" and (address is not None or runtime_env is not None):
        raise ZooError("--address (and runtime_env) are for --backend ray")
