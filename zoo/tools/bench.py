"""Benchmarks: how fast learners reach an env's threshold, against references from the same run.

A suite is data (a TOML file, see ``benchmarks/suite.toml``): envs with the criteria that
count as solved and a step cap, and runs, each one learner on one env over several seeds. A
learner is a zoo agent by name, or a *trainer* function in a Python file next to the suite
(``trainer = "course_reinforce.py:train"``); the runner knows nothing about either beyond the
:data:`Trainer` signature. For every run and seed it records the env steps, wall-clock
seconds and episodes until the training returns first meet the env's criteria, then evaluates
the final policy with :func:`zoo.evaluation.evaluate`. A zoo agent may read a ``config`` file
(``zoo train --config``: an rl-baselines3-zoo entry, say), and then trains as ``zoo train`` does,
to its cap. A run that ``requires`` packages this install lacks is skipped with a line saying
which, so optional references (rl_zoo3) stay out of the product's dependencies. Runs marked as
references give the other runs on the same env a ratio (never a run on another env: a ratio
between envs says nothing), so results compare across machines of different speed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from zoo.exceptions import ZooError
from zoo.files import atomic_write_text
from zoo.limits import check_seed
from zoo.policy import PolicyPredictor
from zoo.threads import use_torch_threads

StopRule = Callable[[Sequence[float]], bool]


@dataclass
class TrainRecord:
    """What a trainer reports: for every finished training episode its return, and the env
    steps and wall-clock seconds since training started when it was reported; and the policy."""

    returns: list[float]
    env_steps: list[int]
    seconds: list[float]
    policy: PolicyPredictor
    total_steps: int
    total_seconds: float


#: ``trainer(env, seed, cap_steps, should_stop, **params) -> TrainRecord``: train on ``env``
#: (a zoo env name) from ``seed`` until ``should_stop(returns_so_far)`` or ``cap_steps`` env
#: steps, checking ``should_stop`` whenever episodes finish.
Trainer = Callable[..., TrainRecord]


# -- criteria -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Criterion:
    """A statistic of the last ``window`` returns that must reach ``at_least``."""

    window: int
    at_least: float
    stat: Literal["mean", "mean-std"] = "mean"

    def __str__(self) -> str:
        return f"{self.stat} of {self.window} episodes ≥ {self.at_least:g}"

    def values(self, returns: Sequence[float]) -> np.ndarray:
        """The statistic over each trailing window: entry ``i`` covers episodes ``i-window+1..i``
        (NaN until ``window`` episodes exist)."""
        x = np.asarray(returns, dtype=np.float64)
        out = np.full(x.shape, np.nan)
        if x.size < self.window:
            return out
        c1 = np.concatenate([[0.0], np.cumsum(x)])
        c2 = np.concatenate([[0.0], np.cumsum(x * x)])
        w = self.window
        mean = (c1[w:] - c1[:-w]) / w
        if self.stat == "mean":
            out[w - 1:] = mean
        else:
            var = np.maximum((c2[w:] - c2[:-w]) / w - mean**2, 0.0)
            out[w - 1:] = mean - np.sqrt(var)
        return out


def first_reached(criteria: Sequence[Criterion], returns: Sequence[float]) -> int | None:
    """Index of the first episode at which every criterion holds on the episodes so far."""
    if not returns:
        return None
    ok = np.ones(len(returns), dtype=bool)
    for c in criteria:
        ok &= np.nan_to_num(c.values(returns), nan=-np.inf) >= c.at_least
    hits = np.flatnonzero(ok)
    return int(hits[0]) if hits.size else None


def all_met(criteria: Sequence[Criterion], returns: Sequence[float]) -> bool:
    """Whether every criterion holds on the latest episodes."""
    return all(len(returns) >= c.window and c.values(returns[-c.window:])[-1] >= c.at_least for c in criteria)


# -- the suite ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnvSpec:
    key: str
    env: str
    criteria: tuple[Criterion, ...]
    cap_steps: int
    quick_cap_steps: int
    stop: Literal["threshold", "cap"]
    eval_episodes: int
    eval_deterministic: bool
    eval_criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class RunSpec:
    name: str
    env: str
    seeds: tuple[int, ...]
    agent: str | None = None
    trainer: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    reference: str | None = None
    quick: bool = True
    #: This run's own step caps and stop rule, where they differ from its env's (references
    #: that cost minutes per seed are capped lower).
    cap_steps: int | None = None
    quick_cap_steps: int | None = None
    stop: Literal["threshold", "cap"] | None = None
    #: A config file the agent reads as ``zoo train --config`` does: a path relative to the
    #: suite, or ``{package = "rl_zoo3", path = "hyperparams/qrdqn.yml"}`` inside an installed package.
    config: str | Mapping[str, str] | None = None
    #: Importable modules the run needs (a reference's library); without them it is skipped.
    requires: tuple[str, ...] = ()

    def cap(self, env: EnvSpec, quick: bool) -> int:
        if quick:
            return self.quick_cap_steps or self.cap_steps or env.quick_cap_steps
        return self.cap_steps or env.cap_steps


@dataclass(frozen=True)
class Suite:
    path: Path
    envs: Mapping[str, EnvSpec]
    runs: tuple[RunSpec, ...]
    quick_seeds: tuple[int, ...]

    def select(self, quick: bool, envs: Sequence[str] = (), seeds: Sequence[int] = ()) -> list[RunSpec]:
        """The runs to run: with ``quick``, the quick runs on the quick seeds; only those on the
        env keys ``envs`` (all when empty); on ``seeds`` instead of their own (when given)."""
        unknown = [key for key in envs if key not in self.envs]
        if unknown:
            raise ZooError(f"--env {unknown[0]!r} is not an env of suite {self.path.name}; "
                           f"known: {', '.join(self.envs)}")
        runs = [r for r in self.runs if (r.quick or not quick) and (not envs or r.env in envs)]
        chosen = tuple(check_seed(seed) for seed in seeds) or (self.quick_seeds if quick else None)
        return [RunSpec(**{**asdict(r), "seeds": chosen}) if chosen else r for r in runs]


def _take(table: dict[str, Any], where: str, required: Iterable[str], optional: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(table) - set(required) - set(optional)
    if unknown:
        valid = ", ".join(sorted({*required, *optional}))
        raise ZooError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; valid: {valid}")
    missing = [k for k in required if k not in table]
    if missing:
        raise ZooError(f"{where}: missing key(s) {', '.join(missing)}")
    return {**optional, **table}


def _criteria(items: Any, where: str) -> tuple[Criterion, ...]:
    if not isinstance(items, list) or not items:
        raise ZooError(f"{where}: criteria must be a non-empty list of {{window, at_least, stat}} tables")
    out = []
    for i, item in enumerate(items):
        spec = _take(dict(item), f"{where}[{i}]", ("window", "at_least"), {"stat": "mean"})
        if spec["stat"] not in ("mean", "mean-std") or int(spec["window"]) < 1:
            raise ZooError(f"{where}[{i}]: stat must be 'mean' or 'mean-std' and window at least 1")
        out.append(Criterion(int(spec["window"]), float(spec["at_least"]), spec["stat"]))
    return tuple(out)


def load_suite(path: str | Path) -> Suite:
    """Read and check a suite file; every mistake is a one-line :class:`ZooError`."""
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"no benchmark suite at {str(path)!r}; pass --suite PATH "
                       "(the repository has benchmarks/suite.toml)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ZooError(f"benchmark suite {str(path)!r} is not valid TOML: {exc}") from None
    top = _take(data, str(path), ("envs", "runs"), {"quick": {}})
    envs: dict[str, EnvSpec] = {}
    for key, table in top["envs"].items():
        where = f"{path.name}: envs.{key}"
        spec = _take(dict(table), where, ("env", "criteria", "cap_steps"), {
            "quick_cap_steps": None, "stop": "threshold", "eval_episodes": 100,
            "eval_deterministic": True, "eval_criteria": None})
        if spec["stop"] not in ("threshold", "cap"):
            raise ZooError(f"{where}: stop must be 'threshold' or 'cap', got {spec['stop']!r}")
        criteria = _criteria(spec["criteria"], f"{where}.criteria")
        envs[key] = EnvSpec(
            key=key, env=str(spec["env"]), criteria=criteria, cap_steps=int(spec["cap_steps"]),
            quick_cap_steps=int(spec["quick_cap_steps"] or spec["cap_steps"]), stop=spec["stop"],
            eval_episodes=int(spec["eval_episodes"]), eval_deterministic=bool(spec["eval_deterministic"]),
            eval_criteria=_criteria(spec["eval_criteria"], f"{where}.eval_criteria")
            if spec["eval_criteria"] is not None else criteria)
    runs = []
    for i, table in enumerate(top["runs"]):
        where = f"{path.name}: runs[{i}]"
        spec = _take(dict(table), where, ("name", "env", "seeds"), {
            "agent": None, "trainer": None, "params": {}, "reference": None, "quick": True,
            "cap_steps": None, "quick_cap_steps": None, "stop": None, "config": None, "requires": []})
        if (spec["agent"] is None) == (spec["trainer"] is None):
            raise ZooError(f"{where} ({spec['name']}): give exactly one of agent or trainer")
        if spec["env"] not in envs:
            raise ZooError(f"{where} ({spec['name']}): env {spec['env']!r} is not in [envs]; known: {', '.join(envs)}")
        seeds = tuple(int(s) for s in spec["seeds"])
        if not seeds:
            raise ZooError(f"{where} ({spec['name']}): seeds must not be empty")
        if spec["stop"] not in (None, "threshold", "cap"):
            raise ZooError(f"{where} ({spec['name']}): stop must be 'threshold' or 'cap', got {spec['stop']!r}")
        caps = {key: int(spec[key]) if spec[key] is not None else None for key in ("cap_steps", "quick_cap_steps")}
        config = _config_spec(spec, envs[spec["env"]], f"{where} ({spec['name']})")
        requires = spec["requires"]
        if not isinstance(requires, list) or not all(isinstance(m, str) and m for m in requires):
            raise ZooError(f"{where} ({spec['name']}): requires must be a list of module names, got {requires!r}")
        runs.append(RunSpec(name=str(spec["name"]), env=spec["env"], seeds=seeds, agent=spec["agent"],
                            trainer=spec["trainer"], params=dict(spec["params"]), reference=spec["reference"],
                            quick=bool(spec["quick"]), stop=spec["stop"], config=config, requires=tuple(requires),
                            **caps))
    names = [(r.name, r.env) for r in runs]
    if len(set(names)) != len(names):
        raise ZooError(f"{path.name}: two runs share a name on the same env")
    references: set[tuple[str, str]] = set()
    for r in runs:
        if r.reference and (r.env, r.reference) in references:
            raise ZooError(f"{path.name}: two runs on env {r.env!r} are both reference {r.reference!r}")
        references.add((r.env, r.reference or ""))
    quick = _take(dict(top["quick"]), f"{path.name}: quick", (), {"seeds": [0]})
    return Suite(path, envs, tuple(runs), tuple(int(s) for s in quick["seeds"]))


def _config_spec(spec: Mapping[str, Any], env: EnvSpec, where: str) -> str | dict[str, str] | None:
    config = spec["config"]
    if config is None:
        return None
    if spec["agent"] is None:
        raise ZooError(f"{where}: config is read by a zoo agent; a trainer takes params")
    if (spec["stop"] or env.stop) != "cap":
        # It trains as `zoo train --config` does: to the budget, with no threshold to stop at.
        raise ZooError(f"{where}: a run with a config trains to its cap: set stop = \"cap\" (on the run or its env)")
    if isinstance(config, str) and config:
        return config
    if isinstance(config, dict) and set(config) == {"package", "path"} and all(
            isinstance(v, str) and v for v in config.values()):
        return dict(config)
    raise ZooError(f"{where}: config must be a path relative to the suite or {{package = NAME, path = PATH}}, "
                   f"got {config!r}")


#: What the one-line skip message suggests for a missing module.
INSTALL_HINT = "pip install 'rl-agent-zoo[bench]' installs the bench's references"


def missing_requirement(run: RunSpec) -> str | None:
    """Why ``run`` cannot run in this install (a module it needs is not importable), or None."""
    needed = [*run.requires]
    if isinstance(run.config, Mapping):
        needed.append(run.config["package"])
    for module in needed:
        if importlib.util.find_spec(module.partition(".")[0]) is None:
            return f"needs {module}, which is not installed ({INSTALL_HINT})"
    return None


def config_path(config: str | Mapping[str, str], base: Path) -> Path:
    """The file a run's ``config`` names: relative to the suite's folder, or inside an installed
    package (found without importing it)."""
    if isinstance(config, str):
        return base / config
    spec = importlib.util.find_spec(config["package"])
    if spec is None or not spec.submodule_search_locations:
        raise ZooError(f"config {config['path']!r}: package {config['package']!r} is not installed ({INSTALL_HINT})")
    return Path(next(iter(spec.submodule_search_locations))) / config["path"]


def load_trainer(spec: str, base: Path) -> Trainer:
    """``"file.py:function"`` (relative to ``base``) or ``"package.module:function"``."""
    target, _, name = spec.partition(":")
    if not name:
        raise ZooError(f"trainer {spec!r} must look like 'file.py:function' or 'module:function'")
    if target.endswith(".py"):
        file = (base / target).resolve()
        if not file.is_file():
            raise ZooError(f"trainer file {str(file)!r} does not exist")
        # Named after the whole path: two suites' trainer files of one name are two modules.
        module_name = f"_zoo_bench_{file.stem}_{hashlib.sha1(str(file).encode()).hexdigest()[:12]}"
        module = sys.modules.get(module_name)
        if module is None:
            module_spec = importlib.util.spec_from_file_location(module_name, file)
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[module_name] = module
            module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    trainer = getattr(module, name, None)
    if not callable(trainer):
        raise ZooError(f"trainer {spec!r}: {target} has no function {name!r}")
    return trainer


# -- training a zoo agent -------------------------------------------------------------------------
def train_zoo_agent(env: str, seed: int, cap_steps: int, should_stop: StopRule, *, agent: str,
                    overrides: Mapping[str, Any] | None = None, max_episode_steps: int | None = None) -> TrainRecord:
    """The zoo's own training loop, without the run folder: iterations until ``should_stop``
    or ``cap_steps``."""
    from zoo.factory import make_agent, training_vec_env
    from zoo.training.budget import CountedVectorEnv, StepAllowance
    from zoo.training.state import seeded_envs

    start = time.perf_counter()
    learner = make_agent(agent, env, seed=seed, overrides=overrides)
    if not learner.learns:
        raise ZooError(f"agent {agent!r} does not learn; it cannot be benchmarked")
    allowance = StepAllowance(cap_steps)  # the cap is a step budget, as the training loop's
    copies: list[int] = []

    def make_envs(n: int):
        copies.append(n)
        return CountedVectorEnv(seeded_envs(training_vec_env(env, n, max_episode_steps), seed), allowance)

    returns: list[float] = []
    steps_at: list[int] = []
    seconds_at: list[float] = []
    env_steps = 0
    learner.start_training(make_envs)
    try:
        while env_steps < cap_steps and not (copies and cap_steps - env_steps < min(copies)):
            allowance.executed = env_steps
            it = learner.train_iteration()
            env_steps += it.env_steps
            now = time.perf_counter() - start
            returns.extend(float(r) for r in it.episode_returns)
            steps_at.extend([env_steps] * len(it.episode_returns))
            seconds_at.extend([now] * len(it.episode_returns))
            if it.episode_returns and should_stop(returns):
                break
    finally:
        learner.stop_training()
    return TrainRecord(returns, steps_at, seconds_at, learner, env_steps, time.perf_counter() - start)


def train_zoo_run(env: str, seed: int, cap_steps: int, *, agent: str, config: str | Path,
                  overrides: Mapping[str, Any] | None = None) -> TrainRecord:
    """``zoo train AGENT ENV --config FILE --seed SEED --steps CAP_STEPS`` (overrides as ``--set``),
    its run folder in a temporary folder: the same session, budget and schedules as the command.
    It trains to ``cap_steps``: a run does not stop at a threshold."""
    from zoo.training.session import start

    begin = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zoo-bench-") as folder:
        session = start(agent, env, seed=seed, steps=cap_steps, out=Path(folder) / "run", overrides=overrides,
                        config_file=config, checkpoint_every=float(10**9), keep_checkpoints=1)
        result = session.run()
    if result.interrupted:  # Ctrl-C ended the training: end the bench, not only this seed
        raise KeyboardInterrupt
    rows = session.rows  # [episode, return, length, env step at its end, seconds]
    return TrainRecord([float(r[1]) for r in rows], [int(r[3]) for r in rows], [float(r[4]) for r in rows],
                       session.learner, result.env_steps, time.perf_counter() - begin)


# -- running --------------------------------------------------------------------------------------
@dataclass
class SeedResult:
    seed: int
    reached: bool
    steps: int | None
    seconds: float | None
    episodes: int | None
    trained_steps: int
    trained_seconds: float
    trained_episodes: int
    final_mean_100: float | None
    eval_mean: float
    eval_std: float
    eval_passed: bool
    eval_returns: list[float]


@dataclass
class RunResult:
    name: str
    env_key: str
    env: str
    agent: str | None
    trainer: str | None
    params: dict[str, Any]
    reference: str | None
    seeds: list[SeedResult]
    skipped: str | None = None
    cap_steps: int | None = None
    stop: str | None = None
    config: str | dict[str, str] | None = None

    # Unreached seeds count as infinitely slow, so a median over them is honest.
    def median(self, attr: str) -> float | None:
        values = [getattr(s, attr) if s.reached else float("inf") for s in self.seeds]
        if not values:
            return None
        m = statistics.median(values)
        return None if m == float("inf") else float(m)

    def median_at_least(self, attr: str) -> float | None:
        """A lower bound of :meth:`median` when it is unknown: a seed that never reached the
        threshold would have taken at least what it trained (``trained_steps``, ``trained_seconds``)."""
        values = [getattr(s, attr) if s.reached else getattr(s, f"trained_{attr}") for s in self.seeds]
        return float(statistics.median(values)) if values else None

    @property
    def reached(self) -> int:
        return sum(s.reached for s in self.seeds)

    def eval_pooled(self) -> tuple[float, float] | None:
        pooled = [r for s in self.seeds for r in s.eval_returns]
        return (float(np.mean(pooled)), float(np.std(pooled))) if pooled else None


def run_seed(run: RunSpec, env: EnvSpec, seed: int, quick: bool, base: Path) -> SeedResult:
    from zoo.scoring import evaluate, evaluation_seed

    cap, stop = run.cap(env, quick), run.stop or env.stop

    def should_stop(returns: Sequence[float]) -> bool:
        return stop == "threshold" and all_met(env.criteria, returns)

    if run.config is not None:
        record = train_zoo_run(env.env, seed, cap, agent=run.agent, config=config_path(run.config, base),
                               overrides=run.params)
    elif run.agent is not None:
        record = train_zoo_agent(env.env, seed, cap, should_stop, agent=run.agent, overrides=run.params)
    else:
        record = load_trainer(run.trainer, base)(env.env, seed, cap, should_stop, **run.params)
    hit = first_reached(env.criteria, record.returns)
    result = evaluate(record.policy, env.env, episodes=env.eval_episodes, seed=evaluation_seed(seed),
                      deterministic=env.eval_deterministic)
    return SeedResult(
        seed=seed, reached=hit is not None,
        steps=record.env_steps[hit] if hit is not None else None,
        seconds=round(record.seconds[hit], 3) if hit is not None else None,
        episodes=hit + 1 if hit is not None else None,
        trained_steps=record.total_steps, trained_seconds=round(record.total_seconds, 3),
        trained_episodes=len(record.returns),
        final_mean_100=float(np.mean(record.returns[-100:])) if record.returns else None,
        eval_mean=result.mean, eval_std=result.std,
        eval_passed=all_met(env.eval_criteria, result.returns), eval_returns=result.returns,
    )


def run_suite(suite: Suite, quick: bool = False, progress: Callable[[str], None] = lambda line: None,
              runs: Sequence[RunSpec] | None = None) -> dict[str, Any]:
    """Run every run × seed of ``runs`` (default: ``suite.select(quick)``); returns the report
    (what :func:`write_report` writes)."""
    from zoo.factory import env_entry

    use_torch_threads()
    started = time.perf_counter()
    results: list[RunResult] = []
    for run in suite.select(quick) if runs is None else runs:
        env = suite.envs[run.env]
        result = RunResult(run.name, run.env, env.env, run.agent, run.trainer, dict(run.params), run.reference, [],
                           cap_steps=run.cap(env, quick), stop=run.stop or env.stop, config=run.config)
        try:
            env_entry(env.env)
        except ZooError as exc:
            result.skipped = f"env not available: {exc}"
        else:
            result.skipped = missing_requirement(run)
        if result.skipped:
            progress(f"{run.name}: skipped ({result.skipped})")
            results.append(result)
            continue
        for seed in run.seeds:
            s = run_seed(run, env, seed, quick, suite.path.parent)
            result.seeds.append(s)
            reached = (f"threshold at {s.steps} steps, {s.seconds:.1f} s, {s.episodes} episodes" if s.reached
                       else f"threshold not reached in {s.trained_steps} steps")
            progress(f"{run.name} seed {seed}: {reached}; eval {s.eval_mean:.1f} ± {s.eval_std:.1f}")
        results.append(result)
    return build_report(suite, results, quick, time.perf_counter() - started)


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or reference is None or reference == 0:
        return None
    return round(value / reference, 4)


def reference_ratios(row: dict[str, Any], reference: RunResult) -> dict[str, Any]:
    """``row``'s median steps and seconds divided by ``reference``'s. When the reference's
    median seed never reached the threshold (within its cap), its time is known only to be at
    least what it trained: the ratios are then upper bounds (``"bound": true``)."""
    bound = reference.median("steps") is None
    at = reference.median_at_least if bound else reference.median
    return {"steps": _ratio(row["median_steps"], at("steps")), "seconds": _ratio(row["median_seconds"], at("seconds")),
            "bound": bound}


def build_report(suite: Suite, results: list[RunResult], quick: bool, seconds: float) -> dict[str, Any]:
    import torch

    # References by env: a row is divided only by references run on its own env.
    references: dict[str, dict[str, RunResult]] = {}
    for r in results:
        if r.reference and not r.skipped:
            references.setdefault(r.env_key, {})[r.reference] = r
    from zoo.tools.statistics import stratified_bootstrap_ci

    rows = []
    for r in results:
        pooled = r.eval_pooled()
        env = suite.envs[r.env_key]
        # Over seeds, each seed's evaluation mean: the IQM with a 95 % bootstrap interval
        # (rliable's method; few seeds give wide intervals, which is the honest answer).
        iqm, low, high = stratified_bootstrap_ci([s.eval_mean for s in r.seeds]) if r.seeds else (None,) * 3
        row = {
            "name": r.name, "env_key": r.env_key, "env": r.env, "agent": r.agent, "trainer": r.trainer,
            "params": r.params, "config": r.config, "reference": r.reference, "skipped": r.skipped,
            "criteria": [str(c) for c in env.criteria], "stop": r.stop or env.stop, "cap_steps": r.cap_steps,
            "env_stop": env.stop, "env_cap_steps": env.quick_cap_steps if quick else env.cap_steps,
            "eval_criteria": [str(c) for c in env.eval_criteria],
            "eval_deterministic": env.eval_deterministic,
            "seeds": [asdict(s) for s in r.seeds], "reached": r.reached, "runs": len(r.seeds),
            "median_steps": r.median("steps"), "median_seconds": r.median("seconds"),
            "median_episodes": r.median("episodes"),
            "eval_mean": pooled[0] if pooled else None, "eval_std": pooled[1] if pooled else None,
            "eval_iqm": iqm, "eval_iqm_ci": [low, high] if r.seeds else None,
            "eval_passed": sum(s.eval_passed for s in r.seeds),
            "ratios": {},
        }
        for ref_id, ref in references.get(r.env_key, {}).items():
            row["ratios"][ref_id] = reference_ratios(row, ref)
        rows.append(row)
    return {
        "suite": str(suite.path), "quick": quick, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "bench_seconds": round(seconds, 1),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                    "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None},
        "references": {env_key: {ref_id: ref.name for ref_id, ref in refs.items()}
                       for env_key, refs in references.items()},
        "rows": rows,
    }


# -- output ---------------------------------------------------------------------------------------
def _fmt(value: float | None, digits: int = 0, missing: str = "—") -> str:
    if value is None:
        return missing
    return f"{value:,.{digits}f}"


def _fmt_ratio(ratio: dict[str, Any], key: str) -> str:
    value = ratio.get(key)
    if value is None:
        return "—"
    text = f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"  # 0.0043, not 0.00
    return f"< {text}" if ratio.get("bound") else text


def _preamble(report: dict[str, Any]) -> list[str]:
    machine = report["machine"]
    load = ", ".join(f"{x:.1f}" for x in machine["load_average"] or [])
    return [
        f"Benchmark ({'quick' if report['quick'] else 'full'}) of {report['created']}: {machine['cpus']} CPUs, "
        f"torch {machine['torch']} on {machine['torch_threads']} thread(s), load average {load}; "
        f"whole bench {report['bench_seconds']:.0f} s.",
        "",
        "Steps, seconds and episodes are medians over seeds until the training returns first meet the env's "
        "criteria (a seed that never does counts as slower than all; a median that is such a seed shows —). "
        "Ratios divide by the median of a reference run on the same env in the same run, never on another env; "
        "\"< x\" means the reference's median seed did not reach the threshold within its cap, so only a bound "
        "is known. The evaluation runs the final policy on separate seeds; its mean ± std pools every seed's "
        "episodes, and the IQM (interquartile mean) over seeds of each seed's mean comes with a 95 % stratified "
        "bootstrap interval (rliable's method).",
        "",
    ]


def _env_rows(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows of each env, envs in the order the suite first runs them."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in report["rows"]:
        grouped.setdefault(row.get("env_key", row["env"]), []).append(row)
    return grouped


def _stop_text(stop: str) -> str:
    return "stops at the threshold" if stop == "threshold" else "trains to the cap"


def _env_heading(rows: list[dict[str, Any]], refs: dict[str, str]) -> str:
    first = rows[0]
    named = "; ".join(f"{ref_id} = {name}" for ref_id, name in refs.items())
    own = [f"{row['name']}: cap {row['cap_steps']:,}, {_stop_text(row['stop'])}" for row in rows
           if (row["cap_steps"], row["stop"]) != (first["env_cap_steps"], first["env_stop"])]
    limits = f"cap {first['env_cap_steps']:,} env steps, {_stop_text(first['env_stop'])}"
    key = first.get("env_key", first["env"])
    if key != first["env"]:  # two suite envs on one zoo env (their own criteria): say which
        limits = f"--env {key}; {limits}"
    return (f"**{first['env']}** ({limits}{''.join('; ' + text for text in own)}). "
            + (f"References on this env: {named}." if refs else "No reference on this env: no ratios."))


def _results_table(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for env_key, rows in _env_rows(report).items():
        refs = report["references"].get(env_key, {})
        head = ["run", "env", "reached", "steps", "seconds", "episodes"]
        for ref_id in refs:
            head += [f"steps ÷ {ref_id}", f"time ÷ {ref_id}"]
        head += ["eval mean ± std", "eval IQM [95% CI]", "eval passed"]
        lines += [_env_heading(rows, refs), "",
                  "| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        for row in rows:
            if row["skipped"]:
                lines.append(f"| {row['name']} | {row['env']} | skipped: {row['skipped']} |"
                             + " |" * (len(head) - 3))
                continue
            cells = [row["name"], row["env"], f"{row['reached']}/{row['runs']}", _fmt(row["median_steps"]),
                     _fmt(row["median_seconds"], 1), _fmt(row["median_episodes"])]
            for ref_id in refs:
                ratio = row["ratios"].get(ref_id, {})
                cells += [_fmt_ratio(ratio, "steps"), _fmt_ratio(ratio, "seconds")]
            low, high = row.get("eval_iqm_ci") or (None, None)
            cells += [f"{_fmt(row['eval_mean'], 1)} ± {_fmt(row['eval_std'], 1)}",
                      f"{_fmt(row.get('eval_iqm'), 1)} [{_fmt(low, 1)}, {_fmt(high, 1)}]",
                      f"{row['eval_passed']}/{row['runs']}"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines[:-1]


def _criteria_line(report: dict[str, Any]) -> str:
    def describe(row: dict[str, Any]) -> str:
        stop = "then stop" if row["env_stop"] == "threshold" else "train to the cap"
        how = "deterministic" if row["eval_deterministic"] else "stochastic"
        return (f"{row['env']}: train {', '.join(row['criteria'])} ({stop}); "
                f"eval ({how}) {', '.join(row['eval_criteria'])}")

    return "Criteria: " + "; ".join(sorted({describe(row) for row in report["rows"]})) + "."


def _per_seed_table(report: dict[str, Any]) -> list[str]:
    seeds = _all_seeds(report)
    lines = ["Per seed (steps / seconds / episodes to threshold; final evaluation mean ± std):", "",
             "| run | env | " + " | ".join(f"seed {s}" for s in seeds) + " |",
             "|---|---|" + "|".join("---" for _ in seeds) + "|"]
    for row in report["rows"]:
        if row["skipped"]:
            continue
        by_seed = {s["seed"]: s for s in row["seeds"]}
        cells = []
        for seed in seeds:
            s = by_seed.get(seed)
            if s is None:
                cells.append("")
                continue
            got = (f"{s['steps']:,} / {s['seconds']:.1f} / {s['episodes']}" if s["reached"]
                   else f"not in {s['trained_steps']:,}")
            cells.append(f"{got}; {s['eval_mean']:.1f} ± {s['eval_std']:.1f}")
        lines.append(f"| {row['name']} | {row['env']} | " + " | ".join(cells) + " |")
    return lines


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: what was run where, the results table, the criteria, each seed."""
    lines = [*_preamble(report), *_results_table(report), "", _criteria_line(report), "", *_per_seed_table(report)]
    return "\n".join(lines) + "\n"


def _all_seeds(report: dict[str, Any]) -> list[int]:
    return sorted({s["seed"] for row in report["rows"] for s in row["seeds"]})


def write_report(report: dict[str, Any], out: str | Path) -> tuple[Path, Path]:
    """Write ``bench.md`` and ``bench.json`` into ``out``; returns their paths."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ZooError(f"--out {str(out)!r} is a file; give a folder")
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "bench.md", out / "bench.json"
    atomic_write_text(js, json.dumps(report, indent=2) + "\n")
    atomic_write_text(md, markdown(report))
    return md, js
