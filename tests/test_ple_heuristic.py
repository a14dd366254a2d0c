"""The PLE family's hardcoded pilots (Catcher, FlappyBird, Pong, PuckWorld): each beats doing
nothing, and works as an SB3 predictor on single observations and batches."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium
import numpy as np
import pytest

import zoo.envs.ple  # noqa: F401  (registers the gymnasium ids)
from zoo.envs.ple.catcher.heuristic import CatcherHeuristic
from zoo.envs.ple.flappybird.heuristic import FlappyBirdHeuristic
from zoo.envs.ple.games import GAMES as FAMILY
from zoo.envs.ple.pong.heuristic import PongHeuristic
from zoo.envs.ple.puckworld.heuristic import PuckWorldHeuristic

#: The games tested here (Pixelcopter has its own tests), and gym-games' id of each.
GAMES = tuple(entry.name for entry in FAMILY if entry.name != "pixelcopter")
COURSE_IDS = {entry.name: entry.course_id for entry in FAMILY}

PILOTS = {"catcher": CatcherHeuristic, "flappybird": FlappyBirdHeuristic, "pong": PongHeuristic,
          "puckworld": PuckWorldHeuristic}


def returns(game: str, act, episodes: int = 8, cap: int = 2000, seed: int = 0) -> np.ndarray:
    """One episode (at most `cap` steps) in each of `episodes` copies of the batched env."""
    env = gymnasium.make_vec(COURSE_IDS[game], num_envs=episodes, vectorization_mode="vector_entry_point",
                             max_episode_steps=cap)
    obs, _ = env.reset(seed=seed)
    total, running = np.zeros(episodes), np.ones(episodes, dtype=bool)
    while running.any():
        obs, reward, terminated, truncated, _ = env.step(act(obs))
        total += reward * running
        running &= ~(terminated | truncated)
    return total


@pytest.mark.parametrize("game", GAMES)
def test_the_pilot_beats_doing_nothing(game):
    noop = gymnasium.make(COURSE_IDS[game]).action_space.n - 1
    pilot = returns(game, PILOTS[game]().act)
    idle = returns(game, lambda obs: np.full(len(obs), noop))
    assert pilot.mean() > idle.mean() + {"catcher": 40, "flappybird": 5, "pong": 10, "puckworld": 10_000}[game]


def test_the_catcher_pilot_never_misses():
    assert (returns("catcher", CatcherHeuristic().act, cap=3000) > 80).all()


@pytest.mark.parametrize("game", GAMES)
def test_single_observations_and_batches_agree(game):
    env = gymnasium.make_vec(COURSE_IDS[game], num_envs=5, vectorization_mode="vector_entry_point")
    obs, _ = env.reset(seed=0)
    pilot = PILOTS[game]()
    for _ in range(30):
        actions, _ = pilot.predict(obs)
        assert actions.tolist() == [int(pilot.predict(o)[0]) for o in obs]
        obs = env.step(actions)[0]


def test_sb3_evaluate_policy_accepts_them():
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import DummyVecEnv

    vec_env = DummyVecEnv([lambda: gymnasium.make("Catcher-PLE-v0", max_episode_steps=300)] * 2)
    vec_env.seed(0)
    mean, _ = evaluate_policy(CatcherHeuristic(), vec_env, n_eval_episodes=4, warn=False)
    assert mean > 5
