"""Planning a sweep: what the user asked for, parsed and checked, as a list of runs (plain data),
before anything runs or is written."""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from zoo.exceptions import ZooError
from zoo.limits import MAX_SEED, check_count, check_seed

RUNS_DIR = "runs"
RESULT_FILE = "result.json"
#: ``OUT/.locks/RUN.lock``: held by the process doing the run (see zoo.tools.sweep.run.holding).
LOCKS_DIR = ".locks"
#: Most runs one sweep may plan: more is a typo (``0-99999999``), not an experiment.
MAX_RUNS = 100_000
#: Most combinations of ``--set`` values: each is checked by building an agent before anything runs.
MAX_SETTINGS = 1_000


# -- parsing what the user asked for ---------------------------------------------------------------
def parse_seeds(text: str) -> list[int]:
    """``"0-9"`` -> 0..9, ``"0,3,5"`` -> [0, 3, 5]; parts combine (``"0-2,7"``); repeats dropped.
    At most :data:`MAX_RUNS` seeds, each in the zoo's seed range (:mod:`zoo.limits`)."""
    seeds: dict[int, None] = {}  # ordered, and a repeat costs O(1)
    for part in (p.strip() for p in str(text).split(",")):
        match = re.fullmatch(r"([0-9]{1,19})(?:-([0-9]{1,19}))?", part)
        if not match:
            raise ZooError(f"seeds {_short(text)}: {_short(part)} is not a seed or range; use e.g. 0-9 or 0,3,5 "
                           f"(whole numbers from 0 to {MAX_SEED})")
        low, high = int(match[1]), int(match[2] or match[1])
        for value in (low, high):
            check_seed(value, f"seeds {_short(text)}: each seed")
        if high < low:
            raise ZooError(f"seeds {_short(text)}: range {part!r} runs backwards; write {high}-{low}")
        if len(seeds) + high - low + 1 > MAX_RUNS:  # checked before the range is expanded
            raise ZooError(f"seeds {_short(text)} name more than {MAX_RUNS:,} seeds, one run each; sweep fewer")
        seeds.update(dict.fromkeys(range(low, high + 1)))
    return list(seeds)


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def split_values(text: str, *, tuple_valued: bool = False) -> list[str]:
    """Split ``"0.01,0.03"`` on commas, except inside brackets: ``"[64,64],[32]"`` -> ``["64,64", "32"]``.

    ``--set`` is spelt the same in ``zoo train`` and here: one value of a tuple-valued
    hyperparameter (``tuple_valued``, e.g. ``net_arch``) is ``64,64`` or ``[64,64]``, so a grid
    of several tuples brackets each one (``net_arch=[64,64],[32]``); a scalar's commas separate values.
    """
    if tuple_valued and "[" not in text and "]" not in text:
        if not text.strip():
            raise ZooError(f"empty value in {text!r}; write KEY=V1,V2")
        return [text.strip()]
    values, depth, current = [], 0, ""
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise ZooError(f"unbalanced ']' in {text!r}")
        if char == "," and depth == 0:
            values.append(current)
            current = ""
        else:
            current += char
    if depth:
        raise ZooError(f"unbalanced '[' in {text!r}")
    values.append(current)
    values = [v.strip() for v in values]
    values = [v[1:-1].strip() if v.startswith("[") and v.endswith("]") else v for v in values]
    if any(v == "" for v in values):
        raise ZooError(f"empty value in {text!r}; write KEY=V1,V2")
    return values


def parse_grid(pairs: Iterable[str], tuple_keys: Iterable[str] = ()) -> dict[str, list[str]]:
    """``["learning_rate=0.01,0.03", "net_arch=64,64"]`` -> ``{"learning_rate": ["0.01", "0.03"],
    "net_arch": ["64,64"]}`` when ``net_arch`` is one of ``tuple_keys`` (see :func:`split_values`)."""
    tuple_keys = set(tuple_keys)
    grid: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ZooError(f"--set expects KEY=V1,V2,..., got {pair!r}")
        if key in grid:
            raise ZooError(f"--set {key} given twice; list all its values in one --set {key}=V1,V2")
        grid[key] = split_values(value, tuple_valued=key in tuple_keys)
    return grid


