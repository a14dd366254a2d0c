"""`zoo train AGENT ENV --init FROM`: a new run that starts from FROM's weights (a checkpoint, run,
Hub repo, shipped pretrained agent, SB3 zip or rl-baselines3-zoo folder) with the hyperparameters
of a new run, recorded in its config.json; --resume stays exact and refuses it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from support.checks import assert_one_line_error, snapshot
from typer.testing import CliRunner

import zoo
from zoo import checkpoint as ckpt
from zoo.cli import app
from zoo.remote_code import UnpicklingWarning

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(autouse=True)
def no_blanket_trust(monkeypatch):
    monkeypatch.delenv("ZOO_TRUST_REMOTE_CODE", raising=False)


@pytest.fixture(scope="module")
def reinforce_run(tmp_path_factory) -> Path:
    return zoo.train("reinforce", "cartpole", seed=3, episodes=16, out=tmp_path_factory.mktemp("from") / "run",
                     argv=["zoo"]).run_dir


def same_tensors(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def started(tmp_path: Path, agent: str, env: str, init: zoo.InitWeights, **overrides) -> zoo.Session:
    """A new run's session, built and checked, not trained (its lock released at the end of the test)."""
    session = zoo.start_run(agent, env, init=init, episodes=2, out=tmp_path / "new", overrides=overrides, argv=["zoo"])
    session.lock.close()
    return session


def test_a_run_starts_from_a_runs_weights_with_its_own_hyperparameters(reinforce_run, tmp_path):
    init = zoo.init_from(reinforce_run)
    session = started(tmp_path, "reinforce", "cartpole", init, learning_rate=0.05)

    assert same_tensors(session.learner.state_tensors(), zoo.load_agent(reinforce_run).state_tensors())
    assert session.learner.config.learning_rate == 0.05 and session.seed == 0  # a new run's settings
    recorded = json.loads((tmp_path / "new" / "config.json").read_text())["init"]
    folder = ckpt.find_checkpoint(reinforce_run)
    assert recorded == {"description": f"checkpoint {reinforce_run}", "from": str(reinforce_run),
                        "kind": "checkpoint", "checkpoint": str(folder),
                        "weights_sha256": ckpt.read_meta(folder)["weights_sha256"]}


def test_the_command_line_trains_from_it_and_records_the_command(reinforce_run, tmp_path):
    done = invoke("train", "reinforce", "cartpole", "--init", reinforce_run, "--episodes", 4, "--set",
                  "learning_rate=0.02", "--out", tmp_path / "tuned")
    assert done.exit_code == 0, done.output
    config = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert config["init"]["from"] == str(reinforce_run) and config["config"]["learning_rate"] == 0.02
    assert f"--init {reinforce_run}" in (tmp_path / "tuned" / "command.txt").read_text()
    plan = invoke("train", "reinforce", "cartpole", "--init", reinforce_run, "--dry-run", "--json")
    assert json.loads(plan.stdout)["init"]["kind"] == "checkpoint"


def test_resume_stays_exact_and_refuses_init(reinforce_run):
    before = snapshot(reinforce_run)
    assert_one_line_error(invoke("train", "--resume", reinforce_run, "--init", reinforce_run), "--init")
    assert_one_line_error(invoke("train", "--resume", reinforce_run, "--set", "learning_rate=0.1"), "--set")
    assert snapshot(reinforce_run) == before


def test_the_shipped_checkpoint_and_a_best_policy(reinforce_run, tmp_path):
    init = zoo.init_from("pretrained", agent="reinforce", env="CartPole-v1")
    shipped = zoo.load_agent(zoo.find_policy(agent="reinforce", env="CartPole-v1").path)
    assert init.record["kind"] == "pretrained"
    session = started(tmp_path, "reinforce", "CartPole-v1", init, net_arch=list(shipped.config.net_arch))
    assert same_tensors(session.learner.state_tensors(), shipped.state_tensors())
    with pytest.raises(zoo.ZooError, match="no pretrained checkpoint"):
        zoo.init_from("pretrained", agent="reinforce", env="Pendulum-v1")


def test_weights_of_another_agent_or_env_or_shape_are_one_line_before_anything_is_written(reinforce_run, tmp_path):
    assert_one_line_error(invoke("train", "reinforce-baseline", "cartpole", "--init", reinforce_run, "--out",
                                 tmp_path / "x"), "agent 'reinforce'", "not 'reinforce-baseline'")
    assert_one_line_error(invoke("train", "reinforce", "acrobot", "--init", reinforce_run, "--out", tmp_path / "x"),
                          "observation space")
    arch = list(zoo.load_agent(reinforce_run).config.net_arch)
    line = assert_one_line_error(invoke("train", "reinforce", "cartpole", "--init", reinforce_run, "--set",
                                        "net_arch=[7]", "--out", tmp_path / "x"), "does not fit", "shape")
    assert f"--set net_arch=[{','.join(map(str, arch))}]" in line
    assert not (tmp_path / "x").exists()
    # Another env with the same spaces is a transfer: allowed.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # gymnasium: CartPole-v0 is out of date
        assert zoo.plan_run("reinforce", "CartPole-v0", init=zoo.init_from(reinforce_run)).init is not None


def test_an_sb3_zip_seeds_an_sb3_agent_behind_the_trust_gate(tmp_path):
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=64, seed=0, device="cpu")
    model.learn(64)
    model.save(tmp_path / "model")
    assert_one_line_error(invoke("train", "sb3-ppo", "CartPole-v1", "--init", tmp_path / "model.zip", "--out",
                                 tmp_path / "x"), "pickled", "--trust-remote-code")
    assert not (tmp_path / "x").exists()

    with pytest.warns(UnpicklingWarning):
        init = zoo.init_from(tmp_path / "model.zip", agent="sb3-ppo", env="CartPole-v1", trust_remote_code=True)
    assert init.agent == "sb3-ppo" and init.record == {"from": str(tmp_path / "model.zip"), "kind": "foreign"}
    session = started(tmp_path, "sb3-ppo", "CartPole-v1", init, learning_rate=1e-4, n_envs=1, n_steps=128,
                      batch_size=64)
    learner = session.learner
    expected = model.policy.state_dict()
    assert all(torch.equal(learner.model.policy.state_dict()[k], expected[k]) for k in expected)
    assert learner.model.learning_rate == 1e-4 and learner.model.n_steps == 128
    obs = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    np.testing.assert_array_equal(learner.predict(obs, deterministic=True)[0],
                                  model.predict(obs, deterministic=True)[0])

    wide = PPO("MlpPolicy", "CartPole-v1", policy_kwargs={"net_arch": [32, 32], "activation_fn": torch.nn.ReLU},
               device="cpu")
    wide.save(tmp_path / "wide")
    with pytest.warns(UnpicklingWarning):
        line = assert_one_line_error(invoke("train", "sb3-ppo", "CartPole-v1", "--init", tmp_path / "wide.zip",
                                            "--trust-remote-code", "--out", tmp_path / "y"), "does not fit")
    assert "--set net_arch=[32,32] --set activation=relu" in line


def test_a_hub_repo_seeds_a_run(hub, hub_repo_id, hf_home, reinforce_run, tmp_path):
    from zoo.hub.push import push_run

    push_run(reinforce_run, hub_repo_id, eval_episodes=2, video=False)
    init = zoo.init_from(f"hub:{hub_repo_id}")
    assert init.record["kind"] == "hub" and init.record["from"] == f"hub:{hub_repo_id}"
    session = started(tmp_path, "reinforce", "cartpole", init)
    assert same_tensors(session.learner.state_tensors(), zoo.load_agent(reinforce_run).state_tensors())
