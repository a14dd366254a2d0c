"""``zoo pretrained`` and ``zoo build-pretrained``: the shipped collection of trained agents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from zoo.cli import command, out


@command("pretrained")
def pretrained_command(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False) -> None:
    """List the trained checkpoints shipped with the installed plugins and their scores."""
    from zoo.pretrained import collection

    items = collection()
    if as_json:
        out.print_json(json.dumps([{"agent": p.agent, "env": p.env, "gym_id": p.gym_id, "path": str(p.path),
                                    "evaluation": p.evaluation, "trained": p.meta.get("trained", {})}
                                   for p in items]))
        return
    table = Table("agent", "env", "mean ± std (episodes)", "training steps", "training time", title="Pretrained agents")
    for p in items:
        ev, tr = p.evaluation, p.meta.get("trained", {})
        table.add_row(p.agent, p.gym_id, f"{ev.get('mean', float('nan')):.1f} ± {ev.get('std', float('nan')):.1f} ({ev.get('episodes', '?')})",
                      str(tr.get("env_steps", "?")), f"{tr.get('seconds', float('nan')):.0f} s")
    out.print(table)


@command("build-pretrained")
def build_pretrained(
    agent: Annotated[str, typer.Argument(help="agent name")],
    env: Annotated[str, typer.Argument(help="env name")],
    out_root: Annotated[Path, typer.Option("--out", help="collection folder, e.g. agents/pretrained")],
    seed: Annotated[int, typer.Option(help="training seed")] = 0,
    steps: Annotated[Optional[int], typer.Option(min=1, help="env steps (default: the agent's budget)")] = None,
) -> None:
    """Train, evaluate (100 episodes) and save a checkpoint for the shipped collection."""
    from zoo.checkpoint import read_meta
    from zoo.pretrained import build

    path = build(agent, env, out_root, seed=seed, steps=steps)
    ev = read_meta(path)["evaluation"]
    out.print(f"{path}: mean {ev['mean']:.2f} ± {ev['std']:.2f} over {ev['episodes']} episodes")
