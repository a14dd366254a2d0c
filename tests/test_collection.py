"""Nothing stepped in vain, within the budget, and resumable mid-episode (issue 25).

* Counted from outside the agent (a counting vector env around the one the loop makes), the
  env steps a run executes are the steps it reports (``time/total_timesteps``), never more than
  ``--steps``, and all learned from: the last update, at the budget's end, takes the unfinished
  episodes too, cut there; ``progress.csv`` reports the executed-to-used ratio, 1.0 at the end.
* The collection keeps every copy's episodes: each one is reported once, whole, in the order
  they ended, and the unfinished ones wait for the next update; one cut by the budget's end and
  continued by a larger budget is reported whole when it ends.
* A run stopped between two updates (by a signal, or killed after a checkpoint), with episodes
  under way, and resumed ends exactly where one that never stopped does, on every kind of vector
  env (batched in numpy, sync, worker processes).
* ``--stop-at-reward R`` stops at the first iteration where the mean of the last 100 training
  episodes reaches R, and says so.
"""

from __future__ import annotations

import csv
import json

import gymnasium
import numpy as np
import pytest
import torch
from support.checks import assert_one_line_error, ctrl_c_after, snapshot
from typer.testing import CliRunner

import zoo
from zoo import checkpoint as ckpt
from zoo.agents import acting, reinforce
from zoo.cli import app
from zoo.training import session as session_module
from zoo.training.resuming import resume
from zoo.training.session import train
from zoo.training.state import seeded_envs

runner = CliRunner()


class CountingVectorEnv(gymnasium.vector.VectorWrapper):
    """Counts the transitions a vector env plays, from outside: every copy's step but the one
    that restarts a copy under NEXT_STEP autoreset (told by the flags the env returned)."""

    executed = 0

    def __init__(self, env):
        super().__init__(env)
        self.done = np.zeros(env.num_envs, dtype=bool)

    def reset(self, *, seed=None, options=None):
        mask = (options or {}).get("reset_mask")
        self.done = self.done & ~mask if mask is not None else np.zeros(self.num_envs, dtype=bool)
        return self.env.reset(seed=seed, options=options)

    def step(self, actions):
        CountingVectorEnv.executed += int(self.num_envs - self.done.sum())
        result = self.env.step(actions)
        self.done = np.logical_or(result[2], result[3])
        return result

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.env, name)


@pytest.fixture
def counted(monkeypatch):
    """Every vector env the training loop makes, counted."""
    made = session_module.training_vec_env
    CountingVectorEnv.executed = 0
    monkeypatch.setattr(session_module, "training_vec_env", lambda *a, **k: CountingVectorEnv(made(*a, **k)))
    return CountingVectorEnv


def used_steps(run) -> int:
    with open(run / "returns.csv", newline="") as f:
        return sum(int(row["length"]) for row in csv.DictReader(f))


def progress_rows(run) -> list[dict[str, str]]:
    with open(run / "progress.csv", newline="") as f:
        return list(csv.DictReader(f))


#: Every built-in env family, with a budget of about 20 batches (episodes capped by --max-steps).
FAMILIES = [
    ("reinforce", "cartpole", {"n_envs": 8}, 60_000, None),
    ("reinforce-baseline", "acrobot", {"n_envs": 8}, 60_000, 200),
    ("reinforce", "mountaincar", {"n_envs": 4}, 30_000, 100),
    ("reinforce-baseline", "mountaincar-continuous", {"n_envs": 4, "batch_steps": 0}, 30_000, 100),
    ("reinforce-baseline", "pendulum", {"n_envs": 4, "batch_steps": 0}, 30_000, None),
    ("reinforce-baseline", "pixelcopter", {"n_envs": 8}, 40_000, 200),
    ("reinforce-baseline", "catcher", {"n_envs": 8}, 40_000, 200),
    ("reinforce-baseline", "flappybird", {"n_envs": 8}, 40_000, 200),
    ("reinforce-baseline", "pong", {"n_envs": 8}, 40_000, 200),
    ("reinforce-baseline", "puckworld", {"n_envs": 8}, 40_000, 100),
    ("reinforce", "lunarlander", {"n_envs": 8, "net_arch": [16]}, 40_000, 200),
]


