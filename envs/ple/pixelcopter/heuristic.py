"""A hardcoded Pixelcopter pilot that reads only the observation, plus a few frames of memory.

Rule: pick a target height, predict where a few frames of doing nothing would take the
helicopter, and thrust if that falls below the target.

* Target: the middle of the cave at the player, shrunk by safety margins (the ceiling margin
  adds the 2.4 px by which the ceiling kills early), shifted toward where the cave is heading
  (its centre over the last frames gives a slope: the cave ahead is not observed).
* Near a block (and for a few frames after it passed, since the block's trailing edge can
  still hit while the observation already shows the next block): the middle of the larger
  free gap above or below the block, within the same margins.
* Thrust when the no-op prediction ends below the target, unless already climbing fast.

It works on observation batches of shape (n, 7) and keeps its memory per batch index, reset
where ``episode_start`` is true, with stable-baselines3's ``predict`` signature, so it plugs
into ``evaluate_policy`` and the zoo's ``hardcoded`` agent alike.
"""

from __future__ import annotations

import numpy as np

from .game import DAMPING, GRAVITY_DV, PLAYER_SIZE

# Observation entries.
Y, VEL, DIST_CEIL, DIST_FLOOR, GATE_DIST, GATE_Y, _ = range(7)


class PixelcopterHeuristic:
    """SB3-style predictor; see the module docstring. Tunable knobs are class attributes."""

    ceiling_margin = 6.0  # px kept from the ceiling's kill line (it drops without warning)
    floor_margin = 2.5  # px kept from the floor's
    block_ahead = 20.0  # px: aim around a block once it is this close
    block_hold = 8  # frames to keep avoiding a block after it passed
    block_clearance = 6.5  # px from a block's centre to the edge of the gap beside it
    lookahead = 3  # frames of no-op prediction
    max_climb = -0.2  # px/frame: no thrust when already climbing faster than this
    trend_frames = 8  # frames over which the cave's drift is measured
    trend_gain = 1.0  # how far ahead (in trend_frames) to lead the cave

    def __init__(self) -> None:
        self._memory: dict[str, np.ndarray] | None = None

    def reset(self, n: int) -> None:
        """Forget everything (memory for n parallel episodes)."""
        self._memory = {
            "gate": np.full(n, np.inf),  # last observed distance to the next block
            "gate_y": np.zeros(n),  # last observed block centre
            "held_y": np.zeros(n),  # centre of the block that just passed
            "hold": np.zeros(n, dtype=np.int64),  # frames left to avoid it
            "cave": np.zeros((n, self.trend_frames)),  # recent cave centres, oldest first
            "seen": np.zeros(n, dtype=np.int64),  # frames observed this episode
        }

    def predict(
        self,
        observation: np.ndarray,
        state: dict[str, np.ndarray] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        """Actions (0 = thrust, 1 = no-op) for a batch of observations, shape (n, 7).

        ``state`` is the memory this method returned last time (SB3 passes it back); when
        None, the policy uses the memory it keeps itself. A single observation of shape (7,)
        gives a single action.
        """
        obs = np.asarray(observation, dtype=np.float64)
        single = obs.ndim == 1
        obs = obs.reshape(-1, 7)
        n = obs.shape[0]
        if state is not None:
            self._memory = state
        if self._memory is None or self._memory["gate"].shape[0] != n:
            self.reset(n)
        memory = self._memory
        if episode_start is not None:
            self._forget(np.flatnonzero(np.asarray(episode_start, dtype=bool).reshape(-1)))

        y, v = obs[:, Y], obs[:, VEL]
        ceiling = y - obs[:, DIST_CEIL]  # the line 12 px above the column centre
        floor = y + obs[:, DIST_FLOOR]  # 12 px below it
        centre = (ceiling + floor) / 2

        # The cave's drift: its centre now minus trend_frames ago, once there is a history.
        cave = memory["cave"]
        cave[:] = np.roll(cave, -1, axis=1)
        cave[:, -1] = centre
        memory["seen"] += 1
        known = memory["seen"] >= self.trend_frames
        drift = np.where(known, cave[:, -1] - cave[:, 0], 0.0) * self.trend_gain

        # The band the helicopter's centre should stay in: the cave's kill lines (the ceiling
        # kills 2.4 px early) shrunk by the margins. Aim at its middle, led by the drift.
        low = ceiling + PLAYER_SIZE + self.ceiling_margin  # highest safe centre
        high = floor - self.floor_margin  # lowest safe centre (y grows down)
        target = np.clip((low + high) / 2 + drift, low, high)

        # A block that passed shows as the gate distance jumping up (the next block appears).
        passed = obs[:, GATE_DIST] > memory["gate"] + 1.0
        memory["held_y"] = np.where(passed, memory["gate_y"], memory["held_y"])
        memory["hold"] = np.where(passed, self.block_hold, np.maximum(memory["hold"] - 1, 0))
        memory["gate"], memory["gate_y"] = obs[:, GATE_DIST].copy(), obs[:, GATE_Y].copy()

        # Near a block (or just after it), aim at the middle of the larger gap between the
        # band's edges and the block's, measured from the block's centre.
        near = obs[:, GATE_DIST] < self.block_ahead
        avoiding = near | (memory["hold"] > 0)
        block_y = np.where(near, obs[:, GATE_Y], memory["held_y"])
        above, below = block_y - self.block_clearance, block_y + self.block_clearance
        around = np.where(above - low >= high - below, (low + above) / 2, (below + high) / 2)
        target = np.where(avoiding, around, target)

        # Where doing nothing for `lookahead` frames would take the helicopter.
        predicted, velocity = y.copy(), v.copy()
        for _ in range(self.lookahead):
            velocity = (velocity + GRAVITY_DV) * DAMPING
            predicted = predicted + velocity
        thrust = (predicted > target) & (v > self.max_climb)
        actions = np.where(thrust, 0, 1)
        return (actions[0] if single else actions), (self._memory if state is not None else None)

    def _forget(self, index: np.ndarray) -> None:
        memory = self._memory
        memory["gate"][index] = np.inf
        memory["hold"][index] = 0
        memory["seen"][index] = 0