def tuple_keys(agents: str | Iterable[str]) -> set[str]:
    """The hyperparameters of ``agents`` that hold a tuple (``net_arch``): for :func:`parse_grid`."""
    from zoo.config import field_types, is_tuple_field
    from zoo.factory import agent_entry, load_agent_class

    keys: set[str] = set()
    for name in _names(agents, "agents"):
        types = field_types(load_agent_class(agent_entry(name)).Config)
        keys.update(key for key, annotation in types.items() if is_tuple_field(annotation))
    return keys


def grid_settings(grid: Mapping[str, Sequence[str]]) -> list[tuple[tuple[str, str], ...]]:
    """Every combination of the grid's values, as ``((key, value), ...)``; one empty setting for no grid."""
    keys = list(grid)
    return [tuple(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def _names(value: str | Iterable[str], what: str) -> list[str]:
    names = [n.strip() for n in (value.split(",") if isinstance(value, str) else value)]
    if not names or any(not n for n in names):
        raise ZooError(f"--{what} needs a comma-separated list of names, got {value!r}")
    return names


# -- the plan --------------------------------------------------------------------------------------
def setting_label(setting: Sequence[tuple[str, str]]) -> str:
    """``(("learning_rate", "0.01"),)`` -> ``"learning_rate=0.01"``; the agent's defaults are ``"default"``."""
    return " ".join(f"{k}={v}" for k, v in setting) or "default"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "-", text).strip("-") or "x"


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: everything a worker needs, plain data so it pickles anywhere."""

    agent: str
    env: str
    seed: int
    setting: tuple[tuple[str, str], ...]
    train_steps: int | None
    eval_episodes: int
    run_dir: str
    #: The ``--config`` file, as given and as read (plain strings: a worker anywhere can use it).
    config_path: str | None = None
    config_text: str | None = None

    @property
    def run_id(self) -> str:
        return Path(self.run_dir).name

    @property
    def config_file(self) -> Any:
        from zoo.config_file import ConfigFile

        return None if self.config_text is None else ConfigFile(self.config_path or "", self.config_text)

    @property
    def label(self) -> str:
        return setting_label(self.setting)

    def key(self) -> dict[str, Any]:
        """What makes two runs the same run: a stored result with another key is not ours."""
        key = {"agent": self.agent, "env": self.env, "seed": self.seed, "setting": dict(self.setting),
               "train_steps": self.train_steps, "eval_episodes": self.eval_episodes}
        if self.config_text is not None:  # absent without one, as in results written before --config
            key["config_file"] = self.config_file.sha256
        return key

    def matches(self, result: Mapping[str, Any]) -> bool:
        return stored_key(result) == self.key()


def stored_key(result: Mapping[str, Any]) -> dict[str, Any]:
    key = {k: result.get(k) for k in ("agent", "env", "seed", "setting", "train_steps", "eval_episodes")}
    if "config_file" in result:
        key["config_file"] = result["config_file"]
    return key


@dataclass(frozen=True)
class SweepPlan:
    out: Path
    runs: tuple[RunSpec, ...]


def run_id(agent: str, env: str, setting: Sequence[tuple[str, str]], seed: int) -> str:
    label = "+".join(f"{k}={v}" for k, v in setting) or "default"
    return "__".join((_slug(agent), _slug(env), _slug(label), f"seed{seed}"))


def default_out() -> Path:
    return Path("sweeps") / datetime.now().strftime("sweep-%Y%m%d-%H%M%S")


def plan_sweep(agents: str | Iterable[str], envs: str | Iterable[str], seeds: str | Iterable[int], *,
               grid: Mapping[str, Sequence[str]] | None = None, train_steps: int | None = None,
               eval_episodes: int = 10, out: str | Path | None = None,
               config_file: str | Path | None = None) -> SweepPlan:
    """Every run of the sweep, checked before anything runs: names, hyperparameters, budgets,
    and that ``out`` holds no results of a different sweep under the same run names.

    ``grid`` maps a hyperparameter to the values to try (strings, as for ``--set``).
    ``config_file`` (TOML or YAML, as ``zoo train --config``) sets hyperparameters under the grid,
    and the budget when ``train_steps`` is None; else each agent's default budget for the env.
    """
    from zoo.config_file import file_settings, read_config_file
    from zoo.factory import agent_entry, env_entry, resolve_config
    from zoo.training.budget import Budget

    if train_steps is not None:
        check_count(train_steps, "--train-steps")
    check_count(eval_episodes, "--eval-episodes")
    seed_list = parse_seeds(seeds) if isinstance(seeds, str) else list(dict.fromkeys(
        check_seed(s, "each seed") for s in seeds))
    if not seed_list:
        raise ZooError(f"seeds must be whole numbers from 0 to {MAX_SEED}, got none")
    # Canonical names, so "cartpole" and "CartPole-v1" are one env and folder names are stable.
    agent_names = list(dict.fromkeys(agent_entry(a).name for a in _names(agents, "agents")))
    env_names = list(dict.fromkeys(env_entry(e).name for e in _names(envs, "envs")))
    n_settings = math.prod(len(values) for values in (grid or {}).values())
    if n_settings > MAX_SETTINGS:  # each is checked by building an agent: counted before they are listed
        raise ZooError(f"the --set grid has {n_settings:,} combinations; a sweep tries at most {MAX_SETTINGS:,}")
    settings = grid_settings(grid or {})
    total = len(agent_names) * len(env_names) * len(settings) * len(seed_list)
    if total > MAX_RUNS:
        raise ZooError(f"this sweep would make {total:,} runs; a sweep holds at most {MAX_RUNS:,}")
    config = read_config_file(config_file) if config_file is not None else None
    for agent, env in itertools.product(agent_names, env_names):
        from_file = file_settings(config, agent, env).hyperparameters if config is not None else None
        for setting in settings:
            # The same checks `zoo train` makes first (agent fits the env, every hyperparameter
            # known and in range), on the driver, for every combination.
            resolved = resolve_config(agent, env, overrides=dict(setting), file_values=from_file)
            if not resolved.agent_class.learns:
                raise ZooError(f"agent {agent!r} does not learn, so a sweep cannot train it; "
                               f"evaluate it with `zoo eval {agent} {env}`")
            if train_steps is not None:
                Budget(steps=train_steps).check_trains(
                    resolved.agent_class.min_training_steps(resolved.env, resolved.config),
                    f"{resolved.agent.name} on {resolved.env.gym_id}", "--train-steps", "--train-steps")
    out = Path(out) if out is not None else default_out()
    if out.exists() and not out.is_dir():
        raise ZooError(f"--out {str(out)!r} is a file; give a folder for the sweep")
    root = out.resolve()
    runs: list[RunSpec] = []
    for agent, env, setting, seed in itertools.product(agent_names, env_names, settings, seed_list):
        folder = root / RUNS_DIR / run_id(agent, env, setting, seed)
        runs.append(RunSpec(agent, env, seed, setting, train_steps, eval_episodes, str(folder),
                            config.path if config else None, config.text if config else None))
    ids = [r.run_id for r in runs]
    if len(set(ids)) != len(ids):
        clash = next(i for i in ids if ids.count(i) > 1)
        raise ZooError(f"two settings map to the same run folder {clash!r}; write the values differently")
    for spec in runs:
        stored = read_result(spec)
        if stored is not None and not spec.matches(stored):
            raise ZooError(f"{str(out)!r} already holds run {spec.run_id!r} from a different sweep "
                           f"({_difference(stored_key(stored), spec.key())}); choose another --out")
    return SweepPlan(out=root, runs=tuple(runs))


def _difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    diffs = [f"{k} {old.get(k)!r} there, {new[k]!r} now" for k in new if old.get(k) != new[k]]
    return "; ".join(diffs) or "unreadable key"


# -- stored results ------------------------------------------------------------------------------
def result_path(spec: RunSpec) -> Path:
    return Path(spec.run_dir) / RESULT_FILE


def read_result(spec: RunSpec) -> dict[str, Any] | None:
    """The stored result of ``spec``'s run folder, or None if it has none (or an unreadable one)."""
    path = result_path(spec)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
