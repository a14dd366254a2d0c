"""Tiny env plugins that misbehave on purpose, installed as a real distribution.

``reliability_envs`` (module fixture) writes a distribution (a module plus ``*.dist-info`` with an
``agent_zoo`` entry point, exactly what pip leaves behind) into a temporary folder, puts it first
on ``sys.path`` and ``PYTHONPATH`` (for ``zoo`` subprocesses) and rediscovers plugins; undone
after the module. The envs:

* ``nan-after``: observations turn NaN after ``nan_after`` steps of an env copy (default 30).
* ``endless``: never terminates and has no time limit (like Pixelcopter with a good policy).
* ``dict-obs``: a Dict observation space, which the built-in agents cannot handle.

Also the fixtures ``zoo_process`` (``zoo_process(*args, **popen)``: ``zoo ARGS`` as a child process, output
captured) and ``checkpoint_names`` (``checkpoint_names(run)``: the names of a run's checkpoints, sorted).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .distributions import OnPath, write_fake_distribution

PLUGIN_SOURCE = '''
import gymnasium as gym
import numpy as np

from zoo.policy import FixedPolicy
from zoo.plugin_api import hookimpl


class NanAfter(gym.Env):
    """Random observations that turn NaN after ``nan_after`` steps; 10-step episodes."""

    def __init__(self, nan_after=30, render_mode=None):
        self.observation_space = gym.spaces.Box(-10.0, 10.0, (3,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.nan_after, self.steps, self.t = nan_after, 0, 0

    def _obs(self):
        if self.steps > self.nan_after:
            return np.full(3, np.nan, dtype=np.float32)
        return self.np_random.uniform(-1, 1, 3).astype(np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        self.steps += 1
        return self._obs(), 1.0, self.t >= 10, False, {}


class Endless(gym.Env):
    """Never terminates, never truncates: only a step cap ends an episode."""

    def __init__(self, render_mode=None):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(2, dtype=np.float32), 1.0, False, False, {}


class DictObs(gym.Env):
    def __init__(self, render_mode=None):
        self.observation_space = gym.spaces.Dict({"position": gym.spaces.Box(-1.0, 1.0, (2,), np.float32)})
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return {"position": np.zeros(2, dtype=np.float32)}, {}

    def step(self, action):
        return {"position": np.zeros(2, dtype=np.float32)}, 0.0, True, False, {}


class AlwaysZero(FixedPolicy):
    def act(self, observations):
        return np.zeros(len(observations), dtype=np.int64)


@hookimpl
def register_envs(registry):
    registry.add_env(name="nan-after", gym_id="reliability/NanAfter-v0", entry_point=NanAfter,
                     max_episode_steps=100, description="observations turn NaN")
    registry.add_env(name="endless", gym_id="reliability/Endless-v0", entry_point=Endless,
                     hardcoded={"default": AlwaysZero}, description="never ends")
    registry.add_env(name="dict-obs", gym_id="reliability/DictObs-v0", entry_point=DictObs,
                     description="Dict observations")
'''

MODULE = "zoo_reliability_envs"


@pytest.fixture(scope="module")
def reliability_envs(tmp_path_factory):
    """The misbehaving envs installed and discovered; yields the site folder."""
    from zoo.plugin_loader import reload_plugins

    site = write_fake_distribution(tmp_path_factory.mktemp("reliability-site"), "zoo-reliability-envs", "0.1",
                              {MODULE: PLUGIN_SOURCE}, {"reliability-envs": MODULE})
    with OnPath(site), pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
        importlib.invalidate_caches()
        reload_plugins()
        yield site
    importlib.invalidate_caches()
    reload_plugins()


def _zoo_process(*args: str, **popen: object) -> subprocess.Popen:
    """``zoo ARGS`` as a child process (the console script's entry function), output captured."""
    return subprocess.Popen([sys.executable, "-c", "from zoo.cli import main; main()", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"}, **popen)


def _checkpoint_names(run: Path) -> list[str]:
    folder = run / "checkpoints"
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []


@pytest.fixture(scope="session")
def zoo_process():
    """``zoo_process(*args, **popen) -> subprocess.Popen``: ``zoo ARGS`` as a child process, output captured."""
    return _zoo_process


@pytest.fixture(scope="session")
def checkpoint_names():
    """``checkpoint_names(run) -> list[str]``: the names of the checkpoints a run folder holds, sorted."""
    return _checkpoint_names
