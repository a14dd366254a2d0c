"""Continuing a run from its newest checkpoint, exactly where it stopped.

A checkpoint of an agent that implements ``Agent.training_state`` holds what the loop needs
beyond the weights: optimiser state, random streams of agent and envs, counters and the returns
so far (:mod:`zoo.training.state`). Everything is read and checked before anything is written,
so a run that cannot continue is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo import checkpoint as ckpt
from zoo.agent_base import Agent
from zoo.entries import EnvEntry
from zoo.exceptions import ZooError, one_line
from zoo.factory import load_checked_tensors, make_agent, recorded_env
from zoo.limits import MAX_COUNT, check_seed
from zoo.training import run_folder
from zoo.training.logs import read_kept_logs
from zoo.training.periodic_eval import PeriodicEvaluation
from zoo.training.rl_zoo_log import RlZooLog
from zoo.training.session import LOOP_STATE_VERSION, Budget, Progress, Session, TrainResult, check_options
from zoo.training.state import ResumableVectorEnv


@dataclass
class SavedLoop:
    """Where a checkpointed run's loop was: the run's seed, the agent restored, the returns so
    far, the counters and the envs' saved states."""

    seed: int
    learner: Agent
    folder: Path
    rows: list[list[Any]]
    episodes: int
    env_steps: int
    iterations: int
    seconds: float
    env_states: list[dict[str, Any]]
    evaluation: dict[str, Any] | None = None
    #: The budget (episodes, steps) the run ended by, spent (what it leaves cannot pay for a step
    #: of the agent); None if it did not (or a checkpoint written before the loop saved it).
    spent_budget: tuple[Any, Any] | None = None
    #: Env steps the agent learned from (``rollout/executed_to_used``'s divisor).
    used_steps: int = 0


def _check_same_run(folder: Path, meta: dict[str, Any], run_dir: Path, config: dict[str, Any]) -> EnvEntry:
    """The run's env, the same in its config.json and its checkpoint (each looked up, never imported)."""
    run_env = recorded_env(config, f"run folder {str(run_dir)!r}: {run_folder.CONFIG_FILE}")
    env = recorded_env(meta, f"checkpoint {str(folder)!r}: {ckpt.META_FILE}")
    for key, same in (("agent", meta["agent"] == config["agent"]), ("env", env == run_env)):
        if not same:
            raise ZooError(f"checkpoint {str(folder)!r} is for {key} {meta[key]!r}, but the run in "
                           f"{str(run_dir)!r} trains {config[key]!r}")
    return env


def load_saved_loop(run_dir: Path, config: dict[str, Any]) -> SavedLoop:
    """The newest checkpoint of ``run_dir`` with its training state, restored into a new agent.
    Read in place, even one a killed save left under its temporary name: nothing is moved."""
    folder = ckpt.find_checkpoint(run_dir)
    meta = ckpt.read_meta(folder)
    env = _check_same_run(folder, meta, run_dir, config)
    tensors, data = ckpt.read_training_state(folder)
    loop = data.get("loop")
    if not isinstance(loop, dict) or loop.get("version") != LOOP_STATE_VERSION:
        raise ZooError(f"checkpoint {str(folder)!r}: its training state is from an incompatible agent-zoo "
                       f"(loop state version {loop.get('version') if isinstance(loop, dict) else None!r}, "
                       f"this one reads {LOOP_STATE_VERSION})")
    seed = check_seed(meta.get("seed", config.get("seed", 0)), f"checkpoint {str(folder)!r}: {ckpt.META_FILE}'s seed")
    learner = make_agent(meta["agent"], env, seed=seed, config=meta["config"])
    agent_tensors = {k[len("agent."):]: v for k, v in tensors.items() if k.startswith("agent.")}
    load_checked_tensors(learner, folder)
    try:
        learner.load_training_state(agent_tensors, data.get("agent", {}))
        rows = _rows(tensors["loop.rows"])
        episodes, env_steps, iterations = (_counter(loop, key) for key in ("episodes", "env_steps", "iterations"))
        seconds = loop.get("seconds", 0.0)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < float("inf") \
                or (rows and rows[-1][4] > seconds):
            raise ValueError(f"training seconds {seconds!r} is not a time from the last episode's on")
        if episodes != len(rows) or (rows and rows[-1][3] > env_steps):
            raise ValueError(f"{episodes} episodes and {env_steps} env steps counted, {len(rows)} episode rows saved")
        env_states = data.get("envs", [])
        if not isinstance(env_states, list):
            raise ValueError("the saved env states are not a list")
        for state in env_states:
            ResumableVectorEnv.check_state(state)
        # A checkpoint written before the loop saved it learned from its episodes only.
        used_steps = _counter(loop, "used_steps") if "used_steps" in loop else sum(row[2] for row in rows)
        return SavedLoop(seed, learner, folder, rows, episodes, env_steps, iterations, float(seconds), list(env_states),
                         loop.get("evaluation"), used_steps=used_steps, spent_budget=_spent_budget(loop))
    except NotImplementedError:
        raise ZooError(f"agent {learner.name!r} cannot resume training") from None
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise ZooError(f"checkpoint {str(folder)!r}: its training state does not fit agent {learner.name!r} "
                       f"({one_line(exc)})") from None


