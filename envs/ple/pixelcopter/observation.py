"""The observation: the original's 7-vector, its bounds, and the optional normalisation."""

from __future__ import annotations

import numpy as np

from .game import (
    BLOCK_HEIGHT,
    BLOCK_X_RANGE,
    BLOCK_Y_RANGE,
    CAVE_AMPLITUDE,
    CAVE_HALF_GAP,
    CAVE_MIDDLE,
    DAMPING,
    FPS,
    GRAVITY_DV,
    HEIGHT,
    PLAYER_X,
    SCREEN_BOTTOM,
    SCREEN_TOP,
    THRUST_DV,
    WIDTH,
)

# Names in vector order, as the original spells them. Two quirks are kept: the ceiling
# distance comes before the floor distance, and "top"/"bottom" are the block's centre and
# centre + 9 (4-5 px below its real bottom edge).
OBS_KEYS = (
    "player_y",
    "player_vel",
    "player_dist_to_ceil",
    "player_dist_to_floor",
    "next_gate_dist_to_player",
    "next_gate_block_top",
    "next_gate_block_bottom",
)

#: What ``normalize=True`` multiplies the float32 vector by (in float32, in both envs):
#: lengths in screen heights (or widths), the velocity in screen heights per second.
NORMALIZE_SCALE = np.array(
    [1 / HEIGHT, FPS / HEIGHT, 1 / HEIGHT, 1 / HEIGHT, 1 / WIDTH, 1 / HEIGHT, 1 / HEIGHT], dtype=np.float32
)


def observation_bounds(normalize: bool = False, block_edges: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) that every observation lies in, terminal ones included.

    The original declares (-inf, inf); gymnasium's checker asks for finite bounds, so these
    are derived from the physics. Velocity: damping keeps it between the fixed points of
    always thrusting (99 * THRUST_DV = -55.44) and always falling (99 * GRAVITY_DV = 5.7).
    Position: the player is alive only within the screen band [6, 42], so the terminal frame
    can be at most one velocity step beyond it. Cave centres are 18..30.
    """
    v_low = DAMPING / (1 - DAMPING) * THRUST_DV
    v_high = DAMPING / (1 - DAMPING) * GRAVITY_DV
    y_low, y_high = SCREEN_TOP + v_low, SCREEN_BOTTOM + v_high
    c_low, c_high = CAVE_MIDDLE - CAVE_AMPLITUDE, CAVE_MIDDLE + CAVE_AMPLITUDE
    block_low, block_high = BLOCK_Y_RANGE[0], BLOCK_Y_RANGE[1] - 1  # block centres
    if block_edges:  # entries 5 and 6: centre -/+ 4.5
        top = (block_low - BLOCK_HEIGHT / 2, block_high - BLOCK_HEIGHT / 2)
        bottom = (block_low + BLOCK_HEIGHT / 2, block_high + BLOCK_HEIGHT / 2)
    else:  # centre, and centre + 9
        top = (block_low, block_high)
        bottom = (block_low + BLOCK_HEIGHT, block_high + BLOCK_HEIGHT)
    ceiling_line = (c_low - CAVE_HALF_GAP, c_high - CAVE_HALF_GAP)
    floor_line = (c_low + CAVE_HALF_GAP, c_high + CAVE_HALF_GAP)
    gate = (0.0, BLOCK_X_RANGE[1] - 1 - PLAYER_X)
    low = [y_low, v_low, y_low - ceiling_line[1], floor_line[0] - y_high, gate[0], top[0], bottom[0]]
    high = [y_high, v_high, y_high - ceiling_line[0], floor_line[1] - y_low, gate[1], top[1], bottom[1]]
    low, high = np.floor(np.array(low)), np.ceil(np.array(high))  # round outward
    if normalize:
        low, high = low * NORMALIZE_SCALE, high * NORMALIZE_SCALE
    return low.astype(np.float32), high.astype(np.float32)
