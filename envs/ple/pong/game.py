"""The rules of PLE's Pong at 64x48 and 30 fps: constants and one frame of play.

The agent's paddle is on the left (x = 4), a scripted CPU's on the right (x = 60). A point scores
+1 for the agent or -1 for the CPU; the first to 11 ends the game with another +5 or -5.

Everything is a double in pixels (velocities in px per second, except the agent paddle's, which
is in px per frame: the original's unit mix, kept). The arithmetic follows the original expression
by expression (``FACTS-pong.md``, section 2): the game's many ``<=``/``>=`` tests on long sums of
doubles only agree with the original if every sum is formed the same way.
"""

from __future__ import annotations

from ..env import FPS
from ..rng import RandomStream

WIDTH, HEIGHT = 64, 48
DT = (1000.0 / FPS) / 1000.0  # seconds per frame, as the game forms it

# Sizes (rounded percentages of the screen).
BALL_RADIUS = round(0.03 * HEIGHT)  # 1
PADDLE_WIDTH = round(0.023 * WIDTH)  # 1
PADDLE_HEIGHT = round(0.15 * HEIGHT)  # 7
PADDLE_HALF = PADDLE_HEIGHT / 2  # 3.5
AGENT_X = round(0.0625 * WIDTH)  # 4
CPU_X = WIDTH - AGENT_X  # 60
# The faces the ball must cross to be hit: the paddles' inner edges.
AGENT_FACE = AGENT_X + PADDLE_WIDTH / 2  # 4.5
CPU_FACE = CPU_X - PADDLE_WIDTH / 2  # 59.5
PADDLE_TOP, PADDLE_BOTTOM = PADDLE_HALF, HEIGHT - PADDLE_HALF  # 3.5, 44.5: where paddles are clamped

# Speeds.
AGENT_SPEED = 0.4 * HEIGHT  # 19.200000000000003 px/s^2, times dt per frame
CPU_SPEED = 0.6 * HEIGHT  # 28.799999999999997 px/s
BALL_SPEED = 0.75 * HEIGHT  # 36.0 px/s
HIT_SPEEDUP = BALL_SPEED * 0.05  # 1.8, added before the x velocity is negated (see ball_step)
DAMPING = 0.9
#: The agent paddle's acceleration by action: 0 = up, 1 = down, 2 = no-op.
PUSH = (-AGENT_SPEED, AGENT_SPEED, 0.0)

WINNING_SCORE = 11.0
# Rewards (PLE's defaults).
REWARD_POINT = 1.0
REWARD_WIN = 5.0

#: The state vector's names, in the order of the original's getGameState (and gym-games').
STATE_KEYS = ("player_y", "player_velocity", "cpu_y", "ball_x", "ball_y", "ball_velocity_x", "ball_velocity_y")


def crosses(p0_x, p0_y, p1_x, p1_y, face_x, paddle_y):
    """Whether the ball's path p0 -> p1 crosses a paddle's face (x = face_x, y within +-3.5 of
    the paddle's centre), by the original's parametric segment test, term by term (numbers or arrays)."""
    p2_x, p2_y = face_x, paddle_y - PADDLE_HALF
    p3_x, p3_y = face_x, paddle_y + PADDLE_HALF
    s1_x, s1_y = p1_x - p0_x, p1_y - p0_y
    s2_x, s2_y = p3_x - p2_x, p3_y - p2_y
    s = (-s1_y * (p0_x - p2_x) + s1_x * (p0_y - p2_y)) / (-s2_x * s1_y + s1_x * s2_y)
    t = (s2_x * (p0_y - p2_y) - s2_y * (p0_x - p2_x)) / (-s2_x * s1_y + s1_x * s2_y)
    return (0 <= s) & (s <= 1) & (0 <= t) & (t <= 1)


def agent_paddle_step(y: float, vel: float, push: float) -> tuple[float, float]:
    """One frame of the agent's paddle: accelerate, damp, move (px per frame), then clamp."""
    vel = (vel + push * DT) * DAMPING
    y = y + vel
    if y - PADDLE_HALF <= 0:
        y, vel = PADDLE_TOP, 0.0
    if y + PADDLE_HALF >= HEIGHT:
        y, vel = PADDLE_BOTTOM, 0.0
    return y, vel


def cpu_speed(cpu_y: float, ball_x: float, ball_y: float, ball_vx: float) -> float:
    """The CPU paddle's speed this frame: full speed toward the ball while it comes at the CPU
    in the right half, else a quarter of it toward the middle (so it wobbles around y = 24)."""
    if ball_vx >= 0 and ball_x >= WIDTH / 2:
        return -CPU_SPEED if cpu_y > ball_y else CPU_SPEED
    return -1.0 * CPU_SPEED / 4.0 if cpu_y > HEIGHT / 2.0 else 1.0 * CPU_SPEED / 4.0


