"""``--steps N`` on an sb3 agent run from an rl-baselines3-zoo entry means SB3's ``model.learn(N)``:
the same ``num_timesteps`` (whole rollouts of n_envs × n_steps, nothing more) and one
``progress.csv`` row per rollout, as SB3 writes with ``log_interval=1``."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure
from typer.testing import CliRunner

from zoo.cli import app

HYPERPARAMS = Path(importlib.util.find_spec("rl_zoo3").submodule_search_locations[0]) / "hyperparams"


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plain_sb3(algo, n_envs: int, n_steps: int, steps: int, folder: Path) -> tuple[int, int]:
    """num_timesteps and progress rows of SB3's own learn(steps), logging every rollout."""
    model = algo("MlpPolicy", make_vec_env("CartPole-v1", n_envs=n_envs, seed=0), n_steps=n_steps, seed=0,
                 device="cpu")
    model.set_logger(configure(str(folder), ["csv"]))
    model.learn(steps, log_interval=1)
    return model.num_timesteps, len(rows(folder / "progress.csv"))


# rl-zoo's CartPole entries: PPO 8 envs × 32 steps (rollouts of 256), A2C 8 × 5 (default n_steps: 40).
@pytest.mark.parametrize(("agent", "algo", "n_envs", "n_steps", "steps"),
                         [("sb3-ppo", PPO, 8, 32, 600), ("sb3-a2c", A2C, 8, 5, 420)])
