"""PuckWorldVectorEnv: N PuckWorld games stepped together, one numpy array per state field.

Usable as ``gymnasium.make_vec("PuckWorld-PLE-v0", num_envs=N, vectorization_mode="vector_entry_point")``.
The family's vector API, autoreset and seeding are :class:`..vector_env.PLEVectorEnv`'s; the rules
are :mod:`.game`'s, applied to arrays (same expressions, ``np.where`` for the branches; ``np.sqrt``
is correctly rounded, as ``math.sqrt`` is). The green creep's jumps draw ``np_random.uniform`` over
the original's range. The game never ends, so give ``max_episode_steps`` (``make_vec`` passes a
registered time limit) unless the copies should run forever.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from ..vector_env import PLEVectorEnv
from . import game
from .env import draw, observation_bounds

_PUSH_X = np.array([push[0] for push in game.PUSH])
_PUSH_Y = np.array([push[1] for push in game.PUSH])


def _axis_step(position: np.ndarray, velocity: np.ndarray, push: np.ndarray, beyond_far_wall: np.ndarray):
    """:func:`.game.agent_axis_step` on arrays (``beyond_far_wall`` is that axis's wall test)."""
    velocity = velocity + push
    new = position + velocity * game.DT
    far = beyond_far_wall(new)
    stopped = far | (new < 0.0)
    position = np.where(far, game.AGENT_MAX, np.where(stopped, 0.0, new))
    return position, np.where(stopped, 0.0, velocity * game.DECAY)


class PuckWorldVectorEnv(PLEVectorEnv):
    """N copies of PuckWorld in numpy arrays; options as :class:`.env.PuckWorldEnv`'s."""

    FIELDS = ("x", "y", "vx", "vy", "creep_x", "creep_y", "puck_x", "puck_y", "ticks", "score")

    def __init__(
        self,
        num_envs: int = 1,
        render_mode: str | None = None,
        *,
        normalize: bool = False,
        render_scale: int = 1,
        max_episode_steps: int | None = None,
    ) -> None:
        self.normalize = normalize  # as gym-games: no change to PuckWorld's observation
        space = gym.spaces.Box(*observation_bounds(), dtype=np.float32)
        super().__init__(num_envs, space, 5, render_mode, render_scale, max_episode_steps)
        for name in self.FIELDS:
            setattr(self, name, np.zeros(num_envs))
        self.ticks = np.zeros(num_envs, dtype=np.int64)

    def _start(self, ids: np.ndarray, fresh: bool) -> None:
        self.x[ids] = self.y[ids] = game.AGENT_START
        self.vx[ids] = self.vy[ids] = 0.0
        self._new_creep(ids)
        self.puck_x[ids], self.puck_y[ids] = game.PUCK_START
        self.ticks[ids] = 0
        self.score[ids] = 0.0

    def _new_creep(self, ids: np.ndarray) -> None:
        self.creep_x[ids], self.creep_y[ids] = self.np_random.uniform(game.CREEP_LOW, game.CREEP_HIGH, (2, ids.size))

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.ticks += 1
        self.x, self.vx = _axis_step(self.x, self.vx, _PUSH_X.take(actions), game.beyond_right)
        self.y, self.vy = _axis_step(self.y, self.vy, _PUSH_Y.take(actions), game.beyond_bottom)

        dx, dy = self.x - self.creep_x, self.y - self.creep_y
        distance_to_creep = np.sqrt(dx * dx + dy * dy)
        dx, dy = self.x - self.puck_x, self.y - self.puck_y
        distance_to_puck = np.sqrt(dx * dx + dy * dy)
        reward = -distance_to_creep  # game.frame_reward
        penalty = 2.0 * (distance_to_puck - game.PUCK_RADIUS) / float(game.PUCK_RADIUS)
        reward = np.where(distance_to_puck < game.PUCK_RADIUS, reward + penalty, reward)
        score = self.score + reward
        reward, self.score = score - self.score, score  # PLE's difference of running scores

        jump = np.flatnonzero(self.ticks % game.CREEP_JUMP_EVERY == 0)
        if jump.size:
            self._new_creep(jump)
        moving = distance_to_puck != 0.0
        safe = np.where(moving, distance_to_puck, 1.0)  # no division by zero where the puck stays
        self.puck_x = np.where(moving, self.puck_x + dx / safe * game.PUCK_SPEED * game.DT, self.puck_x)
        self.puck_y = np.where(moving, self.puck_y + dy / safe * game.PUCK_SPEED * game.DT, self.puck_y)
        return reward, np.zeros(self.num_envs, dtype=bool)

    def _observations(self) -> np.ndarray:
        obs = np.empty((8, self.num_envs), dtype=np.float32)
        for row, name in zip(obs, self.FIELDS[:8]):
            row[:] = getattr(self, name)
        return obs.T

    def draw(self, index: int) -> np.ndarray:
        return draw([float(getattr(self, name)[index]) for name in self.FIELDS[:8]])
