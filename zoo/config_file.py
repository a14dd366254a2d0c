"""Config files for ``zoo train --config FILE`` and ``zoo sweep --config FILE``: TOML or YAML,
by the file's suffix. Data, never code: parsed with tomllib or PyYAML's safe loader.

The zoo's own format; every key is optional::

    agent = "reinforce"              # if given, the agent trained must be this one
    env = "CartPole-v1"              # if given, the env trained must be this one (any of its names)
    seed = 3
    budget = { steps = 50000 }       # or { episodes = N }
    [hyperparameters]
    learning_rate = 0.01
    net_arch = [64, 64]

A file with other top-level keys is in another library's format: it is handed to the agent
(:meth:`zoo.Agent.read_foreign_config`), which may read it (the SB3 agents read
rl-baselines3-zoo's hyperparameter files) or not (then the file is refused, naming the keys).
"""

from __future__ import annotations

import hashlib
import numbers
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.env_names import env_name_from_file
from zoo.exceptions import ZooError, one_line
from zoo.factory import agent_entry, env_entry, find_env, load_agent_class

#: File suffixes the zoo reads, and their format.
SUFFIXES = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML"}
#: The top-level keys of the zoo's own format.
ZOO_KEYS = ("agent", "env", "seed", "budget", "hyperparameters")
#: The name of the zoo's own format in ``--dry-run`` and ``config.json``.
ZOO_FORMAT = "zoo"


@dataclass(frozen=True)
class ConfigFile:
    """A config file as read: its path (as the user gave it) and its text. Plain strings, so it
    travels to sweep workers on other processes or machines; the text is parsed where it is used."""

    path: str
    text: str

    @property
    def suffix(self) -> str:
        return Path(self.path).suffix.lower()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def data(self) -> dict[str, Any]:
        """The parsed file: a mapping at the top, or a one-line error."""
        kind = SUFFIXES[self.suffix]
        try:
            data = tomllib.loads(self.text) if kind == "TOML" else _load_yaml(self.text)
        except ZooError:
            raise
        except Exception as exc:  # a syntax error of either library, with its line and column
            raise ZooError(f"config file {self.path!r} is not valid {kind}: {_syntax_error(exc)}") from None
        if not isinstance(data, dict):
            raise ZooError(f"config file {self.path!r} must hold a table of keys at the top, not {type(data).__name__}")
        return data


def _syntax_error(exc: Exception) -> str:
    """One line with the place: PyYAML spreads its message and mark over several lines."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return one_line(exc)


def _load_yaml(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def read_config_file(path: str | Path) -> ConfigFile:
    """The config file at ``path``, checked to exist, to be TOML or YAML and to parse."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ZooError(f"config file {str(path)!r}: the suffix says the format; use "
                       f"{', '.join(SUFFIXES)} (TOML or YAML)")
    if not path.is_file():
        raise ZooError(f"config file {str(path)!r} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ZooError(f"config file {str(path)!r} cannot be read: {one_line(exc)}") from None
    config = ConfigFile(str(path), text)
    config.data()  # refused now, not when a sweep's worker reads it
    return config


@dataclass(frozen=True)
class FileSettings:
    """What a config file sets for one agent on one env."""

    hyperparameters: dict[str, Any]
    budget: dict[str, int] | None
    seed: int | None
    #: ``"zoo"`` or the foreign format the agent read (``"rl-baselines3-zoo (CartPole-v1)"``).
    format: str
    agent: str | None = None
    env: str | None = None


def is_zoo_format(data: Mapping[str, Any]) -> bool:
    return set(data) <= set(ZOO_KEYS)


def named(config: ConfigFile) -> tuple[str | None, str | None]:
    """The agent and env a zoo-format file names (None for what it does not name)."""
    data = config.data()
    if not is_zoo_format(data):
        return None, None
    agent, env = data.get("agent"), data.get("env")
    env = env_name_from_file(env, f"config file {config.path!r}") if isinstance(env, str) else None
    return (agent if isinstance(agent, str) else None), env


def zoo_seed(config: ConfigFile) -> int | None:
    """The seed a zoo-format file sets, if any (checked as :func:`file_settings` checks it)."""
    data = config.data()
    return _zoo_settings(config.path, data).seed if is_zoo_format(data) else None


def _check_budget(path: str, budget: Any, what: str) -> dict[str, int]:
    if not isinstance(budget, Mapping) or not budget or set(budget) - {"steps", "episodes"}:
        raise ZooError(f"config file {path!r}: {what} must be {{steps = N}} or {{episodes = N}}, got {budget!r}")
    result = {}
    for key, value in budget.items():
        whole = isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer()
        if not whole or value < 1:
            raise ZooError(f"config file {path!r}: {what} {key} must be a positive whole number, got {value!r}")
        result[key] = int(value)
    return result


def _zoo_settings(path: str, data: Mapping[str, Any]) -> FileSettings:
    for key in ("agent", "env"):
        if key in data and not (isinstance(data[key], str) and data[key].strip()):
            raise ZooError(f"config file {path!r}: {key} must be a name, got {data[key]!r}")
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ZooError(f"config file {path!r}: seed must be a non-negative whole number, got {seed!r}")
    hyperparameters = data.get("hyperparameters", {})
    if not isinstance(hyperparameters, Mapping):
        raise ZooError(f"config file {path!r}: hyperparameters must be a table of KEY = VALUE, got {hyperparameters!r}")
    budget = _check_budget(path, data["budget"], "budget") if "budget" in data else None
    env = env_name_from_file(data["env"], f"config file {path!r}") if "env" in data else None
    return FileSettings(dict(hyperparameters), budget, seed, ZOO_FORMAT, data.get("agent"), env)


def file_settings(config: ConfigFile, agent: str, env: str) -> FileSettings:
    """What ``config`` sets for ``agent`` on ``env``: in the zoo's format, after checking that
    the agent and env it names (if any) are these; else as the agent reads the file."""
    data = config.data()
    agent_e, env_e = agent_entry(agent), env_entry(env)
    if is_zoo_format(data):
        settings = _zoo_settings(config.path, data)
        if settings.agent is not None and agent_entry(settings.agent) != agent_e:
            raise ZooError(f"config file {config.path!r} is for agent {settings.agent!r}, not {agent_e.name!r}")
        if settings.env is not None and find_env(settings.env) != env_e:
            raise ZooError(f"config file {config.path!r} is for env {settings.env!r}, not {env_e.name!r}")
        return settings
    try:
        foreign = load_agent_class(agent_e).read_foreign_config(data, env_e)
    except ZooError as exc:
        raise ZooError(f"config file {config.path!r}: {exc}") from None
    if foreign is None:
        unknown = ", ".join(repr(k) for k in data if k not in ZOO_KEYS)
        raise ZooError(f"config file {config.path!r}: unknown top-level keys {unknown}; a zoo config file has "
                       f"{', '.join(ZOO_KEYS)} (and agent {agent_e.name!r} reads no other format)")
    budget = _check_budget(config.path, foreign.budget, "the budget") if foreign.budget is not None else None
    return FileSettings(dict(foreign.hyperparameters), budget, None, foreign.format or "foreign")
