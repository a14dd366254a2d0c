"""Options rl_zoo3 users type: ``-h`` and ``--device``."""

from __future__ import annotations

import json

import pytest
from support.checks import assert_one_line_error
from typer.testing import CliRunner

import zoo
from zoo.cli import app

runner = CliRunner()


@pytest.mark.parametrize("args", [["-h"], ["train", "-h"], ["record", "-h"]])
def test_h_is_help(args):
    done = runner.invoke(app, args)
    assert done.exit_code == 0 and done.stdout.startswith("Usage: zoo")
    assert done.stdout == runner.invoke(app, [*args[:-1], "--help"]).stdout


def test_device_goes_to_the_sb3_model(tmp_path):
    done = runner.invoke(app, ["train", "sb3-ppo", "CartPole-v1", "--device", "auto", "--dry-run", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["hyperparameters"]["device"]["value"] == "auto"
    agent = zoo.make_agent("sb3-ppo", "CartPole-v1", overrides={"device": "auto"})
    assert agent.model.device.type == "cpu"  # SB3's auto: no cuda on this machine
    assert zoo.make_agent("sb3-tqc", "Pendulum-v1").model.device.type == "cpu"  # the default


def test_a_device_that_is_not_one_is_refused():
    assert_one_line_error(runner.invoke(app, ["train", "sb3-ppo", "CartPole-v1", "--device", "gpu", "--dry-run"]),
                          "device='gpu' is not valid", "auto, cpu, cuda")


def test_device_is_fixed_on_resume(tmp_path):
    assert_one_line_error(runner.invoke(app, ["train", "--resume", str(tmp_path), "--device", "cpu"]), "--device")
