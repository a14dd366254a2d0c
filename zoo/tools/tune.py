"""Hyperparameter search with Optuna: ``zoo tune AGENT ENV --trials N``.

The zoo does not search by itself: an Optuna study (TPE sampler, median pruner) proposes
hyperparameters, the zoo trains and evaluates them, and the study keeps score in a database, so
a study continues where it stopped and several machines can share it.

* **The space is data.** Each agent declares it in its defaults file, next to its per-env
  defaults: ``[AGENT.search]`` for every env and ``[AGENT."Env-v0".search]`` where an env needs its
  own (``Agent.search_space``; checked by :func:`search_space`).
* **A trial** trains the proposed config on ``seeds`` seeds for ``budget`` env steps each,
  evaluating every ``eval_every`` steps on separately seeded envs (the training loop's own
  evaluation); the pruner sees those evaluations and stops hopeless trials early. Its value is
  the mean final evaluation return over the seeds, or the env steps to reach a threshold.
* **The driver** asks the study for a trial whenever a worker is free, runs it on the execution
  layer (:mod:`zoo.execution`: worker processes or Ray tasks, one failure policy) and tells the
  study its value: the same driver for both backends, so with one worker and the same sampler
  seed both propose the same trials. A trial whose worker died is run again once, then failed;
  Ctrl-C stops asking and lets running trials finish, a second one (or SIGTERM) stops them and
  marks them failed. A trial whose driver died is failed by its missing heartbeats.
"""

from __future__ import annotations

import csv
import io
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from zoo.exceptions import ZooError, one_line
from zoo.execution import Backend, Stopped, open_executor
from zoo.files import atomic_write_text

Objective = Literal["mean-return", "steps-to-threshold"]
OBJECTIVES = ("mean-return", "steps-to-threshold")
#: Seconds between a worker's heartbeats; a trial silent for GRACE seconds is failed.
HEARTBEAT, GRACE = 20, 120
OnTrial = Callable[[dict[str, Any]], None]


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ZooError("zoo tune needs Optuna: pip install optuna (the project's tune extra: "
                       "pip install -e '.[tune]' in a checkout)") from None
    import warnings

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats (for trials whose process dies) and the matplotlib plots are marked experimental;
    # the zoo drives heartbeats itself, since its trials run on workers, not in Study.optimize.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used with Study.optimize")
    return optuna


# -- the search space, as data ---------------------------------------------------------------------
def _distribution(name: str, spec: Any, annotation: Any, where: str) -> Any:
    """One parameter's Optuna distribution, from ``{low, high[, log][, step]}`` or ``{choices}``."""
    import typing

    optuna = _optuna()
    dists = optuna.distributions
    if not isinstance(spec, Mapping) or not ({"choices"} <= set(spec) or {"low", "high"} <= set(spec)):
        raise ZooError(f"{where}: {name} must be {{ low = A, high = B[, log = true][, step = S] }} or "
                       f"{{ choices = [...] }}, got {spec!r}")
    if "choices" in spec:
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise ZooError(f"{where}: {name} has no choices; list at least one")
        # Optuna's choices are scalars: a list value is written as --set spells it (64,64).
        return dists.CategoricalDistribution([",".join(map(str, c)) if isinstance(c, list) else c for c in choices])
    low, high, log, step = spec["low"], spec["high"], bool(spec.get("log", False)), spec.get("step")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
        raise ZooError(f"{where}: {name}'s low and high must be numbers, got {low!r} and {high!r}")
    if not low < high:
        raise ZooError(f"{where}: {name}'s range [{low}, {high}] is empty; low must be below high")
    if log and low <= 0:
        raise ZooError(f"{where}: {name} is searched on a log scale, so low must be above 0, got {low}")
    origin = typing.get_origin(annotation)
    numeric = annotation if origin is None else next((a for a in typing.get_args(annotation) if a in (int, float)),
                                                    None)
    if numeric is int:
        return dists.IntDistribution(int(low), int(high), log=log, step=int(step or 1))
    if numeric is float:
        return dists.FloatDistribution(float(low), float(high), log=log, step=None if step is None else float(step))
    raise ZooError(f"{where}: {name} is not a number, so it takes {{ choices = [...] }}, not a range")


