"""The driver: asks the study for trials as workers come free, runs them on the execution layer
(:mod:`zoo.execution`), tells the study their values, then writes the outputs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.exceptions import ZooError, one_line
from zoo.execution import Backend, Stopped, open_executor
from zoo.files import atomic_write_text, make_folders, remove_folders
from zoo.tools.tune.outputs import write_outputs
from zoo.tools.tune.plan import OUT_FILE, TunePlan, read_out_holds, storage_label
from zoo.tools.tune.space import load_optuna
from zoo.tools.tune.study import DRIVER_ATTR, driver_identity, open_study, sqlite_path
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

    @property
    def all_failed(self) -> bool:
        """Whether this run ran trials and every one failed (not one completed or was pruned)."""
        return bool(self.finished) and all(outcome["state"] == "failed" for outcome in self.finished)


def run_tune(plan: TunePlan, *, backend: Backend = "local", workers: int = 1, address: str | None = None,
             on_trial: OnTrial | None = None, on_start: Callable[[Any], None] | None = None,
             retries: int | None = None) -> TuneOutcome:
    """Run ``plan.trials`` more trials of the study, ``workers`` at a time; write the outputs.
    ``on_start(study)`` is called once the study is open, ``on_trial(outcome)`` after each trial.
    Failures, Ctrl-C and SIGTERM follow the policy of :mod:`zoo.execution` (``retries``: how often
    a trial whose worker died is run again). A start that fails or is interrupted before the
    first trial is asked for leaves nothing behind: no output folder, no new database."""
    optuna = load_optuna()
    states = {"complete": optuna.trial.TrialState.COMPLETE, "pruned": optuna.trial.TrialState.PRUNED,
              "failed": optuna.trial.TrialState.FAIL}
    # Ray is reached before anything is written: a cluster that cannot be reached leaves nothing.
    with open_executor(backend, workers=workers, address=address, retries=retries) as executor:
        with undone_unless_started(plan):
            study = open_study(plan)
            if read_out_holds(plan.out) is None:
                atomic_write_text(plan.out / OUT_FILE, json.dumps(
                    {"study": plan.study, "storage": storage_label(plan.storage, plan.out)}, indent=2) + "\n")
        if on_start is not None:
            on_start(study)
        trials: dict[int, Any] = {}
        finished: list[dict[str, Any]] = []
        driver = driver_identity()

        def ask() -> TrialSpec | None:
            if len(trials) >= plan.trials:
                return None
            trial = study.ask(plan.space)
            trial.set_user_attr(DRIVER_ATTR, driver)  # so that a rerun knows it is ours if we die
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

        stopped = executor.run(run_trial, ask, tell, lost)
    files = write_outputs(plan, study)
    return TuneOutcome(study, finished, stopped is not None, files, stopped)


@contextmanager
def undone_unless_started(plan: TunePlan) -> Iterator[None]:
    """Make the output folder; if what follows raises (a study refused, Ctrl-C), remove what was
    made: the folders, the ``tune.json``, and a SQLite storage this start created (unless some
    process has put a trial in it meanwhile)."""
    try:
        made = make_folders(plan.out)
    except OSError as exc:
        raise ZooError(f"cannot create the output folder {str(plan.out)!r} ({exc.strerror or one_line(exc)}); "
                       "choose an --out you can write") from None
    database = sqlite_path(plan.storage)
    had_database = database is not None and database.exists()
    had_holds = (plan.out / OUT_FILE).exists()
    try:
        yield
    except BaseException:
        if not had_holds:
            (plan.out / OUT_FILE).unlink(missing_ok=True)
        if database is not None and not had_database and database.exists() and not _holds_trials(plan.storage):
            database.unlink(missing_ok=True)
        remove_folders(made)
        raise


def _holds_trials(storage: str) -> bool:
    """Whether any study in the storage has a trial (True when that cannot be told)."""
    optuna = load_optuna()
    try:
        return any(s.n_trials for s in optuna.get_all_study_summaries(storage))
    except Exception:  # noqa: BLE001 -- when in doubt, keep it
        return True
