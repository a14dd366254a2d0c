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

Every file is bounded before anything else reads it (:mod:`zoo.limits`): its size, the values
it expands to once YAML aliases are followed, how deep it nests, its whole numbers; a YAML key
is given once per table. What is past those is refused in one line, and never expanded.
"""

from __future__ import annotations

import functools
import hashlib
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.env_names import env_name_from_file
from zoo.exceptions import ZooError, one_line
from zoo.factory import agent_entry, env_entry, find_env, load_agent_class
from zoo.limits import (
    MAX_CONFIG_BYTES,
    MAX_CONFIG_DEPTH,
    MAX_CONFIG_VALUES,
    MAX_WHOLE,
    check_count,
    check_nested,
    check_seed,
    listed,
    nested_shape,
    shown,
    whole,
)

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
        """The parsed file: a mapping at the top, within the limits of a config file, or a one-line error."""
        kind, what = SUFFIXES[self.suffix], f"config file {self.path!r}"
        size = len(self.text.encode("utf-8", "surrogatepass"))
        if size > MAX_CONFIG_BYTES:
            raise ZooError(_too_big(what, size))
        try:
            data = _load_toml(self.text) if kind == "TOML" else _load_yaml(self.text)
        except _PastLimit as exc:
            raise ZooError(f"{what}{exc}") from None
        except Exception as exc:  # a syntax error of either library, with its line and column
            raise ZooError(f"{what} is not valid {kind}: {_syntax_error(exc)}") from None
        check_nested(data, what)
        if not isinstance(data, dict):
            raise ZooError(f"{what} must hold a table of keys at the top, not {type(data).__name__}")
        return data


def _too_big(what: str, size: int) -> str:
    return f"{what} is {size:,} bytes; a config file is at most {MAX_CONFIG_BYTES:,} bytes"


class _PastLimit(Exception):
    """A file past the limits of a config file, found while parsing; the message follows the file's name."""


def _deeper_than_limit() -> _PastLimit:
    return _PastLimit(f" nests deeper than {MAX_CONFIG_DEPTH} levels; a config file nests at most {MAX_CONFIG_DEPTH}")


def _load_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except RecursionError:  # tomllib reads nested arrays and tables recursively
        raise _deeper_than_limit() from None
    except tomllib.TOMLDecodeError:
        raise
    except ValueError:  # int(): past Python's int-string limit
        raise _PastLimit(f": a whole number of more than {_int_string_limit():,} digits; whole numbers in a config "
                         f"file are at most {MAX_WHOLE:,} (2**63 - 1)") from None


def _int_string_limit() -> int:
    return sys.get_int_max_str_digits() or 4300


def _syntax_error(exc: Exception) -> str:
    """One line with the place: PyYAML spreads its message and marks over several lines
    (``found duplicate anchor 'a'; first occurrence`` / ``second occurrence``)."""
    mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    if mark is None or not problem:
        return one_line(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    text = f"{problem}{_line_column(mark)}"
    if context:
        text = f"{context}{_line_column(context_mark) if context_mark is not None else ''}; {text}"
    return text


def _line_column(mark: Any) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}"


