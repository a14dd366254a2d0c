"""Finding the policy a user names, wherever it lives, and loading it: the one resolver that
``zoo eval``, ``zoo record``, ``zoo push`` and ``zoo export`` share, usable from Python::

    import zoo
    policy = zoo.load_policy("runs/x")                          # a run folder's newest checkpoint
    policy = zoo.load_policy("runs/x", best=True)               # its best evaluated one (RUN/best)
    policy = zoo.load_policy("hub:ORG/NAME")                    # a Hugging Face Hub repo
    policy = zoo.load_policy(agent="hardcoded", env="cartpole")  # a policy built from its config
    policy = zoo.load_policy(agent="reinforce", env="cartpole")  # the checkpoint its plugin ships

Two steps, each usable alone: :func:`find_policy` decides where the policy comes from and checks
what was asked (plain data, a :class:`PolicySource`; nothing is loaded, nothing is downloaded),
:func:`load_source` loads it (a :class:`LoadedPolicy`: the policy, the env to run it on and a
line saying where it came from). :func:`resolve_policy` does both; :func:`load_policy` returns
the policy alone.

The decision, in order: ``hub:ORG/NAME`` is a Hub repo; another target is a checkpoint or run
folder (``best``: the run's ``best/`` checkpoint); with no target, ``agent`` and ``env`` name an
agent that does not learn (built from its config, ``overrides`` applied) or, for one that learns,
the checkpoint its plugin ships for the env (:mod:`zoo.catalog`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from zoo.exceptions import ZooError
from zoo.policy import PolicyPredictor

#: A target starting with this names a Hugging Face Hub repo: ``hub:ORG/NAME``.
HUB_PREFIX = "hub:"
#: Where a policy comes from.
PolicyKind = Literal["hub", "checkpoint", "best", "built", "pretrained"]


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
    #: The checkpoint or run folder to load (kinds checkpoint, best and pretrained).
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
        if self.path is None:
            what = f"Hub repo {self.repo_id!r}" if self.kind == "hub" else self.description
            raise ZooError(f"{what} is not a checkpoint of this machine: give a run or checkpoint folder "
                           f"(from `zoo train`)")
        return self.path


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy, the zoo env to run it on, and one line saying where it came from."""

    policy: PolicyPredictor
    env: str
    description: str
    source: PolicySource


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
        return LoadedPolicy(found.policy, found.env, found.source, source)
    if source.kind == "built":
        from zoo.factory import make_agent

        policy = make_agent(source.agent, source.env, overrides=source.overrides)
        return LoadedPolicy(policy, source.env, source.description, source)
    from zoo.factory import load_policy as load_checkpoint_policy

    policy = load_checkpoint_policy(source.path, agent=source.agent, env=source.env)
    return LoadedPolicy(policy, source.env, source.description, source)


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
