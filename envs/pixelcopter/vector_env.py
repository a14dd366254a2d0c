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
``splitmix64(key, i)`` scaled to [0, 0.5). The distributions are the original's (phases on a
2^-53 grid); a column's height is computed only when the column reaches the player, and
rendering or reading the state never consumes randomness. Seeded runs are reproducible, but
do not replay the original's levels: use the single env for that.

Autoreset follows gymnasium 1.x's default, ``AutoresetMode.NEXT_STEP`` (as CartPole's vector
env): the step after an episode ends resets that copy, ignores its action and returns its
first observation with reward 0. Options are the single env's: ``normalize``,
``max_episode_steps`` (also what ``make_vec`` passes for a registered time limit) and
``block_edges``. ``render_mode="rgb_array"`` returns one frame per copy.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from . import game
from .game import CHUNK_SIZE, GRAVITY_DV, PLAYER_START_Y, PLAYER_X, THRUST_DV, GameState
from .observation import NORMALIZE_SCALE, observation_bounds
from .render import draw_state
from .timeline import CAVE, GONE_AGE, MAX_AGE, OVERLAPS_PLAYER, PASS_AGE, RING, X, position_of_frame

# --- the timeline tables as arrays, indexed by cave timeline position u -----------------------
_NEXT_U = np.arange(1, CAVE.length + 1)
_NEXT_U[-1] = CAVE.loop_start
# Up to three columns overlap the player; pad with the first, which changes neither the
# highest nor the lowest centre among them, so every frame gathers exactly three.
# Stored as (3, positions): numpy reduces over a short inner axis very slowly, so the three
# candidates are kept as three rows and combined with np.maximum / np.minimum.
_OVERLAP_SLOTS = np.array([(s + (s[0],) * 3)[:3] for s in CAVE.overlaps], dtype=np.int64).T.copy()
_COLUMN_REWARD = np.array(CAVE.removed, dtype=np.float64)
_REFILL_OFFSET = np.array(CAVE.refill, dtype=np.int64)
assert all(len(a) <= 1 for a in CAVE.arrivals[1:])  # after the first frame, one at a time
_ARRIVAL_SLOT = np.array([a[0][0] if a else -1 for a in CAVE.arrivals], dtype=np.int64)
_ARRIVAL_X = np.array([a[0][1] if a else 0 for a in CAVE.arrivals], dtype=np.float64)
_FIRST_SLOTS = np.array([slot for slot, _ in CAVE.arrivals[0]])  # heights needed at reset
_FIRST_X = np.array([x0 for _, x0 in CAVE.arrivals[0]], dtype=np.float64)

# --- block tables, flattened: index = (spawn x - 48) * MAX_AGE + age --------------------------
# A block is stored as base = (spawn x - 48) * MAX_AGE - spawn frame, so base + frame is its
# index. An absent block gets a base so large that the index clips (take(mode="clip")) to the
# last entry, which describes an object long gone: no overlap, already removed.
_BLOCK_ROWS = slice(game.BLOCK_X_RANGE[0], game.BLOCK_X_RANGE[1])
_BLOCK_X = X[_BLOCK_ROWS].ravel()
_BLOCK_OVERLAPS = OVERLAPS_PLAYER[_BLOCK_ROWS].ravel()
_AGES = np.arange(MAX_AGE)
_BLOCK_PASSED = (_AGES >= PASS_AGE[_BLOCK_ROWS, None]).ravel()
_BLOCK_GONE = (_AGES >= GONE_AGE[_BLOCK_ROWS, None]).ravel()
assert not _BLOCK_OVERLAPS[-1] and _BLOCK_GONE[-1]
_NO_BLOCK = 1 << 40

_PHI = 0x9E3779B97F4A7C15  # splitmix64 constants
_MIX1, _MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def column_phase(key: np.ndarray, column: np.ndarray) -> np.ndarray:
    """Phase in [0, 0.5) of column ``column`` (0..47) of the chunk with 64-bit ``key``.

    splitmix64's output function on key + (column + 1) * golden ratio: a well-mixed hash, so
    phases are as good as independent uniform draws. Arrays only (uint64 wraps silently).
    """
    z = key + (column.astype(np.uint64) + np.uint64(1)) * np.uint64(_PHI)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
    z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)) * (0.5 / 2**53)


