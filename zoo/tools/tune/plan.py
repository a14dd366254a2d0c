"""Planning a study: what the user asked for, checked before anything is written or started."""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from zoo.entries import EnvEntry
from zoo.exceptions import ZooError
from zoo.limits import check_count, check_seed, shown
from zoo.tools.tune.space import search_space, smallest_budgets

Objective = Literal["mean-return", "steps-to-threshold"]
OBJECTIVES = ("mean-return", "steps-to-threshold")
#: Most seeds a trial trains (one after another): more is a typo, and each is a training run.
MAX_SEEDS = 1_000
#: Longest study name: the column Optuna's storages keep it in.
MAX_STUDY_NAME = 512
#: The default storage's file, in the output folder.
DEFAULT_DB = "study.db"
#: In the output folder: the study whose trials it holds.
OUT_FILE = "tune.json"


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
    """Check everything the user asked for before anything is written or started: each number
    against the zoo's ranges (:mod:`zoo.limits`), the options against each other, the agent's
    search space, the storage URL, and that ``out`` holds no other study's trials."""
    from zoo.factory import agent_entry, env_entry, make_agent

    check_count(trials, "--trials")
    check_count(seeds, "--seeds", maximum=MAX_SEEDS)
    check_count(eval_episodes, "--eval-episodes")
    if budget is not None:
        check_count(budget, "--budget")
    if eval_every is not None:
        check_count(eval_every, "--eval-every")
    check_seed(sampler_seed, "--sampler-seed")
    if objective not in OBJECTIVES:
        raise ZooError(f"--objective must be one of {', '.join(OBJECTIVES)}, got {shown(objective)}")
    if threshold is not None:
        threshold = _checked_threshold(threshold, objective)
    if study is not None:
        check_study_name(study)
    agent_e, env_e = agent_entry(agent), env_entry(env)
    probe = make_agent(agent_e.name, env_e.name)
    if not probe.learns:
        raise ZooError(f"agent {agent_e.name!r} does not learn: there is nothing to tune")
    space = search_space(agent_e.name, env_e.name)
    if budget is None:
        default = probe.default_budget(env_e)
        if "steps" not in default:
            raise ZooError(f"agent {agent_e.name!r} has no step budget for {env_e.gym_id}: pass --budget STEPS")
        budget = check_count(int(default["steps"]), "the agent's default budget")
        source = "the agent's default budget of steps"
    else:
        source = "--budget"
    if eval_every is None:
        eval_every = max(1, budget // 5)
    elif eval_every > budget:
        raise ZooError(f"--eval-every {eval_every:,} is past the budget of {budget:,} env steps: a trial would "
                       "never be evaluated while it trains (what the pruner and steps-to-threshold see); "
                       f"give at most {budget:,}")
    if objective == "steps-to-threshold" and threshold is None:
        threshold = env_e.solved_threshold
        if threshold is None:
            raise ZooError(f"env {env_e.gym_id} declares no reward threshold: pass --threshold R")
    check_trials_train(agent_e.name, env_e, space, budget, source)
    out = Path(out) if out is not None else default_out(agent_e.name, env_e.gym_id)
    check_out_folder(out)
    study_name = study or f"{agent_e.name}__{env_e.gym_id}"
    storage_url = checked_storage(storage) if storage is not None else default_storage(out)
    check_out_holds(out, study_name, storage_url)
    return TunePlan(agent_e.name, env_e.name, trials, budget, tuple(range(seeds)), eval_every, eval_episodes,
                    objective, threshold, storage_url, study_name, out, sampler_seed, space)


def check_trials_train(agent: str, env: EnvEntry, space: dict[str, Any], budget: int, source: str) -> None:
    """Refuse (:class:`zoo.BudgetTooSmall`), before any trial runs, a trial budget below what some
    values of the search space need to update once: those trials would fail at their start. The
    rule is ``zoo train``'s (:meth:`zoo.training.budget.Budget.check_trains`); the message names
    the values and the smallest budget that fits them all."""
    from zoo.training.budget import Budget

    needs = smallest_budgets(agent, env.name, space)
    if not needs:
        return
    worst = max(m for m, _ in needs)
    if worst <= budget:
        return
    # Name the values every trial with which would fail; else the most demanding combination.
    needed: dict[tuple[str, str], int] = {}
    for m, values in needs:
        for name, value in values.items():
            needed[name, str(value)] = min(m, needed.get((name, str(value)), m))
    named: dict[str, list[str]] = {}
    for (name, value), least in needed.items():
        if least > budget:
            named.setdefault(name, []).append(value)
    shown_values = ", ".join(f"{name}={' or '.join(values)}" for name, values in named.items()) or ", ".join(
        f"{name}={value}" for name, value in next(v for m, v in needs if m == worst).items())
    what = f"a trial of {agent} on {env.gym_id}"
    what += f" with {shown_values} (from its search space)" if shown_values else " (its defaults, any sampled values)"
    Budget(steps=budget).check_trains(worst, what, source, flag="--budget")


def _checked_threshold(threshold: Any, objective: str) -> float:
    if objective != "steps-to-threshold":
        raise ZooError("--threshold is for --objective steps-to-threshold; the objective mean-return has no "
                       "threshold (drop --threshold, or add --objective steps-to-threshold)")
    try:
        value = float(threshold) if isinstance(threshold, numbers.Real) and not isinstance(threshold, bool) else None
    except OverflowError:  # an int past any float
        value = None
    if value is None or not math.isfinite(value):
        raise ZooError(f"--threshold must be a finite number (a return to reach), got {shown(threshold)}")
    return value


def check_study_name(name: Any) -> str:
    """A study name Optuna's storages keep: 1 to :data:`MAX_STUDY_NAME` characters of text."""
    if (not isinstance(name, str) or not 1 <= len(name) <= MAX_STUDY_NAME
            or any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in name)):
        raise ZooError(f"--study must be a name of 1 to {MAX_STUDY_NAME} characters, without control characters "
                       f"or bytes that are not text, got {shown(name)}")
    return name


