"""rl-baselines3-zoo's ``env_wrapper``: gymnasium, stable-baselines3 and rl_zoo3 wrappers named
in a config file, applied from a fixed table.

A config file is data. rl_zoo3 imports whatever dotted path an ``env_wrapper`` names; the zoo
looks the path up in :data:`KNOWN_WRAPPERS` instead and refuses, in one line, any path that is
not there: nothing a file names is ever imported. The table says which module the zoo imports
for each wrapper (rl_zoo3's wrappers need rl_zoo3 installed).

In a config, each wrapper is one string: its path as the file wrote it, and its keyword
arguments as a JSON object after a space, ``stable_baselines3.common.atari_wrappers.AtariWrapper
{"terminal_on_life_loss": false}``; arguments are JSON values, never code.
"""

from __future__ import annotations

import json
import reprlib
from collections.abc import Mapping, Sequence
from typing import Any

from zoo import ZooError

_GYM_OBS = "gymnasium.wrappers"
#: The path a file may name -> (the module the zoo imports, the class in it).
KNOWN_WRAPPERS: dict[str, tuple[str, str]] = {
    "stable_baselines3.common.atari_wrappers.AtariWrapper": ("stable_baselines3.common.atari_wrappers",
                                                             "AtariWrapper"),
    "stable_baselines3.common.monitor.Monitor": ("stable_baselines3.common.monitor", "Monitor"),
    "sb3_contrib.common.wrappers.TimeFeatureWrapper": ("sb3_contrib.common.wrappers", "TimeFeatureWrapper"),
    **{f"rl_zoo3.wrappers.{name}": ("rl_zoo3.wrappers", name) for name in (
        "FrameSkip", "YAMLCompatResizeObservation", "HistoryWrapper", "HistoryWrapperObsDict", "TimeFeatureWrapper",
        "MaskVelocityWrapper", "ActionNoiseWrapper", "ActionSmoothingWrapper", "DelayedRewardWrapper",
        "TruncatedOnSuccessWrapper")},
    **{f"{prefix}.{name}": (_GYM_OBS, name) for name in (
        "GrayscaleObservation", "ResizeObservation", "FlattenObservation", "ReshapeObservation", "RescaleObservation",
        "DtypeObservation", "TimeAwareObservation", "MaxAndSkipObservation", "FrameStackObservation",
        "FilterObservation", "ClipAction", "RescaleAction", "ClipReward", "TimeLimit")
       for prefix in (_GYM_OBS, f"{_GYM_OBS}.transform_observation", f"{_GYM_OBS}.stateful_observation",
                      f"{_GYM_OBS}.transform_action", f"{_GYM_OBS}.transform_reward", f"{_GYM_OBS}.common")},
}
#: Wrappers in a config at most (a file may hold anything).
MAX_WRAPPERS = 16
_MAX_SPEC = 2000


def _shown(value: Any) -> str:
    text = repr(value[:100]) if isinstance(value, str) else reprlib.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _known(path: Any) -> str:
    if not isinstance(path, str) or path not in KNOWN_WRAPPERS:
        families = "gymnasium.wrappers.*, stable_baselines3.common.atari_wrappers.AtariWrapper, rl_zoo3.wrappers.*"
        raise ZooError(f"env_wrapper {_shown(path)} is not one the zoo knows ({families}); a config file names "
                       "wrappers, it never makes the zoo import a module")
    return path


def _json_value(value: Any, path: str) -> Any:
    """A keyword argument's value: JSON data (numbers, strings, booleans, lists, null), nothing else."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(v, path) for v in value]
    raise ZooError(f"env_wrapper {path}: argument value {_shown(value)} is not plain data")


def specs_from_file(value: Any) -> tuple[str, ...]:
    """rl-zoo's ``env_wrapper`` (a path, or a list of paths and ``{path: {kwargs}}`` tables) as the
    config's strings; unknown paths refused."""
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_WRAPPERS:
        raise ZooError(f"env_wrapper lists {len(items):,} wrappers; at most {MAX_WRAPPERS}")
    specs = []
    for item in items:
        if isinstance(item, Mapping):
            if len(item) != 1:
                raise ZooError(f"env_wrapper entry {_shown(item)} must name one wrapper (a table of one key)")
            (path, kwargs), = item.items()
            kwargs = {} if kwargs is None else kwargs
            if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
                raise ZooError(f"env_wrapper {_shown(path)}: its arguments must be a table, got {_shown(kwargs)}")
        else:
            path, kwargs = item, {}
        path = _known(path)
        arguments = {k: _json_value(v, path) for k, v in kwargs.items()}
        specs.append(f"{path} {json.dumps(arguments)}" if arguments else path)
    return tuple(specs)


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """A config's wrapper string as (known path, keyword arguments)."""
    if not isinstance(spec, str) or len(spec) > _MAX_SPEC:
        raise ZooError(f"env_wrapper {_shown(spec)} is not a wrapper: PATH or PATH {{json arguments}}")
    path, _, arguments = spec.strip().partition(" ")
    _known(path)
    try:
        kwargs = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        kwargs = None
    if not isinstance(kwargs, dict):
        raise ZooError(f"env_wrapper {path}: arguments {_shown(arguments)} are not a JSON object")
    return path, {k: _json_value(v, path) for k, v in kwargs.items()}


def check_specs(specs: Sequence[str]) -> None:
    if len(specs) > MAX_WRAPPERS:
        raise ZooError(f"env_wrapper lists {len(specs):,} wrappers; at most {MAX_WRAPPERS}")
    for spec in specs:
        parse_spec(spec)


def wrap(env: Any, specs: Sequence[str]) -> Any:
    """``env`` inside the wrappers ``specs`` names, the first innermost (as rl_zoo3 applies them)."""
    import importlib

    for spec in specs:
        path, kwargs = parse_spec(spec)
        module, name = KNOWN_WRAPPERS[path]
        try:
            wrapper = getattr(importlib.import_module(module), name)
        except ImportError as exc:
            raise ZooError(f"env_wrapper {path} needs {module.split('.')[0]} installed ({exc.msg})") from None
        try:
            env = wrapper(env, **kwargs)
        except (TypeError, ValueError, AssertionError) as exc:
            raise ZooError(f"env_wrapper {path} refuses its arguments {_shown(kwargs)}: "
                           f"{str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}") from None
    return env
