"""``zoo plugins`` (what every plugin registered, and what failed) and ``zoo check`` (gymnasium's
env checker on zoo envs): thin commands over :mod:`zoo.plugins` and :mod:`zoo.testing`."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from zoo.cli import app, command, out
from zoo.errors import ZooError

AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output")]


@command("plugins")
def plugins_command(as_json: AsJson = False) -> None:
    """Show every plugin: package and version, hooks, what it registered, and any load error."""
    from zoo.plugins import loaded_plugins

    loaded = loaded_plugins()
    loaded.register_commands(app)  # already done by `zoo` itself; needed from Python/CliRunner
    if as_json:
        out.print_json(json.dumps({"plugins": [p.as_dict() for p in loaded.plugins]}))
        return
    table = Table("plugin", "package", "hooks", "envs", "agents", "commands", title="Plugins")
    for p in loaded.plugins:
        hooks = ", ".join(h.removeprefix("register_") for h in p.hooks) or "-"
        table.add_row(p.name, f"{p.distribution} {p.version}".strip() or p.module, hooks,
                      ", ".join(p.envs) or "-", ", ".join(p.agents) or "-", ", ".join(p.commands) or "-")
    out.print(table)
    for p in loaded.plugins:
        if p.error:
            out.print(f"[red]plugin {p.name} ({p.distribution or p.module}) failed:[/] {escape(p.error)}",
                      highlight=False, soft_wrap=True)


@command("check")
def check_command(
    env: Annotated[Optional[str], typer.Argument(help="env name or gymnasium id")] = None,
    all_envs: Annotated[bool, typer.Option("--all", help="check every registered env")] = False,
    as_json: AsJson = False,
) -> None:
    """Run gymnasium's env checker on an env (or --all) and report in plain words; exit 1 if one fails."""
    from zoo.testing import check_all_envs, check_env

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
