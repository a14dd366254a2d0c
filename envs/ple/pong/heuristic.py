"""A hardcoded Pong pilot: meet the ball where it will arrive, moving along with it.

It predicts where the ball will cross the paddle's line (folding the wall bounces back into the
court) and, while the ball is far, waits a little behind that point; in the last frames it drives
through it in the direction the ball is travelling, so the hit adds the paddle's velocity to the
ball's (a quirk of the original: twice the paddle's px-per-frame speed) and the CPU, which chases
at a fixed speed, now and then cannot keep up. Paddle moves are judged by where the paddle would
coast to (9 velocities on, as its velocity decays by 0.9 a frame).
"""

from __future__ import annotations

import numpy as np

from zoo import FixedPolicy

from .game import AGENT_X, BALL_RADIUS, BALL_SPEED, CPU_X, HEIGHT, PADDLE_WIDTH

UP, DOWN, NOOP = 0, 1, 2
_LINE = AGENT_X + PADDLE_WIDTH  # the ball is tested against the paddle once it is this far left
_COURT = (BALL_RADIUS, HEIGHT - BALL_RADIUS)  # where the ball's centre bounces


def arrival(ball_x, ball_y, ball_vx, ball_vy):
    """(height, seconds until, vertical direction at) the ball's arrival at the agent's line, with
    wall bounces folded in; a ball going right is assumed to come straight back from the CPU."""
    going_left = ball_vx < 0
    seconds = np.where(going_left, (ball_x - _LINE) / np.maximum(-ball_vx, 1e-9),
                       (CPU_X - ball_x) / np.maximum(ball_vx, 1e-9) + (CPU_X - _LINE) / BALL_SPEED)
    low, high = _COURT
    span = high - low
    folded = np.mod(ball_y + ball_vy * seconds - low, 2 * span)
    bounced = folded > span
    height = low + np.where(bounced, 2 * span - folded, folded)
    return height, seconds, np.sign(ball_vy) * np.where(bounced, -1, 1)


class PongHeuristic(FixedPolicy):
    """Wait behind the arrival point, then drive through it with the ball; see the module docstring."""

    lead = 2.0  # px behind (then beyond) the arrival point
    strike = 0.25  # s before arrival: start driving through it
    tolerance = 1.0  # px

    def act(self, observations: np.ndarray) -> np.ndarray:
        paddle_y, paddle_vel, _, ball_x, ball_y, ball_vx, ball_vy = np.asarray(observations, dtype=np.float64).T
        height, seconds, direction = arrival(ball_x, ball_y, ball_vx, ball_vy)
        aim = height + np.where(seconds > self.strike, -1.0, 1.0) * direction * self.lead
        coast = paddle_y + 9 * paddle_vel
        return np.where(coast > aim + self.tolerance, UP, np.where(coast < aim - self.tolerance, DOWN, NOOP))
