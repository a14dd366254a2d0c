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
