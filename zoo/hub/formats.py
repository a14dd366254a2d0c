"""Loading what a Hub repo holds into a policy, whatever its layout.

The zoo's own format (``zoo.json`` + ``model.safetensors``) is built in. Every other layout is
a *Hub format* that a plugin registers with the ``register_hub_formats`` hook: a ``detect``
function that recognises the repo from its file list, and a ``load`` function that turns the
downloaded repo (a :class:`HubRepo`) into a :class:`HubPolicy`. The built-in agent plugins
register the stable-baselines3 zip and the Deep RL course ``model.pt`` this way. A format that
unpickles must call :meth:`HubRepo.require_trust` first.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo import checkpoint as ckpt
from zoo.errors import ZooError, one_line
from zoo.files import read_json_object
from zoo.hub.card import CARD_FILE
from zoo.hub.errors import revision_text
from zoo.hub.pull import pull
from zoo.hub.trust import require_trust

#: The name of the zoo's own format, which needs no plugin.
ZOO_FORMAT = "agent-zoo"


@dataclass
class HubPolicy:
    """A policy loaded from a Hub repo, the zoo env to run it on and where it came from."""

    policy: Any
    env: str
    source: str
    #: The Hub format that loaded it (filled in by :func:`load_hub_policy`).
    layout: str = ""


@dataclass
class HubRepo:
    """A downloaded Hub repo as a format's ``load`` sees it, with the checks every format needs."""

    repo_id: str
    revision: str | None
    folder: Path
    #: Every file of the repo, as paths relative to ``folder`` with ``/`` separators.
    files: list[str]
    trust_remote_code: bool
    #: The agent and env the user named, if any: what the repo holds must match them.
    agent: str | None = None
    env: str | None = None

    @property
    def label(self) -> str:
        """``ORG/NAME@commit`` (short), for messages."""
        return f"{self.repo_id}@{self.folder.name[:8]}"

    @property
    def top_files(self) -> list[str]:
        return [name for name in self.files if "/" not in name]

    def require_trust(self, file: str, kind: str = "") -> None:
        """Refuse, in one line, to unpickle ``file`` of this repo (``kind`` says what it is, for
        the user) unless the user passed ``--trust-remote-code`` or set ``ZOO_TRUST_REMOTE_CODE=1``."""
        require_trust(f"{file} from {self.label}" + (f" ({kind})" if kind else ""), self.trust_remote_code)

    def check_agent(self, expected: str, layout: str) -> None:
        """Refuse if the user named an agent other than ``expected``, the one this repo's model runs as."""
        from zoo.factory import agent_entry

        if self.agent is not None and agent_entry(self.agent).name != expected:
            raise ZooError(f"it holds a model for agent {expected!r} ({layout}), not {self.agent!r}")

    def pick_env(self, *candidates: str | None, what: str) -> str:
        """The env to run on: the one the user named, else the first candidate (names found in
        the repo) that a plugin registers."""
        from zoo.factory import env_entry

        tried = [c for c in (self.env, *candidates) if c]
        for name in tried:
            if not isinstance(name, str):
                continue
            with contextlib.suppress(ZooError):
                return env_entry(name).name
        raise ZooError(f"{what} is for env {', '.join(map(repr, tried)) or '(unnamed)'}, which no installed "
                       "plugin registers: install the plugin, or name the env: zoo eval hub:ORG/NAME ENV")

    def card_env(self) -> str | None:
        """The env id that the model card's model-index names as its dataset, if any."""
        from huggingface_hub import ModelCard

        card = self.folder / CARD_FILE
        if not card.is_file():
            return None
        with contextlib.suppress(Exception):  # a card we cannot parse just names no env
            results = ModelCard.load(card).data.eval_results or []
            return results[0].dataset_type if results else None
        return None

    def read_json(self, name: str, what: str | None = None) -> dict[str, Any]:
        """The JSON object in the repo's file ``name``; anything else is a one-line error."""
        return read_json_object(self.folder / name, what or name)

    def check_spaces(self, what: str, observation_space: Any, action_space: Any, env: str) -> None:
        """Refuse a model whose spaces do not fit env ``env``'s."""
        import gymnasium

        from zoo.factory import env_entry

        entry = env_entry(env)
        obs, act = entry.observation_space, entry.action_space
        same_obs = getattr(observation_space, "shape", None) == obs.shape
        same_act = type(action_space) is type(act) and (
            action_space.n == act.n if isinstance(act, gymnasium.spaces.Discrete) else action_space.shape == act.shape)
        if not (same_obs and same_act):
            raise ZooError(f"{what} acts on observations {observation_space} and actions {action_space}, but env "
                           f"{env!r} has {obs} and {act}")


