"""``zoo train``: train an agent into a run folder, or continue one with ``--resume``."""

from __future__ import annotations

import contextlib
import gc
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from zoo.cli.app import AsJson, GymPackages, Seed, SetOption, command, err, import_env_names, out, plain_table
from zoo.exceptions import ZooError

#: Options fixed when a run starts: ``--resume`` refuses them.
_FIXED_ON_RESUME = {"seed": "--seed", "out_dir": "--out", "set_": "--set", "max_steps": "--max-steps",
                    "eval_every": "--eval-every", "eval_episodes": "--eval-episodes", "config": "--config",
                    "dry_run": "--dry-run", "as_json": "--json", "init": "--init", "log_folder": "--log-folder",
                    "stop_at_reward": "--stop-at-reward", "device": "--device", "vec_env": "--vec-env",
                    "env_kwargs": "--env-kwargs"}


def command_line(ctx: typer.Context) -> list[str]:
    """The running command as canonical arguments (what to type to run it again)."""
    words = ["zoo", ctx.info_name or ""]
    for param in sorted(ctx.command.params, key=lambda p: p.param_type_name != "argument"):
        value = ctx.params.get(param.name)
        if value is None or value is False:
            continue
        if param.name == "seed" and ctx.params.get("config") and ctx.get_parameter_source("seed").name == "DEFAULT":
            continue  # the config file's seed, if it has one, is the run's: --seed 0 would override it
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
                    totals: dict[str, Any], saving: dict[str, Any], gym_packages: list[str]) -> tuple[Any, str]:
    from zoo.training.resuming import continue_run

    fixed = [name for name, value in (("AGENT", agent), ("ENV", env)) if value is not None]
    fixed += [flag for param, flag in _FIXED_ON_RESUME.items() if ctx.get_parameter_source(param).name != "DEFAULT"]
    if fixed:
        raise ZooError(f"--resume continues a run as it was started, so {', '.join(fixed)} cannot be given with it; "
                       "only --episodes/--steps (a new total), --checkpoint-every, --save-freq and --keep")
    argv = ["zoo", "train", "--resume", str(run_dir)]
    given = (("--episodes", totals["episodes"]), ("--steps", totals["steps"]),
             ("--checkpoint-every", saving.get("checkpoint_every")), ("--keep", saving.get("keep_checkpoints")),
             ("--save-freq", saving.get("save_every_steps")))
    for flag, value in given:
        argv += [flag, str(value)] if value is not None else []
    for module in gym_packages:
        argv += ["--gym-packages", module]
    session = continue_run(run_dir, argv=argv, **totals, **saving)
    return session, f"resuming {session.learner.name} on {session.learner.env.name}"


def _status(p: Any) -> str:
    mean = "-" if p.running_mean is None else f"{p.running_mean:.1f}"
    text = f"episodes {p.episodes}  steps {p.env_steps}  mean return (100) {mean}"
    if p.evaluation:
        text += f"  eval {p.evaluation['eval/mean_reward']:.1f}"
    return text


