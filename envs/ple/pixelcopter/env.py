"""PixelcopterEnv: PLE's Pixelcopter as a gymnasium 1.x environment.

Faithful by default. With no options this is the game the Hugging Face Deep RL course uses as
``Pixelcopter-PLE-v0`` (PLE at 48x48, 30 fps, gym_pygame's wrapper), frame for frame:

* action 0 thrusts (the "up" key on this frame), action 1 does nothing;
* reward +1 per cave column that scrolls off the left edge and per block passed, -5 once on
  the frame the game ends, 0 otherwise; no time limit (the game ends only by a collision);
* observation: the original 7-vector with its quirks (``next_gate_block_top`` is the block's
  centre, ``..._bottom`` is centre + 9; ceiling distance comes before floor distance), as
  float32. ``info["state"]`` (and :meth:`PixelcopterEnv.observation64`) gives the exact float64
  values. The Box is bounded (the original's is unbounded) by limits derived in :mod:`.observation`;
* seeding: ``reset(seed=s)`` plays the level the original generates first from
  ``numpy.random.RandomState(s)`` (see :class:`..rng.RandomStream`); each later ``reset()``
  without a seed continues that stream, as consecutive episodes of the original do. The very
  first reset without any seed seeds the stream from gymnasium's ``np_random`` (the original
  always starts from seed 24);
* stepping again after the game ended returns reward 0 and the same observation, as the
  original does.

Deliberate deviations, off by default:

* ``normalize=True``: lengths in screen heights (divided by 48) and the velocity in screen
  heights per second (times 30/48), so the values are of order 1;
* ``max_episode_steps=n``: truncate episodes after n steps (``gymnasium.make``'s own
  ``max_episode_steps`` does the same with a wrapper);
* ``block_edges=True``: entries 5 and 6 are the block's real top and bottom edges
  (centre -/+ 4.5) instead of centre and centre + 9.

Rendering: ``render_mode="rgb_array"`` returns (48, 48, 3) uint8 frames, or
(48k, 48k, 3) with ``render_scale=k``; ``"human"`` opens a pygame window (scaled 8x unless
``render_scale`` says otherwise).

The numbered comments in :meth:`PixelcopterEnv.step` follow the frame order of the
specification (section 8 of ``tests/data/pixelcopter/PROTOCOL.md``).

How it is fast: the game state is a handful of Python numbers plus a ring of 96 cave columns;
where things are on screen comes from tables precomputed in :mod:`.timeline`, so a step does
a few dozen Python operations and never touches pygame. A column's height is computed when
the column reaches the player (nothing looks at it before), so a reset draws the level's 51
random numbers but computes only two heights.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from ..env import PLEEnv, checked_action
from ..rng import RandomStream, seed_from
from . import game, timeline
from .game import (
    BLOCK_HEIGHT,
    GRAVITY_DV,
    PLAYER_START_Y,
    PLAYER_X,
    REWARD_LOSS,
    SCREEN_BOTTOM,
    SCREEN_TOP,
    THRUST_DV,
    GameState,
)
from .observation import NORMALIZE_SCALE, observation_bounds
from .render import draw_state
from .timeline import CAVE, GONE_AGE, OVERLAPS_PLAYER, PASS_AGE, X

# Python lists index faster than numpy arrays for the few scalar lookups a step makes.
_OVERLAPS = OVERLAPS_PLAYER.tolist()
_X = X.tolist()
_PASS_AGE = PASS_AGE.tolist()
_GONE_AGE = GONE_AGE.tolist()
_CAVE_OVERLAPS = CAVE.overlaps
_CAVE_ARRIVALS = CAVE.arrivals
_CAVE_REMOVED = [float(n) for n in CAVE.removed]
_CAVE_REFILL = CAVE.refill
_CAVE_LENGTH, _CAVE_LOOP = CAVE.length, CAVE.loop_start

_UNKNOWN = [None] * game.CHUNK_SIZE  # heights of a new chunk: computed on arrival


class PixelcopterEnv(PLEEnv):
    """PLE's Pixelcopter, ported to gymnasium; see the module docstring for the contract."""

    title = "Pixelcopter"

    def __init__(
        self,
        render_mode: str | None = None,
        *,
        render_scale: int | None = None,
        normalize: bool = False,
        max_episode_steps: int | None = None,
        block_edges: bool = False,
    ) -> None:
        self.normalize = normalize
        self.block_edges = block_edges
        space = gym.spaces.Box(*observation_bounds(normalize, block_edges), dtype=np.float32)
        super().__init__(space, 2, render_mode, render_scale, max_episode_steps)
        self._started = False
        # Game state (set by reset): frame number, cave timeline position, player, blocks as
        # (spawn x, y, spawn frame) in spawn order, and the cave by ring slot: each chunk's
        # frequency (per half of the ring), each column's phase, and its height once known
        # (None until the column reaches the player).
        self._frame = 0
        self._u = 0
        self._y = PLAYER_START_Y
        self._v = 0.0
        self._blocks: list[tuple[int, int, int]] = []
        self._frequency = [0.0, 0.0]
        self._phases = [0.0] * timeline.RING
        self._cave: list[int | None] = [None] * timeline.RING
        self._game_over = False

    # -- the family's hooks (seeding and reset are PLEEnv's) ---------------------------------
    def _start_episode(self, fresh: bool) -> None:
        """The next level of the stream (a fresh stream and a fresh game draw the same way)."""
        level = game.draw_level(self._rng)
        self._frame = self._u = 0
        self._y, self._v = PLAYER_START_Y, 0.0
        self._blocks = [(*level.block, 0)]
        self._new_chunk(0, level.frequency_offset, level.phases)
        self._arrive(0)
        self._game_over = False
        self._started = True

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        """One game frame: 0 thrusts, 1 does nothing."""
        thrust = checked_action(action, 2) == 0
        if not self._started:
            raise gym.error.ResetNeeded("Call reset before step.")
        if self._game_over:  # the original ignores input once the game is over
            state = self.observation64()
            return self._observe(state), 0.0, True, False, {"state": np.array(state)}

        # Bookkeeping: the frame number ages the blocks; u says what the cave does.
        t = self._frame = self._frame + 1
        u = self._u + 1
        if u == _CAVE_LENGTH:
            u = _CAVE_LOOP
        self._u = u
        if _CAVE_ARRIVALS[u]:
            self._arrive(u)

        # 1-2. Player physics.
        y, v = self._y, self._v = game.player_step(self._y, self._v, THRUST_DV if thrust else GRAVITY_DV)

        # 3-4. Everything scrolled (see timeline); now count collisions.
        lives = 1
        blocks = self._blocks
        for x0, block_y, t0 in blocks:
            if _OVERLAPS[x0][t - t0] and game.block_overlaps_vertically(y, block_y):
                lives -= 1
        cave = self._cave
        for slot in _CAVE_OVERLAPS[u]:
            lives -= game.hits_ceiling(y, cave[slot]) + game.hits_floor(y, cave[slot])

        # 5. Blocks in spawn order: the only block passing the player scores and spawns the
        # next one; blocks far enough left are dropped. Then columns (tabulated).
        reward = _CAVE_REMOVED[u]
        for block in list(blocks):
            x0, _, t0 = block
            if t - t0 >= _PASS_AGE[x0] and len(blocks) == 1:
                reward += 1.0
                blocks.append((*game.draw_block(self._rng), t))
            if t - t0 >= _GONE_AGE[x0]:
                blocks.remove(block)

        # 6. Screen band.
        if y < SCREEN_TOP:
            lives -= 1
        if y > SCREEN_BOTTOM:
            lives -= 1

        # 7. Cave refill: a new chunk of 48 columns into the half of the ring that is free.
        offset = _CAVE_REFILL[u]
        if offset >= 0:
            self._new_chunk(offset, *game.draw_chunk(self._rng))

        # 8. The end.
        if lives <= 0:
            reward += REWARD_LOSS
            self._game_over = True
        truncated = self.max_episode_steps is not None and t >= self.max_episode_steps and not self._game_over
        if self.render_mode == "human":
            self.render()
        state = self.observation64()
        return self._observe(state), reward, self._game_over, truncated, {"state": np.array(state)}

    def draw(self) -> np.ndarray:
        return draw_state(self.get_state())

    # -- observation ------------------------------------------------------------------------
    def observation64(self) -> list[float]:
        """The original's observation as exact float64 values (before any normalisation)."""
        y = self._y
        centre = self._cave[_CAVE_OVERLAPS[self._u][0]]  # first column under the player
        # The observed block is the nearest one strictly ahead of the player. That is always
        # the newest: an older block has already passed (x <= 16), which is what spawned it.
        x0, block_y, t0 = self._blocks[-1]
        distance = _X[x0][self._frame - t0] - PLAYER_X
        if self.block_edges:
            top, bottom = block_y - BLOCK_HEIGHT / 2, block_y + BLOCK_HEIGHT / 2
        else:
            top, bottom = float(block_y), float(block_y + BLOCK_HEIGHT)
        return [y, self._v, y - (centre - 12), (centre + 12) - y, distance, top, bottom]

    def game_state(self) -> list[float]:
        """The game's own state, ``info["state"]``: the observation's exact float64 values."""
        return self.observation64()

    def _observe(self, state: list[float]) -> np.ndarray:
        obs = np.array(state, dtype=np.float32)
        if self.normalize:
            obs *= NORMALIZE_SCALE
        return obs

    # -- the cave ---------------------------------------------------------------------------
    def _new_chunk(self, offset: int, frequency_offset: float, phases: np.ndarray) -> None:
        self._frequency[offset // game.CHUNK_SIZE] = game.BASE_FREQUENCY + frequency_offset
        self._phases[offset : offset + game.CHUNK_SIZE] = phases.tolist()
        self._cave[offset : offset + game.CHUNK_SIZE] = _UNKNOWN

    def _centre(self, slot: int, x0: int) -> int:
        """Height of the column in a ring slot (spawned at x0), computed if not yet known."""
        centre = self._cave[slot]
        if centre is None:
            frequency = self._frequency[slot // game.CHUNK_SIZE]
            centre = self._cave[slot] = game.column_centre(frequency, x0, self._phases[slot])
        return centre

    def _arrive(self, u: int) -> None:
        for slot, x0 in _CAVE_ARRIVALS[u]:
            self._centre(slot, x0)

    # -- state, for tests and tools ---------------------------------------------------------
    def get_state(self) -> GameState:
        """A snapshot of the game (the random stream is not part of it)."""
        return GameState(
            frame=self._frame,
            player_y=self._y,
            player_vel=self._v,
            blocks=[(x0, y, self._frame - t0) for x0, y, t0 in self._blocks],
            cave=[self._centre(slot, x0) for slot, x0, _ in CAVE.live_columns(self._u)],
            game_over=self._game_over,
        )

    def set_state(self, state: GameState) -> None:
        """Continue from a snapshot taken with :meth:`get_state` (of either env class)."""
        self._frame = state.frame
        self._u = timeline.position_of_frame(state.frame)
        self._y, self._v = state.player_y, state.player_vel
        self._blocks = [(x0, y, state.frame - age) for x0, y, age in state.blocks]
        for slot, centre in zip(CAVE.live_slots(self._u), state.cave, strict=True):
            self._cave[slot] = centre
        self._game_over = state.game_over
        self._started = True
        if self._rng is None:
            self._rng = RandomStream(seed_from(self.np_random))
