"""Where a vector env's copies are between two steps, as JSON-ready data, so that a checkpoint
taken in the middle of episodes resumes them exactly.

An agent that keeps stepping its copies across updates (REINFORCE carries unfinished episodes into
the next update) is checkpointed with episodes under way. Envs are never pickled; a copy's place
is saved in one of two ways, chosen by what the vector env is:

* **Its arrays** (:func:`array_snapshot`), for a natively batched env that holds every copy's
  state in numpy arrays (the zoo's batched envs, gymnasium's ``CartPoleVectorEnv``): every
  attribute that is a numpy array, a dict of them, a numpy random generator, a plain number, and
  each copy's random stream (``copy_streams``). Restoring fills the fresh env's own attributes of
  the same names, types and shapes; nothing else is created or imported.
* **A replay** (:class:`SyncRecorder`), for envs of separate single envs (gymnasium's
  ``SyncVectorEnv``, the zoo's worker-process vector env): each copy's random stream as it was
  just before its episode started (or the seed that started it) and the actions since. Restoring
  starts the copy again from that stream and plays the actions: exact for any env whose state is
  a function of its ``np_random`` and its actions (gymnasium's envs, Box2D's included), the same
  assumption :mod:`zoo.training.state` makes of resets.

A vector env may also save and restore itself: ``position()`` and ``set_position(data)``
(the worker-process env does, with a :class:`SyncRecorder` in each worker).
"""

from __future__ import annotations

import base64
from typing import Any

import gymnasium
import numpy as np

from zoo.exceptions import ZooError
from zoo.streams import numpy_rng, numpy_rng_state

#: Array kinds a snapshot may hold (bool, integers, floats, fixed-width text): never objects.
_KINDS = "biufU"
_SCALARS = (bool, int, float, type(None))


# -- arrays -----------------------------------------------------------------------------------------
def encode_array(array: np.ndarray) -> dict[str, Any]:
    """An array as JSON-ready data, bit for bit (its raw bytes in base64)."""
    array = np.ascontiguousarray(array)
    return {"dtype": array.dtype.str, "shape": list(array.shape), "bytes": base64.b64encode(array.tobytes()).decode()}


