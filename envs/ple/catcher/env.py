"""CatcherEnv: PLE's Catcher as a gymnasium 1.x env, a drop-in for gym-games' ``Catcher-PLE-v0``.

* actions: 0 = left, 1 = right, 2 = no-op (a key press lasts one frame);
* reward: +1 per fruit caught, -1 per fruit missed, and -5 more when the third is missed, which
  ends the game (so the last step returns -6); no time limit of its own;
* observation: ``player_x, player_vel, fruit_x, fruit_y``. gym-games normalises it by default,
  and so does this env (``normalize=True``): float32 ``[(x - 26)/26, vel/8, (fruit_x - 26)/26,
  (fruit_y - 20)/45]``, bit-identical to gym-games' float32 arithmetic; ``normalize=False`` gives
  the float32 cast of the raw values. ``info["state"]`` is always the raw state in float64.

Seeding, the step contract and rendering are the family's (:mod:`..env`); the rules are in
:mod:`.game`.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

from ..env import PLEEnv
from ..render import blank, fill_rect
from .game import (
    FRUIT_SIZE,
    FRUIT_X,
    FRUIT_Y,
    HEIGHT,
    PADDLE_HEIGHT,
    PADDLE_MAX_X,
    PADDLE_WIDTH,
    PADDLE_Y,
    PLAYER_SPEED,
    WIDTH,
    CatcherGame,
)

PADDLE_COLOUR = (255, 255, 255)
FRUIT_COLOUR = (255, 120, 120)


def normalized(state: Sequence) -> list:
    """gym-games' normalisation, on doubles (or float64 arrays).

    gym-games computes it in float32 on the float32 cast of the state. Computing it in float64 and
    rounding once to float32 gives the same bits: the inputs are float32-exact (integers) or scaled
    by a power of two (the velocity), and a float64 quotient of float32 numbers rounds to float32
    exactly as the float32 quotient does (53 >= 2 * 24 + 2 bits). Tested on every reachable value.
    """
    x, vel, fruit_x, fruit_y = state
    return [(x - 26) / 26, vel / 8, (fruit_x - 26) / 26, (fruit_y - 20) / 45]


def observation_bounds(normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of every observation. The velocity's limit is the fixed point of always
    pushing one way, 9 * 1.344; the fruit is seen from its spawn height to the bottom row."""
    terminal_speed = PLAYER_SPEED * 0.9 / (1 - 0.9)
    low = np.array([0, -terminal_speed, FRUIT_X[0], -FRUIT_Y[-1]], dtype=np.float64)
    high = np.array([PADDLE_MAX_X, terminal_speed, FRUIT_X[-1], HEIGHT], dtype=np.float64)
    low, high = np.floor(low), np.ceil(high)  # round outward
    if normalize:
        low, high = np.array(normalized(low)), np.array(normalized(high))  # increasing in every entry
    return low.astype(np.float32), high.astype(np.float32)


def draw(state: Sequence[float]) -> np.ndarray:
    """A (64, 64, 3) frame of the state vector: the paddle and the fruit on black."""
    x, _, fruit_x, fruit_y = (int(v) if i != 1 else v for i, v in enumerate(state))
    frame = blank(WIDTH, HEIGHT)
    fill_rect(frame, x - PADDLE_WIDTH // 2, PADDLE_Y - PADDLE_HEIGHT // 2, PADDLE_WIDTH, PADDLE_HEIGHT, PADDLE_COLOUR)
    fill_rect(frame, fruit_x - FRUIT_SIZE // 2, fruit_y - FRUIT_SIZE // 2, FRUIT_SIZE, FRUIT_SIZE, FRUIT_COLOUR)
    return frame


class CatcherEnv(PLEEnv):
    """PLE's Catcher; see the module docstring."""

    title = "Catcher"

    def __init__(
        self,
        render_mode: str | None = None,
        *,
        normalize: bool = True,
        render_scale: int | None = None,
        max_episode_steps: int | None = None,
        display: bool = False,
    ) -> None:
        self.normalize = normalize
        space = gym.spaces.Box(*observation_bounds(normalize), dtype=np.float32)
        super().__init__(space, 3, render_mode, render_scale, max_episode_steps, display)

    def _new_game(self, rng) -> CatcherGame:
        return CatcherGame(rng)

    def _observe(self, state: list[float]) -> np.ndarray:
        return np.array(normalized(state) if self.normalize else state, dtype=np.float32)

    def draw(self) -> np.ndarray:
        return draw(self.game_state())
