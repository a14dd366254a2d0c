"""`zoo export`: SB3 zips that SB3's own load opens, ONNX graphs that onnxruntime runs, both
acting exactly as the zoo agent they came from."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
from zoo.cli import app

runner = CliRunner()


def observations(env: str, n: int = 64) -> np.ndarray:
    made = zoo.make_env(env)
    try:
        return np.stack([made.observation_space.sample() for _ in range(n)]).astype(np.float32)
    finally:
        made.close()


def test_an_sb3_agent_exports_a_zip_that_sb3_loads_and_evaluates(tmp_path):
    import gymnasium
    from stable_baselines3 import PPO
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor

    zoo.train("sb3-ppo", "cartpole", seed=0, steps=2048, out=tmp_path / "run",
              overrides={"n_envs": 2, "n_steps": 256, "iteration_steps": 1024})
    result = runner.invoke(app, ["export", str(tmp_path / "run"), "--format", "sb3", "--out", str(tmp_path / "m.zip")])
    assert result.exit_code == 0, result.output
    model = PPO.load(tmp_path / "m.zip", device="cpu")
    agent = zoo.load_agent(tmp_path / "run")
    obs = observations("cartpole")
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], agent.predict(obs, deterministic=True)[0])
    mean, _ = evaluate_policy(model, Monitor(gymnasium.make("CartPole-v1")), n_eval_episodes=2)
    assert mean > 0


@pytest.mark.parametrize("env", ["cartpole", "mountaincar-continuous"])
def test_a_zoo_agent_exports_onnx_that_acts_as_it_does(tmp_path, env):
    import onnxruntime

    from zoo.tools.pretrained import find

    shipped = find("reinforce", env)
    agent = zoo.load_agent(shipped.path)
    out = tmp_path / "policy.onnx"
    result = runner.invoke(app, ["export", str(shipped.path), "--format", "onnx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    session = onnxruntime.InferenceSession(str(out))
    obs = observations(env)
    actions = session.run(None, {"observation": obs})[0]
    expected = agent.predict(obs, deterministic=True)[0]
    if agent.policy.discrete:
        np.testing.assert_array_equal(actions, expected)
    else:
        np.testing.assert_allclose(actions, expected, rtol=1e-5, atol=1e-6)


def test_a_format_the_agent_does_not_write_is_one_line(tmp_path):
    from zoo.tools.pretrained import find

    shipped = find("reinforce", "cartpole").path
    wrong = runner.invoke(app, ["export", str(shipped), "--format", "sb3", "--out", str(tmp_path / "m.zip")])
    assert wrong.exit_code == 2 and "its formats: onnx" in wrong.output
    suffix = runner.invoke(app, ["export", str(shipped), "--format", "onnx", "--out", str(tmp_path / "m.zip")])
    assert suffix.exit_code == 2 and "must end in .onnx" in suffix.output
    assert list(tmp_path.iterdir()) == []