def search_space(agent: str, env: str) -> dict[str, Any]:
    """The agent's search space for ``env``: name -> Optuna distribution, checked against the
    agent's config (an unknown or renamed name, an empty range: one line)."""
    from zoo.config import field_types, unknown_key_message
    from zoo.factory import agent_entry, env_entry, load_agent_class

    agent_e, env_e = agent_entry(agent), env_entry(env)
    cls = load_agent_class(agent_e)
    raw = cls.search_space(env_e)
    where = f"the search space of agent {agent_e.name!r} for {env_e.gym_id}"
    if not raw:
        raise ZooError(f"agent {agent_e.name!r} declares no search space for {env_e.gym_id} (Agent.search_space: "
                       "a [KEY.search] table in its defaults file), so zoo tune has nothing to search")
    types = field_types(cls.Config)
    space = {}
    for name, spec in raw.items():
        if name not in types:
            renamed = getattr(cls, "renamed_hyperparameters", {})
            raise ZooError(f"{where}: {unknown_key_message(name, types, renamed)}")
        space[name] = _distribution(name, spec, types[name], where)
    return space


# -- one trial, on whichever worker -----------------------------------------------------------------
@dataclass(frozen=True)
class TrialSpec:
    """Everything a worker needs to run one trial: plain data, so it travels to any process."""

    study: str
    storage: str
    trial_id: int
    number: int
    agent: str
    env: str
    params: dict[str, Any]
    seeds: tuple[int, ...]
    budget: int
    eval_every: int
    eval_episodes: int
    objective: str
    threshold: float | None
    out: str


