"""Hub format: stable-baselines3 models published with ``huggingface_sb3`` (``{algo}-{env}.zip``,
optionally with ``vec_normalize.pkl``), run as the matching ``sb3-{algo}`` agent.

Both files are pickles: they load only when the user trusts the repo.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import zoo
from zoo import HubPolicy, HubRepo, ZooError

#: stable-baselines3 algorithms whose zips the zoo can load.
ALGORITHMS = ("a2c", "ddpg", "dqn", "ppo", "sac", "td3")
VEC_NORMALIZE_FILE = "vec_normalize.pkl"
_ZIP = re.compile(rf"^({'|'.join(ALGORITHMS)})-(.+)\.zip$")


def detect(files: Sequence[str]) -> bool:
    return any(_ZIP.match(name) for name in files if "/" not in name)


class ObservationNormalized:
    """An SB3 model behind the observation normalisation (``vec_normalize.pkl``) it was trained with."""

    def __init__(self, model: Any, vec_normalize: Any) -> None:
        self.model, self.vec_normalize = model, vec_normalize

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return self.model.predict(self.vec_normalize.normalize_obs(observation), state=state,
                                  episode_start=episode_start, deterministic=deterministic)


def load(repo: HubRepo) -> HubPolicy:
    import stable_baselines3

    zip_name = next(name for name in repo.top_files if _ZIP.match(name))
    algo, env_in_name = _ZIP.match(zip_name).groups()
    repo.check_agent(f"sb3-{algo}", "stable-baselines3")
    env_name = repo.pick_env(repo.card_env(), env_in_name, what=f"the SB3 model {zip_name}")
    repo.require_trust(zip_name, "a stable-baselines3 model")
    algo_class = getattr(stable_baselines3, algo.upper())
    # Schedules are pickled lambdas that may not load across Python versions; acting needs none.
    no_schedules = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": lambda _: 0.0,
                    "exploration_schedule": lambda _: 0.0}
    try:
        model = algo_class.load(repo.folder / zip_name, device="cpu", custom_objects=no_schedules)
    except Exception as exc:  # a foreign file from another SB3 version: say which, in one line
        raise ZooError(f"stable-baselines3 {stable_baselines3.__version__} cannot load {zip_name}: "
                       f"{zoo.one_line(exc)}") from None
    repo.check_spaces(f"the SB3 model {zip_name}", model.observation_space, model.action_space, env_name)
    policy: Any = model
    normalized = ""
    if VEC_NORMALIZE_FILE in repo.files:
        from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

        repo.require_trust(VEC_NORMALIZE_FILE)
        vec_normalize = VecNormalize.load(str(repo.folder / VEC_NORMALIZE_FILE),
                                          DummyVecEnv([lambda: zoo.make_env(env_name)]))
        vec_normalize.training, vec_normalize.norm_reward = False, False
        policy, normalized = ObservationNormalized(model, vec_normalize), f" with {VEC_NORMALIZE_FILE}"
    return HubPolicy(policy, env_name, f"SB3 {algo.upper()} model {zip_name}{normalized} from {repo.label} "
                                       "(unpickled: trusted)")