@pytest.mark.parametrize("agent,env,overrides,steps,cap", FAMILIES, ids=[f[1] for f in FAMILIES])
def test_executed_steps_are_the_reported_ones_within_the_budget_and_5_percent_of_the_used(
        tmp_path, counted, agent, env, overrides, steps, cap):
    result = train(agent, env, seed=1, steps=steps, out=tmp_path / "run", overrides=overrides, argv=["zoo"],
                   max_episode_steps=cap)
    executed = counted.executed
    assert executed == result.env_steps  # what the run reports is what it stepped
    assert steps - overrides["n_envs"] < executed <= steps  # the budget, exactly: never past it
    # The last update, at the budget's end, learned from every step executed: the finished
    # episodes and the unfinished ones, cut there (not episodes of returns.csv).
    last = progress_rows(result.run_dir)[-1]
    assert int(last["time/total_timesteps"]) == executed
    assert float(last["rollout/executed_to_used"]) == 1.0
    assert used_steps(result.run_dir) <= executed
    _, saved = ckpt.read_training_state(result.checkpoint)
    assert saved["agent"]["collection"]["rows"] == 0  # nothing waits in the collector


@pytest.mark.parametrize("agent,env,n_envs,episodes", [
    ("reinforce", "cartpole", 64, 200), ("reinforce-baseline", "acrobot", 16, 40), ("reinforce", "catcher", 8, 30)])
def test_an_episode_budget_stops_stepping_at_its_last_episode_and_learns_everything(
        tmp_path, counted, agent, env, n_envs, episodes):
    # Up to 7be60fd the copies stepped on to the end of the iteration, and what they did after
    # the budget's last episode was never learned (CartPole, 64 copies, --episodes 200: 272
    # episodes reported, 1.15 env steps executed per step learned).
    result = train(agent, env, seed=2, episodes=episodes, out=tmp_path / "run", overrides={"n_envs": n_envs},
                   argv=["zoo"])
    # The step that ended the last episode may end others with it (the copies step at once).
    assert episodes <= result.episodes < episodes + n_envs // 4
    assert counted.executed == result.env_steps
    last = progress_rows(result.run_dir)[-1]
    assert float(last["rollout/executed_to_used"]) == 1.0  # the episodes under way were learned, cut
    _, saved = ckpt.read_training_state(result.checkpoint)
    assert saved["agent"]["collection"]["rows"] == 0


class ScriptedEpisodes(gymnasium.vector.VectorEnv):
    """Copy ``i``'s episodes last ``lengths[i][k]`` steps in turn; reward 1 per step, the
    observation the copy's step count; NEXT_STEP autoreset."""

    metadata = {"autoreset_mode": gymnasium.vector.AutoresetMode.NEXT_STEP}

    def __init__(self, lengths: list[list[int]]) -> None:
        self.num_envs = len(lengths)
        self.lengths = [list(rows) for rows in lengths]
        self.single_observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (1,), np.float32)
        self.single_action_space = gymnasium.spaces.Discrete(2)
        self.observation_space = gymnasium.vector.utils.batch_space(self.single_observation_space, self.num_envs)
        self.action_space = gymnasium.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.episode = np.zeros(self.num_envs, dtype=int)
        self.t = np.zeros(self.num_envs, dtype=int)
        self.done = np.zeros(self.num_envs, dtype=bool)
        self.transitions = 0

    def reset(self, *, seed=None, options=None):
        self.t[:] = 0
        self.done[:] = False
        return self.t[:, None].astype(np.float32), {}

    def step(self, actions):
        rewards = np.zeros(self.num_envs)
        terminated = np.zeros(self.num_envs, dtype=bool)
        for i in range(self.num_envs):
            if self.done[i]:
                self.t[i], self.done[i] = 0, False
                self.episode[i] += 1
                continue
            self.transitions += 1
            self.t[i] += 1
            rewards[i] = 1.0
            length = self.lengths[i][self.episode[i] % len(self.lengths[i])]
            terminated[i] = self.done[i] = self.t[i] >= length
        return self.t[:, None].astype(np.float32), rewards, terminated, np.zeros(self.num_envs, dtype=bool), {}


def scripted_ends(lengths: list[list[int]], episodes: int = 100) -> list[tuple[int, int, int]]:
    """(step of its end, copy, length) of each of the first ``episodes`` episodes of every copy of
    :class:`ScriptedEpisodes`, in the order they end (by step, then copy)."""
    ends = []
    for copy, rows in enumerate(lengths):
        t = 0
        for k in range(episodes):
            t += rows[k % len(rows)] + (1 if k else 0)  # NEXT_STEP: a restart step between episodes
            ends.append((t, copy, rows[k % len(rows)]))
    return sorted(ends)


