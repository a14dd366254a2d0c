"""The reaper of a local Ray instance (zoo.execution.reaper): once the driver's pipe ends, every
process of the instance dies: those carrying its token, those it has seen carry it (Ray's agents
overwrite their environment with their process title), whatever those started, and any that
show up while it is reaping. A SIGKILLed driver's Ray agents were once left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from zoo.execution import reaper

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="the reaper needs /proc (Linux)")

#: A process that, once the file argv[1] exists, overwrites the memory /proc shows as its environment
#: (as setproctitle does, the title running on over it), then says so by writing the file argv[2].
OVERWRITES_ITS_ENVIRONMENT = """
import ctypes, pathlib, sys, time
go, done = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
while not go.exists():
    time.sleep(0.02)
fields = pathlib.Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
env_start, env_end = int(fields[47]), int(fields[48])  # stat's fields 50 and 51
ctypes.memset(env_start, 0, env_end - env_start)
done.write_text("")
time.sleep(60)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def started(args: list[str], token: str | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != reaper.INSTANCE_ENV}
    if token is not None:
        env[reaper.INSTANCE_ENV] = token
    return subprocess.Popen(args, env=env, start_new_session=True)


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def running_sleep(pids: list[int]) -> bool:
    return len(pids) == 1 and Path(f"/proc/{pids[0]}/cmdline").read_bytes().startswith(b"sleep\0")


def wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def stop(*processes: subprocess.Popen | None) -> None:
    for process in processes:
        if process is not None:
            process.kill()
            process.wait()


def test_the_reaper_kills_the_instance_and_what_it_started_and_nothing_else():
    token = uuid.uuid4().hex
    # A process of the instance whose child has left the token out of its environment.
    parent = started(["bash", "-c", f"env -u {reaper.INSTANCE_ENV} sleep 60 & wait"], token)
    outsider = started(["sleep", "60"], None)
    try:
        wait_for(lambda: running_sleep(children(parent.pid)))  # env has started sleep without the token
        (child,) = children(parent.pid)
        assert reaper.INSTANCE_ENV.encode() not in Path(f"/proc/{child}/environ").read_bytes()
        assert reaper.Instance(token).look() == {parent.pid, child}
        driver = subprocess.Popen([sys.executable, "-m", "zoo.execution.reaper", token], stdin=subprocess.PIPE)
        driver.stdin.close()  # as when the driver dies
        assert driver.wait(timeout=60) == 0
        assert parent.wait(timeout=10) == -signal.SIGKILL
        assert not alive(child)
        assert outsider.poll() is None
    finally:
        stop(parent, outsider)


def test_a_process_seen_with_the_token_is_killed_after_overwriting_its_environment(tmp_path):
    token = uuid.uuid4().hex
    process = started([sys.executable, "-c", OVERWRITES_ITS_ENVIRONMENT, str(tmp_path / "go"), str(tmp_path / "done")],
                      token)
    try:
        instance = reaper.Instance(token)
        wait_for(lambda: process.pid in instance.look())
        (tmp_path / "go").write_text("")
        wait_for((tmp_path / "done").exists)
        assert token.encode() not in Path(f"/proc/{process.pid}/environ").read_bytes()
        assert process.pid not in reaper.Instance(token).look()  # a reaper that had not seen it
        reaper.reap(instance)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        stop(process)


class StartsOneAfterAnEmptyLook(reaper.Instance):
    """An instance one of whose processes shows up after a look that found none: as a process
    that a dying one was starting when it died."""

    late: subprocess.Popen | None = None

    def look(self) -> set[int]:
        found = super().look()
        if not found and self.late is None:
            self.late = started(["sleep", "60"], self.token)
        return found


def test_a_process_of_the_instance_that_shows_up_while_reaping_is_killed_too():
    instance = StartsOneAfterAnEmptyLook(uuid.uuid4().hex)
    try:
        reaper.reap(instance)
        assert instance.late is not None and instance.late.wait(timeout=10) == -signal.SIGKILL
    finally:
        stop(instance.late)