def _load_yaml(text: str) -> Any:
    """PyYAML's safe loader, bounded (:func:`_bounded_loader`)."""
    loader = _bounded_loader()(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


@functools.cache
def _bounded_loader() -> type:
    """PyYAML's safe loader, measuring the composed document before anything is constructed
    from it: YAML's nodes, where an alias is one node shared by every place that uses it."""
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            # PyYAML composes recursively: a deep file would end in RecursionError.
            self.depth += 1
            try:
                if self.depth > MAX_CONFIG_DEPTH + 1:
                    raise _deeper_than_limit()
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def compose_document(self) -> Any:
            node = super().compose_document()
            values, depth, cycle = nested_shape(node, _yaml_children)
            if cycle is not None:
                raise _PastLimit(f": an alias inside itself{_at(cycle)}; a config file is a tree of values")
            if values > MAX_CONFIG_VALUES:
                raise _PastLimit(f" expands to more than {MAX_CONFIG_VALUES:,} values (YAML aliases count each "
                                 f"time they are used); a config file holds at most {MAX_CONFIG_VALUES:,}")
            if depth > MAX_CONFIG_DEPTH:
                raise _deeper_than_limit()
            self.check_keys(node)
            return node

        def check_keys(self, root: Any) -> None:
            """Each key once per table (PyYAML keeps the last silently). Merged keys (``<<``) may
            be overridden, as rl-baselines3-zoo's files do."""
            seen, stack = set(), [root]
            while stack:
                node = stack.pop()
                if id(node) in seen or node.id == "scalar":
                    continue
                seen.add(id(node))
                first: dict[Any, Any] = {}
                for key_node in [key for key, _ in node.value] if node.id == "mapping" else []:
                    if key_node.id != "scalar" or key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node)
                    if key in first:
                        raise _PastLimit(f": key {shown(key)} is given twice ({_places(first[key], key_node)}); "
                                         "give each key once")
                    first[key] = key_node
                stack.extend(_yaml_children(node))

        def construct_yaml_int(self, node: Any) -> int:
            try:
                return super().construct_yaml_int(node)
            except ValueError:  # int(): past Python's int-string limit
                count = sum(c.isdigit() for c in node.value)
                raise _PastLimit(f": a whole number of {count:,} digits{_at(node)}; whole numbers in a config file "
                                 f"are at most {MAX_WHOLE:,} (2**63 - 1)") from None

    BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)
    return BoundedLoader


def _yaml_children(node: Any) -> list[Any] | None:
    """The nodes inside a YAML node (a mapping's keys and values, a sequence's items); None for a scalar."""
    if node.id == "scalar":
        return None
    return [part for pair in node.value for part in pair] if node.id == "mapping" else list(node.value)


def _places(one: Any, other: Any) -> str:
    """Where two nodes are: ``lines 1 and 3``, or ``line 2, columns 5 and 40``."""
    a, b = one.start_mark, other.start_mark
    if a.line == b.line:
        return f"line {a.line + 1}, columns {a.column + 1} and {b.column + 1}"
    return f"lines {a.line + 1} and {b.line + 1}"


def _at(node: Any) -> str:
    return _line_column(node.start_mark)


def read_config_file(path: str | Path) -> ConfigFile:
    """The config file at ``path``, checked to exist, to be TOML or YAML and to parse."""
    path = Path(path)
    what = f"config file {str(path)!r}"
    if path.suffix.lower() not in SUFFIXES:
        raise ZooError(f"{what}: the suffix says the format; use {', '.join(SUFFIXES)} (TOML or YAML)")
    if not path.is_file():
        raise ZooError(f"{what} does not exist")
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_CONFIG_BYTES + 1)  # not the whole of a file that grows as it is read
            if len(raw) > MAX_CONFIG_BYTES:
                raise ZooError(_too_big(what, max(path.stat().st_size, len(raw))))
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ZooError(f"{what} cannot be read: {one_line(exc)}") from None
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
    #: Hyperparameters that are a fraction of the budget's steps (:attr:`ForeignConfig.budget_fractions`).
    budget_fractions: dict[str, float] = field(default_factory=dict)
    #: Keyword arguments the env is made with (rl-baselines3-zoo's ``env_kwargs``).
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    def scaled_to(self, steps: int) -> dict[str, int | float]:
        """The :attr:`budget_fractions` hyperparameters of a run of ``steps`` env steps: a whole
        number of steps when it is one (SB3's schedules read ``num_timesteps / steps``, unrounded)."""
        values: dict[str, int | float] = {}
        for name, fraction in self.budget_fractions.items():
            value = fraction * steps
            values[name] = int(value) if float(value).is_integer() else value
        return values


def is_zoo_format(data: Mapping[str, Any]) -> bool:
    return set(data) <= set(ZOO_KEYS)


def named(config: ConfigFile) -> tuple[str | None, str | None]:
    """The agent and env a zoo-format file names (None for what it does not name)."""
    data = config.data()
    if not is_zoo_format(data):
        return None, None
    agent, env = data.get("agent"), data.get("env")
    env = env_name_from_file(env, f"config file {config.path!r}") if isinstance(env, str) else None
    agent = agent if isinstance(agent, str) else None
    for kind, name in (("agent", agent), ("env", env)):
        if name is not None:
            _named_entry(config.path, kind, name)
    return agent, env


