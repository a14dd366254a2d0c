"""The execution layer under zoo sweep and zoo tune (zoo.execution): one failure policy on both
backends. A job that raises is lost with its error in one line; a job whose worker dies is run
again `retries` times, then lost; a first Ctrl-C starts nothing more and lets the running jobs
finish; a second one, or SIGTERM, stops them."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from support import jobs

from zoo.exceptions import ZooError
from zoo.execution import Stopped, check_backend, connect_ray, open_executor, shutdown_ray

TESTS = Path(__file__).resolve().parent


def run_all(backend, function, items, **options):
    """Run ``function`` on every item; returns ({item: result}, {item: reason}, stopped)."""
    done, lost = {}, {}
    queue = iter(items)
    with open_executor(backend, **options) as executor:
        stopped = executor.run(function, lambda: next(queue, None), lambda job, value: done.__setitem__(job, value),
                               lambda job, reason: lost.__setitem__(job, reason))
    return done, lost, stopped


def signal_when(path: Path, *signums: int, pause: float = 0.3) -> threading.Thread:
    """Send ``signums`` to this process (its main thread: the driver) once ``path`` exists."""
    def watch() -> None:
        deadline = time.time() + 120
        while not path.exists() and time.time() < deadline:
            time.sleep(0.05)
        for signum in signums:
            os.kill(os.getpid(), signum)
            time.sleep(pause)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def ray_instance():
    """A local Ray instance with 2 CPUs on 127.0.0.1, whose workers can import support.jobs."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        mp.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
        try:
            import ray
        except ImportError as exc:
            pytest.skip(f"Ray is not installed ({exc}); pip install -e '.[ray]'")
        assert connect_ray(None, workers=2)
        try:
            assert [n["NodeManagerAddress"] for n in ray.nodes()] == ["127.0.0.1"]
            yield ray
        finally:
            shutdown_ray()  # connect_ray's pair: Ray's shutdown, and its reaper's


@pytest.fixture(params=["local", "ray"])
def backend(request) -> str:
    if request.param == "ray":
        request.getfixturevalue("ray_instance")
    return request.param


def test_every_job_runs_and_a_job_that_raises_is_lost_in_one_line(backend):
    done, lost, stopped = run_all(backend, jobs.fail_on_one, [0, 1, 2, 3], workers=2)
    assert done == {0: 0, 2: 2, 3: 3} and stopped is None
    assert list(lost) == [1] and "RuntimeError: job 1 fails" in lost[1] and "\n" not in lost[1]


def test_a_job_whose_worker_dies_is_run_again_and_its_neighbour_is_not_lost(backend, tmp_path):
    done, lost, _ = run_all(backend, jobs.die_on_one, [(str(tmp_path), x, 1) for x in range(3)], workers=2)
    assert sorted(x for _, x, _ in done) == [0, 1, 2] and not lost
    assert len(list(tmp_path.glob("died-*"))) == 1


def test_a_job_that_keeps_killing_its_worker_is_lost_after_its_retries(backend, tmp_path):
    done, lost, _ = run_all(backend, jobs.die_on_one, [(str(tmp_path), x, 99) for x in range(3)], workers=2,
                            retries=1)
    assert sorted(x for _, x, _ in done) == [0, 2]
    ((job, reason),) = lost.items()
    assert job[1] == 1 and len(list(tmp_path.glob("died-*"))) == 2  # the first run and one more
    if backend == "local":
        assert reason == "its worker process died twice (killed, out of memory, or a crash in native code)"
    else:
        assert "worker" in reason.lower() and "\n" not in reason


def test_no_retries_on_the_local_pool_loses_what_shared_the_pool_with_a_dying_worker(tmp_path):
    done, lost, _ = run_all("local", jobs.die_on_one, [(str(tmp_path), x, 99) for x in range(2)], workers=2,
                            retries=0)
    assert not done and {job[1] for job in lost} == {0, 1}
    assert all(reason.startswith("its worker process died once") for reason in lost.values())