def _counter(loop: dict[str, Any], key: str) -> int:
    """A saved counter, checked: a negative or absurd one would name checkpoints that sort wrong."""
    value = loop.get(key, 0 if key == "iterations" else None)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ValueError(f"saved {key} {value!r} is not a count from 0 to {MAX_COUNT:,}")
    return value


def _spent_budget(loop: dict[str, Any]) -> tuple[Any, Any] | None:
    spent = loop.get("spent_budget")
    if spent is None:
        return None
    if not isinstance(spent, list) or len(spent) != 2 or not all(
            v is None or (type(v) is int and 0 < v <= MAX_COUNT) for v in spent):
        raise ValueError(f"saved spent_budget {spent!r} is not [episodes, steps]")
    return tuple(spent)


def _rows(tensor: Any) -> list[list[Any]]:
    """The saved ``returns.csv`` rows, checked: finite numbers, five columns, counts that count."""
    import torch

    if tensor.dtype != torch.float64 or tensor.dim() != 2 or tensor.shape[1] != len(run_folder.RETURNS_COLUMNS):
        raise ValueError(f"loop.rows is {tensor.dtype} of shape {tuple(tensor.shape)}, not float64 rows of "
                         f"{len(run_folder.RETURNS_COLUMNS)} columns")
    rows = tensor.tolist()
    for number, row in enumerate(rows, 1):
        try:
            run_folder.check_returns_row(row, number, rows[number - 2] if number > 1 else None)
        except ValueError as exc:
            raise ValueError(f"loop.rows row {number}: {exc}") from None
    return [[int(r[0]), float(r[1]), int(r[2]), int(r[3]), float(r[4])] for r in rows]


def _budget(config: dict[str, Any], episodes: int | None, steps: int | None, saved: SavedLoop,
            run_dir: Path) -> Budget:
    """The new total when one is given, else the run's own. Refused in one line: the run's own
    budget once reached or spent (what it leaves cannot pay for a step of the agent), and a new
    step budget that leaves fewer env steps than the agent needs to update
    (:class:`zoo.BudgetTooSmall`: :meth:`Budget.check_trains`, the rule a new run's follows);
    both name the smallest ``--steps`` that trains further."""
    recorded = config.get("budget") if isinstance(config.get("budget"), dict) else {}
    threshold = recorded.get("stop_at_reward")  # kept: the run goes on as it was started
    own = (episodes is None and steps is None) or (episodes, steps) == (recorded.get("episodes"), recorded.get("steps"))
    budget = (Budget(episodes, steps, threshold) if episodes is not None or steps is not None
              else Budget(recorded.get("episodes"), recorded.get("steps"), threshold))
    learner = saved.learner
    minimum = learner.min_training_steps(learner.env, learner.config)
    # The run's own budget was checked when it started: a run killed before its end goes on to it.
    if not own and budget.steps is not None:
        budget.check_trains(minimum, f"{learner.name} on {learner.env.gym_id}", "--steps", done=saved.env_steps,
                            run=f"the run in {str(run_dir)!r}")
    if budget.reached(saved.episodes, saved.env_steps) or saved.spent_budget == (budget.episodes, budget.steps):
        raise ZooError(f"the run in {str(run_dir)!r} has already trained {saved.episodes} episodes, "
                       f"{saved.env_steps:,} env steps (its budget: {budget.describe()}); pass a larger --steps "
                       f"({saved.env_steps + minimum} or more) or --episodes to train further")
    return budget


def _evaluation(run_dir: Path, config: dict[str, Any], saved: SavedLoop) -> PeriodicEvaluation | None:
    """The run's evaluation schedule, where the checkpoint left it."""
    schedule = config.get("evaluation")
    if not isinstance(schedule, dict) or not schedule.get("every"):
        return None
    evaluation = PeriodicEvaluation(run_dir, schedule.get("every"), schedule.get("episodes", 10), saved.seed)
    if saved.evaluation is not None:
        evaluation.restore(saved.evaluation, saved.env_steps)
    return evaluation


