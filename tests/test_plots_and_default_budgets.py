"""Plots a practitioner keeps, and default budgets for envs the zoo knows no budget for (issue 24):

- ``zoo plot`` legends name only the settings that differ, floats rounded (more digits only
  where two labels would read the same), wrapped, under the axes, which keep their size;
- every sb3 episode sits at its own env step in ``returns.csv`` and in the curves; runs written
  before (every episode of an iteration at its last step) still plot, without a spike;
- the mean over seeds is drawn over the steps every seed covers, no further;
- ``zoo tune``'s importance chart keeps its labels whole;
- an env with no budget known to its agent gets one derived from its spaces and time limit,
  and ``--dry-run`` (and the run) says so.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
from zoo.agent_base import EPISODES_AT_LEAST, MAX_DERIVED_STEPS, STEPS_PER_BIT, derived_budget
from zoo.cli import app
from zoo.entries import EnvEntry
from zoo.tools.plot import AXES_SIZE, Run, group_runs, learning_curves_figure, legend_labels, load_run
from zoo.training import run_folder

runner = CliRunner()


def fake_run(root: Path, name: str, config: dict, steps: list[int], returns: list[float] | None = None,
             agent: str = "sb3-ppo", env: str = "cartpole") -> Path:
    """A run folder as zoo train writes it, as far as zoo plot reads it."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"agent": agent, "env": env, "config": config}))
    returns = returns if returns is not None else [float(i) for i in range(len(steps))]
    run_folder.write_returns(folder, [[i + 1, r, 10, s, float(i)] for i, (r, s) in enumerate(zip(returns, steps))])
    return folder