def _named_entry(path: str, kind: str, name: str) -> Any:
    """The registry entry of the agent or env a file names, looked up (never imported). A name the
    zoo does not know is refused naming the file, and cut short: a file's "name" may be 60,000
    characters."""
    if shown(name) != repr(name):  # longer than any name
        raise ZooError(f"config file {path!r}: {kind} {shown(name)} is not an {kind} the zoo knows (zoo list)")
    try:
        return (agent_entry if kind == "agent" else find_env)(name)
    except ZooError as exc:
        raise ZooError(f"config file {path!r}: {exc}") from None


def zoo_seed(config: ConfigFile) -> int | None:
    """The seed a zoo-format file sets, if any (checked as :func:`file_settings` checks it)."""
    data = config.data()
    return _zoo_settings(config.path, data).seed if is_zoo_format(data) else None


def _check_budget(path: str, budget: Any, what: str) -> dict[str, int]:
    if not isinstance(budget, Mapping) or not budget or set(budget) - {"steps", "episodes"}:
        raise ZooError(f"config file {path!r}: {what} must be {{steps = N}} or {{episodes = N}}, got {shown(budget)}")
    if len(budget) > 1:
        raise ZooError(f"config file {path!r}: {what} takes steps or episodes, not both: {{steps = N}} or "
                       "{episodes = N}")
    return {key: check_count(whole(value), f"config file {path!r}: {what} {key}") for key, value in budget.items()}


def _zoo_settings(path: str, data: Mapping[str, Any]) -> FileSettings:
    for key in ("agent", "env"):
        if key in data and not (isinstance(data[key], str) and data[key].strip()):
            raise ZooError(f"config file {path!r}: {key} must be a name, got {shown(data[key])}")
    seed = data.get("seed")
    if seed is not None:
        seed = check_seed(seed, f"config file {path!r}: seed")
    hyperparameters = data.get("hyperparameters", {})
    if not isinstance(hyperparameters, Mapping):
        raise ZooError(f"config file {path!r}: hyperparameters must be a table of KEY = VALUE, got "
                       f"{shown(hyperparameters)}")
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
        if settings.agent is not None and _named_entry(config.path, "agent", settings.agent) != agent_e:
            raise ZooError(f"config file {config.path!r} is for agent {settings.agent!r}, not {agent_e.name!r}")
        if settings.env is not None and _named_entry(config.path, "env", settings.env) != env_e:
            raise ZooError(f"config file {config.path!r} is for env {settings.env!r}, not {env_e.name!r}")
        return settings
    try:
        foreign = load_agent_class(agent_e).read_foreign_config(data, env_e)
    except ZooError as exc:
        raise ZooError(f"config file {config.path!r}: {exc}") from None
    if foreign is None:
        unknown = listed(k for k in data if k not in ZOO_KEYS)
        raise ZooError(f"config file {config.path!r}: unknown top-level keys {unknown}; a zoo config file has "
                       f"{', '.join(ZOO_KEYS)} (and agent {agent_e.name!r} reads no other format)")
    # What the agent read from the file (rl-zoo's policy_kwargs strings, say) is held to the file's limits.
    source = foreign.format or "as the agent reads it"
    check_nested(foreign.hyperparameters, f"config file {config.path!r}: {source}")
    budget = _check_budget(config.path, foreign.budget, f"{source}: budget") if foreign.budget is not None else None
    fractions = dict(foreign.budget_fractions)
    if fractions and not (budget or {}).get("steps"):
        raise ZooError(f"config file {config.path!r}: {source}: {listed(fractions)} are fractions of a step budget, "
                       "which the file does not give")
    for name, fraction in fractions.items():
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
            raise ZooError(f"config file {config.path!r}: {source}: {name} must be a fraction from 0 to 1 of the "
                           f"budget, got {shown(fraction)}")
    check_nested(foreign.env_kwargs, f"config file {config.path!r}: {source}: env_kwargs")
    settings = FileSettings(dict(foreign.hyperparameters), budget, None, foreign.format or "foreign",
                            budget_fractions=fractions, env_kwargs=dict(foreign.env_kwargs))
    if fractions:
        settings.hyperparameters.update(settings.scaled_to(budget["steps"]))
    return settings