def test_a_first_ctrl_c_starts_nothing_more_and_lets_the_running_jobs_finish(backend, tmp_path):
    signal_when(tmp_path / "0.started", signal.SIGINT)
    done, lost, stopped = run_all(backend, jobs.nap, [(str(tmp_path), x, 2.0) for x in range(4)], workers=1)
    assert stopped == Stopped(signal.SIGINT) and stopped.exit_code == 130 and stopped.name == "Ctrl-C"
    assert [x for _, x, _ in done] == [0] and not lost
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.done", "0.started"]


@pytest.mark.parametrize("signums, name", [((signal.SIGINT, signal.SIGINT), "Ctrl-C"), ((signal.SIGTERM,), "SIGTERM")])
def test_a_second_ctrl_c_or_sigterm_stops_the_running_jobs(backend, signums, name, tmp_path):
    signal_when(tmp_path / "0.started", *signums)
    started = time.perf_counter()
    done, lost, stopped = run_all(backend, jobs.nap, [(str(tmp_path), x, 30.0) for x in range(3)], workers=1)
    assert time.perf_counter() - started < 25, "the running job was not stopped"
    assert stopped == Stopped(signums[0]) and stopped.exit_code == 128 + signums[0]
    assert not done and [job[1] for job in lost] == [0]
    assert lost[(str(tmp_path), 0, 30.0)] == f"interrupted ({name}) before it finished"
    assert not (tmp_path / "0.done").exists() and not (tmp_path / "1.started").exists()


@pytest.mark.parametrize("kwargs, complaint", [
    (dict(backend="dask"), "unknown backend 'dask'; valid: local, ray"),
    (dict(backend="local", address="auto"), "--address (and runtime_env) are for --backend ray"),
    (dict(backend="local", workers=0), "--workers must be a positive number"),
    (dict(backend="local", retries=-1), "retries must be a whole number from 0 to 100"),
])
def test_options_are_checked_before_anything_starts(kwargs, complaint):
    with pytest.raises(ZooError) as caught:
        check_backend(**kwargs)
    assert complaint in str(caught.value)


# -- issue 23, item 11: workers die with their driver ----------------------------------------------
DRIVER = """
import sys
from zoo.execution import open_executor
from support.jobs import nap

if __name__ == "__main__":
    folder, backend = sys.argv[1], sys.argv[2]
    jobs = iter([(folder, 0, 600.0), (folder, 1, 600.0)])
    with open_executor(backend, workers=2) as executor:
        executor.run(nap, lambda: next(jobs, None), lambda job, result: None, lambda job, reason: None)
"""


@pytest.mark.parametrize("backend, signum", [
    ("local", signal.SIGKILL), ("local", signal.SIGTERM), ("ray", signal.SIGKILL),
    pytest.param("ray", signal.SIGTERM, marks=pytest.mark.slow),  # the policy's own path, tested above
], ids=["local-SIGKILL", "local-SIGTERM", "ray-SIGKILL", "ray-SIGTERM"])
def test_workers_die_with_their_driver(backend, signum, tmp_path, marked_driver):
    # A SIGKILLed driver once left its pool workers running with parent 1 for good (issue 23, item 11).
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    driver = marked_driver([sys.executable, str(script), str(tmp_path), backend], cwd=tmp_path, zoo=False,
                           env={"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])})
    deadline = time.time() + 180
    while not all((tmp_path / f"{x}.started").exists() for x in (0, 1)) and time.time() < deadline:
        assert driver.process.poll() is None, driver.stderr()
        time.sleep(0.2)
    assert len(driver.remaining()) >= 3, driver.describe(driver.remaining())  # the driver and two workers
    os.kill(driver.pid, signum)
    driver.finish(timeout=120)
    left = driver.wait_gone()
    assert not left, driver.describe(left)
