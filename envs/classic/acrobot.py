"""AcrobotVectorEnv: gymnasium's Acrobot-v1, N copies in numpy arrays, each bit-exact to the single env.

The single env (``gymnasium.envs.classic_control.acrobot``) integrates the two links with one
4th-order Runge-Kutta step of ``dt`` (0.2 s) over its ``_dsdt``, then wraps the angles into
[-pi, pi] and clips the velocities. Here the same, on arrays, with:

* the same expressions in the same order, numpy scalars' ``** 2`` as :func:`.scalar_math.scalar_square`;
* operations grouped into as few numpy calls as their order allows (a call on a few dozen numbers
  costs its overhead, not its arithmetic): same-ufunc operations that do not depend on each other
  run as one call on neighbouring rows of a preallocated workspace (``_dsdt`` tables the rows);
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


def _wrap_angles(x: np.ndarray) -> None:
    """gymnasium's ``wrap(x, -pi, pi)``, in place: add or subtract 2 pi until ``-pi <= x <= pi``
    (one step at a time, as there, rather than a modulo that rounds differently)."""
    # The common case: nothing to wrap (NaN: the loops below). One reduction, the ufunc's own
    # (.max() adds a wrapper that costs as much again, every step).
    if np.maximum.reduce(np.abs(x), axis=None) <= _PI:
        return
    diff = _PI - -_PI
    while (above := x > _PI).any():
        x[above] -= diff
    while (below := x < -_PI).any():
        x[below] += diff


class _Constants:
    """The constants of ``_rk4`` and ``_dsdt``: the products of link constants that gymnasium's
    expressions start with, each computed in Python floats in gymnasium's order (left to right).

    Each is a 0-d float64 array (an array times a 0-d array gives the same bits as times a Python
    float, and costs less), or, where one call multiplies several rows by one constant each, a
    block of those rows, N copies wide: a (k, 1) column would broadcast, and numpy takes three
    times as long over operands whose shapes or strides differ as over same-shaped contiguous ones."""

    def __init__(self, m1: float, m2: float, l1: float, lc1: float, lc2: float, moi: float, dt: float,
                 torques: tuple[float, ...], max_vel_1: float, max_vel_2: float, num_envs: int) -> None:
        I1 = I2 = moi  # noqa: N806  (the physics' names)
        g = 9.8

        def rows(*values: float) -> np.ndarray:
            return np.repeat(np.array(values, np.float64)[:, None], num_envs, axis=1)

        self.half_pi = np.array(_PI / 2)
        self.cos_factors = rows(m2 * lc2 * g, (m1 * lc1 + m2 * l1) * g, 2 * l1 * lc2)
        self.l1_lc2 = np.array(l1 * lc2)
        self.d_offsets = rows(l1**2 + lc2**2, lc2**2)
        self.m2, self.I1, self.I2 = np.array(m2), np.array(I1), np.array(I2)
        self.m1_lc1_sq = np.array(m1 * lc1**2)
        self.neg_m2_l1_lc2 = np.array(-m2 * l1 * lc2)
        self.square_factors = rows(m2 * l1 * lc2, -m2 * l1 * lc2)  # of dtheta1**2, dtheta2**2
        self.two_m2_l1_lc2 = np.array(2 * m2 * l1 * lc2)
        self.m2_lc2_sq_I2 = np.array(m2 * lc2**2 + I2)
        dt = dt - 0  # gymnasium: t[1] - t[0] with t = [0, dt]
        self.dt, self.dt2, self.dt6, self.two = np.array(dt), np.array(dt / 2.0), np.array(dt / 6.0), np.array(2.0)
        self.torques = np.array(torques, np.float64)
        self.max_vel = rows(max_vel_1, max_vel_2)
        self.min_vel = -self.max_vel


class _Workspace:
    """The rows of N numbers (one per copy) that ``_rk4`` and ``_dsdt`` compute into: named views of
    one array, laid out so that the rows one call works on are neighbours (the table in ``_dsdt``)."""

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs
        rows = np.zeros((18, num_envs))
        self.theta12, self.theta1, self.theta2, self.dtheta1, self.dtheta2 = rows[:5]
        self.state, self.theta12_theta1, self.angles = rows[1:5], rows[0:2], rows[0:3]
        self.sin2, self.sin2_dtheta1 = rows[2], rows[2:4]  # theta2's row, once its cosine is taken
        self.d2 = self.ddtheta1 = rows[5]  # d2 is last read before ddtheta1 is written
        self.ddtheta2 = rows[6]
        self.squared, self.derivative = rows[3:6], rows[3:7]
        self.cosines, self.cos2 = rows[7:10], rows[9]
        self.cos_terms, self.phi2, self.k = rows[10:13], rows[10], rows[11]
        self.e_f, self.e, self.f = rows[12:14], rows[12], rows[13]
        self.d1 = self.e
        self.s_g, self.s, self.g_h, self.g, self.h = rows[14:16], rows[14], rows[15:17], rows[15], rows[16]
        self.phi1 = self.g
        self.numerator = rows[17]
        # RK4's running sum and each stage's scaled derivative.
        self.total, self.scaled = np.zeros((4, num_envs)), np.zeros((4, num_envs))

    def __reduce__(self) -> tuple[type, tuple[int]]:
        # A copy (copy.deepcopy, pickle) would copy each view on its own, no longer rows of one
        # array; the rows hold nothing between calls, so a copy is a new workspace.
        return _Workspace, (self.num_envs,)


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
        self._links: tuple[Any, ...] = ()
        self._link_constants: _Constants
        self._work = _Workspace(self.num_envs)

    def _start(self, ids: np.ndarray, generators: list[np.random.Generator], options: dict[str, Any] | None) -> None:
        low, high = utils.maybe_parse_reset_bounds(options, -0.1, 0.1)
        drawn = [np_random.uniform(low=low, high=high, size=(4,)).astype(np.float32) for np_random in generators]
        self.state[:, ids] = np.array(drawn, dtype=np.float32).T

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        constants = self._constants()
        torque = constants.torques[actions]
        if self.torque_noise_max > 0:
            stepping = np.flatnonzero(~self._done)  # the others restart: they draw nothing
            torque[stepping] += [self.copy_streams[i].np_random.uniform(-self.torque_noise_max, self.torque_noise_max)
                                 for i in stepping]
        state = self.state
        self._rk4(state, torque, constants)
        _wrap_angles(state[:2])
        velocities = state[2:]  # clipped as np.clip does it (its bits), without its wrapper
        np.minimum(np.maximum(velocities, constants.min_vel, out=velocities), constants.max_vel, out=velocities)
        theta1, theta2 = state[0], state[1]
        # gymnasium's -cos(theta1) - cos(theta2 + theta1) > 1.0, without the negation: (-a) - b is
        # -(a + b) to the bit (negating is exact, and rounding to nearest is symmetric).
        terminated = np.cos(theta1) + np.cos(theta2 + theta1) < -1.0
        return terminated - 1.0, terminated  # rewards: 0 if terminated, else -1

    def _rk4(self, y0: np.ndarray, torque: np.ndarray, c: _Constants) -> None:
        """gymnasium's ``rk4`` over ``[0, dt]``, one step, on the (4, N) state ``y0`` at once, in place
        (each element as there). The torque, the fifth component there, has derivative 0 and stays.

        gymnasium sums ``k1 + 2 * k2 + 2 * k3 + k4`` left to right, so the sum is kept as it goes:
        each stage's derivative is read before the next stage overwrites the workspace."""
        w = self._work
        add, mul = np.add, np.multiply
        stage, derivative, total, scaled = w.state, w.derivative, w.total, w.scaled
        np.copyto(stage, y0)
        self._dsdt(torque, c)  # k1
        np.copyto(total, derivative)
        add(y0, mul(c.dt2, derivative, scaled), stage)  # y0 + dt2 * k1
        self._dsdt(torque, c)  # k2
        add(total, mul(c.two, derivative, scaled), total)  # k1 + 2 * k2
        add(y0, mul(c.dt2, derivative, scaled), stage)  # y0 + dt2 * k2
        self._dsdt(torque, c)  # k3
        add(total, mul(c.two, derivative, scaled), total)  # ... + 2 * k3
        add(y0, mul(c.dt, derivative, scaled), stage)  # y0 + dt * k3
        self._dsdt(torque, c)  # k4
        add(total, derivative, total)  # ... + k4
        add(y0, mul(c.dt6, total, total), y0)  # y0 + dt / 6.0 * (...)

    def _constants(self) -> _Constants:
        """The constants of ``_dsdt`` and ``_rk4``, computed again only when an attribute they come
        from has changed (they are attributes, as there)."""
        links = (self.LINK_MASS_1, self.LINK_MASS_2, self.LINK_LENGTH_1, self.LINK_COM_POS_1, self.LINK_COM_POS_2,
                 self.LINK_MOI, self.dt, tuple(self.AVAIL_TORQUE), self.MAX_VEL_1, self.MAX_VEL_2)
        if links != self._links:
            self._links, self._link_constants = links, _Constants(*links, num_envs=self.num_envs)
        return self._link_constants

    def _dsdt(self, a: np.ndarray, c: _Constants) -> None:
        """gymnasium's ``_dsdt`` on the stage's state (workspace rows 1-4), writing ``ddtheta1,
        ddtheta2`` after its velocities, so that rows 3-6 are the derivative.

        Each element goes through gymnasium's operations, on the same operands, in the same order.
        What changes is only how they are grouped into numpy calls: a call on 16 numbers costs its
        overhead, not its arithmetic, so independent operations of one ufunc run in one call on
        neighbouring rows, each row times (or plus) its own constant (a row of ``c``'s blocks).
        The workspace's rows, in gymnasium's names (``s_`` = ``sin(theta2)``)::

             0  theta1 + theta2  -> theta1 + theta2 - pi/2   } cosines of rows 0-2 -> rows 7-9, in one call
             1  theta1           -> theta1 - pi/2            }   (both "- pi/2" in one call)
             2  theta2           -> s_ (once its cosine is taken)
             3  dtheta1          } the squares of rows 3-5 in one pass: dtheta1**2, dtheta2**2, d2**2
             4  dtheta2          }
             5  d2               -> ddtheta1 (d2 is last read before)
             6  ddtheta2
             7  cos(theta1 + theta2 - pi/2)                  } [m2 lc2 g, (m1 lc1 + m2 l1) g, 2 l1 lc2]
             8  cos(theta1 - pi/2)                           }   * rows 7-9 -> rows 10-12, in one call
             9  cos(theta2)
            10  phi2
            11  (m1 lc1 + m2 l1) g cos(theta1 - pi/2)
            12  2 l1 lc2 cos(theta2) -> ... -> d1            } [l1**2 + lc2**2, lc2**2] + rows 12-13,
            13  l1 lc2 cos(theta2)   -> ... -> (d2, row 5)   }   then m2 * rows 12-13
            14  m2 l1 lc2 dtheta1**2 -> ... s_ (book)        } [m2 l1 lc2, -m2 l1 lc2] * squares
            15  -m2 l1 lc2 dtheta2**2 -> ... s_ -> phi1      } [row 15, row 16] * [s_, dtheta1]
            16  2 m2 l1 lc2 dtheta2 -> ... dtheta1 -> ... s_ }   (then ddtheta2's denominator)
            17  ddtheta2's numerator, then ddtheta1's
        """
        w = self._work
        add, sub, mul, div = np.add, np.subtract, np.multiply, np.divide
        add(w.theta1, w.theta2, w.theta12)
        sub(w.theta12_theta1, c.half_pi, w.theta12_theta1)
        np.cos(w.angles, w.cosines)
        np.sin(w.theta2, w.sin2)
        mul(c.cos_factors, w.cosines, w.cos_terms)
        mul(c.l1_lc2, w.cos2, w.f)
        # d1 = m1 lc1**2 + m2 (l1**2 + lc2**2 + 2 l1 lc2 cos(theta2)) + I1 + I2
        # d2 = m2 (lc2**2 + l1 lc2 cos(theta2)) + I2
        add(c.d_offsets, w.e_f, w.e_f)
        mul(c.m2, w.e_f, w.e_f)
        add(c.m1_lc1_sq, w.e, w.e)
        add(w.f, c.I2, w.d2)
        add(w.e, c.I1, w.e)
        add(w.e, c.I2, w.d1)
        squares = square(w.squared)  # dtheta1**2, dtheta2**2, d2**2
        # phi1 = -m2 l1 lc2 dtheta2**2 s_ - 2 m2 l1 lc2 dtheta2 dtheta1 s_ + (m1 lc1 + m2 l1) g cos(..) + phi2
        book = self.book_or_nips != "nips"
        if book:
            mul(c.square_factors, squares[:2], w.s_g)
        else:  # no dtheta1**2 term
            mul(c.neg_m2_l1_lc2, squares[1], w.g)
        mul(c.two_m2_l1_lc2, w.dtheta2, w.h)
        mul(w.g_h, w.sin2_dtheta1, w.g_h)
        mul(w.h, w.sin2, w.h)
        sub(w.g, w.h, w.phi1)
        add(w.phi1, w.k, w.phi1)
        add(w.phi1, w.phi2, w.phi1)
        # ddtheta2 = (a + d2 / d1 * phi1 [- m2 l1 lc2 dtheta1**2 s_] - phi2) / (m2 lc2**2 + I2 - d2**2 / d1)
        numerator = w.numerator
        mul(div(w.d2, w.d1, numerator), w.phi1, numerator)
        add(a, numerator, numerator)
        if book:
            sub(numerator, mul(w.s, w.sin2, w.s), numerator)
        sub(numerator, w.phi2, numerator)
        sub(c.m2_lc2_sq_I2, div(squares[2], w.d1, w.h), w.h)
        div(numerator, w.h, w.ddtheta2)
        # ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        add(mul(w.d2, w.ddtheta2, numerator), w.phi1, numerator)
        div(np.negative(numerator, numerator), w.d1, w.ddtheta1)

    def _observations(self) -> np.ndarray:
        obs = np.empty((self.num_envs, 6), dtype=np.float32)
        # One row per component (cos theta1, sin theta1, cos theta2, sin theta2, dtheta1, dtheta2):
        # cos and sin of both angles in one call each, computed in float64 and rounded to float32.
        components = obs.T
        np.cos(self.state[:2], out=components[0:4:2])
        np.sin(self.state[:2], out=components[1:4:2])
        components[4:] = self.state[2:]
        reset = (self._steps == 0).nonzero()[0]
        if reset.size:  # the single env's state is float32 until its first step
            angles = self.state[:2, reset].astype(np.float32)
            obs[reset, 0], obs[reset, 1] = np.cos(angles[0]), np.sin(angles[0])
            obs[reset, 2], obs[reset, 3] = np.cos(angles[1]), np.sin(angles[1])
        return obs

    def _pose(self, index: int) -> None:
        self.single_env.state = self.state[:, index].copy()
