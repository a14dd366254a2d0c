"""Drivers a test starts and must see gone with everything they started.

Each driver (``zoo sweep``, ``zoo tune``, a script) runs with a marker in its environment,
``ZOO_TEST_MARK=TOKEN``; every process it starts inherits it (pool workers, Ray's processes,
whatever they start in turn), even after it has moved to a session of its own or been adopted
by init. So a test finds all of them by the marker, on Linux through ``/proc/PID/environ``, as
the zoo's Ray reaper finds an instance's processes (``zoo.execution.reaper.Instance``): with the
descendants of marked processes, and every process found before that lives on, since a process
may overwrite its environment (Ray's agents set their process title over it, the marker with it).

Fixtures: ``jobs_in_this_process`` (sweeps and tunes run their jobs in the test's own process, one
after another: for tests of what surrounds the backends, which have tests of their own),
``marked_driver`` (``marked_driver(args, cwd=..., env=...) -> Driver``: a child process
in a session of its own, with a fresh marker; whatever still carries a marker this fixture gave
is killed at teardown, so a failing test leaks nothing into the next) and ``marked_processes``
(``marked_processes(token) -> list[int]``: the live processes of ``token``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from zoo.execution.reaper import Instance

MARK = "ZOO_TEST_MARK"
#: Seconds a driver's processes may take to go once it is gone (Ray's agents poll their raylet; under
#: a load of 10 on 2 cores its dashboard agent was seen taking more than 20 s). A bound, not a wait.
GONE_WITHIN = 60.0
PROC = Path("/proc")
ZOO = [sys.executable, "-c", "from zoo.cli import main; main()"]


#: Each marker's processes as far as seen (zoo.execution.reaper's memory of an instance).
_SEEN: dict[str, Instance] = {}


def _marked(token: str) -> list[int]:
    return sorted(_SEEN.setdefault(token, Instance(token, variable=MARK)).look())


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@dataclass
class Driver:
    """A driver process and the marker it and its descendants carry."""

    process: subprocess.Popen
    token: str
    output: Path

    def stdout(self) -> str:
        return self.output.with_suffix(".out").read_text()

    def stderr(self) -> str:
        return self.output.with_suffix(".err").read_text()

    def finish(self, timeout: float = 300) -> int:
        """Wait for it to exit; its exit code."""
        return self.process.wait(timeout=timeout)

    @property
    def pid(self) -> int:
        return self.process.pid

    def remaining(self) -> list[int]:
        """The live processes it started (itself included, until it is reaped)."""
        return _marked(self.token)

    def wait_gone(self, seconds: float = GONE_WITHIN) -> list[int]:
        """Wait until nothing carrying its marker is alive; returns what still is after ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := self.remaining()) and time.monotonic() < deadline:
            time.sleep(0.25)
        return left

    def describe(self, pids: list[int]) -> str:
        lines = []
        for pid in pids:
            try:
                command = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
                parent = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1]
            except OSError:
                continue
            lines.append(f"{pid} (parent {parent}): {command}")
        return "\n".join(lines)


@pytest.fixture
def marked_processes():
    """``marked_processes(token) -> list[int]``: the live processes of ``token``: carrying
    ``ZOO_TEST_MARK=token``, started by such a process, or found by an earlier call."""
    if not (PROC / "self" / "environ").exists():
        pytest.skip("needs /proc (Linux) to find a driver's processes")
    return _marked


@pytest.fixture
def marked_driver(marked_processes):
    """``marked_driver(args, cwd=None, env=None, zoo=True) -> Driver``: ``zoo ARGS`` (or ``ARGS`` as
    given, ``zoo=False``) as a child in a session of its own, output to files in ``cwd``, with a
    fresh marker; anything carrying one of these markers is killed at teardown."""
    tokens: list[str] = []
    processes: list[subprocess.Popen] = []

    def start(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
              zoo: bool = True) -> Driver:
        token = uuid.uuid4().hex
        tokens.append(token)
        cwd = Path(cwd or os.getcwd())
        name = f"driver-{len(tokens)}"
        with open(cwd / f"{name}.out", "w") as stdout, open(cwd / f"{name}.err", "w") as stderr:
            process = subprocess.Popen([*(ZOO if zoo else []), *args], cwd=cwd, stdout=stdout, stderr=stderr,
                                       stdin=subprocess.DEVNULL, start_new_session=True,
                                       env={**os.environ, "COLUMNS": "200", **(env or {}), MARK: token})
        processes.append(process)
        return Driver(process, token, cwd / name)

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()
    for token in tokens:
        _kill(marked_processes(token))


@pytest.fixture
def jobs_in_this_process(monkeypatch):
    """The execution layer runs each job here, one after another, on no backend at all."""
    from zoo.execution import Executor

    def sequential(self, function, next_job, on_done, on_lost):
        while (job := next_job()) is not None:
            on_done(job, function(job))

    monkeypatch.setattr(Executor, "run", sequential)
    monkeypatch.setattr(Executor, "connect", lambda self: None)
