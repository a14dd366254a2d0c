"""The driver: asks the study for trials as workers come free, runs them on the execution layer
(:mod:`zoo.execution`), tells the study their values, then writes the outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.execution import Backend, Stopped, open_executor
from zoo.tools.tune.outputs import write_outputs
from zoo.tools.tune.plan import TunePlan
from zoo.tools.tune.space import load_optuna
from zoo.tools.tune.study import open_study
from zoo.tools.tune.trial import TrialSpec, run_trial, trial_spec

OnTrial = Callable[[dict[str, Any]], None]


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
    optuna = load_optuna()
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
        return trial_spec(plan, trial)

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
