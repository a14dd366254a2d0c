"""`zoo train ... --log-folder DIR` writes rl-baselines3-zoo's layout beside the run folder, and
rl-baselines3-zoo's own scripts read it unchanged: `python -m rl_zoo3.plots.plot_train`,
`python -m rl_zoo3.plots.all_plots` and `python -m rl_zoo3.benchmark` (which runs rl_zoo3's
enjoy.py on the final model), each in a subprocess of this interpreter."""

from __future__ import annotations

import csv
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from support.checks import snapshot
from typer.testing import CliRunner

from zoo import checkpoint as ckpt
from zoo.cli import app

runner = CliRunner()
STEPS, EVAL_EVERY, EVAL_EPISODES = 6000, 2000, 3


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def rl_zoo3(cwd: Path, *args: str, module: str) -> subprocess.CompletedProcess:
    """``python -m MODULE ARGS`` in ``cwd``, with this interpreter first on PATH (rl_zoo3.benchmark
    starts ``python enjoy.py``) and matplotlib drawing off screen."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


#: plot_train only shows its figure: this prints the curves it drew instead.
PLOT_TRAIN = """
import json, runpy, sys
import matplotlib.pyplot as plt
plt.show = lambda: print(json.dumps([{"label": line.get_label(), "x": [float(v) for v in line.get_xdata()],
                                      "y": [float(v) for v in line.get_ydata()]} for line in plt.gca().lines]))
sys.argv[0] = "plot_train"
runpy.run_module("rl_zoo3.plots.plot_train", run_name="__main__")
"""


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A normalised sb3-ppo run and a shorter one (ENV_1, ENV_2) in logs/."""
    root = tmp_path_factory.mktemp("layout")
    for args in (("sb3-ppo", "CartPole-v1", "--steps", STEPS, "--set", "norm_obs=true", "--eval-every", EVAL_EVERY,
                  "--eval-episodes", EVAL_EPISODES, "--out", root / "ppo"),
                 ("sb3-ppo", "CartPole-v1", "--steps", 256, "--out", root / "short")):
        done = invoke("train", *args, "--log-folder", root / "logs")
        assert done.exit_code == 0, done.output
    return root


