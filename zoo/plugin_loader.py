"""Finding and loading plugins from the ``agent_zoo`` entry-point group.

Plugins are loaded once, on first use (never at ``import zoo``). Each one is imported,
validated and asked to register in isolation: a plugin that fails is recorded with its
error and reported, and every other plugin keeps working.

Environment switches:

* ``ZOO_PLUGINS=a,b``: load only the named plugins (entry-point names, as ``zoo plugins``
  shows them; the built-ins are plugins too, so name them if you want them).
* ``ZOO_BLOCK_PLUGINS=a,b``: never load the named plugins.
* ``ZOO_STRICT_PLUGINS=1``: a plugin that fails to load is an error, not a warning
  (for plugin authors' CI).

A plugin written for plugin API versions this zoo does not provide (:mod:`zoo.plugin_api`) is
refused like any other failure. The old import paths a plugin uses are recorded with it
(:mod:`zoo.deprecations`), so that ``zoo plugins`` can tell its author.
"""

from __future__ import annotations

import inspect
import os
import re
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from zoo import deprecations, hookspecs
from zoo.exceptions import ZooError, did_you_mean, one_line
from zoo.plugin_api import ENTRY_POINT_GROUP, PROJECT_NAME, IncompatiblePlugin, check_api, declared_api
from zoo.registration import AgentRegistry, EnvRegistry, HubFormatRegistry
from zoo.versions import DISTRIBUTION

__getattr__ = deprecations.forward(__name__)  # discover, now zoo.discover_plugins

ONLY_VAR = "ZOO_PLUGINS"
BLOCK_VAR = "ZOO_BLOCK_PLUGINS"
STRICT_VAR = "ZOO_STRICT_PLUGINS"

