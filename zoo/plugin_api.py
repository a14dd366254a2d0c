"""The plugin API's identity: its name, its version, and how a plugin says which versions it
was written for.

The version is ``MAJOR.MINOR``: a minor release only adds (a hook, a public name, an optional
argument), so a plugin written for 1.0 works with every 1.x; a major release may remove or
change, and a plugin declares what it supports so that an incompatible one is refused in one
line instead of failing half-way. The history is in docs/plugins.md ("Plugin API versions").

A plugin declares the versions it supports as a PEP 440 specifier in an attribute of the object
its entry point names (usually the module)::

    zoo_plugin_api = ">=1.2,<2"

A plugin that declares nothing is taken as written for 1.x (:data:`UNDECLARED`).
"""

from __future__ import annotations

from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from zoo.exceptions import ZooError

#: The name of the plugin API: pluggy's project name and the entry-point group.
PROJECT_NAME = "agent_zoo"
ENTRY_POINT_GROUP = PROJECT_NAME

PLUGIN_API_VERSION = "1.4"
"""This zoo's plugin API version, ``MAJOR.MINOR`` (``zoo plugins`` shows it).

1.0: the hooks ``register_envs``, ``register_agents`` and ``register_commands``. 1.1:
``register_hub_formats``. 1.2: every name a plugin needs is public in ``zoo`` itself, and plugins
may declare ``zoo_plugin_api``. 1.3: ``add_env(hub_id=...)`` and ``Agent.export_extras``. 1.4:
``Agent.steps_left``, ``ForeignConfig.budget_fractions``, ``ForeignConfig.env_kwargs``, ``Agent.min_training_steps`` and
``zoo.BudgetTooSmall``."""

#: The attribute of a plugin's entry-point object that holds the versions it supports.
API_ATTRIBUTE = "zoo_plugin_api"

#: What a plugin that declares nothing is taken to support.
UNDECLARED = ">=1.0,<2"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a function of a plugin as the implementation of the zoo hook of the same name::

    @zoo.hookimpl
    def register_envs(registry):
        registry.add_env(name="corridor", gym_id="zoo_corridor/Corridor-v0",
                         entry_point="zoo_corridor:CorridorEnv")
"""


class IncompatiblePlugin(ZooError):
    """A plugin written for versions of the plugin API that this zoo does not provide."""


def declared_api(plugin: Any) -> str | None:
    """The specifier a plugin's entry-point object declares in :data:`API_ATTRIBUTE`, as written
    (stripped), or None if it declares none."""
    declared = getattr(plugin, API_ATTRIBUTE, None)
    return None if declared is None else str(declared).strip()


def check_api(declared: str | None) -> None:
    """Refuse a plugin whose declared specifier (None: :data:`UNDECLARED`) does not admit
    :data:`PLUGIN_API_VERSION`, or is no PEP 440 specifier."""
    try:
        if declared == "":
            raise InvalidSpecifier("")
        supported = SpecifierSet(UNDECLARED if declared is None else declared)
    except InvalidSpecifier:
        raise ZooError(f"its {API_ATTRIBUTE} = {declared!r} is not a version specifier (PEP 440); "
                       f"write e.g. {API_ATTRIBUTE} = '>={PLUGIN_API_VERSION},<2'") from None
    if Version(PLUGIN_API_VERSION) not in supported:
        raise IncompatiblePlugin(f"needs zoo plugin API {declared}; this zoo provides {PLUGIN_API_VERSION}")
