"""Training an agent on an env: the loop the zoo drives, with run folder and checkpoints."""

from __future__ import annotations

import contextlib
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
from zoo.factory import make_agent, make_vec_env, save_agent


@dataclass(frozen=True)
class Budget:
    """When to stop: after ``episodes`` finished episodes or ``steps`` env steps (first reached)."""

    episodes: int | None = None
    steps: int | None = None

    def __post_init__(self) -> None:
        for name in ("episodes", "steps"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ZooError(f"--{name} must be a positive number, got {value}")
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


def default_run_dir(agent: str, gym_id: str, seed: int) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{agent}__{gym_id.replace('/', '-')}__{seed}__{stamp}"


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by Ctrl-C or SIGTERM, so the loop can finish its iteration and save."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):  # noqa: ARG001
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _check_finite(agent: Agent, metrics: Mapping[str, float], env_steps: int) -> None:
    import torch

    for name, value in metrics.items():
        if not runs.finite(float(value)):
            raise ZooError(f"training diverged at env step {env_steps}: {name} is {value}; no checkpoint written for it")
    for name, tensor in agent.state_tensors().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ZooError(f"training diverged at env step {env_steps}: {name} has NaN or inf values")


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    folder = run_dir / ckpt.CHECKPOINTS_DIR
    done = sorted(p for p in folder.glob("*") if p.is_dir() and not p.name.startswith("."))
    for old in done[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def train(
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
    progress: Callable[[Progress], None] | None = None,
    argv: list[str] | None = None,
) -> TrainResult:
    """Train ``agent`` on ``env`` and write a run folder (see :mod:`zoo.runs`).

    Everything the user asked for is checked before anything is written. Ctrl-C or SIGTERM
    stops after the current iteration with a final checkpoint.
    """
    learner = make_agent(agent, env, seed=seed, overrides=overrides)
    if not learner.learns:
        raise ZooError(f"agent {learner.name!r} does not learn; use `zoo eval {learner.name} {env}`")
    budget = Budget(episodes, steps) if (episodes or steps) is not None else Budget(**learner.default_budget(learner.env))
    if max_episode_steps is not None and max_episode_steps < 1:
        raise ZooError(f"--max-steps must be a positive number, got {max_episode_steps}")
    run_dir = Path(out) if out is not None else default_run_dir(learner.name, learner.env.gym_id, seed)
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ZooError(f"run folder {str(run_dir)!r} already exists and is not empty; choose another --out")

    runs.write_run_header(run_dir, {
        "agent": learner.name, "env": learner.env.name, "gym_id": learner.env.gym_id, "seed": seed,
        "budget": {"episodes": budget.episodes, "steps": budget.steps},
        "max_episode_steps": max_episode_steps, "config": config_to_dict(learner.config),
    }, argv)

    rows: list[list[Any]] = []
    returns: list[float] = []
    env_steps = 0
    start = last_save = time.perf_counter()

    def save(label: str = "") -> Path:
        meta = {"trained": {"episodes": len(returns), "env_steps": env_steps,
                            "seconds": round(time.perf_counter() - start, 3)}}
        path = save_agent(learner, run_dir / ckpt.CHECKPOINTS_DIR / f"{env_steps:012d}{label}", **meta)
        runs.write_returns(run_dir, rows)
        prune_checkpoints(run_dir, keep_checkpoints)
        return path

    def make_envs(n: int):
        vec = make_vec_env(learner.env.name, n, max_episode_steps=max_episode_steps)
        vec.reset(seed=seed)
        return vec

    interrupted = False
    with stop_on_signals() as stop:
        learner.start_training(make_envs)
        try:
            while not budget.reached(len(returns), env_steps):
                if stop.is_set():
                    interrupted = True
                    break
                it = learner.train_iteration()
                env_steps += it.env_steps
                _check_finite(learner, it.metrics, env_steps)
                elapsed = time.perf_counter() - start
                for ret, length in zip(it.episode_returns, it.episode_lengths):
                    returns.append(float(ret))
                    rows.append([len(returns), float(ret), int(length), env_steps, round(elapsed, 3)])
                if progress is not None:
                    mean = runs.running_mean(returns)[-1] if returns else None
                    progress(Progress(len(returns), env_steps, elapsed, mean,
                                      budget.fraction(len(returns), env_steps), dict(it.metrics)))
                if time.perf_counter() - last_save >= checkpoint_every:
                    save()
                    last_save = time.perf_counter()
        finally:
            learner.stop_training()
        final = save()
    runs.plot_curve(run_dir, returns, f"{learner.name} on {learner.env.gym_id} (seed {seed})")
    return TrainResult(run_dir, final, len(returns), env_steps, time.perf_counter() - start, returns, interrupted)
