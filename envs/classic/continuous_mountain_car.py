"""ContinuousMountainCarVectorEnv: gymnasium's MountainCarContinuous-v0, N copies in numpy arrays,
each bit-exact to the single env.

The single env's arithmetic changes precision from step to step, and the batched one must follow
it. There, ``reset`` leaves a float64 state, every ``step`` stores a float32 one, and in between
the types are numpy's rules on scalars (NEP 50): a float32 scalar combined with a Python float
stays float32, the Python float rounded to float32 first, comparisons included; with a float64
scalar, it is float64. So, with ``a`` the action and ``p``, ``v`` the state:

* ``force = min(max(a, -1.0), 1.0)`` is ``a`` itself (its dtype) unless clipped, then a Python float;
* ``force * power - 0.0025 * math.cos(3 * p)`` is float16/32 arithmetic for an unclipped action of
  that dtype, double otherwise; ``3 * p`` is float32 arithmetic once the state is float32;
* ``v + that`` is float64 on an episode's first step (``v`` is float64 0.0 there), float64 later
  only for an unclipped float64 action, float32 otherwise; the velocity limit, the position, its
  limits and the goal test then happen in whichever precision each value has (a clipped value is a
  Python float again, compared exactly);
* the reward uses the unclipped action: ``math.pow(a, 2) * 0.1`` in double, :func:`.scalar_math.scalar_square`.

Actions given as Python lists reach the single env as Python floats (``SyncVectorEnv`` iterates
the list), which behave as clipped ones do; a list is told apart from an array for that.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.envs.classic_control import utils
from gymnasium.envs.classic_control.continuous_mountain_car import Continuous_MountainCarEnv

from .scalar_math import scalar_square
from .vector_env import ClassicVectorEnv


def _choose(condition: np.ndarray | bool, if_true: Any, if_false: Any) -> Any:
    """``np.where``, without the work when the condition is one boolean for every copy: the
    branches may be zero-argument callables, of which only the chosen one is then computed."""
    if isinstance(condition, bool):
        chosen = if_true if condition else if_false
        return chosen() if callable(chosen) else chosen
    return np.where(condition, if_true() if callable(if_true) else if_true,
                    if_false() if callable(if_false) else if_false)


def _float32(x: np.ndarray) -> np.ndarray:
    """Rounded to float32 and back: float32 arithmetic on float32 operands, done in float64 and
    rounded once, gives the same bits (float64 has more than twice float32's precision)."""
    return x.astype(np.float32, copy=False).astype(np.float64)


class ContinuousMountainCarVectorEnv(ClassicVectorEnv):
    """N copies of gymnasium's MountainCarContinuous-v0 (options as its: ``goal_velocity``)."""

    single_env_class = Continuous_MountainCarEnv

    def __init__(self, num_envs: int = 1, render_mode: str | None = None, max_episode_steps: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(num_envs, render_mode, max_episode_steps, **kwargs)
        for name in ("min_action", "max_action", "min_position", "max_position", "max_speed", "goal_position",
                     "goal_velocity", "power"):
            setattr(self, name, getattr(self.single_env, name))  # the constants, under the single env's names
        # Each constant as float32 arithmetic sees it (a Python float rounded to float32 first):
        # computed once, as every step compares with them.
        self._narrow = {name: float(np.float32(getattr(self, name)))
                        for name in ("max_speed", "min_position", "max_position", "goal_position", "goal_velocity")}
        # _float32_physics's constants as 0-d arrays of the dtype each operation has there: an
        # operation with a 0-d array costs about half what it costs with a Python or numpy scalar,
        # and gives the same bits.
        self._float32_constants = {"3": np.array(3, np.float32), "power": np.array(self.power, np.float32),
                                   "0.0025": np.array(0.0025), "0.1": np.array(0.1), "100": np.array(100.0),
                                   **{name: np.array(value, np.float32) for name, value in self._narrow.items()}}
        # Float64 after a reset, float32 values (held in float64) after a step.
        self.position = np.zeros(self.num_envs)
        self.velocity = np.zeros(self.num_envs)
        self._python_actions = False

    def _checked(self, actions: Any) -> np.ndarray:
        self._python_actions = isinstance(actions, (list, tuple)) and all(isinstance(row, (list, tuple))
                                                                          for row in actions)
        return super()._checked(actions)

    def _start(self, ids: np.ndarray, generators: list[np.random.Generator], options: dict[str, Any] | None) -> None:
        low, high = utils.maybe_parse_reset_bounds(options, -0.6, -0.4)
        self.position[ids] = [np_random.uniform(low=low, high=high) for np_random in generators]
        self.velocity[ids] = 0.0

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        action = actions[:, 0]
        stepped = self._float32_physics(self.position, self.velocity, action)
        if stepped is None:
            stepped = self._physics(self.position, self.velocity, action, first=False)
        reward, terminated, position, velocity = stepped
        first = (self._steps == 1).nonzero()[0]  # the state is still reset's float64: redo these
        if len(first):
            redone = self._physics(self.position[first], self.velocity[first], action[first], first=True)
            for values, copies in zip((reward, terminated, position, velocity), redone):
                values[first] = copies
        self.position, self.velocity = _float32(position), _float32(velocity)  # as the single env stores them
        return reward, terminated

    def _float32_physics(self, p: np.ndarray, v: np.ndarray,
                         action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """:meth:`_physics` for the step training takes almost every time, in under half its numpy
        calls (25 against about 55): float32 actions within the bounds, from float32 states, where neither the speed
        limit nor a wall intervenes. Then every value the single env computes is float32 except
        the slope (double, rounded to float32 as it is subtracted), so the arithmetic runs in
        float32 arrays as it does in float32 scalars. None where those conditions do not hold for
        every copy: :meth:`_physics` then steps them. Copies on an episode's first step (a float64
        state) get values here that :meth:`_advance` replaces."""
        if self._python_actions or action.dtype != np.float32:
            return None
        a = action.astype(np.float64)
        # NaN fails both tests too. (ufunc reductions: ndarray.min's result without its wrapper's cost)
        if not (np.minimum.reduce(a) >= self.min_action and np.maximum.reduce(a) <= self.max_action):
            return None
        c = self._float32_constants
        p32, v32 = p.astype(np.float32), v.astype(np.float32)
        slope = c["0.0025"] * np.cos((c["3"] * p32).astype(np.float64))  # math.cos of the float32 3 * p
        velocity = v32 + (action * c["power"] - slope.astype(np.float32))
        if not np.maximum.reduce(np.abs(velocity)) < c["max_speed"]:
            return None
        position = p32 + velocity
        # Strictly inside: at min_position exactly, the single env's wall rule applies.
        if not (np.minimum.reduce(position) > c["min_position"] and np.maximum.reduce(position) <= c["max_position"]):
            return None
        terminated = (position >= c["goal_position"]) & (velocity >= c["goal_velocity"])
        reward = terminated * c["100"] - a * a * c["0.1"]  # math.pow(a, 2): exact for a float32 a
        return reward, terminated, position, velocity

    def _physics(self, p: np.ndarray, v: np.ndarray, action: np.ndarray,
                 first: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One step of the copies at ``p``, ``v`` (float32 values, or reset's float64 ones on an
        episode's ``first`` step) under ``action``: reward, terminated, new position and velocity."""
        a = action.astype(np.float64)
        narrow_constant = self._narrow
        # The force: the action unless clipped (then a Python float). NaN passes, as there.
        clipped = (a < self.min_action) | (a > self.max_action)
        force = np.minimum(np.maximum(a, self.min_action), self.max_action)  # np.clip, without its wrapper's cost
        typed = not self._python_actions  # a numpy scalar reaches the single env
        narrow = typed and action.dtype.itemsize < 8  # float16/32: arithmetic in that dtype
        wide = typed and not narrow  # numpy float64

        # push = force * power - 0.0025 * math.cos(3 * p)
        slope = 0.0025 * np.cos(3 * p if first else _float32(3 * p))
        if narrow:
            in_dtype = (action * action.dtype.type(self.power) - slope.astype(action.dtype)).astype(np.float64)
            push = np.where(clipped, force * self.power - slope, in_dtype) if clipped.any() else in_dtype
        else:
            push = force * self.power - slope

        # velocity += push: float64 on the first step or for an unclipped float64 action, else float32.
        velocity_wide = True if first else (~clipped if wide else False)
        velocity = _choose(velocity_wide, lambda: v + push, lambda: _float32(v + _float32(push)))
        limit = _choose(velocity_wide, self.max_speed, narrow_constant["max_speed"])
        too_fast, too_slow = velocity > limit, velocity < -limit
        velocity_clipped = too_fast | too_slow
        if velocity_clipped.any():
            velocity = np.where(too_fast, self.max_speed, np.where(too_slow, -self.max_speed, velocity))

        # position += velocity: float64 if either is (a clipped velocity is a Python float again).
        position_wide = True if first else (velocity_wide & ~velocity_clipped if wide else False)
        position = _choose(position_wide, lambda: p + velocity, lambda: _float32(p + _float32(velocity)))
        low = _choose(position_wide, self.min_position, narrow_constant["min_position"])
        high = _choose(position_wide, self.max_position, narrow_constant["max_position"])
        too_low, too_high = position < low, position > high
        position_exact = too_low | too_high  # float64 or a Python float: compared exactly
        if position_exact.any():
            position = np.where(too_high, self.max_position, np.where(too_low, self.min_position, position))
        position_exact = position_wide | position_exact

        wall = _choose(position_exact, self.min_position, narrow_constant["min_position"])
        at_wall = (position == wall) & (velocity < 0)
        velocity[at_wall] = 0.0
        velocity_narrow = ~(velocity_wide | velocity_clipped | at_wall)
        terminated = (
            (position >= _choose(position_exact, self.goal_position, narrow_constant["goal_position"]))
            & (velocity >= _choose(velocity_narrow, narrow_constant["goal_velocity"], self.goal_velocity))
        )
        # math.pow(a, 2) of the unclipped action: exact for float16/32 actions, the C pow's otherwise.
        square = a * a if narrow else scalar_square(a)
        reward = np.where(terminated, 100.0, 0.0) - square * 0.1
        return reward, terminated, position, velocity

    def _observations(self) -> np.ndarray:
        observations = np.empty((self.num_envs, 2), dtype=np.float32)  # a new array: callers keep it
        observations[:, 0], observations[:, 1] = self.position, self.velocity
        return observations

    def _pose(self, index: int) -> None:
        self.single_env.state = np.array([self.position[index], self.velocity[index]], dtype=np.float32)
