"""One hyperparameter vocabulary: stable-baselines3's names on every agent. Old names given by a
user are refused with the new one; old names inside checkpoints (on disk, resumed, on the Hub)
are migrated when read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
import zoo.agents
import zoo.factory
from zoo import checkpoint as ckpt
from zoo.agents.reinforce import RENAMED
from zoo.cli import app
from zoo.config import field_types, migrate_names
from zoo.exceptions import ZooError
from zoo.factory import load_agent_class
from zoo.training.resuming import resume
from zoo.training.session import train

runner = CliRunner()
OLD = {new: old for old, new in RENAMED.items()}


def test_every_agent_speaks_one_vocabulary():
    """No agent keeps a name another agent renamed away, and the shared concepts have SB3's names."""
    renamed_away: set[str] = set()
    fields: dict[str, set[str]] = {}
    for entry in zoo.list_agents():
        cls = load_agent_class(zoo.agent_entry(entry.name))
        renamed_away |= set(cls.renamed_hyperparameters)
        fields[entry.name] = set(field_types(cls.Config))
    for agent, names in fields.items():
        assert not names & renamed_away, (agent, names & renamed_away)
    shared = {"learning_rate", "net_arch", "n_envs", "gamma", "max_grad_norm", "activation"}
    for agent in ("reinforce", "reinforce-baseline", "sb3-ppo", "sb3-a2c"):
        assert shared <= fields[agent], (agent, shared - fields[agent])
    assert {"ent_coef", "log_std_init", "normalize_advantage"} <= fields["reinforce"] & fields["sb3-ppo"]
    assert "norm_obs" in fields["reinforce"] & fields["sb3-sac"]


@pytest.mark.parametrize("old,new", sorted(RENAMED.items()))
def test_an_old_name_from_the_user_is_refused_with_the_new_one(old, new):
    with pytest.raises(ZooError, match=f"'{old}' is now called '{new}': did you mean '{new}'\\?"):
        zoo.make_agent("reinforce-baseline", "cartpole", overrides={old: "1"})


def test_an_old_name_in_a_config_file_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.toml").write_text("[hyperparameters]\nlr = 0.01\n")
    result = runner.invoke(app, ["train", "reinforce", "cartpole", "--config", "old.toml", "--out", "run"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == ("error: hyperparameter 'lr' is now called 'learning_rate': "
                                     "did you mean 'learning_rate'?")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.toml"]


def test_migrate_names_keeps_a_new_name_that_is_already_there():
    assert migrate_names({"lr": 1, "gamma": 0.9}, RENAMED) == {"learning_rate": 1, "gamma": 0.9}
    assert migrate_names({"lr": 1, "learning_rate": 2}, RENAMED) == {"learning_rate": 2}


def with_old_names(folder: Path) -> dict:
    """Rewrite a checkpoint's zoo.json as agent-zoo wrote it before the rename (the weights, and
    so their checksum, are untouched: the config is not part of it)."""
    meta = json.loads((folder / ckpt.META_FILE).read_text())
    meta["config"] = {OLD.get(k, k): v for k, v in meta["config"].items()}
    del meta[ckpt.META_SHA256]  # nor did it write a checksum of zoo.json itself
    (folder / ckpt.META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return meta


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("vocab") / "run"
    return train("reinforce-baseline", "cartpole", seed=1, steps=3000, out=out, argv=["zoo"],
                 overrides={"n_envs": 4, "net_arch": "16", "vf_gradient_steps": 2}).run_dir


def test_a_checkpoint_saved_with_old_names_loads_and_acts_the_same(run, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(ckpt.find_checkpoint(run), old)
    meta = with_old_names(old)
    assert {"lr", "hidden", "num_envs", "value_steps", "normalize"} <= set(meta["config"])
    new_agent, old_agent = zoo.load_agent(run), zoo.load_agent(old)
    assert old_agent.config == new_agent.config and old_agent.config.net_arch == (16,)
    obs = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    assert np.array_equal(old_agent.predict(obs, deterministic=True)[0], new_agent.predict(obs, deterministic=True)[0])


def test_a_run_checkpointed_with_old_names_resumes(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    for folder in (copy / ckpt.CHECKPOINTS_DIR).iterdir():
        with_old_names(folder)
    result = resume(copy, steps=5000)
    assert 5000 - 4 < result.env_steps <= 5000  # the executed-step budget: within n_envs - 1 of it, never past
    assert zoo.load_agent(copy).config.vf_gradient_steps == 2


def test_a_hub_checkpoint_with_old_names_loads(run, tmp_path, hub, hub_repo_id, hf_home):
    from zoo.hub.push import push_run

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    for folder in (copy / ckpt.CHECKPOINTS_DIR).iterdir():
        with_old_names(folder)
    push_run(copy, hub_repo_id, eval_episodes=2, video=False)
    result = runner.invoke(app, ["eval", "--from-hub", hub_repo_id, "--episodes", "3", "--json"])
    assert result.exit_code == 0, result.output
    local = zoo.evaluate(zoo.load_agent(run), "cartpole", episodes=3, seed=0)
    assert json.loads(result.stdout)["mean"] == local.mean


def test_shipped_checkpoints_and_defaults_use_the_new_names():
    root = Path(zoo.agents.__file__).parent
    for meta_file in (root / "pretrained").glob("*/zoo.json"):
        config = json.loads(meta_file.read_text())["config"]
        assert not set(config) & set(RENAMED), meta_file
    import tomllib

    tables = tomllib.loads((root / "defaults.toml").read_text())
    for agent, envs in tables.items():
        for env, table in envs.items():
            assert not set(table) & set(RENAMED), (agent, env)
