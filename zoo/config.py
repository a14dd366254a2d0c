"""Typed agent hyperparameters: a dataclass per agent, per-env defaults as data, CLI overrides."""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from zoo.errors import ZooError

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
            raise ZooError(f"{key}={value!r} is not valid; choose one of: {', '.join(map(str, args))}")
        return value
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        return convert(value, inner[0], key)
    if origin in (tuple, list):
        if not isinstance(value, (str, list, tuple)):
            raise ZooError(f"{key}={value!r} is not valid; give a comma-separated list, e.g. {key}=64,64")
        items = value.split(",") if isinstance(value, str) else list(value)
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
        raise ZooError(f"{key}={value!r} is not a valid {name}") from None
    return value


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """``["lr=0.01", "hidden=64,64"]`` -> ``{"lr": "0.01", "hidden": "64,64"}``."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ZooError(f"--set expects KEY=VALUE, got {pair!r}")
        result[key.strip()] = value.strip()
    return result


def build_config(config_class: type, *layers: Mapping[str, Any]) -> Any:
    """Defaults of ``config_class``, updated by each layer in turn, every value type-checked."""
    types = field_types(config_class)
    values: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if key not in types:
                valid = ", ".join(sorted(types)) or "none (this agent has no hyperparameters)"
                raise ZooError(f"unknown hyperparameter {key!r}; valid: {valid}")
            values[key] = convert(value, types[key], key)
    config = config_class(**values)
    validate = getattr(config, "validate", None)
    if validate is not None:
        validate()
    return config


def config_to_dict(config: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def hyperparameter(help: str, default: Any) -> Any:
    """A documented config field (``zoo.config.field_help`` reads ``help``); a list or tuple
    default becomes an immutable tuple per instance."""
    if isinstance(default, (list, tuple)):
        return dataclasses.field(default_factory=lambda: tuple(default), metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


def read_env_defaults(package: str, filename: str, agent_key: str, gym_id: str) -> dict[str, Any]:
    """The ``[agent_key."gym_id"]`` table of a TOML file shipped in ``package`` ({} if absent).

    Data, never code: the file is parsed as TOML, nothing in it is evaluated."""
    table = tomllib.loads(resources.files(package).joinpath(filename).read_text())
    return dict(table.get(agent_key, {}).get(gym_id, {}))
