"""The sb3 agent plugin: stable-baselines3 algorithms trained through the zoo's Agent contract."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
from zoo import checkpoint as ckpt
from zoo.cli import app
from zoo.exceptions import ZooError
from zoo.tools.checks import check_plugin, run_agent_smoke

runner = CliRunner()


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory):
    """sb3-ppo trained on CartPole for 8192 steps with its default (data) hyperparameters."""
    return zoo.train("sb3-ppo", "cartpole", seed=3, steps=8192, out=tmp_path_factory.mktemp("sb3") / "run",
                     argv=["zoo"])


def test_sb3_agents_are_registered_by_their_own_plugin():
    names = {a.name: a.plugin for a in zoo.list_agents()}
    assert {names[n] for n in ("sb3-ppo", "sb3-a2c", "sb3-dqn", "sb3-sac")} == {"sb3"}


def test_checkpoints_are_safetensors_only(ppo_run):
    a = ckpt.find_checkpoint(ppo_run.run_dir)
    assert ppo_run.env_steps >= 8192
    # The policy, and (for --resume) the optimiser, counters and random streams: never an SB3 zip.
    assert sorted(p.name for p in a.iterdir()) == ["model.safetensors", "training.json", "training.safetensors",
                                                   "zoo.json"]
    assert not list(ppo_run.run_dir.rglob("*.zip"))
    meta = ckpt.read_meta(a)
    assert meta["agent"] == "sb3-ppo" and meta["config"]["n_steps"] == 32  # sb3_defaults.toml for CartPole-v1


def test_a_small_seeded_budget_learns(ppo_run):
    trained = zoo.load_agent(ppo_run.run_dir)
    fresh = zoo.make_agent("sb3-ppo", "cartpole", seed=3)
    # Sampled actions: an untrained policy's greedy action can balance the pole by luck.
    before = zoo.evaluate(fresh, "cartpole", episodes=5, seed=0, deterministic=False).mean
    after = zoo.evaluate(trained, "cartpole", episodes=5, seed=0, deterministic=False).mean
    assert after > 3 * before, (before, after)
    returns = ppo_run.returns
    assert np.mean(returns[-10:]) > 5 * np.mean(returns[:10])


def test_the_plugin_loads_cleanly():
    info = check_plugin("sb3", check_envs=False)
    assert info.agents == ["sb3-ppo", "sb3-a2c", "sb3-dqn", "sb3-sac", "sb3-td3", "sb3-ddpg", "sb3-ars", "sb3-crossq",
                           "sb3-qrdqn", "sb3-tqc", "sb3-trpo", "sb3-ppo-lstm"]
    assert info.distribution == "rl-agent-zoo"


#: Small budgets; episodes of MountainCarContinuous last 999 steps, so SAC needs 1000 to finish one.
SMOKE = [("sb3-ppo", "cartpole", 512, {"iteration_steps": 256}),
         ("sb3-a2c", "cartpole", 256, {"iteration_steps": 128}),
         ("sb3-dqn", "cartpole", 256, {"learning_starts": 0, "iteration_steps": 128, "train_freq": 16,
                                      "gradient_steps": 4}),
         ("sb3-sac", "mountaincar-continuous", 1000, {"iteration_steps": 500, "train_freq": 50, "gradient_steps": 2,
                                                     "batch_size": 64}),
         ("sb3-td3", "pendulum", 400, {"iteration_steps": 200, "learning_starts": 100, "train_freq": 50,
                                       "gradient_steps": 2, "batch_size": 64}),
         ("sb3-ddpg", "pendulum", 400, {"iteration_steps": 200, "learning_starts": 100, "train_freq": 50,
                                        "gradient_steps": 2, "batch_size": 64, "noise_std": 0.3})]


@pytest.mark.parametrize("agent,env,steps,overrides", SMOKE, ids=[s[0] for s in SMOKE])
def test_every_algorithm_passes_the_zoo_agent_smoke_test(agent, env, steps, overrides, tmp_path):
    """Same seed, same returns; checkpoint reloads to the same actions, inside the action space."""
    result = run_agent_smoke(agent, env, tmp_path, steps=steps, overrides=overrides, episodes=1)
    assert result.episodes == 1


def test_algorithms_refuse_action_spaces_they_cannot_handle():
    with pytest.raises(ZooError, match="SB3 DQN needs Discrete actions"):
        zoo.make_agent("sb3-dqn", "mountaincar-continuous")
    result = runner.invoke(app, ["train", "sb3-sac", "cartpole", "--steps", "10"])
    assert result.exit_code == 2 and "SB3 SAC needs Box actions" in result.output


def test_td3_explores_with_gaussian_action_noise_of_noise_std():
    noisy = zoo.make_agent("sb3-td3", "pendulum", overrides={"noise_std": 0.2})
    assert noisy.model.action_noise._sigma.tolist() == [0.2]
    assert zoo.make_agent("sb3-ddpg", "pendulum", overrides={"noise_std": 0.0}).model.action_noise is None


def test_dqn_exploration_follows_the_runs_step_count_across_iterations(tmp_path):
    agent = zoo.make_agent("sb3-dqn", "cartpole", seed=0, overrides={
        "exploration_steps": 1000, "exploration_final_eps": 0.05, "iteration_steps": 250, "learning_starts": 10_000})
    agent.start_training(None)
    rates = []
    for _ in range(4):
        agent.train_iteration()
        rates.append(agent.model.exploration_rate)
    # SB3 alone would restart its schedule at every learn() call; here it decays once, over the run.
    assert rates == sorted(rates, reverse=True) and rates[-1] == pytest.approx(0.05)


def test_an_sb3_agent_checkpoint_round_trips_through_the_hub_without_pickles(hub, hub_repo_id, hf_home, ppo_run):
    from zoo.hub.push import push_run

    push_run(ppo_run.run_dir, hub_repo_id, eval_episodes=2, video=False)
    assert not [name for name in hub.files(hub_repo_id) if name.endswith((".zip", ".pkl", ".pt"))]
    result = runner.invoke(app, ["eval", "--from-hub", hub_repo_id, "--episodes", "3", "--json"])  # no trust flag
    assert result.exit_code == 0, result.output
    local = zoo.evaluate(zoo.load_agent(ppo_run.run_dir), "cartpole", episodes=3, seed=0)
    assert json.loads(result.stdout)["mean"] == local.mean


def test_rl_zoo_entries_with_gaussian_action_noise_configure_td3():
    from zoo.agents.rl_zoo import read_entry
    from zoo.agents.sb3 import SB3PPO, SB3TD3
    from zoo.factory import env_entry

    pendulum = env_entry("Pendulum-v1")
    entry = {"n_timesteps": 20000, "policy": "MlpPolicy", "noise_type": "normal", "noise_std": 0.1,
             "learning_starts": 10000, "policy_kwargs": "dict(net_arch=[400, 300])"}
    read = read_entry(SB3TD3, {"Pendulum-v1": entry}, pendulum)
    assert read.hyperparameters == {"noise_type": "normal", "noise_std": 0.1, "learning_starts": 10000,
                                    "net_arch": [400, 300]}
    assert read.budget == {"steps": 20000}
    correlated = read_entry(SB3TD3, {"Pendulum-v1": {**entry, "noise_type": "ornstein-uhlenbeck"}}, pendulum)
    assert correlated.hyperparameters["noise_type"] == "ornstein-uhlenbeck"
    with pytest.raises(ZooError, match="'noise_type', 'noise_std', 'learning_starts' cannot be honoured"):
        read_entry(SB3PPO, {"Pendulum-v1": entry}, pendulum)  # PPO samples its own actions
