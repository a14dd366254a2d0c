"""The rules of PLE's Catcher at 64x64 and 30 fps: constants and one frame of play.

A paddle slides along the bottom; fruit falls from a random column. Catching a fruit scores +1,
missing one costs -1 and a life, and losing the third life costs -5 more and ends the game.

Positions live in pygame's integer rects (:mod:`..pixels`): the paddle's x is re-read as an
integer centre every frame while its velocity is a double that keeps accumulating. The
arithmetic follows the original expression by expression (see ``FACTS-catcher.md``, section 4,
for the citations). Coordinates: pixels, y grows downward, positions are rect centres.
"""

from __future__ import annotations

from ..env import FPS
from ..pixels import round_half_away, spans_overlap
from ..rng import RandomStream

WIDTH = HEIGHT = 64
DT = 1000.0 / FPS  # ms per frame

# --- paddle: 13 x 3 px (rounded percentages of the screen), centre row 58 --------------------------
PADDLE_WIDTH = round(0.2 * WIDTH)
PADDLE_HEIGHT = round(0.04 * HEIGHT)
PADDLE_Y = HEIGHT - PADDLE_HEIGHT - 3
PADDLE_START_X = round_half_away(WIDTH / 2 - PADDLE_WIDTH / 2)  # 25.5 -> 26
PADDLE_MAX_X = WIDTH - PADDLE_WIDTH  # 51: the right clamp stops 6 px short of the edge (a quirk)
DAMPING = 0.9
PLAYER_SPEED = 0.021 * WIDTH  # 1.344: the push of one key press, per frame (not scaled by dt)
#: The push by action: 0 = left, 1 = right, 2 = no-op.
PUSH = (-PLAYER_SPEED, PLAYER_SPEED, 0.0)

# --- fruit: 4 x 4 px, spawned above the screen -----------------------------------------------------
FRUIT_SIZE = round(0.06 * HEIGHT)
FRUIT_X = range(2 * FRUIT_SIZE, WIDTH - 2 * FRUIT_SIZE, FRUIT_SIZE)  # centre x: 8, 12, ..., 52
FRUIT_Y = range(FRUIT_SIZE, HEIGHT // 2, FRUIT_SIZE)  # spawn height: 4, ..., 28, placed at -y
FALL_SPEED = 0.00095 * HEIGHT  # px per ms
# The fruit's centre is re-rounded every frame: round(y + 0.0608 * dt) is y + 2 for every
# integer y it can have, so it falls exactly 2 px per frame.
FRUIT_FALL = 2
assert all(round_half_away(y + FALL_SPEED * DT) == y + FRUIT_FALL for y in range(-FRUIT_Y[-1], HEIGHT + 1))

LIVES = 3
# Rewards (PLE's defaults).
REWARD_CATCH = 1.0
REWARD_MISS = -1.0
REWARD_LOSS = -5.0

#: The state vector's names, in the order of the original's getGameState (and gym-games').
STATE_KEYS = ("player_x", "player_vel", "fruit_x", "fruit_y")


def paddle_step(x: int, vel: float, push: float) -> tuple[int, float]:
    """One frame of the paddle: (integer centre x, velocity) after a push (see :data:`PUSH`)."""
    vel = (vel + push) * DAMPING
    new_x = x + vel
    if new_x <= 0:
        vel, new_x = 0.0, 0
    if new_x + PADDLE_WIDTH >= WIDTH:
        vel, new_x = 0.0, PADDLE_MAX_X
    return round_half_away(new_x), vel


def catches(x, fruit_x, fruit_y):
    """Whether the paddle's rect (centre x, row 58) and the fruit's overlap (pygame's collide_rect),
    for numbers or arrays."""
    return spans_overlap(x - PADDLE_WIDTH // 2, PADDLE_WIDTH, fruit_x - FRUIT_SIZE // 2, FRUIT_SIZE) & spans_overlap(
        PADDLE_Y - PADDLE_HEIGHT // 2, PADDLE_HEIGHT, fruit_y - FRUIT_SIZE // 2, FRUIT_SIZE
    )


def draw_fruit(rng: RandomStream) -> tuple[int, int]:
    """A new fruit's centre: x, then the spawn height (two draws); it starts above the screen."""
    x = rng.choice(FRUIT_X)
    y = rng.choice(FRUIT_Y)
    return x, -y


class CatcherGame:
    """One game of Catcher on a random stream: ``reset`` starts an episode, ``step`` plays a frame."""

    FIELDS = ("x", "vel", "fruit_x", "fruit_y", "lives", "over")

    def __init__(self, rng: RandomStream) -> None:
        self.rng = rng
        self.reset()

    def reset(self) -> None:
        """The original's ``init``: a new paddle, three lives, a new fruit (two draws)."""
        self.x, self.vel = PADDLE_START_X, 0.0
        self.lives = LIVES
        self.over = False
        self.fruit_x, self.fruit_y = draw_fruit(self.rng)

    def step(self, action: int) -> float:
        """One frame; returns its reward. Collisions use the positions of the end of the last frame."""
        reward = 0.0
        if self.fruit_y >= HEIGHT:  # missed: it fell past the bottom
            reward += REWARD_MISS
            self.lives -= 1
            self.fruit_x, self.fruit_y = draw_fruit(self.rng)
        if catches(self.x, self.fruit_x, self.fruit_y):
            reward += REWARD_CATCH
            self.fruit_x, self.fruit_y = draw_fruit(self.rng)
        self.x, self.vel = paddle_step(self.x, self.vel, PUSH[action])
        self.fruit_y += FRUIT_FALL  # a fruit spawned this frame falls too
        if self.lives == 0:
            reward += REWARD_LOSS
            self.over = True
        return reward

    def state(self) -> list[float]:
        """getGameState's values, in :data:`STATE_KEYS` order."""
        return [float(self.x), self.vel, float(self.fruit_x), float(self.fruit_y)]
