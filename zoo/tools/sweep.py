"""Sweeps: train and evaluate every agent × env × setting × seed, on a process pool or on Ray.

The zoo does not schedule anything itself: a sweep is a list of independent runs handed to
an existing engine (``concurrent.futures`` locally, Ray tasks on a cluster). Each run is
``zoo.training.train`` into its own run folder, then ``zoo.evaluation.evaluate`` on the
final checkpoint, and ends by writing ``result.json`` atomically. That file's presence is
what "done" means, so an interrupted sweep restarted with the same ``--out`` redoes only
the runs without a successful result::

    OUT/
      runs/AGENT__ENV__SETTING__seedN/   a `zoo train` run folder, plus result.json
      results.csv  results.json          one row per run
      summary.md   summary.png           mean ± std over seeds per agent × env × setting

    from zoo.tools.sweep import plan_sweep, run_sweep
    plan = plan_sweep(["reinforce"], ["cartpole"], "0-4", grid={"learning_rate": ["0.01", "0.03"]},
                      train_steps=20_000, out="sweeps/lr")
    outcome = run_sweep(plan, backend="local")
    print(outcome.tables["summary.md"].read_text())
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import math
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from zoo.exceptions import ZooError, one_line
from zoo.files import atomic_save_figure, atomic_write_text, make_folders
from zoo.limits import MAX_SEED, check_count, check_seed
from zoo.threads import limit_torch_threads
from zoo.tools.statistics import stratified_bootstrap_ci

RUNS_DIR = "runs"
RESULT_FILE = "result.json"
TABLE_FILES = ("results.csv", "results.json", "summary.md", "summary.png")
BACKENDS = ("local", "ray")
#: Most runs side by side (processes here, or runs in flight on a cluster).
MAX_WORKERS = 4096
#: Most runs one sweep may plan: more is a typo (``0-99999999``), not an experiment.
MAX_RUNS = 100_000
#: Most combinations of ``--set`` values: each is checked by building an agent before anything runs.
MAX_SETTINGS = 1_000
#: Set before Ray is imported so a Ray instance the sweep starts itself stays on loopback.
RAY_LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
LOOPBACK = "127.0.0.1"

Backend = Literal["local", "ray"]
OnResult = Callable[[dict[str, Any], int, int], None]


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


# -- one run, on whichever worker ------------------------------------------------------------------
def result_path(spec: RunSpec) -> Path:
    return Path(spec.run_dir) / RESULT_FILE


def read_result(spec: RunSpec) -> dict[str, Any] | None:
    """The stored result of ``spec``'s run folder, or None if it has none (or an unreadable one)."""
    path = result_path(spec)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None



