"""PLEVectorEnv: what every PLE game's batched env shares beyond :class:`..batched.BatchedVectorEnv`
(gymnasium's vector API, NEXT_STEP autoreset, time limits, action checks, rendering): seeding, fresh
games and the next episode's start, the PLE time limit, scaled frames and per-copy snapshots. Each
game's vector env subclasses it and holds its state in numpy arrays, one entry per copy, stepping
all copies with array operations.

The dynamics are the single env's: from the same game state and action, both give the same next
state, observation, reward and termination (tested for every game). The randomness is drawn
differently, in batches from gymnasium's ``np_random`` (seeded by ``reset(seed=...)``), with the
original's distributions: drawing numpy's legacy stream one number at a time, copy by copy, would
cost more than the whole step. So seeded runs are reproducible, but they do not replay the
original's episodes: use the single env for that.

As in the single env, ``reset(seed=...)`` (and the first reset) builds fresh games, and a later
``reset()`` or an autoreset starts each copy's next episode the way the original's ``reset_game``
does (FlappyBird keeps its bird's velocity, Pong serves in a random direction).
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from ..batched import BatchedVectorEnv
from .env import FPS
from .render import scaled


class PLEVectorEnv(BatchedVectorEnv):
    """N copies of a PLE game in numpy arrays; see the module docstring."""

    metadata: ClassVar[dict[str, Any]] = {**BatchedVectorEnv.metadata, "render_fps": FPS}
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
        super().__init__(num_envs, single_observation_space, gym.spaces.Discrete(n_actions), render_mode,
                         max_episode_steps)
        self.render_scale = render_scale
        self.n_actions = n_actions

    # -- what a game's vector env provides ----------------------------------------------------
    def _start(self, ids: np.ndarray, fresh: bool) -> None:
        """Start copies ``ids`` on a new episode: fresh games, or each game's next episode."""
        raise NotImplementedError

    def draw(self, index: int) -> np.ndarray:
        """Copy ``index``'s current frame at scale 1."""
        raise NotImplementedError

    # -- BatchedVectorEnv's hooks ---------------------------------------------------------------
    def _reset(self, ids: np.ndarray, seed: int | None, options: dict[str, Any] | None) -> None:
        """Every copy draws from gymnasium's one ``np_random`` (``options`` unused)."""
        gym.vector.VectorEnv.reset(self, seed=seed)
        self._start(ids, fresh=seed is not None or not self._started)

    def _restart(self, ids: np.ndarray) -> None:
        self._start(ids, fresh=False)

    def _truncated(self, terminated: np.ndarray) -> np.ndarray:
        """The single PLE env's time limit: a game that ends on its last allowed frame is over
        (terminated), not truncated."""
        return super()._truncated(terminated) & ~terminated

    def _frame(self, index: int) -> np.ndarray:
        return scaled(self.draw(index), self.render_scale)

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
