"""The zoo's vectorised evaluator against stable-baselines3's ``evaluate_policy``.

Where env and policy are deterministic and the copies are the same seeded single envs, the
returns are SB3's, episode for episode; with the env's own batched implementation (other
episodes, same env) they come from the same distribution. SB3's evaluator still runs on
every agent.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import zoo
from zoo.factory import load_agent, load_agent_class, load_policy
from zoo.scoring import episode_targets, evaluate, evaluate_with_sb3, run_episodes
from zoo.tools.pretrained import collection


def monitor_rounded(values):
    # SB3's Monitor reports each episode's return rounded to 6 decimals.
    return [round(v, 6) for v in values]


@pytest.mark.parametrize("agent,env,overrides", [
    ("hardcoded", "cartpole", {"variant": "lean"}),          # returns vary with the start state
    ("hardcoded", "mountaincar-continuous", {}),             # Box actions, fractional rewards
    ("hardcoded", "pixelcopter", {}),                        # no time limit of its own: the zoo's cap
])
@pytest.mark.parametrize("n_envs", [1, 3, 7])
def test_same_seeded_copies_give_sb3s_returns_episode_for_episode(agent, env, overrides, n_envs):
    policy = zoo.make_agent(agent, env, overrides=overrides)
    ours = evaluate(policy, env, episodes=20, seed=5, n_envs=n_envs, vectorization_mode="sync", max_episode_steps=300)
    sb3 = evaluate_with_sb3(policy, env, episodes=20, seed=5, n_envs=n_envs, max_episode_steps=300)
    assert monitor_rounded(ours.returns) == sb3.returns
    assert ours.lengths == sb3.lengths
    assert (ours.mean, ours.std) == pytest.approx((sb3.mean, sb3.std), abs=1e-6)


def test_a_trained_agent_and_its_numpy_policy_give_sb3s_returns():
    shipped = next(p for p in collection() if p.agent == "reinforce" and p.gym_id == "MountainCarContinuous-v0")
    for policy in (load_policy(shipped.path), load_agent(shipped.path)):
        ours = evaluate(policy, shipped.env, episodes=6, seed=1, n_envs=4, vectorization_mode="sync")
        sb3 = evaluate_with_sb3(policy, shipped.env, episodes=6, seed=1, n_envs=4)
        assert monitor_rounded(ours.returns) == sb3.returns and ours.lengths == sb3.lengths


class CopyLength(gymnasium.Env):
    """Episodes of ``length`` steps, reward 1 each: copy i of a vector env gets length 2 + 5 i."""

    observation_space = gymnasium.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gymnasium.spaces.Discrete(2)

    def __init__(self, length: int) -> None:
        self.length, self.t = length, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(1, np.float32), 1.0, self.t >= self.length, False, {}


class Zeros:
    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return np.zeros(len(observation), dtype=np.int64), state


@pytest.mark.parametrize("mode", list(gymnasium.vector.AutoresetMode))
def test_every_copy_runs_its_share_so_short_episodes_do_not_crowd_out_long_ones(mode):
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    makers = [lambda i=i: CopyLength(2 + 5 * i) for i in range(3)]
    envs = gymnasium.vector.SyncVectorEnv(makers, autoreset_mode=mode)
    returns, lengths = run_episodes(Zeros(), envs, 10, seed=0)
    sb3_returns, sb3_lengths = evaluate_policy(Zeros(), DummyVecEnv([lambda m=m: Monitor(m()) for m in makers]),
                                               n_eval_episodes=10, return_episode_rewards=True, warn=False)
    assert list(episode_targets(10, 3)) == [3, 3, 4]
    assert sorted(lengths) == [2] * 3 + [7] * 3 + [12] * 4  # not ten 2-step episodes
    assert lengths == list(sb3_lengths) and returns == list(sb3_returns)


def ks_statistic(a, b) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the two ECDFs."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    gaps = np.searchsorted(a, grid, "right") / a.size - np.searchsorted(b, grid, "right") / b.size
    return float(np.max(np.abs(gaps)))


@pytest.mark.parametrize("agent,env,overrides,episodes,max_steps", [
    ("hardcoded", "cartpole", {"variant": "lean"}, 400, None),   # gymnasium's CartPoleVectorEnv
    ("hardcoded", "pixelcopter", {}, 200, 500),                  # the port's PixelcopterVectorEnv
])
def test_the_batched_env_gives_the_same_distribution_of_returns(agent, env, overrides, episodes, max_steps):
    policy = zoo.make_agent(agent, env, overrides=overrides)
    batched = evaluate(policy, env, episodes=episodes, seed=0, max_episode_steps=max_steps)
    sb3 = evaluate_with_sb3(policy, env, episodes=episodes, seed=0, n_envs=8, max_episode_steps=max_steps)
    assert batched.returns != monitor_rounded(sb3.returns)  # other episodes...
    # ...from the same distribution: KS test at the 0.1% level (fixed seeds: never flaky).
    critical = 1.95 * np.sqrt(2 / episodes)
    assert ks_statistic(batched.returns, sb3.returns) < critical
    assert abs(batched.mean - sb3.mean) < 4 * np.hypot(batched.std, sb3.std) / np.sqrt(episodes)


def test_a_stochastic_policy_samples_the_same_distribution():
    shipped = next(p for p in collection() if p.agent == "reinforce" and p.gym_id == "CartPole-v1")
    policy = load_policy(shipped.path)
    # A coarse policy: the trained one, acting at random half the time, ends episodes early.
    ours = evaluate(policy, "cartpole", episodes=300, seed=0, deterministic=False, max_episode_steps=100)
    sb3 = evaluate_with_sb3(load_policy(shipped.path), "cartpole", episodes=300, seed=0, deterministic=False,
                            n_envs=10, max_episode_steps=100)
    assert ks_statistic(ours.lengths, sb3.lengths) < 1.95 * np.sqrt(2 / 300)


def agents_and_envs():
    for agent in zoo.list_agents():
        for env in zoo.list_envs():
            if load_agent_class(agent).unsupported_reason(env) is None and (agent.name != "hardcoded" or env.hardcoded):
                yield pytest.param(agent.name, env.name, id=f"{agent.name}-{env.name}")


@pytest.mark.parametrize("agent,env", list(agents_and_envs()))
def test_sb3s_own_evaluator_still_runs_on_every_agent(agent, env):
    policy = zoo.make_agent(agent, env, seed=0)
    ours = evaluate(policy, env, episodes=3, seed=0, max_episode_steps=50)
    sb3 = evaluate_with_sb3(policy, env, episodes=3, seed=0, max_episode_steps=50)
    assert ours.episodes == sb3.episodes == 3
    assert max(ours.lengths + sb3.lengths) <= 50


def test_every_shipped_checkpoint_acts_the_same_through_its_numpy_policy():
    rng = np.random.default_rng(0)
    compared = 0
    for shipped in collection():
        light, full = load_policy(shipped.path), load_agent(shipped.path)
        if type(light) is type(full):  # no numpy policy (the SB3 agents): both are the whole agent
            continue
        compared += 1
        assert light is not full and "torch" not in type(light).__module__
        space = full.env.observation_space
        obs = rng.uniform(-1, 1, (64, *space.shape)).astype(np.float32) * 5
        for deterministic in (True, False):  # same seed, same random stream
            np.testing.assert_array_equal(light.predict(obs, deterministic=deterministic)[0],
                                          full.predict(obs, deterministic=deterministic)[0])
    assert compared >= 11  # every REINFORCE checkpoint of the collection
