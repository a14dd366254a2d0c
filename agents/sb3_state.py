"""What a stable-baselines3 model needs, beyond its policy's weights, to continue training
exactly where it stopped: as named tensors plus JSON (safetensors + ``training.json``), never
an SB3 zip (those are pickles).

* The optimisers' state (``policy.optimizer``; SAC's actor, critic and entropy optimisers and
  its ``log_ent_coef``), through the zoo's training-state helpers (``zoo.optimizer_state``,
  ``zoo.numpy_rng_state`` and their inverses).
* The replay buffer of DQN and SAC: its filled rows of observations, next observations,
  actions, rewards, dones and timeouts, plus ``pos`` and ``full``.
* SB3's counters (``num_timesteps``, ``_n_updates``, ``_episode_num``, DQN's ``_n_calls`` and
  ``exploration_rate``), ``_last_obs`` / ``_last_episode_starts`` / ``_last_original_obs``.
* RecurrentPPO's LSTM states between two steps (``_last_lstm_states``).
* Every random stream SB3 draws from: torch's and numpy's global generators (policy sampling,
  minibatch shuffles, replay sampling, epsilon-greedy), Python's ``random``, and the action
  space's generator (random actions before ``learning_starts``).
* The envs, which SB3 leaves in the middle of an episode between two ``learn`` calls. They are
  not serialised: each env copy is wrapped in a :class:`ReplayableEnv` that remembers how its
  current episode began (the reset seed, or its ``np_random`` state just before the reset) and
  the actions taken since. On resume the episode is replayed through a fresh env (and its
  ``Monitor``), which puts it, and the episode's running return, exactly where it was, for any
  env whose episode is a function of its ``np_random`` and the actions (gymnasium's envs). If
  the replay does not end at the saved observation (an env with other hidden state, such as
  Pixelcopter's level pool), that env copy starts a fresh episode instead and a warning says so.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import gymnasium
import numpy as np

import zoo

#: Replay buffer arrays saved, in this order; ``next_observations`` is absent with
#: ``optimize_memory_usage``. A goal env's observations are a dict of arrays, saved key by key
#: (``buffer.observations.desired_goal``); HER's buffer adds where each stored step's episode
#: starts and how long it is, and where each env's current episode started.
_BUFFER_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")
_HER_ARRAYS = ("ep_start", "ep_length")


def _parts(name: str, value: Any) -> dict[str, Any]:
    """``value`` by tensor name: an array as ``name``, a Dict env's dict of arrays as ``name.KEY``."""
    if isinstance(value, dict):
        return {f"{name}.{key}": part for key, part in value.items()}
    return {name: value}


def _space_parts(name: str, space: Any) -> dict[str, Any]:
    """The observation space of each tensor :func:`_parts` names."""
    if isinstance(space, gymnasium.spaces.Dict):
        return {f"{name}.{key}": part for key, part in space.spaces.items()}
    return {name: space}


class ApproximateResumeWarning(UserWarning):
    """An env copy could not be put back where it was; it starts a new episode instead."""


class ReplayableEnv(gymnasium.Wrapper):
    """Remembers how the current episode began and the actions taken since, so that a fresh
    copy of the env can be brought to the same point (see the module docstring)."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        self.recipe: dict[str, Any] | None = None
        self.actions: list[Any] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):

        self.recipe = ({"seed": seed} if seed is not None
                       else {"streams": zoo.numpy_rng_state(self.env.unwrapped.np_random)})
        if options:
            self.recipe["options"] = options
        self.actions = []
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        self.actions.append(np.array(action, copy=True))
        return self.env.step(action)


def _replayable(monitored: gymnasium.Env) -> ReplayableEnv:
    env = monitored
    while not isinstance(env, ReplayableEnv):
        env = env.env
    return env


def _global_streams() -> tuple[dict[str, Any], dict[str, Any]]:
    """torch's, numpy's and Python's global random states, as tensors and JSON."""
    import torch

    legacy = np.random.get_state(legacy=False)
    tensors = {"rng.torch": torch.get_rng_state(),
               "rng.numpy.key": torch.from_numpy(legacy["state"]["key"].astype(np.int64))}
    version, state, gauss = random.getstate()
    data = {"numpy": {k: v for k, v in legacy.items() if k != "state"} | {"pos": int(legacy["state"]["pos"])},
            "python": [version, list(state), gauss]}
    return tensors, data


