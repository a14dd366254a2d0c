"""BatchedVectorEnv: what every batched env of the zoo shares (gymnasium's vector API, NEXT_STEP
autoreset, time limits, ``reset_mask``, action checks, rendering). A batched env holds the state of
all its copies in numpy arrays, one entry per copy, and steps them with array operations instead of
stepping one Python env per copy as gymnasium's ``SyncVectorEnv`` does.

Autoreset follows gymnasium 1.x's default, ``AutoresetMode.NEXT_STEP`` (as ``SyncVectorEnv`` and
``CartPoleVectorEnv``): the step after a copy's episode ends restarts that copy, ignores its
action and returns its first observation with reward 0, not terminated, not truncated.

A subclass provides the rules: :meth:`~BatchedVectorEnv._reset` and
:meth:`~BatchedVectorEnv._restart` start episodes (how copies are seeded is theirs to say),
:meth:`~BatchedVectorEnv._advance` plays one step in every copy, and
:meth:`~BatchedVectorEnv._observations` and :meth:`~BatchedVectorEnv._frame` show the state.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

#: The unsigned dtype of each native integer dtype (a dict lookup costs less than the string
#: rewrite that other byte orders get).
_UNSIGNED = {np.dtype(f"{kind}{size}"): np.dtype(f"u{size}") for kind in "iu" for size in (1, 2, 4, 8)}


class BatchedVectorEnv(gym.vector.VectorEnv):
    """N copies of an env in numpy arrays; see the module docstring."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int,
        single_observation_space: gym.Space,
        single_action_space: gym.spaces.Discrete | gym.spaces.Box,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            modes = " or ".join(repr(mode) for mode in self.metadata["render_modes"])
            raise ValueError(f"render_mode must be {modes} or None, got {render_mode!r}")
        self.num_envs = int(num_envs)
        self.render_mode = render_mode
        self.max_episode_steps = max_episode_steps
        self.single_observation_space = single_observation_space
        self.single_action_space = single_action_space
        self.observation_space = batch_space(single_observation_space, self.num_envs)
        self.action_space = batch_space(single_action_space, self.num_envs)
        self._done = np.zeros(self.num_envs, dtype=bool)  # ended on the last step: restart on this one
        self._steps = np.zeros(self.num_envs, dtype=np.int64)  # steps into the current episodes
        self._started = False

    # -- what a batched env provides ----------------------------------------------------------
    def _reset(self, ids: np.ndarray, seed: int | list[int | None] | None, options: dict[str, Any] | None) -> None:
        """``reset(seed=seed, options=options)`` for copies ``ids``: seed them and start new episodes."""
        raise NotImplementedError

    def _restart(self, ids: np.ndarray) -> None:
        """Start the next episode in copies ``ids`` (an autoreset: no seed, no options)."""
        raise NotImplementedError

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step in every copy: (rewards as float64, terminated as bool). ``self._steps`` already
        counts this step; the copies in ``self._done`` restart after it, whatever it computed for them."""
        raise NotImplementedError

    def _observations(self) -> np.ndarray:
        """The observations of every copy, one row per copy."""
        raise NotImplementedError

    def _frame(self, index: int) -> np.ndarray:
        """Copy ``index``'s current frame, as ``render_mode="rgb_array"`` draws it."""
        raise NotImplementedError

    def _truncated(self, terminated: np.ndarray) -> np.ndarray:
        """Which copies the time limit ends on this step: gymnasium's ``TimeLimit`` rule, which
        truncates at the limit whether or not the episode also terminated."""
        if self.max_episode_steps is None:
            return np.zeros(self.num_envs, dtype=bool)
        return self._steps >= self.max_episode_steps

    # -- gymnasium API ------------------------------------------------------------------------
    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict]:
        """Start a new episode in every copy, or, with ``options={"reset_mask": mask}`` (as
        ``SyncVectorEnv``), in the copies where ``mask`` is True."""
        options = dict(options) if options else {}
        mask = options.pop("reset_mask", None)
        ids = np.arange(self.num_envs) if mask is None else self._masked(mask)
        self._reset(ids, seed, options or None)
        self._done[ids] = False
        self._steps[ids] = 0
        self._started = True
        return self._observations(), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """One step in every copy; copies that ended on the last step start over instead."""
        if not self._started:
            raise gym.error.ResetNeeded("Call reset before step.")
        actions = self._checked(actions)
        self._steps += 1  # before _advance, which may read it as the step it plays
        reward, terminated = self._advance(actions)
        truncated = self._truncated(terminated)
        restart = self._done.nonzero()[0]
        if restart.size:
            self._restart(restart)
            reward[restart] = 0.0
            terminated[restart] = False
            truncated[restart] = False
            self._steps[restart] = 0
        self._done = terminated | truncated
        return self._observations(), reward, terminated, truncated, {}

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One frame per copy."""
        if self.render_mode is None:
            gym.logger.warn('render() called without a render_mode; pass render_mode="rgb_array".')
            return None
        return tuple(self._frame(i) for i in range(self.num_envs))

    # -- checks ---------------------------------------------------------------------------------
    def _masked(self, mask: Any) -> np.ndarray:
        """The copies a ``reset_mask`` names, checked as ``SyncVectorEnv`` checks it."""
        if not (isinstance(mask, np.ndarray) and mask.shape == (self.num_envs,) and mask.dtype == np.bool_):
            raise ValueError(f"options['reset_mask'] must be a numpy bool array of shape ({self.num_envs},), "
                             f"got {mask!r}")
        if not self._started:
            raise gym.error.ResetNeeded("Call reset without a reset_mask first.")
        ids = np.flatnonzero(mask)
        if not ids.size:
            raise ValueError("options['reset_mask'] must hold at least one True")
        return ids

    def _checked(self, actions: Any) -> np.ndarray:
        """``actions`` as an array of one action per copy, or ValueError in one line. Discrete
        actions: integers of any dtype in 0..n-1 (spaces that start at 0). Box actions: floats (float16 to float64;
        integers become float64) of the space's shape, not clipped (the env decides, as its single
        env does)."""
        space = self.single_action_space
        array = np.asarray(actions)
        if isinstance(space, gym.spaces.Discrete):
            valid = array.shape == (self.num_envs,) and array.dtype.kind in "iu"
            if valid and array.size:
                # Read as unsigned, a negative action is huge, so one reduction tests both bounds
                # (a reduction costs about a percent of a step).
                unsigned = array.view(_UNSIGNED.get(array.dtype) or array.dtype.str.replace("i", "u"))
                valid = int(np.maximum.reduce(unsigned)) < space.n  # the ufunc: .max()'s wrapper costs as much
            if not valid:
                raise ValueError(f"actions must be {self.num_envs} integers in 0..{space.n - 1}, got {actions!r}")
            return array
        shape = (self.num_envs, *space.shape)
        if array.shape != shape or array.dtype.kind not in "fiu" or array.dtype.itemsize > 8:
            raise ValueError(f"actions must be an array of shape {shape} of float16, float32 or float64 "
                             f"(or integers), got {actions!r}")
        return array if array.dtype.kind == "f" else array.astype(np.float64)
