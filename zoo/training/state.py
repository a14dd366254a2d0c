"""Training state as named tensors plus JSON, so a run can stop and continue exactly.

A resumed run must end with the same weights as one that never stopped. Beyond the weights
that takes the optimisers' state, every random stream (torch generators, numpy generators,
the envs' own ``np_random``) and the envs' positions. Everything here turns those into
``(tensors, data)`` pairs, saved as safetensors and JSON: never pickles, so a checkpoint
cannot run code when it is loaded.

Envs are not serialised. They are re-created and their random streams restored, which is
exact when the env's state after a ``reset()`` is a function of its ``np_random`` (true of
gymnasium's own envs); episodes under way at a checkpoint are put back from their arrays or
replayed (:mod:`zoo.vector.positions`, see :class:`ResumableVectorEnv`).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import gymnasium

from zoo.exceptions import ZooError
from zoo.limits import MAX_COUNT, shown
from zoo.streams import numpy_rng, numpy_rng_state
from zoo.vector import positions

__all__ = ["ResumableVectorEnv", "load_optimizer_state", "numpy_rng", "numpy_rng_state", "optimizer_state",
           "seeded_envs"]


# -- optimisers ----------------------------------------------------------------------------------
def optimizer_state(optimizer: Any, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A torch optimiser's ``state_dict`` split into tensors (``PREFIX.state.I.KEY``) and JSON
    (hyperparameters and any non-tensor per-parameter values)."""
    import torch

    state_dict = optimizer.state_dict()
    tensors: dict[str, Any] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state_dict["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.state.{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def load_optimizer_state(optimizer: Any, tensors: dict[str, Any], data: dict[str, Any], prefix: str) -> None:
    """Restore what :func:`optimizer_state` returned into ``optimizer``."""
    state: dict[int, dict[str, Any]] = {}
    start = f"{prefix}.state."
    for name, tensor in tensors.items():
        if name.startswith(start):
            index, _, key = name[len(start):].partition(".")
            state.setdefault(int(index), {})[key] = tensor
    for index, values in data.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    current = optimizer.state_dict()["param_groups"]
    saved = data["param_groups"]
    if not isinstance(saved, list) or len(saved) != len(current) or not all(isinstance(g, dict) for g in saved):
        raise ValueError(f"{prefix}: the saved parameter groups do not match the optimiser's {len(current)}")
    # JSON turned tuples (Adam's betas) into lists: give them back their type.
    groups = [{k: tuple(v) if isinstance(now.get(k), tuple) else v for k, v in group.items()}
              for group, now in zip(saved, current)]
    _check_optimizer_state(optimizer, state, groups, prefix)
    optimizer.load_state_dict({"state": state, "param_groups": groups})


#: Per-parameter optimiser state that accumulates squares or magnitudes of gradients (Adam's
#: ``exp_avg_sq``, RMSprop's ``square_avg``, Adagrad's ``sum``, ...): never negative.
_NEVER_NEGATIVE = frozenset({"exp_avg_sq", "max_exp_avg_sq", "square_avg", "sum", "acc_delta", "exp_inf"})


def _check_optimizer_state(optimizer: Any, state: dict[int, dict[str, Any]], groups: list[dict[str, Any]],
                           prefix: str) -> None:
    """Refuse optimiser state this optimiser could not have saved. Settings: each what the
    optimiser was built with (the agent's config builds it), but the learning rate, which a
    schedule lowers: from 0 to the built one. Per parameter: the keys a step of it leaves,
    tensors of the parameter's shape, every value finite, step counts whole numbers from 0 to
    ``MAX_COUNT``, accumulated squares never negative. (Torch loads nearly anything, and what it
    cannot step with fails only in the next ``step()``, after the run was rewritten.)"""
    import torch

    params = [p for group in optimizer.param_groups for p in group["params"]]
    if state:
        expected = _state_keys(optimizer)
        # Parameters never stepped have no state (TRPO steps only its value function with it).
        if not set(state) <= set(range(len(params))):
            raise ValueError(f"{prefix}: state saved for parameters {sorted(state)}, the optimiser has {len(params)}")
        for index, values in state.items():
            if set(values) != expected:
                raise ValueError(f"{prefix}: parameter {index} has state {sorted(values)}, expected {sorted(expected)}")
            for key, value in values.items():
                name = f"{prefix}.state.{index}.{key}"
                if isinstance(value, torch.Tensor):
                    if value.dim() and value.shape != params[index].shape:
                        raise ValueError(f"{name} has shape {tuple(value.shape)}, the parameter "
                                         f"{tuple(params[index].shape)}")
                    value = value.double() if value.dtype != torch.bool else value
                elif isinstance(value, bool) or not isinstance(value, numbers.Real):
                    raise ValueError(f"{name} is {shown(value)}, not a number")
                else:
                    value = torch.tensor(float(value), dtype=torch.float64)
                if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                    raise ValueError(f"{name} holds NaN or infinite values")
                if key == "step" and not bool(((value == value.round()) & (value >= 0) & (value <= MAX_COUNT)).all()):
                    raise ValueError(f"{name} is not a step count from 0 to {MAX_COUNT:,}")
                if key in _NEVER_NEGATIVE and bool((value < 0).any()):
                    raise ValueError(f"{name} holds negative values, which accumulated squares never are")
    for group, now in zip(groups, optimizer.state_dict()["param_groups"]):
        if set(group) != set(now) or group["params"] != now["params"]:
            raise ValueError(f"{prefix}: a saved parameter group has keys {sorted(group)}, expected {sorted(now)}")
        for key, value in group.items():
            if key != "params" and not _could_be(key, value, now[key]):
                wanted = f"from 0 to {now[key]!r}" if key == "lr" else repr(now[key])
                raise ValueError(f"{prefix}: saved {key} {shown(value)}, where the agent's config builds {wanted}")


def _could_be(key: str, saved: Any, built: Any) -> bool:
    """Whether the saved setting ``key`` could be that of an optimiser built with ``built``."""
    if key == "lr":
        return isinstance(saved, numbers.Real) and not isinstance(saved, bool) and math.isfinite(saved) and \
            0 <= saved <= built
    return type(saved) is type(built) and saved == built


def _state_keys(optimizer: Any) -> set[str]:
    """The per-parameter state keys ``optimizer`` keeps after a step, found by stepping a copy
    of it on scratch parameters (any torch optimiser, whatever its options)."""
    import torch

    scratch = []
    for group in optimizer.param_groups:
        params = [torch.zeros_like(p, requires_grad=True) for p in group["params"]]
        scratch.append({**{k: v for k, v in group.items() if k != "params"}, "params": params})
    copy = type(optimizer)(scratch)
    for group in copy.param_groups:
        for p in group["params"]:
            p.grad = torch.zeros_like(p)
    copy.step()
    return set(next(iter(copy.state.values()), {}))


# -- envs ----------------------------------------------------------------------------------------
#: The largest seed an env copy gets: the run's seed (at most ``MAX_SEED``) plus the copy's
#: index, within what numpy's legacy ``RandomState``, the strictest consumer, takes.
MAX_ENV_SEED = 2**32 - 1


def _is_env_seed(seed: Any) -> bool:
    return isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_ENV_SEED


def _rng_owners(envs: gymnasium.vector.VectorEnv) -> list[Any]:
    """What holds the env's randomness: each sub-env of a Sync vector env, each copy's stream of
    a batched env that seeds its copies one by one (``copy_streams``, objects with ``np_random``),
    or a natively batched vector env itself."""
    base = envs.unwrapped
    return list(getattr(base, "envs", None) or getattr(base, "copy_streams", None) or [base])


class ResumableVectorEnv(gymnasium.vector.VectorWrapper):
    """A vector env whose position and random streams can be saved between iterations.

    The training loop seeds it, once (:meth:`start`, or :meth:`restore` on resume); an agent
    just calls ``reset()`` for its first observations. It remembers how to redo its last full
    ``reset()``: the seed it was given, or else the random streams as they were just before it.
    Saved with no step since that reset, the state is that recipe; restored, the reset is
    redone (same observations, same streams) and handed to the agent's next ``reset`` call,
    whatever seed that passes, so an agent that resets in ``start_training`` picks up exactly
    where the saved run was. Saved after steps, the state is the current streams and, where
    the env allows, where each copy is in its episode (:mod:`zoo.training.positions`): an agent
    that steps on without a reset continues those episodes exactly (REINFORCE carries episodes
    across iterations; it keeps its own copy of the observations it would step from). After
    restoring, the next ``reset`` ignores its seed, so an agent that resets before stepping
    again continues the saved streams.
    """

    def __init__(self, env: gymnasium.vector.VectorEnv) -> None:
        super().__init__(env)
        self._recorder = positions.recorder_for(env)  # for envs of single envs: what a replay needs
        self._last_reset: dict[str, Any] | None = None
        self._steps_since_reset = 0
        self._replayed: tuple[Any, dict[str, Any]] | None = None
        self._continue_streams = False

    def __getattr__(self, name: str) -> Any:
        # Agents may use the wrapped env's own API (``envs``, ``call``, ``get_attr``).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.env, name)

    def _streams(self) -> list[dict[str, Any]]:
        return [numpy_rng_state(owner.np_random) for owner in _rng_owners(self.env)]

    def _set_streams(self, streams: list[dict[str, Any]]) -> None:
        owners = _rng_owners(self.env)
        if not isinstance(streams, list) or len(streams) != len(owners):
            raise ZooError(f"the saved env state does not fit: {len(owners)} random streams expected")
        for owner, stream in zip(owners, streams):
            owner.np_random = numpy_rng(stream)

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None):
        if self._replayed is not None and options is None:
            result, self._replayed = self._replayed, None
            return result
        self._replayed = None
        if options is not None and "reset_mask" in options:  # a partial reset is a step of sorts
            self._steps_since_reset += 1
            if self._recorder is not None:
                self._recorder.before_reset(seed, options)
            return self.env.reset(seed=seed, options=options)
        if self._continue_streams:
            seed, self._continue_streams = None, False
        recipe = {"seed": seed} if seed is not None else {"streams": self._streams()}
        if self._recorder is not None:
            self._recorder.before_reset(seed, options)
        result = self.env.reset(seed=seed, options=options)
        self._last_reset, self._steps_since_reset = recipe, 0
        return result

    def start(self, seed: int) -> None:
        """Seed fresh envs: their one seeded reset (copy ``i`` with ``seed + i``), whose result
        the agent's first ``reset`` receives, whatever seed it passes (as for restored envs)."""
        self._replayed = self.reset(seed=seed)

    def step(self, actions):
        self._replayed, self._continue_streams = None, False
        self._steps_since_reset += 1
        if self._recorder is None:
            return self.env.step(actions)
        self._recorder.before_step()
        result = self.env.step(actions)
        self._recorder.after_step(actions, result[2], result[3])
        return result

    def state(self) -> dict[str, Any]:
        """Where the env is, as JSON-ready data: how to redo its last reset, or its streams and,
        where the env allows, its copies' places in their episodes (:mod:`zoo.training.positions`)."""
        if self._steps_since_reset == 0 and self._last_reset is not None:
            return {"redo_reset": self._last_reset}
        state: dict[str, Any] = {"streams": self._streams()}
        where = positions.position(self.env, self._recorder)
        if where is not None:
            state["position"] = where
        return state

    @staticmethod
    def check_state(state: Any) -> None:
        """Raise :class:`ZooError` unless ``state`` is one :meth:`state` could have returned."""
        redo = state.get("redo_reset") if isinstance(state, dict) else None
        if isinstance(redo, dict) and "seed" in redo:
            seed = redo["seed"]
            if not all(_is_env_seed(s) for s in (seed if isinstance(seed, list) else [seed])):
                raise ZooError(f"the saved env state has a malformed seed {shown(seed)}: expected a whole number "
                               f"(or a list of them) from 0 to {MAX_ENV_SEED}")
            return
        streams = redo.get("streams") if isinstance(redo, dict) else (
            state.get("streams") if isinstance(state, dict) else None)
        if not isinstance(streams, list):
            raise ZooError("the saved env state is not one the zoo wrote")
        for stream in streams:
            numpy_rng(stream)

    def restore(self, state: dict[str, Any]) -> None:
        """Put a freshly made env where :meth:`state` was taken."""
        redo = state.get("redo_reset") if isinstance(state, dict) else None
        if isinstance(redo, dict) and "seed" in redo:
            try:
                self._replayed = self.reset(seed=redo["seed"])
            except (AssertionError, TypeError, ValueError) as exc:  # seeds for another number of copies
                raise ZooError(f"the saved env state does not fit the envs ({type(exc).__name__}: "
                               f"{shown(str(exc))})") from None
        elif isinstance(redo, dict):
            self._set_streams(redo.get("streams"))
            self._replayed = self.reset()
        elif isinstance(state, dict) and "streams" in state:
            if "position" in state:  # episodes under way: an agent that steps on continues them
                positions.restore(self.env, self._recorder, state["position"])
            self._set_streams(state["streams"])
            self._continue_streams = True
        else:
            raise ZooError("the saved env state is not one the zoo wrote")


def seeded_envs(envs: gymnasium.vector.VectorEnv, seed: int) -> ResumableVectorEnv:
    """``envs`` as an agent receives them to train on: seeded and reset once with ``seed`` (copy
    ``i`` with ``seed + i``), that reset's observations handed to the agent's first ``reset()``.
    What the training loop gives ``Agent.start_training``; for driving an agent by hand too."""
    started = ResumableVectorEnv(envs)
    started.start(seed)
    return started
