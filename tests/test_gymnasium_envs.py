"""Every gymnasium id is a zoo env, with no plugin: names the plugins registered win, ids they did
not register work as themselves, and the spaces decide which agents fit."""

from __future__ import annotations

import json

import gymnasium
import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
from zoo.cli import app
from zoo.errors import ZooError
from zoo.factory import env_entry

runner = CliRunner()


def test_a_gymnasium_id_no_plugin_registered_is_an_env_of_its_own(tmp_path):
    entry = env_entry("CartPole-v0")
    assert (entry.name, entry.gym_id, entry.plugin) == ("CartPole-v0", "CartPole-v0", "gymnasium")
    assert entry.time_limit == 200
    assert env_entry("cartpole-v0") is entry  # case-insensitive, as zoo names are
    result = zoo.train("reinforce", "CartPole-v0", seed=0, steps=3000, out=tmp_path / "run")
    assert result.episodes > 0
    assert zoo.load_agent(tmp_path / "run").env is entry
    evaluated = runner.invoke(app, ["eval", "reinforce", "CartPole-v0", "--checkpoint", str(tmp_path / "run"),
                                    "--episodes", "2", "--json"])
    assert evaluated.exit_code == 0, evaluated.output


def test_plugin_names_win_and_add_hardcoded_policies():
    assert env_entry("Acrobot-v1").name == "acrobot" and "default" in env_entry("Acrobot-v1").hardcoded


def test_unknown_names_are_one_line_with_a_suggestion():
    with pytest.raises(ZooError, match=r"unknown env 'cartpol': did you mean 'cartpole'.*any gymnasium id works"):
        env_entry("cartpol")
    with pytest.raises(ZooError, match=r"module 'no_such_pkg' could not be imported: ModuleNotFoundError"):
        env_entry("no_such_pkg:Thing-v0")


def test_the_module_form_imports_a_package_that_registers_its_envs(tmp_path, monkeypatch):
    package = tmp_path / "my_envs_pkg.py"
    package.write_text("import gymnasium\n"
                       "gymnasium.register('MyPkgCartPole-v0', max_episode_steps=50,\n"
                       "                   entry_point='gymnasium.envs.classic_control:CartPoleEnv')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = env_entry("my_envs_pkg:MyPkgCartPole-v0")
    assert entry.gym_id == "MyPkgCartPole-v0" and entry.time_limit == 50
    gymnasium.registry.pop("MyPkgCartPole-v0")


def test_discrete_observations_run_with_the_sb3_agents(tmp_path):
    zoo.train("sb3-ppo", "FrozenLake-v1", seed=0, steps=1024, out=tmp_path / "run",
              overrides={"n_steps": 256, "iteration_steps": 512})
    agent = zoo.load_agent(tmp_path / "run")
    actions, _ = agent.predict(np.array([0, 5, 15]), deterministic=True)
    assert actions.shape == (3,) and all(agent.env.action_space.contains(int(a)) for a in actions)


def test_spaces_no_agent_takes_are_one_line_naming_agent_env_and_space(tmp_path):
    result = runner.invoke(app, ["train", "sb3-ppo", "Blackjack-v1", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "agent 'sb3-ppo' cannot run on env 'Blackjack-v1'" in result.output and "Tuple" in result.output
    assert not (tmp_path / "run").exists()


def test_lunarlander_flies_with_gymnasiums_own_heuristic():
    result = zoo.evaluate(zoo.make_agent("hardcoded", "lunarlander"), "lunarlander", episodes=3, seed=0)
    assert result.mean > 150


def test_zoo_list_all_shows_every_gymnasium_id_with_the_agents_that_fit():
    result = runner.invoke(app, ["list", "--all", "--json"])
    assert result.exit_code == 0, result.output
    catalog = {item["gym_id"]: item for item in json.loads(result.output)["gymnasium"]}
    assert set(catalog) == set(gymnasium.registry)
    assert catalog["CartPole-v1"]["name"] == "cartpole" and "hardcoded" in catalog["CartPole-v1"]["agents"]
    assert {"sb3-ppo", "sb3-dqn"} <= set(catalog["CliffWalking-v1"]["agents"])
    assert "sb3-sac" not in catalog["CliffWalking-v1"]["agents"]
    assert "sb3-sac" in catalog["Pendulum-v1"]["agents"] and "sb3-dqn" not in catalog["Pendulum-v1"]["agents"]
    assert catalog["CarRacing-v3"]["observation_space"] == "Box(96, 96, 3) uint8"
    assert catalog["Blackjack-v1"]["agents"] == []
