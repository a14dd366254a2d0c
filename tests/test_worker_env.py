"""The worker-process vector env (zoo.vector.workers.WorkerVectorEnv): gymnasium's sync vector env
bit for bit, stopped cleanly, and never outliving its parent.

* Observations, rewards, terminations and truncations equal ``SyncVectorEnv``'s under the same
  actions, for several seeds and numbers of copies and workers, across autoresets, partial
  resets (``reset_mask``), seed lists, and actions of another dtype than the space's.
* Vector infos are merged as the sync env lays them out.
* ``close()`` ends every worker; a worker's error is one line naming the worker; SIGKILL of the
  parent leaves no worker behind.
* ``zoo.make_vec_env`` takes it where it pays (two cores or more, a costly enough env) and
  ``vectorization_mode`` chooses either way.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import gymnasium
import numpy as np
import pytest

import zoo
from zoo.exceptions import ZooError
from zoo.vector.workers import WorkerVectorEnv


def workers_env(name: str, num_envs: int, workers: int, **kwargs) -> WorkerVectorEnv:
    probe = zoo.make_env(name)
    factory = functools.partial(zoo.make_vec_env, name, vectorization_mode="sync", **kwargs)
    return WorkerVectorEnv(factory, num_envs, workers, probe.observation_space, probe.action_space)


def assert_same(a, b, what: str) -> None:
    for x, y, name in zip(a[:4], b[:4], ("obs", "rewards", "terminated", "truncated")):
        assert x.dtype == y.dtype and np.array_equal(x, y), f"{name} differ {what}"


@pytest.mark.parametrize("env,num_envs,workers,seed", [("lunarlander", 7, 2, 0), ("lunarlander", 5, 3, 11),
                                                       ("mountaincar", 6, 2, 4), ("FrozenLake-v1", 4, 4, 2),
                                                       ("LunarLanderContinuous-v3", 4, 2, 5)])
def test_equal_to_the_sync_vector_env_bit_for_bit(env, num_envs, workers, seed):
    kwargs = {"max_episode_steps": 60}  # short episodes: many autoresets
    parallel = workers_env(env, num_envs, workers, **kwargs)
    sync = zoo.make_vec_env(env, num_envs, vectorization_mode="sync", **kwargs)
    try:
        a, _ = parallel.reset(seed=seed)
        b, _ = sync.reset(seed=seed)
        assert np.array_equal(a, b)
        rng = np.random.default_rng(seed)
        sync.action_space.seed(seed)
        for t in range(400):
            actions = sync.action_space.sample()
            if t % 97 == 50 and actions.dtype.kind == "f":
                actions = actions.astype(np.float64)  # another dtype reaches each copy as given
            assert_same(parallel.step(actions), sync.step(actions), f"at step {t}")
            if t % 61 == 30:
                mask = rng.random(num_envs) < 0.5
                mask[rng.integers(num_envs)] = True
                a, _ = parallel.reset(options={"reset_mask": mask})
                b, _ = sync.reset(options={"reset_mask": mask})
                assert np.array_equal(a, b), f"reset_mask at step {t}"
        seeds = [int(s) for s in rng.integers(0, 1000, num_envs)]
        assert np.array_equal(parallel.reset(seed=seeds)[0], sync.reset(seed=seeds)[0])
        for _ in range(50):
            actions = sync.action_space.sample()
            assert_same(parallel.step(actions), sync.step(actions), "after a reset with a seed list")
    finally:
        parallel.close()
        sync.close()


class InfoEnv(gymnasium.Env):
    """Says its step count in ``info`` on odd steps, ends every 5 steps."""

    observation_space = gymnasium.spaces.Box(0, 100, (1,), np.float32)
    action_space = gymnasium.spaces.Discrete(2)

    def __init__(self, render_mode=None):
        self.render_mode = render_mode

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {"start": self.np_random.integers(10)}

    def step(self, action):
        self.t += 1
        info = {"t": self.t} if self.t % 2 else {}
        return np.full(1, self.t, np.float32), 1.0, self.t >= 5, False, info


def test_infos_are_merged_as_the_sync_env_lays_them_out():
    gymnasium.register("zoo-test/Info-v0", entry_point=InfoEnv)
    parallel = workers_env("zoo-test/Info-v0", 5, 2)
    sync = zoo.make_vec_env("zoo-test/Info-v0", 5, vectorization_mode="sync")
    try:
        infos = [(parallel.reset(seed=1)[1], sync.reset(seed=1)[1])]
        for t in range(12):
            actions = np.array([t % 2] * 5)
            infos.append((parallel.step(actions)[4], sync.step(actions)[4]))
        for ours, theirs in infos:
            assert ours.keys() == theirs.keys()
            for key in ours:
                assert np.array_equal(ours[key], theirs[key]), key
    finally:
        parallel.close()
        sync.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for its parent is gone for our purposes
        return f.read().split(")")[-1].split()[0] != "Z"


def test_close_ends_every_worker_and_an_error_names_its_worker():
    envs = workers_env("lunarlander", 4, 2)
    pids = [p.pid for p in envs.processes]
    envs.reset(seed=0)
    with pytest.raises(ZooError, match="env worker 1: .*"):
        envs.step(np.array([0, 0, 0, 99]))  # not an action of LunarLander's
    envs.close()
    assert not any(alive(pid) for pid in pids)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the workers are forked on Linux")
def test_sigkill_of_the_parent_leaves_no_worker_behind(tmp_path):
    script = textwrap.dedent("""
        import functools, sys, time
        import zoo
        from zoo.vector.workers import WorkerVectorEnv
        probe = zoo.make_env("lunarlander")
        envs = WorkerVectorEnv(functools.partial(zoo.make_vec_env, "lunarlander", vectorization_mode="sync"), 4, 2,
                               probe.observation_space, probe.action_space)
        envs.reset(seed=0)
        print(" ".join(str(p.pid) for p in envs.processes), flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in pids)


