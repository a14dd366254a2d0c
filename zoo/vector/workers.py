"""WorkerVectorEnv: a vector env's copies stepped in one worker process per core.

For envs that cannot be batched in numpy (Box2D's LunarLander, MuJoCo, Atari, any third party's),
the zoo steps N copies the way gymnasium's ``SyncVectorEnv`` does, but split over ``workers``
processes: each worker holds a ``SyncVectorEnv`` of its share of the copies (copies
``start..stop``), and the parent writes every copy's action into shared memory, wakes the
workers with one message each, and reads their observations, rewards and flags back from
shared memory. gymnasium's ``AsyncVectorEnv`` sends a message per copy and step instead, which
costs more than a LunarLander step itself (benchmarks/results/env-speed.md, "bodies").

It is the sync vector env, bit for bit: worker ``w`` resets its share with ``seed + start``, so
copy ``i`` is the single env seeded ``seed + i`` as in ``SyncVectorEnv``; autoreset is
gymnasium's ``NEXT_STEP`` (the workers' sync envs do it); actions reach each copy with the dtype
they were given; ``reset_mask`` resets the masked copies only.

Workers are forked on Linux (elsewhere spawned, which needs the ``if __name__ == "__main__":``
guard of any script that makes one) and build their envs with the factory they are given (a
picklable callable). A forked worker does nothing but step its envs: it never touches what the
parent's other threads may hold. Workers exit on ``close()``, when the parent's end of their
pipe closes, and when the parent dies, even by SIGKILL (they watch their parent, and stop
within :data:`WATCH_SECONDS`).

Where each copy is in its episode is saved and put back as a replay
(:class:`zoo.vector.positions.SyncRecorder` in each worker): ``position()`` and
``set_position()``, which :class:`zoo.training.state.ResumableVectorEnv` uses for checkpoints.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from zoo.exceptions import ZooError
from zoo.streams import numpy_rng, numpy_rng_state
from zoo.vector.positions import SyncRecorder

#: How often an idle worker checks that its parent still lives.
WATCH_SECONDS = 0.5
_FIELDS = ("obs", "actions", "rewards", "terminated", "truncated")


def default_context() -> str:
    """The start method: ``fork`` on Linux (a worker starts in a tenth of a second, with the
    parent's envs registered), else ``spawn``."""
    return "fork" if sys.platform.startswith("linux") else "spawn"


def _layout(num_envs: int, observation_space: gymnasium.Space,
            action_space: gymnasium.Space) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    return {"obs": ((num_envs, *observation_space.shape), np.dtype(observation_space.dtype)),
            "actions": ((num_envs, *action_space.shape), np.dtype(action_space.dtype)),
            "rewards": ((num_envs,), np.dtype(np.float64)), "terminated": ((num_envs,), np.dtype(np.bool_)),
            "truncated": ((num_envs,), np.dtype(np.bool_))}


def _views(buffers: dict[str, Any], layout: dict[str, tuple[tuple[int, ...], np.dtype]]) -> dict[str, np.ndarray]:
    return {name: np.frombuffer(buffers[name], dtype=dtype).reshape(shape) for name, (shape, dtype) in layout.items()}


def _merge_infos(parts: list[tuple[int, int, dict[str, Any]]], num_envs: int) -> dict[str, Any]:
    """The workers' vector infos (each for copies ``start..stop``) as one for all copies, in
    ``SyncVectorEnv``'s layout: per key an array over copies and a ``_key`` mask."""
    merged: dict[str, Any] = {}
    for start, stop, info in parts:
        for key, value in info.items():
            if isinstance(value, dict):
                nested = merged.setdefault(key, {})
                for sub_key, sub_value in _merge_infos([(start, stop, value)], num_envs).items():
                    if sub_key not in nested:
                        nested[sub_key] = sub_value
                    else:
                        nested[sub_key][start:stop] = sub_value[start:stop]
                continue
            value = np.asarray(value)
            if key not in merged:
                merged[key] = np.zeros((num_envs, *value.shape[1:]), dtype=value.dtype)
            merged[key][start:stop] = value
    return merged


def _work(factory: Callable[[int], gymnasium.vector.VectorEnv], start: int, stop: int, buffers: dict[str, Any],
          layout: dict[str, Any], connection: Any, parent: int, others: list[Any]) -> None:
    """A worker: steps copies ``start..stop`` on the parent's commands (see the module docstring)."""
    for other in others:  # a forked worker's copies of the parent's ends of the other workers' pipes
        other.close()
    try:
        envs = factory(stop - start)
        recorder = SyncRecorder(envs)
        arrays = {name: view[start:stop] for name, view in _views(buffers, layout).items()}
        connection.send(("ready", None))
    except BaseException as exc:  # noqa: BLE001  (reported to the parent, which raises it)
        connection.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    while True:
        if not connection.poll(WATCH_SECONDS):
            if os.getppid() != parent:  # the parent is gone (even by SIGKILL): nobody to step for
                break
            continue
        try:
            command, argument = connection.recv()
        except (EOFError, OSError):
            break
        try:
            reply = None
            if command == "step":
                recorder.before_step()
                actions = arrays["actions"] if argument is None else argument
                obs, rewards, terminated, truncated, info = envs.step(actions)
                recorder.after_step(actions, terminated, truncated)
                for name, value in zip(_FIELDS[2:], (rewards, terminated, truncated)):
                    arrays[name][:] = value
                arrays["obs"][:] = obs
                reply = info or None
            elif command == "reset":
                seed, options = argument
                recorder.before_reset(seed, options)
                obs, info = envs.reset(seed=seed, options=options)
                if options and "reset_mask" in options:
                    arrays["obs"][options["reset_mask"]] = obs[options["reset_mask"]]
                else:
                    arrays["obs"][:] = obs
                reply = info or None
            elif command == "position":
                reply = recorder.position()
            elif command == "set_position":
                recorder.restore(argument)
            elif command == "get_stream":
                reply = numpy_rng_state(envs.unwrapped.envs[argument].np_random)
            elif command == "set_stream":
                index, state = argument
                envs.unwrapped.envs[index].np_random = numpy_rng(state)
            elif command == "close":
                envs.close()
                connection.send(("ok", None))
                break
            connection.send(("ok", reply))
        except BaseException as exc:  # noqa: BLE001  (reported to the parent, which raises it)
            connection.send(("error", f"{type(exc).__name__}: {exc}"))
    connection.close()


class _CopyStream:
    """Copy ``index``'s random stream, read and written in its worker (for
    :class:`zoo.training.state.ResumableVectorEnv`, as a sync env's sub-env ``np_random``)."""

    def __init__(self, env: WorkerVectorEnv, index: int) -> None:
        self._env, self._index = env, index

    @property
    def np_random(self) -> np.random.Generator:
        worker, local = self._env._locate(self._index)
        return numpy_rng(self._env._ask(worker, "get_stream", local))

    @np_random.setter
    def np_random(self, generator: np.random.Generator) -> None:
        worker, local = self._env._locate(self._index)
        self._env._ask(worker, "set_stream", (local, numpy_rng_state(generator)))


class WorkerVectorEnv(gymnasium.vector.VectorEnv):
    """``num_envs`` copies in ``workers`` processes; see the module docstring."""

    metadata: ClassVar[dict[str, Any]] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, factory: Callable[[int], gymnasium.vector.VectorEnv], num_envs: int, workers: int,
                 single_observation_space: gymnasium.Space, single_action_space: gymnasium.Space,
                 context: str | None = None) -> None:
        if not 1 <= workers <= num_envs:
            raise ValueError(f"workers must be 1 to num_envs={num_envs}, got {workers}")
        self.num_envs = num_envs
        self.single_observation_space, self.single_action_space = single_observation_space, single_action_space
        self.observation_space = batch_space(single_observation_space, num_envs)
        self.action_space = batch_space(single_action_space, num_envs)
        self.closed = True  # until every worker is up
        ctx = multiprocessing.get_context(context or default_context())
        self._layout = _layout(num_envs, single_observation_space, single_action_space)
        self._buffers = {name: ctx.RawArray("b", max(1, int(np.prod(shape)) * dtype.itemsize))
                         for name, (shape, dtype) in self._layout.items()}
        self._arrays = _views(self._buffers, self._layout)
        self.shares = [(int(share[0]), int(share[-1]) + 1) for share in np.array_split(np.arange(num_envs), workers)]
        self._connections, self.processes = [], []
        try:
            for start, stop in self.shares:
                here, there = ctx.Pipe()
                others = list(self._connections) + [here] if ctx.get_start_method() == "fork" else []
                process = ctx.Process(target=_work, args=(factory, start, stop, self._buffers, self._layout, there,
                                                          os.getpid(), others), daemon=True,
                                      name=f"zoo-env-worker-{start}")
                process.start()
                there.close()
                self._connections.append(here)
                self.processes.append(process)
            for worker in range(len(self.shares)):
                self._receive(worker)
        except BaseException:
            self._stop()
            raise
        self.closed = False
        self.copy_streams = tuple(_CopyStream(self, i) for i in range(num_envs))
        self._started = False

    # -- talking to the workers -----------------------------------------------------------------
    def _receive(self, worker: int) -> Any:
        try:
            status, reply = self._connections[worker].recv()
        except (EOFError, OSError):
            self._stop()
            raise ZooError(f"env worker {worker} (copies {self.shares[worker][0]}..{self.shares[worker][1] - 1}) "
                           "died") from None
        if status == "error":
            raise ZooError(f"env worker {worker}: {reply}")
        return reply

    def _broadcast(self, messages: list[tuple[str, Any] | None]) -> list[Any]:
        """Send each worker its message (None: nothing), then read every reply (all of them, so
        that none is left for the next command) before raising the first error."""
        for connection, message in zip(self._connections, messages):
            if message is not None:
                connection.send(message)
        replies, error = [], None
        for worker, message in enumerate(messages):
            try:
                replies.append(self._receive(worker) if message is not None else None)
            except ZooError as exc:
                replies.append(None)
                error = error or exc
        if error is not None:
            raise error
        return replies

    def _ask(self, worker: int, command: str, argument: Any = None) -> Any:
        self._connections[worker].send((command, argument))
        return self._receive(worker)

    def _locate(self, index: int) -> tuple[int, int]:
        for worker, (start, stop) in enumerate(self.shares):
            if start <= index < stop:
                return worker, index - start
        raise IndexError(index)

    def _infos(self, replies: list[Any]) -> dict[str, Any]:
        parts = [(start, stop, reply) for (start, stop), reply in zip(self.shares, replies) if reply]
        return _merge_infos(parts, self.num_envs) if parts else {}

    # -- gymnasium API ------------------------------------------------------------------------------
    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        options = dict(options) if options else None
        mask = options.get("reset_mask") if options else None
        messages = []
        for start, stop in self.shares:
            share_seed = (seed + start if isinstance(seed, int)
                          else list(seed[start:stop]) if seed is not None else None)
            share_options = options
            if mask is not None:
                share_mask = np.asarray(mask)[start:stop]
                if not share_mask.any():
                    messages.append(None)
                    continue
                share_options = {**options, "reset_mask": share_mask}
            messages.append(("reset", (share_seed, share_options)))
        if mask is not None and not any(messages):
            raise ValueError(f"`options['reset_mask']` must contain at least one True value, got reset_mask={mask}")
        infos = self._infos(self._broadcast(messages))
        self._started = True
        return self._arrays["obs"].copy(), infos

    def step(self, actions):
        if not self._started:
            raise gymnasium.error.ResetNeeded("Call reset before step.")
        actions = np.asarray(actions)
        if actions.dtype == self._arrays["actions"].dtype and actions.shape == self._arrays["actions"].shape:
            self._arrays["actions"][:] = actions
            messages = [("step", None)] * len(self.shares)
        else:  # another dtype: sent as it is, so each copy steps with the action it was given
            messages = [("step", actions[start:stop]) for start, stop in self.shares]
        infos = self._infos(self._broadcast(messages))
        a = self._arrays
        return a["obs"].copy(), a["rewards"].copy(), a["terminated"].copy(), a["truncated"].copy(), infos

    # -- positions (zoo.training.state.ResumableVectorEnv) --------------------------------------------
    def position(self) -> dict[str, Any]:
        """Where every copy is in its episode: the workers' replays, joined in copy order."""
        parts = self._broadcast([("position", None)] * len(self.shares))
        return {key: [item for part in parts for item in part[key]] for key in ("starts", "actions", "pending",
                                                                                  "streams")}

    def set_position(self, data: Any) -> None:
        """Replay fresh workers to :meth:`position`'s place."""
        keys = ("starts", "actions", "pending", "streams")
        if not isinstance(data, dict) or not all(isinstance(data.get(k), list) and len(data[k]) == self.num_envs
                                                 for k in keys):
            raise ZooError(f"the saved env position does not fit {self.num_envs} copies")
        self._broadcast([("set_position", {k: data[k][start:stop] for k in keys}) for start, stop in self.shares])
        self._started = True

    # -- closing ----------------------------------------------------------------------------------
    def _stop(self) -> None:
        for connection in self._connections:
            connection.close()
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)

    def close_extras(self, **kwargs: Any) -> None:
        for connection in self._connections:
            try:
                connection.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
        for worker in range(len(self._connections)):
            try:
                self._receive(worker)
            except ZooError:
                pass
        self._stop()
