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
from zoo.exceptions import ZooError
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


def test_zoo_list_all_shows_every_gymnasium_id_with_the_agents_that_fit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MuJoCo, if installed, writes its warnings to MUJOCO_LOG.TXT here
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


# -- Discrete observations for the zoo's own agents ---------------------------------------------
def test_discrete_observations_are_one_hot_the_same_in_numpy_and_torch():
    import torch

    from zoo.agents.acting import encode_observations, encoded_size

    space = gymnasium.spaces.Discrete(4, start=-1)  # a start offset: index = observation - start
    encoded = encode_observations(np.array([-1, 2, 0]), space)
    np.testing.assert_array_equal(encoded, [[1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0]])
    assert encoded.dtype == np.float32 and encoded_size(space) == 4
    np.testing.assert_array_equal(encode_observations(torch.tensor([-1, 2, 0]), space).numpy(), encoded)
    box = gymnasium.spaces.Box(-1, 1, (3,))
    rows = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(encode_observations(rows, box), rows.astype(np.float32))
    assert encoded_size(box) == 3


def test_the_contract_and_the_catalog_let_reinforce_take_discrete_observations():
    from zoo.agent_base import supports_spaces
    from zoo.catalog import agents_that_fit

    discrete, box = gymnasium.spaces.Discrete(16), gymnasium.spaces.Box(-1, 1, (2,))
    assert supports_spaces(discrete, discrete) is None
    assert "flat Box or Discrete" in supports_spaces(gymnasium.spaces.Tuple((discrete, discrete)), box)
    for gym_id in ("FrozenLake-v1", "CliffWalking-v1"):
        assert {"reinforce", "reinforce-baseline"} <= set(agents_that_fit(env_entry(gym_id)))
    assert "cem" not in agents_that_fit(env_entry("FrozenLake-v1"))  # the example plugin's linear policy


@pytest.fixture
def frozen_lake():
    """FrozenLake 4×4 without slipping: the shortest path takes 6 steps, a random walk rarely gets there."""
    gym_id = "ZooTestFrozenLakeNotSlippery-v1"
    gymnasium.register(gym_id, entry_point="gymnasium.envs.toy_text.frozen_lake:FrozenLakeEnv",
                       kwargs={"map_name": "4x4", "is_slippery": False}, max_episode_steps=100)
    yield gym_id
    gymnasium.registry.pop(gym_id)


def test_reinforce_learns_a_toy_text_env_from_one_hot_states(tmp_path, frozen_lake):
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    result = zoo.train("reinforce", frozen_lake, seed=0, steps=10_000, out=tmp_path / "run",
                       overrides={"learning_rate": 0.05, "n_envs": 16})
    assert np.mean(result.returns[:100]) < 0.2  # at first the goal is found by chance
    agent = zoo.load_agent(tmp_path / "run")
    vec_env = make_vec_env(lambda: gymnasium.make(frozen_lake), n_envs=2, seed=1)
    returns, lengths = evaluate_policy(agent, vec_env, n_eval_episodes=4, deterministic=True,
                                       return_episode_rewards=True)
    assert returns == [1.0] * 4 and lengths == [6] * 4  # every episode on a shortest path
    action, _ = agent.predict(np.int64(0), deterministic=True)  # one state, not a batch
    assert np.ndim(action) == 0 and action in (1, 2)  # down or right from the start


def test_reinforce_baseline_runs_on_a_discrete_observation_env(tmp_path):
    from zoo.tools.checks import run_agent_smoke

    # A random walk takes thousands of steps to the goal (or the 10,000-step cap); the first update
    # waits for all 4 copies to end an episode: 39,992 env steps with seed 0.
    run_agent_smoke("reinforce-baseline", "CliffWalking-v1", tmp_path, steps=50_000, overrides={"n_envs": 4},
                    episodes=1)


def test_an_exported_discrete_observation_policy_takes_state_indices(tmp_path, frozen_lake):
    import onnxruntime

    zoo.train("reinforce", frozen_lake, seed=0, steps=2_000, out=tmp_path / "run", overrides={"n_envs": 4})
    exported = runner.invoke(app, ["export", str(tmp_path / "run"), "--format", "onnx",
                                   "--out", str(tmp_path / "policy.onnx")])
    assert exported.exit_code == 0, exported.output
    agent = zoo.load_agent(tmp_path / "run")
    states = np.arange(16, dtype=np.int64)
    actions = onnxruntime.InferenceSession(str(tmp_path / "policy.onnx")).run(None, {"observation": states})[0]
    np.testing.assert_array_equal(actions, agent.predict(states, deterministic=True)[0])


# -- Image observations for the SB3 agents ------------------------------------------------------
class MatchTheScreen(gymnasium.Env):
    """A 36×36 RGB screen, all black or all white; action 1 on white and 0 on black scores 1.
    The smallest image SB3's CNN (NatureCNN) takes, and a task a CNN learns quickly."""

    observation_space = gymnasium.spaces.Box(0, 255, (36, 36, 3), np.uint8)
    action_space = gymnasium.spaces.Discrete(2)
    metadata = {"render_modes": []}

    def __init__(self, render_mode=None):
        self.render_mode = render_mode

    def _screen(self):
        self.white = bool(self.np_random.integers(2))
        return np.full((36, 36, 3), 255 * self.white, dtype=np.uint8)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self._screen(), {}

    def step(self, action):
        reward = float(int(action) == self.white)
        return self._screen(), reward, False, False, {}


@pytest.fixture
def screen_env():
    gym_id = "ZooTestMatchTheScreen-v0"
    gymnasium.register(gym_id, entry_point=MatchTheScreen, max_episode_steps=20)
    yield gym_id
    gymnasium.registry.pop(gym_id)


def test_sb3_agents_train_a_cnn_policy_on_image_observations(tmp_path, screen_env):
    zoo.train("sb3-ppo", screen_env, seed=0, steps=512, out=tmp_path / "run",
              overrides={"n_steps": 128, "batch_size": 64, "n_epochs": 2, "iteration_steps": 256})
    agent = zoo.load_agent(tmp_path / "run")
    assert type(agent.model.policy).__name__ == "ActorCriticCnnPolicy"
    screens = np.stack([np.zeros((36, 36, 3), np.uint8), np.full((36, 36, 3), 255, np.uint8)])
    actions, _ = agent.predict(screens, deterministic=True)
    assert actions.shape == (2,)
    result = zoo.evaluate(agent, screen_env, episodes=2, seed=0)
    assert result.episodes == 2 and result.mean_length == 20


def test_zoo_check_says_which_agents_fit_the_env():
    result = runner.invoke(app, ["check", "FrozenLake-v1", "--json"])
    assert result.exit_code == 0, result.output
    (check,) = json.loads(result.output)["checks"]
    assert check["passed"] and {"reinforce", "reinforce-baseline", "sb3-ppo", "sb3-dqn"} <= set(check["agents"])
    assert not {"sb3-sac", "sb3-td3", "hardcoded"} & set(check["agents"])  # Discrete actions; no policy shipped
    text = runner.invoke(app, ["check", "pendulum"])
    assert text.exit_code == 0, text.output
    fit = [line for line in text.output.splitlines() if line.startswith("  agents that fit: ")]
    assert fit and "sb3-td3" in fit[0] and "sb3-dqn" not in fit[0] and "hardcoded" in fit[0]
