"""FlappyBirdVectorEnv: N FlappyBird games stepped together, one numpy array per state field.

Usable as ``gymnasium.make_vec("FlappyBird-PLE-v0", num_envs=N, vectorization_mode="vector_entry_point")``.
The family's vector API, autoreset and seeding are :class:`..vector_env.PLEVectorEnv`'s; the rules
are :mod:`.game`'s, applied to arrays of shape (3, N) for the pipes (same expressions, masks for the
branches). New gaps come from ``np_random.integers`` over the original's range; the visual choices
(background, colours) are drawn too, for rendering. As in the single env, a copy's next episode
keeps its bird's velocity.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from ..pixels import round_half_away_array
from ..vector_env import PLEVectorEnv
from . import game
from .env import draw, observation_bounds

_START_XS = np.array([game.PIPE_SPAWN_X + offset for offset in game.START_OFFSETS], dtype=np.float64)
_BACKGROUNDS, _BIRD_COLOURS, _PIPE_COLOURS = (np.array(c) for c in (game.BACKGROUNDS, game.BIRD_COLOURS,
                                                                    game.PIPE_COLOURS))


def _two_smallest(d0: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per copy, which of three (distinct) values is the smallest and which the middle one."""
    less01, less02, less12 = d0 < d1, d0 < d2, d1 < d2
    smallest = np.where(less01 & less02, 0, np.where(~less01 & less12, 1, 2))
    middle = np.where(less01 != less02, 0, np.where(less01 == less12, 1, 2))
    return smallest, middle


