"""The rules of PLE's Pixelcopter at 48x48 and 30 fps: constants, physics and level generation.

The single env (:mod:`.env`) and the batched env (:mod:`.vector_env`) share these
definitions; the rule functions take Python numbers or numpy arrays alike. The arithmetic follows the
original expression by expression (float64, same operand order), because the reference
trajectories are reproduced bit for bit, and many rounding steps away a single reordered
product changes an episode.

Coordinates: pixels, y grows downward (0 is the top row), positions are sprite centres.
One env step is one game frame of ``DT`` milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import numpy as np

from ..rng import RandomStream

Number = TypeVar("Number", float, np.ndarray)

# --- screen and time -----------------------------------------------------------------------
WIDTH = 48
HEIGHT = 48
FPS = 30
DT = 1000.0 / FPS  # ms per frame; the original steps with a fixed dt at the default fps

# The game's unit of speed, in px per ms. It scales with the width only (a quirk kept as is).
SPEED = 0.0004 * WIDTH

# --- player ----------------------------------------------------------------------------------
PLAYER_X = int(0.35 * WIDTH)  # 16: the player never moves sideways, the world scrolls past
PLAYER_START_Y = HEIGHT / 2  # 24.0
# Velocity change per frame (px/frame) before damping. Acceleration is per ms but the
# position update is per frame, so these are accel * dt with the product formed first.
THRUST_DV = (SPEED * -0.875) * DT  # the "up" key held on this frame
GRAVITY_DV = (SPEED * 0.09) * DT  # no key
DAMPING = 0.99
# The player's sprite is 0.05*W = 2.4 px nominally, but its integer rect is 2 x 2.
PLAYER_SIZE = 0.05 * HEIGHT  # 2.4, used by the ceiling test
PLAYER_RECT = 2

# --- scrolling world -------------------------------------------------------------------------
SCROLL = SPEED * DT  # 0.6400000000000001 px per frame, subtracted from every x each frame

# Cave columns: 4 px wide, 72 px tall, spawned 48 at a time ("chunks") 4 px apart.
COLUMN_WIDTH = int(0.1 * WIDTH)  # 4
CHUNK_SIZE = 48
FIRST_CHUNK_X = 2  # columns of the first chunk at x = 2, 6, ..., 190
REFILL_CHUNK_X = WIDTH + 2  # later chunks at x = 50, ..., 238, in screen coordinates
REFILL_AT = 13  # a new chunk is added when this many columns or fewer remain (not scaled)
CAVE_AMPLITUDE = 0.125 * HEIGHT  # 6.0
CAVE_MIDDLE = HEIGHT / 2  # 24.0
BASE_FREQUENCY = 4.5 / WIDTH  # 0.09375 rad/px, plus a per-chunk random offset
# The drawn ceiling ends 0.25*H above a column's centre and the floor starts 0.3*H below it,
# but the collision lines sit at +-0.25*H = 12 px (see `cave_hits`).
CAVE_HALF_GAP = 12

# Blocks ("gates"): 4 x 9 px, centre x drawn from [W, 1.5W), centre y from [0.25H, 0.75H).
BLOCK_WIDTH = int(0.1 * WIDTH)  # 4
BLOCK_HEIGHT = int(0.2 * HEIGHT)  # 9
BLOCK_X_RANGE = (WIDTH, int(1.5 * WIDTH))  # randint bounds, high exclusive: 48..71
BLOCK_Y_RANGE = (int(0.25 * HEIGHT), int(0.75 * HEIGHT))  # 12..35

# Objects (blocks, columns) are dropped once their centre x is this far left.
OFF_SCREEN_X = -4

# The player also dies outside this band of the screen, whatever the cave does.
SCREEN_TOP = 0.125 * HEIGHT  # 6.0
SCREEN_BOTTOM = 0.875 * HEIGHT  # 42.0

# --- rewards (PLE defaults; gym_pygame adds no shaping) --------------------------------------
REWARD_POSITIVE = 1.0  # per cave column scrolled off the left edge, and per block passed
REWARD_LOSS = -5.0  # once, on the frame the game ends

# The rule functions below work on Python numbers and on numpy arrays alike, so the single
# and the batched env apply literally the same expressions.


def player_step(y: Number, v: Number, dv: Number) -> tuple[Number, Number]:
    """One frame of the helicopter: accelerate by dv (THRUST_DV or GRAVITY_DV), damp, move."""
    v = (v + dv) * DAMPING
    return y + v, v


def hits_ceiling(y: Number, centre: Number) -> Number:
    """Whether a cave column of this centre height that overlaps the player kills it from above.

    The kill line is 12 px above the column centre, and the player dies when its centre is
    within one nominal player height (2.4 px) of it.
    """
    return y - PLAYER_SIZE <= centre - CAVE_HALF_GAP


def hits_floor(y: Number, centre: Number) -> Number:
    """Whether an overlapping cave column kills the player from below (centre reaches c + 12)."""
    return y >= centre + CAVE_HALF_GAP


def block_band(block_y: Number) -> tuple[Number, Number]:
    """(low, high): the player's rect shares a row with the block's iff low <= y < high.

    In pixels: the player covers rows r-1 and r with r = round(y) (halves away from zero),
    the block (centre block_y, 9 rows) rows block_y-4 .. block_y+4, and touching edges do not
    collide, so they overlap iff block_y-4 <= r <= block_y+5. For y > 0, round(y) >= k iff
    y >= k - 0.5 and round(y) <= k iff y < k + 0.5, which gives this band without rounding;
    for y <= 0 both forms say no, because block_y >= 12.
    """
    return block_y - 4.5, block_y + 5.5


def block_overlaps_vertically(y: Number, block_y: Number) -> Number:
    """Whether the player shares a row with a block (see :func:`block_band`); whether they
    overlap horizontally comes from :data:`.timeline.OVERLAPS_PLAYER`."""
    low, high = block_band(block_y)
    return (y >= low) & (y < high)


def column_centre(frequency: float, x0: int, phase: float) -> int:
    """Centre height of a cave column spawned at x0: 24 + 6 sin(f x0 + phase), truncated.

    ``frequency`` is the chunk's, ``BASE_FREQUENCY + frequency_offset``.
    """
    return int(CAVE_MIDDLE + CAVE_AMPLITUDE * math.sin(frequency * x0 + phase))


def column_centres(frequency: np.ndarray, x0: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """:func:`column_centre` on arrays, as float64 (numpy's sin agrees with math.sin here:
    checked on millions of columns; both truncate toward zero)."""
    return np.trunc(CAVE_MIDDLE + CAVE_AMPLITUDE * np.sin(frequency * x0 + phase))


def chunk_centres(frequency_offset: float, phases: np.ndarray, first_x: int) -> list[int]:
    """Centre heights of the 48 columns of a chunk spawned at first_x, first_x + 4, ..."""
    x0 = first_x + COLUMN_WIDTH * np.arange(CHUNK_SIZE)
    return column_centres(BASE_FREQUENCY + frequency_offset, x0, phases).astype(np.int64).tolist()


# --- level generation: the draw order is part of the contract --------------------------------
def draw_block(rng: RandomStream) -> tuple[int, int]:
    """A new block's spawn centre (x, y): two randints, x first."""
    x = rng.randint(*BLOCK_X_RANGE)
    y = rng.randint(*BLOCK_Y_RANGE)
    return x, y


