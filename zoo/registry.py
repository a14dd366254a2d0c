"""What plugins register: environments, agents and Hub model formats, looked up by name.

Registries are filled by the plugin loader (:mod:`zoo.plugin_loader`), one plugin at a time and
transactionally: a plugin whose hook raises half-way registers nothing at all.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import gymnasium

from zoo.errors import ZooError, did_you_mean, one_line

if TYPE_CHECKING:
    from zoo.contract import Agent
    from zoo.hub.formats import HubPolicy, HubRepo


#: Gymnasium ids the zoo itself registered. Loading plugins again (``reload_plugins``) may
#: re-register these; any other id already in gymnasium's registry belongs to someone else.
_ZOO_GYM_IDS: set[str] = set()



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

    @property
    def agent_class(self) -> type[Agent]:
        from zoo.contract import Agent

        try:
            cls = load_object(self.target)
        except Exception as exc:  # imported lazily, so a broken agent module surfaces only here
            raise ZooError(f"agent {self.name!r} (plugin {self.plugin or 'unknown'}) could not be loaded: "
                           f"{one_line(exc)}") from exc
        if not (inspect.isclass(cls) and issubclass(cls, Agent)):
            raise ZooError(f"agent {self.name!r} (plugin {self.plugin or 'unknown'}) is {cls!r}, "
                           "not a subclass of zoo.contract.Agent")
        return cls


class _Registry:
    kind = "item"

    def __init__(self) -> None:
        self._entries: dict[str, Any] = {}
        self._pending: list[Any] = []
        self._plugin = ""

    # -- transactions, driven by the plugin loader -------------------------------------------
    def _begin(self, plugin: str) -> None:
        self._plugin, self._pending = plugin, []

    def _rollback(self) -> None:
        self._pending = []

    def _commit(self) -> list[str]:
        for entry in self._pending:
            self._store(entry)
        names = [entry.name for entry in self._pending]
        self._pending = []
        return names

    def _store(self, entry: Any) -> None:
        for key in self._keys(entry):
            self._entries[key.lower()] = entry

    def _keys(self, entry: Any) -> Iterable[str]:
        return (entry.name,)

    def _check_name(self, name: Any) -> None:
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise ZooError(f"{self.kind} name {name!r} from plugin {self._plugin!r} must be a non-empty string "
                           "without surrounding spaces")

    def _check_free(self, entry: Any) -> None:
        for key in self._keys(entry):
            other = self._entries.get(key.lower()) or next(
                (e for e in self._pending if key.lower() in (k.lower() for k in self._keys(e))), None
            )
            if other is not None:
                raise ZooError(
                    f"{self.kind} name {key!r} from plugin {entry.plugin!r} is already registered "
                    f"by plugin {other.plugin!r}"
                )

    # -- lookups ------------------------------------------------------------------------------
    def __iter__(self):
        seen = []
        for entry in self._entries.values():
            if entry not in seen:
                seen.append(entry)
        return iter(seen)

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._entries

    def get(self, name: str) -> Any:
        try:
            return self._entries[name.lower()]
        except KeyError:
            valid = [entry.name for entry in self]
            raise ZooError(f"unknown {self.kind} {name!r}: {did_you_mean(name, valid)}") from None


#: The plugin name of envs that no zoo plugin registered but gymnasium knows.
GYMNASIUM = "gymnasium"


class EnvRegistry(_Registry):
    """Environments by zoo name, gymnasium id or alias (case-insensitive); any other id that
    gymnasium knows works too, as an env of its own (see :meth:`get`)."""

    kind = "env"

    def __init__(self) -> None:
        super().__init__()
        self._from_gymnasium: dict[str, EnvEntry] = {}

    def get(self, name: str) -> EnvEntry:
        """The env called ``name``: one a plugin registered (they win: they add short names,
        hardcoded policies and defaults), else any id in gymnasium's registry, including the
        ``"module:Env-v0"`` form that imports a package which registers its envs on import
        (``ale_py:ALE/Pong-v5``). Nothing is built to look an env up."""
        if not isinstance(name, str) or not name.strip():
            raise ZooError(f"env name {name!r} must be a non-empty string")
        if name.lower() in self._entries:
            return self._entries[name.lower()]
        gym_id = self._gymnasium_id(name)
        if gym_id is None:
            zoo_names = [entry.name for entry in self]
            # An id a plugin registered is suggested by its zoo name, once.
            others = [gym_id for gym_id in gymnasium.registry if gym_id.lower() not in self._entries]
            close = did_you_mean(name, [*zoo_names, *others])
            hint = close if close.startswith("did you mean") else f"the zoo's envs are {', '.join(sorted(zoo_names))}"
            raise ZooError(f"unknown env {name!r}: {hint} (any gymnasium id works too: zoo list --all)")
        if gym_id.lower() in self._entries:  # "module:Id" naming an env a plugin registered
            return self._entries[gym_id.lower()]
        if gym_id not in self._from_gymnasium:
            spec = gymnasium.spec(gym_id)
            self._from_gymnasium[gym_id] = EnvEntry(
                name=gym_id, gym_id=gym_id, max_episode_steps=spec.max_episode_steps,
                reward_threshold=spec.reward_threshold, plugin=GYMNASIUM,
                description=f"gymnasium's {gym_id} ({spec.entry_point if isinstance(spec.entry_point, str) else ''})")
        return self._from_gymnasium[gym_id]

    @staticmethod
    def _gymnasium_id(name: str) -> str | None:
        """``name`` as an id in gymnasium's registry (importing ``module`` of ``module:Id`` first),
        matched exactly, else case-insensitively; None if gymnasium has no such env."""
        module, sep, env_id = name.partition(":")
        if sep:
            try:
                importlib.import_module(module)
            except Exception as exc:  # the user's module: say why it did not import, in one line
                raise ZooError(f"env {name!r}: module {module!r} could not be imported: {one_line(exc)}") from None
        else:
            env_id = name
        if env_id in gymnasium.registry:
            return env_id
        matches = [known for known in gymnasium.registry if known.lower() == env_id.lower()]
        return matches[0] if len(matches) == 1 else None

    def _keys(self, entry: EnvEntry) -> Iterable[str]:
        return entry.names

    def add_env(
        self,
        name: str,
        gym_id: str,
        *,
        entry_point: str | Callable[..., gymnasium.Env] | None = None,
        vector_entry_point: str | Callable[..., gymnasium.vector.VectorEnv] | None = None,
        aliases: Iterable[str] = (),
        kwargs: Mapping[str, Any] | None = None,
        max_episode_steps: int | None = None,
        reward_threshold: float | None = None,
        hardcoded: Mapping[str, Any] | None = None,
        description: str = "",
    ) -> EnvEntry:
        """Register an env under a short ``name`` and a gymnasium ``gym_id`` (plus ``aliases``).

        ``entry_point`` may be omitted when ``gym_id`` is already registered with gymnasium
        (as CartPole-v1 is). Otherwise the id and aliases are registered with gymnasium so
        ``gymnasium.make(gym_id)`` works; creating the env is deferred until it is used.
        """
        self._check_name(name)
        if entry_point is None and gym_id not in gymnasium.registry:
            raise ZooError(f"env {name!r}: gymnasium has no id {gym_id!r} and no entry_point was given")
        if entry_point is not None:
            for new_id in (gym_id, *aliases):
                self._check_gym_id(name, new_id, entry_point)
        entry = EnvEntry(
            name=name,
            gym_id=gym_id,
            entry_point=entry_point,
            vector_entry_point=vector_entry_point,
            aliases=tuple(aliases),
            kwargs=dict(kwargs or {}),
            max_episode_steps=max_episode_steps,
            reward_threshold=reward_threshold,
            hardcoded=dict(hardcoded or {}),
            description=description,
            plugin=self._plugin,
        )
        self._check_free(entry)
        self._pending.append(entry)
        return entry

    def _check_gym_id(self, name: str, gym_id: Any, entry_point: Any) -> None:
        if not isinstance(gym_id, str):
            raise ZooError(f"env {name!r}: gymnasium id {gym_id!r} must be a string")
        try:
            gymnasium.envs.registration.parse_env_id(gym_id)
        except gymnasium.error.Error as exc:
            raise ZooError(f"env {name!r}: {gym_id!r} is not a valid gymnasium id ({exc})") from None
        existing = gymnasium.registry.get(gym_id)
        if existing is not None and gym_id not in _ZOO_GYM_IDS and existing.entry_point != entry_point:
            # Another env under this id (a package may register its own ids on import: fine if
            # it is the same env). Keeping either would make the name run something unexpected.
            raise ZooError(f"env {name!r} from plugin {self._plugin!r}: gymnasium id {gym_id!r} is already "
                           f"registered with gymnasium for another env ({existing.entry_point!r}); "
                           "choose another id, or omit entry_point to wrap that env")

    def _commit(self) -> list[str]:
        # Register every pending env with gymnasium first, undoing all of them if one fails,
        # so a plugin's envs appear in both registries or in neither.
        done: list[str] = []
        try:
            for entry in self._pending:
                done += self._register_with_gymnasium(entry)
        except Exception as exc:
            for gym_id in done:
                gymnasium.registry.pop(gym_id, None)
                _ZOO_GYM_IDS.discard(gym_id)
            self._pending = []
            raise ZooError(f"cannot register env with gymnasium: {one_line(exc)}") from exc
        return super()._commit()

    @staticmethod
    def _register_with_gymnasium(entry: EnvEntry) -> list[str]:
        if entry.entry_point is None:
            return []
        ids = [entry.gym_id, *entry.aliases]
        for gym_id in ids:
            gymnasium.registry.pop(gym_id, None)  # the zoo's own, or the same env (see _check_gym_id)
            gymnasium.register(
                id=gym_id,
                entry_point=entry.entry_point,
                vector_entry_point=entry.vector_entry_point,
                max_episode_steps=entry.max_episode_steps,
                reward_threshold=entry.reward_threshold,
                kwargs=dict(entry.kwargs),
            )
            _ZOO_GYM_IDS.add(gym_id)
        return ids


class AgentRegistry(_Registry):
    """Agents by name (case-insensitive)."""

    kind = "agent"

    def add_agent(self, name: str, agent_class: str | type, *, description: str = "") -> AgentEntry:
        """Register ``agent_class`` (an :class:`zoo.contract.Agent` subclass, or ``"module:Class"``).

        A string is imported only when the agent is first used, so registering stays cheap.
        """
        self._check_name(name)
        if not isinstance(agent_class, (str, type)):
            raise ZooError(f"agent {name!r}: agent_class must be a class or a 'module:Class' string, "
                           f"got {agent_class!r}")
        entry = AgentEntry(name=name, target=agent_class, description=description, plugin=self._plugin)
        self._check_free(entry)
        self._pending.append(entry)
        return entry


@dataclass(frozen=True)
class HubFormatEntry:
    """A layout of Hub repo that a plugin can load (see the ``register_hub_formats`` hook)."""

    name: str
    detect: str | Callable[[Sequence[str]], bool]
    load: str | Callable[[HubRepo], HubPolicy]
    description: str = ""
    plugin: str = ""

    def _resolve(self, target: Any, what: str) -> Callable[..., Any]:
        try:
            function = load_object(target)
        except Exception as exc:  # imported lazily, so a broken module surfaces only here
            raise ZooError(f"Hub format {self.name!r} (plugin {self.plugin or 'unknown'}): its {what} could not "
                           f"be loaded: {one_line(exc)}") from exc
        if not callable(function):
            raise ZooError(f"Hub format {self.name!r} (plugin {self.plugin or 'unknown'}): its {what} is not callable")
        return function

    def detects(self, files: Sequence[str]) -> bool:
        """Whether a repo with ``files`` is in this format."""
        try:
            return bool(self._resolve(self.detect, "detect function")(list(files)))
        except ZooError:
            raise
        except Exception as exc:  # a plugin's bug must not hide the other formats' verdicts
            raise ZooError(f"Hub format {self.name!r} (plugin {self.plugin or 'unknown'}) failed to inspect "
                           f"the repo: {one_line(exc)}") from exc

    @property
    def loader(self) -> Callable[[HubRepo], HubPolicy]:
        return self._resolve(self.load, "load function")


class HubFormatRegistry(_Registry):
    """Hub repo formats by name (case-insensitive), in the order they were registered."""

    kind = "Hub format"

    def add_format(self, name: str, *, detect: str | Callable[[Sequence[str]], bool],
                   load: str | Callable[[HubRepo], HubPolicy], description: str = "") -> HubFormatEntry:
        """Register a format: ``detect(files) -> bool`` recognises a repo from its file list,
        ``load(repo) -> HubPolicy`` loads it; either may be a ``"module:function"`` string."""
        self._check_name(name)
        for what, target in (("detect", detect), ("load", load)):
            if not (isinstance(target, str) or callable(target)):
                raise ZooError(f"Hub format {name!r}: {what} must be a function or a 'module:function' string, "
                               f"got {target!r}")
        entry = HubFormatEntry(name=name, detect=detect, load=load, description=description, plugin=self._plugin)
        self._check_free(entry)
        self._pending.append(entry)
        return entry