class ScriptedSpaces(gymnasium.Env):
    """The spaces of :class:`ScriptedEpisodes`, as a gymnasium id agents can be made for."""

    observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    action_space = gymnasium.spaces.Discrete(2)


def test_every_episode_is_reported_once_whole_in_the_order_they_ended():
    gymnasium.register("zoo-test/ScriptedEpisodes-v0", entry_point=ScriptedSpaces)
    lengths = [[3, 1, 7, 2], [11, 4], [5], [2, 9, 1, 1, 6]]
    env = ScriptedEpisodes(lengths)
    agent = zoo.make_agent("reinforce", "zoo-test/ScriptedEpisodes-v0", seed=0, overrides={"n_envs": 4})
    agent.start_training(lambda n: env)
    reported, executed = [], 0
    for _ in range(12):
        it = agent.train_iteration()
        assert it.episode_returns == [float(n) for n in it.episode_lengths]  # whole episodes
        reported += it.episode_lengths
        executed += it.env_steps
    assert executed == env.transitions
    assert reported == [length for _, _, length in scripted_ends(lengths)[:len(reported)]]
    assert executed - sum(reported) < 4 * 11  # the episodes under way wait for the next update


class StepsLeft(gymnasium.vector.VectorWrapper):
    """A budget the test sets (``steps_left``, as the loop's envs give it), and the env steps
    done after each ``step()``."""

    def __init__(self, env):
        super().__init__(env)
        self.steps_left, self.done_after = None, []

    def step(self, actions):
        result = self.env.step(actions)
        self.done_after.append(self.env.transitions)
        return result


def test_every_episode_carries_the_env_step_at_which_it_ended_and_one_the_budget_cut_is_learned_and_reported_whole():
    """Issue 24's leftover: each REINFORCE episode sat at the end of its iteration in returns.csv.
    Here each one's step is the env steps done when it ended. Issue 25: a budget that ends before
    an update is due ends with one on everything stepped, the unfinished episodes cut there; a
    larger budget continues them, and each is reported whole (its cut part too) when it ends."""
    gymnasium.register("zoo-test/ScriptedEpisodes-v0", entry_point=ScriptedSpaces)
    lengths = [[3, 1, 7, 2], [11, 4], [5], [2, 9, 1, 1, 6]]
    env = StepsLeft(ScriptedEpisodes(lengths))
    agent = zoo.make_agent("reinforce", "zoo-test/ScriptedEpisodes-v0", seed=0, overrides={"n_envs": 4})
    agent.start_training(lambda n: env)
    ended_at, reported, done, learned = [], [], 0, 0
    for i in range(12):
        env.steps_left = 9 if i in (3, 7) else None  # two budgets that end before an update is due
        it = agent.train_iteration()
        assert it.episode_returns == [float(n) for n in it.episode_lengths]  # whole episodes
        ended_at += [done + step for step in it.episode_steps or []]
        reported += it.episode_lengths
        done += it.env_steps
        learned += it.learned_steps
        if i in (3, 7):  # an update on all that was stepped, within the budget
            assert it.metrics and 0 < it.env_steps <= 9 and learned == done
            assert learned > sum(reported)  # episodes cut under way, learned and not reported
            # What a checkpoint keeps (JSON and tensors), put in a new agent: the cut parts go on.
            weights, (tensors, data) = agent.state_tensors(), agent.training_state()
            data = json.loads(json.dumps(data))
            assert data["collection"]["rows"] == 0 and sum(data["collection"]["cut_lengths"]) > 0
            agent = zoo.make_agent("reinforce", "zoo-test/ScriptedEpisodes-v0", seed=0, overrides={"n_envs": 4})
            agent.load_state_tensors(weights)
            agent.load_training_state(tensors, data)
            agent.start_training(lambda n: env)
    assert done == env.env.transitions
    assert done - learned < 4 * 11  # the unfinished episodes wait for the next update
    ends = scripted_ends(lengths)
    assert ended_at == [env.done_after[step - 1] for step, _, _ in ends[:len(ended_at)]]  # row: step - 1
    assert reported == [length for _, _, length in ends[:len(reported)]]


