"""Every built-in agent on every built-in env through SB3's own evaluate_policy; checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from support.checks import write_meta

import zoo
from zoo.exceptions import ZooError
from zoo.factory import load_agent_class
from zoo.plugin_loader import loaded_plugins
from zoo.training.state import seeded_envs

LEARNERS = ["reinforce", "reinforce-baseline"]


def builtin_pairs():
    loaded = loaded_plugins()
    builtin_plugins = {p.name for p in loaded.plugins if p.distribution == "rl-agent-zoo"}
    envs = [e for e in loaded.envs if e.plugin in builtin_plugins]
    agents = [a for a in loaded.agents if a.plugin in builtin_plugins]
    return [(a.name, e.name) for a in agents for e in envs if load_agent_class(a).unsupported_reason(e) is None]


def test_every_builtin_env_is_covered_by_the_learning_agents():
    covered = {(a, e) for a, e in builtin_pairs()}
    for env in ("cartpole", "mountaincar-continuous"):
        for agent in ["hardcoded", *LEARNERS]:
            assert (agent, env) in covered


@pytest.mark.parametrize("agent_name,env_name", builtin_pairs())
def test_sb3_evaluate_policy_runs_on_every_builtin_agent_and_env(agent_name, env_name):
    agent = zoo.make_agent(agent_name, env_name, seed=0)
    entry = agent.env
    limit = None if entry.time_limit else 200
    vec_env = make_vec_env(lambda: zoo.make_env(env_name, max_episode_steps=limit), n_envs=2, seed=0)
    returns, lengths = evaluate_policy(agent, vec_env, n_eval_episodes=4, deterministic=True,
                                       return_episode_rewards=True)
    vec_env.close()
    assert len(returns) == 4 and all(np.isfinite(returns)) and all(n > 0 for n in lengths)


def test_hardcoded_cartpole_holds_the_pole_and_the_seed_rule_does_not():
    pd = zoo.evaluate(zoo.make_agent("hardcoded", "cartpole"), "cartpole", episodes=10)
    lean = zoo.evaluate(zoo.make_agent("hardcoded", "cartpole", overrides={"variant": "lean"}),
                        "cartpole", episodes=10)
    assert pd.min == 500
    assert lean.mean < 100


def test_hardcoded_mountaincar_scores_at_least_95():
    result = zoo.evaluate(zoo.make_agent("hardcoded", "mountaincar-continuous"), "mountaincar-continuous",
                          episodes=20)
    assert result.mean >= 95


def test_unknown_hardcoded_variant_is_refused():
    with pytest.raises(ZooError, match="no hardcoded policy 'nope'.*valid: default, lean"):
        zoo.make_agent("hardcoded", "cartpole", overrides={"variant": "nope"})


@pytest.mark.parametrize("agent_name", LEARNERS)
@pytest.mark.parametrize("env_name", ["cartpole", "mountaincar-continuous"])
def test_checkpoint_round_trip_gives_identical_actions(tmp_path, agent_name, env_name):
    agent = zoo.make_agent(agent_name, env_name, seed=3)
    agent.start_training(lambda n: seeded_envs(zoo.make_vec_env(env_name, n, max_episode_steps=50), 3))
    agent.train_iteration()  # so the weights are not the initial ones
    agent.stop_training()
    zoo.save_agent(agent, tmp_path / "ckpt")
    loaded = zoo.load_agent(tmp_path / "ckpt", agent=agent_name, env=env_name)
    obs = np.random.default_rng(0).normal(size=(64, *agent.env.observation_space.shape)).astype(np.float32)
    np.testing.assert_array_equal(agent.predict(obs, deterministic=True)[0],
                                  loaded.predict(obs, deterministic=True)[0])
    for name, tensor in agent.state_tensors().items():
        assert torch.equal(tensor, loaded.state_tensors()[name]), name


@pytest.fixture
def saved(tmp_path):
    agent = zoo.make_agent("reinforce", "cartpole", seed=0)
    return zoo.save_agent(agent, tmp_path / "ckpt")


def test_a_truncated_checkpoint_is_refused(saved):
    weights = saved / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(ZooError, match="truncated or corrupted"):
        zoo.load_agent(saved)


def test_a_checkpoint_missing_a_file_is_refused(saved):
    (saved / "zoo.json").unlink()
    with pytest.raises(ZooError, match="missing zoo.json"):
        zoo.load_agent(saved)


def test_a_checkpoint_for_another_agent_or_env_is_refused(saved):
    with pytest.raises(ZooError, match="is for agent 'reinforce', not 'reinforce-baseline'"):
        zoo.load_agent(saved, agent="reinforce-baseline")
    with pytest.raises(ZooError, match="is for env 'cartpole', not 'mountaincar-continuous'"):
        zoo.load_agent(saved, env="mountaincar-continuous")


def test_a_checkpoint_from_a_newer_format_is_refused(saved):
    meta = json.loads((saved / "zoo.json").read_text())
    meta["format_version"] = 99
    write_meta(saved, meta)
    with pytest.raises(ZooError, match="format version 99"):
        zoo.load_agent(saved)


def test_weights_of_the_wrong_shape_are_refused(saved, tmp_path):
    other = zoo.make_agent("reinforce", "cartpole", overrides={"net_arch": "8"})
    meta = json.loads((saved / "zoo.json").read_text())
    zoo.save_agent(other, tmp_path / "other")
    other_meta = json.loads((tmp_path / "other" / "zoo.json").read_text())
    other_meta["config"] = meta["config"]  # claims the default network, carries a smaller one
    write_meta(tmp_path / "other", other_meta)
    with pytest.raises(ZooError, match="does not fit agent 'reinforce'"):
        zoo.load_agent(tmp_path / "other")


def test_same_seed_same_training_result():
    def run():
        agent = zoo.make_agent("reinforce-baseline", "cartpole", seed=7)
        agent.start_training(lambda n: seeded_envs(zoo.make_vec_env("cartpole", n), 7))
        out = [agent.train_iteration().episode_returns for _ in range(3)]
        agent.stop_training()
        return out, agent.state_tensors()

    (returns_a, state_a), (returns_b, state_b) = run(), run()
    assert returns_a == returns_b
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)


def test_an_agent_refuses_an_env_it_cannot_handle():
    import gymnasium

    from zoo.agents.reinforce import Reinforce
    from zoo.entries import EnvEntry

    class DictObsEntry(EnvEntry):
        @property
        def spaces(self):
            return (gymnasium.spaces.Dict({"a": gymnasium.spaces.Discrete(2)}), gymnasium.spaces.Discrete(2))

    reason = Reinforce.unsupported_reason(DictObsEntry(name="d", gym_id="CartPole-v1"))
    assert "flat Box" in reason