def default_storage(out: Path) -> str:
    """The default storage: SQLite, ``study.db`` in the output folder."""
    return f"sqlite:///{(out / DEFAULT_DB).resolve()}"


def checked_storage(url: Any) -> str:
    """``--storage`` as an Optuna RDB URL; a relative SQLite path made absolute (workers may run
    elsewhere: a Ray node has another working folder); an in-memory database, which no worker
    could see, refused."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError, TypeError):
        raise ZooError(f"--storage must be a database URL such as sqlite:///study.db or "
                       f"postgresql://user@host/db, got {shown(url)}") from None
    if parsed.get_backend_name() != "sqlite":
        return url
    if parsed.database in (None, "", ":memory:") or parsed.database.startswith("file::memory:"):
        raise ZooError(f"--storage {shown(url)} is an in-memory database, which the trials' worker processes "
                       "cannot see; give a file, e.g. sqlite:///study.db")
    if parsed.database.startswith("file:") or Path(parsed.database).is_absolute():
        return url
    return parsed.set(database=str(Path(parsed.database).resolve())).render_as_string(hide_password=False)


def check_out_folder(out: Path) -> None:
    """``out`` is a folder, or can become one: the nearest part of it that exists is a folder."""
    if out.exists() and not out.is_dir():
        raise ZooError(f"--out {str(out)!r} is a file; give a folder")
    existing = next((p for p in (out, *out.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ZooError(f"--out {str(out)!r} is under {str(existing)!r}, which is a file; give a folder")


def storage_label(url: str, out: Path) -> str:
    """How an output folder names the storage of its study: ``study.db`` for the default (so the
    folder can move), else the URL without its password."""
    from sqlalchemy.engine import make_url

    if url == default_storage(out):
        return DEFAULT_DB
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 -- checked already; a label is only a label
        return url


def read_out_holds(out: Path) -> dict[str, str] | None:
    """The study an output folder holds the trials of (``tune.json``), if it says."""
    path = out / OUT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise ZooError(f"{str(path)!r} is not the JSON zoo tune writes (the study this folder holds); "
                       "choose another --out") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("study", "storage")):
        raise ZooError(f"{str(path)!r} does not name the study this folder holds; choose another --out")
    return {"study": data["study"], "storage": data["storage"]}


def check_out_holds(out: Path, study: str, storage: str) -> None:
    """Refuse an output folder holding another study's trials: trial folders are numbered by
    the study, so a second study's trial 0 would replace the first's."""
    holds = read_out_holds(out)
    mine = {"study": study, "storage": storage_label(storage, out)}
    if holds is not None and holds != mine:
        raise ZooError(f"--out {str(out)!r} holds the trials of study {shown(holds['study'])} in "
                       f"{shown(holds['storage'])}, not of study {study!r} in {mine['storage']}; choose another "
                       "--out (or the same --storage and --study)")

