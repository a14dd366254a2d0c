"""Whole episodes from copies that never wait: REINFORCE's experience, nothing stepped in vain.

Every copy of the vector env steps on without pause: a copy whose episode ends starts the next
one, and that episode is kept too. An update takes the episodes that have ended (Monte-Carlo
returns need whole episodes) and carries the unfinished ones into the next update, where they
end. An update is due once every copy has ended an episode since the last one and those
episodes hold at least ``batch_steps`` steps (the batches of the old collection, which ran
every copy until the longest episode ended and threw away what the others did meanwhile).
Each episode therefore spans at most two policy versions, the previous one and the current
one: the update weighs each step by how much likelier the current policy makes its action
than the policy that took it (see :mod:`zoo.agents.reinforce`).

Experience is kept in (time, copy) arrays, the layout :mod:`zoo.agents.returns` works on: row
``t`` is the ``t``-th step of all copies since the oldest unfinished episode began. ``active``
marks the steps that play a transition and are not learned from yet (not the step that restarts
a copy under gymnasium's ``NEXT_STEP`` autoreset), ``ends`` the last step of each episode, and
``steps`` (one per row) the env steps the row executed, which put each episode at the env step
where it ended.

:class:`Collector` holds all of it, and is part of the agent's training state: a run stopped
between updates resumes with its unfinished episodes (:meth:`Collector.state`, as named arrays
and JSON data; never pickled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def min_update_steps(n: int, batch_steps: int) -> int:
    """The fewest env steps before the first update of ``n`` copies: every copy ends an episode
    (of one step at the least) and the ended episodes hold ``batch_steps`` steps."""
    return max(n, batch_steps)


@dataclass
class Batch:
    """The episodes one update learns from, each array (time, copy, ...): ``active`` marks their
    steps, ``ends`` the last step of each; ``log_probs`` are the log-probabilities of the actions
    under the policy that took them; ``steps_after`` (time,) the env steps executed after each row
    until the update."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    log_probs: np.ndarray
    active: np.ndarray
    ends: np.ndarray
    steps_after: np.ndarray

    def episode_order(self) -> np.ndarray:
        """For each episode, numbered copy by copy as :func:`zoo.agents.returns.episode_ids`
        numbers them, its place in the order the episodes ended (by step, then copy)."""
        copies, rows = np.nonzero(self.ends.T)  # episodes in copy-by-copy order, with their last row
        by_end = np.lexsort((copies, rows))
        order = np.empty_like(by_end)
        order[by_end] = np.arange(by_end.size)
        return order

    def episode_end_steps(self, executed: int) -> list[int]:
        """For each episode, in the order they ended, the env steps of the iteration done when it
        ended (``executed``: the iteration's; an episode that ended in steps before it, which made
        no update, gets a negative count)."""
        copies, rows = np.nonzero(self.ends.T)
        rows = rows[np.lexsort((copies, rows))]
        return (executed - self.steps_after[rows]).astype(int).tolist()


