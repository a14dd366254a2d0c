"""The registries plugins register with: environments, agents and Hub formats, looked up by name.

Registries are filled by the plugin loader (:mod:`zoo.plugin_loader`), one plugin at a time and
transactionally: a plugin whose hook raises half-way registers nothing at all. What they hold
is plain data (:mod:`zoo.entries`, :mod:`zoo.hub_format`).
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import gymnasium

from zoo.entries import AgentEntry, EnvEntry
from zoo.env_names import gymnasium_id, module_part, not_imported
from zoo.exceptions import ZooError, did_you_mean, one_line
from zoo.hub_format import HubFormatEntry, HubPolicy, HubRepo

#: Gymnasium ids the zoo itself registered. Loading plugins again (``reload_plugins``) may
#: re-register these; any other id already in gymnasium's registry belongs to someone else.
_ZOO_GYM_IDS: set[str] = set()


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
            entries = list(self)
            hint = described(name, entries, self.kind) or did_you_mean(name, [entry.name for entry in entries])
            raise ZooError(f"unknown {self.kind} {name!r}: {hint}") from None


def described(name: str, entries: Sequence[Any], kind: str) -> str | None:
    """A hint for a name none of ``entries`` has, one of whose words is no entry's name but is in
    some entries' descriptions (``sb3-her``: HER is a replay buffer of SB3's off-policy agents,
    whose descriptions say so): those entries, and the first one's description."""
    names = {word for entry in entries for word in entry.name.lower().replace("_", "-").split("-")}
    for word in name.lower().replace("_", "-").split("-")[:4]:
        if not 3 <= len(word) <= 30 or word in names or not word.isalnum():
            continue
        found = [entry for entry in entries
                 if word in re.findall(r"[a-z0-9]+", str(getattr(entry, "description", "")).lower())]
        if found:
            return (f"{word!r} is not {'an' if kind[0] in 'aeiou' else 'a'} {kind} of its own; it is in what "
                    f"{', '.join(entry.name for entry in found)} say of themselves ({found[0].name}: "
                    f"{found[0].description})")
    return None


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
        hardcoded policies and defaults), else any id in gymnasium's registry. Looking an env up
        never imports anything: a ``"module:Id"`` name (``ale_py:ALE/Pong-v5``) is looked up as
        ``Id`` once its module is imported, and refused before (see :mod:`zoo.env_names`: only a
        name the user gave imports its module). Nothing is built to look an env up."""
        if not isinstance(name, str) or not name.strip():
            raise ZooError(f"env name {name!r} must be a non-empty string")
        if name.lower() in self._entries:
            return self._entries[name.lower()]
        module, env_id = module_part(name)
        if module is not None and module not in sys.modules:
            raise not_imported(name, module)
        if env_id.lower() in self._entries:  # "module:name" of an env a plugin registered
            return self._entries[env_id.lower()]
        gym_id = gymnasium_id(env_id)
        if gym_id is None:
            zoo_names = [entry.name for entry in self]
            # An id a plugin registered is suggested by its zoo name, once.
            others = [gym_id for gym_id in gymnasium.registry if gym_id.lower() not in self._entries]
            close = did_you_mean(name, [*zoo_names, *others])
            hint = close if close.startswith("did you mean") else f"the zoo's envs are {', '.join(sorted(zoo_names))}"
            raise ZooError(f"unknown env {name!r}: {hint} (any gymnasium id works too: zoo list --all)")
        if gym_id not in self._from_gymnasium:
            spec = gymnasium.spec(gym_id)
            self._from_gymnasium[gym_id] = EnvEntry(
                name=gym_id, gym_id=gym_id, max_episode_steps=spec.max_episode_steps,
                reward_threshold=spec.reward_threshold, plugin=GYMNASIUM,
                description=f"gymnasium's {gym_id} ({spec.entry_point if isinstance(spec.entry_point, str) else ''})")
        return self._from_gymnasium[gym_id]

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
        hub_id: str | None = None,
    ) -> EnvEntry:
        """Register an env under a short ``name`` and a gymnasium ``gym_id`` (plus ``aliases``).

        ``entry_point`` may be omitted when ``gym_id`` is already registered with gymnasium
        (as CartPole-v1 is); a ``vector_entry_point`` given then is attached to gymnasium's id
        (unless it has another). Otherwise the id and aliases are registered with gymnasium so
        ``gymnasium.make(gym_id)`` works; creating the env is deferred until it is used.

        ``hub_id`` (plugin API 1.3) is the id the Hugging Face Hub knows the env by, if it is not
        ``gym_id``: one of the aliases (the PLE games give gym-games' ``Pixelcopter-PLE-v0``, the
        id the Deep RL course leaderboard filters on). ``zoo push`` tags and scores under it.
        """
        self._check_name(name)
        aliases = tuple(aliases)
        if hub_id is not None and hub_id not in (gym_id, *aliases):
            raise ZooError(f"env {name!r}: hub_id {hub_id!r} must be its gym_id or one of its aliases "
                           f"({', '.join(map(repr, (gym_id, *aliases)))})")
        if entry_point is None and gym_id not in gymnasium.registry:
            raise ZooError(f"env {name!r}: gymnasium has no id {gym_id!r} and no entry_point was given")
        if entry_point is None and vector_entry_point is not None:
            theirs = gymnasium.spec(gym_id).vector_entry_point
            if theirs not in (None, vector_entry_point):  # equal: the zoo's own, from an earlier load
                raise ZooError(f"env {name!r} from plugin {self._plugin!r}: gymnasium id {gym_id!r} already has a "
                               f"vector entry point ({theirs!r})")
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
            hub_id=hub_id or gym_id,
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
        done: list[tuple[str, gymnasium.envs.registration.EnvSpec | None]] = []
        try:
            for entry in self._pending:
                done += self._register_with_gymnasium(entry)
        except Exception as exc:
            for gym_id, before in done:
                if before is not None:  # gymnasium's own id, with a vector entry point attached
                    gymnasium.registry[gym_id] = before
                    continue
                gymnasium.registry.pop(gym_id, None)
                _ZOO_GYM_IDS.discard(gym_id)
            self._pending = []
            raise ZooError(f"cannot register env with gymnasium: {one_line(exc)}") from exc
        return super()._commit()

    @staticmethod
    def _register_with_gymnasium(entry: EnvEntry) -> list[tuple[str, gymnasium.envs.registration.EnvSpec | None]]:
        """Register ``entry``'s ids with gymnasium; what to undo: each id, with the spec it replaced
        if that is gymnasium's own (None: the id is the zoo's, to remove)."""
        if entry.entry_point is None:
            if entry.vector_entry_point is None:
                return []
            # gymnasium's id, now also built by the plugin's batched env: make_vec(..., "vector_entry_point").
            before = gymnasium.spec(entry.gym_id)
            gymnasium.registry[entry.gym_id] = dataclasses.replace(before, vector_entry_point=entry.vector_entry_point)
            return [(entry.gym_id, before)]
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
        return [(gym_id, None) for gym_id in ids]


class AgentRegistry(_Registry):
    """Agents by name (case-insensitive)."""

    kind = "agent"

    def add_agent(self, name: str, agent_class: str | type, *, description: str = "") -> AgentEntry:
        """Register ``agent_class`` (a :class:`zoo.Agent` subclass, or ``"module:Class"``).

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
