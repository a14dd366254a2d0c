"""Every stable-baselines3 agent resumes exactly: a run stopped half-way by its budget and
resumed ends with the weights, optimiser state, replay buffer, counters and random streams of
one that never stopped (``torch.equal``), and the same returns. Small configs keep it fast;
the cases cover a replay buffer that wrapped around, SAC's entropy optimiser and gSDE, and
envs left in the middle of an episode (replayed on resume).
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from zoo import checkpoint as ckpt
from zoo.cli import app
from zoo.training.resuming import resume
from zoo.training.session import train

CASES = {
    "sb3-ppo": ("cartpole", 512, {"n_envs": 2, "n_steps": 32, "batch_size": 32, "n_epochs": 2,
                                  "iteration_steps": 128, "net_arch": "16,16"}),
    "sb3-a2c": ("cartpole", 400, {"n_envs": 2, "n_steps": 5, "iteration_steps": 100, "net_arch": "16,16"}),
    # buffer_size 150 < 400 steps: the buffer wraps before and after the resume.
    "sb3-dqn": ("cartpole", 400, {"learning_starts": 50, "buffer_size": 150, "batch_size": 16, "train_freq": 4,
                                  "gradient_steps": 1, "target_update_interval": 50, "exploration_steps": 300,
                                  "iteration_steps": 100, "net_arch": "16"}),
    # MountainCar's episodes last 999 steps: the envs are mid-episode at the resume. The defaults
    # for this env use gSDE and a fixed entropy weight; "auto" adds the entropy optimiser.
    "sb3-sac": ("mountaincar-continuous", 300, {"learning_starts": 50, "buffer_size": 120, "batch_size": 16,
                                                "train_freq": 4, "gradient_steps": 2, "iteration_steps": 100,
                                                "net_arch": "16,16", "ent_coef": "auto"}),
    # sb3-contrib's: the same state, plus RecurrentPPO's LSTM states between two rollouts.
    "sb3-trpo": ("cartpole", 512, {"n_envs": 2, "n_steps": 64, "batch_size": 32, "n_critic_updates": 2,
                                   "iteration_steps": 128, "net_arch": "16,16"}),
    "sb3-ppo-lstm": ("cartpole", 512, {"n_envs": 2, "n_steps": 32, "batch_size": 32, "n_epochs": 2,
                                       "iteration_steps": 128, "net_arch": "16", "lstm_hidden_size": 8}),
    "sb3-qrdqn": ("cartpole", 400, {"learning_starts": 50, "buffer_size": 150, "batch_size": 16, "train_freq": 4,
                                    "target_update_interval": 50, "exploration_steps": 300, "iteration_steps": 100,
                                    "net_arch": "16", "n_quantiles": 8}),
    "sb3-tqc": ("mountaincar-continuous", 300, {"learning_starts": 50, "buffer_size": 120, "batch_size": 16,
                                                "train_freq": 4, "gradient_steps": 2, "iteration_steps": 100,
                                                "net_arch": "16,16", "n_quantiles": 5, "n_critics": 2}),
    "sb3-crossq": ("mountaincar-continuous", 300, {"learning_starts": 50, "buffer_size": 120, "batch_size": 16,
                                                   "train_freq": 4, "gradient_steps": 2, "iteration_steps": 100,
                                                   "net_arch": "16,16", "critic_arch": "16,16"}),
    "sb3-ars": ("cartpole", 600, {"policy": "MlpPolicy", "net_arch": "8", "n_delta": 2, "iteration_steps": 100}),
}


def everything(run: Path) -> dict[str, torch.Tensor]:
    folder = ckpt.find_checkpoint(run)
    tensors, _ = ckpt.read_training_state(folder)
    return {**ckpt.read_tensors(folder), **{k: v for k, v in tensors.items() if k != "loop.rows"}}


def returns_rows(run: Path) -> list[tuple[str, ...]]:
    with open(run / "returns.csv", newline="") as f:
        return [tuple(row[k] for k in ("episode", "return", "length", "env_steps")) for row in csv.DictReader(f)]


@pytest.mark.parametrize("agent", CASES)
def test_sb3_agent_stopped_then_resumed_equals_uninterrupted(agent, tmp_path):
    env, total, config = CASES[agent]
    straight = train(agent, env, seed=3, steps=total, out=tmp_path / "straight", overrides=config, argv=["zoo"])
    half = train(agent, env, seed=3, steps=total // 2, out=tmp_path / "resumed", overrides=config, argv=["zoo"],
                 checkpoint_every=0)
    assert half.env_steps < straight.env_steps
    halfway = everything(tmp_path / "resumed")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an approximate resume warns: this one must be exact
        if agent == "sb3-ppo":  # through the command line once
            result = CliRunner().invoke(app, ["train", "--resume", str(tmp_path / "resumed"), "--steps", str(total)])
            assert result.exit_code == 0, result.output
        else:
            resume(tmp_path / "resumed", steps=total, argv=["zoo"])
    a, b = everything(straight.run_dir), everything(tmp_path / "resumed")
    assert a.keys() == b.keys()
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    assert returns_rows(straight.run_dir) == returns_rows(tmp_path / "resumed")
    assert any(not torch.equal(halfway[k], b[k]) for k in halfway if k.startswith("policy."))
    if agent in ("sb3-dqn", "sb3-sac", "sb3-qrdqn", "sb3-tqc", "sb3-crossq"):
        assert "agent.buffer.observations" in b
    if agent == "sb3-ppo-lstm":
        assert "agent.lstm.pi.0" in b


def test_an_env_that_cannot_be_replayed_resumes_approximately_with_a_warning(tmp_path):
    # Pixelcopter draws its levels from a stream of its own, not from np_random: the replayed
    # episode does not end where the saved one did, so that env copy starts afresh.
    _, _, config = CASES["sb3-ppo"]
    train("sb3-ppo", "pixelcopter", seed=3, steps=256, out=tmp_path / "run", overrides=config, argv=["zoo"])
    with pytest.warns(UserWarning, match="starts a new episode, so the resumed run is not exact"):
        resumed = resume(tmp_path / "run", steps=512, argv=["zoo"])
    assert resumed.env_steps == 512


def test_a_normalised_run_resumes_exactly_and_older_checkpoints_without_returns_load(tmp_path):
    # VecNormalize's running returns scale the rewards: they are in the checkpoint, and the envs
    # are replayed against their own observations, not the normalised ones the model keeps.
    env, total, config = CASES["sb3-sac"]
    config = {**config, "norm_obs": True, "norm_reward": True}
    straight = train("sb3-sac", env, seed=3, steps=total, out=tmp_path / "straight", overrides=config, argv=["zoo"])
    train("sb3-sac", env, seed=3, steps=total // 2, out=tmp_path / "resumed", overrides=config, argv=["zoo"],
          checkpoint_every=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        resume(tmp_path / "resumed", steps=total, argv=["zoo"])
    a, b = everything(straight.run_dir), everything(tmp_path / "resumed")
    assert "vec_normalize.returns" in b and [k for k in a if not torch.equal(a[k], b[k])] == []

    import zoo
    from zoo.agents.sb3 import RETURNS_TENSOR, load_normalizer_tensors, normalizer_tensors

    normalizer = zoo.load_policy(straight.run_dir).normalizer
    saved = normalizer_tensors(normalizer)
    assert bool(saved[RETURNS_TENSOR].abs().sum() > 0)
    del saved[RETURNS_TENSOR]  # as a checkpoint written before the returns were kept: it loads
    normalizer.obs_rms.mean = normalizer.obs_rms.mean + 1.0
    load_normalizer_tensors(normalizer, saved)
    assert torch.equal(torch.as_tensor(normalizer.obs_rms.mean), saved["vec_normalize.obs_rms.mean"])
