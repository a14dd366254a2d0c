"""The sb3 agent plugin: stable-baselines3 algorithms trained through the zoo's Agent contract."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
from zoo import checkpoint as ckpt
from zoo.cli import app
from zoo.errors import ZooError

runner = CliRunner()


@pytest.fixture(scope="module")
def ppo_runs(tmp_path_factory):
    """Two sb3-ppo runs on CartPole with the same seed, and an untrained agent's score."""
    root = tmp_path_factory.mktemp("sb3")
    return [zoo.train("sb3-ppo", "cartpole", seed=3, steps=8192, out=root / f"run{i}", argv=["zoo"]) for i in (0, 1)]


def test_sb3_agents_are_registered_by_their_own_plugin():
    names = {a.name: a.plugin for a in zoo.list_agents()}
    assert {names[n] for n in ("sb3-ppo", "sb3-a2c", "sb3-dqn", "sb3-sac")} == {"sb3"}


def test_training_is_reproducible_and_saves_safetensors_only(ppo_runs):
    first, second = ppo_runs
    assert first.returns == second.returns and first.env_steps == second.env_steps >= 8192
    a, b = (ckpt.find_checkpoint(r.run_dir) for r in ppo_runs)
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    assert sorted(p.name for p in a.iterdir()) == ["model.safetensors", "zoo.json"]
    assert not list(first.run_dir.rglob("*.zip"))
    meta = ckpt.read_meta(a)
    assert meta["agent"] == "sb3-ppo" and meta["config"]["n_steps"] == 32  # sb3_defaults.toml for CartPole-v1


def test_a_small_seeded_budget_learns_and_the_checkpoint_acts_like_the_trained_agent(ppo_runs):
    trained = zoo.load_agent(ppo_runs[0].run_dir)
    fresh = zoo.make_agent("sb3-ppo", "cartpole", seed=3)
    # Sampled actions: an untrained policy's greedy action can balance the pole by luck.
    before = zoo.evaluate(fresh, "cartpole", episodes=5, seed=0, deterministic=False).mean
    after = zoo.evaluate(trained, "cartpole", episodes=5, seed=0, deterministic=False).mean
    assert after > 3 * before, (before, after)
    returns = ppo_runs[0].returns
    assert np.mean(returns[-10:]) > 5 * np.mean(returns[:10])

    obs = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    reloaded = zoo.load_agent(ckpt.find_checkpoint(ppo_runs[0].run_dir))
    assert (reloaded.predict(obs, deterministic=True)[0] == trained.predict(obs, deterministic=True)[0]).all()


@pytest.mark.parametrize("agent,env", [("sb3-a2c", "cartpole"), ("sb3-dqn", "cartpole"),
                                       ("sb3-sac", "mountaincar-continuous")])
def test_every_algorithm_trains_a_chunk_and_reports_episodes(agent, env, tmp_path):
    overrides = {"learning_starts": 0, "iteration_steps": 256} if agent != "sb3-a2c" else {"iteration_steps": 256}
    result = zoo.train(agent, env, seed=0, steps=256, out=tmp_path / "run", argv=["zoo"], overrides=overrides)
    assert result.env_steps >= 256
    if env == "cartpole":  # short episodes: several end within 256 steps
        assert result.returns and all(r > 0 for r in result.returns)
    loaded = zoo.load_agent(result.run_dir)
    assert loaded.name == agent


def test_algorithms_refuse_action_spaces_they_cannot_handle():
    with pytest.raises(ZooError, match="SB3 DQN needs Discrete actions"):
        zoo.make_agent("sb3-dqn", "mountaincar-continuous")
    result = runner.invoke(app, ["train", "sb3-sac", "cartpole", "--steps", "10"])
    assert result.exit_code == 2 and "SB3 SAC needs Box actions" in result.output


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


def test_an_sb3_agent_checkpoint_round_trips_through_the_hub_without_pickles(hub, hub_repo_id, hf_home, ppo_runs):
    from zoo.hub import push_run

    push_run(ppo_runs[0].run_dir, hub_repo_id, eval_episodes=2, video=False)
    assert not [name for name in hub.files(hub_repo_id) if name.endswith((".zip", ".pkl", ".pt"))]
    result = runner.invoke(app, ["eval", "--from-hub", hub_repo_id, "--episodes", "3", "--json"])  # no trust flag
    assert result.exit_code == 0, result.output
    local = zoo.evaluate(zoo.load_agent(ppo_runs[0].run_dir), "cartpole", episodes=3, seed=0)
    assert json.loads(result.stdout)["mean"] == local.mean