def test_make_vec_env_takes_worker_processes_where_they_pay(monkeypatch):
    from zoo import factory

    monkeypatch.setattr(factory, "usable_cores", lambda: 2)
    costly = zoo.make_vec_env("lunarlander", 128)  # 128 x 31 µs: 4 ms a step
    try:
        assert isinstance(costly, WorkerVectorEnv) and costly.shares == [(0, 64), (64, 128)]
    finally:
        costly.close()
    assert not isinstance(zoo.make_vec_env("FrozenLake-v1", 16), WorkerVectorEnv)  # a step costs too little
    # 16 copies of LunarLander or HalfCheetah (500-800 µs a step): the workers measured slower on 2 cores.
    assert not isinstance(zoo.make_vec_env("lunarlander", 16), WorkerVectorEnv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MuJoCo's deprecation notices
        assert not isinstance(zoo.make_vec_env("HalfCheetah-v5", 16), WorkerVectorEnv)
    assert not isinstance(zoo.make_vec_env("lunarlander", 2), WorkerVectorEnv)  # too few copies
    assert not isinstance(zoo.make_vec_env("lunarlander", 16, vectorization_mode="sync"), WorkerVectorEnv)
    monkeypatch.setattr(factory, "usable_cores", lambda: 1)
    assert not isinstance(zoo.make_vec_env("lunarlander", 16), WorkerVectorEnv)  # one core: nothing to share
    forced = zoo.make_vec_env("FrozenLake-v1", 4, vectorization_mode="workers")
    try:
        assert isinstance(forced, WorkerVectorEnv)
    finally:
        forced.close()
    with pytest.raises(ZooError, match="vectorization_mode must be"):
        zoo.make_vec_env("lunarlander", 4, vectorization_mode="async")


def test_worker_processes_are_taken_where_the_cpu_figures_predict_them_1_5x_faster():
    """The figures of benchmarks/results/env-speed.md ("Sync or workers"), CPU per env step."""
    from zoo.factory import workers_pay

    assert not workers_pay(16 * 45e-6, 2)  # HalfCheetah, 16 copies, 2 cores: predicted 1.1x
    assert not workers_pay(16 * 31e-6, 2)  # LunarLander: 1.2x
    assert workers_pay(16 * 250e-6, 2)  # Ant: 1.7x
    assert workers_pay(32 * 110e-6, 2)  # Hopper, 32 copies: 1.6x
    assert workers_pay(32 * 45e-6, 4) and workers_pay(16 * 110e-6, 8)  # more cores, more pays
    assert not workers_pay(1.0, 1)  # one worker process only adds its messages