def continue_run(
    run_dir: str | Path,
    *,
    episodes: int | None = None,
    steps: int | None = None,
    checkpoint_every: float | None = None,
    keep_checkpoints: int | None = None,
    argv: list[str] | None = None,
    save_every_steps: int | None = None,
) -> Session:
    """The run in ``run_dir`` set to continue from its newest checkpoint, up to its budget (or to
    ``episodes`` / ``steps`` in total, when given); ``.run()`` trains. With the same seed and
    budget, a run that was stopped and resumed ends with exactly the weights of one that never
    stopped. Checkpoint options default to the run's own. Nothing is written unless the run can
    continue."""
    run_dir = Path(run_dir)
    config = run_folder.read_config(run_dir)
    saving = config.get("checkpoints") if isinstance(config.get("checkpoints"), dict) else {}
    checkpoint_every = saving.get("every", 60.0) if checkpoint_every is None else checkpoint_every
    keep_checkpoints = saving.get("keep", 3) if keep_checkpoints is None else keep_checkpoints
    save_every_steps = saving.get("every_steps") if save_every_steps is None else save_every_steps
    check_options(config.get("max_episode_steps"), checkpoint_every, keep_checkpoints, save_every_steps)
    had_lock_file = (run_dir / run_folder.LOCK_FILE).exists()
    lock = run_folder.lock(run_dir)
    try:
        # Everything the resume reads, read and checked; nothing is written before the session
        # starts (Session.write_resume, once the agent has its envs back).
        saved = load_saved_loop(run_dir, config)
        budget = _budget(config, episodes, steps, saved, run_dir)
        evaluation = _evaluation(run_dir, config, saved)
        kept_logs = read_kept_logs(run_dir, saved.iterations)
        if argv is not None:
            run_folder.read_commands(run_dir)
        rl_zoo_path = config.get("rl_zoo_log")  # zoo train --log-folder: rl-baselines3-zoo's layout goes on too
        rl_zoo_start = RlZooLog.kept_start(rl_zoo_path) if rl_zoo_path is not None else None
        wanted = budget.as_dict()
        session = Session(saved.learner, run_dir, saved.seed, budget, config.get("max_episode_steps"),
                          checkpoint_every, keep_checkpoints, lock)
        session.rows, session.env_steps, session.iterations = saved.rows, saved.env_steps, saved.iterations
        session.used_steps = saved.used_steps
        session.seconds_before, session.env_states = saved.seconds, saved.env_states
        session.saved_iteration, session.saved_steps = saved.iterations, saved.env_steps
        session.save_every_steps, session.steps_at_start = save_every_steps, saved.env_steps
        session.evaluation, session.kept_logs = evaluation, kept_logs
    except BaseException:
        if not had_lock_file:  # the run folder is left exactly as it was found
            (run_dir / run_folder.LOCK_FILE).unlink(missing_ok=True)
        lock.close()
        raise

    def write_resume() -> None:
        ckpt.recover_checkpoints(run_dir / ckpt.CHECKPOINTS_DIR)  # a save that was killed: its folder in place
        session.last_checkpoint = ckpt.find_checkpoint(run_dir)
        if config.get("budget") != wanted:
            run_folder.write_config(run_dir, {**config, "budget": wanted})
        if argv is not None:
            run_folder.append_command(run_dir, argv)
        if rl_zoo_path is not None:
            session.rl_zoo_log = RlZooLog.reopen(rl_zoo_path, saved.learner.env.hub_id, saved.rows,
                                                 evaluation.best_mean if evaluation else None, rl_zoo_start)

    session.write_resume = write_resume
    session.last_checkpoint = saved.folder
    return session


def resume(
    run_dir: str | Path,
    *,
    episodes: int | None = None,
    steps: int | None = None,
    checkpoint_every: float | None = None,
    keep_checkpoints: int | None = None,
    argv: list[str] | None = None,
    progress: Callable[[Progress], None] | None = None,
    save_every_steps: int | None = None,
) -> TrainResult:
    """Continue the run in ``run_dir``: :func:`continue_run` with the same options, then run,
    calling ``progress`` after every iteration."""
    return continue_run(run_dir, episodes=episodes, steps=steps, checkpoint_every=checkpoint_every,
                        keep_checkpoints=keep_checkpoints, argv=argv,
                        save_every_steps=save_every_steps).run(progress)
