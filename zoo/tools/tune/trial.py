"""One trial, on whichever worker: train the proposed config on every seed, evaluate, report."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.exceptions import ZooError, one_line
from zoo.tools.tune.plan import TunePlan
from zoo.tools.tune.space import load_optuna
from zoo.tools.tune.study import HEARTBEAT, make_pruner, open_storage


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
    optuna = load_optuna()
    from zoo.factory import load_agent
    from zoo.scoring import evaluate, evaluation_seed
    from zoo.threads import limit_torch_threads
    from zoo.training.run_folder import remove_run
    from zoo.training.session import train

    limit_torch_threads(1)  # trials run side by side, one per core
    start = time.perf_counter()
    storage = open_storage(spec.storage)
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
                # A trial run again (its worker died) starts over; never over a folder another process holds.
                remove_run(run_dir)
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


def trial_spec(plan: TunePlan, trial: Any) -> TrialSpec:
    # study.ask(space) has sampled every parameter already.
    return TrialSpec(plan.study, plan.storage, trial._trial_id, trial.number, plan.agent, plan.env, dict(trial.params),
                     plan.seeds, plan.budget, plan.eval_every, plan.eval_episodes, plan.objective, plan.threshold,
                     str(plan.out.resolve()))
