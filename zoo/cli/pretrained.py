"""``zoo pretrained`` and ``zoo build-pretrained``: the shipped collection of trained agents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from zoo.cli.app import AsJson, command, import_env_names, out, plain_table


@command("pretrained", output_only=True)
def pretrained_command(as_json: AsJson = False) -> None:
    """List the trained checkpoints shipped with the installed plugins and their scores."""
    from zoo.tools.pretrained import collection

    items = collection()
    if as_json:
        out.print_json(json.dumps([{"agent": p.agent, "env": p.env, "gym_id": p.gym_id, "path": str(p.path),
                                    "evaluation": p.evaluation, "trained": p.meta.get("trained", {})}
                                   for p in items]))
        return
    rows = []
    for p in items:
        ev, tr = p.evaluation, p.meta.get("trained", {})
        score = f"{ev.get('mean', float('nan')):.1f} ± {ev.get('std', float('nan')):.1f} ({ev.get('episodes', '?')})"
        rows.append([p.agent, p.gym_id, score, tr.get("env_steps", "?"), f"{tr.get('seconds', float('nan')):.0f} s"])
    out.print(plain_table("Pretrained agents",
                          ["agent", "env", "mean ± std (episodes)", "training steps", "training time"], rows,
                          names=2))


@command("build-pretrained")
def build_pretrained(
    agent: Annotated[str, typer.Argument(help="agent name")],
    env: Annotated[str, typer.Argument(help="env name", callback=import_env_names)],
    out_root: Annotated[Path, typer.Option("--out", help="collection folder, e.g. agents/pretrained")],
    seed: Annotated[int, typer.Option(help="training seed")] = 0,
    steps: Annotated[int | None, typer.Option(min=1, help="env steps (default: the agent's budget)")] = None,
) -> None:
    """Train, evaluate (100 episodes) and save a checkpoint for the shipped collection."""
    from zoo.checkpoint import read_meta
    from zoo.tools.pretrained import build

    path = build(agent, env, out_root, seed=seed, steps=steps)
    ev = read_meta(path)["evaluation"]
    out.print(f"{path}: mean {ev['mean']:.2f} ± {ev['std']:.2f} over {ev['episodes']} episodes")


@command("push-pretrained")
def push_pretrained(
    org: Annotated[str, typer.Option(help="Hub organisation or user to publish under")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show what would be pushed; send nothing")] = False,
    eval_episodes: Annotated[int, typer.Option(min=1, help="evaluation episodes for each card")] = 100,
    video: Annotated[bool, typer.Option("--video/--no-video", help="record a replay for each repo")] = True,
    private: Annotated[bool, typer.Option("--private", help="create private repos")] = False,
) -> None:
    """Publish the whole shipped collection: one Hub repo per agent × env, as `zoo push` does."""
    from zoo.tools.pretrained import push_collection

    for repo_id, item, result in push_collection(org, dry_run=dry_run, eval_episodes=eval_episodes,
                                                  video=video, private=private):
        if result is None:
            out.print(f"would push {item.path} -> {repo_id}")
        else:
            state = "pushed" if result.changed else "unchanged"
            mean = result.results.get("mean_reward", float("nan"))
            out.print(f"{state} {item.agent} on {item.gym_id} -> {repo_id} ({mean:.2f})", markup=False)
