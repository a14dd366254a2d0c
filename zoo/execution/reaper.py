"""The reaper of a local Ray instance: ``python -m zoo.execution.reaper TOKEN``.

The zoo starts it next to each Ray instance it starts itself, with a pipe from the driver on its
standard input. Every process of that instance is started with ``ZOO_RAY_INSTANCE=TOKEN`` in its
environment (set before ``ray.init``). When the pipe ends (the driver closed it after
``ray.shutdown()``, or the driver died, SIGKILL included), the reaper kills every process of the
instance. Ray ties its head processes to the driver, but its agents watch their raylet only once
they have started, so a driver killed early left them running for about a minute.

A process's environment, as ``/proc`` shows it, is the memory it started with, which the process
may overwrite: Ray's agents set their process title over it, and with it the token. So the reaper
looks at the instance every :data:`WATCH_EVERY` seconds while the driver lives, and remembers
each process it found by its pid and start time: those carrying the token and their
descendants, whatever their environment. Linux only: processes are found through ``/proc``;
elsewhere the zoo starts no reaper.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from pathlib import Path

PROC = Path("/proc")
#: The variable naming a Ray instance in the environment of its processes.
INSTANCE_ENV = "ZOO_RAY_INSTANCE"
#: Seconds between looks at the instance while the driver lives (a look reads each new
#: process's environment once, and every process's /proc/PID/stat).
WATCH_EVERY = 0.5
#: Reaping ends once nothing of the instance has been seen for this long (seconds): a process
#: being started when the driver died can show up after the first kills ...
QUIET_FOR = 0.5
#: ... or after this long, whatever is still seen.
GIVE_UP_AFTER = 30.0


def _live_processes() -> dict[int, tuple[int, int]]:
    """Every live process but this one and zombies: pid -> (parent pid, start time)."""
    found = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fields = (entry / "stat").read_text(encoding="utf-8", errors="replace").rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if fields[0] != "Z":  # a zombie is dead already, awaiting its parent
            found[int(entry.name)] = (int(fields[1]), int(fields[19]))
    return found


class Instance:
    """The processes of one Ray instance, as far as the reaper has seen them: started with
    ``variable=token`` in their environment, or by such a process."""

    def __init__(self, token: str, variable: str = INSTANCE_ENV) -> None:
        self.token = token
        self.needle = b"\0" + f"{variable}={token}".encode() + b"\0"
        self.members: dict[int, int] = {}  # pid -> start time
        self.others: set[tuple[int, int]] = set()  # (pid, start time) whose environment lacked the token

    def look(self) -> set[int]:
        """The live processes of the instance: those seen before (same pid, same start time),
        those whose environment carries the token, and the descendants of both."""
        processes = _live_processes()
        found = {pid for pid, (_, start) in processes.items() if self.members.get(pid) == start}
        for pid, (_, start) in processes.items():
            if pid not in found and (pid, start) not in self.others:
                if self._carries_token(pid):
                    found.add(pid)
                else:
                    self.others.add((pid, start))
        children: dict[int, list[int]] = {}
        for pid, (parent, _) in processes.items():
            children.setdefault(parent, []).append(pid)
        stack = list(found)
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        self.members = {pid: processes[pid][1] for pid in found}
        self.others = {(pid, start) for pid, start in self.others if pid in processes and processes[pid][1] == start}
        return found

    def _carries_token(self, pid: int) -> bool:
        try:
            return self.needle in b"\0" + (PROC / str(pid) / "environ").read_bytes()
        except OSError:  # gone meanwhile, or another user's
            return False


def _signal(pids: set[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def reap(instance: Instance) -> None:
    """Kill every process of the instance, each round stopping what it finds first (so that none
    starts another meanwhile), until none has been seen for :data:`QUIET_FOR` seconds."""
    start = last_seen = time.monotonic()
    while time.monotonic() - last_seen < QUIET_FOR and time.monotonic() - start < GIVE_UP_AFTER:
        pids = instance.look()
        if pids:
            _signal(pids, signal.SIGSTOP)
            pids |= instance.look()  # any started between the look and the stop
            _signal(pids, signal.SIGKILL)
            last_seen = time.monotonic()
        time.sleep(0.05)


def watch(instance: Instance, pipe: int) -> None:
    """Look at the instance every :data:`WATCH_EVERY` seconds until ``pipe`` ends."""
    while True:
        instance.look()
        if select.select([pipe], [], [], WATCH_EVERY)[0] and not os.read(pipe, 4096):
            return


def main(argv: list[str] | None = None) -> int:
    (token,) = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is the driver's to handle
    instance = Instance(token)
    watch(instance, sys.stdin.fileno())
    reap(instance)
    return 0


if __name__ == "__main__":
    sys.exit(main())
