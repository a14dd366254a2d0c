"""Finding the policy a user names, wherever it lives, and loading it: the one resolver that
``zoo eval``, ``zoo record``, ``zoo push`` and ``zoo export`` share, usable from Python::

    import zoo
    policy = zoo.load_policy("runs/x")                          # a run folder's newest checkpoint
    policy = zoo.load_policy("runs/x", best=True)               # its best evaluated one (RUN/best)
    policy = zoo.load_policy("hub:ORG/NAME")                    # a Hugging Face Hub repo
    policy = zoo.load_policy(agent="hardcoded", env="cartpole")  # a policy built from its config
    policy = zoo.load_policy(agent="reinforce", env="cartpole")  # the checkpoint its plugin ships
    policy = zoo.load_policy("logs/ppo/CartPole-v1_1", trust_remote_code=True)  # an rl-baselines3-zoo run
    policy = zoo.load_policy("model.zip", agent="sb3-ppo", env="CartPole-v1", trust_remote_code=True)

Two steps, each usable alone: :func:`find_policy` decides where the policy comes from and checks
what was asked (plain data, a :class:`PolicySource`; nothing is loaded, nothing is downloaded),
:func:`load_source` loads it (a :class:`LoadedPolicy`: the policy, the env to run it on and a
line saying where it came from). :func:`resolve_policy` does both; :func:`load_policy` returns
the policy alone.

The decision, in order: ``hub:ORG/NAME`` is a Hub repo; another target is a checkpoint or run
folder (``best``: the run's ``best/`` checkpoint), or else a file or folder in another library's
layout that a Hub format reads from disk too (an SB3 zip, an rl-baselines3-zoo log folder: kind
``foreign``, pickles, so loaded only with ``trust_remote_code``); with no target, ``agent`` and
``env`` name an agent that does not learn (built from its config, ``overrides`` applied) or, for
one that learns, the checkpoint its plugin ships for the env (:mod:`zoo.catalog`).

:func:`init_from` resolves the same targets into the weights a new run starts from
(``zoo train AGENT ENV --init FROM``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from zoo.exceptions import ZooError
from zoo.policy import PolicyPredictor

if TYPE_CHECKING:
    from zoo.entries import EnvEntry
    from zoo.training.initial_weights import InitWeights

#: A target starting with this names a Hugging Face Hub repo: ``hub:ORG/NAME``.
HUB_PREFIX = "hub:"
#: Where a policy comes from (``foreign``: a file or folder in another library's layout).
PolicyKind = Literal["hub", "checkpoint", "best", "built", "pretrained", "foreign"]
#: ``zoo train --init pretrained``: the checkpoint the agent's plugin ships for the env.
PRETRAINED = "pretrained"


@dataclass(frozen=True)
class PolicySource:
    """Where a policy comes from, decided before anything is loaded."""

    kind: PolicyKind
    #: The agent and env: as the caller named them, else as the checkpoint records them
    #: (a Hub repo names its own when loaded: here only what the caller named, if anything).
    agent: str | None
    env: str | None
    #: One line saying where the policy comes from (a Hub repo's is known once it is loaded).
    description: str
    #: The checkpoint or run folder to load (kinds checkpoint, best and pretrained), or the file or
    #: folder in another library's layout (kind foreign).
    path: Path | None = None
    #: ``ORG/NAME`` and the branch, tag or commit (kind hub).
    repo_id: str | None = None
    revision: str | None = None
    #: Hyperparameter overrides of a policy that is built, not loaded (kind built).
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def checkpoint(self) -> Path:
        """The zoo checkpoint or run folder this policy is saved in; one line if it has none (a
        policy built from its config, a Hub repo): what ``zoo push`` and ``zoo export`` need."""
        if self.path is None or self.kind == "foreign":
            what = f"Hub repo {self.repo_id!r}" if self.kind == "hub" else self.description
            raise ZooError(f"{what} is not a zoo checkpoint of this machine: give a run or checkpoint folder "
                           f"(from `zoo train`)")
        return self.path


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy, the zoo env to run it on, and one line saying where it came from."""

    policy: PolicyPredictor
    env: str
    description: str
    source: PolicySource
    #: The zoo agent whose weights the policy holds, where known (a Hub format may not say).
    agent: str | None = None
    #: The keyword arguments its run made the env with (``zoo train --env-kwargs``): none for a
    #: checkpoint written without them, or by an earlier version.
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def env_entry(self) -> EnvEntry:
        """The env to run the policy on, made as its run made it (:attr:`env_kwargs` applied)."""
        from zoo.factory import configured_env

        return configured_env(self.env, self.env_kwargs)


