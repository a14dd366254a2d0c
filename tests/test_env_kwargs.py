"""``zoo train --env-kwargs KEY=VALUE`` (rl_zoo3's ``--env-kwargs``) and rl-zoo entries' ``env_kwargs``:
the env is made with them wherever the run makes it (training, evaluation during and after it,
resume, ``zoo eval`` / ``zoo record`` of the run), they are recorded in the run, and bad ones are
refused in one line before anything is written.

CartPole's ``sutton_barto_reward=True`` shows that an env got them: each step then pays 0 and the
failing one -1, so every return is 0 or -1 (never the usual +1 per step)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from support.checks import assert_one_line_error
from typer.testing import CliRunner

import zoo
from zoo.cli import app
from zoo.config import parse_literal_pairs
from zoo.exceptions import ZooError
from zoo.factory import configured_env, make_vec_env

runner = CliRunner()
SUTTON = ["--env-kwargs", "sutton_barto_reward=True"]
OLD_RUN = Path(__file__).parent / "data" / "old-runs" / "reinforce-baseline-acrobot"


def returns(run: Path) -> list[float]:
    with open(run / "returns.csv", newline="") as f:
        return [float(row["return"]) for row in csv.DictReader(f)]


def sutton_barto(values) -> bool:
    """Returns as CartPole's Sutton-Barto reward pays them (0 per step, -1 on failing)."""
    return len(values) > 0 and all(v in (0.0, -1.0) for v in values)


def evaluated(args: list[str]) -> dict:
    done = runner.invoke(app, ["eval", *args, "--episodes", "3", "--json"])
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def train(args: list[str]) -> None:
    done = runner.invoke(app, ["train", *args])
    assert done.exit_code == 0, done.output


@pytest.mark.parametrize("agent,options", [
    ("reinforce", ["--steps", "2000", "--set", "n_envs=4"]),
    ("sb3-ppo", ["--steps", "512", "--set", "n_steps=128", "--set", "n_envs=2"]),
])
def test_the_run_trains_evaluates_resumes_and_records_with_them(tmp_path, agent, options):
    run = tmp_path / "run"
    train([agent, "CartPole-v1", *SUTTON, *options, "--eval-every", "256", "--eval-episodes", "2",
           "--out", str(run)])
    header = json.loads((run / "config.json").read_text())
    assert header["env_kwargs"] == {"sutton_barto_reward": True}
    assert sutton_barto(returns(run))  # training's envs
    assert sutton_barto(np.load(run / "evaluations.npz")["results"].ravel())  # evaluation during training
    assert sutton_barto(evaluated(["--checkpoint", str(run)])["returns"])  # zoo eval of the run
    assert sutton_barto(evaluated(["--checkpoint", str(run), "--best"])["returns"])
    # Without them (the same policy on the registered env), CartPole pays +1 per step.
    plain = zoo.evaluate(zoo.load_policy(run), "CartPole-v1", episodes=3)
    assert min(plain.returns) >= 1
    before = len(returns(run))
    train(["--resume", str(run), "--steps", str(int(options[1]) * 2)])
    assert len(returns(run)) > before and sutton_barto(returns(run))  # the resumed session's envs too
    done = runner.invoke(app, ["record", "--checkpoint", str(run), "--out", str(tmp_path / "episode.gif")])
    assert done.exit_code == 0, done.output
    assert "return -1.0" in done.stdout or "return 0.0" in done.stdout


