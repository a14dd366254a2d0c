"""What a Hub format is, as data: its registry entry (:class:`HubFormatEntry`), the downloaded
repo its loader receives (:class:`HubRepo`) and the policy the loader returns (:class:`HubPolicy`).

A *Hub format* is a layout of Hugging Face Hub repo that a plugin teaches the zoo to load
(the ``register_hub_formats`` hook). Downloading a repo and choosing its format is the Hub
feature's job (:mod:`zoo.hub.formats`); the checks a repo offers its loader look names up in
the zoo's registries, which whoever builds the :class:`HubRepo` hands it, so that these types
depend on no behaviour of the zoo.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium

from zoo.entries import AgentEntry, EnvEntry
from zoo.env_names import env_name_from_file
from zoo.exceptions import ZooError
from zoo.files import read_json_object
from zoo.remote_code import require_trust

#: The model card of a Hub repo.
CARD_FILE = "README.md"


@dataclass
class HubPolicy:
    """A policy loaded from a Hub repo, the zoo env to run it on and where it came from."""

    policy: Any
    env: str
    source: str
    #: The Hub format that loaded it (filled in by :func:`zoo.load_hub_policy`).
    layout: str = ""
    #: The zoo agent whose weights the policy holds, if the format knows it (``"sb3-ppo"``):
    #: with a ``policy.state_tensors()`` in that agent's names, ``zoo train AGENT ENV --init``
    #: can start a run from it.
    agent: str | None = None


@dataclass
class HubRepo:
    """A downloaded Hub repo as a format's ``load`` sees it, with the checks every format needs.

    The same layouts are read from disk too (``zoo eval --checkpoint PATH`` of a folder or file
    that is no zoo checkpoint): then ``repo_id`` is the path as the user gave it, ``where`` says
    so, and ``files`` are what the path holds (a file: that file, beside the files of its
    folder that describe it, such as rl-baselines3-zoo's ``ENV/config.yml``)."""

    repo_id: str
    revision: str | None
    folder: Path
    #: Every file of the repo, as paths relative to ``folder`` with ``/`` separators.
    files: list[str]
    trust_remote_code: bool
    #: The agent and env the user named, if any: what the repo holds must match them.
    agent: str | None = None
    env: str | None = None
    #: The zoo's env and agent lookups by name (``zoo.env_entry``, ``zoo.agent_entry``), which
    #: raise :class:`ZooError` for an unknown name.
    find_env: Callable[[str], EnvEntry] = field(kw_only=True, repr=False)
    find_agent: Callable[[str], AgentEntry] = field(kw_only=True, repr=False)
    #: For files read from disk: the path the user named (None: a repo pulled from the Hub).
    where: str | None = field(default=None, kw_only=True)

    @property
    def label(self) -> str:
        """``ORG/NAME@commit`` (short), or the path of files read from disk, for messages."""
        return self.where if self.where is not None else f"{self.repo_id}@{self.folder.name[:8]}"

    @property
    def how_to_name_the_env(self) -> str:
        """The command that names the env, for a message."""
        if self.where is not None:
            return f"zoo eval AGENT ENV --checkpoint {self.where}"
        return "zoo eval hub:ORG/NAME ENV"

    @property
    def top_files(self) -> list[str]:
        return [name for name in self.files if "/" not in name]

    def require_trust(self, file: str, kind: str = "") -> None:
        """Refuse, in one line, to unpickle ``file`` of this repo (``kind`` says what it is, for
        the user) unless the user passed ``--trust-remote-code`` or set ``ZOO_TRUST_REMOTE_CODE=1``."""
        require_trust(f"{file} from {self.label}" + (f" ({kind})" if kind else ""), self.trust_remote_code)

    def check_agent(self, expected: str, layout: str) -> None:
        """Refuse if the user named an agent other than ``expected``, the one this repo's model runs as."""
        if self.agent is not None and self.find_agent(self.agent).name != expected:
            raise ZooError(f"it holds a model for agent {expected!r} ({layout}), not {self.agent!r}")

    def pick_env(self, *candidates: str | None, what: str) -> str:
        """The env to run on: the one the user named, else the first candidate (names found in
        the repo) that a plugin registers. A candidate is never imported: one with a module part
        (``"module:Id"``) whose module is not imported is refused, naming ``what``."""
        named = [(self.env, False)] if self.env else []
        tried = [*named, *((c, True) for c in candidates if c)]
        for name, from_repo in tried:
            if not isinstance(name, str):
                continue
            if from_repo:
                env_name_from_file(name, what)
            with contextlib.suppress(ZooError):
                return self.find_env(name).name
        names = [name for name, _ in tried]
        if not names:
            raise ZooError(f"{what} does not say which env it plays: name the env: {self.how_to_name_the_env}")
        raise ZooError(f"{what} is for env {', '.join(map(repr, names))}, which no installed "
                       f"plugin registers: install the plugin, or name the env: {self.how_to_name_the_env}")

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
        entry = self.find_env(env)
        obs, act = entry.observation_space, entry.action_space
        same_obs = getattr(observation_space, "shape", None) == obs.shape
        same_act = type(action_space) is type(act) and (
            action_space.n == act.n if isinstance(act, gymnasium.spaces.Discrete) else action_space.shape == act.shape)
        if not (same_obs and same_act):
            raise ZooError(f"{what} acts on observations {observation_space} and actions {action_space}, but env "
                           f"{env!r} has {obs} and {act}")


@dataclass(frozen=True)
class HubFormatEntry:
    """A layout of Hub repo that a plugin can load (see the ``register_hub_formats`` hook):
    ``detect(files) -> bool`` and ``load(repo) -> HubPolicy``, each a function or a
    ``"module:function"`` string."""

    name: str
    detect: str | Callable[[Sequence[str]], bool]
    load: str | Callable[[HubRepo], HubPolicy]
    description: str = ""
    plugin: str = ""