def is_zoo_repo(files: list[str]) -> bool:
    return ckpt.META_FILE in [name for name in files if "/" not in name]


def load_zoo_repo(repo: HubRepo) -> HubPolicy:
    """An agent-zoo checkpoint: safetensors + JSON, never a pickle."""
    from zoo.factory import agent_entry, env_entry, load_policy

    folder = repo.folder

    def about_the_repo(exc: ZooError) -> str:
        # The checkpoint's messages name the cache folder; it is the repo that they are about.
        return str(exc).replace(f"checkpoint {str(folder)!r}", "its checkpoint").replace(repr(str(folder)), "it")

    try:
        meta = ckpt.read_meta(folder)
    except ZooError as exc:
        raise ZooError(f"{about_the_repo(exc)} (ask its author to push it again, or pick another --revision)") from None
    repo.check_agent(meta["agent"], ZOO_FORMAT)
    if repo.env is not None and env_entry(repo.env) != env_entry(meta["env"]):
        raise ZooError(f"it holds a model for env {meta['env']!r}, not {repo.env!r}")
    try:
        loaded = load_policy(folder)
    except ZooError as exc:
        raise ZooError(about_the_repo(exc)) from None
    return HubPolicy(loaded, env_entry(meta["env"]).name, f"{agent_entry(meta['agent']).name} from {repo.label}")


def _detected_format(files: list[str]) -> tuple[str, Any]:
    """The name and loader of the format of a repo with ``files``: the zoo's own first, then
    the plugins' formats in the order they registered."""
    from zoo.plugin_loader import loaded_plugins

    if is_zoo_repo(files):
        return ZOO_FORMAT, load_zoo_repo
    formats = list(loaded_plugins().hub_formats)
    for entry in formats:
        if entry.detects(files):
            return entry.name, entry.loader
    known = [f"{ckpt.META_FILE} + {ckpt.WEIGHTS_FILE} ({ZOO_FORMAT})",
             *(f"{entry.description or entry.name} ({entry.name})" for entry in formats)]
    expected = known[0] if len(known) == 1 else f"{', '.join(known[:-1])} or {known[-1]}"
    raise ZooError(f"no model the zoo can load: expected {expected}; found {', '.join(sorted(files)) or 'no files'}")


def load_hub_policy(repo_id: str, *, revision: str | None = None, trust_remote_code: bool = False,
                    agent: str | None = None, env: str | None = None) -> HubPolicy:
    """Pull ``repo_id`` and load its policy with the format that recognises it. ``agent`` and
    ``env``, when given, must match what the repo holds (``env`` also picks the env for a model
    that does not name a registered one)."""
    folder = pull(repo_id, revision)
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    repo = HubRepo(repo_id, revision, folder, files, trust_remote_code, agent, env)
    try:
        name, load = _detected_format(files)
        try:
            loaded = load(repo)
        except ZooError:
            raise
        except Exception as exc:  # a format plugin's bug, or a file it could not parse
            raise ZooError(f"the {name} format could not load it: {one_line(exc)}") from exc
        if not isinstance(loaded, HubPolicy):
            raise ZooError(f"the {name} format returned {type(loaded).__name__}, not a HubPolicy")
        return dataclasses.replace(loaded, layout=name)
    except ZooError as exc:  # name the repo, once
        message = str(exc)
        raise ZooError(message if repo_id in message
                       else f"Hub repo {repo_id!r}{revision_text(revision)}: {message}") from None
