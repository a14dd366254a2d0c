"""The CLI, end to end, through typer's runner and a real subprocess."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys

from typer.testing import CliRunner

from zoo.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_list_shows_envs_and_agents_with_their_plugin_and_package():
    result = invoke("list", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    cartpole = next(e for e in data["envs"] if e["name"] == "cartpole")
    assert cartpole["gym_id"] == "CartPole-v1" and cartpole["plugin"] == "classic-envs"
    assert cartpole["package"].startswith("rl-agent-zoo")
    assert {"hardcoded", "reinforce", "reinforce-baseline"} <= {a["name"] for a in data["agents"]}


def test_eval_hardcoded_reports_mean_std_min_max_and_lengths():
    result = invoke("eval", "hardcoded", "cartpole", "--episodes", "3", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["mean"] == 500 and data["std"] == 0 and data["lengths"] == [500, 500, 500]
    assert data["episodes"] == 3 and data["deterministic"] is True


def test_train_then_eval_from_the_run_folder(tmp_path):
    run = tmp_path / "run"
    result = invoke("train", "reinforce", "cartpole", "--steps", "2000", "--seed", "1", "--out", str(run),
                    "--set", "n_envs=4")
    assert result.exit_code == 0, result.output
    for name in ("config.json", "command.txt", "returns.csv", "curve.png"):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["config"]["n_envs"] == 4 and config["seed"] == 1
    rows = list(csv.DictReader(open(run / "returns.csv")))
    assert rows and int(rows[-1]["env_steps"]) <= 2000
    # The budget counts every executed step and is never overrun (within one step of the 4 copies).
    executed = int(re.search(r"episodes, (\d+) env steps", result.output).group(1))
    assert 2000 - 4 < executed <= 2000
    assert (run / "command.txt").read_text().startswith("zoo train reinforce cartpole --seed 1 --steps 2000")
    assert "--set n_envs=4" in (run / "command.txt").read_text()
    result = invoke("eval", "reinforce", "cartpole", "--checkpoint", str(run), "--episodes", "2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["episodes"] == 2


def test_record_writes_a_gif_and_an_mp4(tmp_path):
    import imageio.v2 as imageio

    result = invoke("record", "hardcoded", "cartpole", "--out", str(tmp_path / "ep.gif"), "--max-steps", "20")
    assert result.exit_code == 0, result.output
    assert "over 20 steps" in result.stdout
    assert len(imageio.mimread(tmp_path / "ep.gif")) > 1
    result = invoke("record", "hardcoded", "cartpole", "--out", str(tmp_path / "ep.mp4"), "--max-steps", "20")
    assert result.exit_code == 0, result.output
    reader = imageio.get_reader(tmp_path / "ep.mp4")
    assert reader.count_frames() == 21
    assert reader.get_data(0).shape == (400, 600, 3)


def test_a_learning_agent_without_checkpoint_is_a_one_line_error():
    result = runner.invoke(app, ["eval", "sb3-ppo", "mountaincar-continuous"])  # learns, ships no checkpoint
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "--checkpoint" in result.stderr


def test_user_errors_exit_2_with_one_line_and_no_traceback_in_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "zoo.cli", "train", "reinforce", "cartpol", "--out",
                           str(tmp_path / "run")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "did you mean 'cartpole'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()


def test_click_usage_errors_are_one_line_too_in_a_real_process():
    proc = subprocess.run([sys.executable, "-m", "zoo.cli", "eval", "hardcoded", "cartpole", "--episodes", "0"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "--episodes" in proc.stderr and "zoo eval --help" in proc.stderr


def test_small_frames_are_enlarged_so_a_person_can_watch_them(tmp_path):
    import imageio.v2 as imageio

    result = invoke("record", "hardcoded", "pixelcopter", "--out", str(tmp_path / "pc.mp4"), "--max-steps", "30")
    assert result.exit_code == 0, result.output
    frame = imageio.get_reader(tmp_path / "pc.mp4").get_data(0)
    assert frame.shape[:2] == (384, 384)
