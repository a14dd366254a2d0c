"""FlappyBirdEnv: PLE's FlappyBird as a gymnasium 1.x env, a drop-in for gym-games' ``FlappyBird-PLE-v0``.

* actions: 0 = flap, 1 = no-op;
* reward: +1 per pipe passed, -5 on the frame the bird hits a pipe, the ground or the top of the
  screen, which ends the game (a pass and a crash on the same frame give -4); no time limit;
* observation: ``player_y, player_vel``, then distance, gap top and gap bottom of the nearest and
  the next pipe ahead: the float32 cast of the game's doubles (gym-games' ``normalize`` flag
  changes nothing for FlappyBird, here too). ``info["state"]`` is the same in float64;
* the original's quirks are kept, notably: every episode starts with an automatic flap, and the
  bird's velocity carries over from one episode to the next (``reset()`` keeps it, as the original's
  ``reset_game`` does; ``reset(seed=...)`` builds a fresh game, velocity 0); flapping on the frame
  right after a flap stalls the bird for a frame.

Drawn with simple shapes (sky, pipes, ground, a rectangle for the bird): only the sizes of the
original's images matter to the game. Seeding, the step contract and rendering are the family's
(:mod:`..env`); the rules are in :mod:`.game`.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

from ..env import PLEEnv
from ..pixels import round_half_away
from ..render import blank, fill_rect
from .game import (
    BIRD_HEIGHT,
    BIRD_LEFT,
    BIRD_WIDTH,
    GAP_RANGE,
    GROUND_Y,
    HEIGHT,
    MAX_DROP_SPEED,
    PIPE_GAP,
    PIPE_SPAWN_X,
    PIPE_WIDTH,
    START_OFFSETS,
    WIDTH,
    FlappyBirdGame,
)

SKY = {"day": (78, 192, 202), "night": (0, 135, 147)}
PIPE = {"green": (84, 184, 60), "red": (200, 70, 40)}
BIRD = {"red": (230, 60, 40), "blue": (60, 120, 230), "yellow": (250, 200, 40)}
GROUND_COLOUR = (222, 216, 149)
GROUND_TOP = int(0.79 * HEIGHT)  # where the original draws its base image


def observation_bounds() -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of every observation.

    Velocity: at most 10 (gravity stops adding there); at least -8 after a flap, but the
    automatic flap that starts an episode adds -8 to the velocity carried over, hence -16. Height:
    the tests use the height of the last frame, so the bird can move past 0 or 380.48 once while
    alive and once more on the frame it dies. Pipes ahead: from just past the bird to the third
    start position.
    """
    lowest_vel = -16.0
    far = PIPE_SPAWN_X + START_OFFSETS[-1] + PIPE_WIDTH / 2 - BIRD_LEFT - BIRD_WIDTH // 2
    gap_low, gap_high = GAP_RANGE
    low = [2 * lowest_vel, lowest_vel, 0, gap_low, gap_low + PIPE_GAP, 0, gap_low, gap_low + PIPE_GAP]
    high = [GROUND_Y + 2 * MAX_DROP_SPEED, MAX_DROP_SPEED, far, gap_high, gap_high + PIPE_GAP,
            far, gap_high, gap_high + PIPE_GAP]
    return np.floor(low).astype(np.float32), np.ceil(high).astype(np.float32)


def draw(bird_y: float, pipes: Sequence[tuple[float, int]], colours: tuple[str, str, str]) -> np.ndarray:
    """A (512, 288, 3) frame: sky, the pipes (x, gap top), the ground and the bird.

    ``colours`` are the original's visual draws: background, bird colour, pipe colour.
    """
    background, bird_colour, pipe_colour = colours
    frame = blank(WIDTH, HEIGHT, SKY[background])
    for x, gap in pipes:
        left = round_half_away(x) - PIPE_WIDTH // 2
        fill_rect(frame, left, 0, PIPE_WIDTH, gap, PIPE[pipe_colour])
        fill_rect(frame, left, gap + PIPE_GAP, PIPE_WIDTH, HEIGHT - gap - PIPE_GAP, PIPE[pipe_colour])
    fill_rect(frame, 0, GROUND_TOP, WIDTH, HEIGHT - GROUND_TOP, GROUND_COLOUR)
    top = round_half_away(bird_y) - BIRD_HEIGHT // 2
    fill_rect(frame, BIRD_LEFT, top, BIRD_WIDTH, BIRD_HEIGHT, BIRD[bird_colour])
    return frame


class FlappyBirdEnv(PLEEnv):
    """PLE's FlappyBird; see the module docstring."""

    title = "FlappyBird"
    window_scale = 1

    def __init__(
        self,
        render_mode: str | None = None,
        *,
        normalize: bool = False,
        render_scale: int | None = None,
        max_episode_steps: int | None = None,
        display: bool = False,
    ) -> None:
        self.normalize = normalize  # accepted as gym-games does; it does not change the observation
        space = gym.spaces.Box(*observation_bounds(), dtype=np.float32)
        super().__init__(space, 2, render_mode, render_scale, max_episode_steps, display)

    def _new_game(self, rng) -> FlappyBirdGame:
        return FlappyBirdGame(rng)

    def draw(self) -> np.ndarray:
        game = self._game
        colours = (game.background, game.bird_colour, game.pipe_colour)
        return draw(game.y, list(zip(game.pipe_xs, game.pipe_gaps)), colours)
