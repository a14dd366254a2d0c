"""``zoo sweep``: train and evaluate agents × envs × settings × seeds (see :mod:`zoo.tools.sweep`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from zoo.cli.app import AsJson, command, err, import_env_names, out, print_markdown

#: Exit code when the sweep finished but some runs failed (user mistakes exit with 2).
EXIT_RUNS_FAILED = 1


@command()
def sweep(
    agents: Annotated[str, typer.Option(help="comma-separated agent names, e.g. reinforce,reinforce-baseline")],
    envs: Annotated[str, typer.Option(help="comma-separated env names, e.g. cartpole", callback=import_env_names)],
    seeds: Annotated[str | None, typer.Option(
        help="seeds: a range 0-9, a list 0,3,5, or both 0-4,9 (default: the --config file's seed, else 0)")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=V1,V2", help="hyperparameter values to sweep (a grid over all --set); one value is "
        "spelt as in zoo train (net_arch=64,64); several tuples are bracketed: net_arch=[64,64],[32]")] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", metavar="FILE", help="hyperparameters and budget from a TOML or YAML file, as zoo train "
        "--config (the grid and --train-steps override it)")] = None,
    train_steps: Annotated[int | None, typer.Option(
        help="env steps of training per run (default: each agent's budget for the env)")] = None,
    eval_episodes: Annotated[int, typer.Option(help="evaluation episodes on each final checkpoint")] = 10,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="sweep folder (default sweeps/sweep-TIME); rerun with the same --out to resume")] = None,
    backend: Annotated[str, typer.Option(help="local (process pool) or ray")] = "local",
    address: Annotated[str | None, typer.Option(
        help="Ray cluster to use, e.g. auto or HEAD:6379 (default: start a local one)")] = None,
    workers: Annotated[int | None, typer.Option(
        help="parallel runs (default: the cores; with --address, a cap on runs in flight)")] = None,
    as_json: AsJson = False,
) -> None:
    """Train and evaluate every combination, each in its own run folder; writes results.csv,
    results.json, summary.md and summary.png. Runs already done are skipped. Ctrl-C stops after
    the running runs; a second Ctrl-C (or SIGTERM) stops them too."""
    from zoo.execution import check_backend
    from zoo.tools.sweep import parse_grid, plan_sweep, run_sweep, tuple_keys

    check_backend(backend, workers=workers, address=address)
    if seeds is None:
        from zoo.config_file import read_config_file, zoo_seed

        seeds = str(zoo_seed(read_config_file(config)) or 0) if config is not None else "0"
    plan = plan_sweep(agents, envs, seeds, grid=parse_grid(set_ or [], tuple_keys(agents)), train_steps=train_steps,
                      eval_episodes=eval_episodes, out=out_dir, config_file=config)

    def start(todo: int) -> None:
        err.print(f"sweep of {len(plan.runs)} runs in {plan.out} ({backend} backend)", highlight=False, soft_wrap=True)

    def show(result: dict[str, Any], done: int, total: int) -> None:
        if result["status"] == "ok":
            ev = result["eval"]
            line = f"mean return {ev['mean']:.2f} ± {ev['std']:.2f} in {result['seconds']:.1f} s"
        else:
            line = f"[red]failed:[/] {escape(str(result['error']))}"
        where = escape(f"[{done}/{total}] {result['run_id']}")
        err.print(f"{where}: {line}", markup=True, highlight=False, soft_wrap=True)

    def held(spec: Any) -> None:
        err.print(f"{spec.run_id}: held by another process (another sweep on this --out?); done last, once it lets go",
                  markup=False, highlight=False, soft_wrap=True)

    outcome = run_sweep(plan, backend=backend, workers=workers, address=address,  # type: ignore[arg-type]
                        on_result=show, on_start=start, on_held=held)
    if outcome.skipped:
        err.print(f"{outcome.skipped} runs already had results and were skipped")
    if as_json:
        out.print_json(outcome.tables["results.json"].read_text(encoding="utf-8"))
    else:
        print_markdown(outcome.tables["summary.md"].read_text(encoding="utf-8"))
        for name, path in outcome.tables.items():
            out.print(f"{name}: {path}", markup=False, highlight=False, soft_wrap=True)
    if outcome.stopped is not None:
        err.print(f"interrupted ({outcome.stopped.name}): {len(outcome.results)} of {len(plan.runs)} runs have a "
                  f"result; rerun with --out {plan.out} to finish", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(outcome.stopped.exit_code)
    if outcome.failed:
        err.print(f"[red]{len(outcome.failed)} of {len(outcome.results)} runs failed[/] "
                  f"(rerun with --out {escape(str(plan.out))} to retry only those)", markup=True, soft_wrap=True)
        raise typer.Exit(EXIT_RUNS_FAILED)
