"""The hardcoded Pixelcopter pilot: beats doing nothing, and works as an SB3 predictor."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium
import numpy as np

import zoo.envs.pixelcopter  # noqa: F401  (registers the gymnasium ids)
from zoo.envs.ple.pixelcopter.env import PixelcopterEnv
from zoo.envs.ple.pixelcopter.heuristic import PixelcopterHeuristic


def returns(policy, episodes: int, seed: int) -> list[float]:
    env = PixelcopterEnv()
    result = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed if episode == 0 else None)
        start, total, terminated = True, 0.0, False
        while not terminated:
            action, _ = policy(obs, start)
            start = False
            obs, reward, terminated, _, _ = env.step(int(np.asarray(action).reshape(-1)[0]))
            total += reward
        result.append(total)
    return result


def test_the_heuristic_beats_always_no_op():
    pilot = PixelcopterHeuristic()
    heuristic = returns(lambda obs, start: pilot.predict(obs[None], episode_start=np.array([start])), 20, seed=0)
    no_op = returns(lambda obs, start: (1, None), 20, seed=0)
    assert np.mean(no_op) < -2  # about -2.6: the floor after ~21 frames
    assert np.mean(heuristic) > 10 > np.mean(no_op)


def test_single_observations_and_batches_agree():
    env = gymnasium.make_vec("Pixelcopter-PLE-v0", num_envs=5, vectorization_mode="vector_entry_point")
    obs, _ = env.reset(seed=0)
    batch = PixelcopterHeuristic()
    singles = [PixelcopterHeuristic() for _ in range(5)]
    starts = np.ones(5, dtype=bool)
    for _ in range(60):
        actions, _ = batch.predict(obs, episode_start=starts)
        one_by_one = [p.predict(o, episode_start=np.array([s]))[0] for p, o, s in zip(singles, obs, starts)]
        assert actions.tolist() == one_by_one
        # NEXT_STEP autoreset: a copy that ends shows its new level one step later.
        starts = env.unwrapped._done.copy()
        obs, _, terminated, truncated, _ = env.step(actions)


def test_memory_is_per_index_and_reset_on_episode_start():
    pilot = PixelcopterHeuristic()
    obs = np.array([[24.0, 0.0, 7.0, 17.0, 30.0, 20.0, 29.0]] * 2)
    pilot.predict(obs, episode_start=np.array([True, True]))
    far = obs.copy()
    far[:, 4] = 50.0  # the gate distance jumps: a block just passed
    pilot.predict(far, episode_start=np.array([False, True]))
    memory = pilot._memory
    assert memory["hold"].tolist() == [pilot.block_hold, 0]


def test_sb3_evaluate_policy_accepts_it():
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import DummyVecEnv

    vec_env = DummyVecEnv([lambda: gymnasium.make("Pixelcopter-PLE-v0", max_episode_steps=300)] * 2)
    vec_env.seed(0)
    mean, std = evaluate_policy(PixelcopterHeuristic(), vec_env, n_eval_episodes=4, warn=False)
    assert mean > 0