#: Set on each typer ``CommandInfo``/``TyperInfo`` a plugin added: the plugin's name.
_OWNER_ATTR = "_zoo_plugin"


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded; the rest of the zoo works without it."""


@dataclass
class PluginInfo:
    """One plugin: where it came from, what it registered, and what went wrong if anything."""

    name: str
    module: str
    distribution: str = ""
    version: str = ""
    hooks: list[str] = field(default_factory=list)
    envs: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    hub_formats: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    error: str | None = None
    #: The plugin API versions the plugin declares it supports (``zoo_plugin_api``), as written;
    #: None if it declares none (it is then taken as written for 1.x).
    api: str | None = None
    #: The old import paths it used, each with its new one: ``"zoo.agent.Agent: use zoo.Agent"``.
    deprecations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class LoadedPlugins:
    """The result of loading every plugin: the registries and a record per plugin."""

    manager: pluggy.PluginManager
    envs: EnvRegistry
    agents: AgentRegistry
    hub_formats: HubFormatRegistry
    plugins: list[PluginInfo]
    #: Each loaded plugin's hook implementations, by hook name.
    _impls: dict[str, dict[str, pluggy.HookImpl]] = field(default_factory=dict)
    _commands_added_to: Any = None

    def plugin(self, name: str) -> PluginInfo:
        for info in self.plugins:
            if info.name == name:
                return info
        raise ZooError(f"unknown plugin {name!r}: {did_you_mean(name, [p.name for p in self.plugins])}")

    def register_commands(self, cli: Any) -> None:
        """Let every loaded plugin add commands to ``cli`` (a typer app), each in isolation.

        Idempotent per app; commands left on ``cli`` by an earlier load are replaced."""
        if self._commands_added_to is cli:
            return
        self._commands_added_to = cli
        for infos in (cli.registered_commands, cli.registered_groups):
            infos[:] = [c for c in infos if not hasattr(c, _OWNER_ATTR)]
        for info in self.plugins:
            impl = self._impls.get(info.name, {}).get("register_commands")
            if info.error or impl is None:
                continue
            before = list(cli.registered_commands), list(cli.registered_groups)
            try:
                _call(impl, cli=cli)
                added = _check_new_commands(cli, before, info.name)
            except Exception as exc:  # a plugin's bug must not take the CLI down
                cli.registered_commands[:], cli.registered_groups[:] = before
                _fail(info, exc, "failed to add its commands")
                continue
            for name, command in added.items():
                setattr(command, _OWNER_ATTR, info.name)
                info.commands.append(name)


def _command_name(command: Any) -> str:
    """The name typer gives a ``CommandInfo`` or ``TyperInfo`` (a sub-app)."""
    if getattr(command, "typer_instance", None) is not None:
        return command.name or command.typer_instance.info.name or ""
    return command.name or command.callback.__name__.lower().replace("_", "-")


def _check_new_commands(cli: Any, before: tuple[list, list], plugin: str) -> dict[str, Any]:
    """The commands a plugin just added, by name; refuses names that are already taken."""
    taken = {_command_name(c): getattr(c, _OWNER_ATTR, "the zoo") for c in (*before[0], *before[1])}
    added: dict[str, Any] = {}
    for command in [*cli.registered_commands, *cli.registered_groups]:
        if any(command is old for old in (*before[0], *before[1])):
            continue
        name = _command_name(command)
        owner = taken.get(name) or (plugin if name in added else None)
        if owner is not None:
            raise ZooError(f"command {name!r} from plugin {plugin!r} is already registered by {owner!r}")
        added[name] = command
    return added


def _names(var: str) -> set[str]:
    return {n.strip() for n in os.environ.get(var, "").split(",") if n.strip()}


def _strict() -> bool:
    return os.environ.get(STRICT_VAR, "").strip().lower() not in ("", "0", "false", "no", "off")



def _fail(info: PluginInfo, exc: BaseException, what: str = "failed to load") -> None:
    # A ZooError is the loader's own verdict: its message says it all, no type name needed.
    info.error = one_line(exc)
    if isinstance(exc, IncompatiblePlugin):  # the release matters here: "plugin 'x' (x-dist 2.0) needs ..."
        release = f"{info.distribution} {info.version}".strip() or info.module
        message = f"plugin {info.name!r} ({release}) {info.error}"
    else:
        message = f"plugin {info.name!r} ({info.distribution or info.module}) {what}: {info.error}"
    if _strict():
        raise ZooError(message + f" ({STRICT_VAR} is set)") from exc
    warnings.warn(message, PluginLoadWarning, stacklevel=3)


def _call(impl: pluggy.HookImpl, **kwargs: Any) -> Any:
    # As pluggy calls a hook, but for one plugin alone, so one plugin's error stays its own.
    return impl.function(*[kwargs[name] for name in impl.argnames])


def _explain_bad_signature(manager: pluggy.PluginManager, plugin: Any, exc: Exception) -> str:
    """One line for pluggy's PluginValidationError: which hook, which arguments, what was expected."""
    for attr in dir(plugin):
        opts = manager.parse_hookimpl_opts(plugin, attr)
        caller = getattr(manager.hook, (opts or {}).get("specname") or attr, None) if opts else None
        if caller is None or not caller.has_spec():
            continue
        params = list(inspect.signature(getattr(plugin, attr)).parameters)
        extra = [p for p in params if p not in caller.spec.argnames]
        if extra:
            return (f"hook {attr}({', '.join(params)}) takes {', '.join(map(repr, extra))}, which the hook does "
                    f"not pass; expected {caller.name}({', '.join(caller.spec.argnames)})")
    return " ".join(str(exc).split())


