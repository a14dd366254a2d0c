"""Old import paths that keep working, each with a ``DeprecationWarning`` that names its new one.

The public API is the ``zoo`` package itself; every ``zoo.<submodule>`` is private. Earlier
releases told plugin authors and users to import from submodules (``from zoo.agent import
Agent``), and a plugin written that way must keep loading. Each such path is one row of
:data:`MOVED`, and docs/deprecations.md says how long it lives and how its removal is announced.

* An old module that no longer exists (``zoo.agent``) is made when it is imported, from the
  table, by the finder that ``import zoo`` appends to ``sys.meta_path`` (:func:`install`).
* A module that still exists but no longer defines an old name forwards it with one line:
  ``__getattr__ = forward(__name__)``.

Every use is also remembered by the module that made it, so ``zoo plugins`` can tell a plugin's
author which old paths the plugin still uses (:func:`uses`). This module imports nothing of the
zoo: any module may use it.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Callable

#: The release that deprecated the paths below, and the first that may remove them.
DEPRECATED_IN = "0.2.0"
REMOVED_IN = "1.0"

#: Old path -> the public name that replaces it (always ``zoo.<name>``: the same object).
MOVED: dict[str, str] = {
    # The agent contract: zoo/agent.py until 0.1, then zoo/contract.py.
    **{f"{module}.{name}": f"zoo.{name}" for module in ("zoo.agent", "zoo.contract") for name in (
        "Agent", "Iteration", "FixedPolicy", "ForeignConfig", "PolicyPredictor", "supports_spaces")},
    "zoo.config.hyperparameter": "zoo.hyperparameter",
    "zoo.hookspecs.hookimpl": "zoo.hookimpl",
    "zoo.errors.ZooError": "zoo.ZooError",
    # What plugins register with, and the entries they create.
    **{f"zoo.registry.{name}": f"zoo.{name}" for name in (
        "EnvRegistry", "AgentRegistry", "HubFormatRegistry", "EnvEntry", "AgentEntry", "HubFormatEntry")},
    # Loading plugins: zoo/plugins.py until 0.1, then zoo/plugin_loader.py.
    "zoo.plugins.discover": "zoo.discover_plugins",
    "zoo.plugin_loader.discover": "zoo.discover_plugins",
    **{f"zoo.plugins.{name}": f"zoo.{name}" for name in (
        "PluginInfo", "LoadedPlugins", "PluginLoadWarning", "reload_plugins")},
    # Testing helpers: zoo/testing.py until 0.1, then zoo/tools/testing.py.
    **{f"{module}.{name}": f"zoo.{name}" for module in ("zoo.testing", "zoo.tools.testing") for name in (
        "check_plugin", "check_env", "check_all_envs", "run_agent_smoke", "EnvCheck")},
    # The Hub: zoo/hub.py, zoo/trust.py and zoo/hub_ids.py until 0.1, then the zoo.hub package.
    **{f"zoo.hub.{name}": f"zoo.{name}" for name in ("HubPolicy", "HubRepo", "load_hub_policy")},
    **{f"{module}.require_trust": "zoo.require_trust" for module in ("zoo.trust", "zoo.hub.trust")},
    **{f"{module}.UnpicklingWarning": "zoo.UnpicklingWarning" for module in ("zoo.trust", "zoo.hub.trust")},
    **{f"{module}.validate_repo_id": "zoo.validate_repo_id" for module in ("zoo.hub_ids", "zoo.hub.ids")},
    # Training and evaluation from Python.
    "zoo.training.train": "zoo.train",
    "zoo.training.resume": "zoo.resume",
    "zoo.training.start": "zoo.start_run",
    "zoo.training.plan_run": "zoo.plan_run",
    "zoo.evaluation.evaluate": "zoo.evaluate",
    "zoo.evaluation.evaluate_with_sb3": "zoo.evaluate_with_sb3",
    "zoo.evaluation.EvalResult": "zoo.EvalResult",
    # Sweeps: zoo/sweep.py until 0.1, then zoo/tools/sweep.py.
    **{f"{module}.{name}": f"zoo.{name}" for module in ("zoo.sweep", "zoo.tools.sweep")
       for name in ("plan_sweep", "run_sweep")},
}

#: Old modules whose name is now also a public function of ``zoo``: ``import zoo.plugins`` binds
#: the module to ``zoo.plugins``, so calling the module calls the function.
CALLABLE_MODULES = {"zoo.plugins"}


#: Every module named by an old path.
OLD_MODULES = frozenset(old.rpartition(".")[0] for old in MOVED)


def message(old: str) -> str:
    """The warning for a use of ``old``: what to use instead, and when ``old`` goes."""
    return (f"{old} is deprecated since agent-zoo {DEPRECATED_IN} and will be removed in {REMOVED_IN}: "
            f"use {MOVED[old]}")


#: Module name -> the old paths it used ("zoo.agent.Agent: use zoo.Agent"), in first-use order.
_uses: dict[str, list[str]] = {}


def uses(package: str) -> list[str]:
    """The old paths that ``package`` or any module below it has used so far, each once."""
    found: list[str] = []
    for module, used in _uses.items():
        if module == package or module.startswith(package + "."):
            found += [use for use in used if use not in found]
    return found


_IMPORTLIB = ("importlib._bootstrap", "_frozen_importlib")


def _caller() -> types.FrameType | None:
    """The frame of the code that asked for the old name: the first outside this module and
    outside importlib."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") in (__name__, *_IMPORTLIB):
        frame = frame.f_back
    return frame


