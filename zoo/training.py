"""Training an agent on an env: the loop the zoo drives, with run folder and checkpoints.

Every checkpoint is taken between iterations and, for an agent that implements
``Agent.training_state``, holds all the loop needs to continue: the agent's optimiser state and
random streams, the envs' random streams (:mod:`zoo.training_state`), the counters and the
per-episode returns. :func:`resume` continues a run from its newest checkpoint, and a run that
stops and resumes ends exactly where one that never stopped does.
"""

from __future__ import annotations

import contextlib
import json
import numbers
import os
import shlex
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from zoo import checkpoint as ckpt
from zoo import runs
from zoo.agent import Agent
from zoo.config import config_to_dict
from zoo.errors import ZooError
from zoo.factory import checkpoint_meta, env_entry, make_agent, make_vec_env
from zoo.training_state import ResumableVectorEnv

#: Version of the loop's part of ``training.json``; a resumed run refuses any other.
LOOP_STATE_VERSION = 1
LOCK_FILE = ".lock"


@dataclass(frozen=True)
class Budget:
    """When to stop: after ``episodes`` finished episodes or ``steps`` env steps (first reached)."""

    episodes: int | None = None
    steps: int | None = None

    def __post_init__(self) -> None:
        for name in ("episodes", "steps"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1):
                raise ZooError(f"--{name} must be a positive whole number, got {value!r}")
        if self.episodes is None and self.steps is None:
            raise ZooError("a training budget needs episodes or steps")

    def reached(self, episodes: int, steps: int) -> bool:
        return (self.episodes is not None and episodes >= self.episodes) or (
            self.steps is not None and steps >= self.steps
        )

    def fraction(self, episodes: int, steps: int) -> float:
        parts = []
        if self.episodes:
            parts.append(episodes / self.episodes)
        if self.steps:
            parts.append(steps / self.steps)
        return min(1.0, max(parts))

    def describe(self) -> str:
        return " or ".join(f"{value} {name}" for name, value in (("episodes", self.episodes), ("steps", self.steps))
                           if value is not None)


@dataclass
class Progress:
    """Where training is; handed to the progress callback after every iteration."""

    episodes: int
    env_steps: int
    seconds: float
    running_mean: float | None
    fraction: float
    metrics: dict[str, float] = field(default_factory=dict)


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


def default_run_dir(agent: str, gym_id: str, seed: int) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{agent}__{gym_id.replace('/', '-')}__{seed}__{stamp}"


class StopRequest:
    """Set by the first Ctrl-C or SIGTERM: the loop finishes its iteration, saves and stops."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def is_set(self) -> bool:
        return self.signum is not None


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """A :class:`StopRequest` set by Ctrl-C or SIGTERM. The first signal only asks to stop;
    the handlers that were there before come back at once, so a second Ctrl-C aborts."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.getsignal(sig) for sig in signals}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    def handler(signum, frame):  # noqa: ARG001
        stop.signum = signum
        restore()

    for sig in signals:
        signal.signal(sig, handler)
    try:
        yield stop
    finally:
        restore()


