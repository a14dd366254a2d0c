"""A hardcoded Catcher pilot: glide to a stop under the fruit.

Under no-op the paddle's velocity decays by 0.9 a frame, so it stops about 9 velocities further
on (0.9 + 0.81 + ... = 9). The pilot pushes toward the fruit until that stopping point is within
2 px of it. It reads the default (normalised) observation.
"""

from __future__ import annotations

import numpy as np

from zoo import FixedPolicy

LEFT, RIGHT, NOOP = 0, 1, 2


class CatcherHeuristic(FixedPolicy):
    """Push until the no-op glide would stop under the fruit; see the module docstring."""

    tolerance = 2.0  # px either side of the fruit where the paddle may coast

    def act(self, observations: np.ndarray) -> np.ndarray:
        obs = np.asarray(observations, dtype=np.float64)
        x, vel, fruit_x = obs[:, 0] * 26 + 26, obs[:, 1] * 8, obs[:, 2] * 26 + 26  # undo the normalisation
        stop = x + 9 * vel
        return np.where(stop > fruit_x + self.tolerance, LEFT, np.where(stop < fruit_x - self.tolerance, RIGHT, NOOP))