def hub_target(repo_id: str) -> str:
    """The target naming Hub repo ``repo_id`` (``ORG/NAME`` -> ``hub:ORG/NAME``)."""
    return HUB_PREFIX + repo_id


def find_policy(target: str | Path | None = None, *, agent: str | None = None, env: str | None = None,
                best: bool = False, revision: str | None = None,
                overrides: Mapping[str, Any] | None = None) -> PolicySource:
    """Where the policy named by ``target`` (``hub:ORG/NAME``, or a checkpoint or run folder) or,
    without one, by ``agent`` and ``env`` comes from. ``agent`` and ``env`` given with a target
    must match what it holds. ``best`` picks a run's best evaluated checkpoint (``RUN/best``,
    kept by ``zoo train --eval-every``); ``revision`` is a Hub repo's branch, tag or commit;
    ``overrides`` configure an agent that is built, not loaded (the hardcoded agent's
    ``variant``). Names, options and hyperparameters are checked here, in one line each; nothing
    is loaded or downloaded."""
    overrides = dict(overrides or {})
    repo_id = str(target)[len(HUB_PREFIX):] if isinstance(target, str) and target.startswith(HUB_PREFIX) else None
    path = Path(target) if target is not None and repo_id is None else None
    if path is not None and not _is_zoo_checkpoint(path):
        return _foreign_source(path, agent, env, best, overrides)
    if best:
        from zoo.training.periodic_eval import BEST_DIR

        if path is None:
            raise ZooError("--best picks the best evaluated checkpoint of a run: add --checkpoint RUN_DIR")
        if not (path / BEST_DIR).is_dir():
            raise ZooError(f"run folder {str(path)!r} has no {BEST_DIR}/ checkpoint: train it with "
                           "--eval-every STEPS to keep the best policy")
        path = path / BEST_DIR
    if overrides and target is not None:
        raise ZooError("--set configures an agent built from its config (e.g. --set variant=lean for hardcoded); "
                       "a trained checkpoint keeps its own")
    if repo_id is not None:
        return PolicySource("hub", agent, env, f"Hub repo {repo_id}", repo_id=repo_id, revision=revision)
    if revision is not None:
        raise ZooError("--revision applies to a Hub repo: add --from-hub ORG/NAME")
    if path is not None:
        return _checkpoint_source(path, agent, env, "best" if best else "checkpoint")
    if agent is None or env is None:
        raise ZooError("name what to run: AGENT ENV (trained: add --checkpoint RUN_DIR), or --from-hub ORG/NAME")
    from zoo.factory import agent_class, agent_entry, resolve_config

    if not agent_class(agent, env).learns:
        resolved = resolve_config(agent, env, overrides=overrides)  # checks --set before anything is built
        variant = getattr(resolved.config, "variant", None)
        description = f"{resolved.agent.name} policy" + (f" ({variant})" if variant not in (None, "default") else "")
        return PolicySource("built", agent, env, description, overrides=overrides)
    if overrides:
        raise ZooError(f"--set configures an agent built from its config (e.g. --set variant=lean for hardcoded); "
                       f"{agent_entry(agent).name!r} runs a trained checkpoint, which keeps its own")
    from zoo.catalog import find_pretrained

    shipped = find_pretrained(agent, env)
    if shipped is None:
        raise ZooError(f"agent {agent_entry(agent).name!r} has no pretrained checkpoint for {env!r}: pass "
                       f"--checkpoint RUN_DIR (from `zoo train {agent} {env}`)")
    ev = shipped.evaluation
    description = (f"the pretrained checkpoint shipped with agent-zoo ({shipped.path.name}, recorded "
                   f"{ev.get('mean', float('nan')):.1f} ± {ev.get('std', float('nan')):.1f} "
                   f"over {ev.get('episodes', '?')} episodes)")
    return PolicySource("pretrained", agent, env, description, path=shipped.path)


