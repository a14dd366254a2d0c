"""Evaluating any SB3-style policy on a zoo env, with stable-baselines3's own ``evaluate_policy``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from zoo.contract import PolicyPredictor
from zoo.factory import env_entry, episode_step_cap, make_env
from zoo.limits import check_count, check_seed


@dataclass
class EvalResult:
    env: str
    episodes: int
    mean: float
    std: float
    min: float
    max: float
    mean_length: float
    deterministic: bool
    seed: int
    returns: list[float]
    lengths: list[int]

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (f"{self.env}: mean return {self.mean:.2f} ± {self.std:.2f} over {self.episodes} episodes "
                f"(min {self.min:.2f}, max {self.max:.2f}, mean length {self.mean_length:.1f})")


def make_monitored_vec_env(env: str, n_envs: int, seed: int, max_episode_steps: int | None = None):
    """An SB3 ``DummyVecEnv`` of Monitor-wrapped copies of a zoo env, seeded."""
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    def factory():
        return Monitor(make_env(env, max_episode_steps=max_episode_steps))

    vec_env = DummyVecEnv([factory] * n_envs)
    vec_env.seed(seed)
    return vec_env


def check_options(episodes: int, seed: int, max_episode_steps: int | None = None) -> None:
    """Refuse, in one line, counts and seeds outside the zoo's ranges (:mod:`zoo.limits`)."""
    check_count(episodes, "--episodes")
    check_seed(seed)
    if max_episode_steps is not None:
        check_count(max_episode_steps, "--max-steps")


def evaluate(policy: PolicyPredictor, env: str, *, episodes: int = 10, seed: int = 0,
             deterministic: bool = True, max_episode_steps: int | None = None,
             n_envs: int | None = None) -> EvalResult:
    """Run ``episodes`` episodes of ``policy`` (any object with SB3's ``predict``) on ``env``."""
    from stable_baselines3.common.evaluation import evaluate_policy

    check_options(episodes, seed, max_episode_steps)
    entry = env_entry(env)
    max_episode_steps = episode_step_cap(entry.name, max_episode_steps)
    n_envs = n_envs or min(episodes, 4)
    vec_env = make_monitored_vec_env(entry.name, n_envs, seed, max_episode_steps)
    try:
        returns, lengths = evaluate_policy(policy, vec_env, n_eval_episodes=episodes,
                                           deterministic=deterministic, return_episode_rewards=True,
                                           warn=False)
    finally:
        vec_env.close()
    returns = np.asarray(returns, dtype=float)
    return EvalResult(
        env=entry.name, episodes=len(returns), mean=float(returns.mean()), std=float(returns.std()),
        min=float(returns.min()), max=float(returns.max()), mean_length=float(np.mean(lengths)),
        deterministic=deterministic, seed=seed, returns=returns.tolist(), lengths=[int(n) for n in lengths],
    )