class Collector:
    """The experience of ``n`` copies not yet learned from: see the module docstring."""

    def __init__(self, n: int, obs_size: int, action_shape: tuple[int, ...], action_dtype: np.dtype,
                 next_step_autoreset: bool) -> None:
        self.n, self.next_step_autoreset = n, next_step_autoreset
        self.rows = 0
        capacity = 256
        self.buffers = {
            "obs": np.zeros((capacity, n, obs_size), np.float32),
            "actions": np.zeros((capacity, n, *action_shape), action_dtype),
            "rewards": np.zeros((capacity, n), np.float64),
            "log_probs": np.zeros((capacity, n), np.float64),
            "active": np.zeros((capacity, n), np.bool_),
            "ends": np.zeros((capacity, n), np.bool_),
            "steps": np.zeros(capacity, np.int64),
        }
        self.pending = np.zeros(n, np.bool_)  # the next step restarts the copy (NEXT_STEP autoreset)
        self.lengths = np.zeros(n, np.int64)  # steps into each copy's current episode
        self.ended = np.zeros(n, np.bool_)  # the copy ended an episode since the last update
        self.ended_steps = 0  # steps of the episodes ended since the last update
        self.ended_episodes = 0
        #: The observations the copies step from next, as the env returned them.
        self.observations: np.ndarray | None = None

    # -- collecting -------------------------------------------------------------------------------
    def cost(self) -> int:
        """Env steps the next ``step()`` executes (a copy restarting plays no transition)."""
        return self.n - int(np.count_nonzero(self.pending))

    def ready(self, batch_steps: int) -> bool:
        """Whether an update is due: every copy ended an episode since the last one, and they hold
        at least ``batch_steps`` steps."""
        return bool(self.ended.all()) and self.ended_steps >= batch_steps

    def _grow(self) -> None:
        for name, buffer in self.buffers.items():
            grown = np.zeros((2 * buffer.shape[0], *buffer.shape[1:]), buffer.dtype)
            grown[: self.rows] = buffer[: self.rows]
            self.buffers[name] = grown

    def record(self, encoded: np.ndarray, actions: np.ndarray, log_probs: np.ndarray, rewards: np.ndarray,
               terminated: np.ndarray, truncated: np.ndarray) -> int:
        """Record one step of every copy (``encoded``: the observations it stepped from); returns
        the env steps it executed."""
        if self.rows == self.buffers["obs"].shape[0]:
            self._grow()
        t, b = self.rows, self.buffers
        active = ~self.pending
        done = np.logical_or(terminated, truncated)
        ends = active & done
        b["obs"][t], b["actions"][t], b["log_probs"][t] = encoded, actions, log_probs
        b["rewards"][t], b["active"][t], b["ends"][t] = rewards, active, ends
        executed = b["steps"][t] = int(np.count_nonzero(active))
        self.rows += 1
        self.lengths += active
        if ends.any():
            self.ended |= ends
            self.ended_steps += int(self.lengths[ends].sum())
            self.ended_episodes += int(np.count_nonzero(ends))
            self.lengths[ends] = 0
        if self.next_step_autoreset:
            self.pending = done
        return executed

    def take(self) -> Batch:
        """The episodes that ended, for an update; the unfinished ones stay for the next."""
        b, rows = self.buffers, self.rows
        ends = b["ends"][:rows]
        last_end = np.where(ends.any(0), rows - 1 - np.argmax(ends[::-1], axis=0), -1)
        finished = np.arange(rows)[:, None] <= last_end[None, :]
        steps = b["steps"][:rows]
        batch = Batch(b["obs"][:rows].copy(), b["actions"][:rows].copy(), b["rewards"][:rows].copy(),
                      b["log_probs"][:rows].copy(), b["active"][:rows] & finished, ends & finished,
                      np.cumsum(steps[::-1])[::-1] - steps)
        # Keep the rows of the unfinished episodes, those steps still active.
        keep = int(last_end.min()) + 1
        for buffer in b.values():
            buffer[: rows - keep] = buffer[keep:rows]
        self.rows = rows - keep
        b["active"][: self.rows] &= ~finished[keep:]
        b["ends"][: self.rows] = False
        self.ended[:] = False
        self.ended_steps = 0
        self.ended_episodes = 0
        return batch

    # -- saving -----------------------------------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """What :meth:`load` needs to continue exactly: arrays, and JSON-ready counters."""
        arrays = {name: buffer[: self.rows].copy() for name, buffer in self.buffers.items()}
        arrays["observations"] = np.asarray(self.observations).copy()
        data = {"rows": self.rows, "pending": self.pending.tolist(), "lengths": self.lengths.tolist(),
                "ended": self.ended.tolist(), "ended_steps": self.ended_steps}
        return arrays, data

    def load(self, arrays: dict[str, np.ndarray], data: dict[str, Any], observations_like: np.ndarray) -> None:
        """Restore what :meth:`state` returned, checked against this collector's shapes
        (``ValueError`` or ``KeyError`` for anything that does not fit)."""
        rows = data["rows"]
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise ValueError(f"collection rows {rows!r} is not a count")
        for name, buffer in self.buffers.items():
            array = np.asarray(arrays[name])
            want = (rows, *buffer.shape[1:])
            if array.shape != want or array.dtype != buffer.dtype:
                raise ValueError(f"collection.{name} is {array.dtype}{list(array.shape)}, expected "
                                 f"{buffer.dtype}{list(want)}")
        if ((arrays["steps"] < 0) | (arrays["steps"] > self.n)).any():
            raise ValueError(f"collection.steps holds counts outside 0 to {self.n}")
        observations = np.asarray(arrays["observations"])
        if observations.shape != observations_like.shape or observations.dtype != observations_like.dtype:
            raise ValueError(f"collection.observations is {observations.dtype}{list(observations.shape)}, expected "
                             f"{observations_like.dtype}{list(observations_like.shape)}")
        flags = {}
        for name, kind in (("pending", bool), ("ended", bool), ("lengths", int)):
            values = data[name]
            if not isinstance(values, list) or len(values) != self.n or not all(
                    type(v) is kind and (kind is bool or 0 <= v <= 10**12) for v in values):
                raise ValueError(f"collection {name} is not {self.n} {'flags' if kind is bool else 'counts'}")
            flags[name] = np.array(values, dtype=np.bool_ if kind is bool else np.int64)
        ended_steps = data["ended_steps"]
        if isinstance(ended_steps, bool) or not isinstance(ended_steps, int) or ended_steps < 0:
            raise ValueError(f"collection ended_steps {ended_steps!r} is not a count")
        while self.buffers["obs"].shape[0] < max(rows, 1):
            self._grow()
        for name in self.buffers:
            self.buffers[name][:rows] = arrays[name]
        self.rows, self.ended_steps, self.observations = rows, ended_steps, observations.copy()
        self.pending, self.ended, self.lengths = flags["pending"], flags["ended"], flags["lengths"]
