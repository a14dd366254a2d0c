"""PendulumVectorEnv: gymnasium's Pendulum-v1, N copies in numpy arrays, each bit-exact to the single env.

The single env's state is float64; its action term follows the action's dtype (numpy's rules on
scalars: ``0.001 * u ** 2`` and ``3.0 / (m * l**2) * u`` stay float32 for a float32 action, and
integer actions become float64 in ``np.clip``), so the arrays here keep the action's dtype as it
does. ``angle_normalize`` is the same ``(x + pi) % (2 * pi) - pi``, and numpy scalars' ``** 2`` is
:func:`.scalar_math.scalar_square`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.envs.classic_control.pendulum import DEFAULT_X, DEFAULT_Y, PendulumEnv, angle_normalize
from gymnasium.envs.classic_control.utils import verify_number_and_cast

from .scalar_math import scalar_square as square
from .vector_env import ClassicVectorEnv


class PendulumVectorEnv(ClassicVectorEnv):
    """N copies of gymnasium's Pendulum-v1 (options as its: ``g``)."""

    single_env_class = PendulumEnv

    def __init__(self, num_envs: int = 1, render_mode: str | None = None, max_episode_steps: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(num_envs, render_mode, max_episode_steps, **kwargs)
        for name in ("max_speed", "max_torque", "dt", "g", "m", "l"):
            setattr(self, name, getattr(self.single_env, name))  # the constants, under the single env's names
        self.theta = np.zeros(self.num_envs)
        self.theta_dot = np.zeros(self.num_envs)
        self.last_u = np.full(self.num_envs, np.nan)  # the torque applied last (NaN: none since the reset), drawn

    def _start(self, ids: np.ndarray, generators: list[np.random.Generator], options: dict[str, Any] | None) -> None:
        if options is None:
            high = np.array([DEFAULT_X, DEFAULT_Y])
        else:
            high = np.array([verify_number_and_cast(options.get("x_init", DEFAULT_X)),
                             verify_number_and_cast(options.get("y_init", DEFAULT_Y))])
        drawn = np.array([np_random.uniform(low=-high, high=high) for np_random in generators]).reshape(-1, 2)
        self.theta[ids], self.theta_dot[ids] = drawn.T
        self.last_u[ids] = np.nan

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        th, thdot = self.theta, self.theta_dot
        g, m, l, dt = self.g, self.m, self.l, self.dt  # noqa: E741  (the physics' names)
        # minimum/maximum: np.clip's result, without its wrapper's cost
        u = np.minimum(np.maximum(actions[:, 0], -self.max_torque), self.max_torque)
        self.last_u = u.astype(np.float64)
        costs = square(angle_normalize(th)) + 0.1 * square(thdot) + 0.001 * square(u)
        newthdot = thdot + (3 * g / (2 * l) * np.sin(th) + 3.0 / (m * l**2) * u) * dt
        newthdot = np.minimum(np.maximum(newthdot, -self.max_speed), self.max_speed)
        self.theta = th + newthdot * dt
        self.theta_dot = newthdot
        return -costs, np.zeros(self.num_envs, dtype=bool)

    def _observations(self) -> np.ndarray:
        observations = np.empty((self.num_envs, 3), dtype=np.float32)  # a new array: callers keep it
        observations[:, 0], observations[:, 1] = np.cos(self.theta), np.sin(self.theta)
        observations[:, 2] = self.theta_dot
        return observations

    def _pose(self, index: int) -> None:
        self.single_env.state = np.array([self.theta[index], self.theta_dot[index]])
        self.single_env.last_u = None if np.isnan(self.last_u[index]) else self.last_u[index]
