"""``zoo bench`` divides a run's figures only by references run on the same env."""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from zoo.cli import app
from zoo.exceptions import ZooError
from zoo.tools.bench import load_suite

# Two envs; a reference on each of the first two, none on the third. "slow" never reaches the
# threshold within its cap, so what it gives is a bound.
SUITE = """
[envs.cp]
env = "cartpole"
criteria = [{ window = 3, at_least = 100 }]
cap_steps = 1000
eval_episodes = 2

[envs.mc]
env = "mountaincar-continuous"
criteria = [{ window = 3, at_least = 100 }]
cap_steps = 1000
eval_episodes = 2

[envs.cp2]
env = "CartPole-v1"
criteria = [{ window = 3, at_least = 100 }]
cap_steps = 1000
eval_episodes = 2

[[runs]]
name = "ref"
trainer = "scripted.py:train"
reference = "R"
env = "cp"
seeds = [0]
params = { step_size = 100 }

[[runs]]
name = "fast"
trainer = "scripted.py:train"
env = "cp"
seeds = [0]
params = { step_size = 50 }

[[runs]]
name = "slow"
trainer = "scripted.py:train"
reference = "R"
env = "mc"
seeds = [0]
cap_steps = 300
params = { step_size = 100 }

[[runs]]
name = "fast"
trainer = "scripted.py:train"
env = "mc"
seeds = [0]
params = { step_size = 50 }

[[runs]]
name = "alone"
trainer = "scripted.py:train"
env = "cp2"
seeds = [0]
params = { step_size = 50 }
"""

# Returns 0, 0, 200, 200, ...: one episode per step_size env steps, one second apart.
SCRIPTED = """
import zoo
from zoo.tools.bench import TrainRecord

def train(env, seed, cap_steps, should_stop, *, step_size):
    returns, steps, seconds = [], [], []
    while (len(returns) + 1) * step_size <= cap_steps:
        returns.append(0.0 if len(returns) < 2 else 200.0)
        steps.append(len(returns) * step_size)
        seconds.append(float(len(returns)))
        if should_stop(returns):
            break
    return TrainRecord(returns, steps, seconds, zoo.make_agent("hardcoded", env), steps[-1], seconds[-1])
"""


@pytest.fixture
def suite(tmp_path):
    (tmp_path / "scripted.py").write_text(textwrap.dedent(SCRIPTED))
    path = tmp_path / "suite.toml"
    path.write_text(textwrap.dedent(SUITE))
    return path


def test_ratios_come_only_from_references_on_the_same_env(suite, tmp_path):
    result = CliRunner().invoke(app, ["bench", "--suite", str(suite), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "bench.json").read_text())
    rows = {(row["env_key"], row["name"]): row for row in report["rows"]}
    assert report["references"] == {"cp": {"R": "ref"}, "mc": {"R": "slow"}}
    # On cp the reference reaches the threshold at episode 4 (400 steps, 4 s); "fast" at 200 steps.
    assert rows["cp", "fast"]["ratios"] == {"R": {"steps": 0.5, "seconds": 1.0, "bound": False}}
    # On mc the reference stops at its own cap of 300 steps (3 episodes, 3 s) without reaching:
    # it would have needed more, so "fast" is at most 200 / 300 of it.
    assert rows["mc", "slow"]["cap_steps"] == 300 and rows["mc", "slow"]["reached"] == 0
    assert rows["mc", "fast"]["ratios"] == {"R": {"steps": round(200 / 300, 4), "seconds": round(4 / 3, 4),
                                                  "bound": True}}
    assert rows["cp2", "alone"]["ratios"] == {}  # no reference on its env: no ratio at all
    table = (tmp_path / "out" / "bench.md").read_text()
    assert "| fast | cartpole | 1/1 | 200 | 4.0 | 4 | 0.50 | 1.00 |" in table
    assert "| fast | mountaincar-continuous | 1/1 | 200 | 4.0 | 4 | < 0.67 | < 1.33 |" in table
    assert "No reference on this env: no ratios." in table
    assert "slow: cap 300, stops at the threshold" in table
    assert "| fast | mountaincar-continuous | 200 / 4.0 / 4;" in table  # per seed, named with its env


def test_two_references_with_one_id_on_one_env_are_refused(suite):
    suite.write_text(suite.read_text().replace('name = "fast"\ntrainer = "scripted.py:train"\nenv = "cp"',
                                               'name = "fast"\ntrainer = "scripted.py:train"\nreference = "R"\n'
                                               'env = "cp"', 1))
    with pytest.raises(ZooError, match="two runs on env 'cp' are both reference 'R'"):
        load_suite(suite)
