"""Making envs and agents from names: the zoo's front door from Python."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium

from zoo import checkpoint as ckpt
from zoo import headless
from zoo.agent_base import Agent
from zoo.config import build_config, build_config_layers, config_to_dict, migrate_names
from zoo.entries import AgentEntry, EnvEntry, load_object
from zoo.env_names import env_module, env_name_from_file, how_to_import, import_env_module, is_module_name
from zoo.exceptions import ZooError, did_you_mean, one_line
from zoo.limits import check_count, check_seed, shown
from zoo.plugin_loader import loaded_plugins
from zoo.policy import PolicyPredictor
from zoo.registration import GYMNASIUM

#: Episode cap for envs that have no time limit of their own (Pixelcopter), so that a good
#: policy cannot run forever.
DEFAULT_MAX_STEPS = 10_000


def env_entry(name: str | EnvEntry) -> EnvEntry:
    """The env called ``name`` (zoo name, gymnasium id or alias; ``"module:Id"`` imports
    ``module`` first: for the caller's own names, never a name read from a file). An entry
    (one :func:`configured_env` made) is returned as it is."""
    if isinstance(name, EnvEntry):
        return name
    import_env_module(name)
    return find_env(name)


def configured_env(env: str | EnvEntry, env_kwargs: Mapping[str, Any] | None, where: str = "--env-kwargs") -> EnvEntry:
    """Env ``env`` made with ``env_kwargs`` (``gymnasium.make(id, **env_kwargs)``, rl_zoo3's
    ``--env-kwargs``) wherever a run makes it: checked now by making one instance, so that a
    keyword the env does not take is refused (naming env and key) before anything is written."""
    entry = env_entry(env)
    if not env_kwargs:
        return entry
    if not isinstance(env_kwargs, Mapping) or not all(isinstance(k, str) and k.isidentifier() for k in env_kwargs):
        raise ZooError(f"{where}: env_kwargs must map keyword names to values, got {shown(env_kwargs)}")
    try:
        # As the run records them (JSON: a tuple becomes a list), so that training and a later
        # `zoo eval` of the run make the very same env.
        env_kwargs = json.loads(json.dumps(dict(env_kwargs), allow_nan=False))
    except (TypeError, ValueError):
        raise ZooError(f"{where}: env_kwargs {shown(env_kwargs)} must be numbers, strings, True/False/None, lists "
                       "and dicts of those (what a run's config.json can record)") from None
    configured = dataclasses.replace(entry, kwargs={**entry.kwargs, **env_kwargs},
                                     env_kwargs={**entry.env_kwargs, **env_kwargs})
    try:
        gymnasium.make(entry.gym_id, disable_env_checker=True, **configured.kwargs).close()
    except Exception as exc:
        named = ", ".join(f"{k}={v!r}" for k, v in env_kwargs.items())
        raise ZooError(f"{where}: env {entry.name!r} ({entry.gym_id}) cannot be made with {named}"[:300]
                       + f": {one_line(exc)}{_keywords_taken(entry)}") from None
    return configured


def _keywords_taken(entry: EnvEntry) -> str:
    """What would be valid: the keywords the env's constructor names, where it can be read."""
    try:
        creator = gymnasium.spec(entry.gym_id).entry_point
        if isinstance(creator, str):  # registered with gymnasium: its module is imported by making it anyway
            creator = gymnasium.envs.registration.load_env_creator(creator)
        parameters = inspect.signature(creator).parameters.values()
    except (ValueError, TypeError, AttributeError, ImportError, gymnasium.error.Error):
        return ""
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
             and p.name not in ("self", "render_mode")]
    return f" (it takes: {', '.join(names)})" if names else " (it takes no keyword arguments but render_mode)"


def find_env(name: str) -> EnvEntry:
    """The env called ``name``, looked up without importing anything (a ``"module:Id"`` name
    whose module is not imported is refused): for names the zoo reads from files."""
    return loaded_plugins().envs.get(name)


