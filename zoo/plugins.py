"""Finding and loading plugins from the ``agent_zoo`` entry-point group.

Plugins are loaded once, on first use (never at ``import zoo``). Each one is imported,
validated and asked to register in isolation: a plugin that fails is recorded with its
error and reported, and every other plugin keeps working.

Environment switches:

* ``ZOO_PLUGINS=a,b``: load only the named plugins (entry-point names).
* ``ZOO_BLOCK_PLUGINS=a,b``: never load the named plugins.
* ``ZOO_STRICT_PLUGINS=1``: a plugin that fails to load is an error, not a warning
  (for plugin authors' CI).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from zoo import hookspecs
from zoo.errors import ZooError
from zoo.registry import AgentRegistry, EnvRegistry

ENTRY_POINT_GROUP = "agent_zoo"
ONLY_VAR = "ZOO_PLUGINS"
BLOCK_VAR = "ZOO_BLOCK_PLUGINS"
STRICT_VAR = "ZOO_STRICT_PLUGINS"


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded; the rest of the zoo works without it."""


@dataclass
class PluginInfo:
    """One plugin: where it came from, what it registered, and what went wrong if anything."""

    name: str
    module: str
    distribution: str = ""
    version: str = ""
    envs: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class LoadedPlugins:
    """The result of loading every plugin: the registries and a record per plugin."""

    manager: pluggy.PluginManager
    envs: EnvRegistry
    agents: AgentRegistry
    plugins: list[PluginInfo]
    _modules: dict[str, ModuleType] = field(default_factory=dict)

    def plugin(self, name: str) -> PluginInfo:
        return next(p for p in self.plugins if p.name == name)

    def register_commands(self, cli: Any) -> None:
        """Let every loaded plugin add commands to ``cli`` (a typer app), each in isolation."""
        for info in self.plugins:
            module = self._modules.get(info.name)
            hook = getattr(module, "register_commands", None)
            if info.error or not _is_hookimpl(hook):
                continue
            before = list(cli.registered_commands)
            try:
                hook(cli=cli)
            except Exception as exc:  # a plugin's bug must not take the CLI down
                cli.registered_commands[:] = before
                _fail(info, exc)
                continue
            info.commands = [c.name or c.callback.__name__.replace("_", "-")
                             for c in cli.registered_commands if c not in before]


def _names(var: str) -> set[str]:
    return {n.strip() for n in os.environ.get(var, "").split(",") if n.strip()}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _fail(info: PluginInfo, exc: BaseException) -> None:
    info.error = _first_line(exc)
    message = f"plugin {info.name!r} ({info.distribution or info.module}) failed to load: {info.error}"
    if os.environ.get(STRICT_VAR, "").lower() not in ("", "0", "false", "no"):
        raise ZooError(message + f" ({STRICT_VAR} is set)") from exc
    warnings.warn(message, PluginLoadWarning, stacklevel=3)


def _is_hookimpl(obj: Any) -> bool:
    return callable(obj) and hasattr(obj, hookspecs.PROJECT_NAME + "_impl")


def _check_hook_names(module: ModuleType) -> None:
    """Refuse hook implementations whose name matches no hook (usually a typo)."""
    specs = {"register_envs", "register_agents", "register_commands"}
    for name in dir(module):
        if _is_hookimpl(getattr(module, name)) and name not in specs:
            raise ZooError(f"{name!r} is marked @hookimpl but is not a zoo hook; hooks: {', '.join(sorted(specs))}")


def _load_order(ep: metadata.EntryPoint) -> tuple[bool, str, str]:
    dist = getattr(ep, "dist", None)
    dist_name = dist.name if dist else ""
    return (dist_name != "agent-zoo", dist_name, ep.name)


def discover(entry_points: Iterable[metadata.EntryPoint] | None = None) -> LoadedPlugins:
    """Load every plugin in the entry-point group and let each register, in isolation."""
    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    # A fixed order makes "first registered wins" deterministic whatever sys.path looks like:
    # the zoo's own plugins first, then the others by distribution and entry-point name.
    entry_points = sorted(entry_points, key=_load_order)
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    loaded = LoadedPlugins(manager, EnvRegistry(), AgentRegistry(), [])
    only, blocked = _names(ONLY_VAR), _names(BLOCK_VAR)
    seen: set[tuple[str, str]] = set()
    for ep in entry_points:
        if (ep.name, ep.value) in seen:  # one distribution visible twice on sys.path
            continue
        seen.add((ep.name, ep.value))
        if (only and ep.name not in only) or ep.name in blocked:
            continue
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            name=ep.name,
            module=ep.value,
            distribution=dist.name if dist else "",
            version=dist.version if dist else "",
        )
        loaded.plugins.append(info)
        try:
            module = ep.load()
            _check_hook_names(module)
            manager.register(module, name=ep.name)
        except Exception as exc:
            _fail(info, exc)
            continue
        loaded._modules[ep.name] = module
        _run_registration(info, module, "register_envs", loaded.envs, info.envs)
        if info.error is None:
            _run_registration(info, module, "register_agents", loaded.agents, info.agents)
    return loaded


def _run_registration(info: PluginInfo, module: ModuleType, hook_name: str,
                      registry: EnvRegistry | AgentRegistry, record: list[str]) -> None:
    hook: Callable[..., None] | None = getattr(module, hook_name, None)
    if not _is_hookimpl(hook):
        return
    registry._begin(info.name)
    try:
        hook(registry=registry)
        record.extend(registry._commit())
    except Exception as exc:
        registry._rollback()
        _fail(info, exc)


_loaded: LoadedPlugins | None = None
_lock = threading.Lock()


def loaded_plugins() -> LoadedPlugins:
    """The zoo's plugins, loaded on first call."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = discover()
        return _loaded


def reload_plugins() -> LoadedPlugins:
    """Forget loaded plugins and discover them again (after installing one, or in tests)."""
    global _loaded
    with _lock:
        _loaded = None
    return loaded_plugins()
