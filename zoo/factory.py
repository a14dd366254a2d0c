"""Making envs and agents from names: the zoo's front door from Python."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium

from zoo import checkpoint as ckpt
from zoo.config import build_config, config_to_dict
from zoo.contract import Agent
from zoo.errors import ZooError, one_line
from zoo.limits import check_seed
from zoo.plugin_loader import loaded_plugins
from zoo.registry import AgentEntry, EnvEntry

#: Episode cap for envs that have no time limit of their own (Pixelcopter), so that a good
#: policy cannot run forever.
DEFAULT_MAX_STEPS = 10_000


def env_entry(name: str) -> EnvEntry:
    """The registered env called ``name`` (zoo name, gymnasium id or alias)."""
    return loaded_plugins().envs.get(name)


def agent_entry(name: str) -> AgentEntry:
    """The registered agent called ``name``."""
    return loaded_plugins().agents.get(name)


def make_env(name: str, *, render_mode: str | None = None, max_episode_steps: int | None = None,
             **kwargs: Any) -> gymnasium.Env:
    """A gymnasium env for a zoo name or gymnasium id (``"cartpole"`` or ``"CartPole-v1"``)."""
    entry = env_entry(name)
    if max_episode_steps is not None:
        kwargs["max_episode_steps"] = max_episode_steps
    try:
        return gymnasium.make(entry.gym_id, render_mode=render_mode, **{**entry.kwargs, **kwargs})
    except ZooError:
        raise
    except Exception as exc:  # a plugin's env that cannot be built is reported, not a traceback
        raise ZooError(f"env {entry.name!r} (plugin {entry.plugin or '?'}) could not be created: "
                       f"{one_line(exc)}") from exc


def episode_step_cap(name: str, max_episode_steps: int | None = None) -> int | None:
    """The per-episode step cap to run env ``name`` with: ``max_episode_steps`` if given, none
    if the env has a time limit of its own, else :data:`DEFAULT_MAX_STEPS`."""
    if max_episode_steps is None and env_entry(name).time_limit is None:
        return DEFAULT_MAX_STEPS
    return max_episode_steps


def make_vec_env(name: str, num_envs: int, *, max_episode_steps: int | None = None,
                 **kwargs: Any) -> gymnasium.vector.VectorEnv:
    """``num_envs`` copies in one gymnasium vector env: the env's own batched version if it
    has one (one numpy array for all copies), else a synchronous vector of single envs."""
    entry = env_entry(name)
    spec = gymnasium.spec(entry.gym_id)
    kwargs = {**entry.kwargs, **kwargs}
    if spec.vector_entry_point is not None:
        limit = max_episode_steps or entry.time_limit
        if limit is not None:
            kwargs["max_episode_steps"] = limit
        return gymnasium.make_vec(entry.gym_id, num_envs=num_envs,
                                  vectorization_mode="vector_entry_point", **kwargs)
    if max_episode_steps is not None:
        kwargs["max_episode_steps"] = max_episode_steps
    return gymnasium.make_vec(entry.gym_id, num_envs=num_envs, vectorization_mode="sync", **kwargs)


def _agent_class(agent: AgentEntry, env: EnvEntry) -> type[Agent]:
    cls = agent.agent_class
    reason = cls.unsupported_reason(env)
    if reason:
        raise ZooError(f"agent {agent.name!r} cannot run on env {env.name!r}: {reason}")
    return cls


def make_agent(agent: str, env: str, *, seed: int = 0, overrides: Mapping[str, Any] | None = None,
               config: Mapping[str, Any] | None = None) -> Agent:
    """A fresh agent for ``env`` with the agent's per-env defaults, then ``overrides``, applied."""
    seed = check_seed(seed)
    agent_e, env_e = agent_entry(agent), env_entry(env)
    cls = _agent_class(agent_e, env_e)
    layers = [config] if config is not None else [cls.env_defaults(env_e)]
    cfg = build_config(cls.Config, *layers, overrides or {})
    instance = cls(env_e, cfg, seed)
    instance.name = agent_e.name
    return instance