def _is_zoo_checkpoint(path: Path) -> bool:
    """Whether ``path`` is (or should be) a zoo checkpoint or run folder: one that does not exist
    is left to :func:`zoo.checkpoint.find_checkpoint`, which says so (or finds a killed save's)."""
    from zoo import checkpoint as ckpt

    if not path.exists():
        return True
    return path.is_dir() and any((path / name).exists() for name in (ckpt.META_FILE, ckpt.WEIGHTS_FILE,
                                                                      ckpt.CHECKPOINTS_DIR))


def _foreign_source(path: Path, agent: str | None, env: str | None, best: bool,
                    overrides: Mapping[str, Any]) -> PolicySource:
    """A file or folder that is no zoo checkpoint: a Hub format must read it (decided from file names)."""
    from zoo.hub.formats import local_format

    if best:
        raise ZooError(f"--best picks a zoo run's best/ checkpoint, and {str(path)!r} is no zoo run: name the model "
                       "file itself (an rl-baselines3-zoo run keeps its best one as best_model.zip: "
                       "--checkpoint DIR/best_model.zip)")
    if overrides:
        raise ZooError("--set configures an agent built from its config; a trained model keeps its own")
    layout = local_format(path)
    return PolicySource("foreign", agent, env, f"{layout} model {path}", path=path)


def _checkpoint_source(path: Path, agent: str | None, env: str | None, kind: PolicyKind) -> PolicySource:
    """A checkpoint or run folder; the agent and env it records fill in those not named (their
    match with the ones named is checked when it is loaded)."""
    if agent is None or env is None:
        from zoo import checkpoint as ckpt

        meta = ckpt.read_newest(path, ckpt.read_meta)
        agent, env = agent or meta["agent"], env or meta["env"]
    return PolicySource(kind, agent, env, f"checkpoint {path}", path=path)


def load_source(source: PolicySource, *, trust_remote_code: bool = False) -> LoadedPolicy:
    """Load the policy ``source`` names. ``trust_remote_code`` allows a Hub repo's pickled model
    (an SB3 zip, a course ``model.pt``) to be unpickled, which runs its code."""
    if source.kind == "hub":
        from zoo.hub.formats import load_hub_policy

        found = load_hub_policy(source.repo_id, revision=source.revision, trust_remote_code=trust_remote_code,
                                agent=source.agent, env=source.env)
        return LoadedPolicy(found.policy, found.env, found.source, source, found.agent)
    if source.kind == "foreign":
        from zoo.hub.formats import load_local_policy

        found = load_local_policy(source.path, trust_remote_code=trust_remote_code, agent=source.agent,
                                  env=source.env)
        return LoadedPolicy(found.policy, found.env, found.source, source, found.agent)
    if source.kind == "built":
        from zoo.factory import make_agent

        policy = make_agent(source.agent, source.env, overrides=source.overrides)
        return LoadedPolicy(policy, source.env, source.description, source, source.agent)
    from zoo import checkpoint as ckpt
    from zoo.factory import load_policy as load_checkpoint_policy

    policy = load_checkpoint_policy(source.path, agent=source.agent, env=source.env)
    env_kwargs = ckpt.read_newest(source.path, ckpt.read_meta).get("env_kwargs") or {}
    return LoadedPolicy(policy, source.env, source.description, source, source.agent, env_kwargs)


def resolve_policy(target: str | Path | None = None, *, agent: str | None = None, env: str | None = None,
                   best: bool = False, revision: str | None = None, trust_remote_code: bool = False,
                   overrides: Mapping[str, Any] | None = None) -> LoadedPolicy:
    """:func:`find_policy`, then :func:`load_source`: the policy, its env and where it came from."""
    source = find_policy(target, agent=agent, env=env, best=best, revision=revision, overrides=overrides)
    return load_source(source, trust_remote_code=trust_remote_code)


def load_policy(target: str | Path | None = None, *, agent: str | None = None, env: str | None = None,
                best: bool = False, revision: str | None = None, trust_remote_code: bool = False,
                overrides: Mapping[str, Any] | None = None) -> PolicyPredictor:
    """The policy named by ``target`` or by ``agent`` and ``env`` (see :func:`find_policy`), to
    act with: SB3's ``predict``. From a checkpoint, the agent's light policy where it has one
    (no torch, no optimiser), else the whole agent, checked as :func:`zoo.factory.load_policy`
    checks; ``agent`` and ``env`` given with a checkpoint must match it."""
    return resolve_policy(target, agent=agent, env=env, best=best, revision=revision,
                          trust_remote_code=trust_remote_code, overrides=overrides).policy