class PixelcopterVectorEnv(gym.vector.VectorEnv):
    """N copies of Pixelcopter in numpy arrays; see the module docstring."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": game.FPS, "autoreset_mode": AutoresetMode.NEXT_STEP}

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
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be 'rgb_array' or None, got {render_mode!r}")
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.render_scale = render_scale
        self.normalize = normalize
        self.max_episode_steps = max_episode_steps
        self.block_edges = block_edges
        low, high = observation_bounds(normalize, block_edges)
        self.single_observation_space = gym.spaces.Box(low, high, dtype=np.float32)
        self.single_action_space = gym.spaces.Discrete(2)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)

        n = num_envs
        self._env_ids = np.arange(n)
        self._frame = np.zeros(n, dtype=np.int64)  # frames since the level started
        self._u = np.zeros(n, dtype=np.int64)  # cave timeline position
        self._y = np.full(n, PLAYER_START_Y)
        self._v = np.zeros(n)
        # Blocks: row 0 is the newest block (the one observed), row 1 the one it replaced,
        # while that is still on screen. See the block tables above for `base`.
        self._block_base = np.full((2, n), _NO_BLOCK, dtype=np.int64)
        self._block_y = np.zeros((2, n))
        # Cave: per ring half, the chunk's key and frequency, and whether its heights were
        # given by set_state (then they are not recomputed); per slot, the height once the
        # column has reached the player (18..30: int8 keeps the ring small, so gathering
        # from it stays in cache).
        self._chunk_key = np.zeros((n, 2), dtype=np.uint64)
        self._chunk_frequency = np.zeros((n, 2))
        self._chunk_given = np.zeros((n, 2), dtype=bool)
        self._centres = np.zeros((n, RING), dtype=np.int8)
        self._centre_row = self._env_ids * RING  # flat index of each copy's slot 0
        self._done = np.zeros(n, dtype=bool)  # ended on the last step: reset on this one
        self._started = False

    # -- gymnasium API --------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Start a new level in every copy (``options`` unused)."""
        super().reset(seed=seed)
        self._new_levels(self._env_ids)
        self._done[:] = False
        self._started = True
        return self._observations(), {}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """One frame in every copy: action 0 thrusts, 1 does nothing."""
        if not self._started:
            raise gym.error.ResetNeeded("Call reset before step.")
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or actions.dtype.kind not in "iub" or actions.min() < 0 or actions.max() > 1:
            raise ValueError(f"actions must be {self.num_envs} values of 0 (thrust) or 1 (no-op), got {actions!r}")

        frame = self._frame = self._frame + 1
        u = self._u = _NEXT_U.take(self._u)
        self._arrive(np.flatnonzero(_ARRIVAL_SLOT.take(u) >= 0))

        # 1-2. Player physics.
        y, v = self._y, self._v = game.player_step(self._y, self._v, np.where(actions == 0, THRUST_DV, GRAVITY_DV))

        # 3-4. Collisions. Only whether anything hit matters: lives start at 1.
        block_index = self._block_base + frame
        hit_block = _BLOCK_OVERLAPS.take(block_index, mode="clip") & game.block_overlaps_vertically(
            game.round_half_away_array(y), self._block_y
        )
        centres = self._centres.take(_OVERLAP_SLOTS.take(u, axis=1) + self._centre_row)  # (3, n)
        dead = (
            hit_block[0]
            | hit_block[1]
            | game.hits_ceiling(y, np.maximum(np.maximum(centres[0], centres[1]), centres[2]))
            | game.hits_floor(y, np.minimum(np.minimum(centres[0], centres[1]), centres[2]))
        )
        # 6. The screen band (y < 6 or y > 42) needs no test here: a column always overlaps
        # the player and 18 <= centre <= 30, so the cave kills first. The single env keeps
        # the test, as the original has it.

        # 5. Blocks: the previous block leaves at x <= -4; the newest scores once its centre
        # passes the player if it is then the only block, and the next one spawns. Columns
        # scrolling off score too (tabulated).
        reward = _COLUMN_REWARD.take(u)
        gone = _BLOCK_GONE.take(block_index[1], mode="clip")
        self._block_base[1, gone] = _NO_BLOCK
        passed = np.flatnonzero(_BLOCK_PASSED.take(block_index[0], mode="clip") & (self._block_base[1] == _NO_BLOCK))
        if passed.size:
            reward[passed] += 1.0
            self._block_base[1, passed] = self._block_base[0, passed]
            self._block_y[1, passed] = self._block_y[0, passed]
            self._new_blocks(passed)

        # 7. Cave refill into the free half of the ring.
        refill = np.flatnonzero(_REFILL_OFFSET.take(u) >= 0)
        if refill.size:
            self._new_chunks(refill, _REFILL_OFFSET[u[refill]] // CHUNK_SIZE)

        # 8. The end.
        reward -= 5.0 * dead
        terminated = dead
        if self.max_episode_steps is not None:
            truncated = (frame >= self.max_episode_steps) & ~terminated
        else:
            truncated = np.zeros(self.num_envs, dtype=bool)

        # Copies that ended on the previous step start over instead (NEXT_STEP autoreset).
        restart = np.flatnonzero(self._done)
        if restart.size:
            self._new_levels(restart)
            reward[restart] = 0.0
            terminated[restart] = False
            truncated[restart] = False
        self._done = terminated | truncated
        first_centre = centres[0]  # the observed column: first in spawn order
        if restart.size:
            first_centre[restart] = self._centres[restart, _OVERLAP_SLOTS[0, 0]]
        return self._observations(first_centre), reward, terminated, truncated, {}

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode is None:
            gym.logger.warn('render() called without a render_mode; pass render_mode="rgb_array".')
            return None
        return tuple(draw_state(self.get_state(i), self.render_scale) for i in range(self.num_envs))

    # -- observation ------------------------------------------------------------------------
    def _observations(self, first_centre: np.ndarray | None = None) -> np.ndarray:
        """Observations as the single env computes them, for all copies."""
        y = self._y
        if first_centre is None:  # after a reset: read the first column under the player
            first_centre = self._centres.take(self._centre_row + _OVERLAP_SLOTS[0].take(self._u))
        block_y = self._block_y[0]
        obs = np.empty((7, self.num_envs), dtype=np.float32)
        obs[0] = y
        obs[1] = self._v
        obs[2] = y - (first_centre - 12)
        obs[3] = (first_centre + 12) - y
        obs[4] = _BLOCK_X.take(self._block_base[0] + self._frame) - PLAYER_X
        if self.block_edges:
            obs[5] = block_y - game.BLOCK_HEIGHT / 2
            obs[6] = block_y + game.BLOCK_HEIGHT / 2
        else:
            obs[5] = block_y
            obs[6] = block_y + game.BLOCK_HEIGHT
        if self.normalize:
            obs *= NORMALIZE_SCALE[:, None].astype(np.float32)
        return obs.T  # (num_envs, 7), like CartPoleVectorEnv's (column-major) observations

    # -- randomness and level generation ------------------------------------------------------
    def _new_blocks(self, ids: np.ndarray) -> None:
        """A new observed block for copies ``ids``, spawned on their current frame."""
        x0 = self.np_random.integers(*game.BLOCK_X_RANGE, size=ids.size)
        self._block_y[0, ids] = self.np_random.integers(*game.BLOCK_Y_RANGE, size=ids.size)
        self._block_base[0, ids] = (x0 - game.BLOCK_X_RANGE[0]) * MAX_AGE - self._frame[ids]

    def _new_chunks(self, ids: np.ndarray, half: np.ndarray | int) -> None:
        """A new chunk of 48 columns in ring half ``half`` of copies ``ids``."""
        self._chunk_key[ids, half] = self.np_random.bit_generator.random_raw(ids.size)
        self._chunk_frequency[ids, half] = game.BASE_FREQUENCY + self.np_random.uniform(-0.01, 0.01, ids.size)
        self._chunk_given[ids, half] = False

    def _new_levels(self, ids: np.ndarray) -> None:
        self._frame[ids] = 0
        self._u[ids] = 0
        self._y[ids] = PLAYER_START_Y
        self._v[ids] = 0.0
        self._block_base[1, ids] = _NO_BLOCK
        self._new_blocks(ids)
        self._new_chunks(ids, 0)
        # The columns under the player at the start (the chunk is new: nothing was given).
        ids2 = np.repeat(ids, _FIRST_SLOTS.size)
        slots = np.tile(_FIRST_SLOTS, ids.size)
        self._centres[ids2, slots] = self._column_centres(ids2, 0, slots, np.tile(_FIRST_X, ids.size))

    def _arrive(self, ids: np.ndarray) -> None:
        """Compute the heights of the columns reaching the player in copies ``ids``."""
        if ids.size:
            u = self._u[ids]
            self._set_centres(ids, _ARRIVAL_SLOT[u], _ARRIVAL_X[u])

    def _set_centres(self, ids: np.ndarray, slot: np.ndarray, x0: np.ndarray) -> None:
        half = slot // CHUNK_SIZE
        keep = self._chunk_given[ids, half]
        if keep.any():  # heights that set_state supplied stay as they are
            ids, slot, x0, half = ids[~keep], slot[~keep], x0[~keep], half[~keep]
        self._centres[ids, slot] = self._column_centres(ids, half, slot, x0)

    def _column_centres(self, ids: np.ndarray, half: np.ndarray, slot: np.ndarray, x0: np.ndarray) -> np.ndarray:
        phase = column_phase(self._chunk_key[ids, half], slot % CHUNK_SIZE)
        return game.column_centres(self._chunk_frequency[ids, half], x0, phase)

    # -- state, for tests and tools ---------------------------------------------------------
    def get_state(self, index: int) -> GameState:
        """A snapshot of copy ``index`` (reading it draws no random numbers)."""
        frame, u = int(self._frame[index]), int(self._u[index])
        blocks = []
        for row in (1, 0):  # spawn order: the older block first
            base = int(self._block_base[row, index])
            if base != _NO_BLOCK:
                x0, age = divmod(base + frame, MAX_AGE)
                blocks.append((x0 + game.BLOCK_X_RANGE[0], int(self._block_y[row, index]), age))
        columns = CAVE.live_columns(u)
        slots = np.array([slot for slot, _, _ in columns])
        x0 = np.array([x0 for _, x0, _ in columns], dtype=np.float64)
        half = slots // CHUNK_SIZE
        # A height is a pure function of the chunk's key, so computing it again gives what
        # the env has (or will have) stored; only heights given by set_state must be read.
        computed = self._column_centres(np.full(slots.size, index), half, slots, x0)
        cave = np.where(self._chunk_given[index, half], self._centres[index, slots], computed)
        return GameState(
            frame=frame,
            player_y=float(self._y[index]),
            player_vel=float(self._v[index]),
            blocks=blocks,
            cave=[int(c) for c in cave],
            game_over=bool(self._done[index]),
        )

    def set_state(self, index: int, state: GameState) -> None:
        """Put copy ``index`` into a snapshot's state (from either env class)."""
        frame = state.frame
        self._frame[index] = frame
        self._u[index] = position_of_frame(frame)
        self._y[index], self._v[index] = state.player_y, state.player_vel
        blocks = list(state.blocks)
        rows = [(0, blocks[-1])] + ([(1, blocks[-2])] if len(blocks) > 1 else [])
        self._block_base[1, index] = _NO_BLOCK
        for row, (x0, y, age) in rows:
            self._block_base[row, index] = (x0 - game.BLOCK_X_RANGE[0]) * MAX_AGE - (frame - age)
            self._block_y[row, index] = y
        slots = [slot for slot, _, _ in CAVE.live_columns(int(self._u[index]))]
        self._centres[index, slots] = state.cave
        self._chunk_given[index] = True
        self._done[index] = state.game_over
        self._started = True
