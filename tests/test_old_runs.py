"""Run folders and checkpoints written before the collection carried episodes across updates
(main at 43eeb84: ``zoo train reinforce-baseline acrobot --seed 2 --steps 3000 --set n_envs=4``,
kept in tests/data/old-runs/) still load and resume: their training state has no ``collection``
entry and their envs no ``position``; the resumed run starts a fresh collection from the saved
env streams, and trains on within the new budget."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import torch

import zoo
from zoo import checkpoint as ckpt

OLD_RUN = Path(__file__).parent / "data" / "old-runs" / "reinforce-baseline-acrobot"


def returns_rows(run: Path) -> list[dict[str, str]]:
    with open(run / "returns.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_an_old_checkpoint_loads_with_its_weights_and_acts():
    folder = ckpt.find_checkpoint(OLD_RUN)
    _, data = ckpt.read_training_state(folder)
    assert "collection" not in data["agent"]  # written before carried episodes
    agent = zoo.load_agent(OLD_RUN)
    saved = ckpt.read_tensors(folder)
    state = agent.state_tensors()
    assert saved.keys() == state.keys()
    assert all(torch.equal(saved[k], state[k]) for k in saved)
    obs = zoo.make_env("acrobot").reset(seed=0)[0]
    action, _ = agent.predict(obs, deterministic=True)
    assert int(action) in (0, 1, 2)


def test_an_old_run_resumes_within_the_new_budget(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(OLD_RUN, run)
    before = returns_rows(run)
    result = zoo.resume(run, steps=8000, argv=["zoo"])
    assert 3861 < result.env_steps <= 8000  # from the old count on, never past the budget
    after = returns_rows(run)
    assert after[:len(before)] == before and len(after) > len(before)
    assert all(np.isfinite(float(row["return"])) for row in after)
    again = zoo.load_agent(run)
    assert again.checkpoint_meta["trained"]["env_steps"] == result.env_steps
