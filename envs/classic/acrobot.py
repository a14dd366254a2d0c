"""AcrobotVectorEnv: gymnasium's Acrobot-v1, N copies in numpy arrays, each bit-exact to the single env.

The single env (``gymnasium.envs.classic_control.acrobot``) integrates the two links with one
4th-order Runge-Kutta step of ``dt`` (0.2 s) over its ``_dsdt``, then wraps the angles into
[-pi, pi] and clips the velocities. Here the same, on arrays, with:

* the same expressions in the same order, numpy scalars' ``** 2`` as :func:`.scalar_math.scalar_square`;
* the first observation of an episode computed as the single env does it: its reset state is
  float32, so ``cos``/``sin`` run in float32 there (every later state is float64);
* ``book_or_nips``, ``torque_noise_max`` and ``dt`` as attributes, read on every step, with
  gymnasium's defaults (the book's dynamics, no noise); with noise, each stepping copy draws one
  ``uniform`` from its own stream per step, as the single env does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.envs.classic_control import utils
from gymnasium.envs.classic_control.acrobot import AcrobotEnv

from .scalar_math import scalar_square as square
from .vector_env import ClassicVectorEnv

_PI = np.pi


def _wrap(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """gymnasium's ``wrap``: add or subtract the range until ``low <= x <= high`` (one step at a
    time, as there, rather than a modulo that rounds differently)."""
    diff = high - low
    if low <= x.min() and x.max() <= high:  # the common case: nothing to wrap (NaN: the loops below)
        return x
    x = x.copy()
    while (above := x > high).any():
        x[above] -= diff
    while (below := x < low).any():
        x[below] += diff
    return x


class AcrobotVectorEnv(ClassicVectorEnv):
    """N copies of gymnasium's Acrobot-v1; see the module docstring."""

    single_env_class = AcrobotEnv

    def __init__(self, num_envs: int = 1, render_mode: str | None = None, max_episode_steps: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(num_envs, render_mode, max_episode_steps, **kwargs)
        single = self.single_env
        # The single env's class attributes, under its names, so that what a user changes on
        # gymnasium's env (env.unwrapped.book_or_nips = "nips") changes this one the same way.
        for name in ("dt", "book_or_nips", "torque_noise_max", "LINK_LENGTH_1", "LINK_MASS_1", "LINK_MASS_2",
                     "LINK_COM_POS_1", "LINK_COM_POS_2", "LINK_MOI", "MAX_VEL_1", "MAX_VEL_2", "AVAIL_TORQUE"):
            setattr(self, name, getattr(single, name))
        # theta1, theta2, dtheta1, dtheta2 of every copy, float64 (float32 values after a reset).
        self.state = np.zeros((4, self.num_envs))
        self._links: tuple[float, ...] = ()
        self._link_constants: dict[str, np.ndarray] = {}

    def _start(self, ids: np.ndarray, generators: list[np.random.Generator], options: dict[str, Any] | None) -> None:
        low, high = utils.maybe_parse_reset_bounds(options, -0.1, 0.1)
        drawn = [np_random.uniform(low=low, high=high, size=(4,)).astype(np.float32) for np_random in generators]
        self.state[:, ids] = np.array(drawn, dtype=np.float32).T

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        torque = np.asarray(self.AVAIL_TORQUE, dtype=np.float64)[actions]
        if self.torque_noise_max > 0:
            stepping = np.flatnonzero(~self._done)  # the others restart: they draw nothing
            torque[stepping] += [self.copy_streams[i].np_random.uniform(-self.torque_noise_max, self.torque_noise_max)
                                 for i in stepping]
        state = self._rk4(self.state, torque)
        state[:2] = _wrap(state[:2], -_PI, _PI)
        max_vel = np.array([[self.MAX_VEL_1], [self.MAX_VEL_2]])
        np.minimum(np.maximum(state[2:], -max_vel, out=state[2:]), max_vel, out=state[2:])  # np.clip's bits
        self.state = state
        theta1, theta2 = state[0], state[1]
        terminated = -np.cos(theta1) - np.cos(theta2 + theta1) > 1.0
        return np.where(terminated, 0.0, -1.0), terminated

    def _rk4(self, y0: np.ndarray, torque: np.ndarray) -> np.ndarray:
        """gymnasium's ``rk4`` over ``[0, dt]``: one step, on the (4, N) state at once (each
        element as there). The torque, the fifth component there, has derivative 0 and stays."""
        dt = self.dt - 0  # gymnasium: t[1] - t[0] with t = [0, dt]
        dt2 = np.array(dt / 2.0)
        constants = self._constants()
        k1 = self._dsdt(y0, torque, constants)
        k2 = self._dsdt(y0 + dt2 * k1, torque, constants)
        k3 = self._dsdt(y0 + dt2 * k2, torque, constants)
        k4 = self._dsdt(y0 + np.array(dt) * k3, torque, constants)
        two = np.array(2.0)
        return y0 + np.array(dt / 6.0) * (k1 + two * k2 + two * k3 + k4)

    def _constants(self) -> dict[str, np.ndarray]:
        """The products of link constants ``_dsdt``'s expressions start with, each computed in
        Python floats in gymnasium's order (left to right) and held as a 0-d float64 array: an
        array times a 0-d array gives the same bits as times a Python float, and costs less.
        Computed again only when a link constant has changed (they are attributes, as there)."""
        links = (self.LINK_MASS_1, self.LINK_MASS_2, self.LINK_LENGTH_1, self.LINK_COM_POS_1, self.LINK_COM_POS_2,
                 self.LINK_MOI)
        if links != self._links:
            m1, m2, l1, lc1, lc2, moi = links
            I1 = I2 = moi  # noqa: N806  (the physics' names)
            g = 9.8
            values = {
                "m1 lc1^2": m1 * lc1**2, "l1^2 + lc2^2": l1**2 + lc2**2, "2 l1 lc2": 2 * l1 * lc2, "m2": m2,
                "I1": I1, "I2": I2, "lc2^2": lc2**2, "l1 lc2": l1 * lc2, "m2 lc2 g": m2 * lc2 * g, "pi/2": _PI / 2,
                "-m2 l1 lc2": -m2 * l1 * lc2, "2 m2 l1 lc2": 2 * m2 * l1 * lc2,
                "(m1 lc1 + m2 l1) g": (m1 * lc1 + m2 * l1) * g, "m2 l1 lc2": m2 * l1 * lc2,
                "m2 lc2^2 + I2": m2 * lc2**2 + I2,
            }
            self._links, self._link_constants = links, {name: np.array(v, np.float64) for name, v in values.items()}
        return self._link_constants

    def _dsdt(self, s: np.ndarray, a: np.ndarray, c: dict[str, np.ndarray]) -> np.ndarray:
        """gymnasium's ``_dsdt``, expression for expression, on the (4, N) state (``sin(theta2)``,
        used three times there, is computed once: the same value; the squares of both velocities
        in one call)."""
        theta1, theta2, dtheta1, dtheta2 = s
        cos2, sin2 = np.cos(theta2), np.sin(theta2)
        d1 = c["m1 lc1^2"] + c["m2"] * (c["l1^2 + lc2^2"] + c["2 l1 lc2"] * cos2) + c["I1"] + c["I2"]
        d2 = c["m2"] * (c["lc2^2"] + c["l1 lc2"] * cos2) + c["I2"]
        phi2 = c["m2 lc2 g"] * np.cos(theta1 + theta2 - c["pi/2"])
        dtheta1_sq, dtheta2_sq = square(s[2:])
        phi1 = (
            c["-m2 l1 lc2"] * dtheta2_sq * sin2
            - c["2 m2 l1 lc2"] * dtheta2 * dtheta1 * sin2
            + c["(m1 lc1 + m2 l1) g"] * np.cos(theta1 - c["pi/2"])
            + phi2
        )
        derivative = np.empty_like(s)
        derivative[:2] = s[2:]
        if self.book_or_nips == "nips":
            ddtheta2 = (a + d2 / d1 * phi1 - phi2) / (c["m2 lc2^2 + I2"] - square(d2) / d1)
        else:
            ddtheta2 = (a + d2 / d1 * phi1 - c["m2 l1 lc2"] * dtheta1_sq * sin2 - phi2) / (
                c["m2 lc2^2 + I2"] - square(d2) / d1
            )
        derivative[3] = ddtheta2
        np.divide(-(d2 * ddtheta2 + phi1), d1, out=derivative[2])  # ddtheta1
        return derivative

    def _observations(self) -> np.ndarray:
        theta1, theta2, dtheta1, dtheta2 = self.state
        obs = np.empty((self.num_envs, 6), dtype=np.float32)
        obs[:, 0], obs[:, 1] = np.cos(theta1), np.sin(theta1)
        obs[:, 2], obs[:, 3] = np.cos(theta2), np.sin(theta2)
        obs[:, 4], obs[:, 5] = dtheta1, dtheta2
        reset = (self._steps == 0).nonzero()[0]
        if reset.size:  # the single env's state is float32 until its first step
            angles = self.state[:2, reset].astype(np.float32)
            obs[reset, 0], obs[reset, 1] = np.cos(angles[0]), np.sin(angles[0])
            obs[reset, 2], obs[reset, 3] = np.cos(angles[1]), np.sin(angles[1])
        return obs

    def _pose(self, index: int) -> None:
        self.single_env.state = self.state[:, index].copy()
