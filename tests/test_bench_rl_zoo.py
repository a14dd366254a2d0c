"""``zoo bench``'s rl-zoo score rows: runs that train through ``zoo train --config``, references
that need an optional package (rl_zoo3), and choosing rows with ``--env`` and ``--seed``."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zoo.cli import app
from zoo.exceptions import ZooError
from zoo.tools.bench import load_suite, load_trainer, missing_requirement

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

# A zoo-format config file: what `zoo train reinforce cartpole --config reinforce.toml` reads.
CONFIG = """
[hyperparameters]
n_envs = 2
"""

SUITE = """
[envs.cp]
env = "cartpole"
criteria = [{ window = 3, at_least = 100 }]
cap_steps = 600
stop = "cap"
eval_episodes = 2

[envs.cp-other]
env = "cartpole"
criteria = [{ window = 3, at_least = 100 }]
cap_steps = 600
stop = "cap"
eval_episodes = 2

[[runs]]
name = "reinforce, zoo train --config"
agent = "reinforce"
config = "reinforce.toml"
env = "cp"
seeds = [0, 1, 2]

[[runs]]
name = "reference from a package not installed"
trainer = "absent_trainer.py:train"
requires = ["no_such_module_for_the_bench"]
reference = "R"
env = "cp"
seeds = [0, 1, 2]

[[runs]]
name = "config in a package not installed"
agent = "reinforce"
config = { package = "no_such_package_for_the_bench", path = "hyperparams/ppo.yml" }
env = "cp"
seeds = [0, 1, 2]

[[runs]]
name = "other"
agent = "reinforce"
env = "cp-other"
seeds = [3, 4, 5]
quick = false
"""


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "reinforce.toml").write_text(textwrap.dedent(CONFIG))
    path = tmp_path / "suite.toml"
    path.write_text(textwrap.dedent(SUITE))
    return path


# -- choosing rows --------------------------------------------------------------------------------
def test_env_and_seed_choose_the_runs_and_their_seeds(suite):
    loaded = load_suite(suite)
    assert [r.name for r in loaded.select(False, ["cp-other"])] == ["other"]
    assert [r.seeds for r in loaded.select(False, ["cp-other"])] == [(3, 4, 5)]
    chosen = loaded.select(False, ["cp"], [7])
    assert len(chosen) == 3 and {r.seeds for r in chosen} == {(7,)} and {r.env for r in chosen} == {"cp"}
    assert loaded.select(True, ["cp-other"]) == []  # "other" is not a quick run
    assert [r.seeds for r in loaded.select(True)] == [(0,)] * 3  # the quick seeds
    with pytest.raises(ZooError, match="'nope' is not an env of suite suite.toml; known: cp, cp-other"):
        loaded.select(False, ["nope"])


@pytest.mark.parametrize("args,message", [
    (["--env", "nope"], "'nope' is not an env of suite"),
    (["--quick", "--env", "cp-other"], "no run of suite suite.toml is on the env(s) selected in --quick"),
    (["--seed", "-1"], "--seed"),
])
def test_bench_refuses_a_bad_choice_in_one_line_before_training(suite, tmp_path, args, message):
    result = CliRunner().invoke(app, ["bench", "--suite", str(suite), "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


# -- config rows and missing references -----------------------------------------------------------
def test_a_config_row_trains_as_zoo_train_and_missing_packages_skip_in_one_line(suite, tmp_path):
    result = CliRunner().invoke(app, ["bench", "--suite", str(suite), "--out", str(tmp_path / "out"),
                                      "--env", "cp", "--seed", "0"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "bench.json").read_text())
    trained, reference, config_missing = report["rows"]
    seed = trained["seeds"][0]
    # The file's n_envs = 2 took: REINFORCE collects whole episodes on both envs, to the cap.
    assert seed["trained_steps"] >= 600 and seed["trained_episodes"] >= 2 and trained["skipped"] is None
    assert trained["config"] == "reinforce.toml"  # the report says which file
    assert "pip install 'rl-agent-zoo[bench]'" in reference["skipped"]
    assert "needs no_such_module_for_the_bench" in reference["skipped"] and reference["seeds"] == []
    assert "needs no_such_package_for_the_bench" in config_missing["skipped"]
    assert report["references"] == {}  # a skipped reference gives no ratios
    assert trained["ratios"] == {}
    table = (tmp_path / "out" / "bench.md").read_text()
    assert "skipped: needs no_such_module_for_the_bench" in table
    assert "**cartpole** (--env cp; cap 600 env steps, trains to the cap)" in table  # which suite env


def test_the_config_row_is_the_zoo_train_command(suite, tmp_path, monkeypatch):
    """The bench's row and `zoo train --config FILE --seed S --steps CAP` train the same returns."""
    loaded = load_suite(suite)
    from zoo.tools.bench import run_suite

    report = run_suite(loaded, runs=loaded.select(False, ["cp"], [1])[:1])
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["train", "reinforce", "cartpole", "--config", "reinforce.toml", "--seed", "1",
                                      "--steps", "600", "--out", "run"])
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "run" / "returns.csv").read_text().splitlines()[1:]
    returns = [float(line.split(",")[1]) for line in lines]
    assert report["rows"][0]["seeds"][0]["trained_episodes"] == len(returns)
    assert report["rows"][0]["seeds"][0]["final_mean_100"] == pytest.approx(sum(returns[-100:]) / len(returns[-100:]))