def cpu_paddle_step(cpu_y: float, speed: float) -> float:
    """One frame of the CPU's paddle: it is clamped *before* it moves, so it overshoots."""
    if cpu_y - PADDLE_HALF <= 0:
        cpu_y = PADDLE_TOP
    if cpu_y + PADDLE_HALF >= HEIGHT:
        cpu_y = PADDLE_BOTTOM
    return cpu_y + speed * DT


class PongGame:
    """One game of Pong on a random stream: ``reset`` starts an episode, ``step`` plays a frame."""

    FIELDS = (
        "agent_y", "agent_vel", "cpu_y", "ball_x", "ball_y", "ball_vx", "ball_vy", "before_x", "before_y",
        "agent_points", "cpu_points", "over",
    )

    def __init__(self, rng: RandomStream) -> None:
        """A fresh game, as PLE builds it: ``init`` draws nothing, so every seed starts alike."""
        self.rng = rng
        self._init()

    def _init(self) -> None:
        self.agent_y, self.agent_vel = HEIGHT / 2, 0.0
        self.cpu_y = HEIGHT / 2  # its velocity is always 0
        self.ball_x, self.ball_y = WIDTH / 2, HEIGHT / 2
        self.ball_vx, self.ball_vy = BALL_SPEED, -1.0 * BALL_SPEED
        self.before_x, self.before_y = self.ball_x, self.ball_y  # the ball's last position
        self.agent_points = self.cpu_points = 0.0
        self.over = False

    def reset(self) -> None:
        """The original's ``reset``: ``init``, then a random serve direction and angle (2 draws)."""
        self._init()
        self._serve(1 if self.rng.random_sample() > 0.5 else -1)

    def _serve(self, direction: int) -> None:
        """Ball back to the middle column, served toward ``direction`` (one draw). Its y, and its
        last position, are kept (a quirk)."""
        self.ball_x = WIDTH / 2
        self.ball_vx = BALL_SPEED * direction
        self.ball_vy = (self.rng.random_sample() * BALL_SPEED) - BALL_SPEED * 0.5

    def step(self, action: int) -> float:
        """One frame; returns its reward."""
        self._ball_step()
        reward = 0.0
        scored = False
        if self.ball_x <= 0:  # the CPU's point, served back toward the agent
            reward -= REWARD_POINT
            self.cpu_points += 1.0
            self._serve(-1)
            scored = True
        if self.ball_x >= WIDTH:
            reward += REWARD_POINT
            self.agent_points += 1.0
            self._serve(1)
            scored = True
        if scored:  # the paddles do not move in a frame with a point
            if self.agent_points == WINNING_SCORE:
                reward += REWARD_WIN
            if self.cpu_points == WINNING_SCORE:
                reward -= REWARD_WIN
            self.over = self.agent_points == WINNING_SCORE or self.cpu_points == WINNING_SCORE
        else:
            self.agent_y, self.agent_vel = agent_paddle_step(self.agent_y, self.agent_vel, PUSH[action])
            speed = cpu_speed(self.cpu_y, self.ball_x, self.ball_y, self.ball_vx)
            self.cpu_y = cpu_paddle_step(self.cpu_y, speed)
        return reward

    def _ball_step(self) -> None:
        """Move the ball, bounce it off a paddle (positions of the last frame) or a wall."""
        x = self.ball_x + self.ball_vx * DT
        y = self.ball_y + self.ball_vy * DT
        vx, vy = self.ball_vx, self.ball_vy
        hit = False
        if x <= AGENT_X + PADDLE_WIDTH and crosses(self.before_x, self.before_y, x, y, AGENT_FACE, self.agent_y):
            x = max(0, x)
            vx = -1 * (vx + HIT_SPEEDUP)  # -36 becomes +34.2: hits slow the ball on this side
            vy += self.agent_vel * 2.0  # px per frame into px per second: the original's mix
            x += BALL_RADIUS
            hit = True
        if x >= CPU_X - PADDLE_WIDTH and crosses(self.before_x, self.before_y, x, y, CPU_FACE, self.cpu_y):
            x = min(WIDTH, x)
            vx = -1 * (vx + HIT_SPEEDUP)  # +36 becomes -37.8, +34.2 becomes -36
            vy += 0.0 * 0.006  # the CPU paddle's velocity, always 0
            x -= BALL_RADIUS
            hit = True
        if hit:  # a little randomness so rallies cannot loop (one draw per hitting frame)
            vy += self.rng.random_sample() * 0.001 - 0.0005
        if y - BALL_RADIUS <= 0:
            vy *= -0.99
            y += 1.0
        if y + BALL_RADIUS >= HEIGHT:
            vy *= -0.99
            y -= 1.0
        self.ball_x, self.ball_y, self.ball_vx, self.ball_vy = x, y, vx, vy
        self.before_x, self.before_y = x, y

    def state(self) -> list[float]:
        """getGameState's values, in :data:`STATE_KEYS` order."""
        return [self.agent_y, self.agent_vel, self.cpu_y, self.ball_x, self.ball_y, self.ball_vx, self.ball_vy]