def test_returns_csv_puts_each_reinforce_episode_at_its_own_env_step(tmp_path):
    result = train("reinforce", "cartpole", seed=0, steps=5_000, out=tmp_path / "run", overrides={"n_envs": 8},
                   argv=["zoo"])
    with open(result.run_dir / "returns.csv", newline="") as f:
        steps = [int(row["env_steps"]) for row in csv.DictReader(f)]
    progress = [int(row["time/total_timesteps"]) for row in progress_rows(result.run_dir)]
    assert steps == sorted(steps) and steps[-1] <= result.env_steps
    # Many steps per iteration (not all at its end), and the first episodes end within the first
    # iteration: 8 copies, each of whose first episode is at least 8 steps long.
    assert len(set(steps)) > 5 * len(progress)
    assert 8 <= steps[0] < progress[0]


# -- resuming mid-episode -------------------------------------------------------------------------
def full_state(run):
    folder = ckpt.find_checkpoint(run)
    tensors, data = ckpt.read_training_state(folder)
    return {**ckpt.read_tensors(folder), **{k: v for k, v in tensors.items() if k.startswith("agent.")}}, data


RESUMED = [
    ("reinforce", "cartpole", {"n_envs": 4}, 3000, None),  # gymnasium's CartPoleVectorEnv
    # The zoo's batched classic control: copies whose episodes have drifted apart (the first ones all
    # last 500 steps, and end together), so that episodes are under way when it stops.
    ("reinforce", "acrobot", {"n_envs": 4, "learning_rate": 0.05}, 8000, None),
    ("reinforce-baseline", "pixelcopter", {"n_envs": 8}, 6000, None),  # a PLE port
    ("reinforce", "lunarlander", {"n_envs": 3}, 3000, None),  # a sync vector env (Box2D)
    ("reinforce", "lunarlander", {"n_envs": 4}, 3000, "workers"),  # worker processes
    ("reinforce", "FrozenLake-v1", {"n_envs": 4}, 2000, None),  # Discrete observations, sync
]


@pytest.mark.parametrize("agent,env,overrides,total,mode", RESUMED,
                         ids=[f"{r[1]}-{r[4] or 'default'}" for r in RESUMED])
