"""``zoo train``: train an agent into a run folder, or continue one with ``--resume``."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from zoo.cli.app import Seed, SetOption, command, err, out
from zoo.errors import ZooError

#: Options fixed when a run starts: ``--resume`` refuses them.
_FIXED_ON_RESUME = {"seed": "--seed", "out_dir": "--out", "set_": "--set", "max_steps": "--max-steps"}


def command_line(ctx: typer.Context) -> list[str]:
    """The running command as canonical arguments (what to type to run it again)."""
    words = ["zoo", ctx.info_name or ""]
    for param in sorted(ctx.command.params, key=lambda p: p.param_type_name != "argument"):
        value = ctx.params.get(param.name)
        if value is None or value is False:
            continue
        if param.param_type_name == "argument":
            words.append(str(value))
        elif isinstance(value, (list, tuple)):
            for item in value:
                words += [param.opts[0], str(item)]
        elif value is True:
            words.append(param.opts[0])
        else:
            words += [param.opts[0], str(value)]
    return words


def _resume_session(ctx: typer.Context, run_dir: Path, agent: str | None, env: str | None,
                    totals: dict[str, Any], saving: dict[str, Any]) -> tuple[Any, str]:
    from zoo.training import continue_run

    fixed = [name for name, value in (("AGENT", agent), ("ENV", env)) if value is not None]
    fixed += [flag for param, flag in _FIXED_ON_RESUME.items() if ctx.get_parameter_source(param).name != "DEFAULT"]
    if fixed:
        raise ZooError(f"--resume continues a run as it was started, so {', '.join(fixed)} cannot be given with it; "
                       "only --episodes/--steps (a new total), --checkpoint-every and --keep")
    argv = ["zoo", "train", "--resume", str(run_dir)]
    given = (("--episodes", totals["episodes"]), ("--steps", totals["steps"]),
             ("--checkpoint-every", saving.get("checkpoint_every")), ("--keep", saving.get("keep_checkpoints")))
    for flag, value in given:
        argv += [flag, str(value)] if value is not None else []
    session = continue_run(run_dir, argv=argv, **totals, **saving)
    return session, f"resuming {session.learner.name} on {session.learner.env.name}"


def _run_with_progress(session: Any, label: str) -> Any:
    """Train, showing a progress bar on stderr; only called for a run that was fully checked."""
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=err,
                  transient=False) as bar:
        task = bar.add_task(escape(label), total=1.0, status="",
                            completed=session.budget.fraction(len(session.rows), session.env_steps))

        def show(p) -> None:
            mean = "-" if p.running_mean is None else f"{p.running_mean:.1f}"
            bar.update(task, completed=p.fraction,
                       status=f"episodes {p.episodes}  steps {p.env_steps}  mean return (100) {mean}")

        try:
            return session.run(show)
        except BaseException:
            bar.live.transient = True  # the error, one line, is what there is to read now
            raise


def _report(result: Any) -> None:
    out.print(f"run folder: {result.run_dir}", markup=False)
    out.print(f"checkpoint: {result.checkpoint}", markup=False)
    out.print(f"{result.episodes} episodes, {result.env_steps} env steps in {result.seconds:.1f} s")
    if result.interrupted:
        name = signal.Signals(result.stop_signal).name if result.stop_signal else "a signal"
        err.print(f"interrupted by {name}: saved the checkpoint above; continue with: "
                  f"zoo train --resume {result.run_dir}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(128 + (result.stop_signal or 0))


@command()
def train(
    ctx: typer.Context,
    agent: Annotated[str | None, typer.Argument(help="agent name, e.g. reinforce")] = None,
    env: Annotated[str | None, typer.Argument(help="env name or gymnasium id, e.g. cartpole")] = None,
    seed: Seed = 0,
    episodes: Annotated[int | None, typer.Option(help="stop after this many episodes")] = None,
    steps: Annotated[int | None, typer.Option(help="stop after this many env steps")] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="run folder (default runs/AGENT__ENV__SEED__TIME)")] = None,
    set_: SetOption = None,
    max_steps: Annotated[int | None, typer.Option(
        "--max-steps", help="cap on steps per episode (envs without a time limit default to 10000)")] = None,
    resume: Annotated[Path | None, typer.Option(
        "--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its newest checkpoint, to its "
        "budget (or to --episodes/--steps in total)")] = None,
    checkpoint_every: Annotated[float | None, typer.Option(
        "--checkpoint-every", metavar="SECONDS", help="save a checkpoint this often; 0: after every iteration "
        "(default 60)")] = None,
    keep: Annotated[int | None, typer.Option(
        "--keep", metavar="K", help="keep the newest K checkpoints (default 3)")] = None,
) -> None:
    """Train an agent; writes a run folder with checkpoints, config, returns CSV and curve.

    Ctrl-C or SIGTERM stops after the current iteration and saves a checkpoint;
    `zoo train --resume RUN_DIR` continues exactly where it stopped."""
    from zoo.config import parse_overrides
    from zoo.training import start

    saving = {k: v for k, v in (("checkpoint_every", checkpoint_every), ("keep_checkpoints", keep)) if v is not None}
    totals = {"episodes": episodes, "steps": steps}
    if resume is not None:
        session, label = _resume_session(ctx, resume, agent, env, totals, saving)
    else:
        if agent is None or env is None:
            raise ZooError("name what to train: zoo train AGENT ENV (or continue a run: zoo train --resume RUN_DIR)")
        session = start(agent, env, seed=seed, out=out_dir, overrides=parse_overrides(set_ or []),
                        max_episode_steps=max_steps, argv=command_line(ctx), **totals, **saving)
        label = f"{agent} on {env}"
    _report(_run_with_progress(session, label))