@contextmanager
def _heartbeat(storage: Any, trial_id: int) -> Iterator[None]:
    """Tell the study every HEARTBEAT seconds that this trial is alive."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT):
            storage.record_heartbeat(trial_id)

    storage.record_heartbeat(trial_id)
    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def steps_to_threshold(timesteps: list[int], means: list[float], threshold: float, budget: int) -> float:
    """The first evaluated env step whose mean return reaches ``threshold``; ``2 × budget`` when
    none does (worse than any run that reaches it, and the same for every such run)."""
    for step, mean in zip(timesteps, means):
        if mean >= threshold:
            return float(step)
    return float(2 * budget)


def run_trial(spec: TrialSpec) -> dict[str, Any]:
    """Train and evaluate one trial on every seed; never raises: the outcome says what happened."""
    optuna = _optuna()
    from zoo.factory import load_agent
    from zoo.scoring import evaluate, evaluation_seed
    from zoo.threads import limit_torch_threads
    from zoo.training.session import train

    limit_torch_threads(1)  # trials run side by side, one per core
    start = time.perf_counter()
    storage = _storage(spec.storage)
    study = optuna.load_study(study_name=spec.study, storage=storage, pruner=make_pruner(spec.eval_every))
    trial = optuna.trial.Trial(study, spec.trial_id)
    values: list[float] = []
    try:
        with _heartbeat(storage, spec.trial_id):
            for index, seed in enumerate(spec.seeds):
                def report(progress: Any, index: int = index) -> None:
                    if progress.evaluation is None:
                        return
                    # Seeds run one after another: steps count on, so every trial reports at the same steps.
                    trial.report(progress.evaluation["eval/mean_reward"], index * spec.budget + progress.env_steps)
                    if spec.objective == "mean-return" and trial.should_prune():
                        raise optuna.TrialPruned()

                run_dir = Path(spec.out) / "trials" / f"trial-{spec.number:04d}" / f"seed-{seed}"
                shutil.rmtree(run_dir, ignore_errors=True)  # a trial run again (its worker died) starts over
                result = train(spec.agent, spec.env, seed=seed, steps=spec.budget, out=run_dir,
                               overrides=spec.params, eval_every=spec.eval_every, eval_episodes=spec.eval_episodes,
                               checkpoint_every=3600, progress=report)
                if result.interrupted:
                    raise ZooError("interrupted before the end of its budget")
                if spec.objective == "mean-return":
                    final = evaluate(load_agent(result.checkpoint), spec.env, episodes=spec.eval_episodes,
                                     seed=evaluation_seed(seed))
                    values.append(final.mean)
                else:
                    import numpy as np

                    history = np.load(run_dir / "evaluations.npz")
                    values.append(steps_to_threshold([int(t) for t in history["timesteps"]],
                                                     [float(r) for r in history["results"].mean(axis=1)],
                                                     spec.threshold, spec.budget))
    except optuna.TrialPruned:
        return {"number": spec.number, "state": "pruned", "value": None, "seconds": time.perf_counter() - start}
    except Exception as exc:  # recorded with the trial, not raised: one bad config must not end a study
        return {"number": spec.number, "state": "failed", "value": None, "error": one_line(exc),
                "seconds": time.perf_counter() - start}
    return {"number": spec.number, "state": "complete", "value": sum(values) / len(values), "values": values,
            "seconds": time.perf_counter() - start}


# -- the driver ----------------------------------------------------------------------------------
@dataclass
class TunePlan:
    agent: str
    env: str
    trials: int
    budget: int
    seeds: tuple[int, ...]
    eval_every: int
    eval_episodes: int
    objective: Objective
    threshold: float | None
    storage: str
    study: str
    out: Path
    sampler_seed: int
    space: dict[str, Any] = field(default_factory=dict)


def default_out(agent: str, gym_id: str) -> Path:
    return Path("tunes") / f"{agent}__{gym_id.replace('/', '-')}__{datetime.now():%Y%m%d-%H%M%S}"


def plan_tune(agent: str, env: str, *, trials: int, budget: int | None = None, seeds: int = 2,
              eval_every: int | None = None, eval_episodes: int = 10, objective: str = "mean-return",
              threshold: float | None = None, storage: str | None = None, study: str | None = None,
              out: str | Path | None = None, sampler_seed: int = 0) -> TunePlan:
    """Check everything the user asked for before anything is written or started."""
    from zoo.factory import agent_entry, env_entry, make_agent

    agent_e, env_e = agent_entry(agent), env_entry(env)
    for flag, value, least in (("--trials", trials, 1), ("--seeds", seeds, 1), ("--eval-episodes", eval_episodes, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ZooError(f"{flag} must be a whole number of at least {least}, got {value!r}")
    if objective not in OBJECTIVES:
        raise ZooError(f"--objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    probe = make_agent(agent_e.name, env_e.name)
    if not probe.learns:
        raise ZooError(f"agent {agent_e.name!r} does not learn: there is nothing to tune")
    space = search_space(agent_e.name, env_e.name)
    if budget is None:
        default = probe.default_budget(env_e)
        if "steps" not in default:
            raise ZooError(f"agent {agent_e.name!r} has no step budget for {env_e.gym_id}: pass --budget STEPS")
        budget = int(default["steps"])
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ZooError(f"--budget must be a positive number of env steps, got {budget!r}")
    eval_every = eval_every or max(1, budget // 5)
    if objective == "steps-to-threshold":
        threshold = threshold if threshold is not None else env_e.solved_threshold
        if threshold is None:
            raise ZooError(f"env {env_e.gym_id} declares no reward threshold: pass --threshold R")
    out = Path(out) if out is not None else default_out(agent_e.name, env_e.gym_id)
    if out.exists() and not out.is_dir():
        raise ZooError(f"--out {str(out)!r} is a file; give a folder")
    study_name = study or f"{agent_e.name}__{env_e.gym_id}"
    storage_url = storage or f"sqlite:///{(out / 'study.db').resolve()}"
    return TunePlan(agent_e.name, env_e.name, trials, budget, tuple(range(seeds)), eval_every, eval_episodes,
                    objective, threshold, storage_url, study_name, out, sampler_seed, space)


def _storage(url: str) -> Any:
    return _optuna().storages.RDBStorage(url, heartbeat_interval=HEARTBEAT, grace_period=GRACE)


def make_pruner(eval_every: int) -> Any:
    """Median pruning once five trials are done, never before a trial's first evaluation."""
    return _optuna().pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=eval_every)


