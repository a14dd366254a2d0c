"""PuckWorldEnv: PLE's PuckWorld as a gymnasium 1.x env, a drop-in for gym-games' ``PuckWorld-PLE-v0``.

* actions: 0 = up, 1 = left, 2 = right, 3 = down, 4 = no-op (a key press lasts one frame);
* reward: minus the distance to the green creep, minus up to 2 more inside the red puck's radius,
  every frame, returned as PLE returns it (the change of the running score, which differs from
  the frame's own value in the last bits); the game never ends and, as in gym-games, there is no
  time limit unless you add one (``max_episode_steps``);
* observation: ``player_x, player_y, player_velocity_x, player_velocity_y, good_creep_x,
  good_creep_y, bad_creep_x, bad_creep_y``, the float32 cast of the game's doubles (gym-games'
  ``normalize`` flag changes nothing for PuckWorld, here too). ``info["state"]`` is the same in
  float64. The velocity is reported after its decay, while the move used it before (a quirk).

Seeding, the step contract and rendering are the family's (:mod:`..env`); the rules are in
:mod:`.game`.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

from ..env import PLEEnv
from ..render import blank, fill_circle
from .game import (
    AGENT_MAX,
    AGENT_PUSH,
    CREEP_HIGH,
    CREEP_LOW,
    DECAY,
    HEIGHT,
    PUCK_RADIUS,
    RADIUS,
    WIDTH,
    PuckWorldGame,
)

BACKGROUND = (255, 255, 255)
AGENT_COLOUR = (60, 60, 140)
CREEP_COLOUR = (40, 140, 40)
PUCK_OUTER_COLOUR = (150, 95, 95)
PUCK_CENTRE_COLOUR = (110, 45, 45)


def observation_bounds() -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of every observation. The agent stays in [0, 58]; its reported speed is at most
    the fixed point of always pushing, 12.8 * 0.975 / 0.025 = 499.2 px/s; the creep stays in
    [9, 56.5]; the puck starts at (64, 64) and only ever moves toward the agent."""
    speed = AGENT_PUSH * DECAY / (1 - DECAY)
    low = [0, 0, -speed, -speed, CREEP_LOW, CREEP_LOW, 0, 0]
    high = [AGENT_MAX, AGENT_MAX, speed, speed, CREEP_HIGH, CREEP_HIGH, WIDTH, HEIGHT]
    return np.floor(low).astype(np.float32), np.ceil(high).astype(np.float32)


def draw(state: Sequence[float]) -> np.ndarray:
    """A (64, 64, 3) frame of the state vector: the puck (translucent), the creep and the agent."""
    x, y, _, _, creep_x, creep_y, puck_x, puck_y = state
    frame = blank(WIDTH, HEIGHT, BACKGROUND)
    fill_circle(frame, puck_x, puck_y, PUCK_RADIUS, PUCK_OUTER_COLOUR, alpha=0.75)
    fill_circle(frame, puck_x, puck_y, RADIUS, PUCK_CENTRE_COLOUR)
    fill_circle(frame, creep_x, creep_y, RADIUS, CREEP_COLOUR)
    fill_circle(frame, x, y, RADIUS, AGENT_COLOUR)
    return frame


class PuckWorldEnv(PLEEnv):
    """PLE's PuckWorld; see the module docstring."""

    title = "PuckWorld"

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
        super().__init__(space, 5, render_mode, render_scale, max_episode_steps, display)

    def _new_game(self, rng) -> PuckWorldGame:
        return PuckWorldGame(rng)

    def draw(self) -> np.ndarray:
        return draw(self.game_state())
