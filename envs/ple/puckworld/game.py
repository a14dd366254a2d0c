"""The rules of PLE's PuckWorld at 64x64 and 30 fps: constants and one frame of play.

The agent (a small disc pushed by the keys) should stay near a green creep that jumps to a new
random place every 500 frames, and away from a red puck that slowly chases it. Every frame costs
the distance to the green creep, plus a penalty inside the puck's radius. The game never ends.

Everything is a double (positions in px, velocities in px per second). The arithmetic follows
the original expression by expression (``FACTS-puckworld.md``, section 2), and the reward is a
difference of running scores, as PLE computes it (see :meth:`PuckWorldGame.step`).
"""

from __future__ import annotations

import math

from ..env import FPS
from ..rng import RandomStream

WIDTH = HEIGHT = 64
DT = (1000.0 / FPS) / 1000.0  # seconds per frame, as the game forms it

RADIUS = round(0.047 * WIDTH)  # 3: the agent's and the green creep's radius
AGENT_START = RADIUS * 1.5  # 4.5, in x and y
AGENT_PUSH = 0.2 * WIDTH  # 12.8 px/s added to the velocity per frame with a key
AGENT_MAX = WIDTH - RADIUS * 2  # 58: the right and bottom walls (the left and top are at 0)
DECAY = 0.975  # velocity kept per frame, unless a wall stopped the agent
#: The push (dx, dy) by action: 0 = up, 1 = left, 2 = right, 3 = down, 4 = no-op.
PUSH = ((0.0, -AGENT_PUSH), (-AGENT_PUSH, 0.0), (AGENT_PUSH, 0.0), (0.0, AGENT_PUSH), (0.0, 0.0))

CREEP_LOW, CREEP_HIGH = RADIUS * 3, WIDTH - RADIUS * 2.5  # the green creep's range: [9, 56.5)
CREEP_JUMP_EVERY = 500  # frames
PUCK_RADIUS = round(0.265 * WIDTH)  # 17: inside it, a penalty
PUCK_SPEED = 0.05 * WIDTH  # 3.2 px/s
PUCK_START = (WIDTH, HEIGHT)  # the bottom-right corner

#: The state vector's names, in the order of the original's getGameState (and gym-games').
STATE_KEYS = (
    "player_x", "player_y", "player_velocity_x", "player_velocity_y",
    "good_creep_x", "good_creep_y", "bad_creep_x", "bad_creep_y",
)


def agent_axis_step(position: float, velocity: float, push: float, high_wall_hit) -> tuple[float, float]:
    """One axis of the agent: push, move with the new velocity, then stop at a wall or decay."""
    velocity = velocity + push
    new = position + velocity * DT
    if high_wall_hit(new):
        return AGENT_MAX, 0.0
    if new < 0.0:
        return 0.0, 0.0
    return new, velocity * DECAY


def beyond_right(x: float) -> bool:
    return x >= AGENT_MAX  # x stops at the wall with >=


def beyond_bottom(y: float) -> bool:
    return y > AGENT_MAX  # y only with > (a quirk of the original)


def frame_reward(distance_to_creep: float, distance_to_puck: float) -> float:
    """Minus the distance to the green creep, and inside the puck's radius a penalty that grows
    to -2 at its centre."""
    reward = -distance_to_creep
    if distance_to_puck < PUCK_RADIUS:
        reward += 2.0 * (distance_to_puck - PUCK_RADIUS) / float(PUCK_RADIUS)
    return reward


def draw_creep(rng: RandomStream) -> tuple[float, float]:
    """A new place for the green creep: two ``uniform`` draws, x first."""
    x = rng.uniform(CREEP_LOW, CREEP_HIGH)
    y = rng.uniform(CREEP_LOW, CREEP_HIGH)
    return x, y


class PuckWorldGame:
    """One game of PuckWorld on a random stream: ``reset`` starts an episode, ``step`` plays a frame."""

    FIELDS = ("x", "y", "vx", "vy", "creep_x", "creep_y", "puck_x", "puck_y", "ticks", "score", "over")

    def __init__(self, rng: RandomStream) -> None:
        self.rng = rng
        self.reset()

    def reset(self) -> None:
        """The original's ``init``: agent in the top-left corner at rest, puck in the opposite
        corner, the green creep somewhere random (two draws), score and frame count at 0."""
        self.x = self.y = AGENT_START
        self.vx = self.vy = 0.0
        self.creep_x, self.creep_y = draw_creep(self.rng)
        self.puck_x, self.puck_y = float(PUCK_START[0]), float(PUCK_START[1])
        self.ticks = 0
        self.score = 0.0
        self.over = False  # never true

    def step(self, action: int) -> float:
        """One frame; returns PLE's reward: the running score after it minus the score before.

        The score sums the frame rewards in float64, so the difference is the frame's reward
        rounded to the precision of the running score: it differs from the frame's own reward in
        the last bits on almost every frame, and the original returns the difference.
        """
        self.ticks += 1
        push_x, push_y = PUSH[action]
        self.x, self.vx = agent_axis_step(self.x, self.vx, push_x, beyond_right)
        self.y, self.vy = agent_axis_step(self.y, self.vy, push_y, beyond_bottom)

        # Distances from the moved agent to the creeps where they were.
        dx, dy = self.x - self.creep_x, self.y - self.creep_y
        distance_to_creep = math.sqrt(dx * dx + dy * dy)
        dx, dy = self.x - self.puck_x, self.y - self.puck_y
        distance_to_puck = math.sqrt(dx * dx + dy * dy)
        before = self.score
        self.score = before + frame_reward(distance_to_creep, distance_to_puck)

        if self.ticks % CREEP_JUMP_EVERY == 0:
            self.creep_x, self.creep_y = draw_creep(self.rng)
        # The puck creeps toward the agent (the green creep's own update adds 0.0: it stays).
        if distance_to_puck != 0.0:
            self.puck_x += dx / distance_to_puck * PUCK_SPEED * DT
            self.puck_y += dy / distance_to_puck * PUCK_SPEED * DT
        return self.score - before

    def state(self) -> list[float]:
        """getGameState's values, in :data:`STATE_KEYS` order."""
        return [self.x, self.y, self.vx, self.vy, self.creep_x, self.creep_y, self.puck_x, self.puck_y]
