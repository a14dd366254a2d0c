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

    from zoo.registry import AgentRegistry, EnvRegistry, HubFormatRegistry

PROJECT_NAME = "agent_zoo"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_envs(registry: EnvRegistry) -> None:
    """Register environments with ``registry.add_env(...)``.

    Called once per process, when the zoo first needs its plugins. Must not create or run an
    env (that is slow, and ``zoo check`` does it): give ``entry_point`` as a
    ``"module:Class"`` string or a class, and it is built only when used.

    :param registry: the zoo's env registry. ``registry.add_env(name, gym_id, *, entry_point=None,
        vector_entry_point=None, aliases=(), kwargs=None, max_episode_steps=None,
        reward_threshold=None, hardcoded=None, description="")`` registers an env under a short
        zoo name and a gymnasium id (also registered with gymnasium, so ``gymnasium.make`` and
        ``gymnasium.make_vec`` work on it). ``hardcoded`` maps variant names to fixed policies
        (``"default"`` is used unless asked). A name or id that is already taken raises
        :class:`zoo.errors.ZooError`, and none of this plugin's envs or agents are kept.
    """


@hookspec
def register_agents(registry: AgentRegistry) -> None:
    """Register agents with ``registry.add_agent(...)``.

    Called once per process, after ``register_envs`` of the same plugin.

    :param registry: the zoo's agent registry. ``registry.add_agent(name, agent_class, *,
        description="")`` registers a subclass of :class:`zoo.contract.Agent`, given as the class
        or as a ``"module:Class"`` string (imported only when the agent is first used, which
        keeps heavy imports such as torch out of ``zoo list``). A taken name raises
        :class:`zoo.errors.ZooError`, and none of this plugin's envs or agents are kept.
    """


@hookspec
def register_hub_formats(registry: HubFormatRegistry) -> None:
    """Teach ``zoo eval --from-hub`` (and ``zoo.hub.load_hub_policy``) a layout of Hub repo.

    Called once per process, after ``register_agents`` of the same plugin. The zoo's own
    checkpoints need no plugin; formats are tried in the order plugins registered them.

    :param registry: the zoo's Hub format registry. ``registry.add_format(name, *, detect, load,
        description="")`` registers a format: ``detect(files)`` gets the repo's file paths
        (relative, ``/``-separated) and says whether the repo is in this format, from the names
        alone; ``load(repo)`` gets a :class:`zoo.hub.HubRepo` (the downloaded folder, its files,
        what the user asked for, and checks: ``require_trust``, ``check_agent``, ``pick_env``,
        ``check_spaces``, ``read_json``, ``card_env``) and returns a :class:`zoo.hub.HubPolicy`.
        Either may be a ``"module:function"`` string, imported only when a repo is loaded.
        A loader that unpickles must call ``repo.require_trust(file)`` first. A taken name
        raises :class:`zoo.errors.ZooError`, and none of this plugin's registrations are kept.
    """


@hookspec
def register_commands(cli: typer.Typer) -> None:
    """Add commands to the ``zoo`` command line.

    Called when the ``zoo`` command starts, after every plugin's envs and agents are
    registered. A command whose name is taken (``train``, or another plugin's) is refused and
    everything this hook added is taken back.

    :param cli: the root typer application; decorate functions with ``@cli.command()`` (or
        add a group with ``cli.add_typer(...)``).
    """
