"""Typed agent hyperparameters: a dataclass per agent, per-env defaults as data, CLI overrides."""

from __future__ import annotations

import ast
import dataclasses
import difflib
import tomllib
import typing
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from zoo.deprecations import forward
from zoo.exceptions import ZooError
from zoo.limits import shown

__getattr__ = forward(__name__)  # hyperparameter, which moved to zoo.hyperparameter

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def field_types(config_class: type) -> dict[str, Any]:
    hints = typing.get_type_hints(config_class)
    return {f.name: hints[f.name] for f in dataclasses.fields(config_class)}


def field_help(config_class: type) -> dict[str, str]:
    """Each field's documentation, from ``field(metadata={"help": ...})``."""
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(config_class)}


def convert(value: Any, annotation: Any, key: str) -> Any:
    """Coerce ``value`` (a CLI string or a TOML/JSON value) to the field's type, or say why not."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        if value not in args:
            raise ZooError(f"{key}={shown(value)} is not valid; choose one of: {', '.join(map(str, args))}")
        return value
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        # The first type that takes the value wins (``float | str``: 0.001 is a float, "lin_0.001" a str).
        for candidate in inner[:-1]:
            try:
                return convert(value, candidate, key)
            except ZooError:
                pass
        return convert(value, inner[-1], key)
    if origin in (tuple, list):
        if not isinstance(value, (str, list, tuple)):
            raise ZooError(f"{key}={shown(value)} is not valid; give a comma-separated list, e.g. {key}=64,64")
        if isinstance(value, str):
            text = value.strip()
            # One tuple is written 64,64 or [64,64], on the command line as in a sweep's grid.
            if text.startswith("[") and text.endswith("]"):
                text = text[1:-1]
            items = text.split(",")
        else:
            items = list(value)
        item_type = args[0] if args else str
        return tuple(convert(v.strip() if isinstance(v, str) else v, item_type, key) for v in items if v != "")
    try:
        if annotation is bool:
            if isinstance(value, bool):
                return value
            text = str(value).lower()
            if text in _TRUE | _FALSE:
                return text in _TRUE
            raise ValueError
        if annotation is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if annotation is float:
            if isinstance(value, bool):
                raise ValueError
            result = float(value)
            if result != result or result in (float("inf"), float("-inf")):
                raise ValueError
            return result
        if annotation is str:
            return str(value)
    except (TypeError, ValueError, OverflowError):
        name = getattr(annotation, "__name__", str(annotation))
        raise ZooError(f"{key}={shown(value)} is not a valid {name}") from None
    return value


def parse_overrides(pairs: Iterable[str], option: str = "--set") -> dict[str, str]:
    """``["learning_rate=0.01", "net_arch=64,64"]`` -> ``{"learning_rate": "0.01", "net_arch": "64,64"}``."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ZooError(f"{option} expects KEY=VALUE, got {shown(pair)}")
        result[key.strip()] = value.strip()
    return result


def parse_literal_pairs(pairs: Iterable[str], option: str) -> dict[str, Any]:
    """``["gravity=-5.0", "continuous=True"]`` -> ``{"gravity": -5.0, "continuous": True}``: each
    value a Python literal (numbers, strings in quotes, True/False/None, lists, tuples, dicts),
    read by :func:`ast.literal_eval`, never evaluated; each key an identifier. rl_zoo3's
    ``KEY:VALUE`` is taken too."""
    result: dict[str, Any] = {}
    for pair in pairs:
        text = pair if "=" in pair or ":" not in pair else pair.replace(":", "=", 1)
        for key, value in parse_overrides([text], option).items():
            if not key.isidentifier():
                raise ZooError(f"{option}: {shown(key)} is not a keyword argument name (letters, digits, _)")
            try:
                result[key] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                raise ZooError(f"{option} {key}={shown(value)} is not a Python literal (a number, True/False/None, "
                               f"a quoted string such as {key}='text', a list, tuple or dict of those)") from None
    return result