@pytest.mark.parametrize("edit,message", [
    (lambda s: s.replace('config = "reinforce.toml"', 'config = "reinforce.toml"\nstop = "threshold"'),
     'a run with a config trains to its cap: set stop = "cap"'),
    (lambda s: s.replace('config = "reinforce.toml"', 'config = 3'), "config must be a path relative to the suite"),
    (lambda s: s.replace('config = "reinforce.toml"', 'config = { package = "rl_zoo3" }'),
     "config must be a path relative to the suite or {package = NAME, path = PATH}"),
    (lambda s: s.replace('trainer = "absent_trainer.py:train"',
                         'trainer = "absent_trainer.py:train"\nconfig = "x.yml"'), "config is read by a zoo agent"),
    (lambda s: s.replace('requires = ["no_such_module_for_the_bench"]', 'requires = "rl_zoo3"'),
     "requires must be a list of module names"),
])
def test_config_and_requires_mistakes_are_one_line_errors(suite, edit, message):
    suite.write_text(edit(suite.read_text()))
    with pytest.raises(ZooError) as info:
        load_suite(suite)
    assert message in str(info.value) and "\n" not in str(info.value)


# -- the repository's rl-zoo rows -----------------------------------------------------------------
def test_the_repository_rl_zoo_rows_read_rl_zoo3s_files_and_train_to_their_budgets():
    suite = load_suite(BENCHMARKS / "suite.toml")
    rows = {(r.env, r.reference): r for r in suite.runs if r.env in ("cartpole-qrdqn", "cartpole-trpo", "pendulum-tqc")}
    expected = {"cartpole-qrdqn": ("sb3-qrdqn", "qrdqn", 50_000), "cartpole-trpo": ("sb3-trpo", "trpo", 100_000),
                "pendulum-tqc": ("sb3-tqc", "tqc", 20_000)}
    for key, (agent, algo, budget) in expected.items():
        zoo_row, reference = rows[(key, None)], rows[(key, "rl_zoo3")]
        assert zoo_row.agent == agent and zoo_row.config == {"package": "rl_zoo3", "path": f"hyperparams/{algo}.yml"}
        assert reference.params == {"algo": algo} and reference.requires == ("rl_zoo3",)
        assert zoo_row.seeds == reference.seeds
        env = suite.envs[key]
        assert env.stop == "cap" and env.cap_steps == budget  # rl_zoo3's n_timesteps, as its file says
        if missing_requirement(zoo_row) is None:
            import yaml

            from zoo.tools.bench import config_path

            entries = yaml.safe_load(config_path(zoo_row.config, BENCHMARKS).read_text())
            gym_id = "CartPole-v1" if key.startswith("cartpole") else "Pendulum-v1"
            assert float(entries[gym_id]["n_timesteps"]) == budget


def test_rl_zoo3_monitor_files_give_each_episode_its_env_step(tmp_path):
    rl_zoo3_train = load_trainer("rl_zoo3_train.py:monitor_episodes", BENCHMARKS)
    header = '#{"t_start": 0, "env_id": "CartPole-v1"}\nr,l,t\n'
    (tmp_path / "0.monitor.csv").write_text(header + "10.0,10,0.5\n30.0,30,1.5\n")
    (tmp_path / "1.monitor.csv").write_text(header + "25.0,25,1.0\n")
    # Two envs stepped together: an episode ending at its env's step k ends at env step 2k.
    assert rl_zoo3_train(tmp_path) == [(20, 10.0, 0.5), (50, 25.0, 1.0), (80, 30.0, 1.5)]


@pytest.mark.parametrize("agent,algo,env,steps,episodes", [
    ("sb3-trpo", "trpo", "cartpole", 1024, 10),  # one rollout: n_envs 2 × n_steps 512
    # 900 gradient steps: minutes on a loaded machine. (1,000 steps, not fewer: the zoo's
    # off-policy agents learn 1,000 env steps per iteration, and --steps 400 ran 1,000.)
    pytest.param("sb3-tqc", "tqc", "pendulum", 1000, 5, marks=pytest.mark.slow),
])
def test_the_rl_zoo3_reference_trains_the_same_as_the_zoo_on_the_same_entry_and_seed(
        tmp_path, agent, algo, env, steps, episodes):
    """Both paths of a score row on a small budget: rl_zoo3's process and `zoo train --config`
    with its file give the same episodes and the same final policy (SB3 underneath, seeded alike)."""
    pytest.importorskip("rl_zoo3")
    for name in ("rl_zoo3_train.py", "sb3_rlzoo.py"):
        shutil.copy(BENCHMARKS / name, tmp_path / name)
    suite = tmp_path / "suite.toml"
    suite.write_text(textwrap.dedent(f"""
        [envs.e]
        env = "{env}"
        criteria = [{{ window = 3, at_least = 1000 }}]
        cap_steps = {steps}
        stop = "cap"
        eval_episodes = 2

        [[runs]]
        name = "zoo"
        agent = "{agent}"
        config = {{ package = "rl_zoo3", path = "hyperparams/{algo}.yml" }}
        env = "e"
        seeds = [3]

        [[runs]]
        name = "rl_zoo3"
        trainer = "rl_zoo3_train.py:train"
        requires = ["rl_zoo3"]
        reference = "rl_zoo3"
        env = "e"
        seeds = [3]
        params = {{ algo = "{algo}" }}
        """))
    result = CliRunner().invoke(app, ["bench", "--suite", str(suite), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    zoo_row, reference = json.loads((tmp_path / "out" / "bench.json").read_text())["rows"]
    ours, theirs = zoo_row["seeds"][0], reference["seeds"][0]
    assert ours["trained_steps"] == theirs["trained_steps"] == steps
    assert ours["trained_episodes"] == theirs["trained_episodes"] >= episodes
    assert ours["final_mean_100"] == theirs["final_mean_100"]
    assert ours["eval_returns"] == theirs["eval_returns"]
    assert zoo_row["ratios"]["rl_zoo3"]["bound"] is True  # neither reached the threshold