def _node() -> str:
    """Where a run ran: the Ray node's id inside a Ray worker (several nodes may share a host),
    else the host name."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        with contextlib.suppress(Exception):  # not a worker of a connected Ray: just the host
            return ray.get_runtime_context().get_node_id()
    return socket.gethostname()


def failed_result(spec: RunSpec, error: str, seconds: float = 0.0) -> dict[str, Any]:
    return {"run_id": spec.run_id, **spec.key(), "label": spec.label, "status": "failed", "error": error,
            "train": None, "eval": None, "seconds": round(seconds, 3), "host": socket.gethostname(), "node": _node(),
            "run_dir": spec.run_dir}


def train_argv(spec: RunSpec) -> list[str]:
    """The `zoo train` command line that does this run alone (recorded in its command.txt)."""
    argv = ["zoo", "train", spec.agent, spec.env, "--seed", str(spec.seed)]
    if spec.train_steps is not None:
        argv += ["--steps", str(spec.train_steps)]
    for key, value in spec.setting:
        argv += ["--set", f"{key}={value}"]
    if spec.config_path is not None:
        argv += ["--config", spec.config_path]
    return argv + ["--out", spec.run_dir]


def execute_run(spec: RunSpec) -> dict[str, Any]:
    """Train, evaluate the final checkpoint, and write ``result.json`` last. Never raises for a
    failing run: the error becomes the result, so one bad run cannot stop a sweep."""
    # Runs already go side by side, one per core: more intra-op threads would only fight
    # over the same cores (and change float results).
    limit_torch_threads(1)
    start = time.perf_counter()
    run_dir = Path(spec.run_dir)
    try:
        if run_dir.exists():  # a run that never finished (or failed): start it over
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True)  # first thing: the local backend reads it as "this run started"
        from zoo.factory import load_agent
        from zoo.scoring import evaluate
        from zoo.training.session import train

        trained = train(spec.agent, spec.env, seed=spec.seed, steps=spec.train_steps, out=run_dir,
                        overrides=dict(spec.setting), config_file=spec.config_file, argv=train_argv(spec))
        if trained.interrupted:
            raise ZooError("interrupted before the end of its budget; rerun the sweep to redo it")
        policy = load_agent(trained.checkpoint)
        evaluated = evaluate(policy, spec.env, episodes=spec.eval_episodes, seed=spec.seed)
        result = {"run_id": spec.run_id, **spec.key(), "label": spec.label, "status": "ok", "error": None,
                  "train": {"episodes": trained.episodes, "env_steps": trained.env_steps,
                            "seconds": round(trained.seconds, 3), "checkpoint": str(trained.checkpoint)},
                  "eval": evaluated.as_dict(),
                  "seconds": round(time.perf_counter() - start, 3), "host": socket.gethostname(), "node": _node(),
                  "run_dir": spec.run_dir}
    except Exception as exc:  # recorded, not raised: see the docstring
        result = failed_result(spec, one_line(exc), time.perf_counter() - start)
    try:
        write_result(spec, result)
    except OSError as exc:
        result = failed_result(spec, f"cannot write {RESULT_FILE}: {one_line(exc)}", time.perf_counter() - start)
    return result


def write_result(spec: RunSpec, result: Mapping[str, Any]) -> None:
    """Atomically, so a result file is either complete or absent."""
    Path(spec.run_dir).mkdir(parents=True, exist_ok=True)
    atomic_write_text(result_path(spec), json.dumps(result, indent=2, sort_keys=True) + "\n")


def record_failure(spec: RunSpec, error: str) -> dict[str, Any]:
    """For a run whose worker never returned: the failure is kept with the run, best effort.
    Where it ran is unknown here (the driver writes this), so ``node`` is None."""
    result = {**failed_result(spec, error), "host": None, "node": None}
    try:
        write_result(spec, result)
    except OSError:
        pass
    return result


# -- backends --------------------------------------------------------------------------------------
def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_local(specs: Sequence[RunSpec], workers: int, on_done: Callable[[dict[str, Any]], None]) -> None:
    """Each run in a fresh-interpreter worker process (spawn: no forked torch or Ray state).

    A worker that dies takes its whole pool down, failing every pending future with it. Runs
    that had not started go back in the queue; runs that had started are retried one at a
    time in a pool of their own, where dying again can only be their own doing.
    """
    queue, suspects = list(specs), []
    while queue or suspects:
        if suspects:
            spec = suspects.pop(0)
            unstarted, started, _ = _run_pool([spec], 1, on_done)
            for lost in started:
                on_done(record_failure(lost, "its worker process died, twice (killed, out of memory, "
                                             "or a crash in native code)"))
            _fail_unstartable(unstarted, on_done)
            continue
        queue, started, finished = _run_pool(queue, workers, on_done)
        suspects += started
        if queue and not (started or finished):
            _fail_unstartable(queue, on_done)
            queue = []


def _fail_unstartable(specs: Sequence[RunSpec], on_done: Callable[[dict[str, Any]], None]) -> None:
    for spec in specs:
        on_done(record_failure(spec, "worker processes died before starting any run (in a script, "
                                     "call the sweep under `if __name__ == '__main__':`)"))


def _run_pool(specs: Sequence[RunSpec], workers: int,
              on_done: Callable[[dict[str, Any]], None]) -> tuple[list[RunSpec], list[RunSpec], int]:
    """Run ``specs`` on one process pool. If it breaks, returns the runs it did not finish as
    (not started, started), and how many it finished."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    unstarted: list[RunSpec] = []
    started: list[RunSpec] = []
    finished = 0
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(specs)), mp_context=context) as pool:
        futures = {pool.submit(execute_run, spec): spec for spec in specs}
        try:
            for future in as_completed(futures):
                spec = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool:
                    result = read_result(spec)  # it may have finished just before the pool broke
                    if result is None or not spec.matches(result):
                        # execute_run creates the run folder first thing: it shows who had started.
                        (started if Path(spec.run_dir).exists() else unstarted).append(spec)
                        shutil.rmtree(spec.run_dir, ignore_errors=True)
                        continue
                finished += 1
                on_done(result)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return unstarted, started, finished