def checkpoint_meta(agent: Agent, **extra: Any) -> dict[str, Any]:
    """The metadata recorded with an agent's checkpoint."""
    return {
        "agent": agent.name,
        "env": agent.env.name,
        "gym_id": agent.env.gym_id,
        "observation_space": str(agent.env.observation_space),
        "action_space": str(agent.env.action_space),
        "config": config_to_dict(agent.config),
        "seed": agent.seed,
        **extra,
    }


def save_agent(agent: Agent, directory: str | Path, **extra: Any) -> Path:
    """Save ``agent`` as a checkpoint folder (atomically); ``extra`` goes into its metadata."""
    return ckpt.write_checkpoint(Path(directory), agent.state_tensors(), checkpoint_meta(agent, **extra))


def load_checked_tensors(agent: Agent, folder: Path) -> None:
    """Load the checkpoint's weights into ``agent``, refusing (one line) tensors that are not
    exactly what the agent holds: another dtype (never cast silently), NaN or infinite values
    (which a matching checksum does not rule out), or names and shapes that do not fit."""
    import torch

    tensors = ckpt.read_tensors(folder)
    expected = agent.state_tensors()
    for name, tensor in tensors.items():
        want = expected.get(name)
        if want is not None and tensor.dtype != want.dtype:
            have, holds = (str(t.dtype).removeprefix("torch.") for t in (tensor, want))
            raise ZooError(f"checkpoint {str(folder)!r}: tensor {name!r} is {have}, agent {agent.name!r} holds {holds}")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ZooError(f"checkpoint {str(folder)!r}: tensor {name!r} holds NaN or infinite values")
    try:
        agent.load_state_tensors(tensors)
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise ZooError(f"checkpoint {str(folder)!r} does not fit agent {agent.name!r}: {one_line(exc)}") from None


def check_acts(agent: Agent, folder: Path) -> None:
    """Refuse a checkpoint whose policy cannot act: finite weights can still be forged (or
    diverged) so large that every output overflows, which would fail only in evaluation. One
    deterministic forward pass on a few observations of the env, drawn from a fixed seed."""
    import numpy as np

    space = agent.env.observation_space
    if not isinstance(space, gymnasium.spaces.Box):
        return
    rng = np.random.default_rng(0)
    low, high = np.clip(space.low, -10, 10), np.clip(space.high, -10, 10)
    observations = rng.uniform(low, high, (4, *space.shape)).astype(space.dtype)
    try:
        actions, _ = agent.predict(observations, deterministic=True)
        finite = np.isfinite(np.asarray(actions, dtype=float)).all()
    except (ValueError, RuntimeError, FloatingPointError, OverflowError) as exc:
        raise ZooError(f"checkpoint {str(folder)!r}: its policy cannot act ({one_line(exc)}); its weights are "
                       "unusable") from None
    if not finite:
        raise ZooError(f"checkpoint {str(folder)!r}: its policy's actions are NaN or infinite; its weights are "
                       "unusable")


def load_agent(path: str | Path, *, agent: str | None = None, env: str | None = None) -> Agent:
    """Load the agent saved at ``path`` (a checkpoint or run folder), refusing a mismatch with
    the ``agent`` or ``env`` the caller expects."""
    folder = ckpt.find_checkpoint(path)
    meta = ckpt.read_meta(folder)
    agent_e = agent_entry(meta["agent"])
    env_e = env_entry(meta["env"])
    if agent is not None and agent_entry(agent) != agent_e:
        raise ZooError(f"checkpoint {str(folder)!r} is for agent {meta['agent']!r}, not {agent!r}")
    if env is not None and env_entry(env) != env_e:
        raise ZooError(f"checkpoint {str(folder)!r} is for env {meta['env']!r}, not {env!r}")
    for key, space in (("observation_space", env_e.observation_space), ("action_space", env_e.action_space)):
        if key in meta and meta[key] != str(space):
            raise ZooError(
                f"checkpoint {str(folder)!r} was trained with {key} {meta[key]}, but {env_e.name!r} now has {space}"
            )
    seed = check_seed(meta.get("seed", 0), f"checkpoint {str(folder)!r}: {ckpt.META_FILE}'s seed")
    instance = make_agent(agent_e.name, env_e.name, seed=seed, config=meta["config"])
    load_checked_tensors(instance, folder)
    check_acts(instance, folder)
    instance.checkpoint_path = folder
    instance.checkpoint_meta = meta
    return instance
