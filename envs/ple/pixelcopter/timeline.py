"""Precomputed scrolling: where blocks and cave columns are, as a function of their age.

Why tables: every object in Pixelcopter spawns at an integer x and then loses exactly
``SCROLL`` (0.64 px) per frame, one float64 subtraction at a time. After k frames its x is
therefore a fixed function of (spawn x, k) -- and there are few spawn xs (blocks: 48..71;
columns: 2, 6, ..., 238). We run those subtractions once, here, in the same order as the
original, and then the envs look positions up instead of updating dozens of floats per
frame. The values are bit-identical to what per-frame subtraction gives.

The cave goes further. Only the column *heights* are random; where columns spawn (chunks of
48 at fixed screen x) and when a chunk is added (when 13 or fewer columns remain) do not
depend on anything the player does. So which columns are under the player, which column
scrolls off, and when the next chunk arrives, are all a function of the frame number since
the level started. :data:`CAVE` tabulates that once. Live columns keep their heights in a
ring of 96 slots (two chunks; a chunk is always used up before the one after next arrives),
and the table speaks in slot numbers.

After the second refill the cave repeats exactly with a period of two chunks, so the table
covers frames ``0 .. CAVE.length - 1`` and then wraps to ``CAVE.loop_start`` (see
:func:`next_position`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from ..pixels import round_half_away_array
from .game import (
    CHUNK_SIZE,
    COLUMN_WIDTH,
    FIRST_CHUNK_X,
    OFF_SCREEN_X,
    PLAYER_X,
    REFILL_AT,
    REFILL_CHUNK_X,
    SCROLL,
)

# Spawn xs that occur: blocks 48..71, columns 2 + 4i up to 238. Rows of the tables are
# indexed by spawn x directly (unused rows are harmless).
MAX_SPAWN_X = REFILL_CHUNK_X + COLUMN_WIDTH * (CHUNK_SIZE - 1)  # 238
# Every object is gone by this age (238 px to the left edge at 0.64 px/frame is < 400 frames).
MAX_AGE = 400
RING = 2 * CHUNK_SIZE  # cave slots: two chunks


def _scroll_table() -> np.ndarray:
    """x of an object spawned at integer x0 after k frames: ``X[x0, k]`` (float64)."""
    x = np.empty((MAX_SPAWN_X + 1, MAX_AGE), dtype=np.float64)
    x[:, 0] = np.arange(MAX_SPAWN_X + 1)
    for k in range(1, MAX_AGE):
        # One IEEE subtraction per frame, as the original does; not x0 - k * SCROLL.
        x[:, k] = x[:, k - 1] - SCROLL
    return x


X = _scroll_table()
X.flags.writeable = False

# Both blocks and columns are 4 px wide, so "overlaps the player horizontally" is the same
# test for both: the rect spans round(x)-2 .. round(x)+1, the player's columns 15..16, and
# touching edges do not collide, so round(x) must be in 14..18.
_ROUNDED = round_half_away_array(X)
OVERLAPS_PLAYER = (_ROUNDED >= PLAYER_X - 2) & (_ROUNDED <= PLAYER_X + 2)
OVERLAPS_PLAYER.flags.writeable = False


def _first_age(condition: np.ndarray) -> np.ndarray:
    """Per row, the first age at which ``condition`` holds (it holds from then on)."""
    return condition.argmax(axis=1)


# A block scores (and a new one spawns) once its centre x <= the player's x...
PASS_AGE = _first_age(X <= PLAYER_X)
# ...and every object is removed once its centre x <= -4.
GONE_AGE = _first_age(X <= OFF_SCREEN_X)


@dataclass(frozen=True)
class CaveTimeline:
    """Per frame position u of the cave timeline (see module docstring), what the cave does.

    ``overlaps[u]``: ring slots of the columns overlapping the player, in spawn order (1-3).
    ``removed[u]``: columns scrolling off the left edge on this frame (each scores +1).
    ``refill[u]``: ring offset (0 or 48) of the chunk added at the end of this frame, or -1.
    ``arrivals[u]``: ``(slot, spawn x)`` of the columns that start overlapping the player on
    this frame (the envs compute a column's height only then: until a column reaches the
    player, nothing in the game looks at it).
    ``chunks[u]``: live chunks after this frame, oldest first, as
    ``(ring offset, spawn x of column 0, age, index of the first live column)``.
    """

    overlaps: tuple[tuple[int, ...], ...]
    removed: tuple[int, ...]
    refill: tuple[int, ...]
    arrivals: tuple[tuple[tuple[int, int], ...], ...]
    chunks: tuple[tuple[tuple[int, int, int, int], ...], ...]
    loop_start: int

    @property
    def length(self) -> int:
        return len(self.removed)

    def live_slots(self, u: int) -> list[int]:
        """Ring slots of the live columns after frame position u, in spawn order."""
        return [offset + i for offset, _, _, first in self.chunks[u] for i in range(first, CHUNK_SIZE)]

    def live_columns(self, u: int) -> list[tuple[int, int, float]]:
        """(ring slot, spawn x, current x) of the live columns after position u, in spawn order."""
        return [
            (offset + i, base + COLUMN_WIDTH * i, float(X[base + COLUMN_WIDTH * i, age]))
            for offset, base, age, first in self.chunks[u]
            for i in range(first, CHUNK_SIZE)
        ]


def _build_cave_timeline() -> CaveTimeline:
    # Per column of a chunk spawned at base x (2 or 50): the first and last age at which it
    # overlaps the player, and the age at which it is removed. All increase with the column
    # index, so the columns doing something at a given age are found by bisection.
    def ages(base: int) -> tuple[list[int], list[int], list[int]]:
        xs = base + COLUMN_WIDTH * np.arange(CHUNK_SIZE)
        overlaps = OVERLAPS_PLAYER[xs]
        ever = overlaps.any(axis=1)  # the first chunk's columns 0-2 start behind the player
        first = np.where(ever, overlaps.argmax(axis=1), -1)
        last = np.where(ever, overlaps.shape[1] - 1 - overlaps[:, ::-1].argmax(axis=1), -1)
        assert (overlaps.sum(axis=1) == np.where(ever, last - first + 1, 0)).all()  # one stretch each
        return first.tolist(), last.tolist(), GONE_AGE[xs].tolist()

    column_ages = {base: ages(base) for base in (FIRST_CHUNK_X, REFILL_CHUNK_X)}

    # Chunk spawn frames follow from the rule "refill when <= 13 remain": chunk j is down to
    # its last 13 columns when its column 34 scrolls off (the chunk before is gone by then,
    # checked below). Seven chunks show the period (two chunks, from the 2nd refill on) twice.
    chunk_x = [FIRST_CHUNK_X] + [REFILL_CHUNK_X] * 6
    spawn = [0]
    for base in chunk_x[:-1]:
        spawn.append(spawn[-1] + column_ages[base][2][CHUNK_SIZE - REFILL_AT - 1])

    overlaps, removed, refill, arrivals, chunks = [], [], [], [], []
    for u in range(spawn[-1] + 1):
        ovl, arr, live, gone_now, n_live = [], [], [], 0, 0
        for j, (base, t0) in enumerate(zip(chunk_x, spawn)):
            if t0 > u:
                break
            age, offset = u - t0, CHUNK_SIZE * (j % 2)
            first, last, gone = column_ages[base]
            n_gone = bisect_right(gone, age)
            if n_gone == CHUNK_SIZE and gone[-1] < age:
                continue  # long gone
            gone_now += n_gone - bisect_left(gone, age)
            ovl += [offset + i for i in range(bisect_left(last, age), bisect_right(first, age))]
            arriving = range(bisect_left(first, age), bisect_right(first, age))
            arr += [(offset + i, base + COLUMN_WIDTH * i) for i in arriving]
            if n_gone < CHUNK_SIZE:
                live.append((offset, base, age, n_gone))
            if t0 < u:  # a chunk spawned on this frame arrives after the refill test
                n_live += CHUNK_SIZE - n_gone
        overlaps.append(tuple(ovl))
        removed.append(gone_now)
        refill.append(CHUNK_SIZE * (spawn.index(u) % 2) if u in spawn[1:] else -1)
        arrivals.append(tuple(arr))
        chunks.append(tuple(live))
        # Invariants the envs rely on: a column is always under the player, two chunks at
        # most are live (so a ring of 96 slots suffices), and refills happen where we said.
        assert 1 <= len(ovl) <= 3, (u, ovl)
        assert len(live) <= 2, (u, live)
        assert u == 0 or (n_live <= REFILL_AT) == (u in spawn[1:]), u

    # Periodicity: from the second refill on, the timeline repeats every two chunks.
    start, period = spawn[2], spawn[4] - spawn[2]
    assert spawn[6] - spawn[4] == period
    for u in range(start + 1, start + period + 1):
        v = u + period
        assert (overlaps[u], removed[u], refill[u], arrivals[u]) == (overlaps[v], removed[v], refill[v], arrivals[v])
        assert chunks[u] == chunks[v], u
    end = start + period + 1  # positions 0 .. start + period, then back to start + 1
    return CaveTimeline(
        overlaps=tuple(overlaps[:end]),
        removed=tuple(removed[:end]),
        refill=tuple(refill[:end]),
        arrivals=tuple(arrivals[:end]),
        chunks=tuple(chunks[:end]),
        loop_start=start + 1,
    )


CAVE = _build_cave_timeline()


def next_position(u: int) -> int:
    """The cave timeline position of the frame after position u."""
    u += 1
    return CAVE.loop_start if u == CAVE.length else u


def position_of_frame(frame: int) -> int:
    """The cave timeline position of a frame number (frames since the level started)."""
    if frame < CAVE.length:
        return frame
    return CAVE.loop_start + (frame - CAVE.loop_start) % (CAVE.length - CAVE.loop_start)