def test_an_rl_zoo_entry_gives_them_and_the_option_replaces_them(tmp_path):
    config = tmp_path / "ppo.yml"
    config.write_text("CartPole-v1:\n  n_envs: 2\n  n_timesteps: 256\n  policy: 'MlpPolicy'\n  n_steps: 128\n"
                      "  env_kwargs: \"dict(sutton_barto_reward=True)\"\n")
    done = runner.invoke(app, ["train", "sb3-ppo", "CartPole-v1", "--config", str(config), "--dry-run", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["env_kwargs"] == {"sutton_barto_reward": True}
    done = runner.invoke(app, ["train", "sb3-ppo", "CartPole-v1", "--config", str(config), "--dry-run",
                               "--env-kwargs", "sutton_barto_reward=False"])
    assert done.exit_code == 0, done.output
    assert "env made with sutton_barto_reward=False" in done.stdout  # as rl_zoo3: the command line's win
    run = tmp_path / "run"
    train(["sb3-ppo", "CartPole-v1", "--config", str(config), "--out", str(run)])
    assert sutton_barto(returns(run))


def test_dry_run_shows_them():
    done = runner.invoke(app, ["train", "reinforce", "Pendulum-v1", "--env-kwargs", "g=2.5", "--dry-run"])
    assert done.exit_code == 0, done.output
    assert "env made with g=2.5" in done.stdout
    assert "--env-kwargs" in runner.invoke(app, ["train", "--help"]).stdout


def test_lunar_lander_continuous_gets_its_box_actions(tmp_path):
    run = tmp_path / "run"
    train(["sb3-ppo", "LunarLander-v3", "--env-kwargs", "continuous=True", "--steps", "256", "--set", "n_steps=128",
           "--set", "n_envs=2", "--out", str(run)])
    policy = zoo.load_policy(run)
    env = zoo.make_env(configured_env("LunarLander-v3", {"continuous": True}))
    action, _ = policy.predict(env.reset(seed=0)[0], deterministic=True)
    assert np.shape(action) == (2,)  # a throttle pair, not one of 4 discrete actions
    assert evaluated(["--checkpoint", str(run)])["episodes"] == 3


def test_the_envs_get_them_batched_or_not():
    env = configured_env("Pendulum-v1", {"g": 2.5})
    assert zoo.make_env(env).unwrapped.g == 2.5
    assert make_vec_env(env, 4).single_env.g == 2.5  # the zoo's batched Pendulum
    assert make_vec_env(env, 2, vectorization_mode="sync").envs[0].unwrapped.g == 2.5
    assert zoo.make_env("Pendulum-v1").unwrapped.g == 10.0  # the registered env is left as it was


def test_a_keyword_the_env_does_not_take_is_refused_before_anything_is_written(tmp_path):
    run = tmp_path / "run"
    line = assert_one_line_error(runner.invoke(app, ["train", "reinforce", "CartPole-v1", "--env-kwargs", "gravity=1",
                                                     "--out", str(run)]), "cartpole", "gravity")
    assert "unexpected keyword" in line and "it takes: sutton_barto_reward" in line  # what would be valid
    assert not run.exists()


@pytest.mark.parametrize("pair,fragment", [
    ("render=human", "not a Python literal"),  # a bare word: strings are quoted
    ("g=__import__('os').getpid()", "not a Python literal"),  # never run
    ("g", "KEY=VALUE"),
    ("1g=2", "not a keyword argument name"),
    ("g={1, 2}", "must be numbers, strings"),  # a set: config.json could not record it
])
def test_bad_syntax_is_refused_in_one_line(tmp_path, pair, fragment):
    run = tmp_path / "run"
    assert_one_line_error(runner.invoke(app, ["train", "reinforce", "Pendulum-v1", "--env-kwargs", pair,
                                              "--out", str(run)]), "--env-kwargs", fragment)
    assert not run.exists()


def test_values_are_literals():
    assert parse_literal_pairs(["g=-5.0", "continuous=True", "mode='rgb'", "size=(2, 3)", "x:1"], "--env-kwargs") \
        == {"g": -5.0, "continuous": True, "mode": "rgb", "size": (2, 3), "x": 1}
    with pytest.raises(ZooError):
        parse_literal_pairs(["g=abs(-1)"], "--env-kwargs")


def test_they_are_fixed_on_resume(tmp_path):
    assert_one_line_error(runner.invoke(app, ["train", "--resume", str(tmp_path), *SUTTON]), "--env-kwargs")


def test_a_run_written_before_them_evaluates_as_before():
    assert "env_kwargs" not in json.loads((OLD_RUN / "config.json").read_text())
    result = evaluated(["--checkpoint", str(OLD_RUN)])
    expected = zoo.evaluate(zoo.load_policy(OLD_RUN), "acrobot", episodes=3)
    assert result["returns"] == expected.returns and result["lengths"] == expected.lengths


def test_a_forged_record_is_refused(tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(OLD_RUN, run)
    header = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**header, "env_kwargs": {"__class__": 1}}))
    with pytest.raises(ZooError, match="env_kwargs|cannot be made"):
        zoo.resume(run, steps=8000, argv=["zoo"])
