"""ClassicVectorEnv: a gymnasium classic-control env batched so that each copy is that env.

Copy ``i`` of a batched env reset with ``seed`` is gymnasium's own env reset with ``seed + i``
(what ``gymnasium.make_vec(id, n, vectorization_mode="sync")`` gives, and ``seed`` may be a list
as there): the same observations, rewards, terminations and truncations, bit for bit, under the
same actions, across resets with and without a seed, autoresets and time limits. Two things make it so:

* Each copy keeps its own random stream (:class:`CopyStream`), seeded and drawn exactly as the
  single env's ``np_random``. Only resets draw (Acrobot's torque noise aside, off by default),
  copy by copy: a few microseconds per episode.
* Each module writes its env's physics on arrays in the single env's order of operations
  (floating-point arithmetic is not associative), and where the single env computes on float32 or
  Python scalars, or squares a numpy scalar (:mod:`.scalar_math`), the batched one rounds as it does.

The constants (masses, limits, time step), the spaces and the drawing come from an instance of
gymnasium's own class (:attr:`ClassicVectorEnv.single_env`): nothing of it is copied here.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding

from ..batched import BatchedVectorEnv


class CopyStream:
    """The random stream of one copy: the ``np_random`` of the single env it stands for, made on
    first use from fresh entropy (as gymnasium's is) unless seeded."""

    def __init__(self) -> None:
        self._np_random: np.random.Generator | None = None

    @property
    def np_random(self) -> np.random.Generator:
        if self._np_random is None:
            self._np_random, _ = seeding.np_random()
        return self._np_random

    @np_random.setter
    def np_random(self, generator: np.random.Generator) -> None:
        self._np_random = generator


class ClassicVectorEnv(BatchedVectorEnv):
    """N copies of a classic-control env, each the single env seeded ``seed + i``; see the module docstring."""

    #: gymnasium's single env, whose constants, spaces and drawing the batched one uses.
    single_env_class: ClassVar[type[gym.Env]]

    def __init__(self, num_envs: int = 1, render_mode: str | None = None, max_episode_steps: int | None = None,
                 **kwargs: Any) -> None:
        #: An instance of gymnasium's env, with the options given: its attributes are the physics'
        #: constants, and it draws each copy's frame.
        self.single_env = self.single_env_class(render_mode=render_mode, **kwargs)
        super().__init__(num_envs, self.single_env.observation_space, self.single_env.action_space, render_mode,
                         max_episode_steps)
        self.metadata = {**self.metadata, "render_fps": self.single_env.metadata["render_fps"]}
        #: One random stream per copy (what a resumed run saves and restores, as a sync vector
        #: env's sub-envs' ``np_random``).
        self.copy_streams = tuple(CopyStream() for _ in range(self.num_envs))

    # -- what each env provides -----------------------------------------------------------------
    def _start(self, ids: np.ndarray, generators: list[np.random.Generator], options: dict[str, Any] | None) -> None:
        """Start copies ``ids`` as the single env's ``reset`` does, drawing from ``generators``
        (copy ``ids[k]``'s is ``generators[k]``) in the same calls."""
        raise NotImplementedError

    def _pose(self, index: int) -> None:
        """Put copy ``index``'s state into :attr:`single_env`, for drawing."""
        raise NotImplementedError

    # -- BatchedVectorEnv's hooks ---------------------------------------------------------------
    def _reset(self, ids: np.ndarray, seed: int | list[int | None] | None, options: dict[str, Any] | None) -> None:
        # Seeded as Env.reset(seed=...) seeds a single env; every seed is checked before any is used.
        seeded = [(i, seeding.np_random(s)[0]) for i, s in zip(ids, self._copy_seeds(seed)[ids]) if s is not None]
        for i, generator in seeded:
            self.copy_streams[i].np_random = generator
        self._start(ids, [self.copy_streams[i].np_random for i in ids], options)

    def _restart(self, ids: np.ndarray) -> None:
        self._start(ids, [self.copy_streams[i].np_random for i in ids], None)

    def _frame(self, index: int) -> np.ndarray:
        self._pose(index)
        return self.single_env.render()

    def _copy_seeds(self, seed: int | list[int | None] | None) -> np.ndarray:
        """Each copy's seed, as ``SyncVectorEnv.reset`` deals them: ``seed + i``, a list's ``i``-th, or None."""
        if seed is None:
            seeds = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        elif isinstance(seed, (list, tuple)) and len(seed) == self.num_envs:
            seeds = list(seed)
        else:
            raise ValueError(f"seed must be None, an integer or a list of {self.num_envs} seeds, got {seed!r}")
        return np.array(seeds, dtype=object)

    def close_extras(self, **kwargs: Any) -> None:
        self.single_env.close()
