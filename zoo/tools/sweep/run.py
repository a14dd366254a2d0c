"""Running a sweep: each run trains, evaluates its final checkpoint and writes ``result.json``
last, on whichever worker the execution layer (:mod:`zoo.execution`) gives it; the sweep folder
gets its tables at the end (:mod:`.report`), also when the sweep was stopped."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.exceptions import ZooError, one_line
from zoo.execution import Backend, Stopped, check_backend, default_workers, open_executor
from zoo.files import atomic_write_text, make_folders
from zoo.threads import limit_torch_threads
from zoo.tools.sweep.plan import (
    LOCKS_DIR,
    RESULT_FILE,
    RUNS_DIR,
    RunSpec,
    SweepPlan,
    plan_sweep,
    read_result,
    result_path,
)
from zoo.tools.sweep.report import write_tables
from zoo.training.run_folder import LOCK_FILE, lock, remove_run

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


def execute_run(spec: RunSpec, *, wait: bool = False) -> dict[str, Any]:
    """Train, evaluate the final checkpoint, and write ``result.json`` last. Never raises for a
    failing run: the error becomes the result, so one bad run cannot stop a sweep.

    The run is held (:func:`holding`) from start to end, so that two sweeps on one ``--out`` never
    do it at once: one held by another process (or whose folder another process trains into) is
    left alone, its result ``{"status": "held"}`` (not written), or with ``wait`` waited for. A run
    another sweep finished meanwhile is not done again: its stored result is the result."""
    # Runs already go side by side, one per core: more intra-op threads would only fight
    # over the same cores (and change float results).
    limit_torch_threads(1)
    start = time.perf_counter()
    try:
        with holding(spec, wait=wait) as held:
            if not held:
                return held_result(spec)
            stored = read_result(spec)
            if is_done(spec, stored):
                return stored
            if stored is not None and not spec.matches(stored):  # another sweep's: not ours to replace
                return failed_result(spec, f"{spec.run_dir!r} holds a run of another sweep; choose another --out")
            return _train_and_evaluate(spec, start)
    except OSError as exc:  # the lock cannot be made: nothing of the run was touched
        return failed_result(spec, f"cannot hold the run: {one_line(exc)}", time.perf_counter() - start)


def execute_held_run(spec: RunSpec) -> dict[str, Any]:
    """:func:`execute_run`, waiting for the run if another process holds it."""
    return execute_run(spec, wait=True)


def _train_and_evaluate(spec: RunSpec, start: float) -> dict[str, Any]:
    run_dir = Path(spec.run_dir)
    try:
        remove_run(run_dir)  # a run that never finished (or failed): start it over
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
    except Exception as exc:  # recorded, not raised: see execute_run
        result = failed_result(spec, one_line(exc), time.perf_counter() - start)
    try:
        write_result(spec, result)
    except OSError as exc:
        result = failed_result(spec, f"cannot write {RESULT_FILE}: {one_line(exc)}", time.perf_counter() - start)
    return result


HELD = "held"
#: Seconds between looks at a run another process holds.
HELD_POLL_SECONDS = 0.5


def held_result(spec: RunSpec) -> dict[str, Any]:
    """What a worker answers for a run another process holds: not a result, never written."""
    return {"run_id": spec.run_id, "status": HELD}


def lock_path(spec: RunSpec) -> Path:
    """``OUT/.locks/RUN.lock``: held by the process doing the run, from its start to its result.
    (Beside the run folder, which is removed and made again; never removed itself, since a lock
    on a removed file holds nothing.)"""
    run_dir = Path(spec.run_dir)
    return run_dir.parent.parent / LOCKS_DIR / f"{run_dir.name}.lock"


@contextlib.contextmanager
def holding(spec: RunSpec, *, wait: bool = False) -> Iterator[bool]:
    """Hold the run: its lock, and its run folder free of any other process (one that trains
    into it, e.g. a ``zoo train --resume`` of it). Yields False if another process holds either
    (without ``wait``); a process that dies lets go of both."""
    path = lock_path(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as lock_file:
        while not (_try_lock(lock_file) and _folder_free(Path(spec.run_dir), lock_file)):
            if not wait:
                yield False
                return
            time.sleep(HELD_POLL_SECONDS)
        yield True  # the lock is let go when the file closes


def _try_lock(lock_file: Any) -> bool:
    try:
        import fcntl
    except ImportError:  # not POSIX: no locks, as for run folders
        return True
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _folder_free(run_dir: Path, lock_file: Any) -> bool:
    """Whether no other process holds the run folder's own lock; if one does, the run's lock is
    let go again (to be taken again once the folder is free)."""
    if not (run_dir / LOCK_FILE).exists():
        return True
    try:
        lock(run_dir).close()
    except ZooError:
        _unlock(lock_file)
        return False
    return True


def _unlock(lock_file: Any) -> None:
    with contextlib.suppress(ImportError, OSError):
        import fcntl

        fcntl.flock(lock_file, fcntl.LOCK_UN)


def write_result(spec: RunSpec, result: Mapping[str, Any]) -> None:
    """Atomically, so a result file is either complete or absent."""
    Path(spec.run_dir).mkdir(parents=True, exist_ok=True)
    atomic_write_text(result_path(spec), json.dumps(result, indent=2, sort_keys=True) + "\n")


def record_failure(spec: RunSpec, error: str) -> dict[str, Any]:
    """For a run whose worker never returned (lost, or stopped): the failure is kept with the
    run, best effort, unless another process holds the run (its result is that process's to
    write). Where it ran is unknown here (the driver writes this), so ``node`` is None."""
    result = {**failed_result(spec, error), "host": None, "node": None}
    try:
        with holding(spec) as held:
            if held:
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
              on_start: Callable[[int], None] | None = None,
              on_held: Callable[[RunSpec], None] | None = None) -> SweepOutcome:
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

    Several sweeps may share an ``out``: each run is done by whichever takes it first (see
    :func:`execute_run`). A run another process holds is left for last (``on_held(spec)`` is
    called), then waited for; its result is then the other process's, or, if that one failed
    or died, this sweep does it again.
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
    held: list[RunSpec] = []
    with executing as executor:
        try:
            make_folders(plan.out / RUNS_DIR)
        except OSError as exc:
            raise ZooError(f"cannot create the sweep folder {str(plan.out)!r} ({exc.strerror or one_line(exc)}); "
                           "choose an --out you can write") from None
        if on_start is not None:
            on_start(len(todo))

        def done(spec: RunSpec, result: dict[str, Any]) -> None:
            if result.get("status") == HELD:  # another process's, for now: done last
                held.append(spec)
                if on_held is not None:
                    on_held(spec)
                return
            results[spec.run_id] = result
            if on_result is not None:
                on_result(result, len(results), len(plan.runs))

        def lost(spec: RunSpec, reason: str) -> None:
            done(spec, record_failure(spec, reason))

        try:
            # First every run nobody else holds, then those others held, waiting for each.
            for function, runs in ((execute_run, todo), (execute_held_run, held)):
                queue = iter(list(runs))
                if stopped is None and runs:
                    stopped = executor.run(function, lambda queue=queue: next(queue, None), done, lost)
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
