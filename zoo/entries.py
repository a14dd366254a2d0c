"""What the registries hold: an env or an agent known to the zoo, as plain data.

An entry names its target as a ``"module:attribute"`` string (or the object itself), which is
imported only when it is used (:func:`load_object`), so registering stays cheap. Checking what
a target turns out to be is the job of whoever uses it (:func:`zoo.factory.load_agent_class`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import gymnasium

from zoo.exceptions import ZooError, one_line


def load_object(target: str | Any) -> Any:
    """Resolve a ``"package.module:attribute"`` string; any other object is returned as is."""
    if not isinstance(target, str):
        return target
    module_name, _, attribute = target.partition(":")
    obj = importlib.import_module(module_name)
    for part in attribute.split(".") if attribute else ():
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class EnvEntry:
    """An environment known to the zoo: a short name, its gymnasium id and where it came from."""

    name: str
    gym_id: str
    entry_point: str | Callable[..., gymnasium.Env] | None = None
    vector_entry_point: str | Callable[..., gymnasium.vector.VectorEnv] | None = None
    aliases: tuple[str, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    max_episode_steps: int | None = None
    reward_threshold: float | None = None
    #: Named hardcoded policies: ``"module:Class"`` strings or classes whose no-argument
    #: instances have an SB3-style ``predict``. The one named "default" is used unless asked.
    hardcoded: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    plugin: str = ""
    #: The id the Hugging Face Hub knows the env by: the tag, ``results.json`` ``env_id`` and
    #: model-index dataset of ``zoo push`` (the Deep RL course leaderboard filters on it), and the
    #: env folder of rl-baselines3-zoo's log layout. One of :attr:`names`; ``gym_id`` if not given.
    hub_id: str = ""
    #: The keyword arguments a user gave on top of the plugin's (``zoo train --env-kwargs``),
    #: already merged into :attr:`kwargs`; recorded with the run (:func:`zoo.factory.configured_env`).
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.hub_id:
            object.__setattr__(self, "hub_id", self.gym_id)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.gym_id, *self.aliases)

    @cached_property
    def spaces(self) -> tuple[gymnasium.Space, gymnasium.Space]:
        """(observation_space, action_space), read from one throwaway instance."""
        try:
            env = gymnasium.make(self.gym_id, **self.kwargs)
        except Exception as exc:  # a plugin's bug, reported in one line naming the plugin
            raise ZooError(f"env {self.name!r} (plugin {self.plugin or 'unknown'}) could not be created: "
                           f"{one_line(exc)}") from exc
        try:
            return env.observation_space, env.action_space
        finally:
            env.close()

    @property
    def observation_space(self) -> gymnasium.Space:
        return self.spaces[0]

    @property
    def action_space(self) -> gymnasium.Space:
        return self.spaces[1]

    @property
    def solved_threshold(self) -> float | None:
        """The return that counts as solving the env: the plugin's, else gymnasium's spec's."""
        if self.reward_threshold is not None:
            return self.reward_threshold
        return gymnasium.spec(self.gym_id).reward_threshold

    @property
    def time_limit(self) -> int | None:
        """Steps after which gymnasium truncates an episode, if the env has a limit."""
        if self.max_episode_steps is not None:
            return self.max_episode_steps
        return gymnasium.spec(self.gym_id).max_episode_steps


@dataclass(frozen=True)
class AgentEntry:
    """An agent known to the zoo. ``target`` is an Agent subclass or a ``"module:Class"`` string."""

    name: str
    target: str | type
    description: str = ""
    plugin: str = ""
