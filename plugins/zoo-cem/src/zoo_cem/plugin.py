"""The zoo plugin: registers the ``cem`` agent. The class is named by a string, so torch and
the agent's module are imported only when someone uses the agent, not when the zoo starts."""

from __future__ import annotations

from zoo import hookimpl

#: The zoo plugin API versions this plugin is written for (`zoo plugins` shows it).
zoo_plugin_api = ">=1.2,<2"


@hookimpl
def register_agents(registry) -> None:
    registry.add_agent("cem", "zoo_cem.agent:CrossEntropyMethod",
                       description="cross-entropy method over linear policies (zoo-cem plugin)")
