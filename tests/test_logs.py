"""Every run speaks the formats RL tools read, checked with those tools' own readers: SB3's
logger CSV (read with pandas, as SB3's docs do), SB3's Monitor files (its ``load_results``),
TensorBoard's event files (its ``EventAccumulator``); and evaluation during training."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas
import pytest
from stable_baselines3.common.monitor import load_results
from support.checks import ctrl_c_after
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from typer.testing import CliRunner

import zoo
from zoo.exceptions import ZooError
from zoo.training import run_folder


def scalars(run_dir, tag: str) -> list[tuple[int, float]]:
    events = EventAccumulator(str(run_dir))
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


def test_a_zoo_agent_run_writes_sb3_progress_monitor_and_tensorboard_logs(tmp_path):
    result = zoo.train("reinforce", "cartpole", seed=0, steps=20_000, out=tmp_path / "run")
    progress = pandas.read_csv(tmp_path / "run" / "progress.csv")
    for key in ("rollout/ep_rew_mean", "rollout/ep_len_mean", "time/fps", "time/iterations", "time/time_elapsed",
                "time/total_timesteps", "train/loss"):
        assert key in progress.columns, key
    assert progress["time/total_timesteps"].is_monotonic_increasing
    # Steps after the last update (the budget ended before the next was due) are in no row.
    assert result.env_steps - 2 * 64 * 500 < progress["time/total_timesteps"].iloc[-1] <= result.env_steps
    assert list(progress["time/iterations"]) == list(range(1, len(progress) + 1))
    returns = run_folder.read_returns(tmp_path / "run")
    assert progress["rollout/ep_rew_mean"].iloc[-1] == pytest.approx(np.mean([r["return"] for r in returns][-100:]))

    monitor = load_results(str(tmp_path / "run"))
    assert list(monitor["r"]) == [r["return"] for r in returns]
    assert list(monitor["l"]) == [int(r["length"]) for r in returns]

    curve = scalars(tmp_path / "run", "rollout/ep_rew_mean")
    assert [step for step, _ in curve] == list(progress["time/total_timesteps"])
    assert [value for _, value in curve] == pytest.approx(list(progress["rollout/ep_rew_mean"]), rel=1e-6)


def test_an_sb3_agent_run_logs_sb3s_own_training_keys(tmp_path):
    zoo.train("sb3-ppo", "cartpole", seed=0, steps=4096, out=tmp_path / "run",
              overrides={"n_envs": 2, "n_steps": 256, "iteration_steps": 1024})
    progress = pandas.read_csv(tmp_path / "run" / "progress.csv")
    for key in ("train/entropy_loss", "train/value_loss", "train/policy_gradient_loss", "train/learning_rate",
                "train/n_updates", "rollout/ep_rew_mean", "time/total_timesteps"):
        assert key in progress.columns, key
    assert len(load_results(str(tmp_path / "run"))) == len(run_folder.read_returns(tmp_path / "run"))


def test_logging_a_zoo_agent_run_does_not_import_stable_baselines3(tmp_path):
    code = ("import sys, zoo; zoo.train('reinforce', 'cartpole', steps=5000, out=sys.argv[1]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'stable_baselines3'))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "run")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "run" / "progress.csv").is_file()


def test_evaluation_during_training_logs_keeps_the_best_and_survives_a_resume(tmp_path):
    options = {"seed": 3, "eval_every": 10_000, "eval_episodes": 3, "checkpoint_every": 0}
    whole = zoo.train("reinforce", "cartpole", steps=40_000, out=tmp_path / "whole", **options)
    evaluations = np.load(tmp_path / "whole" / "evaluations.npz")
    assert set(evaluations.files) == {"timesteps", "results", "ep_lengths"}
    assert evaluations["results"].shape == (len(evaluations["timesteps"]), 3)
    assert evaluations["timesteps"][0] >= 10_000 and len(evaluations["timesteps"]) >= 3
    progress = pandas.read_csv(tmp_path / "whole" / "progress.csv")
    logged = progress["eval/mean_reward"].dropna()
    assert list(logged) == pytest.approx(list(evaluations["results"].mean(axis=1)))
    best = zoo.load_agent(tmp_path / "whole" / "best")
    assert best.checkpoint_meta["evaluation"]["mean"] == pytest.approx(float(logged.max()))

    # Stopped by Ctrl-C after the update that passes 19,000 steps and resumed: the same
    # evaluations, episodes and rows as the whole run. (A budget that ended there would have
    # learned the episodes under way: a longer budget then resumed is not the whole run.)
    assert zoo.train("reinforce", "cartpole", steps=40_000, out=tmp_path / "split", progress=ctrl_c_after(19_000),
                     **options).interrupted
    resumed = zoo.resume(tmp_path / "split")
    assert resumed.env_steps == whole.env_steps
    again = np.load(tmp_path / "split" / "evaluations.npz")
    for key in evaluations.files:
        np.testing.assert_array_equal(again[key], evaluations[key])
    split = pandas.read_csv(tmp_path / "split" / "progress.csv")
    counters = ("time/iterations", "time/total_timesteps")
    steady = [c for c in progress.columns if not c.startswith("time/") or c in counters]
    pandas.testing.assert_frame_equal(split[steady], progress[steady])
    assert list(load_results(str(tmp_path / "split"))["r"]) == list(load_results(str(tmp_path / "whole"))["r"])


def test_a_run_its_budget_ends_short_of_an_evaluation_evaluates_at_its_last_step(tmp_path):
    # 8 copies stop within 7 steps short of 1,000 (never past it): the evaluation due at 1,000
    # runs at the last step, and keeps best/.
    run = tmp_path / "run"
    options = {"seed": 0, "eval_every": 1000, "eval_episodes": 2, "overrides": {"n_envs": 8}}
    result = zoo.train("reinforce", "cartpole", steps=1000, out=run, **options)
    assert 1000 - 8 < result.env_steps <= 1000
    evaluations = np.load(run / "evaluations.npz")
    assert list(evaluations["timesteps"]) == [result.env_steps]
    assert zoo.load_agent(run / "best").checkpoint_meta["evaluation"]["env_steps"] == result.env_steps
    progress = pandas.read_csv(run / "progress.csv")
    assert list(progress["time/iterations"]) == list(range(1, len(progress) + 1))
    assert list(progress["eval/mean_reward"].dropna()) == pytest.approx(list(evaluations["results"].mean(axis=1)))

    # Resumed to 3,000: the evaluation due at 1,000 is not run again; those at 2,000 and 3,000 are.
    resumed = zoo.resume(run, steps=3000)
    timesteps = list(np.load(run / "evaluations.npz")["timesteps"])
    assert timesteps[0] == result.env_steps and len(timesteps) == 3, timesteps
    assert 2000 <= timesteps[1] < timesteps[2] == resumed.env_steps <= 3000
    progress = pandas.read_csv(run / "progress.csv")
    assert list(progress["time/iterations"]) == list(range(1, len(progress) + 1))


def test_evaluation_during_training_works_for_every_training_seed(tmp_path):
    # The evaluation seed is derived from the training seed; it once came out above 2**31 - 1
    # for seeds 1, 2, 4, 8, ..., and those runs stopped at their first evaluation.
    from zoo.limits import MAX_SEED, check_seed
    from zoo.scoring import evaluation_seed

    for seed in [*range(1000), MAX_SEED - 10_000, MAX_SEED - 9_999, MAX_SEED]:
        assert check_seed(evaluation_seed(seed)) == evaluation_seed(seed)
    assert len({evaluation_seed(seed) for seed in range(1000)}) == 1000
    zoo.train("reinforce", "cartpole", seed=1, steps=3000, eval_every=1000, eval_episodes=2, out=tmp_path / "run")
    evaluation = zoo.load_agent(tmp_path / "run" / "best").checkpoint_meta["evaluation"]
    assert evaluation["episodes"] == 2 and evaluation["seed"] == 10_001


def test_one_evaluation_seed_rule_training_seed_plus_10000_wrapped_into_the_seed_range():
    from zoo.limits import MAX_SEED
    from zoo.scoring import evaluation_seed

    assert [evaluation_seed(s) for s in (0, 1, 5)] == [10_000, 10_001, 10_005]
    assert evaluation_seed(MAX_SEED - 10_000) == MAX_SEED
    assert evaluation_seed(MAX_SEED - 9_999) == 0 and evaluation_seed(MAX_SEED) == 9_999
    # Evaluation copies (at most 100) never start from a seed a training copy started from, for
    # runs of up to 10,000 copies, wrapped or not.
    for seed in (0, 123_456, MAX_SEED - 10_050, MAX_SEED - 5, MAX_SEED):
        training = set(range(seed, seed + 10_000))
        assert training.isdisjoint(range(evaluation_seed(seed), evaluation_seed(seed) + 100))
    with pytest.raises(ZooError, match="--seed must be a whole number from 0 to"):
        evaluation_seed(-1)


def test_a_run_resumed_from_before_the_one_rule_keeps_evaluating_its_own_episodes(tmp_path):
    from zoo.training.periodic_eval import PeriodicEvaluation

    resumed = PeriodicEvaluation(tmp_path, 100, 2, 3)
    assert resumed.seed == 10_003
    old_state = {"next_at": 200, "best_mean": 1.0, "timesteps": [100], "results": [[1.0, 1.0]], "lengths": [[9, 9]]}
    resumed.restore(old_state, 150)  # saved (at env step 150) before the evaluation seed was part of the state
    assert resumed.seed != 10_003 and 0 <= resumed.seed <= 2**31 - 1
    resumed.restore({**old_state, "seed": 10_003}, 150)
    assert resumed.seed == 10_003 and resumed.state()["seed"] == 10_003


def test_zoo_eval_best_needs_a_run_that_kept_one(tmp_path):
    from zoo.cli import app

    zoo.train("reinforce", "cartpole", steps=3000, out=tmp_path / "run")
    result = CliRunner().invoke(app, ["eval", "reinforce", "cartpole", "--checkpoint", str(tmp_path / "run"), "--best"])
    assert result.exit_code == 2 and "--eval-every" in result.output


@pytest.mark.parametrize("value", ["0", "-5", str(10**20)])
def test_an_evaluation_schedule_outside_the_counts_is_one_line_and_writes_nothing(tmp_path, value):
    """Issue 23, item 19: ``--eval-every 10**20`` was accepted (a schedule no run can reach)."""
    from zoo.cli import app

    result = CliRunner().invoke(app, ["train", "reinforce", "cartpole", "--steps", "1000", "--eval-every", value,
                                      "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and "--eval-every must be a positive number" in result.stderr
    assert not (tmp_path / "run").exists()
