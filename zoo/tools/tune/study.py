"""The study: its storage, sampler and pruner, created or continued, and checked before any
trial runs.

A study is read from a database that something other than Optuna may have changed, so what is
read is checked as any file the zoo reads: every trial must load, name only hyperparameters the
agent has, hold values inside their distributions that make a config of the agent, and the
trials must be numbered 0..N-1 (their folders are named by number). A study that fails is refused
in one line, before anything is written to it.

A trial records which driver process asked for it (``zoo_driver``: host, process id and start
time). When a study is continued, a RUNNING trial whose driver is gone from this host is failed
at once; one from another host is failed once its heartbeats have stopped for ``GRACE`` seconds.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from typing import Any

from zoo.exceptions import ZooError, one_line
from zoo.limits import shown
from zoo.tools.tune.plan import TunePlan, storage_label
from zoo.tools.tune.space import load_optuna

#: Seconds between a worker's heartbeats; a trial silent for GRACE seconds is failed.
HEARTBEAT, GRACE = 20, 120
#: The trial's user attribute naming the driver that asked for it.
DRIVER_ATTR = "zoo_driver"
#: Seconds a process waits for another one's write to a SQLite storage (several drivers, workers).
SQLITE_TIMEOUT = 60


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite storage URL (None for another database)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 -- not for us to judge here: opening it will say
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def open_storage(url: str, *, existing: bool = False) -> Any:
    """Optuna's RDB storage at ``url``, with heartbeats. ``existing``: the database is there
    already and is only read until it has been checked (no tables are created in it)."""
    kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT}} if sqlite_path(url) is not None else {}
    return load_optuna().storages.RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=HEARTBEAT,
                                             grace_period=GRACE, skip_table_creation=existing)


def make_pruner(eval_every: int) -> Any:
    """Median pruning once five trials are done, never before a trial's first evaluation."""
    return load_optuna().pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=eval_every)


def make_sampler(plan: TunePlan) -> Any:
    """TPE, seeded per trial by ``--sampler-seed`` and the trial number (:mod:`.sampler`)."""
    load_optuna()
    from zoo.tools.tune.sampler import TrialSeededSampler

    return TrialSeededSampler(plan.sampler_seed)


def open_study(plan: TunePlan) -> Any:
    """The plan's study, created, or continued once checked (:func:`check_study`); the trials of
    drivers that died are failed. An unreachable storage, a study that cannot be read or that does
    not fit the plan is one line, and then nothing was written to the storage. A new SQLite file
    is made whole before it appears (:func:`create_sqlite_storage`): its folder must exist."""
    optuna = load_optuna()
    where = f"study {plan.study!r} in {storage_label(plan.storage, plan.out)}"
    path = sqlite_path(plan.storage)
    if path is not None and not path.exists():
        create_sqlite_storage(plan)
    existing = path is not None and path.stat().st_size > 0
    try:
        if existing:
            _check_versions_recorded(path)
        # An empty file (what a start interrupted by an older zoo left) gets its tables.
        storage = open_storage(plan.storage, existing=existing)
        exists = plan.study in {s.study_name for s in storage.get_all_studies()}
    except Exception as exc:  # sqlalchemy's many errors for a bad URL, an unreachable server, a damaged file
        raise ZooError(f"cannot open the study storage {storage_label(plan.storage, plan.out)!r}: "
                       f"{one_line(exc)}") from None
    direction = "maximize" if plan.objective == "mean-return" else "minimize"
    if not exists:
        try:
            return optuna.create_study(study_name=plan.study, storage=storage, direction=direction,
                                       sampler=make_sampler(plan), pruner=make_pruner(plan.eval_every))
        except optuna.exceptions.DuplicatedStudyError:
            pass  # another process created it just now: continue it
        except Exception as exc:
            raise ZooError(f"cannot create {where}: {one_line(exc)}") from None
    try:
        study = optuna.load_study(study_name=plan.study, storage=storage, sampler=make_sampler(plan),
                                  pruner=make_pruner(plan.eval_every))
        directions = [d.name.lower() for d in study.directions]
    except Exception as exc:
        raise ZooError(f"{where} cannot be read ({one_line(exc)}); use another --study or --storage") from None
    if directions != [direction]:
        theirs = f"{' and '.join(directions)}s its value" if directions else "has no direction"
        raise ZooError(f"{where} {theirs}; --objective {plan.objective} {direction}s: use another --study")
    check_study(study, storage, plan, where)
    fail_orphans(study)
    return study