def recorded_env(record: Mapping[str, Any], where: str) -> EnvEntry:
    """The env a file the zoo wrote names (a checkpoint's ``zoo.json``, a run's ``config.json``),
    described by ``where``: looked up, never imported. For an env that a module the user named
    registered (recorded as ``env_module``), the message says how to import it again."""
    name = env_name_from_file(record.get("env"), where)
    try:
        # A record written before --env-kwargs existed has none: the env as registered.
        return configured_env(find_env(name), record.get("env_kwargs"), where)
    except ZooError:
        module = record.get("env_module")
        if not is_module_name(module) or module in sys.modules:
            raise
        raise ZooError(f"{where} names env {name!r}, which gymnasium knows once module {module!r} is imported "
                       f"(it registers the env), and the zoo never imports a module that a file names: "
                       f"{how_to_import(module, f'{module}:{name}')}") from None


def agent_entry(name: str) -> AgentEntry:
    """The registered agent called ``name``."""
    return loaded_plugins().agents.get(name)


def list_envs() -> list[EnvEntry]:
    """Every env the plugins registered (gymnasium's other ids work too, by name: :func:`env_entry`)."""
    return list(loaded_plugins().envs)


def list_agents() -> list[AgentEntry]:
    """Every registered agent."""
    return list(loaded_plugins().agents)


def load_agent_class(entry: AgentEntry) -> type[Agent]:
    """The class an agent entry names, imported on first use and checked to be an :class:`Agent`."""
    try:
        cls = load_object(entry.target)
    except Exception as exc:  # imported lazily, so a broken agent module surfaces only here
        raise ZooError(f"agent {entry.name!r} (plugin {entry.plugin or 'unknown'}) could not be loaded: "
                       f"{one_line(exc)}") from exc
    if not (inspect.isclass(cls) and issubclass(cls, Agent)):
        raise ZooError(f"agent {entry.name!r} (plugin {entry.plugin or 'unknown'}) is {cls!r}, "
                       "not a subclass of zoo.Agent")
    return cls


def hardcoded_policy(env: str | EnvEntry, variant: str = "default") -> PolicyPredictor:
    """A new instance of the hardcoded policy ``variant`` that env ``env``'s plugin registered."""
    entry = env if isinstance(env, EnvEntry) else env_entry(env)
    if variant not in entry.hardcoded:
        raise ZooError(f"env {entry.name!r} has no hardcoded policy {variant!r}: "
                       f"{did_you_mean(variant, entry.hardcoded)}")
    return load_object(entry.hardcoded[variant])()


@contextlib.contextmanager
def _creating(entry: EnvEntry) -> Iterator[None]:
    """A plugin's env that cannot be built is reported in one line, not as a traceback."""
    try:
        yield
    except ZooError:
        raise
    except Exception as exc:
        raise ZooError(f"env {entry.name!r} (plugin {entry.plugin or '?'}) could not be created: "
                       f"{one_line(exc)}") from exc


def make_env(name: str | EnvEntry, *, render_mode: str | None = None, max_episode_steps: int | None = None,
             **kwargs: Any) -> gymnasium.Env:
    """A gymnasium env for a zoo name or gymnasium id (``"cartpole"`` or ``"CartPole-v1"``), or an
    entry of :func:`configured_env`."""
    entry = env_entry(name)
    if max_episode_steps is not None:
        kwargs["max_episode_steps"] = max_episode_steps
    if render_mode is not None:
        headless.prepare()
    with _creating(entry):
        return gymnasium.make(entry.gym_id, render_mode=render_mode, **{**entry.kwargs, **kwargs})


def episode_step_cap(name: str | EnvEntry, max_episode_steps: int | None = None) -> int | None:
    """The per-episode step cap to run env ``name`` with: ``max_episode_steps`` if given, none
    if the env has a time limit of its own, else :data:`DEFAULT_MAX_STEPS`."""
    if max_episode_steps is None and env_entry(name).time_limit is None:
        return DEFAULT_MAX_STEPS
    return max_episode_steps


#: ``make_vec_env``'s choices of how to step copies of an env that has no batched version.
VECTORIZATION_MODES = (None, "sync", "workers")
#: What one step of all copies costs the worker processes beyond the env steps themselves: the
#: parent's messages, the workers' and their info dicts (measured about 180 µs for LunarLander,
#: whose steps return no info, 270-420 µs for MuJoCo's: benchmarks/results/env-speed.md).
WORKER_STEP_OVERHEAD = 300e-6
#: The least speed-up over the sync vector env, as predicted, for which worker processes are taken.
WORKERS_MIN_GAIN = 1.5
#: Steps of one copy timed to predict it (about 3 ms for MuJoCo's HalfCheetah).
PROBE_STEPS = 32