def init_from(target: str | Path, *, agent: str | None = None, env: str | None = None,
              trust_remote_code: bool = False) -> InitWeights:
    """The weights a new run of ``agent`` on ``env`` starts from (``zoo train AGENT ENV --init
    FROM``; pass the result as ``zoo.train(..., init=...)``). ``target`` is anything
    :func:`find_policy` takes (a checkpoint or run folder, its ``best/``, ``hub:ORG/NAME``, an SB3
    zip, an rl-baselines3-zoo log folder), or ``"pretrained"``: the checkpoint ``agent``'s plugin
    ships for ``env``. Pickled sources (SB3 zips, Hub SB3 repos, the course's ``model.pt``) load
    only with ``trust_remote_code``. FROM may have been trained on another env with the same
    spaces; its agent must be ``agent``."""
    from zoo import checkpoint as ckpt

    if isinstance(target, str) and target == PRETRAINED:
        if agent is None or env is None:
            raise ZooError("--init pretrained starts from the checkpoint the agent's plugin ships: name AGENT and ENV")
        source = find_policy(None, agent=agent, env=env)
        if source.kind != "pretrained":
            raise ZooError(f"agent {agent!r} does not learn: there are no weights to start from")
    else:
        source = find_policy(target)
    if source.kind == "hub":
        return _hub_init(source, agent, env, trust_remote_code)
    if source.kind == "foreign":
        loaded = load_source(dataclasses.replace(source, env=env), trust_remote_code=trust_remote_code)
        return _loaded_init(loaded, str(target), {"from": str(target), "kind": "foreign"})
    folder = ckpt.find_checkpoint(source.checkpoint)
    meta = ckpt.read_meta(folder)
    record = {"from": str(target), "kind": source.kind, "checkpoint": str(folder),
              "weights_sha256": meta["weights_sha256"]}
    return _checkpoint_init(folder, meta, source.description, record)


def _checkpoint_init(folder: Path, meta: dict[str, Any], description: str, record: dict[str, Any]) -> InitWeights:
    from zoo import checkpoint as ckpt
    from zoo.factory import recorded_env
    from zoo.training.initial_weights import InitWeights

    env = recorded_env(meta, f"checkpoint {str(folder)!r}: {ckpt.META_FILE}")
    return InitWeights(meta["agent"], env.name, ckpt.read_tensors(folder), description, record, meta["config"])


def _hub_init(source: PolicySource, agent: str | None, env: str | None, trust_remote_code: bool) -> InitWeights:
    """A Hub repo: the zoo's own checkpoint as it is; another layout through its format."""
    from zoo import checkpoint as ckpt
    from zoo.hub.formats import is_zoo_repo
    from zoo.hub.pull import pull

    folder = pull(source.repo_id, source.revision)
    record = {"from": hub_target(source.repo_id), "kind": "hub", "commit": folder.name}
    if is_zoo_repo([p.name for p in folder.iterdir()]):
        meta = ckpt.read_meta(folder)
        record["weights_sha256"] = meta["weights_sha256"]
        return _checkpoint_init(folder, meta, f"Hub repo {source.repo_id}@{folder.name[:8]}", record)
    loaded = load_source(dataclasses.replace(source, env=env, agent=agent), trust_remote_code=trust_remote_code)
    return _loaded_init(loaded, hub_target(source.repo_id), record)


def _loaded_init(loaded: LoadedPolicy, target: str, record: dict[str, Any]) -> InitWeights:
    """A policy a Hub format loaded, as weights: the agent it names and its ``state_tensors()``."""
    from zoo.training.initial_weights import InitWeights

    state = getattr(loaded.policy, "state_tensors", None)
    if loaded.agent is None or not callable(state):
        raise ZooError(f"{loaded.description} holds no weights of a zoo agent to start a run from")
    return InitWeights(loaded.agent, loaded.env, state(), loaded.description, record,
                       dict(getattr(loaded.policy, "architecture", {}) or {}))