def _load(manager: pluggy.PluginManager, ep: metadata.EntryPoint, info: PluginInfo) -> dict[str, pluggy.HookImpl]:
    """Import one plugin, check the plugin API versions it supports, register it with pluggy and
    return its hook implementations."""
    plugin = ep.load()
    info.api = declared_api(plugin)
    check_api(info.api)
    try:
        manager.register(plugin, name=ep.name)
    except pluggy.PluginValidationError as exc:  # pluggy leaves the manager untouched
        raise ZooError(_explain_bad_signature(manager, plugin, exc)) from exc
    impls: dict[str, pluggy.HookImpl] = {}
    specs = [name for name, caller in vars(manager.hook).items() if caller.has_spec()]
    try:
        for caller in manager.get_hookcallers(plugin) or []:
            for impl in (i for i in caller.get_hookimpls() if i.plugin is plugin):
                if not caller.has_spec():
                    if impl.opts.get("optionalhook"):
                        continue
                    # pluggy's check_pending(), for this plugin alone: usually a typo.
                    name = impl.function.__name__
                    hook = "" if name == caller.name else f" (as {caller.name!r})"
                    raise ZooError(f"{name!r} is marked @hookimpl{hook} but is not a zoo hook: "
                                   f"{did_you_mean(caller.name, specs)}")
                if impl.wrapper or impl.hookwrapper:
                    raise ZooError(f"hook {caller.name!r}: wrappers are not supported by zoo hooks")
                impls[caller.name] = impl
        if not impls:
            raise ZooError(f"{ep.value!r} implements no zoo hook: decorate one of {', '.join(specs)} "
                           "with @zoo.hookimpl")
    except ZooError:
        manager.unregister(plugin, name=ep.name)
        raise
    return impls


def _register(loaded: LoadedPlugins, info: PluginInfo, impls: dict[str, pluggy.HookImpl]) -> None:
    """Run a plugin's registration hooks; keep what they registered only if all succeed."""
    registries = {"register_envs": loaded.envs, "register_agents": loaded.agents,
                  "register_hub_formats": loaded.hub_formats}
    for registry in registries.values():
        registry._begin(info.name)
    try:
        for hook_name, registry in registries.items():
            if hook_name in impls:
                _call(impls[hook_name], registry=registry)
        envs = loaded.envs._commit()
        agents = loaded.agents._commit()
        formats = loaded.hub_formats._commit()
    except Exception as exc:
        for registry in registries.values():
            registry._rollback()
        loaded.manager.unregister(name=info.name)
        del loaded._impls[info.name]
        _fail(info, exc)
        return
    info.envs, info.agents, info.hub_formats = envs, agents, formats


def _load_order(found: tuple[metadata.EntryPoint, str, str]) -> tuple[bool, str]:
    # The zoo's own plugins first, then the rest by name: on a name conflict the built-in
    # keeps its name whatever the order of sys.path, and the outcome never depends on it.
    ep, distribution, _ = found
    return (distribution != DISTRIBUTION, ep.name)


def _with_origins(entry_points: Iterable[metadata.EntryPoint]) -> list[tuple[metadata.EntryPoint, str, str]]:
    """Each entry point with its distribution's name and version ("" where it has none), each
    distribution's METADATA parsed once (every ``dist.name`` or ``dist.version`` parses it again)."""
    parsed: dict[int, tuple[str, str]] = {}  # by the distribution's id: one object for its entry points
    found = []
    for ep in entry_points:
        dist = getattr(ep, "dist", None)
        if dist is not None and id(dist) not in parsed:
            meta = dist.metadata
            parsed[id(dist)] = (meta["Name"] or "", meta["Version"] or "")
        found.append((ep, *(parsed[id(dist)] if dist is not None else ("", ""))))
    return found


_discovering = 0  # how many discover_plugins() calls are running (plugins' code runs inside them)


def discover_plugins(entry_points: Iterable[metadata.EntryPoint] | None = None) -> LoadedPlugins:
    """Load every plugin in the ``agent_zoo`` entry-point group (or the ``entry_points`` given,
    to test a plugin without installing it) and let each register, in isolation.

    Returns what they registered and a :class:`PluginInfo` per plugin; does not change the
    plugins the rest of the zoo uses (:func:`reload_plugins` does)."""
    global _discovering
    _discovering += 1
    try:
        return _discover(entry_points)
    finally:
        _discovering -= 1


def _package(ep: metadata.EntryPoint) -> str:
    """The package a plugin's code lives in: its entry point's module, or that module's package."""
    module = ep.module
    return module.rpartition(".")[0] if "." in module else module


def _distribution_key(dist: metadata.Distribution) -> str:
    """The normalised name two copies of one distribution share. importlib.metadata's own key
    (``_normalized_name``) reads it from the ``.dist-info`` folder's name where it can, as its
    ``entry_points()`` does; reading ``Name`` parses the whole METADATA file: discovery took 80 ms
    that way in a venv of 159 distributions, 32 ms this way."""
    key = getattr(dist, "_normalized_name", None)  # absent on a Distribution of another kind
    if not isinstance(key, str):
        key = dist.metadata["Name"] or ""
    return re.sub(r"[-_.]+", "_", key).lower()


