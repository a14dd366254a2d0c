"""The reaper of a local Ray instance: ``python -m zoo.execution.reaper TOKEN``.

The zoo starts it next to each Ray instance it starts itself, with a pipe from the driver on its
standard input. Every process of that instance carries ``ZOO_RAY_INSTANCE=TOKEN`` in its
environment (set before ``ray.init``). When the pipe ends (the driver closed it after
``ray.shutdown()``, or the driver died, SIGKILL included), the reaper kills whatever still carries
the token. Ray ties its head processes to the driver, but its agents watch their raylet only once
they have started, so a driver killed early left them running for about a minute. Linux only:
processes are found through ``/proc``; elsewhere the zoo starts no reaper.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

PROC = Path("/proc")
#: The variable naming a Ray instance in the environment of its processes.
INSTANCE_ENV = "ZOO_RAY_INSTANCE"


def carrying(token: str) -> list[int]:
    """The live processes whose environment holds ``ZOO_RAY_INSTANCE=token`` (this one excepted)."""
    needle = b"\0" + f"{INSTANCE_ENV}={token}".encode() + b"\0"
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in b"\0" + (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:  # gone meanwhile, or another user's
                continue
    return found


def reap(token: str, rounds: int = 3) -> None:
    """SIGKILL every process of the instance; again a few times for any a dying one started."""
    for _ in range(rounds):
        pids = carrying(token)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    (token,) = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is the driver's to handle
    while sys.stdin.buffer.read(4096):
        pass
    reap(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