def test_a_run_stopped_between_updates_resumes_its_episodes_exactly(tmp_path, monkeypatch, agent, env, overrides,
                                                                     total, mode):
    if mode is not None:
        made = session_module.training_vec_env
        monkeypatch.setattr(session_module, "training_vec_env",
                            lambda *a, **k: made(*a, **{**k, "vectorization_mode": mode}))
    straight = train(agent, env, seed=3, steps=total, out=tmp_path / "straight", overrides=overrides, argv=["zoo"])
    first = train(agent, env, seed=3, steps=total, out=tmp_path / "resumed", overrides=overrides,
                  argv=["zoo"], progress=ctrl_c_after(total // 2))
    assert first.interrupted and first.env_steps < total
    _, saved = ckpt.read_training_state(first.checkpoint)
    # Stopped with episodes under way: the collector holds steps, the env its copies' places.
    assert saved["agent"]["collection"]["rows"] > 0
    assert all("position" in envs for envs in saved["envs"])
    resumed = resume(tmp_path / "resumed", argv=["zoo"])
    assert (resumed.env_steps, resumed.episodes) == (straight.env_steps, straight.episodes)
    state_a, _ = full_state(straight.run_dir)
    state_b, _ = full_state(resumed.run_dir)
    assert state_a.keys() == state_b.keys()
    assert [k for k in state_a if not torch.equal(state_a[k], state_b[k])] == []
    assert resumed.returns == straight.returns


@pytest.mark.parametrize("env, block", [("mountaincar-continuous", 1024), ("acrobot", 64)])
def test_a_run_stopped_within_a_block_of_exploration_noise_resumes_it_exactly(env, block, tmp_path):
    """Actions draw their noise a block of steps ahead, with what each step's sampling needs of
    it (a Gaussian policy's (pink) noise and the part of its log-density it sets, a Categorical
    one's uniforms and their Gumbel noise): a run stopped within a block goes on with its rest."""
    straight = train("reinforce-baseline", env, seed=3, steps=6000, out=tmp_path / "straight",
                     overrides={"n_envs": 4}, argv=["zoo"])
    first = train("reinforce-baseline", env, seed=3, steps=6000, out=tmp_path / "resumed",
                  overrides={"n_envs": 4}, argv=["zoo"], progress=ctrl_c_after(3000))
    assert first.interrupted
    tensors, saved = ckpt.read_training_state(first.checkpoint)
    assert 0 < saved["agent"]["collection"]["noise_step"] < block
    assert tensors["agent.collection.noise"].shape[0] == block
    resumed = resume(tmp_path / "resumed", argv=["zoo"])
    state_a, _ = full_state(straight.run_dir)
    state_b, _ = full_state(resumed.run_dir)
    assert [k for k in state_a if not torch.equal(state_a[k], state_b[k])] == []
    assert resumed.returns == straight.returns and resumed.env_steps == straight.env_steps


def test_a_categorical_policy_trains_the_same_bits_whatever_its_noise_block(monkeypatch, tmp_path):
    """Uniforms drawn a block at a time are the numbers the steps would draw one by one: so a
    checkpoint written before blocks (its generator at the next step, no block) goes on as its
    version would have."""
    default = train("reinforce-baseline", "cartpole", seed=3, steps=6000, out=tmp_path / "default",
                    overrides={"n_envs": 4}, argv=["zoo"])
    monkeypatch.setattr(reinforce, "UNIFORM_BLOCK", 1)
    step_by_step = train("reinforce-baseline", "cartpole", seed=3, steps=6000, out=tmp_path / "step-by-step",
                         overrides={"n_envs": 4}, argv=["zoo"])
    assert step_by_step.returns == default.returns and len(default.returns) > 100
    weights_a, weights_b = (ckpt.read_tensors(ckpt.find_checkpoint(r.run_dir)) for r in (default, step_by_step))
    assert weights_a.keys() == weights_b.keys()
    assert [k for k in weights_a if not torch.equal(weights_a[k], weights_b[k])] == []


@pytest.mark.parametrize("n_actions", [2, 3, 9, 18])
def test_categorical_log_probs_of_a_block_of_steps_have_each_steps_bits(n_actions):
    rng = np.random.default_rng(n_actions)
    logits = (rng.standard_normal((37, 16, n_actions)) * 4).astype(np.float32)
    actions = rng.integers(0, n_actions, (37, 16))
    block = acting.categorical_log_prob(logits, actions)
    step_by_step = np.stack([acting.categorical_log_prob(logits[t], actions[t]) for t in range(37)])
    assert block.dtype == np.float64 and block.tobytes() == step_by_step.tobytes()
    shifted = logits[5] - logits[5].max(-1, keepdims=True)  # the textbook formula, one step
    np.testing.assert_allclose(block[5], shifted[np.arange(16), actions[5]] - np.log(np.exp(shifted).sum(-1)),
                               rtol=1e-6)


def test_the_log_probs_an_iteration_records_are_those_of_the_policy_that_acted():
    """A Categorical policy's log-probabilities are computed once per iteration, before the update:
    they are the per-step ones, bit for bit, carried episodes' steps included."""
    agent = zoo.make_agent("reinforce-baseline", "acrobot", seed=1)
    agent.start_training(lambda n: seeded_envs(zoo.make_vec_env("acrobot", n), 1))
    for _ in range(2):  # the second iteration starts with the first one's unfinished episodes
        agent.train_iteration()
    collector = agent._collector
    carried = collector.rows
    assert carried > 0 and collector.buffers["log_probs"][:carried].any()
    agent._collect()  # stepping only: the policy is the one that acted
    b, rows = collector.buffers, collector.rows
    assert rows > carried
    policy = agent.acting
    want = np.stack([acting.categorical_log_prob(acting.forward(policy.layers(), policy.activation, b["obs"][t]),
                                                 b["actions"][t]) for t in range(carried, rows)])
    assert b["log_probs"][carried:rows].tobytes() == want.tobytes()
    agent.stop_training()


# -- stopping at a reward threshold ---------------------------------------------------------------
def test_stop_at_reward_stops_at_the_first_iteration_whose_100_episode_mean_reaches_it(tmp_path):
    result = train("reinforce", "cartpole", seed=0, steps=300_000, out=tmp_path / "run", stop_at_reward=60.0,
                   overrides={"n_envs": 16}, argv=["zoo"])
    assert result.stopped_at_reward is not None and result.stopped_at_reward >= 60.0
    assert result.env_steps < 300_000
    assert result.stopped_at_reward == pytest.approx(float(np.mean(result.returns[-100:])))
    with open(result.run_dir / "returns.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # At the end of every earlier iteration, the mean was below 60. An iteration reports the
    # episodes that ended since the one before it, each at its own env step: those up to its end.
    steps = [int(row["env_steps"]) for row in rows]
    reported = [sum(step <= int(row["time/total_timesteps"]) for step in steps)
                for row in progress_rows(result.run_dir)]
    assert reported[-1] == len(rows)
    returns = [float(row["return"]) for row in rows]
    for count in reported[:-1]:
        assert count < 100 or np.mean(returns[count - 100:count]) < 60.0
    meta = json.loads((result.checkpoint / ckpt.META_FILE).read_text())
    assert meta["trained"]["stopped_at_reward"] == {"threshold": 60.0, "mean_return": result.stopped_at_reward}
    config = json.loads((result.run_dir / "config.json").read_text())
    assert config["budget"]["stop_at_reward"] == 60.0


def test_zoo_train_stop_at_reward_says_so_and_refuses_what_is_not_a_number(tmp_path):
    done = runner.invoke(app, ["train", "reinforce", "cartpole", "--steps", "200000", "--stop-at-reward", "40",
                               "--set", "n_envs=16", "--out", str(tmp_path / "run")])
    assert done.exit_code == 0, done.output
    assert "stopped early: the mean return of the last 100 episodes" in done.output
    bad = runner.invoke(app, ["train", "reinforce", "cartpole", "--stop-at-reward", "inf", "--out",
                              str(tmp_path / "bad")])
    assert_one_line_error(bad, "--stop-at-reward must be a finite number")
    assert not (tmp_path / "bad").exists()


# -- a budget too small to train ----------------------------------------------------------------
@pytest.mark.parametrize("args,fragments", [
    (["--steps", "63"], ["--steps 63 is too few", "reinforce on CartPole-v1", "at least 64", "--steps 64 or more"]),
    (["--steps", "4000", "--set", "batch_steps=5000", "--set", "n_envs=8"], ["--steps 4,000", "at least 5,000"]),
    (["--steps", "1", "--dry-run"], ["--steps 1 is too few"]),
])
def test_a_step_budget_below_one_update_is_refused_before_anything_is_written(workdir, args, fragments):
    """Issue 25: ``--steps`` fewer than one step of all copies trained nothing and exited 0."""
    result = runner.invoke(app, ["train", "reinforce", "cartpole", *args, "--out", str(workdir / "run")])
    assert_one_line_error(result, *fragments)
    assert list(workdir.iterdir()) == []  # no run folder, no runs/


def test_a_sweep_whose_train_steps_cannot_train_a_run_is_refused_before_anything_runs(workdir):
    # The grid's 8 copies could train in 32 steps, its 64 cannot.
    result = runner.invoke(app, ["sweep", "--agents", "reinforce-baseline,reinforce", "--envs", "cartpole",
                                 "--train-steps", "32", "--set", "n_envs=8,64", "--out", str(workdir / "sweep")])
    assert_one_line_error(result, "--train-steps 32 is too few", "reinforce-baseline on CartPole-v1",
                          "at least 64", "use --train-steps 64 or more")
    assert list(workdir.iterdir()) == []


def test_a_config_files_budget_below_one_update_is_refused_naming_the_file(workdir):
    (workdir / "run.toml").write_text('agent = "reinforce"\nenv = "cartpole"\nbudget = { steps = 10 }\n')
    result = runner.invoke(app, ["train", "reinforce", "cartpole", "--config", str(workdir / "run.toml"),
                                 "--out", str(workdir / "run")])
    assert_one_line_error(result, "the config file's budget of steps 10 is too few", "at least 64")
    assert not (workdir / "run").exists()


def test_the_python_api_refuses_it_with_budget_too_small(tmp_path):
    with pytest.raises(zoo.BudgetTooSmall, match="at least 8") as refused:
        zoo.train("reinforce", "cartpole", steps=7, overrides={"n_envs": 8}, out=tmp_path / "run")
    assert isinstance(refused.value, zoo.ZooError)
    with pytest.raises(zoo.BudgetTooSmall):
        zoo.plan_run("reinforce", "cartpole", steps=7, overrides={"n_envs": 8}, out=tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_a_resume_whose_steps_leave_less_than_one_update_is_refused_and_writes_nothing(tmp_path):
    """Issue 25: ``zoo train --resume RUN --steps N`` with N less than one step of all copies past
    what the run executed (N at or below it too) did nothing and exited 0."""
    first = train("reinforce", "cartpole", seed=0, steps=2_000, out=tmp_path / "run", overrides={"n_envs": 8},
                  argv=["zoo"])
    run, done = first.run_dir, first.env_steps
    assert 2_000 - 8 < done < 2_000  # its own budget leaves less than one step of its 8 copies
    before = snapshot(run)
    for extra in (["--steps", str(done + 7)], ["--steps", str(done)], ["--steps", "1000"]):
        refused = runner.invoke(app, ["train", "--resume", str(run), *extra])
        assert_one_line_error(refused, "too few env steps to train the run in", f"it has executed {done:,}",
                              "reinforce on CartPole-v1 needs at least 8 more", f"use --steps {done + 8} or more")
        assert snapshot(run) == before
    for extra in ([], ["--steps", "2000"]):  # its own budget, spent
        refused = runner.invoke(app, ["train", "--resume", str(run), *extra])
        assert_one_line_error(refused, f"has already trained {first.episodes} episodes, {done:,} env steps",
                              f"pass a larger --steps ({done + 8} or more) or --episodes")
        assert snapshot(run) == before
    with pytest.raises(zoo.BudgetTooSmall, match=f"use --steps {done + 8} or more"):
        zoo.resume(run, steps=done + 1)
    assert snapshot(run) == before
    resumed = zoo.resume(run, steps=done + 8)  # the smallest that can run: one step of every copy, learned
    assert resumed.env_steps == done + 8
    assert int(progress_rows(run)[-1]["time/total_timesteps"]) == done + 8


def test_a_budget_that_ends_before_the_first_update_says_so(tmp_path):
    """Past one step of all copies, the first update still waits for every copy to end an
    episode, which no check made before the run can know: 64 CartPole copies within 200 steps
    end none. The run says it learned nothing."""
    result = runner.invoke(app, ["train", "reinforce", "cartpole", "--steps", "200", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "0 episodes, 192 env steps" in result.stdout
    assert "warning: no training episode ended within 192 env steps: the agent may have learned nothing" in \
        result.stderr
    done = runner.invoke(app, ["train", "reinforce", "cartpole", "--steps", "2000", "--set", "n_envs=8",
                               "--out", str(tmp_path / "trained")])
    assert done.exit_code == 0 and "warning" not in done.stderr


def test_a_cut_episode_is_bootstrapped_with_gamma_times_the_value_of_the_state_it_stopped_in():
    """reinforce-baseline learns an episode the budget cuts as a time limit truncates one in
    stable-baselines3: its last reward plus gamma times V of the observation it stopped at (V
    before this update's fit), discounted back from there."""
    from zoo.agents.networks import numpy_forward

    gymnasium.register("zoo-test/ScriptedEpisodes-v0", entry_point=ScriptedSpaces)
    env = StepsLeft(ScriptedEpisodes([[50]] * 4))  # no episode ends within the budget
    gamma = 0.9
    agent = zoo.make_agent("reinforce-baseline", "zoo-test/ScriptedEpisodes-v0", seed=0,
                           overrides={"n_envs": 4, "gamma": gamma})
    agent.start_training(lambda n: env)
    seen, fit = {}, agent._fit_value

    def recording_fit(obs, returns, metrics):
        stopped = agent.acting.normalize(agent.acting.encode(agent._collector.observations))
        seen["returns"], seen["values"] = returns.copy(), numpy_forward(agent.value.body, stopped)[:, 0]
        return fit(obs, returns, metrics)

    agent._fit_value = recording_fit
    env.steps_left = 12  # three steps of each copy, then the budget ends and cuts all four episodes
    it = agent.train_iteration()
    assert (it.episode_lengths, it.learned_steps) == ([], 12)
    values = seen["values"].astype(np.float64)
    assert np.abs(values).min() > 1e-6  # a bootstrap of 0 would not tell the two apart
    expected = np.empty((3, 4))
    expected[2] = 1.0 + gamma * values
    for t in (1, 0):
        expected[t] = 1.0 + gamma * expected[t + 1]
    np.testing.assert_allclose(seen["returns"].reshape(3, 4), expected, rtol=1e-12)
