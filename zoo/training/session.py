"""Training an agent on an env: the loop the zoo drives, with run folder and checkpoints.

Every checkpoint is taken between iterations and, for an agent that implements
``Agent.training_state``, holds all the loop needs to continue: the agent's optimiser state and
random streams, the envs' random streams (:mod:`zoo.training.state`), the counters and the
per-episode returns. :func:`resume` continues a run from its newest checkpoint, and a run that
stops and resumes ends exactly where one that never stopped does (:mod:`zoo.training.resuming`).
"""

from __future__ import annotations

import dataclasses
import numbers
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo import checkpoint as ckpt
from zoo.agent_base import Agent
from zoo.config import config_to_dict
from zoo.config_file import ConfigFile, file_settings, read_config_file
from zoo.exceptions import ZooError, one_line
from zoo.factory import (
    FILE,
    ResolvedConfig,
    build_agent,
    checkpoint_meta,
    configured_env,
    env_record,
    resolve_config,
    training_vec_env,
)
from zoo.limits import check_count, check_seed
from zoo.training import run_folder
from zoo.training.budget import Budget, CountedVectorEnv, StepAllowance
from zoo.training.initial_weights import InitWeights, apply_init, check_init
from zoo.training.logs import KeptLogs, TrainingLog
from zoo.training.periodic_eval import PeriodicEvaluation, check_schedule
from zoo.training.rl_zoo_log import EVAL_EVERY, RlZooLog, rl_zoo_settings
from zoo.training.signals import stop_on_signals
from zoo.training.state import ResumableVectorEnv, seeded_envs

#: Version of the loop's part of ``training.json``; a resumed run refuses any other.
LOOP_STATE_VERSION = 1
#: ``progress.csv``'s key for the env steps executed per env step of a finished episode (what
#: REINFORCE learns from): 1.0 when nothing is stepped in vain (docs/logs.md).
EXECUTED_TO_USED = "rollout/executed_to_used"


@dataclass
class Progress:
    """Where training is; handed to the progress callback after every iteration."""

    episodes: int
    env_steps: int
    seconds: float
    running_mean: float | None
    fraction: float
    metrics: dict[str, float] = field(default_factory=dict)
    #: What this iteration's evaluation logged (``eval/mean_reward``, ...), if one ran.
    evaluation: dict[str, float] | None = None


@dataclass
class TrainResult:
    run_dir: Path
    checkpoint: Path
    episodes: int
    env_steps: int
    seconds: float
    returns: list[float]
    interrupted: bool
    #: The signal that stopped training early (SIGINT, SIGTERM), if one did.
    stop_signal: int | None = None
    #: The mean return of the last 100 episodes when it reached the budget's ``stop_at_reward``
    #: and stopped the run there; None if it did not.
    stopped_at_reward: float | None = None


def _check_finite(agent: Agent, metrics: Mapping[str, float], env_steps: int, last_good: str) -> None:
    import torch

    for name, value in metrics.items():
        if not run_folder.finite(float(value)):
            raise ZooError(f"training diverged at env step {env_steps}: {name} is {value}; "
                           f"no checkpoint written for it ({last_good})")
    for name, tensor in agent.state_tensors().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ZooError(f"training diverged at env step {env_steps}: {name} has NaN or inf values; "
                           f"no checkpoint written for it ({last_good})")


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    folder = run_dir / ckpt.CHECKPOINTS_DIR
    done = sorted(p for p in folder.glob("*") if p.is_dir() and not p.name.startswith("."))
    for old in done[:-keep]:
        ckpt.remove_checkpoint(old)  # whole or gone for a reader (zoo eval --checkpoint RUN meanwhile)


