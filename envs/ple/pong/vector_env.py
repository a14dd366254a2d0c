"""PongVectorEnv: N Pong games stepped together, one numpy array per state field.

Usable as ``gymnasium.make_vec("Pong-PLE-v0", num_envs=N, vectorization_mode="vector_entry_point")``.
The family's vector API, autoreset and seeding are :class:`..vector_env.PLEVectorEnv`'s; the rules
are :mod:`.game`'s, applied to arrays: the same expressions in the same order, masks for the
branches. Paddle hits, wall bounces and points happen in few copies at a time, so they are worked
out on those copies only. Serves and the hit jitter draw ``np_random.random()`` (the original's
``random_sample``, one per event, as in the original).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from ..vector_env import PLEVectorEnv
from . import game
from .env import draw, observation_bounds

_PUSH_DT = np.array(game.PUSH) * game.DT  # the agent paddle's velocity change by action
_CPU_CHASE, _CPU_DRIFT = game.CPU_SPEED, 1.0 * game.CPU_SPEED / 4.0


class PongVectorEnv(PLEVectorEnv):
    """N copies of Pong in numpy arrays; options as :class:`.env.PongEnv`'s."""

    FIELDS = (
        "agent_y", "agent_vel", "cpu_y", "ball_x", "ball_y", "ball_vx", "ball_vy", "before_x", "before_y",
        "agent_points", "cpu_points",
    )

    def __init__(
        self,
        num_envs: int = 1,
        render_mode: str | None = None,
        *,
        normalize: bool = False,
        render_scale: int = 1,
        max_episode_steps: int | None = None,
    ) -> None:
        self.normalize = normalize  # as gym-games: no change to Pong's observation
        space = gym.spaces.Box(*observation_bounds(), dtype=np.float32)
        super().__init__(num_envs, space, 3, render_mode, render_scale, max_episode_steps)
        for name in self.FIELDS:
            setattr(self, name, np.zeros(num_envs))

    def _start(self, ids: np.ndarray, fresh: bool) -> None:
        self.agent_y[ids], self.agent_vel[ids], self.cpu_y[ids] = game.HEIGHT / 2, 0.0, game.HEIGHT / 2
        self.ball_x[ids], self.ball_y[ids] = game.WIDTH / 2, game.HEIGHT / 2
        self.ball_vx[ids], self.ball_vy[ids] = game.BALL_SPEED, -1.0 * game.BALL_SPEED
        self.before_x[ids], self.before_y[ids] = self.ball_x[ids], self.ball_y[ids]
        self.agent_points[ids] = self.cpu_points[ids] = 0.0
        if not fresh:  # the original's reset: a serve in a random direction
            direction = np.where(self.np_random.random(ids.size) > 0.5, 1, -1)
            self._serve(ids, direction)

    def _serve(self, ids: np.ndarray, direction: np.ndarray | int) -> None:
        self.ball_x[ids] = game.WIDTH / 2
        self.ball_vx[ids] = game.BALL_SPEED * direction
        self.ball_vy[ids] = (self.np_random.random(ids.size) * game.BALL_SPEED) - game.BALL_SPEED * 0.5

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._ball_step()
        # Points, then the paddles of the copies without one.
        cpu_point = np.flatnonzero(self.ball_x <= 0)
        if cpu_point.size:
            self.cpu_points[cpu_point] += 1.0
            self._serve(cpu_point, -1)
        agent_point = np.flatnonzero(self.ball_x >= game.WIDTH)
        if agent_point.size:
            self.agent_points[agent_point] += 1.0
            self._serve(agent_point, 1)
        reward = np.zeros(self.num_envs)
        reward[agent_point] += game.REWARD_POINT
        reward[cpu_point] -= game.REWARD_POINT
        playing = np.ones(self.num_envs, dtype=bool)
        playing[cpu_point] = playing[agent_point] = False
        won = (self.agent_points == game.WINNING_SCORE) & ~playing  # tested on frames with a point
        lost = (self.cpu_points == game.WINNING_SCORE) & ~playing
        reward += game.REWARD_WIN * won - game.REWARD_WIN * lost

        vel = (self.agent_vel + _PUSH_DT.take(actions)) * game.DAMPING  # game.agent_paddle_step
        y = self.agent_y + vel
        top, bottom = y - game.PADDLE_HALF <= 0, y + game.PADDLE_HALF >= game.HEIGHT
        y[top], y[bottom] = game.PADDLE_TOP, game.PADDLE_BOTTOM
        vel[top | bottom] = 0.0
        self.agent_y = np.where(playing, y, self.agent_y)
        self.agent_vel = np.where(playing, vel, self.agent_vel)

        cpu_y = self.cpu_y  # game.cpu_speed, then game.cpu_paddle_step
        chasing = (self.ball_vx >= 0) & (self.ball_x >= game.WIDTH / 2)
        speed = np.where(chasing, _CPU_CHASE, _CPU_DRIFT)
        target = np.where(chasing, self.ball_y, game.HEIGHT / 2.0)
        speed = np.where(cpu_y > target, -speed, speed)
        clamped = np.clip(cpu_y, game.PADDLE_TOP, game.PADDLE_BOTTOM)  # the clamp's two tests
        self.cpu_y = np.where(playing, clamped + speed * game.DT, cpu_y)
        return reward, won | lost

    def _ball_step(self) -> None:
        """:meth:`.game.PongGame._ball_step` on arrays: hits and bounces on the copies they concern."""
        x = self.ball_x + self.ball_vx * game.DT
        y = self.ball_y + self.ball_vy * game.DT
        vx, vy = self.ball_vx, self.ball_vy
        hit = []
        near = np.flatnonzero(x <= game.AGENT_X + game.PADDLE_WIDTH)
        if near.size:
            ids = near[game.crosses(self.before_x[near], self.before_y[near], x[near], y[near], game.AGENT_FACE,
                                    self.agent_y[near])]
            x[ids] = np.maximum(0, x[ids])
            vx[ids] = -1 * (vx[ids] + game.HIT_SPEEDUP)
            vy[ids] += self.agent_vel[ids] * 2.0
            x[ids] += game.BALL_RADIUS
            hit.append(ids)
        near = np.flatnonzero(x >= game.CPU_X - game.PADDLE_WIDTH)
        if near.size:
            ids = near[game.crosses(self.before_x[near], self.before_y[near], x[near], y[near], game.CPU_FACE,
                                    self.cpu_y[near])]
            x[ids] = np.minimum(game.WIDTH, x[ids])
            vx[ids] = -1 * (vx[ids] + game.HIT_SPEEDUP)
            vy[ids] += 0.0 * 0.006  # the CPU paddle's velocity, always 0
            x[ids] -= game.BALL_RADIUS
            hit.append(ids)
        if hit:
            ids = np.unique(np.concatenate(hit))
            vy[ids] += self.np_random.random(ids.size) * 0.001 - 0.0005
        top = np.flatnonzero(y - game.BALL_RADIUS <= 0)
        vy[top] *= -0.99
        y[top] += 1.0
        bottom = np.flatnonzero(y + game.BALL_RADIUS >= game.HEIGHT)
        vy[bottom] *= -0.99
        y[bottom] -= 1.0
        self.ball_x, self.ball_y = x, y
        self.before_x, self.before_y = x.copy(), y.copy()

    def _observations(self) -> np.ndarray:
        obs = np.empty((7, self.num_envs), dtype=np.float32)
        for row, values in zip(obs, (self.agent_y, self.agent_vel, self.cpu_y, self.ball_x, self.ball_y,
                                     self.ball_vx, self.ball_vy)):
            row[:] = values
        return obs.T

    def draw(self, index: int) -> np.ndarray:
        return draw([float(getattr(self, name)[index]) for name in self.FIELDS[:7]])