def ray_over_loopback(address: str | None) -> bool:
    """Whether Ray will be reached on loopback: a local instance the sweep starts, or a head
    started with ``--node-ip-address=127.0.0.1``. Resolves ``auto`` as Ray does (RAY_ADDRESS,
    then the temp dir's ray_current_cluster), without importing Ray: its switch must be set first."""
    if address is None:
        return True
    address = os.environ.get("RAY_ADDRESS") or address
    if address == "auto":
        temp = os.environ.get("RAY_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
        try:
            address = (Path(temp) / "ray" / "ray_current_cluster").read_text().strip()
        except OSError:
            return False
    host = address.split("://")[-1].rsplit(":", 1)[0]
    return host in (LOOPBACK, "localhost")


def connect_ray(address: str | None, workers: int, runtime_env: Mapping[str, Any] | None = None) -> bool:
    """Connect to Ray; returns True if this call started it (and so must shut it down)."""
    if ray_over_loopback(address):
        # Otherwise Ray swaps 127.0.0.1 for the machine's external address, which a
        # loopback-only head does not listen on (the driver then retries for minutes).
        for name, value in RAY_LOOPBACK_ENV.items():
            os.environ.setdefault(name, value)
    try:
        import ray
    except ImportError:
        raise ZooError("the ray backend needs Ray: pip install ray "
                       "(the project's ray extra: pip install -e '.[ray]' in a checkout)") from None
    if ray.is_initialized():
        return False
    if address is not None:
        try:
            ray.init(address=address, runtime_env=dict(runtime_env) if runtime_env else None,
                     logging_level="WARNING")
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ZooError(f"cannot connect to the Ray cluster at {address!r}: {one_line(exc)} (start one with "
                           "`ray start --head`; a cluster with token authentication, the default when a token "
                           "exists, also needs RAY_AUTH_MODE=token and its token here: docs/sweep.md)") from None
        return True
    # address="local": a new instance even if `ray start` left a cluster recorded in /tmp/ray.
    ray.init(address="local", num_cpus=workers, include_dashboard=False, _node_ip_address=LOOPBACK,
             runtime_env=dict(runtime_env) if runtime_env else None, logging_level="WARNING")
    addresses = {ray.util.get_node_ip_address(), *(n["NodeManagerAddress"] for n in ray.nodes())}
    if addresses != {LOOPBACK}:
        ray.shutdown()
        raise ZooError(f"the local Ray instance advertised {sorted(addresses)}, not only {LOOPBACK}; "
                       "set RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 before Ray is imported")
    return True


def run_ray(specs: Sequence[RunSpec], workers: int | None, on_done: Callable[[dict[str, Any]], None], *,
            address: str | None = None, runtime_env: Mapping[str, Any] | None = None,
            retries: int | None = None) -> None:
    """Each run as a Ray task (one CPU each) on the cluster at ``address``, or on a local
    loopback-only Ray instance with ``workers`` CPUs. An already connected Ray is used as is.
    With ``workers`` and a cluster, at most ``workers`` runs are in flight at once. ``retries``:
    how often Ray reruns a run whose worker or node died (default: Ray's own, 3)."""
    started = connect_ray(address, workers or default_workers(), runtime_env)
    import ray

    task = ray.remote(num_cpus=1, **({} if retries is None else {"max_retries": retries}))(execute_run)
    limit = workers if (address is not None and workers) else len(specs)
    queue = list(specs)
    pending: dict[Any, RunSpec] = {}
    try:
        while queue or pending:
            while queue and len(pending) < limit:
                spec = queue.pop(0)
                pending[task.remote(spec)] = spec
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                spec = pending.pop(ref)
                try:
                    on_done(ray.get(ref))
                except ray.exceptions.RayError as exc:  # worker or node lost after Ray's retries
                    on_done(record_failure(spec, one_line(exc)))
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()


def check_backend(backend: str, *, workers: int | None = None, address: str | None = None,
                  runtime_env: Mapping[str, Any] | None = None) -> None:
    """Refuse backend options that cannot work together, before anything starts."""
    if backend not in BACKENDS:
        raise ZooError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if workers is not None:
        check_count(workers, "--workers", maximum=MAX_WORKERS)
    if backend == "local" and (address is not None or runtime_env is not None):
        raise ZooError("--address (and runtime_env) are for --backend ray")


# -- the sweep -------------------------------------------------------------------------------------
@dataclass
class SweepOutcome:
    out: Path
    results: list[dict[str, Any]]
    skipped: int
    tables: dict[str, Path] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r["status"] != "ok"]


