"""Reference: a stable-baselines3 algorithm with rl-baselines3-zoo's tuned hyperparameters.

The suite passes one entry of rl-baselines3-zoo's ``hyperparams/{algo}.yml`` as data, in its
notation: ``"lin_0.001"`` is a rate decayed linearly to 0 over ``n_timesteps``, as the zoo's
``linear_schedule`` does; ``normalize = true`` wraps the envs in ``VecNormalize`` (observations
and rewards, as the zoo does for ``normalize: true``); ``policy_kwargs`` is the entry's dict as
a table; ``noise_type = "normal"`` with ``noise_std`` is Gaussian action noise (TD3, DDPG), and
``train_freq = [1, "episode"]`` is SB3's tuple. Envs as the zoo makes them: ``make_vec_env``
(Monitor-wrapped copies in a ``DummyVecEnv``) seeded with the run's seed. Training stops when
``should_stop`` holds for the Monitor's (unnormalised) episode returns, or after ``n_timesteps``
(the budget the schedules are defined over) or the cap, whichever comes first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from zoo.factory import env_entry
from zoo.tools.bench import StopRule, TrainRecord


def linear_schedule(initial_value: float) -> Callable[[float], float]:
    """rl-baselines3-zoo's ``lin_X``: X times the remaining fraction of training."""
    return lambda progress_remaining: progress_remaining * initial_value


def zoo_value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("lin_"):
        return linear_schedule(float(value[len("lin_"):]))
    return value


class NormalizedPolicy:
    """The trained model behind SB3's ``predict``, seeing observations as ``VecNormalize``
    showed them in training (its statistics frozen)."""

    def __init__(self, model: Any, normalizer: Any) -> None:
        self.model, self.normalizer = model, normalizer
        normalizer.training = False

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        obs = self.normalizer.normalize_obs(np.asarray(observation, dtype=np.float32))
        return self.model.predict(obs, state=state, episode_start=episode_start, deterministic=deterministic)


def train(env: str, seed: int, cap_steps: int, should_stop: StopRule, *, algo: str, n_timesteps: float,
          n_envs: int = 1, policy: str = "MlpPolicy", normalize: bool = False,
          policy_kwargs: Mapping[str, Any] | None = None, noise_type: str | None = None, noise_std: float = 0.0,
          **hyperparams: Any) -> TrainRecord:
    import stable_baselines3
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    start = time.perf_counter()
    vec_env = make_vec_env(env_entry(env).gym_id, n_envs=n_envs, seed=seed)
    if normalize:
        vec_env = VecNormalize(vec_env)
    if noise_type is not None:
        from stable_baselines3.common.noise import NormalActionNoise

        if noise_type != "normal":
            raise ValueError(f"noise_type {noise_type!r}: only 'normal' is supported")
        shape = vec_env.action_space.shape
        hyperparams["action_noise"] = NormalActionNoise(np.zeros(shape), noise_std * np.ones(shape))
    if isinstance(hyperparams.get("train_freq"), list):  # TOML has no tuples
        hyperparams["train_freq"] = tuple(hyperparams["train_freq"])
    model = getattr(stable_baselines3, algo)(policy, vec_env, seed=seed, device="cpu", verbose=0,
                                             policy_kwargs=dict(policy_kwargs or {}),
                                             **{key: zoo_value(value) for key, value in hyperparams.items()})
    returns: list[float] = []
    steps_at: list[int] = []
    seconds_at: list[float] = []

    class StopAtThreshold(BaseCallback):
        def _on_step(self) -> bool:
            finished = False
            for info in self.locals["infos"]:
                if "episode" in info:  # Monitor's summary of an episode that just ended
                    returns.append(float(info["episode"]["r"]))
                    steps_at.append(self.num_timesteps)
                    seconds_at.append(time.perf_counter() - start)
                    finished = True
            return self.num_timesteps < cap_steps and not (finished and should_stop(returns))

    # The full budget keeps the schedules as the zoo defines them; the callback stops early.
    model.learn(total_timesteps=int(n_timesteps), callback=StopAtThreshold())
    vec_env.close()
    policy_out = NormalizedPolicy(model, vec_env) if normalize else model
    return TrainRecord(returns, steps_at, seconds_at, policy_out, model.num_timesteps, time.perf_counter() - start)
