"""The rules of PLE's FlappyBird at 288x512 and 30 fps: constants and one frame of play.

The bird falls; a flap throws it up. Three pipes scroll toward it, each with a 100 px gap at a
random height, and are recycled to the right once they leave the screen. Each pipe passed scores
+1; touching a pipe, the ground or the top of the screen ends the game with -5.

Only the sizes of the original's images matter (the bird is 34 x 24, pipes are 52 wide and as
tall as the screen): collisions are pygame rect tests (:mod:`..pixels`) plus comparisons on the
bird's height, with no pixel masks. The arithmetic follows the original expression by expression
(``FACTS-flappybird.md``, sections 2-4). Coordinates: pixels, y grows downward.
"""

from __future__ import annotations

from ..env import FPS
from ..pixels import round_half_away, spans_overlap
from ..rng import RandomStream

WIDTH, HEIGHT = 288, 512
DT = (1000.0 / FPS) / 1000.0  # seconds per frame, as the game forms it (equal to 1/30)

# --- the bird ----------------------------------------------------------------------------------
BIRD_X = int(WIDTH * 0.2)  # 57: it never moves sideways
BIRD_START_Y = int(HEIGHT / 2)  # 256
BIRD_WIDTH, BIRD_HEIGHT = 34, 24  # every bird image
BIRD_LEFT = BIRD_X - BIRD_WIDTH // 2  # 40: its rect's left edge
FLAP_POWER = 9.0
GRAVITY = 1.0
MAX_DROP_SPEED = 10.0  # gravity stops adding once the speed reaches this
FLAP_CEILING = -2.0 * BIRD_HEIGHT  # a flap works only below this height
THRUST_TIME = 1.0 / 30.0  # a flap pushes for one frame
GROUND_Y = 0.79 * HEIGHT - BIRD_HEIGHT  # 380.48: the bird dies on the ground at this height
FLAP = 0  # actions: 0 = flap, 1 = no-op

# --- the pipes ---------------------------------------------------------------------------------
PIPE_WIDTH = 52
PIPE_HALF = PIPE_WIDTH / 2  # 26.0
PIPE_GAP = 100
GAP_RANGE = (int(PIPE_GAP / 4), int(HEIGHT * 0.79 * 0.6 - PIPE_GAP / 2))  # 25..192, both included
PIPE_SPEED = 4.0  # px per frame
PIPE_SPAWN_X = WIDTH + PIPE_WIDTH  # 340, plus an offset
START_OFFSETS = (0, WIDTH * 0.5, WIDTH)  # the three pipes at 340, 484, 628
RECYCLE_OFFSET = WIDTH * 0.2  # 57.6: a pipe leaving on the left comes back at 397.6
# Visual choices the original draws on every reset (one randint each): they decide no rule.
BACKGROUNDS = ("day", "night")
BIRD_COLOURS = ("red", "blue", "yellow")
PIPE_COLOURS = ("red", "green")

LIVES = 1
# Rewards (PLE's defaults).
REWARD_PASS = 1.0
REWARD_LOSS = -5.0

#: The state vector's names, in the order of the original's getGameState (and gym-games').
STATE_KEYS = (
    "player_y", "player_vel",
    "next_pipe_dist_to_player", "next_pipe_top_y", "next_pipe_bottom_y",
    "next_next_pipe_dist_to_player", "next_next_pipe_top_y", "next_next_pipe_bottom_y",
)


def draw_gap(rng: RandomStream) -> int:
    """A pipe's gap top: ``random_integers(25, 192)``, one draw."""
    return rng.random_integers(*GAP_RANGE)


def bird_step(y: float, vel: float, flapped: bool, thrust_time: float) -> tuple[float, float, bool, float]:
    """One frame of the bird: gravity unless it is pushing, then one frame of push after a flap.

    A flap (vel = 0, flapped) gives vel = 0 + 1 - 9 = -8 on its frame. On the next frame the push
    is over, so ``thrust_time`` goes back to 0 and gravity resumes the frame after. Flapping on
    that very next frame only stops the bird for a frame (a quirk of the original).
    """
    if vel < MAX_DROP_SPEED and thrust_time == 0.0:
        vel += GRAVITY
    if thrust_time + DT <= THRUST_TIME and flapped:
        thrust_time += DT
        vel += -1.0 * FLAP_POWER
    else:
        thrust_time, flapped = 0.0, False
    return y + vel, vel, flapped, thrust_time


def hits_pipe_rect(bird_y: float, pipe_x: float) -> bool:
    """Whether the bird's rect (34 x 24 around (57, y)) overlaps a pipe's (52 x 512 around (x, 256))."""
    pipe_left = round_half_away(pipe_x) - PIPE_WIDTH // 2
    bird_top = round_half_away(bird_y) - BIRD_HEIGHT // 2
    return spans_overlap(BIRD_LEFT, BIRD_WIDTH, pipe_left, PIPE_WIDTH) and spans_overlap(
        bird_top, BIRD_HEIGHT, 0, HEIGHT
    )


