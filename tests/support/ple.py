"""The PLE family's reference trajectories: ``tests/data/ple/<game>/`` for Catcher, FlappyBird, Pong
and PuckWorld, ``tests/data/pixelcopter/`` for Pixelcopter (see each folder's PROTOCOL.md), and a
replay that checks a port against them through ``gymnasium.make``, as gym-games code would run it.

Fixtures (session-scoped, each the function of the same name):

``fixture_paths``
    ``fixture_paths(game) -> list[Path]``: a game's reference files (``seed_*.json.gz``), sorted by name.
``load_fixture``
    ``load_fixture(path) -> dict``: a reference file's contents (read once per session).
``bits``
    ``bits(values) -> list[str]``: the exact IEEE-754 identity of each double (``float.hex``).
``gym_games_observation``
    ``gym_games_observation(game, state) -> np.ndarray``: what gym-games v2 returns for a state row.
``replay_run``
    ``replay_run(game, path, policy, env_id=None) -> int``: replay one policy run of a reference file
    (not Pixelcopter's: its files have another format), asserting every stored value; returns the steps checked.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from pathlib import Path

import gymnasium
import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


def _fixture_paths(game: str) -> list[Path]:
    folder = DATA / "pixelcopter" if game == "pixelcopter" else DATA / "ple" / game
    return sorted(folder.glob("seed_*.json.gz"))


@functools.cache
def _load_fixture(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def _bits(values) -> list[str]:
    """Exact IEEE-754 identity of each double, so that -0.0 and 0.0 differ."""
    return [float(v).hex() for v in values]


def _gym_games_observation(game: str, state) -> np.ndarray:
    """What gym-games v2 returns for a state row: its float32 cast, and for Catcher its default
    normalisation done as gym-games does it, in float32 arithmetic on the cast."""
    obs = np.array(state, dtype=np.float32)
    if game == "catcher":
        obs[0] = (obs[0] - 26) / 26
        obs[1] = obs[1] / 8
        obs[2] = (obs[2] - 26) / 26
        obs[3] = (obs[3] - 20) / 45
    return obs


def _stored_rows(episode: dict) -> dict[int, list[float]]:
    steps = range(episode["length"]) if episode["obs_steps"] == "all" else episode["obs_steps"]
    return dict(zip(steps, episode["obs"], strict=True))


def _stored_rewards(episode: dict) -> dict[int, float]:
    if episode["rewards_steps"] == "all":
        steps = range(episode["length"])
    else:
        steps = range(episode["length"]) if episode["obs_steps"] == "all" else episode["obs_steps"]
    return dict(zip(steps, episode["rewards"], strict=True))


def _course_id(game: str) -> str:
    # Imported here, not when the plugin loads: importing zoo.envs.ple registers its gymnasium ids.
    from zoo.envs.ple.games import GAMES

    return next(entry.course_id for entry in GAMES if entry.name == game)


def _replay_run(game: str, path: Path, policy: str, env_id: str | None = None) -> int:
    """Replay one policy run of a fixture file (3 consecutive episodes) and assert that every
    stored value and every episode's digest is reproduced. Returns the number of steps checked."""
    data = _load_fixture(path)
    env = gymnasium.make(env_id or _course_id(game))
    steps = 0
    for episode in data["policies"][policy]["episodes"]:
        where = f"{path.name} {policy} episode {episode['index']}"
        obs, info = env.reset(seed=data["seed"] if episode["index"] == 0 else None)
        state = info["state"]
        assert state.dtype == np.float64 and _bits(state) == _bits(episode["initial_obs"]), where
        assert obs.dtype == np.float32 and np.array_equal(obs, _gym_games_observation(game, episode["initial_obs"]))
        digest = hashlib.sha256(np.asarray(state, dtype="<f8").tobytes())
        rows, rewards = _stored_rows(episode), _stored_rewards(episode)
        for i, action in enumerate(episode["actions"]):
            obs, reward, terminated, truncated, info = env.step(action)
            state = info["state"]
            at = f"{where} step {i}"
            if i in rows:
                assert _bits(state) == _bits(rows[i]), at
                assert np.array_equal(obs, _gym_games_observation(game, rows[i])), at
            if i in rewards:
                assert float(reward).hex() == float(rewards[i]).hex(), at
            assert terminated == episode["game_over"][i] and not truncated, at
            digest.update(np.float64(reward).astype("<f8").tobytes())
            digest.update(np.asarray(state, dtype="<f8").tobytes())
            digest.update(b"\x01" if terminated else b"\x00")
        assert digest.hexdigest() == episode["digest"], where
        assert terminated == episode["terminated"] and len(episode["actions"]) == episode["length"], where
        steps += episode["length"]
    env.close()
    return steps


@pytest.fixture(scope="session")
def fixture_paths():
    """``fixture_paths(game) -> list[Path]``: a game's reference files, sorted by name."""
    return _fixture_paths


@pytest.fixture(scope="session")
def load_fixture():
    """``load_fixture(path) -> dict``: a reference file's contents, read once per session."""
    return _load_fixture


@pytest.fixture(scope="session")
def bits():
    """``bits(values) -> list[str]``: the exact IEEE-754 identity of each double."""
    return _bits


@pytest.fixture(scope="session")
def gym_games_observation():
    """``gym_games_observation(game, state) -> np.ndarray``: gym-games v2's observation of a state row."""
    return _gym_games_observation


@pytest.fixture(scope="session")
def replay_run():
    """``replay_run(game, path, policy, env_id=None) -> int``: replay one run of a reference file, checking
    every stored value; returns the number of steps checked."""
    return _replay_run
