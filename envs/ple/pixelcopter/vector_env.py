"""PixelcopterVectorEnv: N Pixelcopter games stepped together, one numpy array per state field.

Usable as ``gymnasium.make_vec("Pixelcopter-PLE-v0", num_envs=N,
vectorization_mode="vector_entry_point")``, like gymnasium's ``CartPoleVectorEnv``.

Same dynamics as :class:`.env.PixelcopterEnv`: from the same :class:`.game.GameState` and
action, both produce the same next state, observation, reward and termination (tested). The
rules come from :mod:`.game` and the scrolling from :mod:`.timeline`, applied to arrays.

Randomness is drawn differently, because drawing the original's 51 numbers one env at a time
would cost more than the whole step. Everything comes from gymnasium's ``np_random``
(seeded by ``reset(seed=...)``), in batches: block positions with ``integers`` over the same
ranges, each chunk's frequency offset with ``uniform`` over the same range, and, instead of 48
phase draws per chunk, one random 64-bit key per chunk from which column i's phase is
a hash of (key, i) scaled to [0, 0.5) (:func:`column_phase`). The distributions are the original's (phases on a
2^-53 grid). Column heights are computed only when a column is about to reach the player,
and reading the state or rendering never consumes randomness. New levels are drawn ahead, a
few thousand at a time (:meth:`PixelcopterVectorEnv._fill_level_pool`), because with random
actions a seventh of the copies restart on every step. Seeded runs are reproducible, but
they do not replay the original's levels: use the single env for that.

The numbered comments in ``_advance`` follow the frame order of the specification (section 8
of ``tests/data/pixelcopter/PROTOCOL.md``), as in the single env.

The family's vector API, NEXT_STEP autoreset, time limit, action checks and rendering are
:class:`..vector_env.PLEVectorEnv`'s; this module holds the rules. Options are the single env's:
``normalize``, ``max_episode_steps`` (also what ``make_vec`` passes for a registered time limit)
and ``block_edges``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from ..vector_env import PLEVectorEnv
from . import game
from .game import BLOCK_HEIGHT, BLOCK_X_RANGE, CHUNK_SIZE, GRAVITY_DV, PLAYER_START_Y, PLAYER_X, THRUST_DV, GameState
from .observation import NORMALIZE_SCALE, observation_bounds
from .render import draw_state
from .timeline import CAVE, GONE_AGE, MAX_AGE, OVERLAPS_PLAYER, PASS_AGE, RING, X, next_position, position_of_frame

# --- the cave timeline as arrays, indexed by timeline position u ------------------------------
_NEXT_U = np.arange(1, CAVE.length + 1)
_NEXT_U[-1] = CAVE.loop_start
# One or two columns overlap the player (never three in this geometry: checked); pad with the
# first, which changes neither the highest nor the lowest centre, so every frame gathers two.
assert all(len(s) <= 2 for s in CAVE.overlaps)
_OVERLAP_SLOTS = np.array([(s + s)[:2] for s in CAVE.overlaps], dtype=np.int64).T.copy()
_COLUMN_REWARD = np.array(CAVE.removed, dtype=np.float64)

# Cave work is done in batches, every ARRIVAL_WINDOW steps, for what happens within the next
# ARRIVAL_WINDOW frames: one batch of numpy calls instead of one per step.
# * Heights of the columns about to reach the player. Columns arrive at least 4 frames apart,
#   so a window of 4 positions holds at most one; a new level's first columns come with the
#   level (see the level pool), and none arrives in the 3 frames after, so a copy that
#   restarts between batches misses none.
# * Refills: a new chunk's key and frequency, written up to 3 frames early into the half of
#   the ring it will use (free for ~200 frames by then; its columns arrive 50+ frames later).
ARRIVAL_WINDOW = 4


def _within_window(events: tuple) -> list:
    soon = []
    for u in range(CAVE.length):
        found, p = [], u
        for _ in range(ARRIVAL_WINDOW):
            found += events[p] if p else []
            p = next_position(p)
        assert len(found) <= 1, (u, found)
        soon.append(found[0] if found else None)
    assert not any(events[1:ARRIVAL_WINDOW])
    return soon


_SOON = _within_window(CAVE.arrivals)
_REFILL_SOON = _within_window(tuple([r] if r >= 0 else [] for r in CAVE.refill))
_HAS_REFILL = np.array([r is not None for r in _REFILL_SOON])
_REFILL_HALF = np.array([(r or 0) // CHUNK_SIZE for r in _REFILL_SOON], dtype=np.int64)
_HAS_ARRIVAL = np.array([a is not None for a in _SOON])
_ARRIVAL_SLOT = np.array([a[0] if a else 0 for a in _SOON], dtype=np.int64)
_ARRIVAL_HALF = _ARRIVAL_SLOT // CHUNK_SIZE
_ARRIVAL_COLUMN = _ARRIVAL_SLOT % CHUNK_SIZE
_ARRIVAL_X = np.array([a[1] if a else 0 for a in _SOON], dtype=np.float64)

# Only the heights of columns near the player are kept, by ring slot mod RECENT: at most two
# consecutive slots overlap the player and one more is computed ahead, so eight entries never
# clash. A small array per copy keeps the per-frame gather inside the CPU cache.
RECENT = 8
assert all(max((slot - s[0]) % RING for slot in s) <= 2 for s in CAVE.overlaps)
_OVERLAP_RECENT = _OVERLAP_SLOTS % RECENT
_ARRIVAL_RECENT = _ARRIVAL_SLOT % RECENT
_FIRST_SLOTS = np.array([slot for slot, _ in CAVE.arrivals[0]])
_FIRST_X = np.array([x0 for _, x0 in CAVE.arrivals[0]], dtype=np.float64)

# --- blocks, flattened: index = (spawn x - 48) * MAX_AGE + age --------------------------------
# A block is stored as base = (spawn x - 48) * MAX_AGE - spawn frame, so base + frame is its
# index. No block gets a base so large that the index clips (take(mode="clip")) to the last
# entry, which describes an object long gone: no overlap, not on screen.
_BLOCK_ROWS = slice(*BLOCK_X_RANGE)
_GATE_DISTANCE = X[_BLOCK_ROWS].ravel() - PLAYER_X  # observation entry 4
_BLOCK_OVERLAPS = OVERLAPS_PLAYER[_BLOCK_ROWS].ravel()
_BLOCK_PASSED = (np.arange(MAX_AGE) >= PASS_AGE[_BLOCK_ROWS, None]).ravel()
# A block is on screen until its removal age: no need to delete it. (Its row has room: a
# block is replaced by the next pass within 2 * 86 frames of its spawn, well under MAX_AGE.)
_BLOCK_GONE = (np.arange(MAX_AGE) >= GONE_AGE[_BLOCK_ROWS, None]).ravel()
assert not _BLOCK_OVERLAPS[-1] and _BLOCK_GONE[-1] and 2 * PASS_AGE[_BLOCK_ROWS].max() < MAX_AGE
_NO_BLOCK = 1 << 40


def _block_base(x0: np.ndarray, spawn_frame: np.ndarray | int) -> np.ndarray:
    return (x0 - BLOCK_X_RANGE[0]) * MAX_AGE - spawn_frame


_VELOCITY_CHANGE = np.array([THRUST_DV, GRAVITY_DV])  # indexed by the action

_PHI = 0x9E3779B97F4A7C15  # 2^64 / golden ratio
_MIX = 0xBF58476D1CE4E5B9  # splitmix64's first multiplier
# (column + 1) * PHI: a Weyl sequence step per column, as in splitmix64.
_COLUMN_STEP = (np.arange(1, CHUNK_SIZE + 1, dtype=np.uint64) * np.uint64(_PHI)).astype(np.uint64)


def column_phase(key: np.ndarray, column: np.ndarray) -> np.ndarray:
    """Phase in [0, 0.5) of column ``column`` (0..47) of the chunk with 64-bit ``key``.

    A short hash of key + (column + 1) * PHI (half of splitmix64's output mixing: an xorshift,
    an odd multiply, an xorshift), which scatters the columns of a random key well enough
    for cave jitter. Arrays only (uint64 arithmetic wraps silently on arrays).
    """
    z = key + _COLUMN_STEP.take(column)
    z = (z ^ (z >> np.uint64(32))) * np.uint64(_MIX)
    z ^= z >> np.uint64(29)
    return (z >> np.uint64(11)).astype(np.int64) * (0.5 / 2**53)


def column_centres(frequency: np.ndarray, x0: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """:func:`.game.column_centres`, with the same result, computed faster.

    numpy's float64 sine is slow here. Its float32 sine is fast and within 2e-5 of the
    float64 height, so truncating it gives the same integer unless the height lies within
    1e-3 of one; those few are recomputed in float64.
    """
    theta = frequency * x0 + phase  # as game.column_centres forms it
    rough = game.CAVE_MIDDLE + game.CAVE_AMPLITUDE * np.sin(theta.astype(np.float32))
    centres = np.trunc(rough)
    unsure = np.abs(rough - np.rint(rough)) < 1e-3
    if unsure.any():
        centres[unsure] = np.trunc(game.CAVE_MIDDLE + game.CAVE_AMPLITUDE * np.sin(theta[unsure]))
    return centres


class PixelcopterVectorEnv(PLEVectorEnv):
    """N copies of Pixelcopter in numpy arrays; see the module docstring."""

    def __init__(
        self,
        num_envs: int = 1,
        render_mode: str | None = None,
        *,
        render_scale: int = 1,
        normalize: bool = False,
        max_episode_steps: int | None = None,
        block_edges: bool = False,
    ) -> None:
        self.normalize = normalize
        self.block_edges = block_edges
        space = gym.spaces.Box(*observation_bounds(normalize, block_edges), dtype=np.float32)
        super().__init__(num_envs, space, 2, render_mode, render_scale, max_episode_steps)

        n = num_envs
        # A level's frame number is the base's ``_steps``: one step is one frame, and both
        # restart at 0 with each episode (set_state sets it, so the time limit counts from the
        # snapshot's frame, as the single env's does).
        self._u = np.zeros(n, dtype=np.int64)  # cave timeline position
        self._y = np.zeros(n)
        self._v = np.zeros(n)
        # Blocks: the newest (the one observed) and the one it replaced (_NO_BLOCK before the
        # first pass), which counts as on screen until its removal age; see the block tables
        # above for what a base is.
        self._block = np.zeros(n, dtype=np.int64)
        self._block_y = np.zeros(n)
        self._old_block = np.full(n, _NO_BLOCK, dtype=np.int64)
        self._old_block_y = np.zeros(n)
        # Cave, per half of the ring (one chunk each): frequency and 64-bit key. Key 0 marks a
        # chunk whose heights were given by set_state: they are kept, never computed (drawn
        # keys are odd).
        self._frequency = np.zeros((2, n))
        self._key = np.zeros((2, n), dtype=np.uint64)
        # Heights (18..30) of the columns at the player, by ring slot mod RECENT.
        # (One 8-byte word per copy, so a copy's whole row moves in one piece; the int8 view
        # is what the heights are read and written through.)
        self._recent_rows = np.zeros(n, dtype=np.uint64)
        self._recent = self._recent_rows.view(np.int8).reshape(n, RECENT)
        self._recent_row = np.arange(n) * RECENT  # flat index of each copy's entry 0
        # Full caves given by set_state (key 0), by copy: {ring slot: height}.
        self._given_caves: dict[int, dict[int, int]] = {}
        # What the observation shows of the cave and the block: the height of the first column
        # under the player and the observed block's index in the block tables. The step
        # computes both anyway, so they are kept for _observations rather than gathered again.
        self._first_centre = np.zeros(n, dtype=np.int8)
        self._block_index = np.zeros(n, dtype=np.int64)
        self._frames_stepped = 0  # by the whole batch: it times the cave batches
        self._pool: dict[str, np.ndarray] = {}
        self._pool_next = 0

    # -- the rules, on arrays -------------------------------------------------------------------
    def _start(self, ids: np.ndarray, fresh: bool) -> None:
        if fresh:
            self._pool = {}  # levels drawn ahead came from the old stream
        drawn = self._new_levels(ids)
        self._first_centre[ids] = self._pool["first_centre"][drawn]
        self._block_index[ids] = self._pool["block"][drawn]  # + frame 0

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One frame in every copy: action 0 thrusts, 1 does nothing."""
        frame = self._steps  # already counts this step
        u = self._u = _NEXT_U.take(self._u)
        self._frames_stepped += 1
        if self._frames_stepped % ARRIVAL_WINDOW == 0:  # 7. (cave refills) and heights, ahead
            refill = np.flatnonzero(_HAS_REFILL.take(u))
            if refill.size:
                self._new_chunks(refill, _REFILL_HALF.take(u.take(refill)))
            self._arrive(np.flatnonzero(_HAS_ARRIVAL.take(u)))

        # 1-2. Player physics.
        y, self._v = game.player_step(self._y, self._v, _VELOCITY_CHANGE.take(actions))
        self._y = y

        # 3-4. Collisions. Only whether anything hit matters: lives start at 1. One block at a
        # time can reach the player: the previous one while it is on screen (a new block
        # spawns 32+ px ahead when the last one passes, and that one is gone before the new
        # one arrives), else the newest.
        one_block = _BLOCK_GONE.take(self._old_block + frame, mode="clip")  # the old one is gone
        hit_block = _BLOCK_OVERLAPS.take(np.where(one_block, self._block, self._old_block) + frame, mode="clip")
        centres = self._recent.take(_OVERLAP_RECENT.take(u, axis=1) + self._recent_row)  # (2, n)
        dead = game.hits_ceiling(y, np.maximum(centres[0], centres[1])) | game.hits_floor(
            y, np.minimum(centres[0], centres[1])
        )
        beside = np.flatnonzero(hit_block)  # a block overlaps horizontally: test the rows
        if beside.size:
            block_y = np.where(one_block[beside], self._block_y[beside], self._old_block_y[beside])
            dead[beside] |= game.block_overlaps_vertically(y[beside], block_y)
        # 6. The screen band (y < 6 or y > 42) needs no test here: a column always overlaps
        # the player and 18 <= centre <= 30, so the cave kills first. The single env keeps
        # the test, as the original has it.

        # 5. Blocks: the previous block leaves at x <= -4 (tabulated: one_block already says
        # whether it is still there after this frame); the newest scores once its centre
        # passes the player if it is then the only block, and the next one spawns. Columns
        # scrolling off score too (tabulated).
        reward = _COLUMN_REWARD.take(u)
        block_index = self._block + frame
        passed = np.flatnonzero(_BLOCK_PASSED.take(block_index, mode="clip") & one_block)
        if passed.size:
            reward[passed] += 1.0
            self._old_block[passed] = self._block[passed]
            self._old_block_y[passed] = self._block_y[passed]
            self._new_blocks(passed, frame[passed])
            block_index[passed] = self._block[passed] + frame[passed]

        # 7. Cave refills were done ahead, with the heights.

        # 8. The end.
        reward -= 5.0 * dead
        self._first_centre = centres[0]  # the observed column: the first in spawn order
        self._block_index = block_index
        return reward, dead

    def draw(self, index: int) -> np.ndarray:
        return draw_state(self.get_state(index))

    # -- observation ------------------------------------------------------------------------
    def _observations(self) -> np.ndarray:
        """The observation vectors, computed exactly as the single env computes them."""
        y, block_y, first_centre = self._y, self._block_y, self._first_centre
        obs = np.empty((7, self.num_envs), dtype=np.float32)
        obs[0] = y
        obs[1] = self._v
        # Each entry computed in float64 as the single env does, rounded once into the float32.
        np.subtract(y, first_centre - 12, out=obs[2], casting="same_kind")
        np.subtract(first_centre + 12, y, out=obs[3], casting="same_kind")
        obs[4] = _GATE_DISTANCE.take(self._block_index)
        if self.block_edges:
            np.subtract(block_y, BLOCK_HEIGHT / 2, out=obs[5], casting="same_kind")
            np.add(block_y, BLOCK_HEIGHT / 2, out=obs[6], casting="same_kind")
        else:
            obs[5] = block_y
            np.add(block_y, BLOCK_HEIGHT, out=obs[6], casting="same_kind")
        if self.normalize:
            obs *= NORMALIZE_SCALE[:, None]
        return obs.T  # (num_envs, 7), column-major like CartPoleVectorEnv's observations

    # -- randomness: levels, blocks, chunks, column heights --------------------------------------
    def _fill_level_pool(self, size: int) -> None:
        """Draw ``size`` new levels ahead: the random parts of a level's state."""
        rng = self.np_random
        x0 = rng.integers(*BLOCK_X_RANGE, size=size)
        block_y = rng.integers(*game.BLOCK_Y_RANGE, size=size).astype(np.float64)
        key = rng.bit_generator.random_raw(size) | np.uint64(1)  # odd: never the "given" 0
        frequency = game.BASE_FREQUENCY + rng.uniform(-0.01, 0.01, size)
        # The columns under the player at the start, as rows of the recent-heights array.
        phase = column_phase(key[:, None], _FIRST_SLOTS[None, :] % CHUNK_SIZE)
        recent = np.zeros((size, RECENT), dtype=np.int8)
        recent[:, _FIRST_SLOTS % RECENT] = column_centres(frequency[:, None], _FIRST_X, phase)
        self._pool = {
            "block": _block_base(x0, 0),
            "block_y": block_y,
            "key": key,
            "frequency": frequency,
            "recent": recent.view(np.uint64).reshape(size),
            "first_centre": recent[:, _OVERLAP_RECENT[0, 0]].copy(),  # the first observation's
        }
        self._pool_next = 0

    def _new_levels(self, ids: np.ndarray) -> slice:
        """Start copies ``ids`` on new levels, taken from the pool of levels drawn ahead (and
        return where in the pool they were)."""
        if not self._pool or self._pool_next + ids.size > self._pool["key"].size:
            self._fill_level_pool(max(4 * self.num_envs, ids.size, 1024))
        drawn = slice(self._pool_next, self._pool_next + ids.size)
        self._pool_next += ids.size
        pool = self._pool
        self._u[ids] = 0
        self._y[ids] = PLAYER_START_Y
        self._v[ids] = 0.0
        self._block[ids] = pool["block"][drawn]
        self._block_y[ids] = pool["block_y"][drawn]
        self._old_block[ids] = _NO_BLOCK
        self._key[0][ids] = pool["key"][drawn]
        self._frequency[0][ids] = pool["frequency"][drawn]
        self._recent_rows[ids] = pool["recent"][drawn]
        return drawn

    def _new_blocks(self, ids: np.ndarray, frame: np.ndarray) -> None:
        """A new observed block for copies ``ids``, spawned on their current ``frame``."""
        x0 = self.np_random.integers(*BLOCK_X_RANGE, size=ids.size)
        self._block_y[ids] = self.np_random.integers(*game.BLOCK_Y_RANGE, size=ids.size)
        self._block[ids] = _block_base(x0, frame)

    def _new_chunks(self, ids: np.ndarray, half: np.ndarray) -> None:
        """A new chunk of 48 columns in ring half ``half`` of copies ``ids``."""
        self._key[half, ids] = self.np_random.bit_generator.random_raw(ids.size) | np.uint64(1)
        self._frequency[half, ids] = game.BASE_FREQUENCY + self.np_random.uniform(-0.01, 0.01, ids.size)

    def _column_centres(self, ids: np.ndarray, slot: np.ndarray, x0: np.ndarray) -> np.ndarray:
        """Heights of columns in ring slots ``slot`` (spawned at ``x0``) of copies ``ids``."""
        half = slot // CHUNK_SIZE
        phase = column_phase(self._key[half, ids], slot % CHUNK_SIZE)
        return column_centres(self._frequency[half, ids], x0, phase)

    def _arrive(self, ids: np.ndarray) -> None:
        """Store the heights of the columns reaching the player soon in copies ``ids``."""
        if not ids.size:
            return
        u = self._u.take(ids)
        chunk = _ARRIVAL_HALF.take(u) * self.num_envs + ids  # flat index into (2, n) rows
        key = self._key.take(chunk)
        phase = column_phase(key, _ARRIVAL_COLUMN.take(u))
        centres = column_centres(self._frequency.take(chunk), _ARRIVAL_X.take(u), phase)
        for i in np.flatnonzero(key == 0):  # a chunk whose heights set_state gave
            centres[i] = self._given_caves[int(ids[i])][int(_ARRIVAL_SLOT[u[i]])]
        self._recent.put(ids * RECENT + _ARRIVAL_RECENT.take(u), centres)

    # -- state, for tests and tools ---------------------------------------------------------
    def get_state(self, index: int) -> GameState:
        """A snapshot of copy ``index`` (reading it draws no random numbers)."""
        frame, u = int(self._steps[index]), int(self._u[index])
        blocks = []
        for base, y in ((self._old_block, self._old_block_y), (self._block, self._block_y)):  # spawn order
            index_now = int(base[index]) + frame
            if base is self._block or (index_now < _BLOCK_GONE.size and not _BLOCK_GONE[index_now]):
                x0, age = divmod(index_now, MAX_AGE)
                blocks.append((x0 + BLOCK_X_RANGE[0], int(y[index]), age))
        columns = CAVE.live_columns(u)
        slots = np.array([slot for slot, _, _ in columns])
        x0 = np.array([x0 for _, x0, _ in columns], dtype=np.float64)
        # A height is a pure function of the chunk's key, so computing it again gives what
        # the env has stored (or will store); only heights given by set_state must be read.
        computed = self._column_centres(np.full(slots.size, index), slots, x0)
        given = self._given_caves.get(index, {})
        keys = self._key[slots // CHUNK_SIZE, index]
        cave = [given[slot] if key == 0 else int(c) for slot, key, c in zip(slots.tolist(), keys, computed)]
        return GameState(
            frame=frame,
            player_y=float(self._y[index]),
            player_vel=float(self._v[index]),
            blocks=blocks,
            cave=cave,
            game_over=bool(self._done[index]),
        )

    def set_state(self, index: int, state: GameState) -> None:
        """Put copy ``index`` into a snapshot's state (from either env class)."""
        frame = state.frame
        self._steps[index] = frame
        self._u[index] = u = position_of_frame(frame)
        self._y[index], self._v[index] = state.player_y, state.player_vel
        (x0, block_y, age), *_ = reversed(state.blocks)  # the newest block
        self._block[index], self._block_y[index] = _block_base(x0, frame - age), block_y
        self._old_block[index] = _NO_BLOCK
        if len(state.blocks) > 1:  # the previous block is still on screen
            x0, block_y, age = state.blocks[-2]
            self._old_block[index], self._old_block_y[index] = _block_base(x0, frame - age), block_y
        given = dict(zip(CAVE.live_slots(u), state.cave, strict=True))
        self._given_caves[index] = given
        self._key[:, index] = 0  # marks the heights as given
        # Do what the batches would have done by now: the heights of the columns at the player
        # and of those arriving before the next batch, and a refill due before it.
        for ahead in range(ARRIVAL_WINDOW):
            for slot in CAVE.overlaps[u] + tuple(s for s, _ in CAVE.arrivals[u]):
                self._recent[index, slot % RECENT] = given[slot]
            if ahead and CAVE.refill[u] >= 0:
                self._new_chunks(np.array([index]), np.array([CAVE.refill[u] // CHUNK_SIZE]))
            u = next_position(u)
        self._done[index] = state.game_over
        self._started = True
