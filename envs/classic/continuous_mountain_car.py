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


def _float32(x: np.ndarray | float) -> np.ndarray:
    """Rounded to float32 and back: float32 arithmetic on float32 operands, done in float64 and
    rounded once, gives the same bits (float64 has more than twice float32's precision)."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


class ContinuousMountainCarVectorEnv(ClassicVectorEnv):
    """N copies of gymnasium's MountainCarContinuous-v0 (options as its: ``goal_velocity``)."""

    single_env_class = Continuous_MountainCarEnv

    def __init__(self, num_envs: int = 1, render_mode: str | None = None, max_episode_steps: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(num_envs, render_mode, max_episode_steps, **kwargs)
        for name in ("min_action", "max_action", "min_position", "max_position", "max_speed", "goal_position",
                     "goal_velocity", "power"):
            setattr(self, name, getattr(self.single_env, name))  # the constants, under the single env's names
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
        first = self._steps == 1  # the state is still reset's float64
        p, v = self.position, self.velocity
        action = actions[:, 0]
        a = action.astype(np.float64)
        # The force: the action unless clipped (then a Python float). NaN passes, as there.
        below, above = a < self.min_action, a > self.max_action
        clipped = below | above
        force = np.where(below, self.min_action, np.where(above, self.max_action, a))
        typed = not self._python_actions  # a numpy scalar reaches the single env
        narrow = typed and action.dtype.itemsize < 8  # float16/32: arithmetic in that dtype
        wide = typed and not narrow  # numpy float64

        # push = force * power - 0.0025 * math.cos(3 * p)
        slope = 0.0025 * np.cos(np.where(first, 3 * p, _float32(3 * p)))
        push = force * self.power - slope
        if narrow:
            in_dtype = action * action.dtype.type(self.power) - slope.astype(action.dtype)
            push = np.where(clipped, push, in_dtype.astype(np.float64))

        # velocity += push: float64 on the first step or for an unclipped float64 action, else float32.
        velocity_wide = first | (wide & ~clipped)
        velocity = np.where(velocity_wide, v + push, _float32(v + _float32(push)))
        limit = np.where(velocity_wide, self.max_speed, _float32(self.max_speed))
        too_fast, too_slow = velocity > limit, velocity < -limit
        velocity_clipped = too_fast | too_slow
        velocity = np.where(too_fast, self.max_speed, np.where(too_slow, -self.max_speed, velocity))

        # position += velocity: float64 if either is.
        position_wide = first | (velocity_wide & ~velocity_clipped)
        position = np.where(position_wide, p + velocity, _float32(p + _float32(velocity)))
        low = np.where(position_wide, self.min_position, _float32(self.min_position))
        high = np.where(position_wide, self.max_position, _float32(self.max_position))
        too_low, too_high = position < low, position > high
        position = np.where(too_high, self.max_position, np.where(too_low, self.min_position, position))
        position_exact = position_wide | too_low | too_high  # float64 or a Python float: compared exactly

        wall = np.where(position_exact, self.min_position, _float32(self.min_position))
        at_wall = (position == wall) & (velocity < 0)
        velocity[at_wall] = 0.0
        velocity_narrow = ~(velocity_wide | velocity_clipped | at_wall)
        terminated = (
            (position >= np.where(position_exact, self.goal_position, _float32(self.goal_position)))
            & (velocity >= np.where(velocity_narrow, _float32(self.goal_velocity), self.goal_velocity))
        )
        reward = np.where(terminated, 100.0, 0.0) - scalar_square(a) * 0.1  # math.pow(a, 2): the unclipped action
        self.position, self.velocity = _float32(position), _float32(velocity)
        return reward, terminated

    def _observations(self) -> np.ndarray:
        return np.stack([self.position, self.velocity], axis=1).astype(np.float32)

    def _pose(self, index: int) -> None:
        self.single_env.state = np.array([self.position[index], self.velocity[index]], dtype=np.float32)