def returns(run: Path) -> list[dict[str, float]]:
    with open(run / "returns.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def test_the_layout_is_rl_zoos(work):
    from zoo.agents.sb3_files import read_rl_zoo_yaml

    run = work / "logs" / "ppo" / "CartPole-v1_1"
    assert sorted(p.relative_to(run).as_posix() for p in run.rglob("*")) == [
        "0.monitor.csv", "CartPole-v1", "CartPole-v1.zip", "CartPole-v1/args.yml", "CartPole-v1/command.txt",
        "CartPole-v1/config.yml", "CartPole-v1/vecnormalize.pkl", "best_model.zip", "evaluations.npz"]
    assert (work / "logs" / "ppo" / "CartPole-v1_2" / "CartPole-v1.zip").is_file()  # N as rl_zoo3 counts
    assert json.loads((work / "ppo" / "config.json").read_text())["rl_zoo_log"] == str(run)

    args = read_rl_zoo_yaml(run / "CartPole-v1" / "args.yml")
    assert (args["algo"], args["env"], args["n_timesteps"], args["seed"]) == ("ppo", "CartPole-v1", STEPS, 0)
    assert (args["eval_freq"], args["eval_episodes"], args["log_folder"]) == (EVAL_EVERY, EVAL_EPISODES,
                                                                              str(work / "logs"))
    config = read_rl_zoo_yaml(run / "CartPole-v1" / "config.yml")
    assert config["n_timesteps"] == STEPS and config["normalize"] is True and config["norm_obs"] is True
    assert (run / "CartPole-v1" / "config.yml").read_text().startswith("!!python/object/apply:collections.OrderedDict")

    lines = (run / "0.monitor.csv").read_text().splitlines()
    assert json.loads(lines[0][1:])["env_id"] == "CartPole-v1" and lines[1] == "r,l,t"
    rows = returns(work / "ppo")
    assert [(float(r), int(n)) for r, n, _ in (line.split(",") for line in lines[2:])] == \
        [(row["return"], int(row["length"])) for row in rows]
    ours, theirs = np.load(work / "ppo" / "evaluations.npz"), np.load(run / "evaluations.npz")
    assert all(np.array_equal(ours[key], theirs[key]) for key in ("timesteps", "results", "ep_lengths"))
    assert list(theirs["timesteps"]) == [2048, 4096, 6144]


def test_the_zips_are_the_final_and_best_policies(work):
    from stable_baselines3 import PPO

    run = work / "logs" / "ppo" / "CartPole-v1_1"
    for zip_name, folder in (("CartPole-v1.zip", ckpt.find_checkpoint(work / "ppo")), ("best_model.zip",
                                                                                        work / "ppo" / "best")):
        expected = ckpt.read_tensors(folder)
        state = PPO.load(run / zip_name, device="cpu").policy.state_dict()
        assert all(torch.equal(state[k[len("policy."):]], v) for k, v in expected.items() if k.startswith("policy."))


def test_rl_zoo3_plot_train_draws_the_runs_curves(work):
    done = subprocess.run([sys.executable, "-c", PLOT_TRAIN, "-a", "ppo", "-e", "CartPole-v1", "-f", "logs", "-w", "5"],
                          cwd=work, env={**os.environ, "MPLBACKEND": "Agg"}, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    curves = {curve["label"]: curve for curve in json.loads(done.stdout.strip().splitlines()[-1])}
    assert set(curves) == {"CartPole-v1_1", "CartPole-v1_2"}
    rows = returns(work / "ppo")
    curve = curves["CartPole-v1_1"]
    assert curve["x"][-1] == sum(row["length"] for row in rows)  # Monitor lengths, summed as SB3's ts2xy does
    assert curve["y"][-1] == pytest.approx(np.mean([row["return"] for row in rows[-5:]]))



def test_rl_zoo3_all_plots_reads_the_evaluations(work):
    done = rl_zoo3(work, "-a", "ppo", "-e", "CartPole-v1", "-f", "logs", "-o", "all", "--no-display",
                   module="rl_zoo3.plots.all_plots")
    assert "CartPole-v1" in done.stdout
    with open(work / "all.pkl", "rb") as f:  # written by rl_zoo3 just now
        results = pickle.load(f)["CartPole-v1"]["PPO-logs"]
    evaluations = np.load(work / "ppo" / "evaluations.npz")
    np.testing.assert_array_equal(results["timesteps"], evaluations["timesteps"])
    np.testing.assert_allclose(results["mean"], evaluations["results"].mean(axis=1))


def test_rl_zoo3_benchmark_runs_the_final_model_through_enjoy(work, tmp_path):
    # rl_zoo3.benchmark starts `python enjoy.py` in its working folder: rl-baselines3-zoo's
    # repository has that file at its root, and this is all it holds.
    (work / "enjoy.py").write_text('from rl_zoo3.enjoy import enjoy\n\nif __name__ == "__main__":\n    enjoy()\n')
    done = rl_zoo3(work, "--log-dir", "logs", "--benchmark-dir", str(tmp_path / "bench"), "--no-hub", "-n", "600",
                   "--verbose", "1", "--seed", "0", module="rl_zoo3.benchmark")
    assert "Loading logs/ppo/CartPole-v1_2/CartPole-v1.zip" in done.stdout  # the latest run, as rl_zoo3 picks
    table = (tmp_path / "bench" / "benchmark.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("|ppo"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:2] == ["ppo", "CartPole-v1"] and cells[4] == "0k"  # n_timesteps of run 2: 256 steps


def test_an_agent_without_sb3_zips_gets_the_curves_and_evaluations_and_resumes_into_its_folder(tmp_path):
    logs, run = tmp_path / "logs", tmp_path / "run"
    done = invoke("train", "reinforce", "cartpole", "--steps", 600, "--checkpoint-every", 0, "--eval-every", 300,
                  "--log-folder", logs, "--out", run)
    assert done.exit_code == 0, done.output
    folder = logs / "reinforce" / "CartPole-v1_1"
    assert sorted(p.name for p in folder.iterdir()) == ["0.monitor.csv", "CartPole-v1", "evaluations.npz"]
    started = (folder / "0.monitor.csv").read_text().splitlines()[0]
    # A damaged Monitor file there refuses the resume in one line, before anything is written.
    kept = (folder / "0.monitor.csv").read_bytes()
    (folder / "0.monitor.csv").write_bytes(b"\xff\xfe garbage")
    before = snapshot(tmp_path)
    done = invoke("train", "--resume", run, "--steps", 2000)
    assert done.exit_code == 2 and "0.monitor.csv" in done.output, done.output
    assert snapshot(tmp_path) == before
    (folder / "0.monitor.csv").write_bytes(kept)
    done = invoke("train", "--resume", run, "--steps", 2000)
    assert done.exit_code == 0, done.output
    assert (folder / "0.monitor.csv").read_text().splitlines()[0] == started  # its own t_start kept
    monitor = (folder / "0.monitor.csv").read_text().splitlines()[2:]
    assert [float(line.split(",")[0]) for line in monitor] == [row["return"] for row in returns(run)]
    assert not (logs / "reinforce" / "CartPole-v1_2").exists()
    np.testing.assert_array_equal(np.load(folder / "evaluations.npz")["timesteps"],
                                  np.load(run / "evaluations.npz")["timesteps"])
