"""Whole episodes from copies that never wait: REINFORCE's experience, nothing stepped in vain.

Every copy of the vector env steps on without pause: a copy whose episode ends starts the next
one, and that episode is kept too. An update takes the episodes that have ended (Monte-Carlo
returns need whole episodes) and carries the unfinished ones into the next update, where they
end. An update is due once every copy has ended an episode since the last one and those
episodes hold at least ``batch_steps`` steps (the batches of the old collection, which ran
every copy until the longest episode ended and threw away what the others did meanwhile).
When the run's step budget ends before the next update is due, the last update takes everything
(:meth:`Collector.take_all`): the ended episodes, and the unfinished ones cut there and learned as
truncated, as a time limit truncates an episode. Nothing executed goes unlearned; a run resumed
with a larger budget continues the cut episodes as new segments (each reported, once it ends,
whole: its earlier part's steps and return are carried).
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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


def min_update_steps(n: int, batch_steps: int) -> int:
    """The fewest env steps before the first update of ``n`` copies: every copy ends an episode
    (of one step at the least) and the ended episodes hold ``batch_steps`` steps."""
    return max(n, batch_steps)


def _last_rows(mask: np.ndarray) -> np.ndarray:
    """For each copy (column) of a (time, copy) mask, the last row where it is set; -1 where none is."""
    return np.where(mask.any(0), len(mask) - 1 - np.argmax(mask[::-1], axis=0), -1)


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
    #: (time, copy): the last step of each unfinished episode cut at the budget's end (also in
    #: ``ends``: learned as a truncated episode, reported as none).
    cut: np.ndarray
    #: (copy,): the steps and return, learned at an earlier cut, of the episode each copy's first
    #: ended episode of the batch continues (0 when none).
    prefix_lengths: np.ndarray
    prefix_returns: np.ndarray

    def reported(self) -> np.ndarray:
        """The last steps of the episodes that ended (``ends`` but not ``cut``)."""
        return self.ends & ~self.cut

    def episode_order(self) -> np.ndarray:
        """For each ended episode, numbered copy by copy as :func:`zoo.agents.returns.episode_ids`
        numbers them (cut ones left out), its place in the order they ended (by step, then copy)."""
        copies, rows = np.nonzero(self.reported().T)  # episodes in copy-by-copy order, with their last row
        by_end = np.lexsort((copies, rows))
        order = np.empty_like(by_end)
        order[by_end] = np.arange(by_end.size)
        return order

    def episode_end_steps(self, executed: int) -> list[int]:
        """For each episode, in the order they ended, the env steps of the iteration done when it
        ended (``executed``: the iteration's; an episode that ended in steps before it, which made
        no update, gets a negative count)."""
        copies, rows = np.nonzero(self.reported().T)
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
        #: Steps and return of each copy's current episode learned at an earlier cut (take_all).
        self.cut_lengths = np.zeros(n, np.int64)
        self.cut_returns = np.zeros(n, np.float64)
        #: The observations the copies step from next, as the env returned them.
        self.observations: np.ndarray | None = None

    # -- collecting -------------------------------------------------------------------------------
    def cost(self) -> int:
        """Env steps the next ``step()`` executes (a copy restarting plays no transition)."""
        return self.n - int(np.count_nonzero(self.pending))

    def ready(self, batch_steps: int) -> bool:
        """Whether an update is due: every copy ended an episode since the last one, and they hold
        at least ``batch_steps`` steps."""
        # count_nonzero: .all()'s answer without its wrapper's cost (a microsecond, every step)
        return int(np.count_nonzero(self.ended)) == self.n and self.ended_steps >= batch_steps

    def _grow(self) -> None:
        for name, buffer in self.buffers.items():
            grown = np.zeros((2 * buffer.shape[0], *buffer.shape[1:]), buffer.dtype)
            grown[: self.rows] = buffer[: self.rows]
            self.buffers[name] = grown

    def record(self, encoded: np.ndarray, actions: np.ndarray, log_probs: np.ndarray | None, rewards: np.ndarray,
               terminated: np.ndarray, truncated: np.ndarray) -> int:
        """Record one step of every copy (``encoded``: the observations it stepped from); returns
        the env steps it executed. ``log_probs`` may be None, given later (:meth:`fill_log_probs`)."""
        if self.rows == self.buffers["obs"].shape[0]:
            self._grow()
        t, b = self.rows, self.buffers
        active = ~self.pending
        done = np.logical_or(terminated, truncated)
        ends = active & done
        b["obs"][t], b["actions"][t] = encoded, actions
        if log_probs is not None:
            b["log_probs"][t] = log_probs
        b["rewards"][t], b["active"][t], b["ends"][t] = rewards, active, ends
        executed = b["steps"][t] = int(np.count_nonzero(active))
        self.rows += 1
        self.lengths += active
        if np.count_nonzero(ends):  # ends.any(), without its wrapper's cost
            self.ended |= ends
            self.ended_steps += int(self.lengths[ends].sum())
            self.ended_episodes += int(np.count_nonzero(ends))
            self.lengths[ends] = 0
        if self.next_step_autoreset:
            self.pending = done
        return executed

    def fill_log_probs(self, first_row: int, log_probs_of: Callable[[np.ndarray], np.ndarray]) -> None:
        """The log-probabilities of the steps recorded without them, rows ``first_row`` on:
        ``log_probs_of`` their actions, (rows, copies, ...)."""
        b = self.buffers
        b["log_probs"][first_row:self.rows] = log_probs_of(b["actions"][first_row:self.rows])

    def holds_steps(self) -> bool:
        """Whether any step executed is not learned from yet."""
        return bool(self.buffers["active"][: self.rows].any())

    def take(self) -> Batch:
        """The episodes that ended, for an update; the unfinished ones stay for the next."""
        b, rows = self.buffers, self.rows
        ends = b["ends"][:rows]
        last_end = _last_rows(ends)
        finished = np.arange(rows)[:, None] <= last_end[None, :]
        batch = self._batch(finished, ends & finished, np.zeros_like(ends))
        # Keep the rows of the unfinished episodes, those steps still active.
        keep = int(last_end.min()) + 1
        for buffer in b.values():
            buffer[: rows - keep] = buffer[keep:rows]
        self.rows = rows - keep
        b["active"][: self.rows] &= ~finished[keep:]
        b["ends"][: self.rows] = False
        self._restart_count()
        return batch

    def take_all(self) -> Batch:
        """Every step not learned from yet, for the last update of a run whose step budget ends:
        the episodes that ended, and each unfinished one cut at its last step (``Batch.cut``).
        The collector is left empty; a cut episode that goes on (a run resumed with a larger
        budget) is a new segment, and its cut part's steps and return are carried to report it
        whole when it ends."""
        b, rows = self.buffers, self.rows
        active = b["active"][:rows]
        under_way = self.lengths > 0  # steps of the copy's current episode are held
        last_active = _last_rows(active)
        cut = np.zeros((rows, self.n), np.bool_)
        cut[last_active[under_way], np.flatnonzero(under_way)] = True
        batch = self._batch(np.ones((rows, self.n), np.bool_), b["ends"][:rows] | cut, cut)
        # What each cut episode has done so far: after its last ended one, if any, in this batch.
        ends = b["ends"][:rows]
        last_end = _last_rows(ends)
        segment = active & (np.arange(rows)[:, None] > last_end[None, :])
        self.cut_lengths[under_way] += self.lengths[under_way]
        self.cut_returns[under_way] += np.where(segment, b["rewards"][:rows], 0.0).sum(0)[under_way]
        self.rows = 0
        self.lengths[:] = 0
        self._restart_count()
        return batch

    def _batch(self, rows_taken: np.ndarray, ends: np.ndarray, cut: np.ndarray) -> Batch:
        """The batch of the steps ``rows_taken`` marks, whose episodes end where ``ends`` says;
        the carried prefixes go to the copies that ended an episode (and are spent)."""
        b, rows = self.buffers, self.rows
        steps = b["steps"][:rows]
        reported = (ends & ~cut).any(0)
        prefix_lengths = np.where(reported, self.cut_lengths, 0)
        prefix_returns = np.where(reported, self.cut_returns, 0.0)
        self.cut_lengths[reported], self.cut_returns[reported] = 0, 0.0
        return Batch(b["obs"][:rows].copy(), b["actions"][:rows].copy(), b["rewards"][:rows].copy(),
                     b["log_probs"][:rows].copy(), b["active"][:rows] & rows_taken, ends,
                     np.cumsum(steps[::-1])[::-1] - steps, cut, prefix_lengths, prefix_returns)

    def _restart_count(self) -> None:
        self.ended[:] = False
        self.ended_steps = 0
        self.ended_episodes = 0

    # -- saving -----------------------------------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """What :meth:`load` needs to continue exactly: arrays, and JSON-ready counters."""
        arrays = {name: buffer[: self.rows].copy() for name, buffer in self.buffers.items()}
        arrays["observations"] = np.asarray(self.observations).copy()
        data = {"rows": self.rows, "pending": self.pending.tolist(), "lengths": self.lengths.tolist(),
                "ended": self.ended.tolist(), "ended_steps": self.ended_steps}
        if self.cut_lengths.any():
            data["cut_lengths"], data["cut_returns"] = self.cut_lengths.tolist(), self.cut_returns.tolist()
        return arrays, data

    def load(self, arrays: dict[str, np.ndarray], data: dict[str, Any], observations_like: np.ndarray) -> None:
        """Restore what :meth:`state` returned, checked against this collector's shapes
        (``ValueError`` or ``KeyError`` for anything that does not fit). A state without cut
        episodes (and any an earlier version wrote) carries none."""
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
        cut_lengths, cut_returns = data.get("cut_lengths", [0] * self.n), data.get("cut_returns", [0.0] * self.n)
        if not isinstance(cut_lengths, list) or len(cut_lengths) != self.n or not all(
                type(v) is int and 0 <= v <= 10**12 for v in cut_lengths):
            raise ValueError(f"collection cut_lengths is not {self.n} counts")
        if not isinstance(cut_returns, list) or len(cut_returns) != self.n or not all(
                type(v) in (int, float) and np.isfinite(v) for v in cut_returns):
            raise ValueError(f"collection cut_returns is not {self.n} finite numbers")
        while self.buffers["obs"].shape[0] < max(rows, 1):
            self._grow()
        for name in self.buffers:
            self.buffers[name][:rows] = arrays[name]
        self.rows, self.ended_steps, self.observations = rows, ended_steps, observations.copy()
        self.pending, self.ended, self.lengths = flags["pending"], flags["ended"], flags["lengths"]
        self.cut_lengths = np.array(cut_lengths, np.int64)
        self.cut_returns = np.array(cut_returns, np.float64)