def run_sweep(plan: SweepPlan, *, backend: Backend = "local", workers: int | None = None,
              address: str | None = None, runtime_env: Mapping[str, Any] | None = None,
              on_result: OnResult | None = None, retries: int | None = None,
              on_start: Callable[[int], None] | None = None) -> SweepOutcome:
    """Run every run of ``plan`` that has no successful result yet, then write the tables.

    ``backend="local"``: a spawn process pool of ``workers`` processes (default: the cores).
    ``backend="ray"``: Ray tasks; ``address`` names a running cluster (``"auto"`` finds the
    local head), otherwise a loopback-only Ray instance with ``workers`` CPUs is started and
    stopped. ``runtime_env`` is passed to ``ray.init`` (how plugins reach a cluster's workers,
    see docs/sweep.md). ``on_result(result, done, total)`` is called as each run finishes. ``retries``
    (Ray only): how often Ray reruns a run whose worker or node died; default Ray's own.
    ``on_start(n)`` is called once the sweep folder exists and the backend is reached, with the
    number of runs to do: nothing is written before, so a sweep that cannot start leaves nothing.
    """
    check_backend(backend, workers=workers, address=address, runtime_env=runtime_env)
    results: dict[str, dict[str, Any]] = {}
    todo = []
    for spec in plan.runs:
        stored = read_result(spec)
        if stored is not None and stored.get("status") == "ok" and spec.matches(stored):
            results[spec.run_id] = stored
        else:
            todo.append(spec)
    skipped = len(results)
    # Connected before anything is written: a cluster that cannot be reached leaves no sweep folder.
    ray_started = connect_ray(address, workers or default_workers(), runtime_env) if todo and backend == "ray" \
        else False
    try:
        make_folders(plan.out / RUNS_DIR)
    except OSError as exc:
        if ray_started:
            import ray

            ray.shutdown()
        raise ZooError(f"cannot create the sweep folder {str(plan.out)!r} ({exc.strerror or one_line(exc)}); "
                       "choose an --out you can write") from None
    if on_start is not None:
        on_start(len(todo))
    for spec in todo:  # unfinished or failed: redone from scratch, and an existing folder now means "started"
        shutil.rmtree(spec.run_dir, ignore_errors=True)

    def done(result: dict[str, Any]) -> None:
        results[result["run_id"]] = result
        if on_result is not None:
            on_result(result, len(results), len(plan.runs))

    try:
        if todo and backend == "local":
            run_local(todo, min(workers or default_workers(), len(todo)), done)
        elif todo:
            run_ray(todo, workers, done, address=address, runtime_env=runtime_env, retries=retries)
    finally:
        if ray_started:
            import ray

            ray.shutdown()
        ordered = [results[s.run_id] for s in plan.runs if s.run_id in results]
        tables = write_tables(plan.out, ordered)
    return SweepOutcome(plan.out, ordered, skipped, tables)


def sweep(agents: str | Iterable[str], envs: str | Iterable[str], seeds: str | Iterable[int], *,
          grid: Mapping[str, Sequence[str]] | None = None, train_steps: int | None = None,
          eval_episodes: int = 10, out: str | Path | None = None, backend: Backend = "local",
          workers: int | None = None, address: str | None = None,
          runtime_env: Mapping[str, Any] | None = None, on_result: OnResult | None = None) -> SweepOutcome:
    """:func:`plan_sweep` then :func:`run_sweep`."""
    plan = plan_sweep(agents, envs, seeds, grid=grid, train_steps=train_steps,
                      eval_episodes=eval_episodes, out=out)
    return run_sweep(plan, backend=backend, workers=workers, address=address,
                     runtime_env=runtime_env, on_result=on_result)


# -- tables ----------------------------------------------------------------------------------------
CSV_COLUMNS = ("run_id", "agent", "env", "setting", "seed", "status", "eval_mean", "eval_std",
               "eval_min", "eval_max", "eval_mean_length", "train_episodes", "train_env_steps",
               "train_seconds", "seconds", "error")


