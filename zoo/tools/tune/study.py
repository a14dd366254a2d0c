"""The study: its storage, sampler and pruner, created or continued."""

from __future__ import annotations

from typing import Any

from zoo.exceptions import ZooError, one_line
from zoo.tools.tune.plan import TunePlan
from zoo.tools.tune.space import load_optuna

#: Seconds between a worker's heartbeats; a trial silent for GRACE seconds is failed.
HEARTBEAT, GRACE = 20, 120


def open_storage(url: str) -> Any:
    return load_optuna().storages.RDBStorage(url, heartbeat_interval=HEARTBEAT, grace_period=GRACE)


def make_pruner(eval_every: int) -> Any:
    """Median pruning once five trials are done, never before a trial's first evaluation."""
    return load_optuna().pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=eval_every)


def open_study(plan: TunePlan) -> Any:
    """The plan's study, created or continued; an unreachable storage is one line."""
    optuna = load_optuna()
    try:
        storage = open_storage(plan.storage)
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
