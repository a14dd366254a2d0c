"""The hooks a zoo plugin can implement (the specification; docs/plugins.md is the guide).

A plugin is any module named by an entry point in the ``agent_zoo`` group. It implements
one or more of the hooks below with the ``@zoo.hookimpl`` marker; each hook receives an object
to register things with, and everything else a plugin needs is public in ``zoo`` itself::

    import zoo

    @zoo.hookimpl
    def register_envs(registry):
        registry.add_env(name="my-env", gym_id="MyEnv-v0", entry_point="my_pkg.env:MyEnv")

Each hook says the plugin API version that added it (:data:`zoo.PLUGIN_API_VERSION`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zoo.deprecations import forward
from zoo.plugin_api import PROJECT_NAME, hookspec

if TYPE_CHECKING:
    import typer

    from zoo.registration import AgentRegistry, EnvRegistry, HubFormatRegistry

__all__ = ["PROJECT_NAME", "register_agents", "register_commands", "register_envs", "register_hub_formats"]

__getattr__ = forward(__name__)  # hookimpl, which moved to zoo.hookimpl


@hookspec
def register_envs(registry: EnvRegistry) -> None:
    """Register environments with ``registry.add_env(...)``. Since plugin API 1.0.

    Called once per process, when the zoo first needs its plugins. Must not create or run an
    env (that is slow, and ``zoo check`` does it): give ``entry_point`` as a
    ``"module:Class"`` string or a class, and it is built only when used.

    :param registry: the zoo's env registry (:class:`zoo.EnvRegistry`).
        ``registry.add_env(name, gym_id, *, entry_point=None, vector_entry_point=None,
        aliases=(), kwargs=None, max_episode_steps=None, reward_threshold=None, hardcoded=None,
        description="") -> zoo.EnvEntry`` registers an env under a short zoo name and a
        gymnasium id (also registered with gymnasium, so ``gymnasium.make`` and
        ``gymnasium.make_vec`` work on it). ``hardcoded`` maps variant names to fixed policies
        (:class:`zoo.FixedPolicy` makes one; ``"default"`` is used unless asked). A name or id
        that is already taken raises :class:`zoo.ZooError`, and none of this plugin's
        registrations are kept.
    """


@hookspec
def register_agents(registry: AgentRegistry) -> None:
    """Register agents with ``registry.add_agent(...)``. Since plugin API 1.0.

    Called once per process, after ``register_envs`` of the same plugin.

    :param registry: the zoo's agent registry (:class:`zoo.AgentRegistry`).
        ``registry.add_agent(name, agent_class, *, description="") -> zoo.AgentEntry`` registers
        a subclass of :class:`zoo.Agent`, given as the class or as a ``"module:Class"`` string
        (imported only when the agent is first used, which keeps heavy imports such as torch out
        of ``zoo list``). A taken name raises :class:`zoo.ZooError`, and none of this plugin's
        registrations are kept.
    """


@hookspec
def register_hub_formats(registry: HubFormatRegistry) -> None:
    """Teach ``zoo eval hub:ORG/NAME`` (and :func:`zoo.load_hub_policy`) a layout of Hub repo.
    Since plugin API 1.1.

    Called once per process, after ``register_agents`` of the same plugin. The zoo's own
    checkpoints need no plugin; formats are tried in the order plugins registered them.

    :param registry: the zoo's Hub format registry (:class:`zoo.HubFormatRegistry`).
        ``registry.add_format(name, *, detect, load, description="") -> zoo.HubFormatEntry``
        registers a format: ``detect(files: list[str]) -> bool`` gets the repo's file paths
        (relative, ``/``-separated) and says whether the repo is in this format, from the names
        alone; ``load(repo: zoo.HubRepo) -> zoo.HubPolicy`` gets the downloaded repo (its
        folder, its files, what the user asked for, and the checks every format needs:
        ``require_trust``, ``check_agent``, ``pick_env``, ``check_spaces``, ``read_json``,
        ``card_env``). Either may be a ``"module:function"`` string, imported only when a repo
        is loaded. A loader that unpickles must call ``repo.require_trust(file)`` first. A taken
        name raises :class:`zoo.ZooError`, and none of this plugin's registrations are kept.
    """


@hookspec
def register_commands(cli: typer.Typer) -> None:
    """Add commands to the ``zoo`` command line. Since plugin API 1.0.

    Called when the ``zoo`` command starts, after every plugin's envs, agents and Hub formats
    are registered. A command whose name is taken (``train``, or another plugin's) is refused
    and everything this hook added is taken back.

    :param cli: the root typer application; decorate functions with ``@cli.command()`` (or
        add a group with ``cli.add_typer(...)``), and import what a command needs inside it so
        that ``zoo --help`` stays fast.
    """
