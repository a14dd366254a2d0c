"""``--steps N`` on an sb3 agent run from an rl-baselines3-zoo entry means SB3's ``model.learn(N)``:
the same ``num_timesteps`` (whole rollouts of n_envs × n_steps, nothing more) and one
``progress.csv`` row per rollout, as SB3 writes with ``log_interval=1``."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure
from typer.testing import CliRunner

from zoo.cli import app

HYPERPARAMS = Path(importlib.util.find_spec("rl_zoo3").submodule_search_locations[0]) / "hyperparams"


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plain_sb3(algo, n_envs: int, n_steps: int, steps: int, folder: Path) -> tuple[int, int]:
    """num_timesteps and progress rows of SB3's own learn(steps), logging every rollout."""
    model = algo("MlpPolicy", make_vec_env("CartPole-v1", n_envs=n_envs, seed=0), n_steps=n_steps, seed=0,
                 device="cpu")
    model.set_logger(configure(str(folder), ["csv"]))
    model.learn(steps, log_interval=1)
    return model.num_timesteps, len(rows(folder / "progress.csv"))


# rl-zoo's CartPole entries: PPO 8 envs × 32 steps (rollouts of 256), A2C 8 × 5 (default n_steps: 40).
@pytest.mark.parametrize(("agent", "algo", "n_envs", "n_steps", "steps"),
                         [("sb3-ppo", PPO, 8, 32, 600), ("sb3-a2c", A2C, 8, 5, 420)])
def test_steps_are_sb3s_learn(agent, algo, n_envs, n_steps, steps, tmp_path):
    expected = plain_sb3(algo, n_envs, n_steps, steps, tmp_path / "sb3")
    done = CliRunner().invoke(app, ["train", agent, "CartPole-v1", "--config", str(HYPERPARAMS / f"{agent[4:]}.yml"),
                                    "--steps", str(steps), "--out", str(tmp_path / "zoo")])
    assert done.exit_code == 0, done.output
    progress = rows(tmp_path / "zoo" / "progress.csv")
    assert (int(progress[-1]["time/total_timesteps"]), len(progress)) == expected
    assert expected[0] == -(-steps // (n_envs * n_steps)) * n_envs * n_steps  # whole rollouts, nothing more


def learn_timesteps(algo_name: str, env: str, steps: int, n_envs: int, train_freq: int | None) -> int:
    """num_timesteps of plain SB3's (or sb3-contrib's) ``learn(steps)``: it depends on n_envs and
    train_freq (whole rollouts of n_envs × train_freq steps) only, so nothing is learnt here
    (learning_starts past the budget)."""
    import sb3_contrib
    import stable_baselines3

    algo = getattr(stable_baselines3, algo_name, None) or getattr(sb3_contrib, algo_name)
    model = algo("MlpPolicy", make_vec_env(env, n_envs=n_envs, seed=0), seed=0, device="cpu", train_freq=train_freq,
                 learning_starts=steps + 1)
    model.learn(steps)
    return model.num_timesteps


def zoo_timesteps(folder: Path) -> int:
    return int(rows(folder / "progress.csv")[-1]["time/total_timesteps"])


# rl-zoo's own entries as they are (train_freq 256 for DQN and QR-DQN on CartPole, 1 elsewhere), and
# with n_envs and train_freq that do not divide the budget nor the zoo's iteration_steps (1000).
OFF_POLICY = [
    ("sb3-dqn", "DQN", "CartPole-v1", 1500, []),
    ("sb3-dqn", "DQN", "CartPole-v1", 2500, ["n_envs=3", "train_freq=7", "learning_starts=3000"]),
    ("sb3-qrdqn", "QRDQN", "CartPole-v1", 1100, ["n_envs=2"]),
    ("sb3-sac", "SAC", "Pendulum-v1", 150, []),
    ("sb3-sac", "SAC", "Pendulum-v1", 1010, ["n_envs=4", "train_freq=3", "learning_starts=2000"]),
    ("sb3-td3", "TD3", "Pendulum-v1", 2500, ["n_envs=4", "train_freq=3"]),
    ("sb3-ddpg", "DDPG", "Pendulum-v1", 1234, []),
    ("sb3-tqc", "TQC", "Pendulum-v1", 150, []),
    ("sb3-crossq", "CrossQ", "Pendulum-v1", 2003, ["n_envs=2", "train_freq=5", "learning_starts=3000"]),
]


@pytest.mark.parametrize(("agent", "algo", "env", "steps", "sets"), OFF_POLICY,
                         ids=[f"{a}-{s}-{'-'.join(x) or 'file'}" for a, _, _, s, x in OFF_POLICY])
def test_off_policy_steps_are_sb3s_learn(agent, algo, env, steps, sets, tmp_path):
    """``--steps N`` runs what ``model.learn(N)`` runs: whole rollouts of n_envs × train_freq, the
    last one the first to reach N (the zoo's iterations of 1000 steps ran on to the next 1000)."""
    values = dict(s.split("=") for s in sets)
    n_envs, train_freq = int(values.get("n_envs", 1)), int(values.get("train_freq", 256 if "dqn" in agent else 1))
    expected = learn_timesteps(algo, env, steps, n_envs, train_freq)
    args = ["train", agent, env, "--config", str(HYPERPARAMS / f"{agent[4:]}.yml"), "--steps", str(steps),
            "--out", str(tmp_path / "zoo")]
    for s in sets:
        args += ["--set", s]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert zoo_timesteps(tmp_path / "zoo") == expected == -(-steps // (n_envs * train_freq)) * n_envs * train_freq


def test_off_policy_resume_to_a_new_total_is_sb3s_learn(tmp_path):
    """A run stopped at one budget and resumed to a larger one ends where ``learn(total)`` does."""
    config = ["--config", str(HYPERPARAMS / "dqn.yml")]
    first = CliRunner().invoke(app, ["train", "sb3-dqn", "CartPole-v1", *config, "--steps", "700", "--set",
                                     "n_envs=2", "--out", str(tmp_path / "run")])
    assert first.exit_code == 0, first.output
    assert zoo_timesteps(tmp_path / "run") == 1024  # rollouts of 2 × 256
    resumed = CliRunner().invoke(app, ["train", "--resume", str(tmp_path / "run"), "--steps", "1300"])
    assert resumed.exit_code == 0, resumed.output
    assert zoo_timesteps(tmp_path / "run") == learn_timesteps("DQN", "CartPole-v1", 1300, 2, 256) == 1536


def test_ars_steps_are_sb3_contribs_learn(tmp_path):
    """ARS's updates end when their episodes do: the run stops at the first update that reaches
    the budget, as ``ARS.learn(N)`` does with the same seed."""
    from sb3_contrib import ARS

    model = ARS("LinearPolicy", make_vec_env("CartPole-v1", n_envs=1, seed=0), n_delta=2, seed=0, device="cpu")
    model.learn(1500)
    done = CliRunner().invoke(app, ["train", "sb3-ars", "CartPole-v1", "--config", str(HYPERPARAMS / "ars.yml"),
                                    "--steps", "1500", "--set", "iteration_steps=500", "--out", str(tmp_path / "zoo")])
    assert done.exit_code == 0, done.output
    assert zoo_timesteps(tmp_path / "zoo") == model.num_timesteps
