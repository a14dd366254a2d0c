"""A hardcoded PuckWorld pilot: chase the green creep, sidestep the red puck.

The target is the green creep, pushed 15 px away from the puck when the puck is within 20 px.
The pilot steers by where it will be a moment from now (its position plus 2 velocities, since
velocity decays slowly), pushing along the axis with the larger error, and coasts when both
errors are under half a pixel.
"""

from __future__ import annotations

import numpy as np

from zoo import FixedPolicy

UP, LEFT, RIGHT, DOWN, NOOP = range(5)


class PuckWorldHeuristic(FixedPolicy):
    """Steer toward the creep, away from the puck; see the module docstring."""

    avoid = 20.0  # px: the puck's distance at which to sidestep it
    sidestep = 15.0  # px away from the puck
    lead = 2.0  # seconds of velocity added to the position to steer by
    dead_zone = 0.5  # px

    def act(self, observations: np.ndarray) -> np.ndarray:
        obs = np.asarray(observations, dtype=np.float64)
        position, velocity, creep, puck = obs[:, 0:2], obs[:, 2:4], obs[:, 4:6], obs[:, 6:8]
        away = position - puck
        distance = np.linalg.norm(away, axis=1, keepdims=True)
        near = distance < self.avoid
        target = np.where(near, creep + self.sidestep * away / np.maximum(distance, 1e-9), creep)
        error_x, error_y = (target - (position + self.lead * velocity)).T
        along_x = np.abs(error_x) >= np.abs(error_y)
        action = np.where(along_x, np.where(error_x > 0, RIGHT, LEFT), np.where(error_y > 0, DOWN, UP))
        return np.where(np.maximum(np.abs(error_x), np.abs(error_y)) < self.dead_zone, NOOP, action)
