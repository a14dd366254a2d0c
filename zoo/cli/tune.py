"""``zoo tune``: hyperparameter search with Optuna (see :mod:`zoo.tools.tune`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from zoo.cli.app import AsJson, command, err, import_env_names, out, print_error

#: Exit code when every trial of the run failed (user mistakes exit with 2).
EXIT_TRIALS_FAILED = 1


@command()
def tune(
    agent: Annotated[str, typer.Argument(help="agent name, e.g. reinforce-baseline")],
    env: Annotated[str, typer.Argument(help="env name or gymnasium id", callback=import_env_names)],
    trials: Annotated[int, typer.Option(help="trials to run now (a rerun adds more to the same study)")] = 20,
    budget: Annotated[int | None, typer.Option(
        metavar="STEPS", help="env steps of training per seed (default: the agent's budget for the env)")] = None,
    seeds: Annotated[int, typer.Option(help="seeds per trial; the objective is their mean")] = 2,
    objective: Annotated[str, typer.Option(help="mean-return (maximised) or steps-to-threshold (minimised)")] = (
        "mean-return"),
    threshold: Annotated[float | None, typer.Option(
        help="return to reach, for steps-to-threshold (default: the env's reward threshold)")] = None,
    eval_every: Annotated[int | None, typer.Option(
        "--eval-every", metavar="STEPS", help="evaluate during training this often; the pruner sees these "
        "(default: a fifth of the budget)")] = None,
    eval_episodes: Annotated[int, typer.Option("--eval-episodes", help="episodes per evaluation")] = 10,
    storage: Annotated[str | None, typer.Option(
        help="Optuna storage URL shared by every worker and machine (default: sqlite in --out)")] = None,
    study: Annotated[str | None, typer.Option(help="study name (default AGENT__ENV)")] = None,
    workers: Annotated[int, typer.Option(help="trials run at the same time")] = 1,
    backend: Annotated[str, typer.Option(help="local (worker processes) or ray (Ray tasks)")] = "local",
    address: Annotated[str | None, typer.Option(help="Ray cluster for --backend ray (default: a local one)")] = None,
    sampler_seed: Annotated[int, typer.Option("--sampler-seed", help="seed of the TPE sampler")] = 0,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="folder for trials, trials.csv, best.toml, plots (default tunes/AGENT__ENV__TIME)")] = None,
    as_json: AsJson = False,
) -> None:
    """Search an agent's hyperparameters with Optuna (TPE, median pruning): the space is the
    agent's data; the study lives in a database, so a rerun continues it. Ctrl-C stops after the
    running trials; a second Ctrl-C (or SIGTERM) stops them too."""
    from zoo.execution import check_backend
    from zoo.tools.tune import plan_tune, run_tune, summary

    check_backend(backend, workers=workers, address=address)
    plan = plan_tune(agent, env, trials=trials, budget=budget, seeds=seeds, eval_every=eval_every,
                     eval_episodes=eval_episodes, objective=objective, threshold=threshold, storage=storage,
                     study=study, out=out_dir, sampler_seed=sampler_seed)
    def started(study: Any) -> None:
        err.print(f"study {plan.study} in {plan.storage} ({len(study.trials)} trials so far): {trials} more of "
                  f"{len(plan.seeds)} seed(s) × {plan.budget} steps, {workers} at a time ({backend})",
                  markup=False, highlight=False, soft_wrap=True)

    def show(outcome: dict[str, Any]) -> None:
        value = "" if outcome["value"] is None else f" {outcome['value']:.4g}"
        error = f": {outcome['error']}" if outcome.get("error") else ""
        err.print(f"trial {outcome['number']}: {outcome['state']}{value} in {outcome['seconds']:.1f} s "
                  f"{outcome['params']}{error}", markup=False, highlight=False, soft_wrap=True)

    result = run_tune(plan, backend=backend, workers=workers, address=address,  # type: ignore[arg-type]
                      on_trial=show, on_start=started)
    found = summary(result.study)
    if as_json:
        out.print_json(json.dumps({**found, "files": {k: str(v) for k, v in result.files.items()}}))
    else:
        best = found["best"]
        out.print(f"trials: {found['trials']}", markup=False, highlight=False)
        if best is not None:
            out.print(f"best: trial {best['number']}, {plan.objective} {best['value']:.4g}, {best['params']}",
                      markup=False, highlight=False)
        for name, path in result.files.items():
            out.print(f"{name}: {path}", markup=False, highlight=False)
    if result.stopped is not None:
        err.print(f"interrupted ({result.stopped.name}): the study resumes with the same --storage and --study "
                  f"({plan.storage})", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(result.stopped.exit_code)
    if result.all_failed:
        first = next(o.get("error") for o in result.finished)
        print_error(f"all {len(result.finished)} trials of this run failed (the first: {first}); the study holds no "
                    "result of them")
        raise typer.Exit(EXIT_TRIALS_FAILED)
