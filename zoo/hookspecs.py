"""The hooks a zoo plugin can implement.

A plugin is any module named by an entry point in the ``agent_zoo`` group. It implements
one or more of the hooks below with the ``@hookimpl`` marker; each hook receives an object
to register things with, so a plugin never imports the zoo's internals::

    from zoo.hookspecs import hookimpl

    @hookimpl
    def register_envs(registry):
        registry.add_env(name="my-env", gym_id="MyEnv-v0", entry_point="my_pkg.env:MyEnv")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from zoo.registry import AgentRegistry, EnvRegistry

PROJECT_NAME = "agent_zoo"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_envs(registry: EnvRegistry) -> None:
    """Register environments with ``registry.add_env(...)``.

    :param registry: the zoo's env registry; ``add_env`` also registers the env with gymnasium,
        so ``gymnasium.make`` and ``gymnasium.make_vec`` work on its id afterwards.
    """


@hookspec
def register_agents(registry: AgentRegistry) -> None:
    """Register agents with ``registry.add_agent(name, agent_class)``.

    :param registry: the zoo's agent registry; ``agent_class`` is a subclass of
        :class:`zoo.agent.Agent`.
    """


@hookspec
def register_commands(cli: typer.Typer) -> None:
    """Add commands to the ``zoo`` command line.

    :param cli: the root typer application; decorate functions with ``@cli.command()``.
    """