def _check_versions_recorded(path: Path) -> None:
    """Read-only: the SQLite file records its schema's versions. Optuna, opening a database,
    writes any that are missing (``version_info``, ``alembic_version``), so a database whose
    rows were removed would be changed before it could be refused."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
        for table in ("version_info", "alembic_version"):
            if connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] != 1:
                raise ValueError(f"its table {table} does not hold one row; it was changed by something other "
                                 "than Optuna")


def create_sqlite_storage(plan: TunePlan) -> None:
    """A new SQLite storage holding the plan's study, made under a temporary name and linked into
    place whole: an interrupted start leaves no half-made database, and of two processes
    creating it at once, one's is kept and the other continues it."""
    optuna = load_optuna()
    path = sqlite_path(plan.storage)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    direction = "maximize" if plan.objective == "mean-return" else "minimize"
    try:
        storage = open_storage(f"sqlite:///{temporary}")
        optuna.create_study(study_name=plan.study, storage=storage, direction=direction)
        storage.engine.dispose()
        with contextlib.suppress(FileExistsError):  # made by another process meanwhile: use that one
            os.link(temporary, path)
    except ZooError:
        raise
    except Exception as exc:  # a folder that does not exist or cannot be written
        raise ZooError(f"cannot open the study storage {storage_label(plan.storage, plan.out)!r}: "
                       f"{one_line(exc)}") from None
    finally:
        for leftover in (temporary, temporary.with_name(temporary.name + "-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()


# -- checking a study that was read ----------------------------------------------------------------
def check_study(study: Any, storage: Any, plan: TunePlan, where: str) -> None:
    """Refuse, in one line naming the trial, a study this plan cannot continue (see the module)."""
    import math
    import numbers

    optuna = load_optuna()
    try:
        trials = study.get_trials(deepcopy=False)
    except Exception as exc:
        raise ZooError(f"{where} cannot be read: {_unreadable(storage, study, exc)}; it was changed by something "
                       "other than Optuna: use another --study or --storage") from None
    orphans = _orphan_rows(storage)
    if orphans:
        # SQLite hands a removed trial's id to the next trial, which would inherit these rows.
        raise ZooError(f"{where} holds rows of trials that no longer exist (in {orphans}); it was changed by "
                       "something other than Optuna: use another --study or --storage")
    from zoo.config import field_types
    from zoo.factory import agent_entry, load_agent_class
    from zoo.tools.tune.outputs import typed_params

    fields = field_types(load_agent_class(agent_entry(plan.agent)).Config)
    numbers_seen = sorted(t.number for t in trials)
    if numbers_seen != list(range(len(trials))):
        raise ZooError(f"{where}: its trials are not numbered 0 to {len(trials) - 1} (their folders are named by "
                       "number); use another --study or --storage")
    for trial in trials:
        at = f"{where}: trial {trial.number}"
        for name, dist in trial.distributions.items():
            value = trial.params[name]
            if name not in fields:
                raise ZooError(f"{at} has the parameter {shown(name)}, which agent {plan.agent!r} does not have; use "
                               "another --study or --storage")
            if not _inside(dist, value):
                raise ZooError(f"{at} holds {name} = {shown(value)}, outside its distribution {shown(dist)}; use "
                               "another --study or --storage")
            if name in plan.space:
                try:
                    optuna.distributions.check_distribution_compatibility(dist, plan.space[name])
                except ValueError:
                    raise ZooError(f"{at} searched {name} over {shown(dist)}, but the agent's space now searches "
                                   f"{shown(plan.space[name])}; use another --study") from None
        if trial.params:
            try:
                typed_params(plan.agent, trial.params)
            except ZooError as exc:
                raise ZooError(f"{at}'s parameters are not a config of agent {plan.agent!r} ({exc}); use another "
                               "--study or --storage") from None
        values = [*(trial.values or []), *trial.intermediate_values.values()]
        if any(isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v) for v in values):
            raise ZooError(f"{at} holds a value that is not a number; use another --study or --storage")


def _inside(dist: Any, value: Any) -> bool:
    """Whether ``value`` is one ``dist`` can give (Optuna checks this when it writes, not when it reads)."""
    import math
    import numbers

    if hasattr(dist, "choices"):
        return any(value is choice or (type(value) is type(choice) and value == choice) for choice in dist.choices)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return False
    return dist.low <= value <= dist.high


def _unreadable(storage: Any, study: Any, exc: Exception) -> str:
    """Which trial cannot be read, and why, as well as it can be told."""
    try:
        study_id = storage.get_study_id_from_name(study.study_name)
        number = 0
        while True:
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
            try:
                storage.get_trial(trial_id)
            except Exception as inner:  # noqa: BLE001 -- what is wrong with it is the message
                return f"trial {number}{_bad_parameter(storage, trial_id) or ''} ({_damage(inner)})"
            number += 1
    except Exception:  # noqa: BLE001 -- no trial to blame: the first error says it
        return _damage(exc)


#: The tables of Optuna's RDB schema whose rows belong to a trial.
TRIAL_TABLES = ("trial_params", "trial_values", "trial_intermediate_values", "trial_user_attributes",
                "trial_system_attributes", "trial_heartbeats")


def _orphan_rows(storage: Any) -> str | None:
    """The first of :data:`TRIAL_TABLES` holding rows of a trial id no trial has (None if none
    does, or the schema is not one these queries fit)."""
    from sqlalchemy import text

    try:
        with storage.engine.connect() as connection:
            for table in TRIAL_TABLES:
                query = text(f"SELECT 1 FROM {table} WHERE trial_id NOT IN (SELECT trial_id FROM trials) LIMIT 1")
                if connection.execute(query).first() is not None:
                    return table
    except Exception:  # noqa: BLE001 -- a schema of another Optuna: the other checks still apply
        return None
    return None


def _bad_parameter(storage: Any, trial_id: int) -> str | None:
    """``'s parameter 'x'``: the first of the trial's stored parameters Optuna cannot read back,
    from the rows of its RDB schema (None if none is, or the rows cannot be read)."""
    from sqlalchemy import text

    from_json = load_optuna().distributions.json_to_distribution
    try:
        with storage.engine.connect() as connection:
            rows = connection.execute(text("SELECT param_name, param_value, distribution_json FROM trial_params "
                                           "WHERE trial_id = :trial ORDER BY param_id"), {"trial": trial_id}).all()
    except Exception:  # noqa: BLE001 -- a schema of another Optuna: the trial is named all the same
        return None
    for name, value, distribution in rows:
        try:
            from_json(distribution).to_external_repr(value)
        except Exception:  # noqa: BLE001 -- this is the one
            return f"'s parameter {shown(name)}"
    return None


def _damage(exc: Exception) -> str:
    text = one_line(exc)
    return text if len(text) <= 160 else text[:157] + "..."


# -- trials whose driver died ----------------------------------------------------------------------
def driver_identity() -> dict[str, Any]:
    """This process, as a trial records its driver: host, process id, and the process's start
    (Linux: boot and start time), so that a reused process id is not taken for it."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": _started(os.getpid())}


def _started(pid: int) -> str | None:
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        ticks = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace").rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None
    return f"{boot}:{ticks}"


def driver_gone(driver: Any) -> bool:
    """Whether the driver a trial names is known to be gone: it ran on this host, and no process
    with its id (and start) is alive. A driver on another host is not known here."""
    if not isinstance(driver, dict) or driver.get("host") != socket.gethostname():
        return False
    pid = driver.get("pid")
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    started = driver.get("started")
    return started is not None and _started(pid) not in (None, started)


def fail_orphans(study: Any) -> list[int]:
    """Fail the study's RUNNING trials whose driver died: on this host at once, elsewhere when
    their heartbeats have stopped (Optuna's ``fail_stale_trials``). Returns the numbers failed here."""
    optuna = load_optuna()
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if driver_gone(trial.user_attrs.get(DRIVER_ATTR)):
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                study.tell(trial.number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
                failed.append(trial.number)
    optuna.storages.fail_stale_trials(study)
    return failed