def test_steps_are_sb3s_learn(agent, algo, n_envs, n_steps, steps, tmp_path):
    expected = plain_sb3(algo, n_envs, n_steps, steps, tmp_path / "sb3")
    done = CliRunner().invoke(app, ["train", agent, "CartPole-v1", "--config", str(HYPERPARAMS / f"{agent[4:]}.yml"),
                                    "--steps", str(steps), "--out", str(tmp_path / "zoo")])
    assert done.exit_code == 0, done.output
    progress = rows(tmp_path / "zoo" / "progress.csv")
    assert (int(progress[-1]["time/total_timesteps"]), len(progress)) == expected
    assert expected[0] == -(-steps // (n_envs * n_steps)) * n_envs * n_steps  # whole rollouts, nothing more


def learn_timesteps(algo_name: str, env: str, steps: int, n_envs: int, train_freq: int | None) -> int:
    """num_timesteps of plain SB3's (or sb3-contrib's) ``learn(steps)``: it depends on n_envs and
    train_freq (whole rollouts of n_envs × train_freq steps) only, so nothing is learnt here
    (learning_starts past the budget)."""
    import sb3_contrib
    import stable_baselines3

    algo = getattr(stable_baselines3, algo_name, None) or getattr(sb3_contrib, algo_name)
    model = algo("MlpPolicy", make_vec_env(env, n_envs=n_envs, seed=0), seed=0, device="cpu", train_freq=train_freq,
                 learning_starts=steps + 1)
    model.learn(steps)
    return model.num_timesteps


def zoo_timesteps(folder: Path) -> int:
    """The run's env steps, as its final checkpoint records them (progress.csv's last row may be
    earlier: steps after the last episode and update make no row of their own)."""
    final = max((folder / "checkpoints").iterdir(), key=lambda path: path.name)
    return int(json.loads((final / "training.json").read_text())["loop"]["env_steps"])


# rl-zoo's own entries as they are (train_freq 256 for DQN and QR-DQN on CartPole, 1 elsewhere), and
# with n_envs and train_freq that do not divide the budget nor the zoo's iteration_steps (1000).
OFF_POLICY = [
    ("sb3-dqn", "DQN", "CartPole-v1", 1500, []),
    ("sb3-dqn", "DQN", "CartPole-v1", 2500, ["n_envs=3", "train_freq=7", "learning_starts=3000"]),
    ("sb3-qrdqn", "QRDQN", "CartPole-v1", 1100, ["n_envs=2"]),
    ("sb3-sac", "SAC", "Pendulum-v1", 150, []),
    ("sb3-sac", "SAC", "Pendulum-v1", 1010, ["n_envs=4", "train_freq=3", "learning_starts=2000"]),
    ("sb3-td3", "TD3", "Pendulum-v1", 2500, ["n_envs=4", "train_freq=3"]),
    ("sb3-ddpg", "DDPG", "Pendulum-v1", 1234, []),
    ("sb3-tqc", "TQC", "Pendulum-v1", 150, []),
    ("sb3-crossq", "CrossQ", "Pendulum-v1", 2003, ["n_envs=2", "train_freq=5", "learning_starts=3000"]),
]


@pytest.mark.parametrize(("agent", "algo", "env", "steps", "sets"), OFF_POLICY,
                         ids=[f"{a}-{s}-{'-'.join(x) or 'file'}" for a, _, _, s, x in OFF_POLICY])
def test_off_policy_steps_are_sb3s_learn(agent, algo, env, steps, sets, tmp_path):
    """``--steps N`` runs what ``model.learn(N)`` runs: whole rollouts of n_envs × train_freq, the
    last one the first to reach N (the zoo's iterations of 1000 steps ran on to the next 1000)."""
    values = dict(s.split("=") for s in sets)
    n_envs, train_freq = int(values.get("n_envs", 1)), int(values.get("train_freq", 256 if "dqn" in agent else 1))
    expected = learn_timesteps(algo, env, steps, n_envs, train_freq)
    args = ["train", agent, env, "--config", str(HYPERPARAMS / f"{agent[4:]}.yml"), "--steps", str(steps),
            "--out", str(tmp_path / "zoo")]
    for s in sets:
        args += ["--set", s]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert zoo_timesteps(tmp_path / "zoo") == expected == -(-steps // (n_envs * train_freq)) * n_envs * train_freq


def test_off_policy_resume_to_a_new_total_is_sb3s_learn(tmp_path):
    """A run stopped at one budget and resumed to a larger one ends where ``learn(total)`` does."""
    config = ["--config", str(HYPERPARAMS / "dqn.yml")]
    first = CliRunner().invoke(app, ["train", "sb3-dqn", "CartPole-v1", *config, "--steps", "700", "--set",
                                     "n_envs=2", "--out", str(tmp_path / "run")])
    assert first.exit_code == 0, first.output
    assert zoo_timesteps(tmp_path / "run") == 1024  # rollouts of 2 × 256
    resumed = CliRunner().invoke(app, ["train", "--resume", str(tmp_path / "run"), "--steps", "1300"])
    assert resumed.exit_code == 0, resumed.output
    assert zoo_timesteps(tmp_path / "run") == learn_timesteps("DQN", "CartPole-v1", 1300, 2, 256) == 1536


def test_ars_steps_are_sb3_contribs_learn(tmp_path):
    """ARS's updates end when their episodes do: the run stops at the first update that reaches
    the budget, as ``ARS.learn(N)`` does with the same seed."""
    from sb3_contrib import ARS

    model = ARS("LinearPolicy", make_vec_env("CartPole-v1", n_envs=1, seed=0), n_delta=2, seed=0, device="cpu")
    model.learn(1500)
    done = CliRunner().invoke(app, ["train", "sb3-ars", "CartPole-v1", "--config", str(HYPERPARAMS / "ars.yml"),
                                    "--steps", "1500", "--set", "iteration_steps=500", "--out", str(tmp_path / "zoo")])
    assert done.exit_code == 0, done.output
    assert zoo_timesteps(tmp_path / "zoo") == model.num_timesteps


# -- schedules: --steps N spans them over N, as rl_zoo3's -n does ------------------------------------
def rl_zoo_learning_rate(entry_value: str, t: int, total: int) -> float:
    """What rl_zoo3 gives: its ``linear_schedule`` of SB3's progress_remaining in ``learn(total)``."""
    from rl_zoo3.utils import linear_schedule

    return linear_schedule(entry_value[len("lin_"):])(1.0 - float(t) / float(total))


def sb3_epsilon(initial: float, final: float, fraction: float, t: int, total: int) -> float:
    """What SB3's DQN gives with ``exploration_fraction`` in ``learn(total)``."""
    from stable_baselines3.common.utils import LinearSchedule

    return LinearSchedule(initial, final, fraction)(1.0 - float(t) / float(total))


SCHEDULED_ENTRIES = [  # agent, env, file's entry values, --steps
    ("sb3-ppo", "CartPole-v1", {"learning_rate": "lin_0.001", "clip_range": "lin_0.2"}, 20_000),
    ("sb3-a2c", "LunarLander-v3", {"learning_rate": "lin_0.00083"}, 7_777),
    ("sb3-dqn", "CartPole-v1", {"exploration": (1.0, 0.04, 0.16)}, 3_001),
    ("sb3-qrdqn", "LunarLander-v3", {"learning_rate": "lin_1.5e-3", "exploration": (1.0, 0.18, 0.24)}, 12_345),
]


@pytest.mark.parametrize(("agent", "env", "entry", "steps"), SCHEDULED_ENTRIES,
                         ids=[f"{a}-{e}" for a, e, _, _ in SCHEDULED_ENTRIES])
def test_schedules_span_the_runs_steps(agent, env, entry, steps, tmp_path):
    """With ``--steps`` in place of the file's ``n_timesteps``, lin_ schedules and exploration_fraction
    give at every env step what rl_zoo3 -n gives (SB3's progress over learn(steps))."""
    from zoo.factory import build_agent
    from zoo.training.session import plan_run

    plan = plan_run(agent, env, steps=steps, config_file=HYPERPARAMS / f"{agent[4:]}.yml", out=tmp_path / "run")
    assert plan.file_budget["steps"] != steps
    model = build_agent(plan.resolved, plan.seed).model
    try:
        for t in (0, 1, steps // 7, steps // 3, steps // 2, steps - 1, steps):
            model.num_timesteps = t
            if "learning_rate" in entry:
                assert model.lr_schedule(0.5) == rl_zoo_learning_rate(entry["learning_rate"], t, steps), t
            if "clip_range" in entry:
                assert model.clip_range(0.5) == rl_zoo_learning_rate(entry["clip_range"], t, steps), t
            if "exploration" in entry:
                assert model.exploration_schedule(0.5) == pytest.approx(
                    sb3_epsilon(*entry["exploration"], t, steps), rel=1e-12, abs=1e-15), t
    finally:
        model.env.close()


def test_trained_schedules_are_rl_zoos(tmp_path):
    """A QR-DQN run of 1,536 steps (6 rollouts of 256) logs, after each iteration, the learning rate
    and epsilon rl_zoo3 -n 1536 has at that step, though the file's n_timesteps is 100,000."""
    done = CliRunner().invoke(app, ["train", "sb3-qrdqn", "LunarLander-v3", "--config", str(HYPERPARAMS / "qrdqn.yml"),
                                    "--steps", "1536", "--set", "iteration_steps=512", "--set", "learning_starts=0",
                                    "--set", "gradient_steps=1", "--out", str(tmp_path / "zoo")])
    assert done.exit_code == 0, done.output
    progress = rows(tmp_path / "zoo" / "progress.csv")
    assert [int(r["time/total_timesteps"]) for r in progress] == [512, 1024, 1536]
    for row in progress:
        t = int(row["time/total_timesteps"])
        assert float(row["train/learning_rate"]) == pytest.approx(rl_zoo_learning_rate("lin_1.5e-3", t, 1536),
                                                                  rel=1e-9, abs=1e-15)
        assert float(row["rollout/exploration_rate"]) == pytest.approx(sb3_epsilon(1.0, 0.18, 0.24, t, 1536),
                                                                       rel=1e-9)


def test_dry_run_shows_the_files_budget_and_the_runs(tmp_path):
    done = CliRunner().invoke(app, ["train", "sb3-qrdqn", "LunarLander-v3", "--config", str(HYPERPARAMS / "qrdqn.yml"),
                                    "--steps", "12345", "--dry-run"])
    assert done.exit_code == 0, done.output
    assert "budget 12345 steps" in done.output
    assert "the config file's budget: 100000 steps" in done.output
    assert "exploration_steps, schedule_steps scaled to the run's budget" in done.output
    assert "config file, scaled to --steps" in done.output
    kept = CliRunner().invoke(app, ["train", "sb3-qrdqn", "LunarLander-v3", "--config", str(HYPERPARAMS / "qrdqn.yml"),
                                    "--steps", "12345", "--set", "schedule_steps=99", "--dry-run", "--json"])
    import json

    plan = json.loads(kept.output)
    assert plan["budget"]["file"] == {"steps": 100000}
    assert plan["hyperparameters"]["schedule_steps"] == {"value": 99, "source": "--set"}  # --set still wins
    assert plan["hyperparameters"]["exploration_steps"]["value"] == pytest.approx(0.24 * 12345)


# -- --save-freq: rl_zoo3's checkpoints every N env steps ------------------------------------------
def checkpoint_steps(run: Path) -> list[int]:
    return sorted(int(p.name) for p in (run / "checkpoints").iterdir() if p.is_dir() and not p.name.startswith("."))


def test_save_freq_checkpoints_every_n_steps_and_resumes_with_it(tmp_path):
    """PPO's rollouts of 8 × 32 = 256 steps: --save-freq 500 checkpoints after the rollouts that reach
    500, 1000, 1500 (at 512, 1024, 1536) and at the end, with no time-based ones; a resume keeps it."""
    run = tmp_path / "run"
    done = CliRunner().invoke(app, ["train", "sb3-ppo", "CartPole-v1", "--config", str(HYPERPARAMS / "ppo.yml"),
                                    "--steps", "1700", "--save-freq", "500", "--keep", "10", "--out", str(run)])
    assert done.exit_code == 0, done.output
    assert checkpoint_steps(run) == [512, 1024, 1536, 1792]
    import json

    saving = json.loads((run / "config.json").read_text())["checkpoints"]
    assert saving == {"every": None, "keep": 10, "every_steps": 500}
    resumed = CliRunner().invoke(app, ["train", "--resume", str(run), "--steps", "2600"])
    assert resumed.exit_code == 0, resumed.output
    assert checkpoint_steps(run) == [512, 1024, 1536, 1792, 2048, 2560, 2816]
    assert "--save-freq" in (run / "command.txt").read_text()  # rl_zoo3's own option name, as typed


@pytest.mark.parametrize("value", ["0", "-5", "abc", "1e30"])
def test_bad_save_freq_is_one_line_and_writes_nothing(value, tmp_path):
    done = CliRunner().invoke(app, ["train", "sb3-ppo", "CartPole-v1", "--steps", "100", "--save-freq", value,
                                    "--out", str(tmp_path / "run")])
    assert done.exit_code == 2
    assert "--save-freq" in done.output and "Traceback" not in done.output
    assert not (tmp_path / "run").exists()


# -- --vec-env: SB3's DummyVecEnv or SubprocVecEnv -----------------------------------------------------
def test_subproc_vec_env_trains_as_dummy_does_and_resumes(tmp_path):
    """The same seed gives the same run in one process or in one per env copy (SB3 seeds each copy
    alike); a subproc run resumes, its copies on new episodes, with a warning."""
    import json

    import torch

    from zoo import checkpoint as ckpt

    def run(kind: str, steps: int, out: Path) -> Path:
        done = CliRunner().invoke(app, ["train", "sb3-ppo", "CartPole-v1", "--steps", str(steps), "--set", "n_envs=2",
                                        "--set", "n_steps=64", "--set", "batch_size=64", "--vec-env", kind,
                                        "--out", str(out)])
        assert done.exit_code == 0, done.output
        return out

    dummy, subproc = run("dummy", 512, tmp_path / "dummy"), run("subproc", 512, tmp_path / "subproc")
    assert json.loads((subproc / "config.json").read_text())["config"]["vec_env"] == "subproc"
    a, b = (ckpt.read_tensors(ckpt.find_checkpoint(r)) for r in (dummy, subproc))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    episodes = [[{k: v for k, v in row.items() if k != "seconds"} for row in rows(r / "returns.csv")]
                for r in (dummy, subproc)]
    assert episodes[0] == episodes[1] and len(episodes[0]) > 10
    resumed = CliRunner().invoke(app, ["train", "--resume", str(subproc), "--steps", "768"])
    assert resumed.exit_code == 0, resumed.output
    assert zoo_timesteps(subproc) == 768


@pytest.mark.parametrize(("args", "message"), [
    (["sb3-ppo", "CartPole-v1", "--vec-env", "forkserver"], "vec_env"),
    (["reinforce", "cartpole", "--vec-env", "subproc"], "--vec-env is for the sb3-* agents"),
    (["reinforce", "cartpole", "--device", "cpu"], "--device is for the sb3-* agents"),
    (["sb3-ars", "CartPole-v1", "--vec-env", "subproc"], "vec_env must be dummy"),
])
def test_bad_vec_env_is_one_line_and_writes_nothing(args, message, tmp_path):
    done = CliRunner().invoke(app, ["train", *args, "--steps", "100", "--out", str(tmp_path / "run")])
    assert done.exit_code == 2, done.output
    assert message in done.output and "Traceback" not in done.output
    assert not (tmp_path / "run").exists()
