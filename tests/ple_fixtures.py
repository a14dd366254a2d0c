"""The PLE family's reference trajectories (tests/data/ple/<game>/, see each PROTOCOL.md) and a
replay that checks a port against them through ``gymnasium.make``, as gym-games code would run it."""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from pathlib import Path

import gymnasium
import numpy as np

DATA = Path(__file__).parent / "data" / "ple"
GAMES = ("catcher", "flappybird", "pong", "puckworld")
COURSE_IDS = {
    "catcher": "Catcher-PLE-v0",
    "flappybird": "FlappyBird-PLE-v0",
    "pong": "Pong-PLE-v0",
    "puckworld": "PuckWorld-PLE-v0",
}


def fixture_paths(game: str) -> list[Path]:
    return sorted((DATA / game).glob("seed_*.json.gz"))


@functools.cache
def load_fixture(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def bits(values) -> list[str]:
    """Exact IEEE-754 identity of each double, so that -0.0 and 0.0 differ."""
    return [float(v).hex() for v in values]


def gym_games_observation(game: str, state) -> np.ndarray:
    """What gym-games v2 returns for a state row: its float32 cast, and for Catcher its default
    normalisation done as gym-games does it, in float32 arithmetic on the cast."""
    obs = np.array(state, dtype=np.float32)
    if game == "catcher":
        obs[0] = (obs[0] - 26) / 26
        obs[1] = obs[1] / 8
        obs[2] = (obs[2] - 26) / 26
        obs[3] = (obs[3] - 20) / 45
    return obs


def stored_rows(episode: dict) -> dict[int, list[float]]:
    steps = range(episode["length"]) if episode["obs_steps"] == "all" else episode["obs_steps"]
    return dict(zip(steps, episode["obs"], strict=True))


def stored_rewards(episode: dict) -> dict[int, float]:
    if episode["rewards_steps"] == "all":
        steps = range(episode["length"])
    else:
        steps = range(episode["length"]) if episode["obs_steps"] == "all" else episode["obs_steps"]
    return dict(zip(steps, episode["rewards"], strict=True))


def replay_run(game: str, path: Path, policy: str, env_id: str | None = None) -> int:
    """Replay one policy run of a fixture file (3 consecutive episodes) and assert that every
    stored value and every episode's digest is reproduced. Returns the number of steps checked."""
    data = load_fixture(path)
    env = gymnasium.make(env_id or COURSE_IDS[game])
    steps = 0
    for episode in data["policies"][policy]["episodes"]:
        where = f"{path.name} {policy} episode {episode['index']}"
        obs, info = env.reset(seed=data["seed"] if episode["index"] == 0 else None)
        state = info["state"]
        assert state.dtype == np.float64 and bits(state) == bits(episode["initial_obs"]), where
        assert obs.dtype == np.float32 and np.array_equal(obs, gym_games_observation(game, episode["initial_obs"]))
        digest = hashlib.sha256(np.asarray(state, dtype="<f8").tobytes())
        rows, rewards = stored_rows(episode), stored_rewards(episode)
        for i, action in enumerate(episode["actions"]):
            obs, reward, terminated, truncated, info = env.step(action)
            state = info["state"]
            at = f"{where} step {i}"
            if i in rows:
                assert bits(state) == bits(rows[i]), at
                assert np.array_equal(obs, gym_games_observation(game, rows[i])), at
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
