"""Chaos: ``zoo sweep`` and ``zoo tune`` drivers killed with SIGKILL or SIGTERM at random moments
(issue 23, items 10 and 11). Whatever the moment:

* nothing the driver started outlives it for more than a few seconds (its processes are found
  by a marker in their environment, wherever they moved: ``support.processes``);
* a second sweep started on the same ``--out`` meanwhile completes every run, exit 0;
* a rerun completes every run (a sweep) or continues the study with no trial left ``RUNNING``
  (a tune), and nothing already finished is lost: finished runs and trials keep their results
  and their folders.

The default run kills twice, at moments drawn from a fixed seed (repeatable in CI); the slow
profile (``pytest -m slow``) kills ten times as often at moments drawn at random, and prints
the seed to repeat it with ``ZOO_CHAOS_SEED``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import optuna
import pytest

SIGNALS = (signal.SIGKILL, signal.SIGTERM)
#: Short runs: a kill lands in start-up, training, evaluation or the tables about as often.
SWEEP = ["sweep", "--agents", "reinforce", "--envs", "cartpole", "--seeds", "0-3", "--train-steps", "6000",
         "--eval-episodes", "2", "--workers", "2"]
TUNE = ["tune", "reinforce", "cartpole", "--budget", "6000", "--seeds", "1", "--eval-every", "3000",
        "--eval-episodes", "1", "--trials", "3", "--workers", "2"]
RUN_IDS = [f"reinforce__cartpole__default__seed{seed}" for seed in range(4)]


def kill_at(driver, seconds: float, signum: int) -> None:
    """``signum`` to the driver ``seconds`` after now, unless it has ended by then."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and driver.process.poll() is None:
        time.sleep(0.05)
    if driver.process.poll() is None:
        os.kill(driver.pid, signum)
    driver.finish(timeout=300)


def assert_gone(driver) -> None:
    left = driver.wait_gone()
    assert not left, f"left behind by the driver:\n{driver.describe(left)}"


def sweep_results(out: Path) -> dict[str, dict]:
    """The run folders' own results (result.json), by run."""
    found = {}
    for run_id in RUN_IDS:
        path = out / "runs" / run_id / "result.json"
        if path.exists():
            found[run_id] = json.loads(path.read_text())
    return found


def assert_complete_sweep(out: Path, skipped_or_done: dict[str, dict]) -> None:
    runs = {r["run_id"]: r for r in json.loads((out / "results.json").read_text())["runs"]}
    assert sorted(runs) == RUN_IDS and all(r["status"] == "ok" for r in runs.values()), runs
    for run_id, run in runs.items():
        assert sweep_results(out)[run_id] == run
        assert Path(run["train"]["checkpoint"]).is_dir(), run
    for run_id, before in skipped_or_done.items():  # finished before: kept as it was
        assert runs[run_id] == before, run_id


def sweep_round(rng: random.Random, tmp_path: Path, marked_driver) -> str:
    out = tmp_path / "sweep"
    args = [*SWEEP, "--out", str(out)]
    signum, moment, second_after = rng.choice(SIGNALS), rng.uniform(0.0, 25.0), rng.uniform(0.0, 10.0)
    first = marked_driver(args, cwd=tmp_path)
    time.sleep(second_after)
    second = marked_driver(args, cwd=tmp_path)
    kill_at(first, max(0.0, moment - second_after), signum)
    assert_gone(first)
    finished_by_first = {k: v for k, v in sweep_results(out).items() if v["status"] == "ok"}
    # The second sweep, meanwhile on the same --out, completes every run.
    assert second.finish(timeout=600) == 0, second.stderr()
    assert_gone(second)
    assert_complete_sweep(out, finished_by_first)
    done = sweep_results(out)
    rerun = marked_driver(args, cwd=tmp_path)
    assert rerun.finish(timeout=600) == 0, rerun.stderr()
    assert "4 runs already had results and were skipped" in rerun.stderr(), rerun.stderr()
    assert_complete_sweep(out, done)
    return f"sweep: {signal.Signals(signum).name} at {moment:.1f} s, a second sweep at {second_after:.1f} s"


def study_trials(out: Path) -> list:
    db = out / "study.db"
    if not db.exists():
        return []
    return optuna.load_study(study_name="reinforce__CartPole-v1", storage=f"sqlite:///{db}").trials


def tune_round(rng: random.Random, tmp_path: Path, marked_driver) -> str:
    out = tmp_path / "tune"
    args = [*TUNE, "--out", str(out)]
    signum, moment = rng.choice(SIGNALS), rng.uniform(0.0, 30.0)
    first = marked_driver(args, cwd=tmp_path)
    kill_at(first, moment, signum)
    assert_gone(first)
    finished = {t.number: (t.params, t.value) for t in study_trials(out) if t.state.name == "COMPLETE"}
    rerun = marked_driver(args, cwd=tmp_path)
    assert rerun.finish(timeout=600) == 0, rerun.stderr()
    assert_gone(rerun)
    trials = study_trials(out)
    assert all(t.state.name in ("COMPLETE", "PRUNED", "FAIL") for t in trials), [(t.number, t.state.name)
                                                                                  for t in trials]
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in trials) >= len(finished) + 3
    for t in trials:
        if t.number in finished:
            assert (t.params, t.value) == finished[t.number]
        if t.state.name == "COMPLETE":
            seed_run = out / "trials" / f"trial-{t.number:04d}" / "seed-0"
            assert (seed_run / "checkpoints").is_dir() and (seed_run / "evaluations.npz").exists(), t.number
    return f"tune: {signal.Signals(signum).name} at {moment:.1f} s"


def chaos(rounds: int, seed: int, tmp_path: Path, marked_driver) -> None:
    rng = random.Random(seed)
    for i in range(rounds):
        folder = tmp_path / f"round-{i}"
        folder.mkdir()
        for play in (sweep_round, tune_round):
            print(f"chaos seed {seed}, round {i}:", play(rng, folder, marked_driver))


def test_chaos_a_few_kills(tmp_path, marked_driver):
    chaos(1, 23, tmp_path, marked_driver)


@pytest.mark.slow
def test_chaos_ten_times_as_many_kills_at_random(tmp_path, marked_driver):
    seed = int(os.environ.get("ZOO_CHAOS_SEED") or random.SystemRandom().randrange(2**32))
    print(f"ZOO_CHAOS_SEED={seed}")
    chaos(10, seed, tmp_path, marked_driver)
