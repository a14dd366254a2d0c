"""CatcherVectorEnv: N Catcher games stepped together, one numpy array per state field.

Usable as ``gymnasium.make_vec("Catcher-PLE-v0", num_envs=N, vectorization_mode="vector_entry_point")``.
The family's vector API, autoreset and seeding are :class:`..vector_env.PLEVectorEnv`'s; the rules
are :mod:`.game`'s, applied to arrays (same expressions, ``np.where`` for the branches). New fruit
comes from ``np_random`` with the original's distribution (uniform over the same columns and heights).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from ..pixels import round_half_away_array
from ..vector_env import PLEVectorEnv
from . import game
from .env import draw, normalized, observation_bounds

_PUSH = np.array(game.PUSH)


class CatcherVectorEnv(PLEVectorEnv):
    """N copies of Catcher in numpy arrays; options as :class:`.env.CatcherEnv`'s."""

    FIELDS = ("x", "vel", "fruit_x", "fruit_y", "lives")

    def __init__(
        self,
        num_envs: int = 1,
        render_mode: str | None = None,
        *,
        normalize: bool = True,
        render_scale: int = 1,
        max_episode_steps: int | None = None,
    ) -> None:
        self.normalize = normalize
        space = gym.spaces.Box(*observation_bounds(normalize), dtype=np.float32)
        super().__init__(num_envs, space, 3, render_mode, render_scale, max_episode_steps)
        n = num_envs
        self.x = np.zeros(n)  # the paddle's centre (integers, as floats)
        self.vel = np.zeros(n)
        self.fruit_x = np.zeros(n)
        self.fruit_y = np.zeros(n)
        self.lives = np.zeros(n, dtype=np.int64)

    def _start(self, ids: np.ndarray, fresh: bool) -> None:
        self.x[ids], self.vel[ids] = game.PADDLE_START_X, 0.0
        self.lives[ids] = game.LIVES
        self._new_fruit(ids)

    def _new_fruit(self, ids: np.ndarray) -> None:
        columns, heights = self.np_random.integers((len(game.FRUIT_X), len(game.FRUIT_Y)), size=(ids.size, 2)).T
        self.fruit_x[ids] = game.FRUIT_X[0] + game.FRUIT_X.step * columns
        self.fruit_y[ids] = -(game.FRUIT_Y[0] + game.FRUIT_Y.step * heights)

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        missed = np.flatnonzero(self.fruit_y >= game.HEIGHT)
        reward = np.zeros(self.num_envs)
        if missed.size:
            reward[missed] += game.REWARD_MISS
            self.lives[missed] -= 1
            self._new_fruit(missed)
        caught = np.flatnonzero(game.catches(self.x, self.fruit_x, self.fruit_y))
        if caught.size:
            reward[caught] += game.REWARD_CATCH
            self._new_fruit(caught)
        # The paddle (game.paddle_step on arrays).
        vel = (self.vel + _PUSH.take(actions)) * game.DAMPING
        new_x = self.x + vel
        left, right = new_x <= 0, new_x + game.PADDLE_WIDTH >= game.WIDTH
        stopped = left | right
        vel[stopped] = 0.0
        new_x[left] = 0
        new_x[right] = game.PADDLE_MAX_X
        self.x, self.vel = round_half_away_array(new_x), vel
        self.fruit_y += game.FRUIT_FALL
        terminated = self.lives == 0
        reward[terminated] += game.REWARD_LOSS
        return reward, terminated

    def _observations(self) -> np.ndarray:
        state = (self.x, self.vel, self.fruit_x, self.fruit_y)
        rows = normalized(state) if self.normalize else state
        obs = np.empty((4, self.num_envs), dtype=np.float32)
        for row, values in zip(obs, rows):
            row[:] = values  # each value rounded once from float64, as the single env does
        return obs.T

    def draw(self, index: int) -> np.ndarray:
        return draw([self.x[index], self.vel[index], self.fruit_x[index], self.fruit_y[index]])
