"""Hindsight Experience Replay: SB3's ``HerReplayBuffer`` behind the off-policy agents
(``sb3-sac``, ``sb3-td3``, ``sb3-ddpg``, ``sb3-dqn``, ``sb3-tqc``, ``sb3-qrdqn``), on goal envs:
Dict observations with ``observation``, ``achieved_goal`` and ``desired_goal`` and a
``compute_reward`` (gymnasium-robotics' Fetch envs, highway-env's ``parking-v0``).

HER is a replay buffer, not an algorithm: a config turns it on with ``replay_buffer = "her"``
(with ``n_sampled_goal`` and ``goal_selection_strategy``, SB3's arguments of the same names).
rl-baselines3-zoo's files say it two ways, both read here (:func:`her_entry`):

- ``sac.yml`` / ``tqc.yml``: ``replay_buffer_class: HerReplayBuffer`` with
  ``replay_buffer_kwargs: "dict(goal_selection_strategy='future', n_sampled_goal=4)"``;
- ``her.yml`` (the pre-SB3-1.1 file rl_zoo3 keeps for reference, which no ``--algo`` reads):
  ``model_class: tqc`` with ``n_sampled_goal`` and ``goal_selection_strategy`` beside it,
  ``policy: MlpPolicy`` (SB3 1.0 flattened the Dict; ``MultiInputPolicy`` concatenates the same
  Boxes), ``online_sampling: true`` (the only sampling SB3 has had since 2.0) and
  ``max_episode_length`` (which SB3 no longer needs: episodes end where the env ends them).

``model_class`` and ``replay_buffer_class`` are data: only the names in :data:`MODEL_CLASSES`
and ``HerReplayBuffer`` are taken; nothing a file names is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium

from zoo import ZooError, hyperparameter

#: her.yml's ``model_class``, as the zoo agent that runs it (rl_zoo3's algorithm names).
MODEL_CLASSES = {"sac": "sb3-sac", "td3": "sb3-td3", "ddpg": "sb3-ddpg", "dqn": "sb3-dqn", "tqc": "sb3-tqc",
                 "qrdqn": "sb3-qrdqn"}
#: The only ``replay_buffer_class`` a file may name (SB3's own ``ReplayBuffer`` is the default).
HER_CLASS = "HerReplayBuffer"
#: Keys of an rl-zoo entry read here, taken off the entry before the rest is translated.
HER_KEYS = ("model_class", "replay_buffer_class", "replay_buffer_kwargs", "n_sampled_goal",
            "goal_selection_strategy", "online_sampling", "max_episode_length")
#: SB3's ``HerReplayBuffer`` arguments a file may give, and the config fields they become.
BUFFER_ARGUMENTS = ("n_sampled_goal", "goal_selection_strategy")
#: The config fields below, which the agent turns into SB3 arguments itself.
HER_FIELDS = frozenset({"replay_buffer", *BUFFER_ARGUMENTS})
#: What the agents that take HER add to their description (``zoo list``; ``zoo train sb3-her``
#: names them through it).
HER_DESCRIPTION = "; HER on goal envs: --set replay_buffer=her"
#: The keys of a goal env's observations (gymnasium-robotics' ``GoalEnv``).
GOAL_KEYS = frozenset({"observation", "achieved_goal", "desired_goal"})


@dataclass
class HERFields:
    """The replay buffer of an off-policy agent's config: SB3's own, or HER's."""

    replay_buffer: Literal["standard", "her"] = hyperparameter(
        "standard: SB3's ReplayBuffer; her: HerReplayBuffer, Hindsight Experience Replay on a goal env "
        "(Dict observations with achieved_goal and desired_goal)", "standard")
    n_sampled_goal: int = hyperparameter("HER: virtual transitions (with a relabelled goal) per real one", 4)
    goal_selection_strategy: Literal["future", "final", "episode"] = hyperparameter(
        "HER: where relabelled goals come from: a later step of the episode, its last, or any of it", "future")


def is_goal_space(space: gymnasium.Space) -> bool:
    """Whether ``space`` is a goal env's: a Dict of Boxes with the three goal keys."""
    return isinstance(space, gymnasium.spaces.Dict) and GOAL_KEYS <= set(space.spaces) and all(
        isinstance(part, gymnasium.spaces.Box) for part in space.spaces.values())