def workers_pay(step_seconds: float, workers: int) -> bool:
    """Whether ``workers`` processes, each stepping its share of copies whose sync step costs
    ``step_seconds`` of CPU, are predicted to step them :data:`WORKERS_MIN_GAIN` times faster than
    one process: the step then costs the overhead plus one worker's share, on idle cores."""
    return step_seconds >= WORKERS_MIN_GAIN * (WORKER_STEP_OVERHEAD + step_seconds / workers)


def make_vec_env(name: str | EnvEntry, num_envs: int, *, max_episode_steps: int | None = None,
                 vectorization_mode: str | None = None, **kwargs: Any) -> gymnasium.vector.VectorEnv:
    """``num_envs`` copies in one gymnasium vector env, copy ``i`` seeded ``seed + i`` by
    ``reset(seed=seed)``: the env's own batched version if it has one (one numpy array for all
    copies); else, where it pays, the copies stepped in one worker process per core
    (:class:`zoo.vector.workers.WorkerVectorEnv`, equal to the sync vector env bit for bit);
    else a synchronous vector of single envs. ``vectorization_mode="sync"`` or ``"workers"``
    chooses for an env without a batched version (``"sync"`` also where it has one).

    Worker processes (one per usable core, at most one per two copies) are taken on a platform
    that forks (Linux) where :func:`workers_pay` predicts them 1.5x faster than the sync vector
    env, from the CPU time of a step of one copy timed here: on 2 cores, where a step of all
    copies costs 1.8 ms or more (16 copies of MuJoCo's Hopper, 8 of Ant; not 16 of LunarLander or
    HalfCheetah, which measured slower with workers), on 4 cores 720 µs."""
    num_envs = check_count(num_envs, "num_envs")
    if kwargs.get("render_mode") is not None:
        headless.prepare()
    entry = env_entry(name)
    spec = gymnasium.spec(entry.gym_id)
    kwargs = {**entry.kwargs, **kwargs}
    if vectorization_mode not in VECTORIZATION_MODES:
        raise ZooError(f"vectorization_mode must be None (the env's own batched version if any, else the fastest "
                       f"way), 'sync' or 'workers', got {vectorization_mode!r}")
    if spec.vector_entry_point is not None and vectorization_mode is None:
        limit = max_episode_steps or entry.time_limit
        if limit is not None:
            kwargs["max_episode_steps"] = limit
        with _creating(entry):
            return gymnasium.make_vec(entry.gym_id, num_envs=num_envs,
                                      vectorization_mode="vector_entry_point", **kwargs)
    if max_episode_steps is not None:
        kwargs["max_episode_steps"] = max_episode_steps
    if vectorization_mode != "sync":
        workers = _workers(entry, num_envs, kwargs, forced=vectorization_mode == "workers")
        if workers:
            from zoo.vector.workers import WorkerVectorEnv

            probe = workers[1]
            factory = functools.partial(_sync_share, entry.gym_id, kwargs)
            with _creating(entry):
                return WorkerVectorEnv(factory, num_envs, workers[0], probe.observation_space, probe.action_space)
    with _creating(entry):
        return gymnasium.make_vec(entry.gym_id, num_envs=num_envs, vectorization_mode="sync", **kwargs)


def training_vec_env(name: str | EnvEntry, num_envs: int, max_episode_steps: int | None = None,
                     **kwargs: Any) -> gymnasium.vector.VectorEnv:
    """The vector env an agent trains on, as ``zoo train`` makes it: :func:`make_vec_env` with the
    episode cap of :func:`episode_step_cap`, so that an env without a time limit of its own (PuckWorld)
    still ends episodes, which REINFORCE needs to update. The one rule for the training loop, the
    bench and the benchmarks that drive an agent by hand. ``kwargs`` go to :func:`make_vec_env`."""
    return make_vec_env(name, num_envs, max_episode_steps=episode_step_cap(name, max_episode_steps), **kwargs)


def _sync_share(gym_id: str, kwargs: dict[str, Any], num_envs: int) -> gymnasium.vector.VectorEnv:
    """A worker's share of the copies: the sync vector env ``make_vec_env`` would build."""
    return gymnasium.make_vec(gym_id, num_envs=num_envs, vectorization_mode="sync", **kwargs)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform says)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else (os.cpu_count() or 1)