def open_study(plan: TunePlan) -> Any:
    """The plan's study, created or continued; an unreachable storage is one line."""
    optuna = _optuna()
    try:
        storage = _storage(plan.storage)
    except Exception as exc:  # sqlalchemy's many errors for a bad URL or an unreachable server
        raise ZooError(f"cannot open the study storage {plan.storage!r}: {one_line(exc)}") from None
    direction = "maximize" if plan.objective == "mean-return" else "minimize"
    study = optuna.create_study(
        study_name=plan.study, storage=storage, load_if_exists=True, direction=direction,
        sampler=optuna.samplers.TPESampler(seed=plan.sampler_seed), pruner=make_pruner(plan.eval_every))
    if study.direction.name.lower() != direction:
        raise ZooError(f"study {plan.study!r} in {plan.storage} {study.direction.name.lower()}s its value; "
                       f"--objective {plan.objective} {direction}s: use another --study")
    optuna.storages.fail_stale_trials(study)  # trials whose process died while nobody was watching
    return study


def _spec(plan: TunePlan, trial: Any) -> TrialSpec:
    # study.ask(space) has sampled every parameter already.
    return TrialSpec(plan.study, plan.storage, trial._trial_id, trial.number, plan.agent, plan.env, dict(trial.params),
                     plan.seeds, plan.budget, plan.eval_every, plan.eval_episodes, plan.objective, plan.threshold,
                     str(plan.out.resolve()))


@dataclass
class TuneOutcome:
    study: Any
    finished: list[dict[str, Any]]
    interrupted: bool
    files: dict[str, Path]
    #: The signal that stopped the study early (Ctrl-C, SIGTERM), if one did.
    stopped: Stopped | None = None


def run_tune(plan: TunePlan, *, backend: Backend = "local", workers: int = 1, address: str | None = None,
             on_trial: OnTrial | None = None, on_start: Callable[[Any], None] | None = None,
             retries: int | None = None) -> TuneOutcome:
    """Run ``plan.trials`` more trials of the study, ``workers`` at a time; write the outputs.
    ``on_start(study)`` is called once the study is open, ``on_trial(outcome)`` after each trial.
    Failures, Ctrl-C and SIGTERM follow the policy of :mod:`zoo.execution` (``retries``: how often
    a trial whose worker died is run again)."""
    optuna = _optuna()
    states = {"complete": optuna.trial.TrialState.COMPLETE, "pruned": optuna.trial.TrialState.PRUNED,
              "failed": optuna.trial.TrialState.FAIL}
    sqlite = "sqlite:///"
    if plan.storage.startswith(sqlite) and Path(plan.storage[len(sqlite):]).parent == plan.out.resolve():
        # The default: the study's database lives in the output folder.
        plan.out.mkdir(parents=True, exist_ok=True)
    study = open_study(plan)  # another storage must answer before anything is written
    plan.out.mkdir(parents=True, exist_ok=True)
    if on_start is not None:
        on_start(study)
    trials: dict[int, Any] = {}
    finished: list[dict[str, Any]] = []

    def ask() -> TrialSpec | None:
        if len(trials) >= plan.trials:
            return None
        trial = study.ask(plan.space)
        trials[trial.number] = trial
        return _spec(plan, trial)

    def tell(spec: TrialSpec, outcome: dict[str, Any]) -> None:
        trial, state = trials[spec.number], states[outcome["state"]]
        study.tell(trial, outcome["value"] if state == optuna.trial.TrialState.COMPLETE else None, state=state)
        outcome["params"] = dict(trial.params)
        finished.append(outcome)
        if on_trial is not None:
            on_trial(outcome)

    def lost(spec: TrialSpec, reason: str) -> None:
        tell(spec, {"number": spec.number, "state": "failed", "value": None, "error": reason, "seconds": 0.0})

    with open_executor(backend, workers=workers, address=address, retries=retries) as executor:
        stopped = executor.run(run_trial, ask, tell, lost)
    files = write_outputs(plan, study)
    return TuneOutcome(study, finished, stopped is not None, files, stopped)