def decode_array(data: Any, like: np.ndarray | None = None, what: str = "array") -> np.ndarray:
    """What :func:`encode_array` returned, as an array, checked: of a plain kind, and of ``like``'s
    dtype and shape when given."""
    try:
        dtype, shape = np.dtype(data["dtype"]), tuple(int(n) for n in data["shape"])
        raw = base64.b64decode(data["bytes"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise ZooError(f"the saved env position's {what} is malformed ({type(exc).__name__})") from None
    if dtype.kind not in _KINDS or any(n < 0 for n in shape) or len(raw) != dtype.itemsize * int(np.prod(shape)):
        raise ZooError(f"the saved env position's {what} is not a plain array of its shape")
    array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if like is not None and (array.dtype != like.dtype or array.shape != like.shape):
        raise ZooError(f"the saved env position's {what} is {array.dtype}{list(array.shape)}, the env holds "
                       f"{like.dtype}{list(like.shape)}")
    return array


_stream, _generator = numpy_rng_state, numpy_rng


# -- natively batched envs -------------------------------------------------------------------------
def is_natively_batched(env: gymnasium.vector.VectorEnv) -> bool:
    """Whether ``env`` holds its copies itself (no list of single envs in ``envs``)."""
    return not isinstance(getattr(env.unwrapped, "envs", None), (list, tuple))


def array_snapshot(env: gymnasium.vector.VectorEnv) -> dict[str, Any]:
    """Every copy's state of a natively batched env: see the module docstring."""
    base = env.unwrapped
    arrays, dicts, generators, scalars = {}, {}, {}, {}
    for name, value in vars(base).items():
        if isinstance(value, np.ndarray) and value.dtype.kind in _KINDS:
            arrays[name] = encode_array(value)
        elif isinstance(value, dict) and value and all(
                isinstance(k, str) and isinstance(v, np.ndarray) and v.dtype.kind in _KINDS for k, v in value.items()):
            dicts[name] = {k: encode_array(v) for k, v in value.items()}
        elif isinstance(value, np.random.Generator):
            generators[name] = _stream(value)
        elif isinstance(value, np.generic) and value.dtype.kind in _KINDS:
            arrays[name] = encode_array(np.asarray(value))
        elif isinstance(value, _SCALARS):
            scalars[name] = value
    copies = [_stream(owner.np_random) for owner in getattr(base, "copy_streams", ())]
    return {"arrays": arrays, "dicts": dicts, "generators": generators, "scalars": scalars, "copy_streams": copies}


def restore_array_snapshot(env: gymnasium.vector.VectorEnv, data: Any) -> None:
    """Put a fresh natively batched env (reset once) where :func:`array_snapshot` found one."""
    base = env.unwrapped
    if not isinstance(data, dict) or not all(isinstance(data.get(k), dict) for k in
                                             ("arrays", "dicts", "generators", "scalars")):
        raise ZooError("the saved env position is not one the zoo wrote")
    fresh = array_snapshot(env)
    for part in ("arrays", "generators", "scalars"):
        if set(data[part]) != set(fresh[part]):
            raise ZooError(f"the saved env position's {part} ({sorted(data[part])}) do not fit this env's "
                           f"({sorted(fresh[part])})")
    if set(data["dicts"]) - set(vars(base)):
        missing = sorted(set(data["dicts"]) - set(vars(base)))
        raise ZooError(f"the saved env position names attributes this env lacks: {missing}")
    values: dict[str, Any] = {}
    for name, saved in data["arrays"].items():
        current = getattr(base, name)
        array = decode_array(saved, np.asarray(current), name)
        values[name] = array if isinstance(current, np.ndarray) else array[()]
    for name, saved in data["dicts"].items():
        if not isinstance(saved, dict) or not isinstance(getattr(base, name), dict):
            raise ZooError(f"the saved env position's {name} is malformed")
        values[name] = {str(k): decode_array(v, None, f"{name}[{k!r}]") for k, v in saved.items()}
    for name, saved in data["generators"].items():
        values[name] = _generator(saved)
    for name, saved in data["scalars"].items():
        current = getattr(base, name)
        if current is not None and saved is not None and type(saved) is not type(current) and not (
                isinstance(current, float) and type(saved) is int):
            raise ZooError(f"the saved env position's {name} is {saved!r}, not like the env's {current!r}")
        if name == "num_envs" and saved != current:
            raise ZooError(f"the saved env position is of {saved} copies, the env has {current}")
        values[name] = float(saved) if isinstance(current, float) and saved is not None else saved
    owners = getattr(base, "copy_streams", ())
    streams = data.get("copy_streams")
    if not isinstance(streams, list) or len(streams) != len(owners):
        raise ZooError(f"the saved env position holds {len(streams) if isinstance(streams, list) else 'no'} "
                       f"copy streams, the env {len(owners)}")
    generators = [_generator(stream) for stream in streams]
    for name, value in values.items():  # all checked: now change the env
        current = getattr(base, name)
        if isinstance(current, np.ndarray) and isinstance(value, np.ndarray):
            current[...] = value  # in place: another attribute may be a view of it
        elif isinstance(current, np.random.Generator) and type(current.bit_generator) is type(value.bit_generator):
            current.bit_generator.state = value.bit_generator.state  # in place, as an array
        else:
            setattr(base, name, value)
    for owner, generator in zip(owners, generators):
        owner.np_random = generator


# -- envs of single envs --------------------------------------------------------------------------
class SyncRecorder:
    """What it takes to replay each copy of a ``SyncVectorEnv`` (``NEXT_STEP`` autoreset) to where
    it is: the random stream (or seed) its episode started from and the actions since. Its owner
    calls :meth:`before_reset` and :meth:`before_step` / :meth:`after_step` around the env's own
    calls. Memory: one row of actions per step, back to the oldest running episode's start."""

    def __init__(self, envs: gymnasium.vector.VectorEnv) -> None:
        self.envs = envs
        n = envs.num_envs
        self._starts: list[dict[str, Any] | None] = [None] * n  # how each copy's episode began
        self._first = np.zeros(n, dtype=np.int64)  # index of each copy's first action in the log
        self._log: list[np.ndarray] = []  # one row of actions per step
        self._offset = 0  # log index of self._log[0]
        self._pending = np.zeros(n, dtype=bool)  # ended on the last step: restarts on the next
        self.replayable = envs.metadata.get("autoreset_mode", gymnasium.vector.AutoresetMode.NEXT_STEP) == \
            gymnasium.vector.AutoresetMode.NEXT_STEP

    @property
    def _subenvs(self) -> list[gymnasium.Env]:
        return self.envs.unwrapped.envs

    def _begin(self, index: int, start: dict[str, Any], first: int) -> None:
        self._starts[index] = start
        self._first[index] = first
        self._pending[index] = False

    def before_reset(self, seed: Any, options: dict[str, Any] | None) -> None:
        n = self.envs.num_envs
        mask = (options or {}).get("reset_mask")
        rest = {k: v for k, v in (options or {}).items() if k != "reset_mask"}
        seeds = ([seed + i for i in range(n)] if isinstance(seed, int)
                 else list(seed) if seed is not None else [None] * n)
        replay_options: dict[str, Any] | None = {} if mask is not None else None
        if rest or len(seeds) != n:
            self.replayable = False  # options the replay would have to repeat: not supported
        here = self._offset + len(self._log)
        for i in range(n) if mask is None else np.flatnonzero(mask):
            start = ({"seed": int(seeds[i])} if seeds[i] is not None
                     else {"stream": _stream(self._subenvs[i].np_random), "options": replay_options})
            self._begin(int(i), start, here)
        self._trim()

    def before_step(self) -> None:
        here = self._offset + len(self._log) + 1  # the restarted copies' first action is the next step's
        for i in np.flatnonzero(self._pending):
            self._begin(int(i), {"stream": _stream(self._subenvs[i].np_random), "options": None}, here)

    def after_step(self, actions: Any, terminated: np.ndarray, truncated: np.ndarray) -> None:
        self._log.append(np.array(actions, copy=True))
        self._pending = np.logical_or(terminated, truncated)
        self._trim()

    def _trim(self) -> None:
        oldest = int(self._first.min()) if len(self._first) else self._offset
        drop = min(oldest - self._offset, len(self._log))
        if drop > 0:
            del self._log[:drop]
            self._offset += drop

    def position(self) -> dict[str, Any]:
        """Each copy's start and actions since, which copies restart on the next step, and every
        copy's random stream now."""
        if not self.replayable or any(start is None for start in self._starts):
            raise ZooError("this vector env's copies cannot be replayed (reset options or an autoreset mode other "
                           "than NEXT_STEP)")
        end = self._offset + len(self._log)
        actions = [np.stack([row[i] for row in self._log[int(self._first[i]) - self._offset:]]) if
                   self._first[i] < end else np.zeros((0, *self.envs.single_action_space.shape),
                                                      dtype=self.envs.single_action_space.dtype)
                   for i in range(self.envs.num_envs)]
        return {"starts": list(self._starts), "actions": [encode_array(a) for a in actions],
                "pending": self._pending.tolist(), "streams": [_stream(env.np_random) for env in self._subenvs]}

    def restore(self, data: Any) -> None:
        """Replay a fresh ``SyncVectorEnv`` (reset once) to :meth:`position`'s place."""
        n = self.envs.num_envs
        if not isinstance(data, dict) or not all(isinstance(data.get(k), list) and len(data[k]) == n
                                                 for k in ("starts", "actions", "pending", "streams")):
            raise ZooError(f"the saved env position does not fit {n} copies")
        space = self.envs.single_action_space
        like = np.zeros(space.shape, dtype=space.dtype)
        plans = []
        for i, (start, actions, pending) in enumerate(zip(data["starts"], data["actions"], data["pending"])):
            if not isinstance(start, dict) or not isinstance(pending, bool):
                raise ZooError(f"the saved env position of copy {i} is malformed")
            array = decode_array(actions, None, f"actions of copy {i}")
            if array.shape[1:] != like.shape or (array.size and array.dtype.kind not in "biuf"):
                raise ZooError(f"the saved actions of copy {i} do not fit the action space {space}")
            seed = start.get("seed")
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise ZooError(f"the saved env position of copy {i} has a malformed seed")
            if start.get("options") not in (None, {}):
                raise ZooError(f"the saved env position of copy {i} has reset options")
            start = ({"seed": seed} if seed is not None
                     else {"stream": start.get("stream"), "options": start.get("options")})
            if seed is None:
                _generator(start["stream"])  # checked before anything is changed
            plans.append((start, array.astype(space.dtype, copy=False), pending))
        streams = [_generator(s) for s in data["streams"]]
        base = self.envs.unwrapped
        for env, (start, actions, _) in zip(base.envs, plans):
            if "seed" in start:
                env.reset(seed=start["seed"])
            else:
                env.np_random = _generator(start["stream"])
                env.reset(options=start["options"])
            for action in actions:
                env.step(action)
        for env, generator in zip(base.envs, streams):
            env.np_random = generator
        # The episodes under way keep their actions for the next checkpoint: copy i's at the end
        # of a log as long as the longest.
        longest = max((len(actions) for _, actions, _ in plans), default=0)
        self._log = []
        for t in range(longest):
            row = np.zeros((n, *like.shape), dtype=like.dtype)
            for i, (_, actions, _) in enumerate(plans):
                k = t - (longest - len(actions))
                if k >= 0:
                    row[i] = actions[k]
            self._log.append(row)
        self._offset = 0
        self._starts = [start for start, _, _ in plans]
        self._first = np.array([longest - len(actions) for _, actions, _ in plans], dtype=np.int64)
        self._pending = np.array([pending for _, _, pending in plans], dtype=bool)
        base._autoreset_envs = self._pending.copy()  # gymnasium's NEXT_STEP bookkeeping


# -- choosing -------------------------------------------------------------------------------------
def recorder_for(env: gymnasium.vector.VectorEnv) -> SyncRecorder | None:
    """A :class:`SyncRecorder` for an env of single envs that does not save its own position."""
    base = env.unwrapped
    if callable(getattr(base, "position", None)) or is_natively_batched(env):
        return None
    return SyncRecorder(env) if isinstance(base, gymnasium.vector.SyncVectorEnv) else None


def position(env: gymnasium.vector.VectorEnv, recorder: SyncRecorder | None) -> dict[str, Any] | None:
    """Where ``env``'s copies are (see the module docstring), or None if it cannot say."""
    base = env.unwrapped
    if callable(getattr(base, "position", None)):
        return {"own": base.position()}
    if recorder is not None:
        return {"replay": recorder.position()} if recorder.replayable else None
    if is_natively_batched(env):
        return {"arrays": array_snapshot(env)}
    return None


def restore(env: gymnasium.vector.VectorEnv, recorder: SyncRecorder | None, data: Any) -> None:
    """Put a freshly made ``env`` where :func:`position` found one like it."""
    base = env.unwrapped
    kind = next(iter(data), None) if isinstance(data, dict) and len(data) == 1 else None
    if kind == "own" and callable(getattr(base, "set_position", None)):
        base.set_position(data["own"])
    elif kind == "replay" and recorder is not None:
        recorder.restore(data["replay"])
    elif kind == "arrays" and is_natively_batched(env) and recorder is None:
        env.reset()  # every attribute made, then overwritten
        restore_array_snapshot(env, data["arrays"])
    else:
        raise ZooError(f"the saved env position ({kind or 'malformed'}) does not fit this env ({type(base).__name__})")
