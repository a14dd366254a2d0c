"""PLEVectorEnv: what every PLE game's batched env shares (gymnasium's vector API, NEXT_STEP
autoreset, seeding, action checks, time limits, rendering). Each game's vector env subclasses it
and holds its state in numpy arrays, one entry per copy, stepping all copies with array operations.

The dynamics are the single env's: from the same game state and action, both give the same next
state, observation, reward and termination (tested for every game). The randomness is drawn
differently, in batches from gymnasium's ``np_random`` (seeded by ``reset(seed=...)``), with the
original's distributions: drawing numpy's legacy stream one number at a time, copy by copy, would
cost more than the whole step. So seeded runs are reproducible, but they do not replay the
original's episodes: use the single env for that.

As in the single env, ``reset(seed=...)`` (and the first reset) builds fresh games, and a later
``reset()`` or an autoreset starts each copy's next episode the way the original's ``reset_game``
does (FlappyBird keeps its bird's velocity, Pong serves in a random direction).

Autoreset follows gymnasium 1.x's default, ``AutoresetMode.NEXT_STEP`` (as CartPole's vector
env): the step after a copy's episode ends restarts that copy, ignores its action and returns its
first observation with reward 0.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from .env import FPS
from .render import scaled


class PLEVectorEnv(gym.vector.VectorEnv):
    """N copies of a PLE game in numpy arrays; see the module docstring."""

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["rgb_array"],
        "render_fps": FPS,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }
    #: The game's state fields (its rules' ``FIELDS`` but ``over``): each is an array attribute
    #: with one entry (or row) per copy, so a copy's state reads and writes like the single env's.
    FIELDS: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        num_envs: int,
        single_observation_space: gym.spaces.Box,
        n_actions: int,
        render_mode: str | None = None,
        render_scale: int = 1,
        max_episode_steps: int | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be 'rgb_array' or None, got {render_mode!r}")
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.render_scale = render_scale
        self.max_episode_steps = max_episode_steps
        self.n_actions = n_actions
        self.single_observation_space = single_observation_space
        self.single_action_space = gym.spaces.Discrete(n_actions)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._done = np.zeros(num_envs, dtype=bool)  # ended on the last step: restart on this one
        self._steps = np.zeros(num_envs, dtype=np.int64)  # steps into the current episodes
        self._started = False

    # -- what a game's vector env provides ----------------------------------------------------
    def _start(self, ids: np.ndarray, fresh: bool) -> None:
        """Start copies ``ids`` on a new episode: fresh games, or each game's next episode."""
        raise NotImplementedError

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One frame in every copy: (rewards as float64, game over as bool)."""
        raise NotImplementedError

    def _observations(self) -> np.ndarray:
        """The observations of every copy, (num_envs, size) float32."""
        raise NotImplementedError

    def draw(self, index: int) -> np.ndarray:
        """Copy ``index``'s current frame at scale 1."""
        raise NotImplementedError

    # -- gymnasium API ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Start a new episode in every copy (``options`` unused)."""
        super().reset(seed=seed)
        self._start(np.arange(self.num_envs), fresh=seed is not None or not self._started)
        self._done[:] = False
        self._steps[:] = 0
        self._started = True
        return self._observations(), {}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """One frame in every copy; copies that ended on the last step start over instead."""
        if not self._started:
            raise gym.error.ResetNeeded("Call reset before step.")
        actions = self._checked(actions)
        self._steps += 1  # before _advance, which may read it as the frame it plays
        reward, terminated = self._advance(actions)
        if self.max_episode_steps is not None:
            truncated = (self._steps >= self.max_episode_steps) & ~terminated
        else:
            truncated = np.zeros(self.num_envs, dtype=bool)
        restart = np.flatnonzero(self._done)
        if restart.size:
            self._start(restart, fresh=False)
            reward[restart] = 0.0
            terminated[restart] = False
            truncated[restart] = False
            self._steps[restart] = 0
        self._done = terminated | truncated
        return self._observations(), reward, terminated, truncated, {}

    def _checked(self, actions: np.ndarray) -> np.ndarray:
        actions = np.asarray(actions)
        valid = actions.shape == (self.num_envs,) and actions.dtype.kind in "iu"
        if valid and actions.size:
            # Read as unsigned, a negative action is huge, so one reduction tests both bounds
            # (a reduction costs about a percent of a step).
            unsigned = actions.view(actions.dtype.str.replace("i", "u"))
            valid = int(unsigned.max()) < self.n_actions
        if not valid:
            raise ValueError(f"actions must be {self.num_envs} integers in 0..{self.n_actions - 1}, got {actions!r}")
        return actions

    def get_state(self, index: int) -> dict[str, Any]:
        """A snapshot of copy ``index``, in the single env's format (``over``: it restarts next step)."""
        state = {name: getattr(self, name)[index].tolist() for name in self.FIELDS}
        state["over"] = bool(self._done[index])
        return state

    def set_state(self, index: int, state: dict[str, Any]) -> None:
        """Put copy ``index`` into a snapshot's state (from this env or the single env)."""
        for name in self.FIELDS:
            getattr(self, name)[index] = state[name]
        self._done[index] = state["over"]
        self._started = True

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode is None:
            gym.logger.warn('render() called without a render_mode; pass render_mode="rgb_array".')
            return None
        return tuple(scaled(self.draw(i), self.render_scale) for i in range(self.num_envs))
