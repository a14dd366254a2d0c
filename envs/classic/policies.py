"""Hardcoded policies for the classic-control envs: the zoo's baseline, what a few lines of
physics reach without learning."""

from __future__ import annotations

import numpy as np

from zoo import FixedPolicy


class CartPoleBalance(FixedPolicy):
    """A PD controller on the observation: push toward where the pole is falling, corrected
    for the cart drifting off. Holds the pole for all 500 steps."""

    # Gains on (cart position, cart velocity, pole angle, pole angular velocity).
    gains = np.array([0.05, 0.3, 10.0, 2.0])

    def act(self, observations: np.ndarray) -> np.ndarray:
        return (observations @ self.gains > 0).astype(np.int64)


class CartPoleLean(FixedPolicy):
    """The seed notebooks' rule: push toward the side the pole leans (mean return about 41)."""

    def act(self, observations: np.ndarray) -> np.ndarray:
        return (observations[:, 2] > 0).astype(np.int64)


class MountainCarPump(FixedPolicy):
    """Energy pumping: push in the direction of the velocity. A gentle push still reaches the
    flag and pays less of the 0.1·a² action cost than full force does."""

    force = 0.5

    def act(self, observations: np.ndarray) -> np.ndarray:
        direction = np.where(observations[:, 1] >= 0, 1.0, -1.0)
        return (self.force * direction)[:, None].astype(np.float32)


class MountainCarFullForce(MountainCarPump):
    """Energy pumping at full force (about 89.4: short of the 90 threshold)."""

    force = 1.0


class MountainCarPush(FixedPolicy):
    """MountainCar-v0's discrete version of energy pumping: push in the direction of the velocity
    (right when standing still)."""

    def act(self, observations: np.ndarray) -> np.ndarray:
        return np.where(observations[:, 1] >= 0, 2, 0).astype(np.int64)


class AcrobotPump(FixedPolicy):
    """Energy pumping for the acrobot: torque on the elbow against the upper link's swing and with
    the lower link's (-dθ1 + 2·dθ2), which feeds each swing until the tip clears the bar."""

    def act(self, observations: np.ndarray) -> np.ndarray:
        return np.where(-observations[:, 4] + 2.0 * observations[:, 5] > 0, 2, 0).astype(np.int64)


class PendulumSwingUp(FixedPolicy):
    """Energy swing-up, then a linear balance controller.

    The pendulum obeys θ'' = a·sin θ + b·u with a = 3g/2l = 15 (θ = 0 upright), so with u = 0 the
    quantity E = θ'²/2 + a·cos θ is conserved and E = a at rest upright. Far from the top the
    torque pumps energy toward that value (u ∝ (a - E)·θ', which raises E when E < a); near the
    top (cos θ > 0.9) a PD controller u = -(10·θ + 2·θ') holds it. Torque is clipped to ±2."""

    a, pump_gain, kp, kd, near_top, max_torque = 15.0, 1.0, 10.0, 2.0, 0.9, 2.0

    def act(self, observations: np.ndarray) -> np.ndarray:
        cos, sin, velocity = observations[:, 0], observations[:, 1], observations[:, 2]
        angle = np.arctan2(sin, cos)
        energy = 0.5 * velocity**2 + self.a * cos
        pump = self.pump_gain * (self.a - energy) * velocity
        balance = -(self.kp * angle + self.kd * velocity)
        torque = np.where(cos > self.near_top, balance, pump)
        return np.clip(torque, -self.max_torque, self.max_torque)[:, None].astype(np.float32)