def rendered(figure):
    """The renderer of ``figure`` drawn on an Agg canvas (where text has its size)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return canvas.get_renderer()


def run_of(x: list[float], y: list[float], config: dict | None = None, env: str = "cartpole") -> Run:
    return Run(Path("r"), "sb3-ppo", env, config or {}, np.array(x, dtype=float), np.array(y, dtype=float))


# -- legends ---------------------------------------------------------------------------------------
def test_the_legend_names_only_the_settings_that_differ_with_floats_rounded():
    base = {"gamma": 0.99, "n_envs": 4, "net_arch": [64, 64], "policy": "MlpPolicy"}
    configs = [{**base, "learning_rate": 0.008052764748017856},
               {**base, "learning_rate": 0.00031622776601683794},
               {**base, "learning_rate": 0.00031622776601683794, "gamma": 0.9500000000000001}]
    assert legend_labels("sb3-ppo", configs) == ["sb3-ppo (gamma=0.99, learning_rate=0.00805)",
                                                 "sb3-ppo (gamma=0.99, learning_rate=0.000316)",
                                                 "sb3-ppo (gamma=0.95, learning_rate=0.000316)"]
    # Values that round alike get the digits that tell them apart, and no more.
    assert legend_labels("sb3-ppo", [{"learning_rate": 0.00080527}, {"learning_rate": 0.00080528}]) == [
        "sb3-ppo (learning_rate=0.00080527)", "sb3-ppo (learning_rate=0.00080528)"]
    # Nested values are rounded too; one group alone is named by its agent.
    assert legend_labels("sb3-sac", [{"policy_kwargs": {"log_std_init": -2.7182818}}, {"policy_kwargs": {}}]) == [
        "sb3-sac (policy_kwargs={log_std_init: -2.72})", "sb3-sac (policy_kwargs={})"]
    assert legend_labels("reinforce", [base]) == ["reinforce"]


def test_long_legends_wrap_and_sit_under_the_axes_which_keep_their_size():
    def axes_inches(figure):
        ax = figure.axes[0]
        box = ax.get_position()
        return round(box.width * figure.get_figwidth(), 6), round(box.height * figure.get_figheight(), 6)

    one = learning_curves_figure(group_runs([run_of([0, 100], [1, 2])]))
    configs = [{f"setting_{k}": 0.123456789 * i for k in range(8)} for i in range(1, 7)]
    many = learning_curves_figure(group_runs([run_of([0, 100], [i, i + 1], c) for i, c in enumerate(configs)]))
    assert axes_inches(one) == axes_inches(many) == pytest.approx(AXES_SIZE)
    renderer = rendered(many)
    ax = many.axes[0]
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert len(texts) == 6 and all("setting_0=0.123" in texts[0] for _ in texts)
    assert all(max(len(line) for line in text.splitlines()) <= 70 for text in texts) and "\n" in texts[0]
    below = ax.get_tightbbox(renderer)  # the axes with their tick labels and axis labels
    legend_box = legend.get_window_extent(renderer)
    assert legend_box.y1 <= ax.xaxis.label.get_window_extent(renderer).y0 and legend_box.y1 < below.y1


# -- each episode at its own step, and the mean over the steps all seeds cover -----------------------
def test_the_mean_is_drawn_only_over_the_steps_every_seed_covers(tmp_path):
    runs = [fake_run(tmp_path, "a", {}, list(range(100, 1001, 100))),
            fake_run(tmp_path, "b", {}, list(range(300, 801, 50)))]
    figure = learning_curves_figure(group_runs([load_run(r, "steps", 3) for r in runs]), window=3)
    (line,) = figure.axes[0].get_lines()
    x = line.get_xdata()
    assert x[0] == 300 and x[-1] == 800 and np.all(np.diff(x) > 0)
    band = figure.axes[0].collections[0].get_paths()[0].vertices[:, 0]
    assert band.min() >= 300 and band.max() <= 800


def test_runs_of_old_versions_with_every_episode_at_its_iterations_end_plot_without_a_spike(tmp_path):
    # Before episodes had their own env step, an iteration's episodes all had its last one.
    steps = [2048] * 5 + [4096] * 20 + [6144] * 30
    old = fake_run(tmp_path, "old", {}, steps, [float(i) for i in range(len(steps))])
    run = load_run(old, "steps", 1)
    assert list(run.x) == [2048, 4096, 6144] and list(run.y) == [4.0, 24.0, 54.0]  # each iteration's last
    done = runner.invoke(app, ["plot", str(old), "--out", str(tmp_path / "curves.png")])
    assert done.exit_code == 0, done.output
    (line,) = learning_curves_figure(group_runs([run])).axes[0].get_lines()
    assert line.get_ydata()[-1] == 54.0 and np.all(np.diff(line.get_ydata()) >= 0)  # no jump at the end


def test_sb3_episodes_sit_at_their_own_env_step(tmp_path):
    """One env: an episode ends at the sum of the lengths so far, never at the end of its
    iteration (SB3's own Monitor files and rl_zoo3's plots count the same way)."""
    result = zoo.train("sb3-ppo", "cartpole", seed=0, steps=1024, out=tmp_path / "run", checkpoint_every=0,
                       overrides={"n_envs": 1, "n_steps": 256, "iteration_steps": 512, "batch_size": 64,
                                  "net_arch": "8"})
    rows = run_folder.read_returns(result.run_dir)
    ends = [int(r["env_steps"]) for r in rows]
    assert ends == list(np.cumsum([int(r["length"]) for r in rows]))
    assert len(set(ends)) == len(ends) and ends[-1] <= 1024
    curve = load_run(result.run_dir, "steps", 100)
    assert list(curve.x) == ends  # the plot's x: each episode's own step
    with open(result.run_dir / "returns.csv", newline="") as f:
        assert [int(r["env_steps"]) for r in csv.DictReader(f)] == ends


def test_the_tune_importance_chart_keeps_its_labels_whole():
    import optuna
    from optuna.visualization import matplotlib as plots

    from zoo.tools.tune.outputs import whole_labels

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("learning_rate", 1e-5, 1e-2, log=True) * 100
                   + t.suggest_float("exploration_fraction", 0.0, 1.0)
                   + t.suggest_int("target_update_interval", 1, 10_000) / 1e4, n_trials=12)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        figure = whole_labels(plots.plot_param_importances(study).figure)
    renderer, width = rendered(figure), figure.bbox.width
    labels = [t for ax in figure.axes for t in ax.get_yticklabels() if t.get_text()]
    assert {t.get_text() for t in labels} == {"learning_rate", "exploration_fraction", "target_update_interval"}
    for label in labels:
        box = label.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= width, label.get_text()


# -- default budgets -----------------------------------------------------------------------------
def test_an_env_without_a_known_budget_gets_one_derived_from_its_spaces_and_time_limit():
    cliff = zoo.plan_run("reinforce", "CliffWalking-v1")  # Discrete(48) in, Discrete(4) out, no time limit
    assert (cliff.budget.steps, cliff.budget.episodes, cliff.budget_source) == (6 * STEPS_PER_BIT, None, "default")
    assert zoo.plan_run("sb3-ppo", "CliffWalking-v1").budget.steps == 6 * STEPS_PER_BIT  # one rule for every agent
    # A long time limit: at least EPISODES_AT_LEAST whole episodes; never more than the cap.
    long = EnvEntry("long", "CartPole-v1", max_episode_steps=5000)
    assert derived_budget(long).steps == EPISODES_AT_LEAST * 5000 and "time limit (5000 steps)" in \
        derived_budget(long).reason
    assert derived_budget(EnvEntry("longer", "CartPole-v1", max_episode_steps=50_000)).steps == MAX_DERIVED_STEPS
    # Known budgets stay what they were: the agent's table, a plugin's fallback_budget.
    import tomllib
    from importlib import resources

    table = tomllib.loads(resources.files("zoo.agents").joinpath("defaults.toml").read_text(encoding="utf-8"))
    assert zoo.plan_run("reinforce", "cartpole").budget.steps == table["reinforce"]["CartPole-v1"]["budget"]["steps"]

    class Fixed(zoo.Agent):  # a plugin's agent that names a fallback budget keeps it
        fallback_budget = {"episodes": 7}

    assert Fixed.default_budget(EnvEntry("cliff", "CliffWalking-v1")) == {"episodes": 7}


def test_dry_run_says_which_budget_it_derived_and_how():
    done = runner.invoke(app, ["train", "reinforce", "CliffWalking-v1", "--dry-run"])
    assert done.exit_code == 0, done.output
    line = next(line for line in done.output.splitlines() if line.startswith("budget"))
    assert line.startswith("budget 300000 steps (default: derived from CliffWalking-v1, no budget being known for it")
    assert "50,000 per bit of its spaces' size (52 numbers: 6 bits)" in line and "--steps" in line
    data = json.loads(runner.invoke(app, ["train", "reinforce", "CliffWalking-v1", "--dry-run", "--json"]).output)
    assert data["budget"]["steps"] == 300_000 and "derived from CliffWalking-v1" in data["budget"]["derived"]
    known = runner.invoke(app, ["train", "reinforce", "cartpole", "--dry-run"]).output
    assert re.search(r"^budget \d+ steps \(default\)$", known, re.M) and "derived" not in known


def test_a_known_budget_that_equals_the_derived_one_is_not_called_derived():
    # reinforce-baseline's CartPole-v1 table says 150,000 steps, which is also what CartPole's spaces
    # would give: the README's main job printed "derived from CartPole-v1, no budget being known".
    assert derived_budget(EnvEntry("cartpole", "CartPole-v1")).steps == 150_000
    for args in (["--dry-run"], ["--dry-run", "--json"]):
        done = runner.invoke(app, ["train", "reinforce-baseline", "cartpole", *args])
        assert done.exit_code == 0, done.output
        assert "derived" not in done.output and "150000" in done.output.replace(",", "").replace("_", "")
