"""Reference: stable-baselines3 PPO with rl-baselines3-zoo's tuned hyperparameters.

The suite passes the hyperparameters of rl-baselines3-zoo's ``hyperparams/ppo.yml`` as data,
in its notation: ``"lin_0.001"`` is a rate decayed linearly to 0 over ``n_timesteps``, as the
zoo's ``linear_schedule`` does. Envs as the zoo makes them: ``make_vec_env`` (Monitor-wrapped
copies in a ``DummyVecEnv``) seeded with the run's seed. Training stops when ``should_stop``
holds for the Monitor's episode returns, or after ``n_timesteps`` (the zoo's budget, which
the schedules are defined over) or the cap, whichever comes first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from zoo.factory import env_entry
from zoo.tools.bench import StopRule, TrainRecord


def linear_schedule(initial_value: float) -> Callable[[float], float]:
    """rl-baselines3-zoo's ``lin_X``: X times the remaining fraction of training."""
    return lambda progress_remaining: progress_remaining * initial_value


def zoo_value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("lin_"):
        return linear_schedule(float(value[len("lin_"):]))
    return value


def train(env: str, seed: int, cap_steps: int, should_stop: StopRule, *, n_envs: int, n_timesteps: float,
          policy: str = "MlpPolicy", **hyperparams: Any) -> TrainRecord:
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    start = time.perf_counter()
    vec_env = make_vec_env(env_entry(env).gym_id, n_envs=n_envs, seed=seed)
    model = PPO(policy, vec_env, seed=seed, device="cpu", verbose=0,
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
    return TrainRecord(returns, steps_at, seconds_at, model, model.num_timesteps, time.perf_counter() - start)
