"""PLEEnv: what every PLE game shares as a gymnasium env (seeding, the step contract, ``info["state"]``,
rendering). Each game's env subclasses it and adds only its spaces, options and drawing.

The contract, the same for the whole family:

* **Seeding.** ``reset(seed=s)`` builds a fresh game on a fresh ``numpy.random.RandomState(s)``
  stream (:class:`.rng.RandomStream`), which is what the original does when PLE is constructed:
  the first episode is the one the original generates from that seed. Each later ``reset()``
  without a seed is the original's ``reset_game()`` on the same, continuing stream (and keeps
  whatever the original keeps across episodes, e.g. FlappyBird's velocity). The first reset
  without any seed seeds the stream from gymnasium's ``np_random``.
* **Stepping** is one game frame. The reward is what PLE returns (the change of the game's
  score), ``terminated`` is the game's ``game_over()``, and nothing truncates unless
  ``max_episode_steps`` is given. Stepping again after the game is over returns reward 0 and the
  same state, as PLE's ``act`` does.
* **Observation**: the game's ``getGameState()`` values in their order, as float32 (the float32
  cast of the game's doubles, as gym-games gives it; a game may transform it, e.g. Catcher's
  normalisation). ``info["state"]`` is the game's own state as float64, on reset and every step.
* **Rendering**: ``"rgb_array"`` frames are drawn with numpy from the game state
  (``render_scale=k`` enlarges them); ``"human"`` shows them in a pygame window.

A game plugs in through a rules object with ``step(action) -> reward``, ``state() -> list[float]``,
``reset()`` (the original's ``reset_game``) and an ``over`` flag (see e.g. :mod:`.catcher.game`).
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Protocol

import gymnasium as gym
import numpy as np

from .render import Window, scaled
from .rng import RandomStream, seed_from

FPS = 30  # PLE's fps for every game here: one env step is one frame of 1000/30 ms


def checked_action(action: Any, n: int) -> int:
    """``action`` as an int if it is one of ``0..n-1``, else ValueError in one line. The rule of the
    batched envs (:class:`zoo.envs.batched.BatchedVectorEnv`), for one action: an integer of any
    kind (Python's, a numpy integer, a 0-d integer array); not a float, a bool or an array of a
    shape, as gymnasium's ``Discrete.contains`` would refuse them (it takes Python's ``True`` as 1:
    here a bool is a mistake, as in the batched envs)."""
    if type(action) is int:  # the common case, at full speed
        if 0 <= action < n:
            return action
    else:
        array = np.asarray(action) if not isinstance(action, (str, bytes)) else None
        if array is not None and array.shape == () and array.dtype.kind in "iu" and 0 <= array < n:
            return int(array)
    text = " ".join(repr(action).split())
    raise ValueError(f"action must be an integer in 0..{n - 1}, got {text if len(text) <= 60 else text[:57] + '...'}")


class Game(Protocol):
    """What :class:`PLEEnv` needs from a game's rules."""

    #: The attributes that make up the game's state (all but its random stream).
    FIELDS: ClassVar[tuple[str, ...]]
    over: bool

    def reset(self) -> None: ...

    def step(self, action: int) -> float: ...

    def state(self) -> list[float]: ...


class PLEEnv(gym.Env[np.ndarray, np.int64]):
    """One PLE game as a gymnasium env; see the module docstring for the contract."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["human", "rgb_array"], "render_fps": FPS}
    #: Set by each game: the window title, the default scale of the "human" window.
    title: ClassVar[str] = "PLE"
    window_scale: ClassVar[int] = 8

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        n_actions: int,
        render_mode: str | None = None,
        render_scale: int | None = None,
        max_episode_steps: int | None = None,
        display: bool = False,
    ) -> None:
        if display and render_mode is None:  # gym-games' way of asking for a window
            render_mode = "human"
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        if render_scale is not None and (int(render_scale) != render_scale or render_scale < 1):
            raise ValueError(f"render_scale must be a positive integer, got {render_scale!r}")
        self.render_mode = render_mode
        self.render_scale = int(render_scale or (self.window_scale if render_mode == "human" else 1))
        self.max_episode_steps = max_episode_steps
        self.observation_space = observation_space
        self.action_space = gym.spaces.Discrete(n_actions)
        self._rng: RandomStream | None = None
        self._game: Game | None = None
        self._steps = 0
        self._window: Window | None = None

    # -- what a game's env provides -----------------------------------------------------------
    def _new_game(self, rng: RandomStream) -> Game:
        """A new game on ``rng``, as the original builds it (its first episode)."""
        raise NotImplementedError

    def _observe(self, state: list[float]) -> np.ndarray:
        """The observation for the game's state vector: its float32 cast unless a game says otherwise."""
        return np.array(state, dtype=np.float32)

    def draw(self) -> np.ndarray:
        """The current frame at scale 1, as an (height, width, 3) uint8 array."""
        raise NotImplementedError

    # -- gymnasium API ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Start the next episode of the stream; ``seed`` starts a fresh game on a new stream
        (``options`` unused)."""
        super().reset(seed=seed)
        fresh = seed is not None or self._rng is None
        if fresh:
            self._rng = RandomStream(seed if seed is not None else seed_from(self.np_random))
        self._start_episode(fresh)
        self._steps = 0
        if self.render_mode == "human":
            self.render()
        state = self.game_state()
        return self._observe(state), {"state": np.array(state)}

    def _start_episode(self, fresh: bool) -> None:
        """A fresh game (the original's construction) or the next episode (``reset_game``)."""
        if fresh:
            self._game = self._new_game(self._rng)
        else:
            self._game.reset()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        """One game frame."""
        game = self._game
        if game is None:
            raise gym.error.ResetNeeded("Call reset before step.")
        action = checked_action(action, self.action_space.n)
        # PLE ignores actions once the game is over and scores 0.
        reward = 0.0 if game.over else game.step(action)
        state = game.state()
        truncated = False
        if self.max_episode_steps is not None:
            self._steps += 1
            truncated = self._steps >= self.max_episode_steps and not game.over
        if self.render_mode == "human":
            self.render()
        return self._observe(state), reward, game.over, truncated, {"state": np.array(state)}

    def game_state(self) -> list[float]:
        """The game's own state (``getGameState()`` values in order) as Python floats."""
        return self._game.state()

    def get_state(self) -> dict[str, Any]:
        """A snapshot of the game (its :attr:`Game.FIELDS`; not the random stream), for tests and tools."""
        return {name: copy.copy(getattr(self._game, name)) for name in self._game.FIELDS}

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from a snapshot taken with :meth:`get_state` (of this env or its vector env)."""
        for name in self._game.FIELDS:
            setattr(self._game, name, copy.copy(state[name]))

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn('render() called without a render_mode; pass render_mode="rgb_array" or "human".')
            return None
        frame = scaled(self.draw(), self.render_scale)
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            self._window = Window(self.title, self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None