class FlappyBirdVectorEnv(PLEVectorEnv):
    """N copies of FlappyBird in numpy arrays; options as :class:`.env.FlappyBirdEnv`'s.

    The pipe fields ``pipe_xs`` and ``pipe_gaps`` are stored as (N, 3) arrays (a copy's row is its
    three pipes in creation order), transposed views of the (3, N) arrays the step works on.
    """

    FIELDS = ("y", "vel", "flapped", "thrust_time", "pipe_xs", "pipe_gaps", "lives",
              "background", "bird_colour", "pipe_colour")

    def __init__(
        self,
        num_envs: int = 1,
        render_mode: str | None = None,
        *,
        normalize: bool = False,
        render_scale: int = 1,
        max_episode_steps: int | None = None,
    ) -> None:
        self.normalize = normalize  # as gym-games: no change to FlappyBird's observation
        space = gym.spaces.Box(*observation_bounds(), dtype=np.float32)
        super().__init__(num_envs, space, 2, render_mode, render_scale, max_episode_steps)
        n = num_envs
        self.y, self.vel, self.thrust_time = np.zeros(n), np.zeros(n), np.zeros(n)
        self.flapped = np.zeros(n, dtype=bool)
        self._xs, self._gaps = np.zeros((3, n)), np.zeros((3, n))  # by pipe, then copy
        self.lives = np.zeros(n, dtype=np.int64)
        self.background = np.full(n, game.BACKGROUNDS[0], dtype=_BACKGROUNDS.dtype)
        self.bird_colour = np.full(n, game.BIRD_COLOURS[0], dtype=_BIRD_COLOURS.dtype)
        self.pipe_colour = np.full(n, game.PIPE_COLOURS[0], dtype=_PIPE_COLOURS.dtype)

    @property
    def pipe_xs(self) -> np.ndarray:
        return self._xs.T

    @property
    def pipe_gaps(self) -> np.ndarray:
        return self._gaps.T

    def _start(self, ids: np.ndarray, fresh: bool) -> None:
        if fresh:
            self.vel[ids] = 0.0  # only a fresh game's bird starts at rest
        rng = self.np_random
        self.background[ids] = _BACKGROUNDS[rng.integers(len(_BACKGROUNDS), size=ids.size)]
        self.bird_colour[ids] = _BIRD_COLOURS[rng.integers(len(_BIRD_COLOURS), size=ids.size)]
        self.pipe_colour[ids] = _PIPE_COLOURS[rng.integers(len(_PIPE_COLOURS), size=ids.size)]
        self._gaps[:, ids] = self._new_gaps((3, ids.size))
        self._xs[:, ids] = _START_XS[:, None]
        self.y[ids] = game.BIRD_START_Y
        self.flapped[ids], self.thrust_time[ids] = True, 0.0
        self.lives[ids] = game.LIVES

    def _new_gaps(self, shape) -> np.ndarray:
        low, high = game.GAP_RANGE
        return self.np_random.integers(low, high + 1, size=shape)

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, xs, gaps = self.y, self._xs, self._gaps
        flap = (actions == game.FLAP) & (y > game.FLAP_CEILING)
        self.vel[flap] = 0.0
        self.flapped |= flap

        # Pipes (game.FlappyBirdGame.step, on arrays): only copies with a pipe near the bird can
        # crash into one, so the rect and gap tests run on those. Every pipe whose column holds
        # the bird takes a life for each crash into a pipe the bird touches.
        near = (game.NEAR_BIRD[0] < xs) & (xs < game.NEAR_BIRD[1])
        close = np.flatnonzero(near[0] | near[1] | near[2])
        if close.size:
            bird_y, pipe_xs, pipe_gaps = y.take(close), xs.take(close, axis=1), gaps.take(close, axis=1)
            pipe_left = round_half_away_array(pipe_xs) - game.PIPE_WIDTH // 2
            bird_top = round_half_away_array(bird_y) - game.BIRD_HEIGHT // 2
            hit = (game.BIRD_LEFT < pipe_left + game.PIPE_WIDTH) & (pipe_left < game.BIRD_LEFT + game.BIRD_WIDTH)
            hit &= (bird_top < game.HEIGHT) & (0 < bird_top + game.BIRD_HEIGHT)
            top = hit & ((bird_y - game.BIRD_HEIGHT / 2 + 12) <= pipe_gaps)
            bottom = hit & ((bird_y + game.BIRD_HEIGHT) > pipe_gaps + game.PIPE_GAP)
            crashes = np.add(top, bottom, dtype=np.int64)  # a life each (not a logical or)
            in_column = ((pipe_xs - game.PIPE_HALF - 20) <= game.BIRD_X) & (game.BIRD_X < (pipe_xs + game.PIPE_HALF))
            self.lives[close] -= in_column.sum(axis=0) * crashes.sum(axis=0)
        passed = ((xs - game.PIPE_HALF) <= game.BIRD_X) & (game.BIRD_X < (xs - game.PIPE_HALF + 4))
        reward = passed.sum(axis=0, dtype=np.float64) * game.REWARD_PASS
        flat_xs, flat_gaps = xs.reshape(-1), gaps.reshape(-1)
        gone = np.flatnonzero(flat_xs < -game.PIPE_WIDTH)
        if gone.size:
            flat_gaps[gone] = self._new_gaps(gone.size)
            flat_xs[gone] = game.PIPE_SPAWN_X + game.RECYCLE_OFFSET
        self.lives -= (y >= game.GROUND_Y) + (y <= 0)

        # The bird (game.bird_step on arrays).
        vel, thrust_time = self.vel, self.thrust_time
        vel = np.where((vel < game.MAX_DROP_SPEED) & (thrust_time == 0.0), vel + game.GRAVITY, vel)
        pushing = (thrust_time + game.DT <= game.THRUST_TIME) & self.flapped
        self.thrust_time = np.where(pushing, thrust_time + game.DT, 0.0)
        self.vel = np.where(pushing, vel + -1.0 * game.FLAP_POWER, vel)
        self.flapped = pushing
        self.y = y + self.vel
        xs -= game.PIPE_SPEED

        terminated = self.lives <= 0
        reward[terminated] += game.REWARD_LOSS
        return reward, terminated

    def _observations(self) -> np.ndarray:
        """game.FlappyBirdGame.state on arrays: the two nearest pipes ahead, nearer first."""
        distance = self._xs + game.PIPE_HALF - game.BIRD_X
        d0, d1, d2 = np.where(self._xs + game.PIPE_HALF > game.BIRD_X, distance, np.inf)  # inf: behind
        nearest, second = _two_smallest(d0, d1, d2)
        columns = np.arange(self.num_envs)
        obs = np.empty((8, self.num_envs), dtype=np.float32)
        obs[0], obs[1] = self.y, self.vel
        for first_row, pipe in ((2, nearest), (5, second)):
            flat = pipe * self.num_envs + columns  # into the (3, N) arrays
            gap = self._gaps.take(flat)
            obs[first_row] = distance.take(flat)
            obs[first_row + 1] = gap
            obs[first_row + 2] = gap + game.PIPE_GAP
        return obs.T

    def draw(self, index: int) -> np.ndarray:
        pipes = list(zip(self._xs[:, index].tolist(), self._gaps[:, index].astype(int).tolist()))
        colours = (str(self.background[index]), str(self.bird_colour[index]), str(self.pipe_colour[index]))
        return draw(float(self.y[index]), pipes, colours)
