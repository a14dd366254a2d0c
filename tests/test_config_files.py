"""Config files (``zoo train --config FILE``, ``zoo sweep --config FILE``), ``zoo train --dry-run``
and rl-baselines3-zoo's hyperparameter files for the sb3 agents.

The rl-zoo files in ``tests/data/rl_zoo/`` are excerpts of rl-baselines3-zoo's ``hyperparams/*.yml``,
copied as they are (each names the commit it comes from).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from support.checks import assert_one_line_error, snapshot
from typer.testing import CliRunner

import zoo
import zoo.agents.reinforce
import zoo.checkpoint
import zoo.factory
from zoo.cli import app
from zoo.config_file import ConfigFile, file_settings
from zoo.exceptions import ZooError
from zoo.training.session import plan_run

runner = CliRunner()
RL_ZOO = Path(__file__).parent / "data" / "rl_zoo"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


ZOO_TOML = """\
agent = "reinforce"
env = "CartPole-v1"
seed = 4
budget = { steps = 3000 }

[hyperparameters]
gamma = 0.95
batch_steps = 500
"""

ZOO_YAML = """\
agent: reinforce
env: cartpole
seed: 4
budget: {steps: 3000}
hyperparameters:
  gamma: 0.95
  batch_steps: 500
"""


# -- the zoo's own format ----------------------------------------------------------------------------
@pytest.mark.parametrize("name,text", [("run.toml", ZOO_TOML), ("run.yaml", ZOO_YAML), ("run.yml", ZOO_YAML)])
def test_toml_and_yaml_files_resolve_the_same(name, text, workdir):
    plan = plan_run("reinforce", "cartpole", config_file=write(workdir, name, text))
    assert (plan.seed, plan.seed_source) == (4, "config file")
    assert (plan.budget.steps, plan.budget.episodes, plan.budget_source) == (3000, None, "config file")
    assert plan.resolved.config.gamma == 0.95 and plan.resolved.config.batch_steps == 500
    sources = plan.resolved.sources
    assert sources["gamma"] == sources["batch_steps"] == "config file"
    assert sources["activation"] == "agent default"
    assert plan.file_format == "zoo"
    assert snapshot(workdir) == {name: text.encode()}  # planning writes nothing


def test_precedence_agent_defaults_env_defaults_file_then_set_and_explicit_seed_and_budget(workdir):
    path = write(workdir, "run.toml", ZOO_TOML)
    plan = plan_run("reinforce", "cartpole", config_file=path, overrides={"gamma": "0.9"}, seed=7, episodes=20)
    config, sources = plan.resolved.config, plan.resolved.sources
    assert (config.gamma, sources["gamma"]) == (0.9, "--set")  # --set over the file over the env default
    assert (config.batch_steps, sources["batch_steps"]) == (500, "config file")
    env_default = zoo.agents.reinforce.Reinforce.env_defaults(zoo.factory.env_entry("cartpole"))
    some_env_key = next(k for k in env_default if k not in ("gamma",))
    assert sources[some_env_key] == "env default"
    assert (plan.seed, plan.seed_source) == (7, "--seed")
    assert (plan.budget.episodes, plan.budget.steps, plan.budget_source) == (20, None, "--steps/--episodes")


def test_a_training_run_keeps_the_file_and_records_where_values_came_from(workdir):
    path = write(workdir, "run.toml", ZOO_TOML)
    result = runner.invoke(app, ["train", "--config", str(path), "--set", "gamma=0.9", "--out", "run"])
    assert result.exit_code == 0, result.output
    run = workdir / "run"
    assert (run / "config-file.toml").read_text() == ZOO_TOML
    config = json.loads((run / "config.json").read_text())
    assert config["agent"] == "reinforce" and config["seed"] == 4
    assert config["budget"] == {"episodes": None, "steps": 3000}
    assert config["config"]["gamma"] == 0.9 and config["config"]["batch_steps"] == 500
    assert config["sources"]["config"]["gamma"] == "--set"
    assert config["sources"]["config"]["batch_steps"] == "config file"
    assert config["sources"]["seed"] == config["sources"]["budget"] == "config file"
    assert config["config_file"]["copy"] == "config-file.toml" and config["config_file"]["format"] == "zoo"
    # The recorded command runs the same thing again: the file's seed is not overridden by --seed 0.
    command = (run / "command.txt").read_text()
    assert "--config" in command and "--seed" not in command


def test_dry_run_prints_every_value_with_its_source_and_writes_nothing(workdir):
    path = write(workdir, "run.yaml", ZOO_YAML)
    before = snapshot(workdir)
    result = runner.invoke(app, ["train", "--config", str(path), "--dry-run", "--set", "gamma=0.9"])
    assert result.exit_code == 0, result.output
    assert "seed 4 (config file)" in result.stdout
    assert "budget 3000 steps (config file)" in result.stdout
    assert "--set" in result.stdout and "agent default" in result.stdout and "env default" in result.stdout
    assert "nothing written" in result.stdout
    assert snapshot(workdir) == before

    as_json = runner.invoke(app, ["train", "reinforce", "cartpole", "--config", str(path), "--dry-run", "--json",
                                  "--seed", "2"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["seed"] == {"value": 2, "source": "--seed"}
    assert data["budget"] == {"episodes": None, "steps": 3000, "source": "config file"}
    assert data["hyperparameters"]["gamma"] == {"value": 0.95, "source": "config file"}
    assert data["config_file"]["format"] == "zoo"
    assert snapshot(workdir) == before


def test_dry_run_without_a_file_shows_the_defaults(workdir):
    result = runner.invoke(app, ["train", "sb3-ppo", "cartpole", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["hyperparameters"]["n_steps"] == {"value": 32, "source": "env default"}  # sb3_defaults.toml
    assert data["hyperparameters"]["vf_coef"]["source"] == "agent default"
    assert data["budget"]["source"] == "default" and data["config_file"] is None
    assert snapshot(workdir) == {}


BAD_FILES = {
    "unknown top-level key": ("run.toml", 'hyperparams = { gamma = 0.9 }\n', ["unknown top-level keys 'hyperparams'"]),
    "unknown hyperparameter": ("run.toml", "[hyperparameters]\ngamm = 0.9\n",
                               ["unknown hyperparameter 'gamm'", "did you mean 'gamma'"]),
    "wrong type": ("run.toml", '[hyperparameters]\ngamma = "high"\n', ["gamma='high' is not a valid float"]),
    "out of range": ("run.yaml", "hyperparameters:\n  gamma: 2\n", ["gamma=2.0 is out of range"]),
    "another agent": ("run.toml", 'agent = "sb3-ppo"\n', ["is for agent 'sb3-ppo', not 'reinforce'"]),
    "another env": ("run.toml", 'env = "pixelcopter"\n', ["is for env 'pixelcopter', not 'cartpole'"]),
    "bad budget": ("run.toml", "budget = { steps = 0 }\n", ["budget steps must be a positive whole number"]),
    "budget unit": ("run.toml", "budget = { hours = 2 }\n", ["budget must be {steps = N} or {episodes = N}"]),
    "bad seed": ("run.toml", "seed = -1\n", ["seed must be a non-negative whole number"]),
    "TOML syntax": ("run.toml", "gamma = \n", ["is not valid TOML"]),
    "YAML syntax": ("run.yaml", "hyperparameters: [\n", ["is not valid YAML", "line 2"]),
    "not a table": ("run.yaml", "- 1\n- 2\n", ["must hold a table of keys"]),
    "unknown suffix": ("run.json", "{}", ["the suffix says the format"]),
    "rl-zoo file for a zoo agent": ("ppo.yml", (RL_ZOO / "ppo.yml").read_text(),
                                    ["unknown top-level keys", "reads no other format"]),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_config_files_are_one_line_and_write_nothing(case, workdir):
    name, text, fragments = BAD_FILES[case]
    path = write(workdir, name, text)
    before = snapshot(workdir)
    result = runner.invoke(app, ["train", "reinforce", "cartpole", "--config", str(path), "--out", "run"])
    assert_one_line_error(result, *fragments)
    assert snapshot(workdir) == before


def test_a_missing_file_and_dry_run_mistakes_are_one_line(workdir):
    assert_one_line_error(runner.invoke(app, ["train", "reinforce", "cartpole", "--config", "nope.toml"]),
                          "'nope.toml' does not exist")
    assert_one_line_error(runner.invoke(app, ["train", "reinforce", "cartpole", "--json"]), "add --dry-run")
    assert_one_line_error(runner.invoke(app, ["train", "reinforce", "cartpole", "--dry-run", "--set", "gamma=x"]),
                          "gamma='x' is not a valid float")
    assert snapshot(workdir) == {}


# -- one --set spelling ----------------------------------------------------------------------------
def test_train_takes_one_value_per_key_and_says_so(workdir):
    result = runner.invoke(app, ["train", "reinforce", "cartpole", "--set", "gamma=0.9,0.99", "--out", "run"])
    assert_one_line_error(result, "holds several values", "zoo sweep --set gamma=0.9,0.99")
    assert snapshot(workdir) == {}


def test_train_and_sweep_spell_one_tuple_value_the_same():
    from zoo.tools.sweep import parse_grid, tuple_keys

    keys = tuple_keys("sb3-ppo,reinforce")
    assert "net_arch" in keys and "gamma" not in keys
    assert parse_grid(["net_arch=64,64"], keys) == {"net_arch": ["64,64"]}
    assert parse_grid(["net_arch=[64,64]"], keys) == {"net_arch": ["64,64"]}
    assert parse_grid(["net_arch=[64,64],[32]"], keys) == {"net_arch": ["64,64", "32"]}
    assert parse_grid(["gamma=0.9,0.99"], keys) == {"gamma": ["0.9", "0.99"]}
    for spelling in ("64,64", "[64,64]"):
        plan = plan_run("sb3-ppo", "cartpole", overrides={"net_arch": spelling})
        assert plan.resolved.config.net_arch == (64, 64)


# -- rl-baselines3-zoo files -------------------------------------------------------------------------
def settings(agent: str, env: str, file: str):
    path = RL_ZOO / file
    return file_settings(ConfigFile(str(path), path.read_text()), agent, env)


def test_rl_zoo_ppo_cartpole_entry_with_linear_schedules():
    s = settings("sb3-ppo", "CartPole-v1", "ppo.yml")
    assert s.budget == {"steps": 100_000} and s.format == "rl-baselines3-zoo, entry CartPole-v1"
    assert s.hyperparameters == {"n_envs": 8, "n_steps": 32, "batch_size": 256, "gae_lambda": 0.8, "gamma": 0.98,
                                 "n_epochs": 20, "ent_coef": 0.0, "learning_rate": "lin_0.001",
                                 "clip_range": "lin_0.2", "schedule_steps": 100_000}


def test_rl_zoo_policy_kwargs_and_normalize_are_translated():
    car = settings("sb3-ppo", "MountainCarContinuous-v0", "ppo.yml").hyperparameters
    assert car["log_std_init"] == -3.29 and car["ortho_init"] is False
    assert car["norm_obs"] is True and car["norm_reward"] is True and car["use_sde"] is True
    sac = settings("sb3-sac", "MountainCarContinuous-v0", "sac.yml").hyperparameters
    assert sac["net_arch"] == [64, 64] and sac["log_std_init"] == -3.67 and sac["ent_coef"] == 0.1
    a2c = settings("sb3-a2c", "Pendulum-v1", "a2c.yml")
    assert a2c.budget == {"steps": 1_000_000}
    assert a2c.hyperparameters["learning_rate"] == "lin_7e-4" and a2c.hyperparameters["use_rms_prop"] is True
    dqn = settings("sb3-dqn", "CartPole-v1", "dqn.yml").hyperparameters
    assert dqn["exploration_steps"] == 8000 and dqn["net_arch"] == [256, 256]  # 0.16 of n_timesteps 5e4


def test_rl_zoo_pybullet_policy_kwargs_string_is_parsed_not_run():
    from zoo.agents.rl_zoo import TorchName, parse_python_literal

    value = parse_python_literal("dict(log_std_init=-2, ortho_init=False, activation_fn=nn.ReLU, "
                                 "net_arch=dict(pi=[256, 256], vf=[256, 256]))", "policy_kwargs")
    assert value == {"log_std_init": -2, "ortho_init": False, "activation_fn": TorchName("ReLU"),
                     "net_arch": {"pi": [256, 256], "vf": [256, 256]}}
    assert parse_python_literal("{'norm_obs': True, 'norm_reward': False}", "normalize") == {
        "norm_obs": True, "norm_reward": False}
    assert parse_python_literal("th.nn.Tanh", "x") == TorchName("Tanh")
    for evil in ("__import__('os').system('echo hi')", "dict(a=open('/etc/passwd'))", "nn.Module",
                 "dict(**{'a': 1})", "[x for x in range(3)]", "os.system"):
        with pytest.raises(ZooError, match="is not allowed|not a Python expression"):
            parse_python_literal(evil, "policy_kwargs")


REFUSED = {
    "wrappers and frame stacking": ("CartPole-v1:\n  policy: MlpPolicy\n  env_wrapper: foo.Bar\n  frame_stack: 4\n"
                                    "  callback: foo.Callback\n",
                                    ["'env_wrapper', 'frame_stack', 'callback' cannot be honoured"]),
    "another policy": ("CartPole-v1:\n  policy: CnnPolicy\n", ["policy 'CnnPolicy' is not supported", "MlpPolicy"]),
    "an unsafe policy_kwargs": ('CartPole-v1:\n  policy_kwargs: "dict(x=__import__(\'os\'))"\n', ["is not allowed"]),
    "an unknown class in policy_kwargs": ('CartPole-v1:\n  policy_kwargs: "dict(optimizer_class=RMSpropTFLike)"\n',
                                          ["'RMSpropTFLike' is not allowed"]),
    "an unknown policy_kwargs key": ('CartPole-v1:\n  policy_kwargs: "dict(squash_output=True)"\n',
                                     ["policy_kwargs 'squash_output' cannot be honoured"]),
    "an unsupported activation": ('CartPole-v1:\n  policy_kwargs: "dict(activation_fn=nn.Softmax)"\n',
                                  ["is not allowed"]),
    "different pi and vf": ('CartPole-v1:\n  policy_kwargs: "dict(net_arch=dict(pi=[64], vf=[32]))"\n',
                            ["one architecture for every network"]),
    "no entry for the env": ("Pendulum-v1:\n  n_timesteps: 1000\n", ["no CartPole-v1 entry", "Pendulum-v1"]),
    "lin_ without n_timesteps": ("CartPole-v1:\n  learning_rate: lin_0.001\n", ["over n_timesteps"]),
    "a bad normalize": ("CartPole-v1:\n  normalize: \"{'clip_obs': 5}\"\n", ["normalize"]),
    "a bad schedule": ("CartPole-v1:\n  n_timesteps: 1000\n  learning_rate: exp_0.1\n",
                       ["learning_rate='exp_0.1' is neither a number nor lin_<x>"]),
}


@pytest.mark.parametrize("case", REFUSED)
def test_rl_zoo_keys_the_zoo_cannot_honour_are_refused_in_one_line(case, workdir):
    text, fragments = REFUSED[case]
    path = write(workdir, "ppo.yml", text)
    before = snapshot(workdir)
    result = runner.invoke(app, ["train", "sb3-ppo", "cartpole", "--config", str(path), "--out", "run"])
    assert_one_line_error(result, *fragments)
    assert snapshot(workdir) == before


def test_rl_zoo_cartpole_trains_with_its_schedule_counted_over_the_run(tmp_path):
    result = zoo.train("sb3-ppo", "CartPole-v1", seed=0, steps=4096, config_file=RL_ZOO / "ppo.yml",
                       out=tmp_path / "run", argv=["zoo"])
    assert result.env_steps >= 4096
    config = json.loads((result.run_dir / "config.json").read_text())
    assert config["config"]["learning_rate"] == "lin_0.001" and config["config"]["schedule_steps"] == 100_000
    agent = zoo.make_agent("sb3-ppo", "CartPole-v1", config=config["config"])
    model = agent.model
    model.num_timesteps = 25_000  # a quarter of the run: 3/4 of the initial value is left
    assert model.lr_schedule(1.0) == pytest.approx(0.001 * 0.75)
    assert model.clip_range(1.0) == pytest.approx(0.2 * 0.75)
    model.num_timesteps = 200_000
    assert model.lr_schedule(1.0) == 0.0


def test_rl_zoo_normalize_runs_behind_vec_normalize_and_acts_with_the_saved_statistics(tmp_path):
    result = zoo.train("sb3-ppo", "MountainCarContinuous-v0", seed=0, steps=256, config_file=RL_ZOO / "ppo.yml",
                       out=tmp_path / "run", argv=["zoo"])
    checkpoint = zoo.checkpoint.find_checkpoint(result.run_dir)
    assert {p.name for p in checkpoint.iterdir()} <= {"model.safetensors", "zoo.json", "training.safetensors",
                                                      "training.json"}  # no pickle
    tensors = zoo.checkpoint.read_tensors(checkpoint)
    assert {"vec_normalize.obs_rms.mean", "vec_normalize.obs_rms.var", "vec_normalize.ret_rms.var"} <= set(tensors)
    loaded = zoo.load_agent(result.run_dir)
    mean = tensors["vec_normalize.obs_rms.mean"].numpy()
    assert np.allclose(loaded.normalizer.obs_rms.mean, mean) and not np.allclose(mean, 0)
    obs = np.array([[-0.5, 0.01]], dtype=np.float32)
    normalized = loaded.normalizer.normalize_obs(obs)
    expected, _ = loaded.model.predict(normalized, deterministic=True)
    actions, _ = loaded.predict(obs, deterministic=True)
    assert np.allclose(actions, expected)
    count = loaded.normalizer.obs_rms.count
    loaded.predict(obs)
    assert loaded.normalizer.obs_rms.count == count  # acting does not update the statistics


def test_sweep_takes_a_config_file(tmp_path):
    from zoo.tools.sweep import plan_sweep

    path = write(tmp_path, "run.toml", 'budget = { steps = 2000 }\n[hyperparameters]\ngamma = 0.95\n')
    plan = plan_sweep("reinforce", "cartpole", "0-1", grid={"batch_steps": ["0", "500"]}, config_file=path,
                      out=tmp_path / "sweep")
    assert len(plan.runs) == 4 and all(r.config_text == path.read_text() for r in plan.runs)
    assert "config_file" in plan.runs[0].key()
    with pytest.raises(ZooError, match="unknown hyperparameter 'gamm'"):
        bad = write(tmp_path, "bad.toml", "[hyperparameters]\ngamm = 1\n")
        plan_sweep("reinforce", "cartpole", "0", config_file=bad, out=tmp_path / "sweep2")
