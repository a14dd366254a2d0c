"""Starting a new run from another model's weights: ``zoo train AGENT ENV --init FROM``.

A fine-tune, not a resume: the run is new (its own folder, seed, budget and counters, a fresh
optimiser), its hyperparameters come from the agent's defaults, ``--config`` and ``--set`` as
for any run, and only the weights come from FROM (a checkpoint, run, Hub repo, shipped
pretrained agent or SB3 zip, found by :func:`zoo.init_from`). They are loaded as a checkpoint's
are (:func:`zoo.factory.load_tensors_into`: names, shapes, dtypes and finite values checked),
so FROM must hold the agent's own tensors: its ``state_tensors()``. ``config.json`` records
where the run started from (``init``). ``zoo train --resume`` is the other way to go on training:
exactly where a run stopped, with its own settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zoo.agent_base import Agent
from zoo.config import config_to_dict
from zoo.exceptions import ZooError
from zoo.factory import agent_entry, find_env, load_tensors_into


@dataclass(frozen=True)
class InitWeights:
    """The weights a new run starts from (``zoo train --init FROM``), found and loaded by
    :func:`zoo.init_from`: plain data, independent of where they came from."""

    #: The agent whose ``state_tensors()`` these are (the run's agent must be this one).
    agent: str
    #: The zoo env FROM was trained on (the run's env must have the same spaces).
    env: str
    #: Torch tensors, named as the agent's ``state_tensors()`` names them.
    tensors: Mapping[str, Any] = field(repr=False)
    #: One line saying where they come from.
    description: str
    #: How the run's ``config.json`` records FROM (``{"from": ..., "kind": ..., ...}``).
    record: Mapping[str, Any] = field(default_factory=dict)
    #: Hyperparameters FROM was trained with, as far as known, for the message when its weights
    #: do not fit the run's config (``net_arch``, ``activation``, ...).
    config: Mapping[str, Any] = field(default_factory=dict)


def check_init(init: InitWeights, agent: str, env: str) -> None:
    """Refuse, in one line, weights of another agent, or of an env whose spaces differ from ``env``'s."""
    run_agent, from_agent = agent_entry(agent), agent_entry(init.agent)
    if run_agent != from_agent:
        raise ZooError(f"--init {init.description} holds weights of agent {from_agent.name!r}, not {run_agent.name!r}: "
                       f"train {from_agent.name} to start from it")
    run_env, from_env = find_env(env), find_env(init.env)
    if run_env != from_env:
        for name in ("observation_space", "action_space"):
            ours, theirs = getattr(run_env, name), getattr(from_env, name)
            if str(ours) != str(theirs):
                raise ZooError(f"--init {init.description} was trained on {from_env.name!r}, whose "
                               f"{name.replace('_', ' ')} {theirs} is not {run_env.name!r}'s {ours}")


def apply_init(learner: Agent, init: InitWeights) -> None:
    """Load ``init``'s weights into the new ``learner``; when they do not fit its config, the
    one line names FROM's hyperparameters that differ from the run's."""
    check_init(init, learner.name, learner.env.name)
    try:
        load_tensors_into(learner, init.tensors, f"--init {init.description}")
    except ZooError as exc:
        ours = config_to_dict(learner.config)
        differ = {k: v for k, v in init.config.items() if k in ours and ours[k] != _plain(v)}
        if not differ:
            raise
        settings = " ".join(f"--set {k}={_shown(v)}" for k, v in differ.items())
        raise ZooError(f"{exc}; FROM was trained with {', '.join(f'{k}={_shown(v)}' for k, v in differ.items())}: "
                       f"add {settings}") from None


def _plain(value: Any) -> Any:
    """A config value as ``config.json`` writes it (tuples as lists)."""
    return list(value) if isinstance(value, tuple) else value


def _shown(value: Any) -> str:
    """``value`` as ``--set`` takes it."""
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(map(str, value)) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)