# -- outputs -------------------------------------------------------------------------------------
def toml_value(value: Any) -> str:
    """A config value (bool, number, string, or a tuple or list of them) as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def typed_params(agent: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The trial's values as the agent's config types them (``"64,64"`` -> ``(64, 64)``)."""
    from zoo.config import build_config, config_to_dict
    from zoo.factory import agent_entry, load_agent_class

    config = config_to_dict(build_config(load_agent_class(agent_entry(agent)).Config, params))
    return {name: config[name] for name in sorted(params)}


def best_config_toml(plan: TunePlan, best: Any) -> str:
    """The best trial as a config file ``zoo train --config`` reads."""
    lines = [f"# zoo tune: best of study {plan.study!r} (trial {best.number}, {plan.objective} {best.value:.4g})",
             f'agent = "{plan.agent}"', f'env = "{plan.env}"', f"budget = {{ steps = {plan.budget} }}", "",
             "[hyperparameters]"]
    lines += [f"{name} = {toml_value(value)}" for name, value in typed_params(plan.agent, best.params).items()]
    return "\n".join(lines) + "\n"


def defaults_table_toml(plan: TunePlan, best: Any, gym_id: str, key: str) -> str:
    """The best trial as a table to paste into the agent's defaults file."""
    lines = [f"# From zoo tune, study {plan.study!r}, trial {best.number} ({plan.objective} {best.value:.4g}).",
             f'[{key}."{gym_id}"]']
    lines += [f"{name} = {toml_value(value)}" for name, value in typed_params(plan.agent, best.params).items()]
    lines.append(f"budget = {{ steps = {plan.budget} }}")
    return "\n".join(lines) + "\n"


def trials_csv(study: Any, space: Mapping[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = sorted(space)
    writer.writerow(["number", "state", "value", "seconds", *names])
    for trial in study.trials:
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds() \
            if trial.datetime_complete and trial.datetime_start else ""
        writer.writerow([trial.number, trial.state.name.lower(), "" if trial.value is None else trial.value,
                         seconds, *(trial.params.get(name, "") for name in names)])
    return buffer.getvalue()


def write_outputs(plan: TunePlan, study: Any) -> dict[str, Path]:
    """trials.csv, best.toml (for ``zoo train --config``), best-defaults.toml (for the defaults
    file), history.png and importance.png (Optuna's matplotlib visualisation)."""
    optuna = _optuna()
    from zoo.factory import agent_entry, env_entry, load_agent_class
    from zoo.files import atomic_save_figure

    files = {"trials.csv": atomic_write_text(plan.out / "trials.csv", trials_csv(study, plan.space))}
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        return files
    best = study.best_trial
    key = load_agent_class(agent_entry(plan.agent)).defaults_key
    files["best.toml"] = atomic_write_text(plan.out / "best.toml", best_config_toml(plan, best))
    files["best-defaults.toml"] = atomic_write_text(plan.out / "best-defaults.toml",
                                                    defaults_table_toml(plan, best, env_entry(plan.env).gym_id, key))
    import matplotlib

    matplotlib.use("Agg")
    import warnings

    from optuna.visualization import matplotlib as plots

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        axes = plots.plot_optimization_history(study)
        files["history.png"] = atomic_save_figure(axes.figure, plan.out / "history.png")
        if len(complete) >= 2 and len(plan.space) >= 1:
            try:
                figure = whole_labels(plots.plot_param_importances(study).figure)
                files["importance.png"] = atomic_save_figure(figure, plan.out / "importance.png")
            except (RuntimeError, ValueError, ZeroDivisionError) as exc:  # e.g. every trial the same value
                atomic_write_text(plan.out / "importance.txt", f"no parameter importances: {one_line(exc)}\n")
    return files


def whole_labels(figure: Any) -> Any:
    """``figure`` laid out so that every label is inside it: Optuna's importance chart names
    each parameter left of its bar, where a fixed layout cut long names (``rning_rate``)."""
    figure.tight_layout()
    return figure


def summary(study: Any) -> dict[str, Any]:
    """Counts by state and the best trial, for the command line."""
    optuna = _optuna()
    counts: dict[str, int] = {}
    for trial in study.trials:
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = study.best_trial if complete else None
    return {"trials": counts, "best": None if best is None else
            {"number": best.number, "value": best.value, "params": best.params}}
