"""The example third-party plugins (plugins/zoo-catch, plugins/zoo-cem), installed with pip into
a folder on the path and found only through their entry points, work with every zoo command
exactly as the built-ins do, with nothing in the core that knows them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo.tools.checks import check_env, check_plugin, run_agent_smoke

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.usefixtures("example_plugins")


@pytest.fixture
def zoo_json(run_zoo):
    """``zoo_json(*args)``: the parsed output of ``zoo ARGS --json``, which must succeed."""

    def run(*args: str) -> dict:
        done = run_zoo(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run


def test_the_core_does_not_know_the_example_plugins():
    core = "\n".join(p.read_text() for p in (REPO / "zoo").rglob("*.py"))
    # The import contracts name them, to forbid the core to import them.
    core += (REPO / "pyproject.toml").read_text().split("[tool.importlinter]")[0]
    assert not re.search(r"zoo[_-]catch|zoo[_-]cem|CatchEnv|CrossEntropy", core)


def test_installed_plugins_are_listed_with_their_distribution_and_what_they_registered(zoo_json):
    plugins = {p["name"]: p for p in zoo_json("plugins")["plugins"]}
    catch, cem = plugins["catch"], plugins["cem"]
    assert (catch["distribution"], catch["version"], catch["error"]) == ("zoo-catch", "0.1.0", None)
    assert (catch["envs"], catch["agents"], catch["commands"]) == (["catch"], [], ["catch-play"])
    assert catch["hooks"] == ["register_commands", "register_envs"]
    assert (cem["distribution"], cem["agents"], cem["envs"], cem["error"]) == ("zoo-cem", ["cem"], [], None)
    assert (catch["api"], cem["api"], catch["deprecations"], cem["deprecations"]) == (">=1.2,<2", ">=1.2,<2", [], [])
    assert plugins["classic-envs"]["distribution"] == "rl-agent-zoo"

    listing = zoo_json("list")
    env = next(e for e in listing["envs"] if e["name"] == "catch")
    assert (env["gym_id"], env["plugin"], env["package"]) == ("zoo_catch/Catch-v0", "catch", "zoo-catch 0.1.0")
    assert env["hardcoded"] == ["default", "stay"]
    agent = next(a for a in listing["agents"] if a["name"] == "cem")
    assert (agent["plugin"], agent["package"]) == ("cem", "zoo-cem 0.1.0")
    assert listing["errors"] == [] or all(e["plugin"] not in ("catch", "cem") for e in listing["errors"])


def test_hook_register_commands(run_zoo):
    """The env plugin's command runs like a built-in one and shows in `zoo --help`."""
    done = run_zoo("catch-play", "--balls", "2", "--seed", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("return +2 over 2 balls")
    assert done.stdout.count("=") >= 10  # the paddle, drawn in each frame
    assert "catch-play" in run_zoo("--help").stdout


def test_env_plugins_hardcoded_policies_run_through_zoo_eval(zoo_json):
    result = zoo_json("eval", "hardcoded", "catch", "--episodes", "5")
    assert result["mean"] == 10.0 and result["std"] == 0.0  # follows the ball: catches all 10
    stay = zoo.evaluate(zoo.make_agent("hardcoded", "catch", overrides={"variant": "stay"}), "catch", episodes=20)
    assert stay.mean < -3  # catches only the balls dropped in the middle column


def test_zoo_train_and_eval_on_the_agent_plugin_with_the_env_plugin(tmp_path, run_zoo, zoo_json):
    run = tmp_path / "run"
    done = run_zoo("train", "cem", "catch", "--steps", "50000", "--seed", "0", "--out", str(run))
    assert done.returncode == 0, done.stderr
    for name in ("config.json", "command.txt", "returns.csv", "curve.png"):
        assert (run / name).is_file()
    assert json.loads((run / "config.json").read_text())["config"]["pop_size"] == 50  # zoo_cem's defaults.toml
    trained = zoo_json("eval", "cem", "catch", "--checkpoint", str(run), "--episodes", "20")
    untrained = zoo.evaluate(zoo.make_agent("cem", "catch"), "catch", episodes=20)  # mean policy: all zeros
    stay = zoo.evaluate(zoo.make_agent("hardcoded", "catch", overrides={"variant": "stay"}), "catch", episodes=20)
    assert trained["mean"] > max(untrained.mean, stay.mean) + 4, (trained["mean"], untrained.mean, stay.mean)


def test_plugin_agent_on_builtin_env_and_builtin_agent_on_plugin_env(tmp_path):
    cem = run_agent_smoke("cem", "cartpole", tmp_path / "cem", steps=3_000)
    assert cem.episodes == 3
    reinforce = run_agent_smoke("reinforce", "catch", tmp_path / "reinforce", steps=2_000)
    assert -10 <= reinforce.mean <= 10


def test_cem_checkpoint_round_trip_gives_identical_actions(tmp_path):
    agent = zoo.make_agent("cem", "catch", seed=3)
    agent.mean = np.random.default_rng(0).standard_normal(agent.mean.shape)
    zoo.save_agent(agent, tmp_path / "ckpt")
    loaded = zoo.load_agent(tmp_path / "ckpt", agent="cem", env="catch")
    observations = np.random.default_rng(1).random((64, 3), dtype=np.float32)
    np.testing.assert_array_equal(agent.predict(observations)[0], loaded.predict(observations)[0])
    with pytest.raises(zoo.ZooError, match="is for env 'catch', not 'cartpole'"):
        zoo.load_agent(tmp_path / "ckpt", env="cartpole")


def test_check_plugin_helper_passes_on_the_examples():
    assert check_plugin("catch").envs == ["catch"]
    assert check_plugin("cem", reload=False).agents == ["cem"]
    with pytest.raises(AssertionError, match="unknown plugin 'cath'"):
        check_plugin("cath", reload=False)


def test_zoo_check_all_runs_gymnasiums_checker_on_every_builtin_and_example_env(run_zoo, zoo_json):
    registered = {e.name for e in zoo.list_envs()}
    assert {"cartpole", "mountaincar-continuous", "catch"} <= registered  # and pixelcopter once it loads
    checks = {c["env"]: c for c in zoo_json("check", "--all")["checks"]}
    assert set(checks) == registered
    assert all(c["passed"] for c in checks.values()), {n: c["error"] for n, c in checks.items()}
    assert check_env("catch").warnings == []  # the example env is exemplary
    text = run_zoo("check", "cartpole")
    assert text.returncode == 0
    assert "cartpole (CartPole-v1, plugin classic-envs): passed" in text.stdout


def test_push_run_publishes_a_plugin_agent_to_the_hub(tmp_path, hub, hub_repo_id, hf_home):
    from zoo.hub.formats import load_hub_policy
    from zoo.hub.push import push_run

    result = zoo.train("cem", "catch", seed=0, steps=5_000, out=tmp_path / "run")
    pushed = push_run(result.run_dir, hub_repo_id, eval_episodes=5, video=False)
    assert {"model.safetensors", "zoo.json", "README.md"} <= set(pushed.files)
    assert {"model.safetensors", "zoo.json", "README.md"} <= set(hub.files(hub_repo_id))
    policy = load_hub_policy(hub_repo_id).policy
    local = zoo.load_agent(result.run_dir)
    observations = np.random.default_rng(0).random((32, 3), dtype=np.float32)
    np.testing.assert_array_equal(policy.predict(observations)[0], local.predict(observations)[0])


def test_zoo_push_command_on_a_plugin_agent(tmp_path, hub, hub_repo_id, hf_home, run_zoo):
    zoo.train("cem", "catch", seed=0, steps=5_000, out=tmp_path / "run")
    done = run_zoo("push", str(tmp_path / "run"), "--repo-id", hub_repo_id, "--eval-episodes", "3")
    assert done.returncode == 0, done.stderr
    files = hub.files(hub_repo_id)
    assert {"model.safetensors", "zoo.json", "results.json", "README.md", "replay.mp4"} <= set(files)
    assert json.loads(files["zoo.json"])["agent"] == "cem"
    assert "zoo_catch/Catch-v0" in files["README.md"].decode()