def is_tuple_field(annotation: Any) -> bool:
    """Whether a field holds a tuple of values (``net_arch``), so that ``64,64`` is one value."""
    return typing.get_origin(annotation) in (tuple, list)


def unknown_key_message(key: str, valid: Iterable[str], renamed: Mapping[str, str] | None = None) -> str:
    """Why ``key`` is no hyperparameter: an old name says its new one, a typo the closest names."""
    renamed = renamed or {}
    if not isinstance(key, str):
        return f"unknown hyperparameter {shown(key)}: hyperparameters are named; valid: {', '.join(sorted(valid))}"
    if key in renamed:
        return f"hyperparameter {key!r} is now called {renamed[key]!r}: did you mean {renamed[key]!r}?"
    valid = sorted(valid)
    if not valid:
        return f"unknown hyperparameter {shown(key)}; valid: none (this agent has no hyperparameters)"
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
    return f"unknown hyperparameter {shown(key)}; {hint}valid: {', '.join(valid)}"


def _convert_one(value: Any, annotation: Any, key: str) -> Any:
    """:func:`convert`, saying so when a string holds several values for a one-value field."""
    try:
        return convert(value, annotation, key)
    except ZooError:
        if isinstance(value, str) and "," in value and not is_tuple_field(annotation):
            grid = value if len(value) <= 60 else "A,B,..."
            raise ZooError(f"{key}={shown(value)} holds several values, and a run takes one; to try each, "
                           f"sweep them: zoo sweep --set {key}={grid}") from None
        raise


#: Where a resolved hyperparameter came from, lowest precedence first (``build_config_layers``).
AGENT_DEFAULT = "agent default"


def build_config_layers(config_class: type, layers: Sequence[tuple[str, Mapping[str, Any]]], *,
                        renamed: Mapping[str, str] | None = None) -> tuple[Any, dict[str, str]]:
    """Defaults of ``config_class``, updated by each ``(source, values)`` layer in turn, every value
    type-checked; returns the config and, for each field, the source that set it
    (:data:`AGENT_DEFAULT` for a field no layer set). ``renamed`` maps old names to new ones,
    so that an old name is refused with its new one."""
    types = field_types(config_class)
    values: dict[str, Any] = {}
    sources = dict.fromkeys(types, AGENT_DEFAULT)
    for source, layer in layers:
        for key, value in layer.items():
            if key not in types:
                raise ZooError(unknown_key_message(key, types, renamed))
            values[key] = _convert_one(value, types[key], key)
            sources[key] = source
    config = config_class(**values)
    validate = getattr(config, "validate", None)
    if validate is not None:
        validate()
    return config, sources


def build_config(config_class: type, *layers: Mapping[str, Any], renamed: Mapping[str, str] | None = None) -> Any:
    """Defaults of ``config_class``, updated by each layer in turn, every value type-checked."""
    return build_config_layers(config_class, [("", layer) for layer in layers], renamed=renamed)[0]


def migrate_names(values: Mapping[str, Any], renamed: Mapping[str, str]) -> dict[str, Any]:
    """``values`` (a saved config) with old names replaced by new ones: checkpoints written
    before a rename keep loading. A new name already present wins over its old one."""
    result = dict(values)
    for old, new in renamed.items():
        if old in result:
            value = result.pop(old)
            result.setdefault(new, value)
    return result


def config_to_dict(config: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def read_env_defaults(package: str, filename: str, agent_key: str, gym_id: str) -> dict[str, Any]:
    """The ``[agent_key."gym_id"]`` table of a TOML file shipped in ``package`` ({} if absent).

    Data, never code: the file is parsed as TOML, nothing in it is evaluated."""
    table = tomllib.loads(resources.files(package).joinpath(filename).read_text(encoding="utf-8"))
    return dict(table.get(agent_key, {}).get(gym_id, {}))
