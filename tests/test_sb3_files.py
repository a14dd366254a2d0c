"""SB3 zips and rl-baselines3-zoo log folders as sources of `zoo eval`, `zoo record` and `zoo export`:
refused without --trust-remote-code (nothing unpickled to decide what they hold), run exactly as
SB3 runs them once trusted; and `zoo export --format sb3` of a normalised zoo run, with the
vecnormalize.pkl that SB3's VecNormalize.load opens."""

from __future__ import annotations

import base64
import inspect
import json
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from support.checks import assert_one_line_error
from typer.testing import CliRunner

import zoo
from zoo.cli import app
from zoo.remote_code import UnpicklingWarning

runner = CliRunner()
EPISODES = 4


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(autouse=True)
def no_blanket_trust(monkeypatch):
    monkeypatch.delenv("ZOO_TRUST_REMOTE_CODE", raising=False)


@pytest.fixture(scope="module")
def rl_zoo_run(tmp_path_factory) -> Path:
    """A normalised PPO run on CartPole-v1 written by rl-baselines3-zoo's own train.py."""
    logs = tmp_path_factory.mktemp("rl_zoo3") / "logs"
    done = subprocess.run([sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", "CartPole-v1",
                           "-n", "2048", "--eval-freq", "1024", "--eval-episodes", "2", "-f", str(logs), "--seed", "1",
                           "--verbose", "0", "--hyperparams", "normalize:True"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    run = logs / "ppo" / "CartPole-v1_1"
    assert {"CartPole-v1.zip", "best_model.zip", "CartPole-v1"} <= {p.name for p in run.iterdir()}
    assert (run / "CartPole-v1" / "vecnormalize.pkl").is_file()
    return run


class Normalised:
    """What rl-baselines3-zoo's enjoy.py runs: the model behind its frozen VecNormalize."""

    def __init__(self, zip_path: Path, stats: Path) -> None:
        from stable_baselines3 import PPO
        from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

        self.model = PPO.load(zip_path, device="cpu")
        self.stats = VecNormalize.load(str(stats), DummyVecEnv([lambda: zoo.make_env("CartPole-v1")]))

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return self.model.predict(self.stats.normalize_obs(observation), deterministic=deterministic)


def test_an_rl_zoo_log_folder_needs_trust_then_evaluates_as_rl_zoo_runs_it(rl_zoo_run):
    assert_one_line_error(invoke("eval", "--checkpoint", rl_zoo_run), "CartPole-v1.zip", "pickled",
                          "--trust-remote-code")

    with pytest.warns(UnpicklingWarning):
        trusted = invoke("eval", "--checkpoint", rl_zoo_run, "--trust-remote-code", "--episodes", EPISODES, "--json")
    assert trusted.exit_code == 0, trusted.output
    data = json.loads(trusted.stdout)
    expected = zoo.evaluate(Normalised(rl_zoo_run / "CartPole-v1.zip", rl_zoo_run / "CartPole-v1/vecnormalize.pkl"),
                            "CartPole-v1", episodes=EPISODES, seed=0)
    assert data["returns"] == expected.returns and data["env"] == "cartpole"  # the env named by its args.yml
    assert "SB3 PPO model CartPole-v1.zip with CartPole-v1/vecnormalize.pkl" in data["source"]

    # Its best model, named as a file; --best is for zoo runs, and says how to name rl_zoo3's.
    with pytest.warns(UnpicklingWarning):
        best = invoke("eval", "--checkpoint", rl_zoo_run / "best_model.zip", "--trust-remote-code", "--json",
                      "--episodes", EPISODES)
    assert best.exit_code == 0, best.output
    assert json.loads(best.stdout)["source"].startswith("SB3 PPO model best_model.zip with")
    assert_one_line_error(invoke("eval", "--checkpoint", rl_zoo_run, "--best"), "best_model.zip")


def test_record_takes_the_trust_flag_and_a_folder_that_names_its_env(rl_zoo_run, tmp_path):
    video = tmp_path / "replay.mp4"
    assert_one_line_error(invoke("record", "--checkpoint", rl_zoo_run, "--out", video), "--trust-remote-code")
    assert not video.exists()
    with pytest.warns(UnpicklingWarning):
        done = invoke("record", "--checkpoint", rl_zoo_run, "--out", video, "--trust-remote-code", "--max-steps", 50)
    assert done.exit_code == 0, done.output
    assert video.read_bytes()[4:8] == b"ftyp" and "SB3 PPO model CartPole-v1.zip" in done.stdout


def test_export_of_an_rl_zoo_folder_copies_its_model_and_statistics(rl_zoo_run, tmp_path):
    out = tmp_path / "out" / "model.zip"
    out.parent.mkdir()
    assert_one_line_error(invoke("export", rl_zoo_run, "--format", "sb3", "--out", out), "--trust-remote-code")
    with pytest.warns(UnpicklingWarning):
        done = invoke("export", rl_zoo_run, "--format", "sb3", "--out", out, "--trust-remote-code")
    assert done.exit_code == 0, done.output
    assert out.read_bytes() == (rl_zoo_run / "CartPole-v1.zip").read_bytes()
    assert (out.parent / "vecnormalize.pkl").read_bytes() == (rl_zoo_run / "CartPole-v1/vecnormalize.pkl").read_bytes()
    assert "vecnormalize.pkl beside it" in done.stdout


def save_models(folder: Path) -> dict[str, Path]:
    """One untrained zip per algorithm rl-baselines3-zoo knows, saved by SB3 and sb3-contrib."""
    import sb3_contrib
    import stable_baselines3 as sb3

    made = {}
    discrete, box = "CartPole-v1", "Pendulum-v1"
    for name, cls, env in (
            ("ppo", sb3.PPO, discrete), ("a2c", sb3.A2C, discrete), ("dqn", sb3.DQN, discrete), ("sac", sb3.SAC, box),
            ("td3", sb3.TD3, box), ("ddpg", sb3.DDPG, box), ("qrdqn", sb3_contrib.QRDQN, discrete),
            ("tqc", sb3_contrib.TQC, box), ("trpo", sb3_contrib.TRPO, discrete), ("ars", sb3_contrib.ARS, discrete),
            ("crossq", sb3_contrib.CrossQ, box), ("ppo_lstm", sb3_contrib.RecurrentPPO, discrete)):
        policy = "MlpLstmPolicy" if name == "ppo_lstm" else "MlpPolicy"
        kwargs = {"buffer_size": 100} if "buffer_size" in inspect.signature(cls).parameters else {}
        cls(policy, env, device="cpu", **kwargs).save(folder / f"model-{name}")
        made[name] = folder / f"model-{name}.zip"
    return made


def test_the_algorithm_of_a_zip_is_read_from_its_json(tmp_path):
    from zoo.agents.sb3_files import algorithm_of, read_zip_data

    for name, path in save_models(tmp_path).items():
        assert algorithm_of(read_zip_data(path)) == name, name


def test_a_zip_is_identified_and_refused_without_running_any_of_its_pickles(tmp_path):
    """A zip whose pickles would touch a file when unpickled: its algorithm is read, its spaces and
    name checked, and it is refused, all without the file appearing."""
    from stable_baselines3 import PPO

    from zoo.agents.sb3_files import algorithm_of, read_zip_data

    marker = tmp_path / "unpickled"

    class Touch:
        def __reduce__(self):
            return Path.touch, (marker,)

    PPO("MlpPolicy", "CartPole-v1", device="cpu").save(tmp_path / "good")
    with zipfile.ZipFile(tmp_path / "good.zip") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(members["data"])
    payload = base64.b64encode(pickle.dumps(Touch())).decode()
    for key in ("policy_class", "observation_space", "action_space", "lr_schedule"):
        data[key][":serialized:"] = payload
    members["data"] = json.dumps(data).encode()
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)

    assert algorithm_of(read_zip_data(evil)) == "ppo"
    assert_one_line_error(invoke("eval", "sb3-ppo", "CartPole-v1", "--checkpoint", evil), "evil.zip", "pickled",
                          "--trust-remote-code")
    assert_one_line_error(invoke("eval", "sb3-a2c", "CartPole-v1", "--checkpoint", evil),
                          "agent 'sb3-ppo'", "not 'sb3-a2c'")
    assert_one_line_error(invoke("eval", "sb3-ppo", "Pendulum-v1", "--checkpoint", evil), "observation space")
    assert_one_line_error(invoke("eval", "--checkpoint", evil, "--trust-remote-code"), "does not say which env",
                          f"zoo eval AGENT ENV --checkpoint {evil}")
    named = tmp_path / "a2c-CartPole-v1.zip"  # huggingface_sb3's name, for another algorithm
    shutil.copyfile(evil, named)
    assert_one_line_error(invoke("eval", "--checkpoint", named), "named for A2C", "holds a PPO model")
    assert not marker.exists()
    not_sb3 = tmp_path / "other.zip"
    with zipfile.ZipFile(not_sb3, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert_one_line_error(invoke("eval", "sb3-ppo", "CartPole-v1", "--checkpoint", not_sb3), "not a stable-baselines3")


def test_a_zip_of_any_name_runs_the_model_sb3_loads_from_it(tmp_path):
    from stable_baselines3 import DQN

    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=0, buffer_size=1000, seed=0, device="cpu")
    model.learn(200)
    model.save(tmp_path / "my model")
    with pytest.warns(UnpicklingWarning):
        done = invoke("eval", "sb3-dqn", "CartPole-v1", "--checkpoint", tmp_path / "my model.zip",
                      "--trust-remote-code", "--json", "--episodes", EPISODES)
    assert done.exit_code == 0, done.output
    reference = zoo.evaluate(DQN.load(tmp_path / "my model.zip", device="cpu"), "CartPole-v1", episodes=EPISODES,
                             seed=0)
    assert json.loads(done.stdout)["returns"] == reference.returns


def test_exporting_a_normalised_run_writes_the_statistics_sb3_loads(tmp_path):
    """The zip and vecnormalize.pkl of a normalised zoo run: VecNormalize.load gives the run's
    statistics, and SB3's evaluate_policy through them reproduces the zoo's evaluation."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    run = tmp_path / "run"
    zoo.train("sb3-ppo", "cartpole", seed=0, steps=2048, out=run, argv=["zoo"],
              overrides={"norm_obs": True, "norm_reward": True, "n_envs": 2, "n_steps": 256, "iteration_steps": 1024})
    out = tmp_path / "model.zip"
    done = invoke("export", run, "--format", "sb3", "--out", out)
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.zip", "run", "vecnormalize.pkl"]

    tensors = zoo.load_agent(run).state_tensors()
    copies = 5
    venv = DummyVecEnv([lambda: Monitor(zoo.make_env("cartpole"))] * copies)
    venv.seed(0)
    stats = VecNormalize.load(str(tmp_path / "vecnormalize.pkl"), venv)
    for name in ("obs_rms", "ret_rms"):
        rms = getattr(stats, name)
        np.testing.assert_array_equal(rms.mean, tensors[f"vec_normalize.{name}.mean"].numpy())
        np.testing.assert_array_equal(rms.var, tensors[f"vec_normalize.{name}.var"].numpy())
        assert rms.count == float(tensors[f"vec_normalize.{name}.count"])
    assert stats.norm_obs and stats.norm_reward
    stats.training, stats.norm_reward = False, False
    returns, _ = evaluate_policy(PPO.load(out, device="cpu"), stats, n_eval_episodes=copies, deterministic=True,
                                 return_episode_rewards=True)
    ours = zoo.evaluate(zoo.load_agent(run), "cartpole", episodes=copies, seed=0, vectorization_mode="sync")
    assert list(returns) == ours.returns

    plain = tmp_path / "plain"
    zoo.train("sb3-a2c", "cartpole", seed=0, steps=100, out=plain, argv=["zoo"])
    (tmp_path / "vecnormalize.pkl").unlink()
    assert invoke("export", plain, "--format", "sb3", "--out", tmp_path / "plain.zip").exit_code == 0
    assert not (tmp_path / "vecnormalize.pkl").exists()
    assert_one_line_error(invoke("export", plain, "--format", "vecnormalize", "--out", tmp_path / "s.pkl"),
                          "does not normalise")
