"""``zoo bench``: criteria, suite checking, and a whole (tiny) suite through the CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from zoo.cli import app
from zoo.exceptions import ZooError
from zoo.tools.bench import Criterion, all_met, first_reached, load_suite, load_trainer, train_zoo_agent

REPO_SUITE = Path(__file__).resolve().parents[1] / "benchmarks" / "suite.toml"


# -- criteria -------------------------------------------------------------------------------------
def test_mean_criterion_is_reached_at_the_first_window_that_meets_it():
    returns = [0.0] * 5 + [10.0] * 10
    c = Criterion(window=4, at_least=7.5)
    # Windows ending at index 7: [0, 10, 10, 10] -> 7.5, the first to reach 7.5.
    assert first_reached([c], returns) == 7
    assert not all_met([c], returns[:7]) and all_met([c], returns[:8])
    assert first_reached([c], returns[:3]) is None  # fewer episodes than the window


def test_mean_minus_std_and_several_criteria_must_all_hold():
    returns = [10.0] * 20 + [20.0] * 3 + [40.0] * 3
    mean = Criterion(window=20, at_least=15.0)
    steady = Criterion(window=3, at_least=15.0, stat="mean-std")
    np.testing.assert_allclose(steady.values(returns)[21], np.mean([10, 20, 20]) - np.std([10, 20, 20]))
    assert first_reached([mean], returns) == 25  # (14 * 10 + 3 * 20 + 3 * 40) / 20 = 16
    assert first_reached([steady], returns) == 22  # the three 20s
    assert first_reached([mean, steady], returns) == 25
    assert all_met([mean, steady], returns) and not all_met([mean, steady], returns + [0.0])


# -- the suite file -------------------------------------------------------------------------------
SUITE = """
[quick]
seeds = [5]

[envs.cp]
env = "cartpole"
criteria = [{ window = 3, at_least = 100 }]
cap_steps = 1000
eval_episodes = 4

[[runs]]
name = "scripted reference"
trainer = "scripted.py:train"
reference = "ref"
env = "cp"
seeds = [0, 1, 2]
params = { step_size = 100 }

[[runs]]
name = "scripted, twice as fast"
trainer = "scripted.py:train"
env = "cp"
seeds = [0, 1, 2]
params = { step_size = 50 }
quick = false
"""

# A trainer that "learns" on a fixed schedule: returns 0, 0, 200, 200, ... one episode per
# step_size env steps (each a second apart), with the env's hardcoded policy as the result.
SCRIPTED = """
import zoo
from zoo.tools.bench import TrainRecord

def train(env, seed, cap_steps, should_stop, *, step_size):
    returns, steps, seconds = [], [], []
    while len(returns) * step_size < cap_steps:
        returns.append(0.0 if len(returns) < 2 + seed else 200.0)
        steps.append(len(returns) * step_size)
        seconds.append(float(len(returns)))
        if should_stop(returns):
            break
    return TrainRecord(returns, steps, seconds, zoo.make_agent("hardcoded", env), steps[-1], seconds[-1])