@contextlib.contextmanager
def _long_lived_objects() -> Iterator[None]:
    """Building a session imports torch and the envs: hundreds of thousands of objects that live
    as long as the process. Collecting garbage while they are made finds none (0.1 s of torch's
    import), and every later full collection would walk them again (0.1 s of matplotlib's import
    for the curve, and more during training); frozen, collections skip them."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


#: Without a terminal (piped, CI), a plain progress line this often, never redrawn or cut.
PLAIN_PROGRESS_SECONDS = 10.0


def _run_with_progress(session: Any, label: str) -> Any:
    """Train, showing progress on stderr: a bar on a terminal, plain periodic lines otherwise.
    Only called for a run that was fully checked."""
    import time

    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if not err.is_terminal:
        last = [float("-inf")]

        def line(p) -> None:
            now = time.perf_counter()
            if now - last[0] >= PLAIN_PROGRESS_SECONDS or p.fraction >= 1.0:
                last[0] = now
                err.print(f"{label}: {100 * p.fraction:.0f}%  {_status(p)}  {p.seconds:.0f} s", markup=False,
                          highlight=False, soft_wrap=True)

        return session.run(line)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=err,
                  transient=False) as bar:
        task = bar.add_task(escape(label), total=1.0, status="",
                            completed=session.budget.fraction(len(session.rows), session.env_steps))
        try:
            return session.run(lambda p: bar.update(task, completed=p.fraction, status=escape(_status(p))))
        except BaseException:
            bar.live.transient = True  # the error, one line, is what there is to read now
            raise


def _report(result: Any, session: Any = None) -> None:
    out.print(f"run folder: {result.run_dir}", markup=False)
    if session is not None and session.rl_zoo_log is not None:
        out.print(f"rl-baselines3-zoo folder: {session.rl_zoo_log.path}", markup=False)
    out.print(f"checkpoint: {result.checkpoint}", markup=False)
    out.print(f"{result.episodes} episodes, {result.env_steps} env steps in {result.seconds:.1f} s")
    if result.episodes == 0 and not result.interrupted:
        # Past the up-front minimum (Agent.min_training_steps), how long the episodes last decides.
        err.print(f"warning: no training episode ended within {result.env_steps:,} env steps: the agent may have "
                  "learned nothing (REINFORCE learned only from episodes the budget cut short); use a larger --steps",
                  markup=False, highlight=False, soft_wrap=True)
    if result.stopped_at_reward is not None:
        out.print(f"stopped early: the mean return of the last 100 episodes, {result.stopped_at_reward:.2f}, "
                  "reached --stop-at-reward", markup=False, highlight=False)
    if result.interrupted:
        name = signal.Signals(result.stop_signal).name if result.stop_signal else "a signal"
        err.print(f"interrupted by {name}: saved the checkpoint above; continue with: "
                  f"zoo train --resume {result.run_dir}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(128 + (result.stop_signal or 0))


def _derived_budget_note(budget: Any, source: str | None, agent_class: Any, env: Any) -> str | None:
    """How the budget was derived from the env, when it was (no budget known for it, none asked)."""
    if source != "default" or budget.episodes is not None:
        return None
    derived = agent_class._derived_budget_for(env)
    return derived.reason if derived is not None else None


def _check_sb3_option(agent: str, name: str, flag: str) -> None:
    """An option of the sb3-* agents' (``--device``, ``--vec-env``), refused in one line for an agent
    without that setting: the zoo's own agents run on the CPU and step gymnasium's vector envs."""
    from dataclasses import fields

    from zoo.factory import agent_entry, load_agent_class

    entry = agent_entry(agent)
    if name not in {f.name for f in fields(load_agent_class(entry).Config)}:
        raise ZooError(f"{flag} is for the sb3-* agents (stable-baselines3's {name.replace('_', ' ')}); agent "
                       f"{entry.name!r} has no {name} setting (the zoo's own agents run on the CPU and step "
                       "gymnasium's vector envs in this process)")


def _print_plan(plan: Any, as_json: bool) -> None:
    """What ``--dry-run`` shows: every resolved value and where it came from."""
    import json

    data = plan.as_dict()
    note = _derived_budget_note(plan.budget, plan.budget_source, plan.resolved.agent_class, plan.resolved.env)
    if note is not None:
        data["budget"]["derived"] = note
    if as_json:
        out.print_json(json.dumps(data))
        return
    budget = data["budget"]
    file = data["config_file"]
    out.print(f"agent {data['agent']} on env {data['env']} ({data['gym_id']})", markup=False, highlight=False)
    if data["env_kwargs"]:
        made_with = ", ".join(f"{key}={value!r}" for key, value in data["env_kwargs"].items())
        out.print(f"env made with {made_with}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"seed {data['seed']['value']} ({data['seed']['source']})", markup=False, highlight=False)
    out.print(f"budget {plan.budget.describe()} ({budget['source']}{f': {note}' if note else ''})", markup=False,
              highlight=False, soft_wrap=True)
    if plan.file_budget is not None:
        from zoo.training.session import SCALED

        scaled = [key for key, item in data["hyperparameters"].items() if item["source"] == SCALED]
        what = f"; {', '.join(scaled)} scaled to the run's budget, as rl_zoo3's -n does" if scaled else ""
        file_budget = " or ".join(f"{value} {name}" for name, value in plan.file_budget.items())
        out.print(f"the config file's budget: {file_budget} (replaced{what})", markup=False, highlight=False,
                  soft_wrap=True)
    if file is not None:
        out.print(f"config file {file['path']} (format: {file['format']})", markup=False, highlight=False)
    if data["init"] is not None:
        out.print(f"starts from {data['init']['description']} (--init {data['init']['from']}: its weights, this "
                  "config)", markup=False, highlight=False)
    rows = [[key, json.dumps(item["value"]), item["source"]] for key, item in data["hyperparameters"].items()]
    out.print(plain_table("hyperparameters", ["name", "value", "source"], rows))
    out.print(f"run folder {data['run_dir']} (dry run: nothing written)", markup=False, highlight=False)


@command()
def train(
    ctx: typer.Context,
    agent: Annotated[str | None, typer.Argument(help="agent name, e.g. reinforce (or named by --config)")] = None,
    env: Annotated[str | None, typer.Argument(help="env name or gymnasium id, e.g. cartpole (or named by "
                                              "--config)", callback=import_env_names)] = None,
    seed: Seed = 0,
    episodes: Annotated[int | None, typer.Option(help="stop after this many episodes")] = None,
    steps: Annotated[int | None, typer.Option(help="stop after this many env steps")] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="run folder (default runs/AGENT__ENV__SEED__TIME)")] = None,
    set_: SetOption = None,
    config: Annotated[Path | None, typer.Option(
        "--config", metavar="FILE", help="hyperparameters, budget and seed from a TOML or YAML file (the zoo's "
        "format, or rl-baselines3-zoo's for the sb3 agents); --set, --seed, --steps and --episodes override "
        "it")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="print the resolved config, budget and seed with where each came from; write "
        "nothing")] = False,
    as_json: AsJson = False,
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
    save_freq: Annotated[int | None, typer.Option(
        "--save-freq", metavar="STEPS", help="save a checkpoint every STEPS env steps (rl_zoo3's --save-freq): "
        "after the iteration that reaches each multiple; alone, it replaces the time-based checkpoints of "
        "--checkpoint-every")] = None,
    eval_every: Annotated[int | None, typer.Option(
        "--eval-every", metavar="STEPS", help="evaluate every STEPS env steps on separately seeded envs, log "
        "eval/mean_reward and keep the best policy in RUN/best")] = None,
    eval_episodes: Annotated[int, typer.Option(
        "--eval-episodes", metavar="K", help="episodes per evaluation (with --eval-every)")] = 10,
    stop_at_reward: Annotated[float | None, typer.Option(
        "--stop-at-reward", metavar="R", help="stop once the mean return of the last 100 training episodes "
        "reaches R (as SB3's StopTrainingOnRewardThreshold)")] = None,
    init: Annotated[str | None, typer.Option(
        "--init", metavar="FROM", help="start from the weights of FROM: a checkpoint or run folder, hub:ORG/NAME, "
        "an SB3 zip, an rl-baselines3-zoo log folder, or 'pretrained' (the shipped checkpoint); hyperparameters "
        "as for any new run (a fine-tune: --resume continues a run exactly)")] = None,
    trust_remote_code: Annotated[bool, typer.Option(
        "--trust-remote-code", help="allow --init to load pickled models (SB3 zips, course model.pt): runs their "
        "code")] = False,
    log_folder: Annotated[Path | None, typer.Option(
        "--log-folder", metavar="DIR", help="also write the run in rl-baselines3-zoo's layout, DIR/ALGO/ENV_N/ "
        "(Monitor files, evaluations.npz, final and best zips, config.yml, args.yml), which rl_zoo3's plot and "
        "benchmark scripts read; evaluates every 25000 steps unless --eval-every")] = None,
    device: Annotated[str | None, typer.Option(
        "--device", metavar="DEVICE", help="torch device of the sb3-* agents: cpu (the default), cuda or auto; "
        "the same as --set device=DEVICE")] = None,
    vec_env: Annotated[str | None, typer.Option(
        "--vec-env", metavar="dummy|subproc", help="the sb3-* agents' VecEnv: dummy (SB3's DummyVecEnv, the default) "
        "or subproc (SubprocVecEnv, a process per env copy; a resume then restarts their episodes); the same as "
        "--set vec_env=...")] = None,
    env_kwargs: Annotated[list[str] | None, typer.Option(
        "--env-kwargs", metavar="KEY=VALUE", help="a keyword argument of the env's constructor "
        "(gymnasium.make(ID, KEY=VALUE), rl_zoo3's --env-kwargs), e.g. --env-kwargs gravity=-5.0; VALUE a Python "
        "literal (strings quoted), never run; repeatable; recorded in the run, so eval, record and --resume use "
        "it")] = None,
    gym_packages: GymPackages = None,
) -> None:
    """Train an agent; writes a run folder with checkpoints, config, returns CSV and curve.

    Ctrl-C or SIGTERM stops after the current iteration and saves a checkpoint;
    `zoo train --resume RUN_DIR` continues exactly where it stopped."""
    from zoo.config import parse_literal_pairs, parse_overrides
    from zoo.training.session import start

    saving = {k: v for k, v in (("checkpoint_every", checkpoint_every), ("keep_checkpoints", keep),
                                ("save_every_steps", save_freq)) if v is not None}
    totals = {"episodes": episodes, "steps": steps}
    if resume is not None:
        with _long_lived_objects():
            session, label = _resume_session(ctx, resume, agent, env, totals, saving, gym_packages or [])
        _report(_run_with_progress(session, label), session)
        return
    if as_json and not dry_run:
        raise ZooError("--json prints the --dry-run plan as JSON: add --dry-run")
    config_file = None
    if config is not None:
        from zoo.config_file import named, read_config_file

        config_file = read_config_file(config)
        named_agent, named_env = named(config_file)
        agent, env = agent or named_agent, env or named_env
    if agent is None or env is None:
        raise ZooError("name what to train: zoo train AGENT ENV (or continue a run: zoo train --resume RUN_DIR)")
    explicit_seed = seed if ctx.get_parameter_source("seed").name != "DEFAULT" else None
    overrides = parse_overrides(set_ or [])
    for name, value, flag in (("device", device, "--device"), ("vec_env", vec_env, "--vec-env")):
        if value is not None:
            _check_sb3_option(agent, name, flag)
            overrides[name] = value
    options = {"seed": explicit_seed, "out": out_dir, "overrides": overrides,
               "config_file": config_file, "stop_at_reward": stop_at_reward,
               "env_kwargs": parse_literal_pairs(env_kwargs or [], "--env-kwargs"), **totals}
    if init is not None:
        from zoo.policy_sources import init_from

        options["init"] = init_from(init, agent=agent, env=env, trust_remote_code=trust_remote_code)
    if dry_run:
        from zoo.training.periodic_eval import check_schedule
        from zoo.training.session import check_options, plan_run

        plan = plan_run(agent, env, **options)
        check_options(max_steps, 60.0 if checkpoint_every is None else checkpoint_every,
                      3 if keep is None else keep, save_freq)
        check_schedule(eval_every, eval_episodes)
        _print_plan(plan, as_json)
        return
    if save_freq is not None and checkpoint_every is None:
        saving["checkpoint_every"] = None  # checkpoints by steps, as rl_zoo3's, not also by time
    with _long_lived_objects():
        session = start(agent, env, max_episode_steps=max_steps, eval_every=eval_every,
                        eval_episodes=eval_episodes, argv=command_line(ctx), log_folder=log_folder, **options,
                        **saving)
    note = _derived_budget_note(session.budget, session.budget_source, type(session.learner), session.learner.env)
    if note is not None:
        err.print(f"budget: {note}", markup=False, highlight=False, soft_wrap=True)
    _report(_run_with_progress(session, f"{agent} on {env}"), session)
