"""Config files (``zoo train --config FILE``, ``zoo sweep --config FILE``), ``zoo train --dry-run``
and rl-baselines3-zoo's hyperparameter files for the sb3 agents.

The rl-zoo files in ``tests/data/rl_zoo/`` are excerpts of rl-baselines3-zoo's ``hyperparams/*.yml``,
copied as they are (each names the commit it comes from).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
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
from zoo.limits import MAX_CONFIG_BYTES
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
    "bad budget": ("run.toml", "budget = { steps = 0 }\n", ["budget steps must be a positive number"]),
    "budget unit": ("run.toml", "budget = { hours = 2 }\n", ["budget must be {steps = N} or {episodes = N}"]),
    "bad seed": ("run.toml", "seed = -1\n", ["seed must be a whole number from 0 to 2147483647"]),
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
                                 "clip_range": "lin_0.2", "schedule_steps": 100_000,
                                 "iteration_steps": 0}  # one rollout per iteration, as SB3 logs


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
    # env_wrapper and frame_stack are honoured (tests/test_rl_zoo_entries.py); a wrapper outside the known set is not.
    "an unknown wrapper": ("CartPole-v1:\n  policy: MlpPolicy\n  env_wrapper: foo.Bar\n  frame_stack: 4\n",
                           ["env_wrapper 'foo.Bar' is not one the zoo knows"]),
    "a callback": ("CartPole-v1:\n  policy: MlpPolicy\n  callback: foo.Callback\n", ["'callback' cannot be honoured"]),
    "another policy": ("CartPole-v1:\n  policy: CnnPolicy\n", ["policy 'CnnPolicy' is not supported", "MlpPolicy"]),
    "an unsafe policy_kwargs": ('CartPole-v1:\n  policy_kwargs: "dict(x=__import__(\'os\'))"\n', ["is not allowed"]),
    "an unknown class in policy_kwargs": ('CartPole-v1:\n  policy_kwargs: "dict(optimizer_class=SGD)"\n',
                                          ["'SGD' is not allowed"]),
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


# -- what a config file may hold (issue 23) ----------------------------------------------------------
def alias_bomb(levels: int = 10, width: int = 9) -> str:
    """The billion laughs in YAML: 10 anchors of 9 aliases each, 9**10 (3.5 billion) strings
    once the aliases are expanded, in under 400 bytes."""
    names = "abcdefghijklmnopqrstuvwxyz"[:levels]
    lol = ",".join(['"lol"'] * width)
    rows = [f"&{names[0]} [{lol}]"]
    rows += [f'&{name} [{",".join([f"*{prev}"] * width)}]' for prev, name in zip(names, names[1:])]
    return "seed: [" + ", ".join(rows) + "]\n"


def run_zoo_bounded(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """The real ``zoo`` executable, with its address space capped at 4 GiB so that a regression
    (an expansion without a bound) fails the test with a MemoryError instead of taking the
    machine's memory, and a time-out so that a hang fails it instead of stopping the suite."""
    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    return subprocess.run([sys.executable, "-m", "zoo.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, preexec_fn=cap_memory, env={**os.environ, "ZOO_DEBUG": ""})


@pytest.mark.parametrize("command", [["train", "reinforce", "cartpole", "--config", "bomb.yaml", "--out", "run"],
                                     ["sweep", "--agents", "reinforce", "--envs", "cartpole", "--config",
                                      "bomb.yaml", "--out", "sweep"]])
def test_a_yaml_alias_bomb_is_refused_in_one_line(command, workdir):
    bomb = alias_bomb()
    assert len(bomb) == 364
    write(workdir, "bomb.yaml", bomb)
    before = snapshot(workdir)
    proc = run_zoo_bounded(command, workdir)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and proc.stdout == "", proc.stderr[-3000:]
    assert lines[0].startswith("error: config file 'bomb.yaml'") and "more than 100,000 values" in lines[0]
    assert "YAML aliases" in lines[0] and len(lines[0]) < 300
    assert snapshot(workdir) == before


def merge_bomb(levels: int = 8, width: int = 9) -> str:
    """The same through merge keys: each mapping merges the one before it 9 times."""
    rows = ["a0: &a0 {" + ", ".join(f"k{i}: {i}" for i in range(width)) + "}"]
    rows += [f"a{n}: &a{n} {{<<: [{', '.join([f'*a{n - 1}'] * width)}]}}" for n in range(1, levels)]
    return "\n".join(rows) + "\n"


def deep(opening: str, closing: str, levels: int, inner: str = "1") -> str:
    return opening * levels + inner + closing * levels


HUGE = "9" * 500
LIMIT_FILES = {
    # what a file may expand to
    "a file over 64 KiB": ("run.toml", "seed = 1\n" + "#" * MAX_CONFIG_BYTES + "\n",
                            [f"is {MAX_CONFIG_BYTES + 10:,} bytes", f"at most {MAX_CONFIG_BYTES:,} bytes"]),
    "101,000 values by aliases": ("run.yaml", "a: &a [" + "0," * 999 + "0]\nseed: [" + ", ".join(["*a"] * 101) + "]\n",
                                  ["more than 100,000 values", "YAML aliases"]),
    "a merge-key bomb": ("ppo.yml", merge_bomb(), ["more than 100,000 values", "YAML aliases"]),
    "YAML nested 5,000 deep": ("run.yaml", "seed: " + deep("[", "]", 5000), ["nests deeper than 32 levels"]),
    "TOML nested 5,000 deep": ("run.toml", "seed = " + deep("[", "]", 5000), ["nests deeper than 32 levels"]),
    "YAML nested 33 deep": ("run.yaml", "seed: " + deep("[", "]", 33), ["nests deeper than 32 levels"]),
    "aliases stacking depth": ("run.yaml", "a: &a " + deep("[", "]", 20) + "\nseed: " + deep("[", "]", 20, "*a"),
                               ["nests deeper than 32 levels"]),
    "an alias inside itself": ("run.yaml", "seed: &a [1, *a]\n", ["an alias inside itself", "line 1"]),
    "a mapping inside itself": ("run.yaml", "hyperparameters: &h {gamma: 0.9, x: *h}\n",
                                ["an alias inside itself"]),
    # numbers
    "a 500-digit budget (TOML)": ("run.toml", f"budget = {{ steps = {HUGE} }}\n",
                                  ["budget.steps is a whole number of 500 digits", "9,223,372,036,854,775,807"]),
    "a 500-digit budget (YAML)": ("run.yaml", f"budget: {{steps: {HUGE}}}\n",
                                  ["budget.steps is a whole number of 500 digits"]),
    "a 500-digit hyperparameter": ("run.toml", f"[hyperparameters]\ngamma = {HUGE}\n",
                                   ["hyperparameters.gamma is a whole number of 500 digits"]),
    "5,000 digits (TOML)": ("run.toml", "seed = " + "9" * 5000 + "\n",
                            ["a whole number of more than 4,300 digits", "9,223,372,036,854,775,807"]),
    "5,000 digits (YAML)": ("run.yaml", "seed: " + "9" * 5000 + "\n",
                            ["whole number of 5,000 digits at line 1, column 7", "9,223,372,036,854,775,807"]),
    "a 5,000-digit hex (TOML)": ("run.toml", "[hyperparameters]\ngamma = 0x" + "f" * 5000 + "\n",
                                 ["hyperparameters.gamma is a whole number of 6,021 digits"]),
    "a 5,000-digit hex (YAML)": ("run.yaml", "hyperparameters:\n  gamma: 0x" + "f" * 5000 + "\n",
                                 ["hyperparameters.gamma is a whole number of 6,021 digits"]),
    "a seed past 2**31 - 1": ("run.toml", "seed = 4294967296\n",
                              ["config file 'run.toml': seed must be a whole number from 0 to 2147483647"]),
    "a budget past 10**12": ("run.yaml", "budget: {steps: !!float 1e300}\n",
                             ["config file 'run.yaml': budget steps must be a positive number",
                              "at most 1,000,000,000,000"]),
    "an infinite budget": ("run.yaml", "budget: {episodes: .inf}\n", ["budget episodes", "got inf"]),
    # values echoed in messages are cut short
    "a 60,000-character value": ("run.yaml", "hyperparameters:\n  activation: " + "x" * 60_000 + "\n",
                                  ["activation='xxxxxxxx", "is not valid"]),
    "a 60,000-character key": ("run.toml", f'[hyperparameters]\n{"k" * 60_000} = 1\n',
                                ["unknown hyperparameter 'kkkkkkk"]),
    "a 60,000-character env name": ("run.toml", f'env = "{"x" * 60_000}"\n',
                                    ["config file 'run.toml': env 'xxxxxxxx", "is not an env the zoo knows"]),
    "a misspelt env name": ("run.toml", 'env = "cartpol"\n', ["config file 'run.toml': unknown env 'cartpol'",
                                                             "did you mean 'cartpole'"]),
    "a layer size of 1e300": ("run.toml", f"[hyperparameters]\nnet_arch = [{'9' * 18}, 1e300]\n",
                               ["net_arch"]),
    "a key with a line break": ("run.yaml", 'hyperparameters: {"a\\nb": 9999999999999999999}\n',
                                ["hyperparameters.'a\\nb' is 9,999,999,999,999,999,999"]),
    "a value with line breaks": ("run.yaml", 'hyperparameters: {activation: "x\\ny\\rz\\u2028"}\n',
                                 ["activation='x\\ny\\rz\\u2028' is not valid"]),
    "an anchor given twice": ("run.yaml", "seed: &x 1\nbudget: &x {steps: 100}\n",
                              ["found duplicate anchor 'x'; first occurrence at line 1, column 7; second occurrence "
                               "at line 2, column 9"]),
    "a lone surrogate": ("run.yaml", 'hyperparameters:\n  activation: "\\ud800"\n',
                         ["hyperparameters.activation holds '\\ud800': a lone surrogate is not text"]),
    # one value per key
    "a YAML key given twice": ("run.yaml", "seed: 1\nbudget: {steps: 100}\nseed: 2\n",
                               ["key 'seed' is given twice (lines 1 and 3)"]),
    "a nested YAML key given twice": ("run.yaml", "hyperparameters:\n  gamma: 0.9\n  gamma: 0.99\n",
                                      ["key 'gamma' is given twice (lines 2 and 3)"]),
    "steps and episodes": ("run.toml", "budget = { steps = 100, episodes = 3 }\n",
                           ["budget takes steps or episodes, not both"]),
}


@pytest.mark.parametrize("case", LIMIT_FILES)
def test_config_files_past_their_limits_are_refused_in_one_short_line(case, workdir):
    name, text, fragments = LIMIT_FILES[case]
    write(workdir, name, text)
    before = snapshot(workdir)
    agent = "sb3-ppo" if name == "ppo.yml" else "reinforce"
    result = runner.invoke(app, ["train", agent, "cartpole", "--config", name, "--out", "run"])
    line = assert_one_line_error(result, *fragments)
    assert len(line) < 400, line
    assert snapshot(workdir) == before


def test_merge_keys_override_what_they_merge_as_rl_zoo_files_do():
    text = ("CartPole-v1: &defaults\n  n_timesteps: !!float 1e5\n  gamma: 0.98\n  n_steps: 32\n"
            "Acrobot-v1:\n  <<: *defaults\n  gamma: 0.9\n")
    s = file_settings(ConfigFile("ppo.yml", text), "sb3-ppo", "Acrobot-v1")
    assert s.hyperparameters == {"gamma": 0.9, "n_steps": 32, "iteration_steps": 0} and s.budget == {"steps": 100_000}


RL_ZOO_NUMBERS = {
    "n_timesteps .inf": ("  n_timesteps: .inf\n", ["n_timesteps must be a positive whole number, got inf"]),
    "n_timesteps .nan": ("  n_timesteps: .nan\n", ["n_timesteps must be a positive whole number, got nan"]),
    "n_timesteps 500 digits": (f"  n_timesteps: {HUGE}\n", ["n_timesteps is a whole number of 500 digits"]),
    "n_timesteps past 10**12": ("  n_timesteps: !!float 1e15\n", ["entry CartPole-v1: budget steps must be",
                                                                    "at most 1,000,000,000,000"]),
    "exploration_fraction abc": ("  n_timesteps: 1000\n  exploration_fraction: abc\n",
                                 ["exploration_fraction must be a number from 0 to 1", "got 'abc'"]),
    "exploration_fraction null": ("  n_timesteps: 1000\n  exploration_fraction: null\n",
                                  ["exploration_fraction must be a number from 0 to 1", "got None"]),
    "exploration_fraction [1]": ("  n_timesteps: 1000\n  exploration_fraction: [1]\n",
                                 ["exploration_fraction must be a number from 0 to 1", "got [1]"]),
    "exploration_fraction .inf": ("  n_timesteps: 1000\n  exploration_fraction: .inf\n",
                                  ["exploration_fraction must be a number from 0 to 1", "got inf"]),
    "exploration_fraction 1e300": ("  n_timesteps: 1000\n  exploration_fraction: 1e300\n",
                                   ["exploration_fraction must be a number from 0 to 1"]),
    "policy_kwargs nested 5,000 deep": (f'  policy_kwargs: "{deep("[", "]", 5000)}"\n',
                                        ["policy_kwargs nests too deeply to be read"]),
    "policy_kwargs nested 150 deep": (f'  policy_kwargs: "{deep("[", "]", 150)}"\n',
                                      ["policy_kwargs must be a dict(...), got '[[[[[[[[[[[[...]]]]]]]]]]]]]'"]),
    "policy_kwargs 60,000 minus signs": ('  policy_kwargs: "dict(log_std_init=' + "-" * 60_000 + '1)"\n',
                                          ["policy_kwargs nests too deeply to be read"]),
    "policy_kwargs dicts 90 deep": ('  policy_kwargs: "dict(net_arch=' + deep("dict(a=", ")", 90) + ')"\n',
                                    ["policy_kwargs net_arch", "is not a list of layer sizes"]),
    "normalize nested 5,000 deep": ('  normalize: "' + deep("{'a': ", "}", 5000) + '"\n',
                                    ["normalize nests too deeply to be read"]),
    "policy_kwargs hex past 64 bits": ('  policy_kwargs: "dict(log_std_init=0x' + "f" * 5000 + ')"\n',
                                       ["entry CartPole-v1: log_std_init is a whole number of 6,021 digits"]),
    "policy_kwargs key twice in dict()": ('  policy_kwargs: "dict(net_arch=[64], net_arch=[32])"\n',
                                          ["policy_kwargs", "key 'net_arch' is given twice"]),
    "policy_kwargs key twice in {}": ("  policy_kwargs: \"{'net_arch': [64], 'net_arch': [32]}\"\n",
                                      ["policy_kwargs", "key 'net_arch' is given twice"]),
    "normalize key twice": ("  normalize: \"{'norm_obs': True, 'norm_obs': False}\"\n",
                            ["normalize", "key 'norm_obs' is given twice"]),
    "lin_1e300 learning rate": ("  n_timesteps: 1000\n  learning_rate: lin_1e300\n",
                                ["learning_rate='lin_1e300' is out of range", "1e-30 to 1e+30"]),
    "lin_1e300 clip range": ("  n_timesteps: 1000\n  clip_range: lin_1e300\n",
                             ["clip_range='lin_1e300' is out of range", "0 to 1e+30"]),
    "normalize with lone surrogates": ('  normalize: "\\ud800\\udc00"\n', ["a lone surrogate is not text"]),
    "normalize a list of 729 values": (f"  normalize: {alias_bomb(3)[6:]}",
                                       ["normalize [[", "the zoo takes true/false"]),
    "an entry given twice": ("  n_envs: 2\nCartPole-v1:\n  n_envs: 4\n", ["key 'CartPole-v1' is given twice"]),
}


@pytest.mark.parametrize("case", RL_ZOO_NUMBERS)
def test_rl_zoo_numbers_and_python_strings_past_their_limits_are_refused_in_one_short_line(case, workdir):
    entry, fragments = RL_ZOO_NUMBERS[case]
    path = write(workdir, "dqn.yml", "CartPole-v1:\n" + entry)
    before = snapshot(workdir)
    agent = "sb3-dqn" if "exploration_fraction" in case else "sb3-ppo"
    result = runner.invoke(app, ["train", agent, "cartpole", "--config", str(path), "--out", "run", "--steps", "64",
                                 "--set", "n_steps=8", "--set", "batch_size=8", "--set", "iteration_steps=64"]
                           if agent == "sb3-ppo" else
                           ["train", agent, "cartpole", "--config", str(path), "--out", "run", "--steps", "64",
                            "--set", "iteration_steps=64"])
    line = assert_one_line_error(result, *fragments)
    assert len(line) < 400, line
    assert snapshot(workdir) == before
