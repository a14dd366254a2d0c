"""The rules of PLE's Pixelcopter at 48x48 and 30 fps: constants, physics and level generation.

Everything here is plain Python on floats and ints, so the single env (:mod:`.env`) and the
batched env (:mod:`.vector_env`) share one definition of each rule. The arithmetic follows the
original expression by expression (float64, same operand order), because the reference
trajectories are reproduced bit for bit, and many rounding steps away a single reordered
product changes an episode.

Coordinates: pixels, y grows downward (0 is the top row), positions are sprite centres.
One env step is one game frame of ``DT`` milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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

# Observation vector, in the original's order (names as the original spells them).
OBS_KEYS = (
    "player_y",
    "player_vel",
    "player_dist_to_ceil",
    "player_dist_to_floor",
    "next_gate_dist_to_player",
    "next_gate_block_top",  # really the block's centre y
    "next_gate_block_bottom",  # really centre y + 9, i.e. 4-5 px below the block
)


def round_half_away(x: float) -> int:
    """Round to the nearest integer, halves away from zero, as pygame places a rect's centre.

    ``int(x)`` truncates toward zero and ``x - int(x)`` is exact, so doubling the remainder
    and truncating again adds the missing -1/0/+1 without any rounding error.
    """
    i = int(x)
    return i + int(2.0 * (x - i))


def round_half_away_array(x: np.ndarray) -> np.ndarray:
    """:func:`round_half_away` for arrays (returns floats holding integers)."""
    whole = np.trunc(x)
    return whole + np.trunc(2.0 * (x - whole))


def player_step(y: float, v: float, thrust: bool) -> tuple[float, float]:
    """One frame of the helicopter: accelerate, damp, move (in that order)."""
    v = (v + (THRUST_DV if thrust else GRAVITY_DV)) * DAMPING
    return y + v, v


def column_centre(frequency: float, x0: int, phase: float) -> int:
    """Centre height of a cave column spawned at x0: 24 + 6 sin(f x0 + phase), truncated."""
    return int(CAVE_MIDDLE + CAVE_AMPLITUDE * math.sin(frequency * x0 + phase))


def chunk_centres(frequency_offset: float, phases: np.ndarray | list[float], first_x: int) -> list[int]:
    """Centre heights of one chunk of 48 columns spawned at first_x, first_x + 4, ..."""
    frequency = BASE_FREQUENCY + frequency_offset
    return [column_centre(frequency, first_x + COLUMN_WIDTH * i, phase) for i, phase in enumerate(phases)]


def cave_hits(y: float, centre: int) -> int:
    """Lives lost to one cave column that overlaps the player (0, 1 or, never in practice, 2).

    The ceiling kills when the player's centre is within one nominal player height (2.4 px)
    of the line 12 px above the column centre; the floor when it reaches 12 px below.
    """
    return int(y - PLAYER_SIZE <= centre - CAVE_HALF_GAP) + int(y >= centre + CAVE_HALF_GAP)


def block_overlaps_vertically(player_row: int, block_y: int) -> bool:
    """Whether the player's 2-px rect (rows r-1, r) shares a row with a block's 9-px rect.

    Rects touch without colliding when edges meet, so this is a strict interval overlap:
    block rows are block_y-4 .. block_y+4, player rows player_row-1 .. player_row.
    """
    return block_y - 5 < player_row < block_y + 6


# --- level generation: the draw order is part of the contract --------------------------------
def draw_block(rng: np.random.RandomState) -> tuple[int, int]:
    """A new block's spawn centre (x, y): two randints, x first."""
    x = int(rng.randint(*BLOCK_X_RANGE))
    y = int(rng.randint(*BLOCK_Y_RANGE))
    return x, y


def draw_chunk(rng: np.random.RandomState, first_x: int) -> tuple[float, np.ndarray, list[int]]:
    """A new chunk of 48 cave columns: (frequency offset, phases, centre heights).

    One uniform for the chunk's frequency, then one per column, left to right. Drawing the
    48 phases with one ``size=48`` call gives the same doubles as 48 scalar calls.
    """
    frequency_offset = float(rng.uniform(-0.01, 0.01))
    phases = rng.uniform(0.0, 0.5, CHUNK_SIZE)
    return frequency_offset, phases, chunk_centres(frequency_offset, phases, first_x)


@dataclass(frozen=True)
class Level:
    """What one level generation draws: the first block and the first chunk of the cave."""

    block: tuple[int, int]
    frequency_offset: float
    phases: np.ndarray
    centres: list[int]


def draw_level(rng: np.random.RandomState) -> Level:
    """A new level, in the original's draw order: block x, block y, chunk (51 draws)."""
    block = draw_block(rng)
    frequency_offset, phases, centres = draw_chunk(rng, FIRST_CHUNK_X)
    return Level(block, frequency_offset, phases, centres)


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
