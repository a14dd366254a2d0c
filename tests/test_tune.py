"""`zoo tune`: an Optuna study over the agent's search space (data), resumable, with the same
trials on either backend for the same sampler seed; bad input is one line and writes nothing."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from support.checks import assert_one_line_error, snapshot
from typer.testing import CliRunner

import zoo
from zoo.cli import app
from zoo.exceptions import ZooError
from zoo.tools import tune

runner = CliRunner()
#: A study small enough for a test: REINFORCE learns CartPole a little in 4,000 steps.
SMALL = ["reinforce", "cartpole", "--budget", "4000", "--seeds", "1", "--eval-every", "2000", "--eval-episodes", "2"]


def trials_of(out) -> list[dict[str, str]]:
    with open(out / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


def params_of(row: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """A trials.csv row's configuration."""
    return tuple(sorted((k, v) for k, v in row.items() if k not in ("number", "state", "value", "seconds")))


def test_a_study_with_the_default_two_seeds_completes_its_trials(tmp_path):
    # Every trial once failed on its second seed: the evaluation seed derived from seed 1 was
    # out of the zoo's seed range.
    result = runner.invoke(app, ["tune", "reinforce", "cartpole", "--budget", "2000", "--eval-every", "1000",
                                 "--eval-episodes", "2", "--trials", "1", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert [t["state"] for t in trials_of(tmp_path / "out")] == ["complete"]
    assert sorted(p.name for p in (tmp_path / "out" / "trials" / "trial-0000").iterdir()) == ["seed-0", "seed-1"]
    from zoo import checkpoint as ckpt

    best = ckpt.read_meta(tmp_path / "out" / "trials" / "trial-0000" / "seed-1" / "best")
    assert best["evaluation"]["seed"] == 10_001  # the zoo's evaluation seed for seed 1


def test_the_search_space_is_the_agents_data_checked_against_its_config():
    space = tune.search_space("reinforce-baseline", "cartpole")
    assert set(space) >= {"learning_rate", "vf_learning_rate", "net_arch", "n_envs"}
    assert isinstance(space["learning_rate"], optuna.distributions.FloatDistribution) and space["learning_rate"].log
    assert space["net_arch"].choices == ("32", "64", "64,64")  # tuples travel as --set spells them
    assert isinstance(space["n_envs"], optuna.distributions.CategoricalDistribution)


@pytest.mark.parametrize("space, complaint", [
    ({"lr": {"low": 0.001, "high": 0.1}}, "'lr' is now called 'learning_rate'"),
    ({"learnign_rate": {"low": 0.001, "high": 0.1}}, "did you mean 'learning_rate'"),
    ({"learning_rate": {"low": 0.1, "high": 0.1}}, "range [0.1, 0.1] is empty"),
    ({"learning_rate": {"low": 0.0, "high": 0.1, "log": True}}, "log scale, so low must be above 0"),
    ({"gamma": {"choices": []}}, "gamma has no choices"),
    ({"activation": {"low": 0, "high": 1}}, "not a number, so it takes { choices = [...] }"),
    ({"gamma": 0.99}, "must be { low = A, high = B"),
])
def test_a_bad_space_is_one_line_and_nothing_is_written(tmp_path, monkeypatch, space, complaint):
    from zoo.agents.reinforce import Reinforce

    monkeypatch.setattr(Reinforce, "search_space", classmethod(lambda cls, env: space))
    result = runner.invoke(app, ["tune", *SMALL, "--trials", "1", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert complaint in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_an_unreachable_storage_is_one_line_and_nothing_is_written(tmp_path):
    for url in ("sqlite:////no/such/folder/study.db", "postgresql://zoo@127.0.0.1:9/zoo"):
        result = runner.invoke(app, ["tune", *SMALL, "--trials", "1", "--storage", url, "--out", str(tmp_path / "o")])
        assert result.exit_code == 2, result.output
        assert "cannot open the study storage" in result.output and len(result.output.strip().splitlines()) == 1
        assert not (tmp_path / "o").exists()


def test_a_study_runs_writes_its_outputs_and_a_rerun_continues_it(tmp_path):
    out = tmp_path / "study"
    first = runner.invoke(app, ["tune", *SMALL, "--trials", "3", "--out", str(out), "--json"])
    assert first.exit_code == 0, first.output
    found = json.loads(first.stdout)
    assert found["trials"] == {"complete": 3}
    assert {"trials.csv", "best.toml", "best-defaults.toml", "history.png"} <= set(found["files"])
    rows = trials_of(out)
    assert [r["number"] for r in rows] == ["0", "1", "2"] and all(r["state"] == "complete" for r in rows)
    # The best trial, as a config file zoo train reads, gives the same hyperparameters.
    dry = runner.invoke(app, ["train", "--config", str(out / "best.toml"), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    resolved = json.loads(dry.stdout)
    best = found["best"]["params"]
    assert resolved["hyperparameters"]["learning_rate"]["value"] == best["learning_rate"]
    # Intermediate evaluations went to the study (the pruner's input).
    study = optuna.load_study(study_name="reinforce__CartPole-v1", storage=f"sqlite:///{out / 'study.db'}")
    assert all(t.intermediate_values for t in study.trials)

    again = runner.invoke(app, ["tune", *SMALL, "--trials", "2", "--out", str(out), "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["trials"] == {"complete": 5}
    rows = trials_of(out)
    assert [r["number"] for r in rows] == ["0", "1", "2", "3", "4"]
    # The continuation explores: it once proposed exactly the first trials again (issue 23, item 5).
    configurations = [params_of(r) for r in rows]
    assert len(set(configurations)) == 5, configurations


def test_ray_proposes_and_scores_the_same_trials_as_local_for_the_same_sampler_seed(tmp_path):
    results = {}
    for backend in ("local", "ray"):
        out = tmp_path / backend
        done = runner.invoke(app, ["tune", *SMALL, "--trials", "2", "--backend", backend, "--out", str(out)])
        assert done.exit_code == 0, done.output
        results[backend] = [(r["value"], {k: v for k, v in r.items() if k not in ("value", "seconds")})
                            for r in trials_of(out)]
    assert results["local"] == results["ray"]


def test_steps_to_threshold_counts_the_first_evaluation_that_reaches_it():
    assert tune.steps_to_threshold([1000, 2000, 3000], [10.0, 60.0, 40.0], 50.0, 3000) == 2000.0
    assert tune.steps_to_threshold([1000, 2000], [10.0, 20.0], 50.0, 2000) == 4000.0  # never: twice the budget
    with pytest.raises(ZooError, match="declares no reward threshold: pass --threshold"):
        tune.plan_tune("reinforce", "pendulum", trials=1, budget=1000, objective="steps-to-threshold")


def test_ctrl_c_stops_after_the_running_trial_and_the_study_resumes(tmp_path):
    out = tmp_path / "study"
    args = [sys.executable, "-m", "zoo.cli", "tune", *SMALL, "--budget", "20000", "--trials", "4", "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    deadline = time.time() + 120
    while not (out / "trials" / "trial-0000").exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "the study resumes" in stderr
    rows = trials_of(out)
    assert rows and all(r["state"] == "complete" for r in rows) and len(rows) < 4
    resumed = runner.invoke(app, ["tune", *SMALL, "--budget", "20000", "--trials", "1", "--out", str(out), "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["trials"] == {"complete": len(rows) + 1}


CRASHY_SOURCE = """
import os

import zoo
from zoo.agents.reinforce import Reinforce


class Crashy(Reinforce):
    def train_iteration(self):
        if self.seed == 1:
            os._exit(3)
        return super().train_iteration()


@zoo.hookimpl
def register_agents(registry):
    registry.add_agent("crashy", "zoo_crashy_tune:Crashy", description="kills its process on seed 1")
"""


def test_a_trial_whose_worker_dies_is_run_again_then_failed_and_the_study_goes_on(tmp_path, write_distribution,
                                                                                  monkeypatch):
    from zoo.plugin_loader import reload_plugins

    # Every trial trains seeds 0 and 1, and the agent kills its worker on seed 1: this once ended
    # `zoo tune` with a BrokenProcessPool traceback.
    site = write_distribution(tmp_path / "site", "zoo-crashy-tune", "0.1.0", {"zoo_crashy_tune": CRASHY_SOURCE},
                              {"crashy": "zoo_crashy_tune"})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    reload_plugins()
    try:
        result = runner.invoke(app, ["tune", "crashy", "cartpole", "--budget", "1000", "--eval-every", "500",
                                     "--eval-episodes", "1", "--trials", "2", "--out", str(tmp_path / "out"),
                                     "--json"])
    finally:
        monkeypatch.undo()
        reload_plugins()
    # A study whose every trial failed does not end as a success (issue 23, item 4).
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert json.loads(result.stdout)["trials"] == {"fail": 2}
    assert [t["state"] for t in trials_of(tmp_path / "out")] == ["fail", "fail"]
    assert "its worker process died twice" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: all 2 trials of this run failed") and "worker process died" in last, last


# -- issue 23: options, studies shared or continued, tampered studies, killed drivers ---------------
#: Each option out of its range, or not fitting the others: one line before anything is written
#: (these were internal errors after study.db was written, a MemoryError, or accepted).
BAD_OPTIONS = [
    (["--eval-every", "-5"], "--eval-every"),
    (["--eval-every", "0"], "--eval-every"),
    (["--eval-every", str(10**20)], "--eval-every"),
    (["--eval-every", "8000"], "--eval-every"),  # past the budget of 4,000: the pruner would see nothing
    (["--sampler-seed", "-1"], "--sampler-seed"),
    (["--sampler-seed", str(2**40)], "--sampler-seed"),
    (["--seeds", str(10**12)], "--seeds"),
    (["--seeds", "0"], "--seeds"),
    (["--budget", str(10**15)], "--budget"),
    (["--budget", "0"], "--budget"),
    (["--eval-episodes", str(10**15)], "--eval-episodes"),
    (["--trials", "0"], "--trials"),
    (["--trials", str(10**13)], "--trials"),
    (["--workers", "0"], "--workers"),
    (["--objective", "steps-to-threshold", "--threshold", "nan"], "--threshold"),
    (["--objective", "steps-to-threshold", "--threshold", "inf"], "--threshold"),
    (["--threshold", "400"], "--threshold"),  # the default objective, mean-return, has none
    (["--study", "x" * 600], "--study"),
    (["--objective", "fastest"], "--objective"),
]


@pytest.mark.parametrize("extra, flag", BAD_OPTIONS, ids=lambda v: " ".join(v)[:40] if isinstance(v, list) else v)
def test_every_option_is_checked_before_anything_is_written(tmp_path, extra, flag):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    for where in ([], ["--storage", storage]):
        result = runner.invoke(app, ["tune", *SMALL, "--trials", "1", "--out", str(tmp_path / "out"), *where, *extra])
        assert_one_line_error(result, flag)
        assert list(tmp_path.iterdir()) == []  # no study.db, no --out, no storage file


def test_a_trial_budget_some_search_space_values_cannot_train_with_is_refused_before_any_trial(tmp_path,
                                                                                              monkeypatch):
    """Issue 25: trials that sampled n_envs=64 with --budget 32 failed at their start, one by one.
    The rule is zoo train's (Agent.min_training_steps), over every value of the search space."""
    result = runner.invoke(app, ["tune", "reinforce", "cartpole", "--budget", "20", "--trials", "3",
                                 "--out", str(tmp_path / "out")])
    assert_one_line_error(result, "--budget 20 is too few env steps for a trial of reinforce on CartPole-v1",
                          "n_envs=32 or 64 (from its search space)", "at least 64", "use --budget 64 or more")
    assert list(tmp_path.iterdir()) == []
    assert tune.plan_tune("reinforce", "cartpole", trials=1, budget=64, out=tmp_path / "fits").budget == 64
    # Pendulum's defaults (batch_steps = 3200) need more than any value of the space changes.
    with pytest.raises(zoo.BudgetTooSmall, match=r"reinforce on Pendulum-v1 \(its defaults, any sampled values\) .* "
                                                 r"use --budget 3200 or more"):
        tune.plan_tune("reinforce", "pendulum", trials=1, budget=1000, out=tmp_path / "out")
    # A space whose batch_steps range reaches past the budget (as a plugin's defaults file may declare).
    from zoo.agents.reinforce import Reinforce

    monkeypatch.setattr(Reinforce, "search_space", classmethod(lambda cls, env: {
        "n_envs": {"choices": [8, 16]}, "batch_steps": {"low": 0, "high": 5000}, "gamma": {"choices": [0.9, 0.99]}}))
    with pytest.raises(zoo.BudgetTooSmall, match=r"--budget 4,000 .* with batch_steps=5000 \(from its search space\)"
                       r".* at least 5,000 .* use --budget 5000 or more"):
        tune.plan_tune("reinforce", "cartpole", trials=1, budget=4000, out=tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def run_zoo(args: list[str]) -> tuple[int, str, str]:
    """``zoo ARGS`` in this process through :func:`zoo.cli.run`, as the executable runs it."""
    import contextlib
    import io

    from zoo.cli import run

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = run(args)
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize("storage", ["default", "own sqlite file"])
def test_ctrl_c_while_the_study_is_created_leaves_nothing(tmp_path, monkeypatch, storage):
    # Ctrl-C during start-up once left an empty study.db (issue 23, item 19).
    real = optuna.create_study

    def interrupted(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(optuna, "create_study", interrupted)
    where = [] if storage == "default" else ["--storage", f"sqlite:///{tmp_path / 'own.db'}"]
    code, stdout, stderr = run_zoo(["tune", *SMALL, "--trials", "1", "--out", str(tmp_path / "out"), *where])
    assert code == 130, stderr
    assert list(tmp_path.iterdir()) == []


def study_with_trials(out, n: int = 2, study: str = "reinforce__CartPole-v1"):
    """A study of REINFORCE on CartPole as `zoo tune` keeps it, with ``n`` complete trials,
    written with Optuna directly (no training)."""
    space = tune.search_space("reinforce", "cartpole")
    out.mkdir(parents=True, exist_ok=True)
    created = optuna.create_study(study_name=study, storage=f"sqlite:///{out / 'study.db'}", direction="maximize")
    for i in range(n):
        params = {}
        for name, dist in space.items():
            if isinstance(dist, optuna.distributions.CategoricalDistribution):
                params[name] = dist.choices[i % len(dist.choices)]
            else:
                params[name] = dist.low + (dist.high - dist.low) * (i + 1) / (n + 2)
        created.add_trial(optuna.trial.create_trial(params=params, distributions=space, value=10.0 + i))
    return created


def tamper(db, sql: str) -> None:
    import sqlite3

    with sqlite3.connect(db) as connection:
        assert connection.execute(sql).rowcount > 0, sql
    connection.close()


TAMPERED = [
    ("UPDATE trial_params SET distribution_json = 'garbage' WHERE param_name = 'learning_rate'", "learning_rate"),
    ("UPDATE trial_params SET distribution_json = '{\"name\": \"FloatDistribution\"}' "
     "WHERE param_name = 'learning_rate'", "learning_rate"),
    ("UPDATE trial_params SET param_value = 99 WHERE param_name = 'gamma'", "gamma"),
    ("UPDATE trial_params SET param_name = 'no_such_param' WHERE param_name = 'gamma'", "no_such_param"),
    ("UPDATE trial_params SET param_value = -5 WHERE param_name = 'learning_rate'", "learning_rate"),
    ("UPDATE trial_params SET distribution_json = '{\"name\": \"CategoricalDistribution\", \"attributes\": "
     "{\"choices\": [-1.0]}}', param_value = 0 WHERE param_name = 'gamma'", "gamma"),
    ("UPDATE trials SET state = 'BOGUS' WHERE number = 1", "trial"),
    ("UPDATE trial_values SET value = 'abc'", "trial"),
    # Found by tests/test_fuzz_tune.py: the next trial took the removed trial's id, and its rows.
    ("DELETE FROM trials", "rows of trials that no longer exist"),
]


@pytest.mark.parametrize("sql, fragment", TAMPERED, ids=[f"tamper{i}" for i in range(len(TAMPERED))])
def test_a_tampered_study_is_refused_in_one_line_before_any_trial_runs(tmp_path, sql, fragment):
    # These were internal errors, or (an unknown parameter) refused only after a trial had run
    # and written its files (issue 23, item 6).
    out = tmp_path / "out"
    study_with_trials(out)
    tamper(out / "study.db", sql)
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["tune", *SMALL, "--trials", "1", "--out", str(out)])
    line = assert_one_line_error(result, "study 'reinforce__CartPole-v1'", fragment)
    assert "use another --study" in line or "another --storage" in line, line
    assert snapshot(tmp_path) == before  # study.db unchanged, no trial folder


@pytest.mark.parametrize("table", ["version_info", "alembic_version"])
def test_a_study_database_without_its_version_rows_is_refused_unchanged(tmp_path, table):
    # Found by tests/test_fuzz_tune.py: Optuna, opening the database, wrote the missing row back
    # before the study was refused.
    out = tmp_path / "out"
    study_with_trials(out)
    tamper(out / "study.db", f"DELETE FROM {table}")
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["tune", *SMALL, "--trials", "1", "--out", str(out)])
    assert_one_line_error(result, "cannot open the study storage 'study.db'", table)
    assert snapshot(tmp_path) == before


def test_a_second_study_in_the_same_out_is_refused(tmp_path):
    # Its trial folders (trials/trial-0000/...) would replace the first study's (issue 23, item 10).
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    out = tmp_path / "out"
    first = runner.invoke(app, ["tune", *SMALL, "--budget", "400", "--eval-every", "200", "--trials", "1",
                                "--storage", storage, "--study", "a", "--out", str(out)])
    assert first.exit_code == 0, first.output
    before = snapshot(tmp_path)
    for other in (["--storage", storage, "--study", "b"], []):
        second = runner.invoke(app, ["tune", *SMALL, "--trials", "1", *other, "--out", str(out)])
        assert_one_line_error(second, "--out", "study 'a'")
        assert snapshot(tmp_path) == before


def test_a_trial_folder_another_process_holds_is_not_removed(tmp_path):
    # A trial run again (its worker died) starts over in an empty folder; one that another live
    # process holds is left alone, and the trial fails saying why (issue 23, item 10).
    from zoo.training import run_folder

    out = tmp_path / "out"
    plan = tune.plan_tune("reinforce", "cartpole", trials=1, budget=400, seeds=1, eval_every=200,
                          eval_episodes=1, out=out)
    out.mkdir()  # (run_tune makes it)
    study = tune.open_study(plan)
    trial = study.ask(plan.space)
    held = out / "trials" / "trial-0000" / "seed-0"
    held.mkdir(parents=True)
    (held / "returns.csv").write_text("someone's run\n")
    lock = run_folder.lock(held)
    try:
        outcome = tune.run_trial(tune.trial_spec(plan, trial))
    finally:
        lock.close()
    assert outcome["state"] == "failed" and "another process" in outcome["error"], outcome
    assert (held / "returns.csv").read_text() == "someone's run\n"


def test_two_processes_on_one_storage_run_different_configurations(tmp_path, marked_driver):
    # The README's several-machines recipe: two drivers, one storage, the same sampler seed. They
    # once ran the same configurations pairwise (issue 23, item 5).
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    args = ["tune", "reinforce", "cartpole", "--budget", "400", "--seeds", "1", "--eval-every", "200",
            "--eval-episodes", "1", "--trials", "3", "--storage", storage, "--study", "shared"]
    drivers = [marked_driver([*args, "--out", str(tmp_path / f"out{i}")], cwd=tmp_path) for i in range(2)]
    codes = [driver.finish() for driver in drivers]
    assert codes == [0, 0], [driver.stderr() for driver in drivers]
    study = optuna.load_study(study_name="shared", storage=storage)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 6
    configurations = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(configurations)) == 6, configurations


def test_a_fresh_study_is_reproducible_and_a_continuation_depends_on_what_it_continues(tmp_path):
    # What --sampler-seed promises: the same fresh study proposes the same trials.
    proposals = []
    for name in ("a", "b"):
        plan = tune.plan_tune("reinforce", "cartpole", trials=3, budget=400, seeds=1, eval_every=200,
                              eval_episodes=1, out=tmp_path / name, sampler_seed=7)
        plan.out.mkdir()  # (run_tune makes it)
        study = tune.open_study(plan)
        trials = []
        for value in (1.0, 2.0, 3.0):
            trial = study.ask(plan.space)
            study.tell(trial, value)
            trials.append(trial.params)
        proposals.append(trials)
    assert proposals[0] == proposals[1]
    assert len({tuple(sorted(p.items())) for p in proposals[0]}) == 3


def test_a_killed_driver_leaves_no_process_and_its_running_trial_fails_when_the_study_continues(
        tmp_path, marked_driver):
    # SIGKILL of the driver once left its pool worker running for good, and its trial RUNNING
    # (issue 23, item 11).
    out = tmp_path / "study"
    driver = marked_driver(["tune", *SMALL, "--budget", "5000000", "--trials", "2", "--out", str(out)], cwd=tmp_path)
    started = out / "trials" / "trial-0000" / "seed-0" / "config.json"
    deadline = time.time() + 180
    while not started.exists() and time.time() < deadline and driver.process.poll() is None:
        time.sleep(0.2)
    assert started.exists(), driver.stderr()
    os.kill(driver.pid, signal.SIGKILL)
    driver.finish()
    left = driver.wait_gone()
    assert not left, driver.describe(left)
    study = optuna.load_study(study_name="reinforce__CartPole-v1", storage=f"sqlite:///{out / 'study.db'}")
    assert [t.state.name for t in study.trials] == ["RUNNING"]
    resumed = runner.invoke(app, ["tune", *SMALL, "--budget", "400", "--eval-every", "200", "--trials", "1",
                                  "--out", str(out), "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["trials"] == {"fail": 1, "complete": 1}
    assert [r["state"] for r in trials_of(out)] == ["fail", "complete"]