def _set_global_streams(tensors: dict[str, Any], data: dict[str, Any]) -> None:
    try:
        _set_streams(tensors, data)
    except (OverflowError, TypeError, ValueError, RuntimeError, IndexError, KeyError) as exc:
        raise ValueError(f"the saved global random states are malformed ({type(exc).__name__}: {exc})") from None


def _set_streams(tensors: dict[str, Any], data: dict[str, Any]) -> None:
    import torch

    numpy_state, python_state = data["numpy"], data["python"]
    key = tensors["rng.numpy.key"].numpy()
    if key.shape != (624,) or key.min() < 0 or key.max() >= 2**32:
        raise ValueError("the saved numpy random state is malformed")
    np.random.set_state({"bit_generator": "MT19937",
                         "state": {"key": key.astype(np.uint32), "pos": int(numpy_state["pos"])},
                         "has_gauss": int(numpy_state["has_gauss"]), "gauss": float(numpy_state["gauss"])})
    random.setstate((int(python_state[0]), tuple(int(v) for v in python_state[1]),
                     None if python_state[2] is None else float(python_state[2])))
    torch.set_rng_state(tensors["rng.torch"])


def optimizers(model: Any) -> dict[str, Any]:
    """The model's optimisers by name."""
    found = {"policy.optimizer": getattr(model.policy, "optimizer", None)}
    if hasattr(model, "actor") and hasattr(model, "critic"):  # SAC
        found = {"actor.optimizer": model.actor.optimizer, "critic.optimizer": model.critic.optimizer,
                 "ent_coef_optimizer": getattr(model, "ent_coef_optimizer", None)}
    return {name: opt for name, opt in found.items() if opt is not None}