"""


def write_suite(folder: Path, text: str = SUITE) -> Path:
    (folder / "scripted.py").write_text(textwrap.dedent(SCRIPTED))
    path = folder / "suite.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_the_repository_suite_loads_and_every_learner_exists():
    import zoo

    suite = load_suite(REPO_SUITE)
    agents = {a.name for a in zoo.list_agents()}
    for run in suite.runs:
        assert len(run.seeds) >= 3, run.name
        if run.agent:
            assert run.agent in agents
        else:
            assert callable(load_trainer(run.trainer, REPO_SUITE.parent))
    references = {(r.env, r.reference) for r in suite.runs if r.reference}
    assert references == {("cartpole", "PPO"), ("cartpole", "course"), ("mountaincar", "SAC"),
                          ("mountaincar", "PPO"), ("pixelcopter", "course"), ("pixelcopter", "PPO"),
                          ("acrobot", "PPO"), ("mountaincar-discrete", "DQN"), ("pendulum", "TD3"),
                          ("lunarlander", "PPO"), ("cartpole-qrdqn", "rl_zoo3"), ("cartpole-trpo", "rl_zoo3"),
                          ("pendulum-tqc", "rl_zoo3")}
    assert {r.env for r in suite.select(quick=True)} == {r.env for r in suite.runs}


@pytest.mark.parametrize("edit,message", [
    (lambda s: s.replace('cap_steps = 1000', 'cap_steps = 1000\ncap = 5'), "unknown key(s) cap"),
    (lambda s: s.replace('env = "cp"\nseeds = [0, 1, 2]\nparams = { step_size = 100 }', 'env = "cp"'),
     "missing key(s) seeds"),
    (lambda s: s.replace('trainer = "scripted.py:train"\nreference',
                         'agent = "reinforce"\ntrainer = "scripted.py:train"\nreference'),
     "exactly one of agent or trainer"),
    (lambda s: s.replace('env = "cp"\nseeds = [0, 1, 2]\nparams = { step_size = 100 }', 'env = "nope"\nseeds = [0]'),
     "env 'nope' is not in [envs]"),
    (lambda s: s.replace('at_least = 100 }', 'at_least = 100, stat = "median" }'), "stat must be"),
    (lambda s: s + "\n[[runs\n", "not valid TOML"),
])
def test_suite_mistakes_are_one_line_errors(tmp_path, edit, message):
    path = write_suite(tmp_path, edit(textwrap.dedent(SUITE)))
    with pytest.raises(ZooError, match=None) as info:
        load_suite(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_suite_and_bad_trainer_are_clear(tmp_path):
    with pytest.raises(ZooError, match="no benchmark suite"):
        load_suite(tmp_path / "absent.toml")
    with pytest.raises(ZooError, match="has no function 'nope'"):
        load_trainer("scripted.py:nope", write_suite(tmp_path).parent)
    with pytest.raises(ZooError, match="does not exist"):
        load_trainer("absent.py:train", tmp_path)


# -- a whole run through the CLI ------------------------------------------------------------------
def test_bench_writes_medians_ratios_and_evaluations(tmp_path):
    suite = write_suite(tmp_path)
    result = CliRunner().invoke(app, ["bench", "--suite", str(suite), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "bench.json").read_text())
    ref, fast = report["rows"]
    # Seed s reaches a 3-episode mean of 100 at episode 4 + s (two 200s after 2 + s zeros).
    assert [s["episodes"] for s in ref["seeds"]] == [4, 5, 6]
    assert ref["median_episodes"] == 5 and ref["median_steps"] == 500 and ref["median_seconds"] == 5
    assert fast["median_steps"] == 250
    assert fast["ratios"]["ref"] == {"steps": 0.5, "seconds": 1.0, "bound": False}
    assert ref["eval_passed"] == 3 and ref["eval_mean"] > 100  # the hardcoded CartPole controller
    table = (tmp_path / "out" / "bench.md").read_text()
    assert "| scripted, twice as fast | cartpole | 3/3 | 250 | 5.0 | 5 | 0.50 | 1.00 |" in table


def test_quick_runs_the_quick_seeds_of_quick_runs_only(tmp_path):
    suite = write_suite(tmp_path)
    result = CliRunner().invoke(app, ["bench", "--quick", "--suite", str(suite), "--out", str(tmp_path / "q")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "q" / "bench.json").read_text())
    assert report["quick"] and [r["name"] for r in report["rows"]] == ["scripted reference"]
    assert [s["seed"] for s in report["rows"][0]["seeds"]] == [5]


def test_bench_refuses_an_out_file_before_running(tmp_path):
    suite = write_suite(tmp_path)
    (tmp_path / "file").write_text("")
    result = CliRunner().invoke(app, ["bench", "--suite", str(suite), "--out", str(tmp_path / "file")])
    assert result.exit_code == 2
    assert "is a file" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "bench.json").exists()


def test_an_env_without_a_time_limit_is_benched_with_the_episode_cap_zoo_train_uses(monkeypatch):
    """PuckWorld's game never ends: ``zoo train`` caps its episodes (``episode_step_cap``), and so
    must the bench, or REINFORCE sees no episode end and never updates (it did, for 12M steps)."""
    import zoo.factory

    monkeypatch.setattr(zoo.factory, "DEFAULT_MAX_STEPS", 100)
    record = train_zoo_agent("puckworld", 0, 3_200, lambda returns: False, agent="reinforce-baseline")
    assert len(record.returns) >= 16  # every one of its 16 copies ended an episode at 100 steps
    assert record.env_steps[0] == 16 * 100  # all ended together, on their 100th step
