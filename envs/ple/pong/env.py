"""PongEnv: PLE's Pong as a gymnasium 1.x env, a drop-in for gym-games' ``Pong-PLE-v0``.

* actions: 0 = up, 1 = down, 2 = no-op (a key press lasts one frame);
* reward: +1 when the agent (left paddle) scores, -1 when the CPU does, and +5/-5 more when
  either reaches 11 points, which ends the game (the last step returns +6 or -6); no time limit;
* observation: ``player_y, player_velocity, cpu_y, ball_x, ball_y, ball_velocity_x,
  ball_velocity_y``, the float32 cast of the game's doubles (as gym-games gives it; its
  ``normalize`` flag changes nothing for Pong, here too). ``info["state"]`` is the same in float64;
* the original's quirks are kept: a paddle hit adds 1.8 to the ball's x speed *before* negating
  it (rallies never speed up), the agent paddle's px-per-frame velocity is added twice to the
  ball's px-per-second one, the CPU clamps before it moves, and the paddles freeze on a frame
  with a point. A fresh game (``reset(seed=...)``) always starts the same way; later resets
  serve in a random direction.

Seeding, the step contract and rendering are the family's (:mod:`..env`); the rules are in
:mod:`.game`.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

from ..env import PLEEnv
from ..pixels import round_half_away
from ..render import blank, fill_rect
from .game import (
    AGENT_X,
    BALL_RADIUS,
    BALL_SPEED,
    CPU_SPEED,
    CPU_X,
    DAMPING,
    DT,
    HEIGHT,
    HIT_SPEEDUP,
    PADDLE_BOTTOM,
    PADDLE_HEIGHT,
    PADDLE_TOP,
    PADDLE_WIDTH,
    PUSH,
    WIDTH,
    PongGame,
)

WHITE = (255, 255, 255)
#: A bound on the ball's vertical speed (px/s). Serves are within +-18 and only agent hits add
#: speed (at most 2 x 5.76 each) while every wall bounce takes 1% off; the two balance near
#: 120 px/s even for a paddle that hits at full speed every time.
MAX_BALL_VY = 200.0


def observation_bounds() -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of every observation. The agent's speed is at most the fixed point of always
    pushing, 9 * 0.64 px/frame; the CPU overshoots its clamp by one move (0.96 px); the ball's x
    speed is one of -37.8, -36, 34.2, 36; its height can pass a wall by one frame's move."""
    agent_speed = -PUSH[0] * DT * DAMPING / (1 - DAMPING)
    cpu_move = CPU_SPEED * DT
    vx = BALL_SPEED + HIT_SPEEDUP
    overshoot = MAX_BALL_VY * DT + BALL_RADIUS
    low = [PADDLE_TOP, -agent_speed, PADDLE_TOP - cpu_move, 0, -overshoot, -vx, -MAX_BALL_VY]
    high = [PADDLE_BOTTOM, agent_speed, PADDLE_BOTTOM + cpu_move, WIDTH, HEIGHT + overshoot, vx, MAX_BALL_VY]
    return np.floor(low).astype(np.float32), np.ceil(high).astype(np.float32)


def draw(state: Sequence[float]) -> np.ndarray:
    """A (48, 64, 3) frame of the state vector: two paddles and the ball, white on black."""
    player_y, _, cpu_y, ball_x, ball_y, _, _ = state
    frame = blank(WIDTH, HEIGHT)
    for x, y in ((AGENT_X, player_y), (CPU_X, cpu_y)):
        top = round_half_away(y) - PADDLE_HEIGHT // 2
        fill_rect(frame, x - PADDLE_WIDTH // 2, top, PADDLE_WIDTH, PADDLE_HEIGHT, WHITE)
    size = 2 * BALL_RADIUS
    fill_rect(frame, round_half_away(ball_x) - BALL_RADIUS, round_half_away(ball_y) - BALL_RADIUS, size, size, WHITE)
    return frame


class PongEnv(PLEEnv):
    """PLE's Pong; see the module docstring."""

    title = "Pong"

    def __init__(
        self,
        render_mode: str | None = None,
        *,
        normalize: bool = False,
        render_scale: int | None = None,
        max_episode_steps: int | None = None,
        display: bool = False,
    ) -> None:
        self.normalize = normalize  # accepted as gym-games does; it does not change Pong's observation
        space = gym.spaces.Box(*observation_bounds(), dtype=np.float32)
        super().__init__(space, 3, render_mode, render_scale, max_episode_steps, display)

    def _new_game(self, rng) -> PongGame:
        return PongGame(rng)

    def draw(self) -> np.ndarray:
        return draw(self.game_state())