def training_state(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``model``'s state beyond its policy's weights (see the module docstring)."""
    import torch

    tensors, data = _global_streams()
    data = {"rng": data, "action_space": zoo.numpy_rng_state(model.action_space.np_random)}
    data["counters"] = {name: int(getattr(model, name)) for name in ("num_timesteps", "_n_updates", "_episode_num",
                                                                     "_n_calls") if hasattr(model, name)}
    if hasattr(model, "exploration_rate"):
        data["exploration_rate"] = float(model.exploration_rate)
    for name, optimizer in optimizers(model).items():
        part, data[name] = zoo.optimizer_state(optimizer, name)
        tensors.update(part)
    if getattr(model, "log_ent_coef", None) is not None:
        tensors["log_ent_coef"] = model.log_ent_coef.detach().clone()
    for name in ("_last_obs", "_last_episode_starts", "_last_original_obs"):
        value = getattr(model, name, None)
        if isinstance(value, (np.ndarray, dict)):
            tensors.update({key: torch.from_numpy(np.array(part))
                            for key, part in _parts(f"last.{name}", value).items()})
    lstm = getattr(model, "_last_lstm_states", None)  # RecurrentPPO: the LSTMs' state between two steps
    if lstm is not None:
        for part in ("pi", "vf"):
            for i, tensor in enumerate(getattr(lstm, part)):
                tensors[f"lstm.{part}.{i}"] = tensor.detach().clone()
    buffer = getattr(model, "replay_buffer", None)
    if buffer is not None:
        filled = buffer.buffer_size if buffer.full else buffer.pos
        for name, array in _buffer_arrays(buffer).items():
            tensors[f"buffer.{name}"] = torch.from_numpy(np.ascontiguousarray(array[:filled]))
        if hasattr(buffer, "_current_ep_start"):  # HER
            tensors["buffer._current_ep_start"] = torch.from_numpy(np.array(buffer._current_ep_start))
        data["buffer"] = {"pos": int(buffer.pos), "full": bool(buffer.full)}
    # A SubprocVecEnv's copies live in other processes: no episode to replay (a resume restarts them).
    envs = [_replayable(env) for env in getattr(model.env.unwrapped, "envs", ())]
    data["envs"] = [env.recipe for env in envs]
    for i, env in enumerate(envs):
        if env.actions:
            tensors[f"env.{i}.actions"] = torch.from_numpy(np.stack(env.actions))
    return tensors, data


def load_training_state(model: Any, tensors: dict[str, Any], data: dict[str, Any], *,
                        envs: str = "replay") -> None:
    """Restore what :func:`training_state` returned into a freshly built ``model`` whose
    policy weights are already loaded. Raises ``KeyError``/``ValueError`` if it does not fit:
    everything is checked (:func:`check_training_state`) before anything is restored."""
    import torch

    check_training_state(model, tensors, data)
    for name, optimizer in optimizers(model).items():
        zoo.load_optimizer_state(optimizer, tensors, data[name], name)
    if getattr(model, "log_ent_coef", None) is not None:
        with torch.no_grad():
            model.log_ent_coef.copy_(tensors["log_ent_coef"])
    for name in _COUNTERS:
        if hasattr(model, name):
            setattr(model, name, data["counters"][name])
    if hasattr(model, "exploration_rate"):
        model.exploration_rate = float(data["exploration_rate"])
    buffer = getattr(model, "replay_buffer", None)
    if buffer is not None:
        buffer.pos, buffer.full = data["buffer"]["pos"], data["buffer"]["full"]
        for name, array in _buffer_arrays(buffer).items():
            array[:len(tensors[f"buffer.{name}"])] = tensors[f"buffer.{name}"].numpy()
        if hasattr(buffer, "_current_ep_start"):
            buffer._current_ep_start[:] = tensors["buffer._current_ep_start"].numpy()
    lstm = getattr(model, "_last_lstm_states", None)
    if lstm is not None:
        with torch.no_grad():
            for part in ("pi", "vf"):
                for i, tensor in enumerate(getattr(lstm, part)):
                    tensor.copy_(tensors[f"lstm.{part}.{i}"])
    for name in _LAST:
        if f"last.{name}" in tensors:
            setattr(model, name, tensors[f"last.{name}"].numpy().copy())
        elif any(key.startswith(f"last.{name}.") for key in tensors):  # a Dict env's, key by key
            setattr(model, name, {key: tensors[f"last.{name}.{key}"].numpy().copy()
                                  for key in model.observation_space.spaces})
    if envs == "restart":
        # Behind env wrappers and a frame stack, whose own state (lives left, skipped frames, the
        # stack) is not saved, an episode cannot be replayed: every env copy starts a new one.
        warnings.warn("the envs run behind env_wrapper/frame_stack or in subprocesses (vec_env subproc), whose state "
                      "is not saved: every env copy starts a new episode, so the resumed run is not exact",
                      ApproximateResumeWarning, stacklevel=3)
        model._last_obs = model.env.reset()
        model._last_episode_starts = np.ones((model.env.num_envs,), dtype=bool)
    else:
        _replay_envs(model, tensors, data["envs"], check=envs == "replay")
    model.action_space._np_random = zoo.numpy_rng(data["action_space"])  # (gymnasium gives it no setter)
    _set_global_streams(tensors, data["rng"])  # last: nothing above may draw from them


# -- what SB3 can have saved: one rule per kind of field ----------------------------------------------
#: ``zoo.limits.MAX_COUNT``: a plugin sees only the zoo's public API (a test keeps the two equal).
MAX_COUNT = 10**12
#: The largest seed SB3 gives an env copy (the run's seed plus the copy's index), within what
#: numpy's seeding takes everywhere.
MAX_ENV_SEED = 2**32 - 1
_COUNTERS = ("num_timesteps", "_n_updates", "_episode_num", "_n_calls")
_LAST = ("_last_obs", "_last_episode_starts", "_last_original_obs")


def check_training_state(model: Any, tensors: dict[str, Any], data: dict[str, Any]) -> None:
    """Raise ``ValueError`` (or ``KeyError`` for a missing field) unless ``(tensors, data)`` is
    what :func:`training_state` can have saved from a model built like ``model``:

    * counters: whole numbers from 0 to ``MAX_COUNT``; rates (DQN's exploration rate): finite,
      from 0 to 1;
    * observations (the last ones, the replay buffer's): of the envs' shape, inside their
      observation space (normalised ones inside VecNormalize's clip range), finite;
    * actions: inside the action space (the replay buffer holds SB3's actions scaled to
      [-1, 1] for a Box), rewards finite, episode-end flags 0 or 1;
    * the replay buffer's position inside it, each array of the buffer's shape and dtype;
    * each env's episode start: a seed SB3 gives or a random state, nothing else.

    Optimiser state and random streams are checked as they are restored
    (``zoo.load_optimizer_state``, ``zoo.numpy_rng``, :func:`_set_global_streams`)."""
    import torch

    for name in _COUNTERS:
        if hasattr(model, name):
            _count(data["counters"][name], f"counter {name}")
    if hasattr(model, "exploration_rate"):
        _rate(data["exploration_rate"], "exploration_rate")
    if getattr(model, "log_ent_coef", None) is not None:
        saved = tensors["log_ent_coef"]
        if saved.shape != model.log_ent_coef.shape or saved.dtype != model.log_ent_coef.dtype or \
                not bool(torch.isfinite(saved).all()):
            raise ValueError("log_ent_coef is not a finite tensor of the model's shape")
    n_envs, normalizer = model.env.num_envs, model.get_vec_normalize_env()
    for name, space in _space_parts("last._last_obs", model.observation_space).items():
        observed = gymnasium.spaces.Box(-normalizer.clip_obs, normalizer.clip_obs, space.shape) \
            if normalizer is not None and normalizer.norm_obs else space  # VecNormalize's clip
        _within(tensors[name], (n_envs, *space.shape), observed, name)
    if any(name.startswith("last._last_original_obs") for name in tensors):
        for name, space in _space_parts("last._last_original_obs", model.observation_space).items():
            _within(tensors[name], (n_envs, *space.shape), space, name)
    if "last._last_episode_starts" in tensors:
        _within(tensors["last._last_episode_starts"], (n_envs,), _FLAGS, "last._last_episode_starts")
    _check_buffer(model, tensors, data)
    lstm = getattr(model, "_last_lstm_states", None)
    if lstm is not None:
        for part in ("pi", "vf"):
            for i, tensor in enumerate(getattr(lstm, part)):
                saved = tensors[f"lstm.{part}.{i}"]
                if saved.shape != tensor.shape or saved.dtype != tensor.dtype or not bool(torch.isfinite(saved).all()):
                    raise ValueError(f"the saved LSTM state {part}.{i} is not a finite tensor of shape "
                                     f"{tuple(tensor.shape)}")
    recipes = data["envs"]
    local = getattr(model.env.unwrapped, "envs", None)  # None: a SubprocVecEnv's, which saves no episodes
    if not isinstance(recipes, list) or len(recipes) != (n_envs if local is not None else 0):
        raise ValueError(f"{len(recipes) if isinstance(recipes, list) else 'no'} env states saved, the model has "
                         f"{n_envs} envs{'' if local is not None else ' in subprocesses (none saved)'}")
    for i, (monitored, recipe) in enumerate(zip(local or (), recipes)):
        if not isinstance(recipe, dict) or set(recipe) not in ({"seed"}, {"streams"}):
            raise ValueError(f"env {i}: the saved episode start is not one the zoo wrote (a seed or a random state)")
        if "seed" in recipe:
            _count(recipe["seed"], f"env {i}'s reset seed", MAX_ENV_SEED)
        if f"env.{i}.actions" in tensors:
            actions = tensors[f"env.{i}.actions"]
            _within(actions, (len(actions), *monitored.action_space.shape), monitored.action_space,
                    f"env.{i}.actions")


def _check_buffer(model: Any, tensors: dict[str, Any], data: dict[str, Any]) -> None:
    buffer = getattr(model, "replay_buffer", None)
    if buffer is None:
        return
    pos, full = data["buffer"]["pos"], data["buffer"]["full"]
    if not isinstance(full, bool):
        raise ValueError(f"the saved replay buffer's full flag {full!r} is not true or false")
    _count(pos, "the replay buffer position", buffer.buffer_size - 1)
    filled = buffer.buffer_size if full else pos
    actions = gymnasium.spaces.Box(-1.0, 1.0, model.action_space.shape) \
        if isinstance(model.action_space, gymnasium.spaces.Box) else model.action_space  # SB3 stores them scaled
    # HER's episode starts are positions in the buffer, its lengths at most the buffer's size.
    positions = gymnasium.spaces.Box(0, buffer.buffer_size - 1, (), np.int64)
    kinds = {**_space_parts("observations", model.observation_space),
             **_space_parts("next_observations", model.observation_space),
             "actions": actions, "rewards": None, "dones": _FLAGS, "timeouts": _FLAGS, "ep_start": positions,
             "ep_length": gymnasium.spaces.Box(0, buffer.buffer_size, (), np.int64)}
    for name, array in _buffer_arrays(buffer).items():
        saved = tensors[f"buffer.{name}"].numpy()
        if saved.shape != (filled, *array.shape[1:]) or saved.dtype != array.dtype:
            raise ValueError(f"replay buffer {name} is {saved.dtype} {saved.shape}, expected {array.dtype} "
                             f"{(filled, *array.shape[1:])}")
        _within(saved, saved.shape, kinds[name], f"replay buffer {name}")
    if hasattr(buffer, "_current_ep_start"):
        _within(tensors["buffer._current_ep_start"], buffer._current_ep_start.shape, positions,
                "replay buffer _current_ep_start")


def _buffer_arrays(buffer: Any) -> dict[str, np.ndarray]:
    """The buffer's arrays by name (a Dict env's observations key by key: ``observations.KEY``)."""
    found: dict[str, np.ndarray] = {}
    for name in (*_BUFFER_ARRAYS, *_HER_ARRAYS):
        value = getattr(buffer, name, None)
        if value is not None:
            found.update(_parts(name, value))
    return found


def _count(value: Any, what: str, maximum: int = MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ValueError(f"{what} {_shown(value)} is not a whole number from 0 to {maximum:,}")
    return value


def _rate(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{what} {_shown(value)} is not a rate from 0 to 1")
    return float(value)


#: Flags (episode starts and ends; SB3 keeps the ends as float32 0.0 and 1.0), any number of them.
_FLAGS = gymnasium.spaces.MultiBinary(1)


def _within(values: Any, shape: tuple[int, ...], space: Any, what: str) -> None:
    """Refuse ``values`` unless they have ``shape`` and each is finite and lies in ``space``
    (a gymnasium space, whose shape ends ``shape``; ``_FLAGS``: each 0 or 1; or None: any
    finite number). Discrete spaces take whole numbers in their range, a Box its bounds."""
    values = np.asarray(values.numpy() if hasattr(values, "numpy") else values)
    if values.shape != tuple(shape):
        raise ValueError(f"{what} has shape {values.shape}, expected {tuple(shape)}")
    numbers = values.astype(np.float64)
    if not np.isfinite(numbers).all():
        raise ValueError(f"{what} holds NaN or infinite values")
    if space is None:
        return
    if isinstance(space, gymnasium.spaces.Box):
        low, high = space.low.astype(np.float64), space.high.astype(np.float64)
        numbers = numbers.reshape(-1, *space.shape)
    else:
        if space is not _FLAGS and values.dtype.kind not in "iub":
            raise ValueError(f"{what} holds {values.dtype} values, where {space} takes whole numbers")
        if isinstance(space, gymnasium.spaces.Discrete):
            low, high = int(space.start), int(space.start + space.n - 1)
        elif isinstance(space, gymnasium.spaces.MultiDiscrete):
            low, high = space.start.astype(np.float64), (space.start + space.nvec - 1).astype(np.float64)
            numbers = numbers.reshape(-1, *space.shape)
        elif isinstance(space, gymnasium.spaces.MultiBinary):
            low, high = 0, 1
        else:
            raise ValueError(f"{what}: the zoo cannot check values of a {type(space).__name__} space")
        if not (numbers == np.round(numbers)).all():
            raise ValueError(f"{what} holds values that are not whole numbers, outside {space}")
    if not ((numbers >= low) & (numbers <= high)).all():
        raise ValueError(f"{what} holds values outside {_shown(space)}")


def _shown(value: Any) -> str:
    """``repr(value)``, cut short for a one-line error."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _same_observation(obs: Any, last: Any, i: int) -> bool:
    """Whether env copy ``i``'s observation ``obs`` is the ``i``-th of the saved batch ``last``."""
    if isinstance(last, dict):
        return isinstance(obs, dict) and set(obs) == set(last) and all(
            np.array_equal(np.asarray(obs[key], dtype=last[key].dtype), last[key][i]) for key in last)
    return np.array_equal(np.asarray(obs, dtype=last.dtype), last[i])


def _set_row(batch: Any, i: int, obs: Any) -> None:
    """Put ``obs`` in row ``i`` of ``batch`` (a Dict env's: key by key)."""
    if isinstance(batch, dict):
        for key in batch:
            batch[key][i] = obs[key]
    else:
        batch[i] = obs


def _replay_envs(model: Any, tensors: dict[str, Any], recipes: list[Any], check: bool = True) -> None:
    """Bring each fresh env copy to where the saved one was, by redoing its episode so far.
    ``check=False``: for an algorithm that starts every episode with a reset (ARS), whose last
    observation is not the envs': the replay restores their random streams and Monitors."""
    vec_env = model.env
    vec_env._reset_seeds()  # the seeds were used by the first reset, long ago
    for i, (monitored, recipe) in enumerate(zip(vec_env.envs, recipes)):
        env = _replayable(monitored)
        seed = recipe.get("seed")
        if "seed" not in recipe:
            env.unwrapped.np_random = zoo.numpy_rng(recipe["streams"])
        actions = tensors.get(f"env.{i}.actions")
        actions = [] if actions is None else actions.numpy()
        try:
            obs, _ = monitored.reset(seed=seed)
            for action in actions:
                obs, _, terminated, truncated, _ = monitored.step(action)
                if terminated or truncated:
                    break
        except Exception as exc:  # the env's own checks refused what was saved
            raise ValueError(f"env {i}: replaying its episode failed ({type(exc).__name__}: {exc})") from None
        # Behind VecNormalize, the model keeps the env's own last observations apart (without
        # one, SB3's _last_original_obs is the step before's).
        last = model._last_obs if model.get_vec_normalize_env() is None else model._last_original_obs
        if check and not _same_observation(obs, last, i):
            spec = monitored.unwrapped.spec
            warnings.warn(f"env copy {i} of {spec.id if spec else '?'} could not be brought back to where it was "
                          "(its state is not only its random stream and the actions): it starts a new episode, "
                          "so the resumed run is not exact",
                          ApproximateResumeWarning, stacklevel=3)
            obs, _ = monitored.reset()
            _set_row(model._last_obs, i, obs)
            if model._last_episode_starts is not None:
                model._last_episode_starts[i] = True
