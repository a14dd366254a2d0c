"""MountainCarVectorEnv: gymnasium's MountainCar-v0, N copies in numpy arrays, each bit-exact to the single env.

The single env computes in float64 throughout (its ``math.cos`` is the C library's ``cos``, as
numpy's float64 ``np.cos`` is), so the arrays follow its expressions as they are. One difference,
deliberate: gymnasium computes ``(action - 1) * force`` in the action's own integer type, so an
unsigned action 0 wraps around to 255 there and pushes right; here every integer action means
what the action space says.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.envs.classic_control import utils
from gymnasium.envs.classic_control.mountain_car import MountainCarEnv

from .vector_env import ClassicVectorEnv


class MountainCarVectorEnv(ClassicVectorEnv):
    """N copies of gymnasium's MountainCar-v0 (options as its: ``goal_velocity``)."""

    single_env_class = MountainCarEnv

    def __init__(self, num_envs: int = 1, render_mode: str | None = None, max_episode_steps: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(num_envs, render_mode, max_episode_steps, **kwargs)
        for name in ("min_position", "max_position", "max_speed", "goal_position", "goal_velocity", "force", "gravity"):
            setattr(self, name, getattr(self.single_env, name))  # the constants, under the single env's names
        self.position = np.zeros(self.num_envs)
        self.velocity = np.zeros(self.num_envs)

    def _start(self, ids: np.ndarray, generators: list[np.random.Generator], options: dict[str, Any] | None) -> None:
        low, high = utils.maybe_parse_reset_bounds(options, -0.6, -0.4)
        self.position[ids] = [np_random.uniform(low=low, high=high) for np_random in generators]
        self.velocity[ids] = 0.0

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        velocity = self.velocity + ((actions.astype(np.int64) - 1) * self.force
                                    + np.cos(3 * self.position) * -self.gravity)
        velocity = np.clip(velocity, -self.max_speed, self.max_speed)
        position = np.clip(self.position + velocity, self.min_position, self.max_position)
        velocity[(position == self.min_position) & (velocity < 0)] = 0.0
        self.position, self.velocity = position, velocity
        terminated = (position >= self.goal_position) & (velocity >= self.goal_velocity)
        return np.full(self.num_envs, -1.0), terminated

    def _observations(self) -> np.ndarray:
        return np.stack([self.position, self.velocity], axis=1).astype(np.float32)

    def _pose(self, index: int) -> None:
        self.single_env.state = (self.position[index], self.velocity[index])