# Cheap bounds outside which the exact tests below are false (they only save time): a pipe's rect
# can touch the bird's only if their centres are within half their widths plus a pixel of rounding,
# and a pipe passes the bird only while its centre is within 4 px right of x = 57 + 26.
NEAR_BIRD = (BIRD_X - (BIRD_WIDTH + PIPE_WIDTH) / 2 - 1, BIRD_X + (BIRD_WIDTH + PIPE_WIDTH) / 2 + 1)
PASS_WINDOW_END = BIRD_X + PIPE_HALF + 5


def crashes_into(bird_y: float, gap: int) -> int:
    """How many lives a pipe with this gap takes from a bird inside its column: one for the top
    pipe (the test uses the bird's centre, not its top edge) and one for the bottom pipe."""
    return ((bird_y - BIRD_HEIGHT / 2 + 12) <= gap) + ((bird_y + BIRD_HEIGHT) > gap + PIPE_GAP)


def in_pipe_column(pipe_x: float) -> bool:
    """Whether the bird's x is within a pipe's column, widened by 20 px on the left."""
    return (pipe_x - PIPE_HALF - 20) <= BIRD_X < (pipe_x + PIPE_HALF)


def passes(pipe_x: float) -> bool:
    """Whether a pipe passes the bird on this frame (a 4 px window: pipes move exactly 4 px a frame)."""
    return (pipe_x - PIPE_HALF) <= BIRD_X < (pipe_x - PIPE_HALF + 4)


class FlappyBirdGame:
    """One game of FlappyBird on a random stream: ``reset`` starts an episode, ``step`` plays a frame."""

    FIELDS = (
        "y", "vel", "flapped", "thrust_time", "pipe_xs", "pipe_gaps", "lives", "over",
        "background", "bird_colour", "pipe_colour",
    )

    def __init__(self, rng: RandomStream) -> None:
        """A fresh game, as PLE builds it. The first ``init`` makes four more draws than later ones,
        all thrown away: the bird's start jitter (undone at once) and three pipes' gaps (re-drawn)."""
        self.rng = rng
        rng.random_sample()
        for _ in START_OFFSETS:
            draw_gap(rng)
        self.vel = 0.0
        self.reset()

    def reset(self) -> None:
        """The original's later ``init``: colours (3 draws), three new pipes (3 draws), the bird
        back at (57, 256) with a flap armed. Its velocity is *not* reset (kept from the last episode)."""
        rng = self.rng
        self.background = rng.choice(BACKGROUNDS)
        self.bird_colour = rng.choice(BIRD_COLOURS)
        self.pipe_colour = rng.choice(PIPE_COLOURS)
        self.pipe_gaps = [draw_gap(rng) for _ in START_OFFSETS]
        self.pipe_xs = [PIPE_SPAWN_X + offset for offset in START_OFFSETS]
        self.y = BIRD_START_Y
        self.flapped, self.thrust_time = True, 0.0  # every episode starts with a flap
        self.lives = LIVES
        self.over = False

    def step(self, action: int) -> float:
        """One frame; returns its reward. Collisions use the positions of the end of the last frame."""
        y = self.y
        if action == FLAP and y > FLAP_CEILING:
            self.vel, self.flapped = 0.0, True
        reward = 0.0
        xs, gaps = self.pipe_xs, self.pipe_gaps
        # The original re-collects the pipes touching the bird for every pipe it looks at, but
        # the only pipe that changes meanwhile is one being recycled, which is far from the bird
        # before (x < -52) and after (x = 397.6): one collection is the same. Pipes far from the
        # bird's column are skipped before the exact rect test.
        hit = [gaps[i] for i in range(3) if NEAR_BIRD[0] < xs[i] < NEAR_BIRD[1] and hits_pipe_rect(y, xs[i])]
        for i in range(3):
            x = xs[i]
            if hit and in_pipe_column(x):  # tested for each pipe against every pipe hit (a quirk)
                for gap in hit:
                    self.lives -= crashes_into(y, gap)
            if x < PASS_WINDOW_END and passes(x):
                reward += REWARD_PASS
            if x < -PIPE_WIDTH:  # off the screen: back to the right with a new gap
                gaps[i] = draw_gap(self.rng)
                xs[i] = PIPE_SPAWN_X + RECYCLE_OFFSET
        if y >= GROUND_Y:
            self.lives -= 1
        if y <= 0:
            self.lives -= 1
        self.y, self.vel, self.flapped, self.thrust_time = bird_step(y, self.vel, self.flapped, self.thrust_time)
        for i in range(3):
            xs[i] -= PIPE_SPEED
        if self.lives <= 0:
            reward += REWARD_LOSS
            self.over = True
        return reward

    def state(self) -> list[float]:
        """getGameState's values, in :data:`STATE_KEYS` order: the two nearest pipes still ahead
        (right edge past the bird), nearer first."""
        ahead = sorted((x + PIPE_HALF - BIRD_X, gap) for x, gap in zip(self.pipe_xs, self.pipe_gaps)
                       if x + PIPE_HALF > BIRD_X)
        (near, near_gap), (far, far_gap) = ahead[0], ahead[1]
        return [float(self.y), self.vel, near, float(near_gap), float(near_gap + PIPE_GAP),
                far, float(far_gap), float(far_gap + PIPE_GAP)]
