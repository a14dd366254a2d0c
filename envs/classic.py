"""Env plugin: gymnasium's CartPole-v1 and MountainCarContinuous-v0, with hardcoded policies."""

from __future__ import annotations

import numpy as np

from zoo.contract import FixedPolicy
from zoo.hookspecs import hookimpl


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


@hookimpl
def register_envs(registry) -> None:
    registry.add_env(
        name="cartpole",
        gym_id="CartPole-v1",
        hardcoded={"default": CartPoleBalance, "lean": CartPoleLean},
        description="Balance a pole on a cart (gymnasium)",
    )
    registry.add_env(
        name="mountaincar-continuous",
        gym_id="MountainCarContinuous-v0",
        hardcoded={"default": MountainCarPump, "full-force": MountainCarFullForce},
        description="Drive an underpowered car up a hill, continuous actions (gymnasium)",
    )