def lock_run(run_dir: Path) -> Any:
    """Lock ``RUN/.lock`` so two processes never train into one run folder; returns the open
    lock file (closing it unlocks), or None where there is no ``fcntl``."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return None
    f = open(run_dir / LOCK_FILE, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise ZooError(f"run folder {str(run_dir)!r} is being trained by another process; "
                       "wait for it to finish or stop it first") from None
    return f


def _check_finite(agent: Agent, metrics: Mapping[str, float], env_steps: int, last_good: str) -> None:
    import torch

    for name, value in metrics.items():
        if not runs.finite(float(value)):
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
        shutil.rmtree(old, ignore_errors=True)


def _check_options(max_episode_steps: int | None, checkpoint_every: float, keep_checkpoints: int) -> None:
    if max_episode_steps is not None and (isinstance(max_episode_steps, bool) or max_episode_steps < 1):
        raise ZooError(f"--max-steps must be a positive number, got {max_episode_steps}")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, numbers.Real) or not checkpoint_every >= 0:
        raise ZooError(f"--checkpoint-every must be 0 (every iteration) or more seconds, got {checkpoint_every}")
    if isinstance(keep_checkpoints, bool) or not isinstance(keep_checkpoints, numbers.Integral) or keep_checkpoints < 1:
        raise ZooError(f"--keep must be at least 1 checkpoint, got {keep_checkpoints!r}")


def _replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


# -- the loop ------------------------------------------------------------------------------------
class Session:
    """One training session of a run folder, checked and ready to run: a fresh run
    (:func:`start`) or a resumed one (:func:`continue_run`). It holds the run folder's lock."""

    def __init__(self, learner: Agent, run_dir: Path, seed: int, budget: Budget,
                 max_episode_steps: int | None, checkpoint_every: float, keep_checkpoints: int,
                 lock: Any) -> None:
        self.learner, self.run_dir, self.seed, self.budget, self.lock = learner, run_dir, seed, budget, lock
        self.max_episode_steps = max_episode_steps
        self.checkpoint_every, self.keep_checkpoints = checkpoint_every, keep_checkpoints
        self.rows: list[list[Any]] = []
        self.env_steps = 0
        self.iterations = 0
        self.seconds_before = 0.0  # training time of earlier sessions of this run
        self.envs: list[ResumableVectorEnv] = []
        self.env_states: list[dict[str, Any]] = []  # to restore, in the order envs are made
        self.last_checkpoint: Path | None = None
        self.saved_iteration: int | None = None
        self.start = time.perf_counter()

    @property
    def returns(self) -> list[float]:
        return [row[1] for row in self.rows]

    def elapsed(self) -> float:
        return self.seconds_before + time.perf_counter() - self.start

    def make_envs(self, n: int) -> ResumableVectorEnv:
        entry = self.learner.env
        limit = self.max_episode_steps
        if limit is None and entry.time_limit is None:
            from zoo.evaluation import DEFAULT_MAX_STEPS

            limit = DEFAULT_MAX_STEPS  # an env without a time limit must not hang training
        envs = ResumableVectorEnv(make_vec_env(entry.name, n, max_episode_steps=limit))
        if self.env_states:
            envs.restore(self.env_states.pop(0))
        else:
            envs.reset(seed=self.seed)
        self.envs.append(envs)
        return envs

    # -- checkpoints ------------------------------------------------------------------------------
    def training_state(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        import torch

        try:
            agent_tensors, agent_data = self.learner.training_state()
        except NotImplementedError:
            return None
        tensors = {f"agent.{k}": v for k, v in agent_tensors.items()}
        tensors["loop.rows"] = torch.tensor(self.rows, dtype=torch.float64).reshape(-1, len(runs.RETURNS_COLUMNS))
        data = {
            "loop": {"version": LOOP_STATE_VERSION, "episodes": len(self.rows), "env_steps": self.env_steps,
                     "iterations": self.iterations, "seconds": round(self.elapsed(), 3)},
            "envs": [envs.state() for envs in self.envs],
            "agent": agent_data,
        }
        return tensors, data

    def save(self) -> Path:
        if self.saved_iteration == self.iterations and self.last_checkpoint is not None:
            return self.last_checkpoint  # nothing new since the last save
        meta = checkpoint_meta(self.learner, trained={
            "episodes": len(self.rows), "env_steps": self.env_steps, "seconds": round(self.elapsed(), 3)})
        path = ckpt.write_checkpoint(self.run_dir / ckpt.CHECKPOINTS_DIR / f"{self.env_steps:012d}",
                                     self.learner.state_tensors(), meta, self.training_state())
        runs.write_returns(self.run_dir, self.rows)
        prune_checkpoints(self.run_dir, self.keep_checkpoints)
        self.last_checkpoint, self.saved_iteration = path, self.iterations
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
        finally:
            if self.lock is not None:
                self.lock.close()

    def _loop(self, progress: Callable[[Progress], None] | None) -> TrainResult:
        learner = self.learner
        self.start = last_save = time.perf_counter()
        with stop_on_signals() as stop:
            learner.start_training(self.make_envs)
            try:
                while not self.budget.reached(len(self.rows), self.env_steps) and not stop.is_set():
                    it = self._iterate()
                    self.env_steps += it.env_steps
                    self.iterations += 1
                    _check_finite(learner, it.metrics, self.env_steps, self._last_good())
                    elapsed = round(self.elapsed(), 3)
                    for ret, length in zip(it.episode_returns, it.episode_lengths):
                        self.rows.append([len(self.rows) + 1, float(ret), int(length), self.env_steps, elapsed])
                    if progress is not None:
                        returns = self.returns
                        mean = runs.running_mean(returns)[-1] if returns else None
                        progress(Progress(len(returns), self.env_steps, self.elapsed(), mean,
                                          self.budget.fraction(len(returns), self.env_steps), dict(it.metrics)))
                    if time.perf_counter() - last_save >= self.checkpoint_every:
                        self.save()
                        last_save = time.perf_counter()
                final = self.save()
            finally:
                learner.stop_training()
        returns = self.returns
        runs.plot_curve(self.run_dir, returns, f"{learner.name} on {learner.env.gym_id} (seed {self.seed})")
        return TrainResult(self.run_dir, final, len(returns), self.env_steps, self.elapsed(), returns,
                           stop.is_set(), stop.signum)


def start(
    agent: str,
    env: str,
    *,
    seed: int = 0,
    episodes: int | None = None,
    steps: int | None = None,
    out: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    max_episode_steps: int | None = None,
    checkpoint_every: float = 60.0,
    keep_checkpoints: int = 3,
    argv: list[str] | None = None,
) -> Session:
    """A new run of ``agent`` on ``env``, checked, its run folder started (see :mod:`zoo.runs`);
    ``.run()`` trains. Everything the user asked for is checked before anything is written.

    A checkpoint is saved every ``checkpoint_every`` seconds (0: after every iteration) and at
    the end; the newest ``keep_checkpoints`` are kept. Ctrl-C or SIGTERM stops after the current
    iteration with a final checkpoint (``TrainResult.interrupted``); :func:`resume` continues.
    """
    learner = make_agent(agent, env, seed=seed, overrides=overrides)
    if not learner.learns:
        raise ZooError(f"agent {learner.name!r} does not learn; use `zoo eval {learner.name} {env}`")
    given = episodes is not None or steps is not None
    budget = Budget(episodes, steps) if given else Budget(**learner.default_budget(learner.env))
    _check_options(max_episode_steps, checkpoint_every, keep_checkpoints)
    run_dir = Path(out) if out is not None else default_run_dir(learner.name, learner.env.gym_id, seed)
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise ZooError(f"run folder {str(run_dir)!r} already exists and is not empty; choose another --out")

    runs.write_run_header(run_dir, {
        "agent": learner.name, "env": learner.env.name, "gym_id": learner.env.gym_id, "seed": seed,
        "budget": {"episodes": budget.episodes, "steps": budget.steps},
        "max_episode_steps": max_episode_steps, "config": config_to_dict(learner.config),
        "checkpoints": {"every": checkpoint_every, "keep": keep_checkpoints},
    }, argv)
    return Session(learner, run_dir, seed, budget, max_episode_steps, checkpoint_every, keep_checkpoints,
                   lock_run(run_dir))


def train(agent: str, env: str, *, progress: Callable[[Progress], None] | None = None, **options: Any) -> TrainResult:
    """Train ``agent`` on ``env`` into a run folder: :func:`start` (same options), then run."""
    return start(agent, env, **options).run(progress)


def _read_run_config(run_dir: Path) -> dict[str, Any]:
    path = run_dir / runs.CONFIG_FILE
    if not run_dir.is_dir():
        raise ZooError(f"run folder {str(run_dir)!r} does not exist")
    if not path.is_file():
        raise ZooError(f"{str(run_dir)!r} is not a run folder: it has no {runs.CONFIG_FILE}")
    try:
        config = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ZooError(f"{str(path)!r} is not valid JSON ({getattr(exc, 'msg', exc)})") from None
    if not isinstance(config, dict) or not all(isinstance(config.get(k), str) for k in ("agent", "env")):
        raise ZooError(f"{str(path)!r} does not name the run's agent and env")
    return config


def continue_run(
    run_dir: str | Path,
    *,
    episodes: int | None = None,
    steps: int | None = None,
    checkpoint_every: float | None = None,
    keep_checkpoints: int | None = None,
    argv: list[str] | None = None,
) -> Session:
    """The run in ``run_dir`` set to continue from its newest checkpoint, up to its budget (or to
    ``episodes`` / ``steps`` in total, when given); ``.run()`` trains. With the same seed and
    budget, a run that was stopped and resumed ends with exactly the weights of one that never
    stopped. Checkpoint options default to the run's own. Nothing is written unless the run can
    continue."""
    run_dir = Path(run_dir)
    config = _read_run_config(run_dir)
    saving = config.get("checkpoints") if isinstance(config.get("checkpoints"), dict) else {}
    checkpoint_every = saving.get("every", 60.0) if checkpoint_every is None else checkpoint_every
    keep_checkpoints = saving.get("keep", 3) if keep_checkpoints is None else keep_checkpoints
    _check_options(config.get("max_episode_steps"), checkpoint_every, keep_checkpoints)
    lock = lock_run(run_dir)
    try:
        ckpt.recover_checkpoints(run_dir / ckpt.CHECKPOINTS_DIR)  # after a save that was killed
        folder = ckpt.find_checkpoint(run_dir)
        meta = ckpt.read_meta(folder)
        for key, same in (("agent", meta["agent"] == config["agent"]),
                          ("env", env_entry(meta["env"]) == env_entry(config["env"]))):
            if not same:
                raise ZooError(f"checkpoint {str(folder)!r} is for {key} {meta[key]!r}, but the run in "
                               f"{str(run_dir)!r} trains {config[key]!r}")
        tensors, data = ckpt.read_training_state(folder)
        loop = data.get("loop")
        if not isinstance(loop, dict) or loop.get("version") != LOOP_STATE_VERSION:
            raise ZooError(f"checkpoint {str(folder)!r}: its training state is from an incompatible agent-zoo "
                           f"(loop state version {loop.get('version') if isinstance(loop, dict) else None!r}, "
                           f"this one reads {LOOP_STATE_VERSION})")
        seed = int(meta.get("seed", config.get("seed", 0)))
        learner = make_agent(meta["agent"], meta["env"], seed=seed, config=meta["config"])
        agent_tensors = {k[len("agent."):]: v for k, v in tensors.items() if k.startswith("agent.")}
        try:
            learner.load_state_tensors(ckpt.read_tensors(folder))
            learner.load_training_state(agent_tensors, data.get("agent", {}))
            rows = [[int(r[0]), float(r[1]), int(r[2]), int(r[3]), float(r[4])] for r in tensors["loop.rows"].tolist()]
            done_episodes, done_steps = int(loop["episodes"]), int(loop["env_steps"])
            iterations, seconds = int(loop.get("iterations", 0)), float(loop.get("seconds", 0.0))
            env_states = list(data.get("envs", []))
            for state in env_states:
                ResumableVectorEnv.check_state(state)
        except NotImplementedError:
            raise ZooError(f"agent {learner.name!r} cannot resume training") from None
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise ZooError(f"checkpoint {str(folder)!r}: its training state does not fit agent {learner.name!r} "
                           f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
        saved = config.get("budget") or {}
        budget = (Budget(episodes, steps) if episodes is not None or steps is not None
                  else Budget(saved.get("episodes"), saved.get("steps")))
        if budget.reached(done_episodes, done_steps):
            raise ZooError(f"the run in {str(run_dir)!r} has already trained {done_episodes} episodes, "
                           f"{done_steps} env steps (its budget: {budget.describe()}); pass a larger --steps "
                           "or --episodes to train further")

        if saved != {"episodes": budget.episodes, "steps": budget.steps}:
            config["budget"] = {"episodes": budget.episodes, "steps": budget.steps}
            _replace_text(run_dir / runs.CONFIG_FILE, json.dumps(config, indent=2, sort_keys=True) + "\n")
        if argv is not None:
            command = run_dir / runs.COMMAND_FILE
            before = command.read_text() if command.is_file() else ""
            _replace_text(command, before + shlex.join(argv) + "\n")

        run = Session(learner, run_dir, seed, budget, config.get("max_episode_steps"), checkpoint_every,
                      keep_checkpoints, lock)
        run.rows, run.env_steps, run.iterations, run.seconds_before = rows, done_steps, iterations, seconds
        run.env_states = env_states
        run.last_checkpoint, run.saved_iteration = folder, run.iterations
    except BaseException:
        if lock is not None:
            lock.close()
        raise
    return run


def resume(run_dir: str | Path, *, progress: Callable[[Progress], None] | None = None, **options: Any) -> TrainResult:
    """Continue the run in ``run_dir``: :func:`continue_run` (same options), then run."""
    return continue_run(run_dir, **options).run(progress)