def draw_chunk(rng: RandomStream) -> tuple[float, np.ndarray]:
    """A new chunk of 48 cave columns: (frequency offset, phases).

    One ``uniform(-0.01, 0.01)`` for the chunk's frequency, then one ``uniform(0, 0.5)`` per
    column, left to right. Heights follow from these with :func:`column_centre`.
    """
    frequency_offset = rng.uniform(-0.01, 0.01)
    phases = rng.uniform(0.0, 0.5, CHUNK_SIZE)
    return frequency_offset, phases


class Level(NamedTuple):
    """What one level generation draws: the first block and the first chunk of the cave."""

    block: tuple[int, int]
    frequency_offset: float
    phases: np.ndarray

    @property
    def centres(self) -> list[int]:
        return chunk_centres(self.frequency_offset, self.phases, FIRST_CHUNK_X)


def draw_level(rng: RandomStream) -> Level:
    """A new level, in the original's draw order: block x, block y, chunk (51 draws)."""
    block = draw_block(rng)
    return Level(block, *draw_chunk(rng))


@dataclass
class GameState:
    """A complete, implementation-neutral snapshot of one game, for copying between envs.

    ``blocks`` are ``(spawn_x, y, age)`` in spawn order (the observed block last); ``age``
    counts the frames the block has scrolled since it spawned. ``cave`` holds the centre
    heights of the live cave columns in spawn order; which columns those are, and where, is
    a function of ``frame`` alone (see :mod:`.timeline`).
    """

    frame: int
    player_y: float
    player_vel: float
    blocks: list[tuple[int, int, int]]
    cave: list[int]
    game_over: bool = False