def _installed_entry_points() -> tuple[list[metadata.EntryPoint], list[PluginInfo]]:
    """The group's entry points, read one distribution at a time: ``metadata.entry_points()``
    raises for all if any installed package has a malformed entry_points.txt."""
    found: list[metadata.EntryPoint] = []
    unreadable: list[PluginInfo] = []
    seen: set[str] = set()
    for dist in metadata.distributions():
        key = _distribution_key(dist)
        if key in seen:  # shadowed by an earlier copy on sys.path, as importlib.metadata does
            continue
        seen.add(key)
        try:
            found += dist.entry_points.select(group=ENTRY_POINT_GROUP)
        except Exception as exc:
            if f"[{ENTRY_POINT_GROUP}]" in (dist.read_text("entry_points.txt") or ""):
                name = dist.metadata["Name"] or ""
                info = PluginInfo(name=name or "?", module="", distribution=name, version=dist.version or "")
                _fail(info, ZooError(f"its entry_points.txt cannot be read ({one_line(exc)})"))
                unreadable.append(info)
    return found, unreadable


def _discover(entry_points: Iterable[metadata.EntryPoint] | None) -> LoadedPlugins:
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    loaded = LoadedPlugins(manager, EnvRegistry(), AgentRegistry(), HubFormatRegistry(), [])
    if entry_points is None:
        entry_points, loaded.plugins[:] = _installed_entry_points()
    only, blocked = _names(ONLY_VAR), _names(BLOCK_VAR)
    targets: dict[str, str] = {}
    for ep, distribution, version in sorted(_with_origins(entry_points), key=_load_order):
        if targets.get(ep.name) == ep.value:  # one distribution visible twice on sys.path
            continue
        info = PluginInfo(name=ep.name, module=ep.value, distribution=distribution, version=version)
        if (only and ep.name not in only) or ep.name in blocked:
            targets.setdefault(ep.name, ep.value)
            continue
        loaded.plugins.append(info)
        if ep.name in targets:
            first = next((p for p in loaded.plugins if p.name == ep.name), info)
            _fail(info, ZooError(f"plugin name {ep.name!r} is already taken by {targets[ep.name]!r} "
                                 f"({first.distribution or 'unknown distribution'}); not loading {ep.value!r}"))
            continue
        targets[ep.name] = ep.value
        try:
            impls = _load(manager, ep, info)
        except (Exception, SystemExit) as exc:  # SystemExit: a plugin calling sys.exit() on import
            _fail(info, exc)
        else:
            info.hooks = sorted(impls)
            loaded._impls[ep.name] = impls
            _register(loaded, info, impls)
        info.deprecations = deprecations.uses(_package(ep))
    for var, names in ((ONLY_VAR, only), (BLOCK_VAR, blocked)):
        for name in sorted(names - set(targets)):
            warnings.warn(f"{var} names {name!r}, which is not an installed plugin: "
                          f"{did_you_mean(name, targets)}", PluginLoadWarning, stacklevel=2)
    return loaded


_loaded: LoadedPlugins | None = None
_lock = threading.RLock()


def loaded_plugins() -> LoadedPlugins:
    """The zoo's plugins, loaded on first call."""
    global _loaded
    with _lock:
        if _loaded is None:
            if _discovering:  # a plugin asked for the plugins while being loaded: it would recurse
                raise ZooError("a plugin used the zoo's envs or agents while plugins were loading; "
                               "use them inside functions, not at import or in a register hook")
            _loaded = discover_plugins()
        return _loaded


def reload_plugins() -> LoadedPlugins:
    """Forget loaded plugins and discover them again (after installing one, or in tests)."""
    global _loaded
    with _lock:
        _loaded = None
    return loaded_plugins()


def plugins() -> list[PluginInfo]:
    """Every discovered plugin, with what it registered and any load error (public as ``zoo.plugins``)."""
    return list(loaded_plugins().plugins)
