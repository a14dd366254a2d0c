"""When a run stops, and how many env steps its agent may still take.

A run's budget counts what the agent *executed*: every env step of every copy, whether its
episode has ended yet or not (stable-baselines3's ``num_timesteps``). The step that restarts a
copy under gymnasium's default ``NEXT_STEP`` autoreset plays no transition (the env resets; its
action is ignored) and is not counted.

The loop hands the agent envs that count those steps (:class:`CountedVectorEnv`) and know how many
the budget leaves (``envs.steps_left``): the zoo's own agents stop stepping before they would run
past it, so a run with ``--steps N`` executes at most N env steps (within ``n_envs - 1`` of it,
since every copy steps at once). The envs count the episodes that end too (``envs.episodes_left``):
with ``--episodes N`` the zoo's own agents stop stepping on the step that ends the N-th, and their
last update learns the episodes still under way there as cut ones (nothing stepped in vain).

The loop stops when a budget is reached or when what is left cannot pay for one more step of the
agent's envs, and, with a reward threshold, as soon as the mean return of the last
:data:`REWARD_WINDOW` training episodes reaches it (stable-baselines3's
``StopTrainingOnRewardThreshold``: ``mean >= threshold``; here on training episodes, checked
after every iteration, once the window is full). That stop is at once, as SB3's: the episodes
under way then stay unlearned (at most one per copy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np

from zoo.exceptions import ZooError
from zoo.limits import check_count

#: Training episodes the reward threshold averages over (SB3's and the bench's window).
REWARD_WINDOW = 100


class BudgetTooSmall(ZooError):
    """A step budget too small for the agent to train at all (public as ``zoo.BudgetTooSmall``):
    fewer env steps than its first update needs, so the run would end having learned nothing.
    Refused before anything is built or written."""


@dataclass(frozen=True)
class Budget:
    """When to stop: after ``episodes`` finished episodes or ``steps`` executed env steps (the first
    reached), or earlier once the mean return of the last 100 episodes reaches ``stop_at_reward``."""

    episodes: int | None = None
    steps: int | None = None
    stop_at_reward: float | None = None

    def __post_init__(self) -> None:
        for name in ("episodes", "steps"):
            if getattr(self, name) is not None:
                check_count(getattr(self, name), f"--{name}")
        if self.episodes is None and self.steps is None:
            raise ZooError("a training budget needs episodes or steps")
        threshold = self.stop_at_reward
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                      or not math.isfinite(threshold)):
            raise ZooError(f"--stop-at-reward must be a finite number (a mean episode return), got {threshold!r}")

    def check_trains(self, minimum: int, what: str, source: str, flag: str = "--steps", done: int = 0,
                     run: str = "the run") -> None:
        """Refuse (:class:`BudgetTooSmall`) a step budget that leaves fewer than ``minimum`` env
        steps after the ``done`` a run has executed (0 for a new run; a resumed run's otherwise):
        ``minimum`` is the fewest ``what`` (an agent on an env) needs to update once. ``source``
        names where the budget came from (``--steps``, a config file, the default, the run's own),
        ``flag`` what sets it, ``run`` the run it continues."""
        if self.steps is None or self.steps - done >= minimum:
            return
        if done:
            raise BudgetTooSmall(f"{source} {self.steps:,} is too few env steps to train {run} further: it has "
                                 f"executed {done:,}, and {what} needs at least {minimum:,} more to update; "
                                 f"use {flag} {done + minimum} or more")
        raise BudgetTooSmall(f"{source} {self.steps:,} is too few env steps for {what} to train at all: "
                             f"its first update needs at least {minimum:,} (more if its episodes are long); "
                             f"use {flag} {minimum} or more")

    def reached(self, episodes: int, steps: int) -> bool:
        return (self.episodes is not None and episodes >= self.episodes) or (
            self.steps is not None and steps >= self.steps
        )

    def reward_reached(self, returns: Sequence[float]) -> float | None:
        """The mean return of the last :data:`REWARD_WINDOW` episodes if it reached
        ``stop_at_reward`` (None before the window is full, or without a threshold)."""
        if self.stop_at_reward is None or len(returns) < REWARD_WINDOW:
            return None
        mean = float(np.mean(returns[-REWARD_WINDOW:]))
        return mean if mean >= self.stop_at_reward else None

    def steps_left(self, steps: int) -> int | None:
        """Env steps the agent may still execute (None: no step budget)."""
        return None if self.steps is None else max(0, self.steps - steps)

    def fraction(self, episodes: int, steps: int) -> float:
        parts = []
        if self.episodes:
            parts.append(episodes / self.episodes)
        if self.steps:
            parts.append(steps / self.steps)
        return min(1.0, max(parts))

    def describe(self) -> str:
        text = " or ".join(f"{value} {name}" for name, value in (("episodes", self.episodes), ("steps", self.steps))
                           if value is not None)
        if self.stop_at_reward is not None:
            text += f", or a mean return of {self.stop_at_reward:g} over {REWARD_WINDOW} episodes"
        return text

    def as_dict(self) -> dict[str, Any]:
        """As a run's ``config.json`` records it (``stop_at_reward`` only when set)."""
        data: dict[str, Any] = {"episodes": self.episodes, "steps": self.steps}
        if self.stop_at_reward is not None:
            data["stop_at_reward"] = self.stop_at_reward
        return data


class StepAllowance:
    """The env steps a run has executed and may execute, and the episodes that have ended and may
    end, shared by the loop and the envs it makes (every :class:`CountedVectorEnv` of a session
    adds to one allowance)."""

    def __init__(self, limit: int | None, executed: int = 0, episode_limit: int | None = None,
                 episodes: int = 0) -> None:
        self.limit, self.executed = limit, executed
        self.episode_limit, self.episodes = episode_limit, episodes

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.executed)

    @property
    def episodes_left(self) -> int | None:
        return None if self.episode_limit is None else max(0, self.episode_limit - self.episodes)


def transitions(done_before: np.ndarray | None, num_envs: int) -> int:
    """Env steps one ``step()`` of a vector env executes: every copy but those a ``NEXT_STEP``
    autoreset restarts (``done_before``: the copies whose episode ended on the previous step)."""
    return num_envs - (0 if done_before is None else int(np.count_nonzero(done_before)))


class CountedVectorEnv(gymnasium.vector.VectorWrapper):
    """A vector env that adds the env steps it executes to a :class:`StepAllowance` and tells the
    agent how many the budget leaves: ``steps_left`` (None without a step budget). An agent that
    checks ``steps_left >= envs.num_envs`` before each ``step()`` never runs past the budget
    (a copy about to autoreset costs nothing, so the check is on the safe side). It counts the
    episodes that end as well: ``episodes_left`` (None without an episode budget) is 0 from the
    step that ends the budget's last episode on."""

    def __init__(self, env: gymnasium.vector.VectorEnv, allowance: StepAllowance) -> None:
        super().__init__(env)
        self.allowance = allowance
        next_step = env.metadata.get("autoreset_mode", gymnasium.vector.AutoresetMode.NEXT_STEP)
        self._tracks_autoreset = next_step == gymnasium.vector.AutoresetMode.NEXT_STEP
        self._done: np.ndarray | None = None

    def __getattr__(self, name: str) -> Any:
        # Agents may use the wrapped env's own API (``envs``, ``call``, ``get_attr``).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.env, name)

    @property
    def steps_left(self) -> int | None:
        return self.allowance.left

    @property
    def episodes_left(self) -> int | None:
        return self.allowance.episodes_left

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None):
        mask = (options or {}).get("reset_mask")
        result = self.env.reset(seed=seed, options=options)
        if self._done is not None and mask is not None:
            self._done = self._done & ~np.asarray(mask, dtype=bool)
        elif mask is None:
            self._done = None
        return result

    def step(self, actions):
        self.allowance.executed += transitions(self._done, self.num_envs)
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        done = np.logical_or(terminated, truncated)
        self.allowance.episodes += int(np.count_nonzero(done))
        if self._tracks_autoreset:
            self._done = done
        return obs, rewards, terminated, truncated, info