def table_row(result: Mapping[str, Any]) -> dict[str, Any]:
    ev, tr = result.get("eval") or {}, result.get("train") or {}
    return {"run_id": result["run_id"], "agent": result["agent"], "env": result["env"],
            "setting": result["label"], "seed": result["seed"], "status": result["status"],
            "eval_mean": ev.get("mean"), "eval_std": ev.get("std"), "eval_min": ev.get("min"),
            "eval_max": ev.get("max"), "eval_mean_length": ev.get("mean_length"),
            "train_episodes": tr.get("episodes"), "train_env_steps": tr.get("env_steps"),
            "train_seconds": tr.get("seconds"), "seconds": result.get("seconds"),
            "error": result.get("error")}


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation; (nan, nan) for no values."""
    if not values:
        return math.nan, math.nan
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def summarize(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per agent × env × setting, over seeds of each run's mean eval return: the IQM with
    a 95 % bootstrap confidence interval (:mod:`zoo.tools.statistics`), mean ± std, min, max."""
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["agent"], r["env"], r["label"]), []).append(r)
    rows = []
    for (agent, env, label), members in groups.items():
        ok = [r for r in members if r["status"] == "ok"]
        means = [r["eval"]["mean"] for r in ok]
        mean, std = mean_std(means)
        middle, low, high = stratified_bootstrap_ci(means)
        rows.append({"agent": agent, "env": env, "setting": label, "seeds": sorted(r["seed"] for r in ok),
                     "failed": sorted(r["seed"] for r in members if r["status"] != "ok"),
                     "iqm": middle, "iqm_low": low, "iqm_high": high,
                     "mean": mean, "std": std, "min": min(means, default=math.nan),
                     "max": max(means, default=math.nan)})
    return rows


def _number(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}"


def summary_markdown(results: Sequence[Mapping[str, Any]], summary: Sequence[Mapping[str, Any]]) -> str:
    lines = ["# Sweep summary", "",
             "Mean evaluation return of each run's final checkpoint, then over seeds: the interquartile "
             "mean with a 95 % percentile bootstrap interval (rliable's method), and mean ± std (population).",
             "",
             "| agent | env | setting | seeds | IQM [95% CI] | mean ± std | min | max | failed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in summary:
        failed = "seeds " + ", ".join(map(str, row["failed"])) if row["failed"] else "–"
        lines.append(f"| {row['agent']} | {row['env']} | {row['setting']} | {len(row['seeds'])} | "
                     f"{_number(row['iqm'])} [{_number(row['iqm_low'])}, {_number(row['iqm_high'])}] | "
                     f"{_number(row['mean'])} ± {_number(row['std'])} | {_number(row['min'])} | "
                     f"{_number(row['max'])} | {failed} |")
    failures = [r for r in results if r["status"] != "ok"]
    ok = len(results) - len(failures)
    lines += ["", f"{ok} of {len(results)} runs succeeded, {len(failures)} failed."]
    if failures:
        lines += ["", "## Failures", ""]
        lines += [f"- `{r['run_id']}`: {r['error']}" for r in failures]
    return "\n".join(lines) + "\n"


def plot_summary(path: Path, results: Sequence[Mapping[str, Any]], summary: Sequence[Mapping[str, Any]]) -> Path:
    """One panel per env: a bar (mean ± std over seeds) per agent × setting, seeds as dots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = list(dict.fromkeys(row["env"] for row in summary)) or ["(no runs)"]
    fig, axes = plt.subplots(1, len(envs), figsize=(max(4.0, 4.5 * len(envs)), 4), dpi=100, squeeze=False)
    for ax, env in zip(axes[0], envs):
        rows = [row for row in summary if row["env"] == env]
        labels = [f"{row['agent']}\n{row['setting']}" for row in rows]
        ax.bar(range(len(rows)), [0 if math.isnan(r["mean"]) else r["mean"] for r in rows],
               yerr=[0 if math.isnan(r["std"]) else r["std"] for r in rows], capsize=4, alpha=0.6)
        for i, row in enumerate(rows):
            seeds = [r["eval"]["mean"] for r in results if r["status"] == "ok" and r["env"] == env
                     and r["agent"] == row["agent"] and r["label"] == row["setting"]]
            ax.plot([i] * len(seeds), seeds, "k.", markersize=4)
        ax.set_xticks(range(len(rows)), labels, fontsize=8)
        ax.set_title(env)
        ax.set_ylabel("mean eval return")
    fig.tight_layout()
    return atomic_save_figure(fig, path)


def write_tables(out: Path, results: Sequence[Mapping[str, Any]]) -> dict[str, Path]:
    """results.csv, results.json, summary.md and summary.png in ``out``, each written atomically."""
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(results)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table_row(r) for r in results)
    paths = {name: out / name for name in TABLE_FILES}
    atomic_write_text(paths["results.csv"], buffer.getvalue())
    # JSON has no NaN: a group whose every seed failed gets null statistics.
    atomic_write_text(paths["results.json"], json.dumps(
        {"runs": list(results), "summary": _nan_to_none(summary)}, indent=2, sort_keys=True) + "\n")
    atomic_write_text(paths["summary.md"], summary_markdown(results, summary))
    plot_summary(paths["summary.png"], results, summary)
    return paths


def _nan_to_none(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()} for row in rows]