def check_options(max_episode_steps: int | None, checkpoint_every: float | None, keep_checkpoints: int,
                  save_every_steps: int | None = None) -> None:
    if max_episode_steps is not None:
        check_count(max_episode_steps, "--max-steps")
    every = checkpoint_every
    if every is not None and (isinstance(every, bool) or not isinstance(every, numbers.Real) or not every >= 0):
        raise ZooError(f"--checkpoint-every must be 0 (every iteration) or more seconds, got {checkpoint_every}")
    if save_every_steps is not None:
        check_count(save_every_steps, "--save-freq")
    if isinstance(keep_checkpoints, bool) or not isinstance(keep_checkpoints, numbers.Integral) or keep_checkpoints < 1:
        raise ZooError(f"--keep must be at least 1 checkpoint, got {keep_checkpoints!r}")


# -- the loop ------------------------------------------------------------------------------------
class Session:
    """One training session of a run folder, checked and ready to run: a fresh run
    (:func:`start`) or a resumed one (:func:`zoo.training.resuming.continue_run`). It holds the run folder's lock."""

    def __init__(self, learner: Agent, run_dir: Path, seed: int, budget: Budget,
                 max_episode_steps: int | None, checkpoint_every: float | None, keep_checkpoints: int,
                 lock: Any) -> None:
        self.learner, self.run_dir, self.seed, self.budget, self.lock = learner, run_dir, seed, budget, lock
        self.max_episode_steps = max_episode_steps
        self.checkpoint_every, self.keep_checkpoints = checkpoint_every, keep_checkpoints
        self.rows: list[list[Any]] = []
        self.env_steps = 0
        self.iterations = 0
        self.seconds_before = 0.0  # training time of earlier sessions of this run
        self.envs: list[ResumableVectorEnv] = []
        #: The executed env steps, as the envs count them, and the budget's limit on them.
        self.allowance = StepAllowance(budget.steps, episode_limit=budget.episodes)
        self.env_states: list[dict[str, Any]] = []  # to restore, in the order envs are made
        self.last_checkpoint: Path | None = None
        self.saved_iteration: int | None = None
        self.saved_steps: int | None = None  # env steps of this session's last checkpoint
        #: Whether the last checkpoint says the run's budget is spent (``spent_budget``: a resume
        #: to the same budget has nothing to do).
        self.saved_spent = False
        self.evaluation: PeriodicEvaluation | None = None
        self.log: TrainingLog | None = None
        #: For a resumed run: what it keeps of its logs, and what it writes once its agent has
        #: started (envs restored), before anything else: until then the folder is as it was.
        self.kept_logs: KeptLogs | None = None
        self.write_resume: Callable[[], None] | None = None
        self.start = time.perf_counter()
        self.used_steps = 0  # env steps the agent learned from so far (Iteration.learned_steps)
        self.stopped_at_reward: float | None = None
        #: The last iteration took no env step and made no update: what the budget leaves is too
        #: little for the agent (one more step of all its copies would overrun it).
        self.stalled = False
        #: For a new run: the folders :func:`start` created, so that a run that fails before its
        #: first checkpoint can be removed (it holds nothing worth keeping); None when resumed.
        self.claimed: list[Path] | None = None
        #: rl-baselines3-zoo's layout of the run (``--log-folder``), if asked for.
        self.rl_zoo_log: RlZooLog | None = None
        #: Where a new run's budget came from (:attr:`RunPlan.budget_source`); None when resumed.
        self.budget_source: str | None = None
        #: A checkpoint every this many env steps (``--save-freq``, rl_zoo3's): after the iteration
        #: that reaches each multiple. None: by time only (``checkpoint_every``).
        self.save_every_steps: int | None = None
        self.steps_at_start = 0  # env steps when this session started (a resumed run's checkpoint)

    @property
    def returns(self) -> list[float]:
        return [row[1] for row in self.rows]

    def elapsed(self) -> float:
        return self.seconds_before + time.perf_counter() - self.start

    def make_envs(self, n: int) -> CountedVectorEnv:
        """The agent's envs, ready to use: seeded here, once, with the run's seed (or put back
        where the checkpoint left them); the agent's first ``reset()`` returns their start. They
        count the env steps they execute and tell the agent how many the budget leaves
        (:mod:`zoo.training.budget`)."""
        env = self.learner.env  # with the run's --env-kwargs
        vec_env = training_vec_env(env, n, self.max_episode_steps)
        if self.env_states:
            envs = ResumableVectorEnv(vec_env)
            envs.restore(self.env_states.pop(0))
        else:
            envs = seeded_envs(vec_env, self.seed)
        self.envs.append(envs)
        return CountedVectorEnv(envs, self.allowance)

    # -- checkpoints ------------------------------------------------------------------------------
    def training_state(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        import torch

        try:
            agent_tensors, agent_data = self.learner.training_state()
        except NotImplementedError:
            return None
        tensors = {f"agent.{k}": v for k, v in agent_tensors.items()}
        tensors["loop.rows"] = torch.tensor(self.rows, dtype=torch.float64).reshape(-1, len(run_folder.RETURNS_COLUMNS))
        data = {
            "loop": {"version": LOOP_STATE_VERSION, "episodes": len(self.rows), "env_steps": self.env_steps,
                     "iterations": self.iterations, "used_steps": self.used_steps,
                     "spent_budget": [self.budget.episodes, self.budget.steps] if self._finished() else None,
                     "seconds": round(self.elapsed(), 3),
                     "evaluation": self.evaluation.state() if self.evaluation else None},
            "envs": [envs.state() for envs in self.envs],
            "agent": agent_data,
        }
        return tensors, data

    def save(self) -> Path:
        if (self.saved_iteration, self.saved_steps, self.saved_spent) == (
                self.iterations, self.env_steps, self._finished()) and self.last_checkpoint is not None:
            return self.last_checkpoint  # nothing new since the last save
        trained = {"episodes": len(self.rows), "env_steps": self.env_steps, "seconds": round(self.elapsed(), 3)}
        if self.stopped_at_reward is not None:
            trained["stopped_at_reward"] = {"threshold": self.budget.stop_at_reward,
                                            "mean_return": self.stopped_at_reward}
        meta = checkpoint_meta(self.learner, trained=trained)
        try:
            path = ckpt.write_checkpoint(self.run_dir / ckpt.CHECKPOINTS_DIR / f"{self.env_steps:012d}",
                                         self.learner.state_tensors(), meta, self.training_state())
            run_folder.write_returns(self.run_dir, self.rows)
            if self.log is not None:
                self.log.flush()
        except OSError as exc:  # a full disk: the run stops here, and the last checkpoint stays good
            resume = f": free some space, then `zoo train --resume {self.run_dir}` continues from it" \
                if self.last_checkpoint is not None else ""
            raise ZooError(f"cannot save a checkpoint of run {str(self.run_dir)!r} "
                           f"({exc.strerror or one_line(exc)}); {self._last_good()}{resume}") from None
        prune_checkpoints(self.run_dir, self.keep_checkpoints)
        self.last_checkpoint, self.saved_iteration, self.saved_steps = path, self.iterations, self.env_steps
        self.saved_spent = self._finished()
        return path

    def _last_good(self) -> str:
        if self.last_checkpoint is None:
            return "no checkpoint was saved before it"
        return f"the last good checkpoint is {self.last_checkpoint}"

    # -- iterations ---------------------------------------------------------------------------------
    def _iterate(self) -> Any:
        try:
            return self.learner.train_iteration()
        except FloatingPointError as exc:  # e.g. NaN observations, found by the agent
            raise ZooError(f"training stopped in the iteration after env step {self.env_steps}: {exc}; "
                           f"no checkpoint written for it ({self._last_good()})") from None

    def run(self, progress: Callable[[Progress], None] | None = None) -> TrainResult:
        """Train to the budget, or until Ctrl-C / SIGTERM; then save, plot and unlock."""
        try:
            return self._loop(progress)
        except BaseException as exc:
            if self.claimed is None or self.last_checkpoint is not None:
                raise
            # A new run that failed before its first checkpoint: its folder holds only its
            # header, which would block rerunning the same command. Give the folder back.
            run_folder.unclaim(self.run_dir, self.lock, self.claimed)
            if self.rl_zoo_log is not None:
                shutil.rmtree(self.rl_zoo_log.path, ignore_errors=True)
            self.lock = None
            if isinstance(exc, ZooError):
                raise ZooError(f"{exc}; the run folder {str(self.run_dir)!r} was removed") from exc
            raise
        finally:
            if self.lock is not None:
                self.lock.close()

    def _save_due(self, last_save: float) -> bool:
        """A checkpoint is due: ``checkpoint_every`` seconds since the last, or the iteration
        reached a multiple of ``save_every_steps`` env steps that has no checkpoint yet."""
        if self.checkpoint_every is not None and time.perf_counter() - last_save >= self.checkpoint_every:
            return True
        every = self.save_every_steps
        saved = self.saved_steps if self.saved_steps is not None else self.steps_at_start
        return every is not None and self.env_steps // every > saved // every

    def _after_iteration(self, it: Any) -> Progress:
        """Count, check, record and log one iteration; returns where training is. Steps the agent
        took without an update (no episodes, no metrics: an agent that leaves what it stepped for
        a later update; the zoo's REINFORCE learns it all at the budget's end) are counted but are
        no iteration: nothing is logged, so a run stopped there and resumed logs the same rows as
        one that never stopped."""
        self.env_steps += it.env_steps
        if not it.episode_returns and not it.metrics:
            return self._progress({}, None)
        self.iterations += 1
        _check_finite(self.learner, it.metrics, self.env_steps, self._last_good())
        elapsed = round(self.elapsed(), 3)
        first_new = len(self.rows)
        ends = run_folder.episode_end_steps(it, self.env_steps, int(self.rows[-1][3]) if self.rows else 0)
        for ret, length, step in zip(it.episode_returns, it.episode_lengths, ends):
            self.rows.append([len(self.rows) + 1, float(ret), int(length), step, elapsed])
        evaluated = self._evaluate_if_due(self.env_steps)
        self.used_steps += it.learned_steps if it.learned_steps is not None else sum(map(int, it.episode_lengths))
        self._log(self.rows[first_new:], it.metrics, evaluated, elapsed)
        return self._progress(dict(it.metrics), evaluated)

    def _progress(self, metrics: dict[str, float], evaluated: dict[str, float] | None) -> Progress:
        returns = self.returns
        mean = run_folder.running_mean(returns)[-1] if returns else None
        return Progress(len(returns), self.env_steps, self.elapsed(), mean,
                        self.budget.fraction(len(returns), self.env_steps), metrics, evaluated)

    def _evaluate_at_budget_end(self) -> Progress | None:
        """A run its step budget ended evaluates what falls due up to the budget, which it may end
        short of (within ``n_envs - 1`` steps): as an
        evaluation after an update would, and logged as a row of its own, an iteration
        (``time/iterations`` numbers ``progress.csv``'s rows one by one)."""
        if self.budget.steps is None or not self._step_budget_spent():
            return None
        if self.evaluation is not None and self.evaluation.timesteps[-1:] == [self.env_steps]:
            # The run's last update evaluated this very policy, at this step (REINFORCE's is at
            # the budget's end): the evaluations due by the budget are that one.
            self.evaluation.count_done_by(self.budget.steps)
            return None
        evaluated = self._evaluate_if_due(max(self.env_steps, self.budget.steps))
        if evaluated is None:
            return None
        self.iterations += 1
        self._log((), {}, evaluated, round(self.elapsed(), 3))
        return self._progress({}, evaluated)

    def _evaluate_if_due(self, at: int) -> dict[str, float] | None:
        """The values to log of an evaluation, if one is due by env step ``at`` (it runs now, at the
        run's env step); else None."""
        if self.evaluation is None or not self.evaluation.due(at):
            return None
        return self.evaluation.run(self.learner, self.env_steps, checkpoint_meta(self.learner),
                                   self.max_episode_steps, due_by=at)

    def _log(self, new_rows: Sequence[Sequence[Any]], metrics: Mapping[str, float],
             evaluated: dict[str, float] | None, seconds: float) -> None:
        """One row of every log: an iteration's episodes (``new_rows``), metrics and evaluation."""
        collection = {EXECUTED_TO_USED: round(self.env_steps / self.used_steps, 4)} if self.used_steps else {}
        self.log.iteration(iterations=self.iterations, env_steps=self.env_steps, seconds=seconds, rows=self.rows,
                           new_rows=new_rows, metrics=metrics, extra={**collection, **(evaluated or {})})
        if self.rl_zoo_log is not None:
            self.rl_zoo_log.iteration(self.learner, new_rows, self.run_dir, evaluated)

    def _finished(self) -> bool:
        """Whether the budget is reached, or the agent took no step of what the step budget leaves."""
        return self.budget.reached(len(self.rows), self.env_steps) or self._step_budget_spent()

    def _step_budget_spent(self) -> bool:
        """Whether the step budget is reached, or the agent took no step of what it leaves: the
        zoo's own agents stop short of a budget one more step of all copies would overrun, while
        SB3's ``learn(N)`` ends with the rollout that reaches N, so only the agent can tell."""
        left = self.budget.steps_left(self.env_steps)
        return left is not None and (left == 0 or self.stalled)

    def _loop(self, progress: Callable[[Progress], None] | None) -> TrainResult:
        learner = self.learner
        self.start = last_save = time.perf_counter()
        with stop_on_signals() as stop:
            learner.start_training(self.make_envs)
            try:
                if self.write_resume is not None:
                    self.write_resume()
                self.log = TrainingLog(self.run_dir, learner.env.gym_id, rows=self.rows, env_steps=self.env_steps,
                                       kept=self.kept_logs)
                while not self._finished() and not stop.is_set():
                    self.allowance.executed, self.allowance.episodes = self.env_steps, len(self.rows)
                    learner.steps_left = self.budget.steps_left(self.env_steps)
                    it = self._iterate()
                    self.stalled = it.env_steps == 0 and not it.episode_returns and not it.metrics
                    done = self._after_iteration(it)
                    if progress is not None:
                        progress(done)
                    self.stopped_at_reward = self.budget.reward_reached(self.returns)
                    if self.stopped_at_reward is not None:
                        break
                    if self._save_due(last_save):
                        self.save()
                        last_save = time.perf_counter()
                if not stop.is_set() and self.stopped_at_reward is None:
                    done = self._evaluate_at_budget_end()
                    if done is not None and progress is not None:
                        progress(done)
                final = self.save()
                if self.rl_zoo_log is not None:
                    self.rl_zoo_log.finish(learner, self.env_steps)
            finally:
                learner.stop_training()
                if self.log is not None:
                    self.log.close()
        returns = self.returns
        try:
            run_folder.plot_curve(self.run_dir, returns, f"{learner.name} on {learner.env.gym_id} (seed {self.seed})")
        except OSError as exc:
            raise ZooError(f"training ended and saved {final}, but {run_folder.CURVE_FILE} cannot be written "
                           f"({exc.strerror or one_line(exc)})") from None
        return TrainResult(self.run_dir, final, len(returns), self.env_steps, self.elapsed(), returns,
                           stop.is_set(), stop.signum, self.stopped_at_reward)


#: Where a run's seed or budget came from, besides a config file (:data:`zoo.factory.FILE`).
DEFAULT = "default"
#: Where a hyperparameter came from that is a fraction of the budget (rl-zoo's schedules), when
#: ``--steps`` replaced the file's budget.
SCALED = "config file, scaled to --steps"
#: How a message names a step budget, by where it came from.
_BUDGET_NAMES = {FILE: "the config file's budget of steps", DEFAULT: "the agent's default budget of steps"}


@dataclass
class RunPlan:
    """A new run, resolved and checked, before anything is built or written: what
    ``zoo train --dry-run`` shows and :func:`start` starts."""

    resolved: ResolvedConfig
    seed: int
    seed_source: str
    budget: Budget
    budget_source: str
    run_dir: Path
    config_file: ConfigFile | None = None
    file_format: str | None = None
    #: The weights the run starts from (``--init FROM``), if any.
    init: InitWeights | None = None
    #: The config file's budget when ``--steps``/``--episodes`` replaced it (None otherwise).
    file_budget: dict[str, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data: the resolved values, each with where it came from."""
        config = config_to_dict(self.resolved.config)
        return {
            "agent": self.resolved.agent.name, "env": self.resolved.env.name, "gym_id": self.resolved.env.gym_id,
            "env_kwargs": dict(self.resolved.env.env_kwargs),
            "seed": {"value": self.seed, "source": self.seed_source},
            "budget": {**self.budget.as_dict(), "source": self.budget_source,
                       **({"file": self.file_budget} if self.file_budget is not None else {})},
            "hyperparameters": {k: {"value": v, "source": self.resolved.sources[k]} for k, v in config.items()},
            "config_file": None if self.config_file is None else {
                "path": self.config_file.path, "format": self.file_format, "sha256": self.config_file.sha256},
            "run_dir": str(self.run_dir),
            "init": None if self.init is None else {"description": self.init.description, **self.init.record},
        }


def plan_run(
    agent: str,
    env: str,
    *,
    seed: int | None = None,
    episodes: int | None = None,
    steps: int | None = None,
    out: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    config_file: str | Path | ConfigFile | None = None,
    stop_at_reward: float | None = None,
    init: InitWeights | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
) -> RunPlan:
    """Resolve and check a new run of ``agent`` on ``env`` without building or writing anything.

    Hyperparameters, lowest precedence first: the agent's defaults, its per-env defaults, the
    config file, ``overrides``. Seed and budget: ``seed`` / ``episodes`` / ``steps`` when given,
    else the config file's, else 0 and the agent's default budget for the env; ``stop_at_reward``
    ends the run earlier once the mean return of its last 100 episodes reaches it. ``init``
    (:func:`zoo.init_from`): weights the run starts from, checked to be the agent's on an env
    with the same spaces. ``env_kwargs`` (rl_zoo3's ``--env-kwargs``, over a config file's
    ``env_kwargs``): keyword arguments the env is made with, checked here by making it."""
    if config_file is not None and not isinstance(config_file, ConfigFile):
        config_file = read_config_file(config_file)
    settings = file_settings(config_file, agent, env) if config_file is not None else None
    file_values = settings.hyperparameters if settings else None
    scaled = settings.scaled_to(steps) if settings is not None and steps is not None else {}
    if scaled:
        # rl_zoo3's -n: the file's schedules span the run's budget, not its n_timesteps.
        file_values = {**file_values, **scaled}
    if not env_kwargs and settings is not None:
        env_kwargs = settings.env_kwargs  # --env-kwargs replaces the file's, as in rl_zoo3
    resolved = resolve_config(agent, configured_env(env, env_kwargs), overrides=overrides, file_values=file_values)
    for name in scaled:
        if resolved.sources.get(name) == FILE:
            resolved.sources[name] = SCALED
    if not resolved.agent_class.learns:
        raise ZooError(f"agent {resolved.agent.name!r} does not learn; use `zoo eval {resolved.agent.name} {env}`")
    if seed is not None:
        seed_source = "--seed"
    elif settings is not None and settings.seed is not None:
        seed, seed_source = settings.seed, FILE
    else:
        seed, seed_source = 0, DEFAULT
    seed = check_seed(seed)
    if episodes is not None or steps is not None:
        budget, budget_source = Budget(episodes, steps), "--steps/--episodes"
    elif settings is not None and settings.budget is not None:
        budget, budget_source = Budget(**settings.budget), FILE
    else:
        budget, budget_source = Budget(**resolved.agent_class.default_budget(resolved.env)), DEFAULT
    if stop_at_reward is not None:
        budget = dataclasses.replace(budget, stop_at_reward=stop_at_reward)
    budget.check_trains(resolved.agent_class.min_training_steps(resolved.env, resolved.config),
                        f"{resolved.agent.name} on {resolved.env.gym_id}", _BUDGET_NAMES.get(budget_source, "--steps"))
    run_dir = Path(out) if out is not None else run_folder.default_run_dir(resolved.agent.name,
                                                                           resolved.env.gym_id, int(seed))
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise ZooError(f"run folder {str(run_dir)!r} already exists and is not empty; choose another --out")
    if init is not None:
        check_init(init, resolved.agent.name, resolved.env.name)
    return RunPlan(resolved, int(seed), seed_source, budget, budget_source, run_dir, config_file,
                   settings.format if settings else None, init,
                   settings.budget if settings is not None and budget_source != FILE else None)


def start(
    agent: str,
    env: str,
    *,
    seed: int | None = None,
    episodes: int | None = None,
    steps: int | None = None,
    out: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    config_file: str | Path | ConfigFile | None = None,
    max_episode_steps: int | None = None,
    checkpoint_every: float | None = 60.0,
    keep_checkpoints: int = 3,
    eval_every: int | None = None,
    eval_episodes: int = 10,
    stop_at_reward: float | None = None,
    argv: list[str] | None = None,
    init: InitWeights | None = None,
    log_folder: str | Path | None = None,
    save_every_steps: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
) -> Session:
    """A new run of ``agent`` on ``env``, checked, its run folder started (see :mod:`zoo.training.run_folder`);
    ``.run()`` trains. Everything the user asked for is checked before anything is written.

    ``config_file`` (TOML or YAML, :mod:`zoo.config_file`) sets hyperparameters, seed and budget
    under ``overrides`` and explicit ``seed`` / ``episodes`` / ``steps`` (see :func:`plan_run`);
    it is copied into the run folder.
    A checkpoint is saved every ``checkpoint_every`` seconds (0: after every iteration; None:
    never by time), after the iteration that reaches each multiple of ``save_every_steps`` env
    steps (rl_zoo3's ``--save-freq``), and at the end; the newest ``keep_checkpoints`` are kept.
    Ctrl-C or SIGTERM stops after the current iteration with a final checkpoint
    (``TrainResult.interrupted``); :func:`resume` continues.
    Every ``eval_every`` env steps, ``eval_episodes`` evaluation episodes on separately seeded
    envs are logged and the best policy is kept in ``best/`` (:mod:`zoo.training.periodic_eval`).
    With ``init`` (:func:`zoo.init_from`), the new agent starts from those weights (a fine-tune;
    :mod:`zoo.training.initial_weights`), recorded as ``init`` in ``config.json``.
    With ``log_folder``, the run is also written in rl-baselines3-zoo's layout,
    ``LOG_FOLDER/ALGO/ENV_N/`` (:mod:`zoo.training.rl_zoo_log`); without ``eval_every``, it then
    evaluates every 25,000 steps, as rl-baselines3-zoo does.
    """
    if log_folder is not None and eval_every is None:
        eval_every = EVAL_EVERY
    plan = plan_run(agent, env, seed=seed, episodes=episodes, steps=steps, out=out, overrides=overrides,
                    config_file=config_file, stop_at_reward=stop_at_reward, init=init, env_kwargs=env_kwargs)
    check_options(max_episode_steps, checkpoint_every, keep_checkpoints, save_every_steps)
    check_schedule(eval_every, eval_episodes)
    learner = build_agent(plan.resolved, plan.seed)
    if init is not None:
        apply_init(learner, init)
    seed, budget, run_dir = plan.seed, plan.budget, plan.run_dir
    header = {
        "agent": learner.name, **env_record(learner.env), "seed": seed,
        "budget": budget.as_dict(),
        "max_episode_steps": max_episode_steps, "config": config_to_dict(learner.config),
        "checkpoints": {"every": checkpoint_every, "keep": keep_checkpoints,
                        **({"every_steps": save_every_steps} if save_every_steps is not None else {})},
        "evaluation": {"every": eval_every, "episodes": eval_episodes} if eval_every else None,
        "sources": {"seed": plan.seed_source, "budget": plan.budget_source, "config": plan.resolved.sources},
    }
    if init is not None:
        header["init"] = plan.as_dict()["init"]
    if plan.config_file is not None:
        header["config_file"] = {**plan.as_dict()["config_file"],
                                 "copy": run_folder.config_file_copy_name(plan.config_file.suffix)}
    lock, made = run_folder.claim(run_dir)  # atomically ours before anything is written in it
    rl_zoo_log = None
    try:
        if log_folder is not None:
            rl_zoo_log = RlZooLog.create(log_folder, learner.name, learner.env.hub_id)
            header["rl_zoo_log"] = str(rl_zoo_log.path)
            module = header.get("env_module")
            rl_zoo_log.write_settings(*rl_zoo_settings(
                learner.name, learner.env.hub_id, header["config"], steps=budget.steps, seed=seed,
                normalize=bool(learner.export_extras("sb3")), eval_every=eval_every, eval_episodes=eval_episodes,
                log_folder=log_folder, config_file=plan.config_file.path if plan.config_file else None,
                overrides=overrides, gym_packages=[module] if module else [], save_freq=save_every_steps,
                env_kwargs=learner.env.env_kwargs),
                sys.argv if argv is None else argv)
        run_folder.write_header(run_dir, header, argv)
        if plan.config_file is not None:
            run_folder.write_config_file_copy(run_dir, plan.config_file.suffix, plan.config_file.text)
    except BaseException as exc:
        if rl_zoo_log is not None:
            shutil.rmtree(rl_zoo_log.path, ignore_errors=True)
        run_folder.unclaim(run_dir, lock, made)
        if isinstance(exc, OSError):
            raise ZooError(f"cannot write run folder {str(run_dir)!r} ({exc.strerror or one_line(exc)})") from None
        raise
    session = Session(learner, run_dir, seed, budget, max_episode_steps, checkpoint_every, keep_checkpoints, lock)
    session.claimed = made
    session.rl_zoo_log = rl_zoo_log
    session.budget_source = plan.budget_source
    session.save_every_steps = save_every_steps
    if eval_every:
        session.evaluation = PeriodicEvaluation(run_dir, eval_every, eval_episodes, seed)
    return session


def train(
    agent: str,
    env: str,
    *,
    seed: int | None = None,
    episodes: int | None = None,
    steps: int | None = None,
    out: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    config_file: str | Path | ConfigFile | None = None,
    max_episode_steps: int | None = None,
    checkpoint_every: float | None = 60.0,
    keep_checkpoints: int = 3,
    eval_every: int | None = None,
    eval_episodes: int = 10,
    stop_at_reward: float | None = None,
    argv: list[str] | None = None,
    progress: Callable[[Progress], None] | None = None,
    init: InitWeights | None = None,
    log_folder: str | Path | None = None,
    save_every_steps: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
) -> TrainResult:
    """Train ``agent`` on ``env`` into a run folder: :func:`start` with the same options, then
    run, calling ``progress`` after every iteration. With neither ``episodes`` nor ``steps``,
    the config file's budget, else the agent's default budget for the env, applies; without
    ``seed``, the config file's seed, else 0. ``stop_at_reward`` stops it earlier, once the mean
    return of the last 100 training episodes reaches it (``TrainResult.stopped_at_reward``).
    ``init`` (:func:`zoo.init_from`): weights to start from (a fine-tune). ``log_folder``:
    rl-baselines3-zoo's layout of the run too. ``save_every_steps``: a checkpoint after the
    iteration that reaches each multiple of this many env steps (rl_zoo3's ``--save-freq``).
    ``env_kwargs``: keyword arguments the env is made with (rl_zoo3's ``--env-kwargs``)."""
    return start(agent, env, seed=seed, episodes=episodes, steps=steps, out=out, overrides=overrides,
                 config_file=config_file,
                 max_episode_steps=max_episode_steps, checkpoint_every=checkpoint_every,
                 keep_checkpoints=keep_checkpoints, eval_every=eval_every, eval_episodes=eval_episodes,
                 stop_at_reward=stop_at_reward, argv=argv, init=init, log_folder=log_folder,
                 save_every_steps=save_every_steps, env_kwargs=env_kwargs).run(progress)
