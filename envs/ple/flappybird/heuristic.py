"""A hardcoded FlappyBird pilot: stay in the lower part of the gap ahead.

It aims at the gap of the next pipe until that pipe is almost behind the bird, then at the one
after. It flaps when gravity would take the bird, next frame, within ``margin`` px of the lowest
safe height in that gap (the gap's top + 76: the bird's bottom edge 12 px below its centre must
stay above the lower pipe), and only when the bird is not already rising.
"""

from __future__ import annotations

import numpy as np

from zoo import FixedPolicy

from .game import BIRD_HEIGHT, GRAVITY, MAX_DROP_SPEED, PIPE_GAP

FLAP, NOOP = 0, 1


class FlappyBirdHeuristic(FixedPolicy):
    """Flap before sinking out of the gap ahead; see the module docstring."""

    margin = 12.0  # px above the lowest safe height
    switch = 8.0  # px: aim at the following pipe once the next one's right edge is this close

    def act(self, observations: np.ndarray) -> np.ndarray:
        y, vel, next_distance, next_gap, _, _, following_gap, _ = np.asarray(observations, dtype=np.float64).T
        gap = np.where(next_distance > self.switch, next_gap, following_gap)
        lowest_safe = gap + PIPE_GAP - BIRD_HEIGHT
        next_y = y + np.where(vel < MAX_DROP_SPEED, vel + GRAVITY, vel)
        return np.where((next_y > lowest_safe - self.margin) & (vel >= 0), FLAP, NOOP)
