"""What is installed: ``zoo list`` (envs and agents), ``zoo plugins`` (what every plugin
registered, and what failed) and ``zoo check`` (gymnasium's env checker on zoo envs)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from zoo.cli.app import AsJson, GymPackages, app, command, import_env_names, out, plain_table
from zoo.exceptions import ZooError


def _print_failures(loaded, verb: str) -> None:
    for p in loaded.plugins:
        if p.error:
            out.print(f"[red]plugin {escape(p.name)} ({escape(p.distribution or p.module)}) {verb}:[/] "
                      f"{escape(p.error)}", markup=True, highlight=False, soft_wrap=True)


def _print_deprecations(loaded) -> None:
    for p in loaded.plugins:
        for use in p.deprecations:
            out.print(f"[yellow]plugin {escape(p.name)} ({escape(p.distribution or p.module)}) uses deprecated[/] "
                      f"{escape(use)}", markup=True, highlight=False, soft_wrap=True)


def _list_all(as_json: bool) -> None:
    from zoo.catalog import gymnasium_catalog

    catalog = gymnasium_catalog()
    if as_json:
        out.print_json(json.dumps({"gymnasium": [item.as_dict() for item in catalog]}))
        return
    rows = [[item.gym_id, item.name if item.name != item.gym_id else "-", ", ".join(item.agents) or "-",
             f"cannot be created: {item.error}" if item.error else f"{item.observation_space} -> {item.action_space}"]
            for item in catalog]
    out.print(plain_table("Every gymnasium env", ["gymnasium id", "zoo name", "agents that fit", "spaces"], rows,
                          names=2))


@command("list", output_only=True)
def list_command(
    as_json: AsJson = False,
    all_envs: Annotated[bool, typer.Option("--all", help="every env gymnasium knows, with the agents that fit "
                                                         "its spaces (creates each env once)")] = False,
) -> None:
    """Show every env and agent, with the plugin and package that registered it."""
    from zoo.plugin_loader import loaded_plugins

    if all_envs:
        _list_all(as_json)
        return
    loaded = loaded_plugins()
    dist = {p.name: f"{p.distribution} {p.version}".strip() for p in loaded.plugins}
    if as_json:
        out.print_json(json.dumps({
            "envs": [{"name": e.name, "gym_id": e.gym_id, "aliases": list(e.aliases), "plugin": e.plugin,
                      "package": dist.get(e.plugin, ""), "hardcoded": sorted(e.hardcoded)} for e in loaded.envs],
            "agents": [{"name": a.name, "plugin": a.plugin, "package": dist.get(a.plugin, ""),
                        "description": a.description} for a in loaded.agents],
            "errors": [{"plugin": p.name, "error": p.error} for p in loaded.plugins if p.error],
        }))
        return
    out.print(plain_table("Environments", ["env", "gymnasium id", "hardcoded", "plugin", "package"], [
        [e.name, "\n".join((e.gym_id, *e.aliases)), "\n".join(sorted(e.hardcoded)) or "-", e.plugin,
         dist.get(e.plugin, "")] for e in loaded.envs], names=3))
    out.print(plain_table("Agents", ["agent", "description", "plugin", "package"], [
        [a.name, a.description, a.plugin, dist.get(a.plugin, "")] for a in loaded.agents]))
    _print_failures(loaded, "failed to load")


@command("plugins", output_only=True)
def plugins_command(as_json: AsJson = False) -> None:
    """Show every plugin: package and version, the plugin API versions it supports, hooks, what it
    registered, any load error, and the deprecated import paths it uses."""
    from zoo.plugin_api import API_ATTRIBUTE, PLUGIN_API_VERSION, UNDECLARED
    from zoo.plugin_loader import loaded_plugins

    loaded = loaded_plugins()
    loaded.register_commands(app)  # already done by `zoo` itself; needed from Python/CliRunner
    if as_json:
        out.print_json(json.dumps({"plugin_api": PLUGIN_API_VERSION, "plugins": [p.as_dict() for p in loaded.plugins]}))
        return
    out.print(plain_table("Plugins", ["plugin", "package", "hooks", "envs", "agents", "Hub formats", "commands"], [
        [p.name, f"{p.distribution} {p.version}".strip() or p.module,
         ", ".join(h.removeprefix("register_") for h in p.hooks) or "-",
         *(", ".join(names) or "-" for names in (p.envs, p.agents, p.hub_formats, p.commands))]
        for p in loaded.plugins]))
    out.print(f"This zoo provides plugin API {PLUGIN_API_VERSION}; a plugin that declares no {API_ATTRIBUTE} is "
              f"taken as written for {UNDECLARED}.", highlight=False, soft_wrap=True, markup=False)
    for p in loaded.plugins:
        if p.api is not None:
            out.print(f"plugin {p.name} ({p.distribution or p.module}) declares plugin API {p.api}", highlight=False,
                      soft_wrap=True, markup=False)
    _print_failures(loaded, "failed")
    _print_deprecations(loaded)


@command("check", output_only=True)
def check_command(
    env: Annotated[str | None, typer.Argument(help="env name or gymnasium id", callback=import_env_names)] = None,
    all_envs: Annotated[bool, typer.Option("--all", help="check every registered env")] = False,
    as_json: AsJson = False,
    gym_packages: GymPackages = None,
) -> None:
    """Run gymnasium's env checker on an env (or --all) and report in plain words; exit 1 if one fails."""
    from zoo.tools.checks import check_all_envs, check_env

    if (env is None) == (not all_envs):
        raise ZooError("give an env name or --all (not both)" if env else "give an env name, or --all for every env")
    checks = check_all_envs() if all_envs else [check_env(env)]
    if as_json:
        out.print_json(json.dumps({"checks": [c.as_dict() for c in checks]}))
    else:
        for check in checks:
            out.print(check.summary(), highlight=False, soft_wrap=True, markup=False)
        failed = sum(not c.passed for c in checks)
        if len(checks) > 1:
            out.print(f"{len(checks) - failed} of {len(checks)} envs passed", highlight=False)
    if any(not c.passed for c in checks):
        raise typer.Exit(1)
