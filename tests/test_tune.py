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
from typer.testing import CliRunner

from zoo.cli import app
from zoo.exceptions import ZooError
from zoo.tools import tune

runner = CliRunner()
#: A study small enough for a test: REINFORCE learns CartPole a little in 4,000 steps.
SMALL = ["reinforce", "cartpole", "--budget", "4000", "--seeds", "1", "--eval-every", "2000", "--eval-episodes", "2"]


def trials_of(out) -> list[dict[str, str]]:
    with open(out / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


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
    assert [r["number"] for r in trials_of(out)] == ["0", "1", "2", "3", "4"]


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
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert json.loads(result.stdout)["trials"] == {"fail": 2}
    assert [t["state"] for t in trials_of(tmp_path / "out")] == ["fail", "fail"]
    assert "its worker process died twice" in result.stderr