def _workers(entry: EnvEntry, num_envs: int, kwargs: dict[str, Any],
             forced: bool) -> tuple[int, gymnasium.Env] | None:
    """How many worker processes to step ``num_envs`` copies in, and a probe copy for their
    spaces; None when a sync vector env is the better choice (see :func:`make_vec_env`)."""
    cores = usable_cores()
    if not forced and (cores < 2 or num_envs < 4 or not sys.platform.startswith("linux")):
        return None
    with _creating(entry):
        probe = gymnasium.make(entry.gym_id, **kwargs)
        try:
            probe.reset(seed=0)
            seconds = []
            for _ in range(PROBE_STEPS):
                action = probe.action_space.sample()
                start = time.thread_time()  # CPU time: other processes on the machine do not inflate it
                _, _, terminated, truncated, _ = probe.step(action)
                seconds.append(time.thread_time() - start)
                if terminated or truncated:
                    probe.reset()
            seconds = seconds[PROBE_STEPS // 4:]  # the first steps run on cold caches (1.5x slower for MuJoCo)
        finally:
            probe.close()
    workers = max(1, min(cores, num_envs // 2))
    if not forced and not workers_pay(num_envs * sorted(seconds)[len(seconds) // 2], workers):
        return None
    return workers, probe


def agent_class(agent: str, env: str) -> type[Agent]:
    """The class of agent ``agent``, refusing an env it cannot run on (nothing is built)."""
    return _agent_class(agent_entry(agent), env_entry(env))


def _agent_class(agent: AgentEntry, env: EnvEntry) -> type[Agent]:
    cls = load_agent_class(agent)
    reason = cls.unsupported_reason(env)
    if reason:
        raise ZooError(f"agent {agent.name!r} cannot run on env {env.name!r}: {reason}")
    return cls


#: Sources of a resolved hyperparameter above the agent's own defaults, lowest first.
ENV_DEFAULT = "env default"
FILE = "config file"
SET = "--set"


@dataclass
class ResolvedConfig:
    """An agent's config for an env, with where each value came from (:data:`zoo.config.AGENT_DEFAULT`,
    :data:`ENV_DEFAULT`, :data:`FILE`, :data:`SET`, or ``"checkpoint"``)."""

    agent: AgentEntry
    env: EnvEntry
    agent_class: type[Agent]
    config: Any
    sources: dict[str, str]


def resolve_config(agent: str, env: str | EnvEntry, *, overrides: Mapping[str, Any] | None = None,
                   file_values: Mapping[str, Any] | None = None,
                   config: Mapping[str, Any] | None = None) -> ResolvedConfig:
    """The config of ``agent`` on ``env``: its defaults, its per-env defaults, a config file's
    values, then ``overrides`` (``--set``), each checked against the field's type. ``config``
    (a saved checkpoint's) replaces the defaults layers; old names in it are migrated."""
    agent_e, env_e = agent_entry(agent), env_entry(env)
    cls = _agent_class(agent_e, env_e)
    renamed = cls.renamed_hyperparameters
    if config is not None:
        layers = [("checkpoint", migrate_names(config, renamed))]
    else:
        layers = [(ENV_DEFAULT, cls.env_defaults(env_e)), (FILE, file_values or {})]
    cfg, sources = build_config_layers(cls.Config, [*layers, (SET, overrides or {})], renamed=renamed)
    return ResolvedConfig(agent_e, env_e, cls, cfg, sources)


def build_agent(resolved: ResolvedConfig, seed: int = 0) -> Agent:
    """A fresh agent from a resolved config."""
    instance = resolved.agent_class(resolved.env, resolved.config, seed)
    instance.name = resolved.agent.name
    return instance


def make_agent(agent: str, env: str | EnvEntry, *, seed: int = 0, overrides: Mapping[str, Any] | None = None,
               config: Mapping[str, Any] | None = None) -> Agent:
    """A fresh agent for ``env`` with the agent's per-env defaults, then ``overrides``, applied
    (or a saved ``config``, then ``overrides``)."""
    seed = check_seed(seed)
    return build_agent(resolve_config(agent, env, overrides=overrides, config=config), seed)


def env_record(env: EnvEntry) -> dict[str, Any]:
    """How a checkpoint or run folder records its env: its name, gymnasium id, the user's
    ``env_kwargs`` if any (:func:`recorded_env` makes it with them again) and, for an env that a
    module the user named registers, that module (recorded for messages, never imported)."""
    module = env_module(env.gym_id) if env.plugin == GYMNASIUM else None
    return {"env": env.name, "gym_id": env.gym_id, **({"env_kwargs": dict(env.env_kwargs)} if env.env_kwargs else {}),
            **({"env_module": module} if module else {})}


def checkpoint_meta(agent: Agent, **extra: Any) -> dict[str, Any]:
    """The metadata recorded with an agent's checkpoint."""
    return {
        "agent": agent.name,
        **env_record(agent.env),
        "observation_space": str(agent.env.observation_space),
        "action_space": str(agent.env.action_space),
        "config": config_to_dict(agent.config),
        "seed": agent.seed,
        **extra,
    }


def save_agent(agent: Agent, directory: str | Path, **extra: Any) -> Path:
    """Save ``agent`` as a checkpoint folder (atomically); ``extra`` goes into its metadata."""
    return ckpt.write_checkpoint(Path(directory), agent.state_tensors(), checkpoint_meta(agent, **extra))


def _checked_checkpoint(path: str | Path, agent: str | None,
                        env: str | None) -> tuple[Path, dict[str, Any], AgentEntry, EnvEntry]:
    """The checkpoint folder at ``path``, its metadata, agent and env, refusing a mismatch with
    the ``agent`` or ``env`` the caller expects or with the env's spaces."""
    folder = ckpt.find_checkpoint(path)
    meta = ckpt.read_meta(folder)
    import_env_module(env)  # the caller's own name (its module first, so that the recorded env is known)
    agent_e = agent_entry(meta["agent"])
    env_e = recorded_env(meta, f"checkpoint {str(folder)!r}: {ckpt.META_FILE}")
    if agent is not None and agent_entry(agent) != agent_e:
        raise ZooError(f"checkpoint {str(folder)!r} is for agent {meta['agent']!r}, not {agent!r}")
    if env is not None and find_env(env).name != env_e.name:
        raise ZooError(f"checkpoint {str(folder)!r} is for env {meta['env']!r}, not {env!r}")
    for key, space in (("observation_space", env_e.observation_space), ("action_space", env_e.action_space)):
        if key in meta and meta[key] != str(space):
            raise ZooError(
                f"checkpoint {str(folder)!r} was trained with {key} {meta[key]}, but {env_e.name!r} now has {space}"
            )
    return folder, meta, agent_e, env_e


def _does_not_fit(where: str, agent: str, exc: Exception) -> ZooError:
    return ZooError(f"{where} does not fit agent {agent!r}: {one_line(exc)}")


def load_checked_tensors(agent: Agent, folder: Path) -> None:
    """Load the checkpoint's weights into ``agent``, refusing (one line) tensors that are not
    exactly what the agent holds: another dtype (never cast silently), NaN or infinite values
    (which a matching checksum does not rule out), or names and shapes that do not fit."""
    load_tensors_into(agent, ckpt.read_tensors(folder), f"checkpoint {str(folder)!r}")


def load_tensors_into(agent: Agent, tensors: Mapping[str, Any], where: str) -> None:
    """Load ``tensors`` (torch tensors named as ``agent.state_tensors()`` names them) into
    ``agent``, checked as :func:`load_checked_tensors` checks a checkpoint's; ``where`` names
    where they come from, for the one-line error."""
    import torch

    expected = agent.state_tensors()
    for name, tensor in tensors.items():
        want = expected.get(name)
        if want is not None and tensor.dtype != want.dtype:
            have, holds = (str(t.dtype).removeprefix("torch.") for t in (tensor, want))
            raise ZooError(f"{where}: tensor {name!r} is {have}, agent {agent.name!r} holds {holds}")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ZooError(f"{where}: tensor {name!r} holds NaN or infinite values")
        if want is not None and tuple(tensor.shape) != tuple(want.shape):
            raise _does_not_fit(where, agent.name, ValueError(
                f"tensor {name!r} has shape {tuple(tensor.shape)}, the agent's {tuple(want.shape)}"))
    try:
        agent.load_state_tensors(dict(tensors))
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise _does_not_fit(where, agent.name, exc) from None


def check_finite_arrays(tensors: Mapping[str, Any], folder: Path) -> None:
    """Refuse NaN or infinite values in a checkpoint's tensors read as numpy arrays (a matching
    checksum does not rule them out)."""
    import numpy as np

    for name, array in tensors.items():
        if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
            raise ZooError(f"checkpoint {str(folder)!r}: tensor {name!r} holds NaN or infinite values")


def check_acts(policy: PolicyPredictor, observation_space: gymnasium.Space, folder: Path) -> None:
    """Refuse a checkpoint whose policy cannot act: finite weights can still be forged (or
    diverged) so large that every output overflows, which would fail only in evaluation. One
    deterministic forward pass on a few observations of the env, drawn from a fixed seed."""
    import numpy as np

    if not isinstance(observation_space, gymnasium.spaces.Box):
        return
    rng = np.random.default_rng(0)
    low, high = np.clip(observation_space.low, -10, 10), np.clip(observation_space.high, -10, 10)
    observations = rng.uniform(low, high, (4, *observation_space.shape)).astype(observation_space.dtype)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            actions, _ = policy.predict(observations, deterministic=True)
            finite = np.isfinite(np.asarray(actions, dtype=float)).all()
    except (ValueError, RuntimeError, FloatingPointError, OverflowError) as exc:
        raise ZooError(f"checkpoint {str(folder)!r}: its policy cannot act ({one_line(exc)}); its weights are "
                       "unusable") from None
    if not finite:
        raise ZooError(f"checkpoint {str(folder)!r}: its policy's actions are NaN or infinite; its weights are "
                       "unusable")


def _seed_of(meta: dict[str, Any], folder: Path) -> int:
    return check_seed(meta.get("seed", 0), f"checkpoint {str(folder)!r}: {ckpt.META_FILE}'s seed")


def load_agent(path: str | Path, *, agent: str | None = None, env: str | None = None) -> Agent:
    """Load the agent saved at ``path`` (a checkpoint or run folder), refusing a mismatch with
    the ``agent`` or ``env`` the caller expects, and weights that are not what the agent holds
    or cannot act. A run that prunes its checkpoints as it trains may be read meanwhile
    (:func:`zoo.checkpoint.read_newest`)."""
    return ckpt.read_newest(path, lambda folder: _load_agent(folder, agent, env))


def _load_agent(path: Path, agent: str | None, env: str | None) -> Agent:
    folder, meta, agent_e, env_e = _checked_checkpoint(path, agent, env)
    instance = make_agent(agent_e.name, env_e, seed=_seed_of(meta, folder), config=meta["config"])
    load_checked_tensors(instance, folder)
    check_acts(instance, instance.policy_observation_space or env_e.observation_space, folder)
    instance.checkpoint_path = folder
    instance.checkpoint_meta = meta
    return instance


def load_policy(path: str | Path, *, agent: str | None = None, env: str | None = None) -> PolicyPredictor:
    """The policy saved at ``path``, to act with only: the agent's own light policy
    (:meth:`Agent.load_policy`: no torch, no optimiser) when it has one, else the whole agent
    (:func:`load_agent`). Checked exactly as :func:`load_agent` checks."""
    return ckpt.read_newest(path, lambda folder: _load_policy(folder, agent, env))


def _load_policy(path: Path, agent: str | None, env: str | None) -> PolicyPredictor:
    folder, meta, agent_e, env_e = _checked_checkpoint(path, agent, env)
    cls = _agent_class(agent_e, env_e)
    # Checkpoints written before a hyperparameter was renamed load with the new name.
    config = build_config(cls.Config, migrate_names(meta["config"], cls.renamed_hyperparameters))
    tensors = ckpt.read_tensors(folder, numpy=True)
    check_finite_arrays(tensors, folder)
    try:
        policy = cls.load_policy(env_e, config, tensors, _seed_of(meta, folder))
    except (KeyError, ValueError, TypeError) as exc:
        raise _does_not_fit(f"checkpoint {str(folder)!r}", agent_e.name, exc) from None
    if policy is None:
        return load_agent(folder, agent=agent_e.name, env=env_e.name)
    check_acts(policy, env_e.observation_space, folder)
    return policy
