"""Catch: balls fall one at a time down a small grid; move the paddle on the bottom row under them.

Each ball is dropped in a random column of the top row and falls one row per step. When it
reaches the bottom row the agent scores +1 if the paddle is under it and -1 if not, and the
next ball is dropped. An episode is ``balls`` balls, so returns lie in [-balls, balls].
The paddle keeps its column from one ball to the next.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

LEFT, STAY, RIGHT = 0, 1, 2


class CatchEnv(gymnasium.Env):
    """Observation: (ball column, ball row, paddle column), each scaled to [0, 1].
    Actions: 0 move left, 1 stay, 2 move right."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 8}

    def __init__(self, width: int = 5, height: int = 6, balls: int = 10, render_mode: str | None = None) -> None:
        if width < 2 or height < 2 or balls < 1:
            raise ValueError(f"need width >= 2, height >= 2 and balls >= 1, got {width}, {height}, {balls}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.width, self.height, self.balls = width, height, balls
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)
        self.action_space = spaces.Discrete(3)
        self._ball = np.zeros(2, dtype=np.int64)  # (column, row); row 0 is the top
        self._paddle = width // 2
        self._balls_left = balls

    def _obs(self) -> np.ndarray:
        scale = np.array([self.width - 1, self.height - 1, self.width - 1], dtype=np.float32)
        return np.array([self._ball[0], self._ball[1], self._paddle], dtype=np.float32) / scale

    def _drop_ball(self) -> None:
        self._ball[:] = (self.np_random.integers(self.width), 0)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._paddle = self.width // 2
        self._balls_left = self.balls
        self._drop_ball()
        return self._obs(), {"balls_left": self._balls_left}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"invalid action {action!r}: expected 0 (left), 1 (stay) or 2 (right)")
        self._paddle = int(np.clip(self._paddle + int(action) - 1, 0, self.width - 1))
        self._ball[1] += 1
        reward, terminated = 0.0, False
        if self._ball[1] == self.height - 1:
            reward = 1.0 if self._ball[0] == self._paddle else -1.0
            self._balls_left -= 1
            terminated = self._balls_left == 0
            if not terminated:
                self._drop_ball()
        return self._obs(), reward, terminated, False, {"balls_left": self._balls_left}

    def render(self):
        if self.render_mode == "ansi":
            rows = [["."] * self.width for _ in range(self.height)]
            rows[self.height - 1][self._paddle] = "="
            rows[self._ball[1]][self._ball[0]] = "o"
            return "\n".join("".join(row) for row in rows) + "\n"
        if self.render_mode == "rgb_array":
            cell = 16
            image = np.zeros((self.height * cell, self.width * cell, 3), dtype=np.uint8)
            column, row = self._ball
            image[row * cell:(row + 1) * cell, column * cell:(column + 1) * cell] = (240, 200, 40)
            bottom = (self.height - 1) * cell
            image[bottom + cell // 2:bottom + cell, self._paddle * cell:(self._paddle + 1) * cell] = (80, 160, 255)
            return image
        return None