def _probed_by_import() -> bool:
    """Whether importlib is only checking that the name exists: ``from package import name``
    asks ``hasattr`` first, then takes the name, so one use would warn twice."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    return frame is not None and frame.f_globals.get("__name__") in _IMPORTLIB and \
        frame.f_code.co_name == "_handle_fromlist"


def _resolve(new: str) -> object:
    module, _, name = new.rpartition(".")
    return getattr(importlib.import_module(module), name)


def old_name(module: str, name: str) -> object:
    """``module.name`` through its old path: warn (attributed to the caller's line, so Python's
    filters treat it as the caller's), remember the use, and return the new name's object."""
    old = f"{module}.{name}"
    if old not in MOVED:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    if _probed_by_import():
        return _resolve(MOVED[old])
    frame = _caller()
    if frame is not None:
        caller = frame.f_globals.get("__name__", "?")
        use = f"{old}: use {MOVED[old]}"
        if use not in _uses.setdefault(caller, []):
            _uses[caller].append(use)
        warnings.warn_explicit(message(old), DeprecationWarning, frame.f_code.co_filename, frame.f_lineno,
                               module=caller, registry=frame.f_globals.setdefault("__warningregistry__", {}))
    else:
        warnings.warn(message(old), DeprecationWarning, stacklevel=2)
    return _resolve(MOVED[old])


def forward(module: str) -> Callable[[str], object]:
    """The ``__getattr__`` of a module that still exists but whose old public names moved."""

    def __getattr__(name: str) -> object:
        return old_name(module, name)

    return __getattr__


class OldModule(types.ModuleType):
    """A module that no longer exists, made from :data:`MOVED`: its old names forward to the new ones."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        return old_name(self.__name__, name)

    def __dir__(self) -> list[str]:
        return sorted({*self.__dict__, *self.__all__})

    def __call__(self, *args: object, **kwargs: object) -> object:
        if self.__name__ not in CALLABLE_MODULES:
            raise TypeError(f"module {self.__name__!r} is not callable")
        package, _, name = self.__name__.rpartition(".")
        # The package's own lazy lookup: its attribute is this module now.
        function = sys.modules[package].__getattr__(name)
        return function(*args, **kwargs)


class _Finder:
    """Makes the old modules that no longer exist on disk (consulted after every other finder)."""

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname in OLD_MODULES:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = OldModule(spec.name, f"Deprecated since agent-zoo {DEPRECATED_IN}: import from zoo instead.")
        module.__all__ = sorted(old.rpartition(".")[2] for old in MOVED if old.rpartition(".")[0] == spec.name)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def install() -> None:
    """Let the old modules be imported (idempotent)."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())
