"""The ``zoo`` command line: thin commands over the Python API."""

from __future__ import annotations

import functools
import importlib
import json
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from zoo.errors import ZooError

app = typer.Typer(
    name="zoo",
    help="agent-zoo: train, evaluate, record and share reinforcement-learning agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)  # long lines (paths, summaries) stay whole when piped
err = Console(stderr=True)

EXIT_USER_ERROR = 2


def _warn_one_line(message, category, filename, lineno, file=None, line=None) -> None:
    err.print(f"[yellow]warning:[/] {escape(str(message))}", markup=True, highlight=False, soft_wrap=True)


def user_errors(command: Callable) -> Callable:
    """Turn a :class:`ZooError` into one line on stderr and exit code 2 (no traceback)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ZooError as exc:
            err.print(f"[red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from None

    return wrapper


def command(*args: Any, **kwargs: Any) -> Callable:
    """``app.command`` with user-error handling; use it for every zoo command."""

    def decorate(fn: Callable) -> Callable:
        return app.command(*args, **kwargs)(user_errors(fn))

    return decorate


Seed = Annotated[int, typer.Option(help="random seed (same seed, same result)")]
MaxSteps = Annotated[Optional[int], typer.Option("--max-steps", min=1,
                     help="cap on steps per episode (envs without a time limit default to 10000)")]
SetOption = Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE",
                      help="override a hyperparameter; repeatable")]


@command("list")
def list_command(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False) -> None:
    """Show every env and agent, with the plugin and package that registered it."""
    from zoo.plugins import loaded_plugins

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
    envs = Table("env", "gymnasium id", "hardcoded", "plugin", "package", title="Environments")
    for e in loaded.envs:
        envs.add_row(e.name, ", ".join((e.gym_id, *e.aliases)), ", ".join(sorted(e.hardcoded)) or "-",
                     e.plugin, dist.get(e.plugin, ""))
    agents = Table("agent", "description", "plugin", "package", title="Agents")
    for a in loaded.agents:
        agents.add_row(a.name, a.description, a.plugin, dist.get(a.plugin, ""))
    out.print(envs)
    out.print(agents)
    for p in loaded.plugins:
        if p.error:
            out.print(f"[red]plugin {p.name} ({p.distribution or p.module}) failed to load:[/] {escape(p.error)}",
                      highlight=False, soft_wrap=True)


@command()
def train(
    ctx: typer.Context,
    agent: Annotated[Optional[str], typer.Argument(help="agent name, e.g. reinforce")] = None,
    env: Annotated[Optional[str], typer.Argument(help="env name or gymnasium id, e.g. cartpole")] = None,
    seed: Seed = 0,
    episodes: Annotated[Optional[int], typer.Option(help="stop after this many episodes")] = None,
    steps: Annotated[Optional[int], typer.Option(help="stop after this many env steps")] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="run folder (default runs/AGENT__ENV__SEED__TIME)")] = None,
    set_: SetOption = None,
    max_steps: Annotated[Optional[int], typer.Option(
        "--max-steps", help="cap on steps per episode (envs without a time limit default to 10000)")] = None,
    resume: Annotated[Optional[Path], typer.Option(
        "--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its newest checkpoint, to its "
        "budget (or to --episodes/--steps in total)")] = None,
    checkpoint_every: Annotated[Optional[float], typer.Option(
        "--checkpoint-every", metavar="SECONDS", help="save a checkpoint this often; 0: after every iteration "
        "(default 60)")] = None,
    keep: Annotated[Optional[int], typer.Option(
        "--keep", metavar="K", help="keep the newest K checkpoints (default 3)")] = None,
) -> None:
    """Train an agent; writes a run folder with checkpoints, config, returns CSV and curve.

    Ctrl-C or SIGTERM stops after the current iteration and saves a checkpoint;
    `zoo train --resume RUN_DIR` continues exactly where it stopped."""
    import signal

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from zoo import training
    from zoo.config import parse_overrides

    saving = {k: v for k, v in (("checkpoint_every", checkpoint_every), ("keep_checkpoints", keep)) if v is not None}
    if resume is not None:
        options = {"seed": "--seed", "out_dir": "--out", "set_": "--set", "max_steps": "--max-steps"}
        fixed = [name for name, value in (("AGENT", agent), ("ENV", env)) if value is not None]
        fixed += [flag for param, flag in options.items() if ctx.get_parameter_source(param).name != "DEFAULT"]
        if fixed:
            raise ZooError(f"--resume continues a run as it was started, so {', '.join(fixed)} cannot be given with it; "
                           "only --episodes/--steps (a new total), --checkpoint-every and --keep")
        argv = ["zoo", "train", "--resume", str(resume)]
        for flag, value in (("--episodes", episodes), ("--steps", steps), ("--checkpoint-every", checkpoint_every),
                            ("--keep", keep)):
            argv += [flag, str(value)] if value is not None else []
        session = training.continue_run(resume, episodes=episodes, steps=steps, argv=argv, **saving)
        label = f"resuming {session.learner.name} on {session.learner.env.name}"
    else:
        if agent is None or env is None:
            raise ZooError("name what to train: zoo train AGENT ENV (or continue a run: zoo train --resume RUN_DIR)")
        session = training.start(agent, env, seed=seed, episodes=episodes, steps=steps, out=out_dir,
                                 overrides=parse_overrides(set_ or []), max_episode_steps=max_steps,
                                 argv=_command_line(ctx), **saving)
        label = f"{agent} on {env}"
    # Everything was checked above: the progress bar starts only for a run that goes ahead.
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=err,
                  transient=False) as bar:
        task = bar.add_task(label, total=1.0, status="",
                            completed=session.budget.fraction(len(session.rows), session.env_steps))

        def show(p) -> None:
            mean = "-" if p.running_mean is None else f"{p.running_mean:.1f}"
            bar.update(task, completed=p.fraction,
                       status=f"episodes {p.episodes}  steps {p.env_steps}  mean return (100) {mean}")

        result = session.run(show)
    out.print(f"run folder: {result.run_dir}")
    out.print(f"checkpoint: {result.checkpoint}")
    out.print(f"{result.episodes} episodes, {result.env_steps} env steps in {result.seconds:.1f} s")
    if result.interrupted:
        name = signal.Signals(result.stop_signal).name if result.stop_signal else "a signal"
        err.print(f"interrupted by {name}: saved the checkpoint above; continue with: "
                  f"zoo train --resume {result.run_dir}", highlight=False, soft_wrap=True)
        raise typer.Exit(128 + (result.stop_signal or 0))


def _command_line(ctx: typer.Context) -> list[str]:
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


HUB_PREFIX = "hub:"


def resolve_policy(agent: str | None, env: str | None, checkpoint: Path | None, *, from_hub: str | None = None,
                   revision: str | None = None, trust_remote_code: bool = False) -> tuple[Any, str, str]:
    """The policy to run, the env to run it on, and a line saying where it came from.

    ``agent`` may be ``hub:ORG/NAME``, like ``from_hub``: a Hub model names its own agent and env
    (``agent`` and ``env``, when given, must match them)."""
    from zoo.factory import load_agent, make_agent

    if agent is not None and agent.startswith(HUB_PREFIX):
        if from_hub is not None:
            raise ZooError("name the Hub repo once: hub:ORG/NAME or --from-hub ORG/NAME")
        from_hub, agent = agent[len(HUB_PREFIX):], None
    if from_hub is not None:
        if checkpoint is not None:
            raise ZooError("--checkpoint and --from-hub both name the policy to run: give one of them")
        from zoo.hub import load_hub_policy

        found = load_hub_policy(from_hub, revision=revision, trust_remote_code=trust_remote_code, agent=agent, env=env)
        return found.policy, found.env, found.source
    if revision is not None:
        raise ZooError("--revision applies to a Hub repo: add --from-hub ORG/NAME")
    if agent is None or env is None:
        raise ZooError("name what to run: AGENT ENV (trained: add --checkpoint RUN_DIR), or --from-hub ORG/NAME")
    if checkpoint is not None:
        return load_agent(checkpoint, agent=agent, env=env), env, f"checkpoint {checkpoint}"
    policy = make_agent(agent, env)
    if not policy.learns:
        return policy, env, f"{policy.name} policy"
    from zoo.pretrained import find

    shipped = find(agent, env)
    if shipped is None:
        raise ZooError(f"agent {policy.name!r} has no pretrained checkpoint for {env!r}: pass --checkpoint RUN_DIR "
                       f"(from `zoo train {agent} {env}`)")
    ev = shipped.evaluation
    return (load_agent(shipped.path, agent=agent, env=env), env,
            f"the pretrained checkpoint shipped with agent-zoo ({shipped.path.name}, recorded "
            f"{ev.get('mean', float('nan')):.1f} ± {ev.get('std', float('nan')):.1f} over {ev.get('episodes', '?')} episodes)")


@command("eval")
def eval_command(
    agent: Annotated[Optional[str], typer.Argument(help="agent name, or hub:ORG/NAME")] = None,
    env: Annotated[Optional[str], typer.Argument(help="env name or gymnasium id (a Hub model names its own)")] = None,
    checkpoint: Annotated[Optional[Path], typer.Option(help="checkpoint or run folder")] = None,
    from_hub: Annotated[Optional[str], typer.Option("--from-hub", metavar="ORG/NAME",
                        help="pull a model from the Hugging Face Hub and evaluate it")] = None,
    revision: Annotated[Optional[str], typer.Option(help="branch, tag or commit of the Hub repo")] = None,
    trust_remote_code: Annotated[bool, typer.Option("--trust-remote-code",
                                 help="allow loading pickled models (SB3 zips, course model.pt): runs their code")] = False,
    episodes: Annotated[int, typer.Option(min=1, help="evaluation episodes")] = 10,
    seed: Seed = 0,
    deterministic: Annotated[bool, typer.Option("--deterministic/--stochastic",
                             help="greedy actions, or sample from the policy")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    max_steps: MaxSteps = None,
) -> None:
    """Evaluate an agent with stable-baselines3's evaluate_policy: mean ± std, min, max, lengths."""
    from zoo.evaluation import evaluate

    policy, env, source = resolve_policy(agent, env, checkpoint, from_hub=from_hub, revision=revision,
                                         trust_remote_code=trust_remote_code)
    if not as_json:
        out.print(f"evaluating {source} on {env}")
    result = evaluate(policy, env, episodes=episodes, seed=seed, deterministic=deterministic,
                      max_episode_steps=max_steps)
    if as_json:
        out.print_json(json.dumps({"source": source, **result.as_dict()}))
    else:
        out.print(result.summary())


@command()
def record(
    agent: Annotated[str, typer.Argument(help="agent name")],
    env: Annotated[str, typer.Argument(help="env name or gymnasium id")],
    out_file: Annotated[Path, typer.Option("--out", help="video file, .mp4 or .gif")],
    checkpoint: Annotated[Optional[Path], typer.Option(help="checkpoint or run folder")] = None,
    seed: Seed = 0,
    max_steps: MaxSteps = None,
) -> None:
    """Record one episode as a video (mp4 or gif)."""
    from zoo.recording import record as record_video

    policy, env, source = resolve_policy(agent, env, checkpoint)
    info = record_video(policy, env, out_file, seed=seed, max_episode_steps=max_steps)
    out.print(f"recorded {source}: return {info['return']:.1f} over {info['steps']} steps -> {info['path']}")


def main() -> None:
    warnings.showwarning = _warn_one_line
    from zoo.plugins import loaded_plugins

    try:
        loaded_plugins().register_commands(app)
        code = app(standalone_mode=False, prog_name="zoo")
    except ZooError as exc:
        _print_error(str(exc))
        sys.exit(EXIT_USER_ERROR)
    except typer.Abort:
        _print_error("aborted")
        sys.exit(130)
    except typer.TyperException as exc:
        # click's usage errors (bad option values, unknown options or commands) as one line,
        # like every other user error, instead of a multi-line usage box.
        if not hasattr(exc, "format_message"):
            raise
        ctx = getattr(exc, "ctx", None)
        if not exc.format_message() and ctx is not None:  # bare `zoo`: show the help
            out.print(ctx.get_help())
            sys.exit(0)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _print_error(exc.format_message() + hint)
        sys.exit(getattr(exc, "exit_code", EXIT_USER_ERROR))
    sys.exit(code if isinstance(code, int) else 0)


def _print_error(message: str) -> None:
    err.print(f"[red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)


#: Modules that add their commands to ``app`` with :func:`command` when imported. They are
#: imported here, at the bottom, so ``zoo.cli.app`` always carries every built-in command.
COMMAND_MODULES: list[str] = ["zoo.cli_pretrained", "zoo.cli_sweep", "zoo.cli_plugins", "zoo.cli_hub", "zoo.cli_bench"]

for _module in COMMAND_MODULES:
    importlib.import_module(_module)

if __name__ == "__main__":
    main()
