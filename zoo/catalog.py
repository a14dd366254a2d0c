"""What is installed, listed: every env gymnasium knows with the zoo agents whose spaces fit it
(``zoo list --all``), and the collection of trained checkpoints the agent plugins ship
(``zoo pretrained``).

Telling which agents fit needs an env's spaces, and gymnasium knows those only from an instance,
so each env is created once here (no rendering, closed at once); one that cannot be created says
why (a missing extra such as ``box2d`` or ``mujoco``). Nothing else in the zoo builds an env to
list it.

A shipped checkpoint is offered by its agent plugin through ``Agent.pretrained_checkpoint(env)``;
building and publishing the collection is :mod:`zoo.tools.pretrained`'s job, finding it is this
module's, so that the core can load a shipped policy without the tools.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium

from zoo import checkpoint as ckpt
from zoo.agent_base import pretrained_name
from zoo.exceptions import ZooError, one_line
from zoo.factory import load_agent_class
from zoo.plugin_loader import loaded_plugins


@dataclass
class CatalogEntry:
    gym_id: str
    #: The zoo name a plugin gave it, or the id itself.
    name: str
    plugin: str
    observation_space: str = ""
    action_space: str = ""
    agents: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _agent_classes(loaded: Any) -> list[tuple[str, type]]:
    classes = []
    for agent in loaded.agents:
        try:
            classes.append((agent.name, load_agent_class(agent)))
        except ZooError:  # an agent whose module does not import fits nothing
            continue
    return classes


def gymnasium_catalog(loaded: Any = None) -> list[CatalogEntry]:
    """One entry per id in gymnasium's registry (the zoo's plugins registered theirs there too)."""
    loaded = loaded or loaded_plugins()
    agents = _agent_classes(loaded)
    catalog = []
    for gym_id in sorted(gymnasium.registry):
        entry = loaded.envs.get(gym_id)
        item = CatalogEntry(gym_id, entry.name, entry.plugin)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated versions and the like: listing is not using
            try:
                observation_space, action_space = entry.spaces
            except ZooError as exc:
                item.error = one_line(exc.__cause__) if exc.__cause__ is not None else str(exc)
                catalog.append(item)
                continue
            item.observation_space, item.action_space = describe(observation_space), describe(action_space)
            item.agents = _fitting(agents, entry)
        catalog.append(item)
    return catalog


def agents_that_fit(entry: Any, loaded: Any = None) -> list[str]:
    """The agents whose spaces fit the env ``entry`` (``zoo check`` reports them too); creates the
    env once if its spaces are not known yet (one that cannot be created fits none)."""
    return _fitting(_agent_classes(loaded or loaded_plugins()), entry)


def _fitting(agents: list[tuple[str, type]], entry: Any) -> list[str]:
    return [name for name, cls in agents if _fits(cls, entry)]


def describe(space: gymnasium.Space) -> str:
    """A space in a few characters: ``Box(6,) float32``, ``Discrete(3)``."""
    if isinstance(space, gymnasium.spaces.Box):
        return f"Box{space.shape} {space.dtype}"
    if isinstance(space, (gymnasium.spaces.Discrete, gymnasium.spaces.MultiDiscrete, gymnasium.spaces.MultiBinary)):
        return str(space)
    return f"{type(space).__name__}"


def _fits(agent_class: type, entry: Any) -> bool:
    try:
        return agent_class.unsupported_reason(entry) is None
    except Exception:  # a plugin agent's check that fails says no
        return False


# -- the shipped collection of trained checkpoints ---------------------------------------------------
@dataclass(frozen=True)
class Pretrained:
    """A trained checkpoint an agent plugin ships for an env, with its metadata (``zoo.json``)."""

    agent: str
    env: str
    gym_id: str
    path: Path
    meta: dict[str, Any]

    @property
    def evaluation(self) -> dict[str, Any]:
        return self.meta.get("evaluation", {})

    @property
    def repo_name(self) -> str:
        return pretrained_name(self.agent, self.gym_id)


def find_pretrained(agent: str, env: str) -> Pretrained | None:
    """The shipped checkpoint for ``agent`` on ``env``, if its plugin has one."""
    loaded = loaded_plugins()
    agent_e, env_e = loaded.agents.get(agent), loaded.envs.get(env)
    path = load_agent_class(agent_e).pretrained_checkpoint(env_e)
    if path is None:
        return None
    return Pretrained(agent_e.name, env_e.name, env_e.gym_id, path, ckpt.read_meta(path))


def pretrained_collection() -> list[Pretrained]:
    """Every shipped checkpoint of every agent on every env."""
    loaded = loaded_plugins()
    found = []
    for agent_e in loaded.agents:
        try:
            cls = load_agent_class(agent_e)
        except Exception:  # an agent that cannot even import has nothing to offer here
            continue
        for env_e in loaded.envs:
            path = cls.pretrained_checkpoint(env_e)
            if path is not None:
                found.append(Pretrained(agent_e.name, env_e.name, env_e.gym_id, path, ckpt.read_meta(path)))
    return found
