"""Drawing Pixelcopter frames with the family's numpy helpers (:mod:`..render`).

Frames are drawn straight into a (48, 48, 3) uint8 array from the game state, in the
original's colours (black background, green cave and blocks, white helicopter), so
``rgb_array`` rendering needs no pygame at all.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..pixels import round_half_away
from ..render import blank, fill_rect, scaled
from .game import (
    BLOCK_HEIGHT,
    BLOCK_WIDTH,
    CAVE_HALF_GAP,
    COLUMN_WIDTH,
    HEIGHT,
    PLAYER_RECT,
    PLAYER_X,
    WIDTH,
    GameState,
)
from .timeline import CAVE, X, position_of_frame

BACKGROUND = (0, 0, 0)
WALL_COLOUR = (120, 240, 80)
PLAYER_COLOUR = (255, 255, 255)

# A cave column is a 4 x 72 sprite centred on its centre height c; its ceiling is drawn over
# the sprite's rows 0..23 (down to c - 12) and its floor from row int(1.05 * 48) = 50
# (c + 14) to the end. Between them the sprite is transparent.
COLUMN_HEIGHT = int(1.5 * HEIGHT)
CEILING_ROWS = (0, COLUMN_HEIGHT // 2 - CAVE_HALF_GAP)
FLOOR_ROWS = (int(1.05 * HEIGHT), COLUMN_HEIGHT)


def draw_frame(
    player_y: float,
    blocks: Iterable[tuple[float, int]],
    columns: Iterable[tuple[float, int]],
    scale: int = 1,
) -> np.ndarray:
    """One frame as an (48*scale, 48*scale, 3) uint8 array, rows = y.

    ``blocks`` are (x, centre y) and ``columns`` (x, centre height) at their current positions.
    """
    frame = blank(WIDTH, HEIGHT, BACKGROUND)
    half = COLUMN_WIDTH // 2
    for x, centre in columns:
        left, top = round_half_away(x) - half, centre - COLUMN_HEIGHT // 2
        for first, last in (CEILING_ROWS, FLOOR_ROWS):
            fill_rect(frame, left, top + first, COLUMN_WIDTH, last - first, WALL_COLOUR)
    for x, y in blocks:
        left, top = round_half_away(x) - BLOCK_WIDTH // 2, y - BLOCK_HEIGHT // 2
        fill_rect(frame, left, top, BLOCK_WIDTH, BLOCK_HEIGHT, WALL_COLOUR)
    half = PLAYER_RECT // 2
    fill_rect(frame, PLAYER_X - half, round_half_away(player_y) - half, PLAYER_RECT, PLAYER_RECT, PLAYER_COLOUR)
    return scaled(frame, scale)


def draw_state(state: GameState, scale: int = 1) -> np.ndarray:
    """:func:`draw_frame` for a game snapshot (from either env's ``get_state``)."""
    u = position_of_frame(state.frame)
    return draw_frame(
        state.player_y,
        [(float(X[x0, age]), y) for x0, y, age in state.blocks],
        [(x, centre) for (_, _, x), centre in zip(CAVE.live_columns(u), state.cave, strict=True)],
        scale,
    )