def her_kwargs(config: Any, vec_env: Any) -> dict[str, Any]:
    """SB3's ``replay_buffer_class`` and ``replay_buffer_kwargs`` for ``config`` (none without HER);
    the env must be a goal env, whose ``compute_reward`` HER calls."""
    if getattr(config, "replay_buffer", "standard") != "her":
        return {}
    if not is_goal_space(vec_env.observation_space):
        raise ZooError(f"replay_buffer=her needs a goal env (Dict observations with {', '.join(sorted(GOAL_KEYS))}), "
                       f"got {vec_env.observation_space}")
    from stable_baselines3 import HerReplayBuffer

    return {"replay_buffer_class": HerReplayBuffer,
            "replay_buffer_kwargs": {name: getattr(config, name) for name in BUFFER_ARGUMENTS}}


def her_entry(entry: Mapping[str, Any], name: str, agent: str, parse: Callable[[str, str], Any]) -> dict[str, Any]:
    """``entry`` (an rl-zoo entry named ``name``, read for ``agent``) with its HER keys
    translated into the config fields above; ``parse`` reads a Python-literal string (the
    ``replay_buffer_kwargs``) without running it. An entry without them comes back as it was."""
    if not any(key in entry for key in HER_KEYS):
        return dict(entry)
    values = {key: value for key, value in entry.items() if key not in HER_KEYS}
    model_class = entry.get("model_class")
    if model_class is not None:
        if model_class not in MODEL_CLASSES:
            raise ZooError(f"{name}: model_class {model_class!r} is not one the zoo runs with HER "
                           f"({', '.join(MODEL_CLASSES)}); nothing a file names is imported")
        if MODEL_CLASSES[model_class] != agent:
            raise ZooError(f"{name}: this entry is for model_class {model_class}: "
                           f"zoo train {MODEL_CLASSES[model_class]} ENV --config FILE")
    buffer_class = entry.get("replay_buffer_class", HER_CLASS if model_class is not None else None)
    if buffer_class != HER_CLASS:
        raise ZooError(f"{name}: replay_buffer_class {buffer_class!r} is not one the zoo knows (only {HER_CLASS}); "
                       "nothing a file names is imported")
    arguments = entry.get("replay_buffer_kwargs", {})
    if isinstance(arguments, str):
        arguments = parse(arguments, "replay_buffer_kwargs")
    if not isinstance(arguments, dict):
        raise ZooError(f"{name}: replay_buffer_kwargs must be a dict(...), got {type(arguments).__name__}")
    given = {**arguments, **{key: entry[key] for key in BUFFER_ARGUMENTS if key in entry}}
    if "online_sampling" in entry and "online_sampling" not in given:
        given["online_sampling"] = entry["online_sampling"]
    if "max_episode_length" in entry and "max_episode_length" not in given:
        given["max_episode_length"] = entry["max_episode_length"]
    refused = sorted(set(given) - {*BUFFER_ARGUMENTS, "online_sampling", "max_episode_length"})
    if refused:
        raise ZooError(f"{name}: HerReplayBuffer argument(s) {', '.join(refused)} cannot be honoured (the zoo takes "
                       f"{', '.join(BUFFER_ARGUMENTS)})")
    if given.get("online_sampling", True) is not True:
        raise ZooError(f"{name}: online_sampling {given['online_sampling']!r}: offline goal sampling was removed in "
                       "stable-baselines3 2.0, which only samples goals online; remove the key or set it true")
    length = given.get("max_episode_length")
    if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 1):
        raise ZooError(f"{name}: max_episode_length must be a positive whole number, got {length!r}")
    values["replay_buffer"] = "her"
    values.update({key: given[key] for key in BUFFER_ARGUMENTS if key in given})
    if values.get("policy") == "MlpPolicy" and model_class is not None:
        # her.yml predates Dict observations in SB3: its MlpPolicy saw the Dict flattened, as
        # MultiInputPolicy concatenates it (the zoo picks that for the env's observations).
        del values["policy"]
    return values
