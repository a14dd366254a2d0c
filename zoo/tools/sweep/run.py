"""Running a sweep: each run trains, evaluates its final checkpoint and writes ``result.json``
last, on whichever worker the execution layer (:mod:`zoo.execution`) gives it; the sweep folder
gets its tables at the end (:mod:`.report`), also when the sweep was stopped."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.exceptions import ZooError, one_line
from zoo.execution import Backend, Stopped, check_backend, default_workers, open_executor
from zoo.files import atomic_write_text, make_folders
from zoo.threads import limit_torch_threads
from zoo.tools.sweep.plan import RESULT_FILE, RUNS_DIR, RunSpec, SweepPlan, plan_sweep, read_result, result_path
from zoo.tools.sweep.report import write_tables

OnResult = Callable[[dict[str, Any], int, int], None]


# -- one run, on whichever worker ------------------------------------------------------------------
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
        run_dir.mkdir(parents=True)
        from zoo.factory import load_agent
        from zoo.scoring import evaluate, evaluation_seed
        from zoo.training.session import train

        trained = train(spec.agent, spec.env, seed=spec.seed, steps=spec.train_steps, out=run_dir,
                        overrides=dict(spec.setting), config_file=spec.config_file, argv=train_argv(spec))
        if trained.interrupted:
            raise ZooError("interrupted before the end of its budget; rerun the sweep to redo it")
        policy = load_agent(trained.checkpoint)
        evaluated = evaluate(policy, spec.env, episodes=spec.eval_episodes, seed=evaluation_seed(spec.seed))
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
    """For a run whose worker never returned (lost, or stopped): the failure is kept with the
    run, best effort. Where it ran is unknown here (the driver writes this), so ``node`` is None."""
    result = {**failed_result(spec, error), "host": None, "node": None}
    try:
        write_result(spec, result)
    except OSError:
        pass
    return result


def is_done(spec: RunSpec, stored: Mapping[str, Any] | None) -> bool:
    """Whether ``stored`` is a successful result of this very run, evaluated by the zoo's rule
    (:func:`zoo.scoring.evaluation_seed`): a run of a sweep made before the rule is redone."""
    from zoo.scoring import evaluation_seed

    return (stored is not None and stored.get("status") == "ok" and spec.matches(stored)
            and (stored.get("eval") or {}).get("seed") == evaluation_seed(spec.seed))


# -- the sweep -------------------------------------------------------------------------------------
@dataclass
class SweepOutcome:
    out: Path
    results: list[dict[str, Any]]
    skipped: int
    tables: dict[str, Path] = field(default_factory=dict)
    #: The signal that stopped the sweep early (Ctrl-C, SIGTERM), if one did: the runs it did
    #: not start have no result, and a rerun with the same ``out`` does them.
    stopped: Stopped | None = None

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
    see docs/sweep.md). ``on_result(result, done, total)`` is called as each run finishes.
    ``retries``: how often a run whose worker (or Ray node) died is run again before it is
    recorded as failed (default 1). Ctrl-C and SIGTERM follow the policy of :mod:`zoo.execution`:
    the outcome's ``stopped`` says which stopped the sweep. ``on_start(n)`` is called once the
    sweep folder exists and the backend is reached, with the number of runs to do: nothing is
    written before, so a sweep that cannot start leaves nothing.
    """
    check_backend(backend, workers=workers, address=address, runtime_env=runtime_env, retries=retries)
    results: dict[str, dict[str, Any]] = {}
    todo = []
    for spec in plan.runs:
        stored = read_result(spec)
        if is_done(spec, stored):
            results[spec.run_id] = stored
        else:
            todo.append(spec)
    skipped = len(results)
    if backend == "local":
        workers = min(workers or default_workers(), max(1, len(todo)))
    # Connected before anything is written: a cluster that cannot be reached leaves no sweep folder.
    executing = open_executor(backend, workers=workers, address=address, runtime_env=runtime_env,
                              retries=retries) if todo else contextlib.nullcontext()
    stopped = None
    with executing as executor:
        try:
            make_folders(plan.out / RUNS_DIR)
        except OSError as exc:
            raise ZooError(f"cannot create the sweep folder {str(plan.out)!r} ({exc.strerror or one_line(exc)}); "
                           "choose an --out you can write") from None
        if on_start is not None:
            on_start(len(todo))
        for spec in todo:  # unfinished or failed: redone from scratch
            shutil.rmtree(spec.run_dir, ignore_errors=True)

        def done(spec: RunSpec, result: dict[str, Any]) -> None:
            results[spec.run_id] = result
            if on_result is not None:
                on_result(result, len(results), len(plan.runs))

        queue = iter(todo)
        try:
            if todo:
                stopped = executor.run(execute_run, lambda: next(queue, None), done,
                                       lambda spec, reason: done(spec, record_failure(spec, reason)))
        finally:
            ordered = [results[s.run_id] for s in plan.runs if s.run_id in results]
            tables = write_tables(plan.out, ordered)
    return SweepOutcome(plan.out, ordered, skipped, tables, stopped)


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
