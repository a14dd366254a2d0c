"""Evaluation during training: every N env steps, the current policy plays K episodes on envs
seeded apart from training's (:func:`zoo.scoring.evaluation_seed`, the zoo's one rule), and
the best policy so far is kept as a checkpoint.

It mirrors stable-baselines3's ``EvalCallback``: ``eval/mean_reward`` and
``eval/mean_ep_length`` go to the logs, ``evaluations.npz`` holds every evaluation
(``timesteps``, ``results``, ``ep_lengths``: the arrays ``EvalCallback`` writes, read back with
``numpy.load``), and ``best/`` is a checkpoint folder of the best mean return
(``zoo eval --checkpoint RUN --best``). Acting deterministically draws no random numbers, so
evaluating never changes what training does next, and a resumed run evaluates exactly when an
uninterrupted one would. A run that its step budget ends (the zoo's own agents end within
``n_envs - 1`` steps short of it) runs, at its last step, the evaluations due by the budget.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Any

import numpy as np

from zoo.exceptions import ZooError, one_line
from zoo.limits import MAX_SEED, check_count, check_seed, shown
from zoo.scoring import evaluation_seed

BEST_DIR = "best"
EVALUATIONS_FILE = "evaluations.npz"


def _seed_of_earlier_runs(seed: int) -> int:
    """The evaluation seed of runs written before the zoo had one rule (their saved evaluation
    state names no seed): a resumed one goes on evaluating the episodes it evaluated before."""
    stream = 0x5EED_E7A1
    return int(np.random.SeedSequence([seed, stream]).generate_state(1, dtype=np.uint32)[0]) & MAX_SEED


def check_schedule(every: Any, episodes: Any) -> None:
    for flag, value in (("--eval-every", every), ("--eval-episodes", episodes)):
        if value is not None:
            check_count(value, flag)  # a schedule past any budget (10**20) is a mistake, refused as counts are


class PeriodicEvaluation:
    """When to evaluate, what was found so far, and where the best policy is kept."""

    def __init__(self, run_dir: Path, every: int, episodes: int, seed: int) -> None:
        check_schedule(every, episodes)
        self.run_dir, self.every, self.episodes = run_dir, every, episodes
        self.training_seed, self.seed = seed, evaluation_seed(seed)
        self.next_at = every
        self.best_mean: float | None = None
        self.timesteps: list[int] = []
        self.results: list[list[float]] = []
        self.lengths: list[list[int]] = []

    def due(self, env_steps: int) -> bool:
        return env_steps >= self.next_at

    def count_done_by(self, env_steps: int) -> None:
        """Count every evaluation due by ``env_steps`` as done."""
        while self.next_at <= env_steps:
            self.next_at += self.every

    def run(self, learner: Any, env_steps: int, meta: dict[str, Any],
            max_episode_steps: int | None = None, due_by: int | None = None) -> dict[str, float]:
        """Evaluate ``learner`` now, at ``env_steps``, for every evaluation due by then (or by
        ``due_by``: the step budget a run ended short of); keep it as ``best/`` if it beats every
        earlier evaluation. Returns the values to log."""
        from zoo import checkpoint as ckpt
        from zoo.scoring import evaluate

        result = evaluate(learner, learner.env, episodes=self.episodes, seed=self.seed, deterministic=True,
                          max_episode_steps=max_episode_steps)
        self.count_done_by(max(env_steps, due_by or 0))
        self.timesteps.append(env_steps)
        self.results.append([float(r) for r in result.returns])
        self.lengths.append([int(n) for n in result.lengths])
        np.savez(self.run_dir / EVALUATIONS_FILE, timesteps=np.array(self.timesteps),
                 results=np.array(self.results), ep_lengths=np.array(self.lengths))
        if self.best_mean is None or result.mean > self.best_mean:
            self.best_mean = result.mean
            evaluation = {"mean": result.mean, "std": result.std, "episodes": result.episodes, "seed": self.seed,
                          "deterministic": True, "env_steps": env_steps}
            ckpt.write_checkpoint(self.run_dir / BEST_DIR, learner.state_tensors(), {**meta, "evaluation": evaluation})
        return {"eval/mean_reward": result.mean, "eval/mean_ep_length": result.mean_length,
                "eval/best_mean_reward": self.best_mean}

    # -- saved with the training state ----------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"next_at": self.next_at, "best_mean": self.best_mean, "timesteps": self.timesteps,
                "results": self.results, "lengths": self.lengths, "seed": self.seed}

    def restore(self, state: Any, env_steps: int) -> None:
        """Continue from ``state`` (what :meth:`state` saved at ``env_steps``), checked to be what
        evaluating every ``self.every`` steps ``self.episodes`` episodes can leave: the next
        evaluation at the first multiple of ``every`` after ``env_steps`` (or a later one, after
        an evaluation at ``env_steps`` for the step budget the run ended short of), one row of finite
        returns and whole lengths per evaluation so far, the best mean their best row's."""
        try:
            self._restore(state, env_steps)
        except (KeyError, TypeError, ValueError, ZooError) as exc:
            raise ZooError(f"the saved evaluation schedule does not fit the run ({one_line(exc)})") from None

    def _restore(self, state: Any, env_steps: int) -> None:
        next_at = (env_steps // self.every + 1) * self.every
        saved_at, timesteps = state["next_at"], state["timesteps"]
        if isinstance(saved_at, int) and saved_at > next_at and saved_at % self.every == 0 and \
                isinstance(timesteps, list) and timesteps and timesteps[-1] == env_steps:
            next_at = saved_at  # evaluated at the end, for evaluations due by the budget it ended short of
        if state["next_at"] != next_at or isinstance(state["next_at"], bool):
            raise ValueError(f"next_at {shown(state['next_at'])}, where evaluating every {self.every} env steps "
                             f"from env step {env_steps} puts it at {next_at}")
        timesteps, results, lengths = state["timesteps"], state["results"], state["lengths"]
        if not all(isinstance(v, list) and len(v) == len(timesteps) for v in (timesteps, results, lengths)):
            raise ValueError("timesteps, results and lengths are not lists of one entry per evaluation")
        for before, at in zip([0, *timesteps], timesteps):
            check_count(at, "each evaluation's timestep", env_steps)
            if at <= before:
                raise ValueError(f"timesteps {shown(timesteps)} do not increase")
        for row, row_lengths in zip(results, lengths):
            if not (isinstance(row, list) and isinstance(row_lengths, list)
                    and len(row) == len(row_lengths) == self.episodes):
                raise ValueError(f"an evaluation's results are not {self.episodes} returns and lengths")
            for value in row:
                if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                    raise ValueError(f"results hold {shown(value)}, not a finite return")
            for length in row_lengths:
                check_count(length, "each evaluation episode's length")
        best = max((float(np.mean(row)) for row in results), default=None)
        saved_best = state["best_mean"]
        if (best is None) != (saved_best is None) or (best is not None and not (
                isinstance(saved_best, numbers.Real) and math.isclose(saved_best, best, rel_tol=1e-9))):
            raise ValueError(f"best_mean {shown(saved_best)}, where the best evaluation's mean is {best}")
        self.next_at, self.best_mean = next_at, best
        self.timesteps = [int(t) for t in timesteps]
        self.results = [[float(r) for r in row] for row in results]
        self.lengths = [[int(n) for n in row] for row in lengths]
        self.seed = check_seed(state["seed"], "the saved evaluation seed") if "seed" in state \
            else _seed_of_earlier_runs(self.training_seed)
