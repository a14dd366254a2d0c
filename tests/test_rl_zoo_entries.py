"""Every entry of rl-baselines3-zoo's own hyperparameter files runs as it is.

The files are rl_zoo3's, from the installed package (the test extra installs rl_zoo3 2.9.2):
``zoo train sb3-ALGO ENV --config FILE --dry-run`` is tried on each entry whose env can be made
here (gymnasium, box2d, mujoco and ale-py are in the test extra); the ``atari`` entry is tried on
``ALE/Pong-v5``. sb3-contrib's algorithms are agents (``sb3-`` + rl_zoo3's name, ``_`` as ``-``).
Then what the entries ask for is checked on built models: the Atari wrapper and frame stack, the
action noise, ``use_expln``, the optimiser, the policies; and the new agents train and evaluate.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import yaml
from support.checks import assert_one_line_error
from typer.testing import CliRunner

import zoo
from zoo.cli import app
from zoo.exceptions import ZooError
from zoo.factory import build_agent
from zoo.training.session import plan_run, train

runner = CliRunner()
HYPERPARAMS = Path(importlib.util.find_spec("rl_zoo3").submodule_search_locations[0]) / "hyperparams"
ATARI_GAME = "ALE/Pong-v5"
#: Entries refused, and why: rl_zoo3 would import a module the file names (a user's autoencoder).
REFUSED = {("sac", "CarRacing-v3"): "env_wrapper 'ae.wrapper.AutoencoderWrapper' is not one the zoo knows"}


def agent_name(algo: str) -> str:
    return "sb3-" + algo.replace("_", "-")


def env_of(entry: str) -> str:
    return ATARI_GAME if entry == "atari" else entry


def import_goal_envs() -> None:
    """gymnasium-robotics (the goal extra, in the test extra): its import registers the Fetch ids.
    Missing, the HER entries cannot be tried, and the tests say so instead of passing."""
    try:
        import gymnasium_robotics  # noqa: F401
    except ImportError:
        pytest.fail("gymnasium-robotics is not installed, so no HER entry can be tried: "
                    "pip install -e '.[test]' (or '.[goal]')")


def can_make(env: str, cache: dict[str, bool] = {}) -> bool:  # noqa: B006  (a cache for the module)
    if env not in cache:
        import ale_py  # noqa: F401  (registers the Atari ids)

        import_goal_envs()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                gymnasium.make(env).close()
                cache[env] = True
            except Exception:  # a missing package (pybullet, minigrid, ...) or an id gymnasium dropped
                cache[env] = False
    return cache[env]


def entries() -> list[tuple[str, str]]:
    found = []
    for path in sorted(HYPERPARAMS.glob("*.yml")):
        found += [(path.stem, entry) for entry in yaml.safe_load(path.read_text())]
    return found


@pytest.fixture(scope="module")
def dry_runs() -> dict[tuple[str, str], tuple[int, str]]:
    """Exit code and output of ``--dry-run`` on every entry whose env can be made."""
    results = {}
    for algo, entry in entries():
        if can_make(env_of(entry)):
            done = runner.invoke(app, ["train", agent_name(algo), env_of(entry), "--config",
                                       str(HYPERPARAMS / f"{algo}.yml"), "--dry-run", "--json"])
            results[algo, entry] = (done.exit_code, done.output)
    return results


def test_every_rl_zoo3_entry_whose_env_can_be_made_is_accepted(dry_runs):
    everything = entries()
    assert len(everything) == 283  # rl_zoo3 2.9.2's 13 files
    accepted = [key for key, (code, _) in dry_runs.items() if code == 0]
    refused = {key: output for key, (code, output) in dry_runs.items() if code != 0}
    # 140 entries have an env these extras make (the Atari ones through ale-py); one is refused.
    assert (len(accepted), len(dry_runs)) == (139, 140)
    assert set(refused) == set(REFUSED)
    for key, output in refused.items():
        assert REFUSED[key] in output and "never makes the zoo import a module" in output
    # Every algorithm of every file is there, sb3-contrib's included (her.yml: see below).
    assert {algo for algo, _ in accepted} == {p.stem for p in HYPERPARAMS.glob("*.yml")} - {"her"}


# -- HER: her.yml, and the HerReplayBuffer entries of sac.yml and tqc.yml ---------------------------
#: What makes the HER entries' envs, here: none of them can be made as they are named.
#: gymnasium-robotics registers Fetch*-v1 for mujoco_py (MuJoCo 2.1, not installable here) and
#: makes the same tasks with mujoco as Fetch*-v4; parking-v0 is highway-env's, which installs
#: pygame-ce over the zoo's pygame; panda-gym 3 registers Panda*-v3, not v1; NeckGoalEnv* is a
#: real robot's.
HER_FILES = ("her", "sac", "tqc")


def her_entries() -> list[tuple[str, str, dict]]:
    """(file, entry, values) of every entry that uses HER: her.yml's, and those naming HerReplayBuffer."""
    found = []
    for algo in HER_FILES:
        data = yaml.safe_load((HYPERPARAMS / f"{algo}.yml").read_text())
        found += [(algo, name, values) for name, values in data.items()
                  if algo == "her" or values.get("replay_buffer_class") == "HerReplayBuffer"]
    return found


def her_agent(algo: str, values: dict) -> str:
    """The agent an entry runs: her.yml's model_class, else the file's algorithm."""
    return agent_name(values["model_class"] if algo == "her" else algo)


def test_her_entries_are_counted_and_none_is_makeable_as_named():
    her = her_entries()
    assert len([e for e in her if e[0] == "her"]) == 7 and len(her) == 7 + 1 + 10
    assert [(algo, name) for algo, name, _ in her if can_make(name)] == []


def fetch_entries() -> list[tuple[str, str, dict]]:
    return [entry for entry in her_entries() if entry[1].startswith("Fetch")]


def test_every_fetch_her_entry_is_accepted_on_the_fetch_env_gymnasium_robotics_makes(tmp_path):
    import json

    tried = {}
    for algo, name, values in fetch_entries():
        env = name.replace("-v1", "-v4")  # the same task, on mujoco
        assert can_make(env), env
        path = tmp_path / f"{algo}-{env}.yml"
        path.write_text(yaml.safe_dump({env: values}))
        done = runner.invoke(app, ["train", her_agent(algo, values), env, "--config", str(path), "--dry-run",
                                   "--json"])
        tried[algo, name] = done.exit_code
        assert done.exit_code == 0, done.output
        plan = {key: item["value"] for key, item in json.loads(done.output)["hyperparameters"].items()}
        assert (plan["replay_buffer"], plan["n_sampled_goal"], plan["goal_selection_strategy"]) == \
            ("her", 4, "future")
    # her.yml's four Fetch entries (model_class tqc, tqc, tqc, sac), sac.yml's one, tqc.yml's four.
    assert len(tried) == 9 and set(tried.values()) == {0}
    assert {algo for algo, _ in tried} == set(HER_FILES)


def her_file(tmp_path: Path, entry: str, env: str = "FetchReach-v4", algo: str = "her") -> Path:
    """``algo``.yml's ``entry``, under the id ``env``, as a file of its own."""
    values = yaml.safe_load((HYPERPARAMS / f"{algo}.yml").read_text())[entry]
    path = tmp_path / f"{algo}.yml"
    path.write_text(yaml.safe_dump({env: values}))
    return path


def test_a_her_entry_runs_its_model_class_and_other_agents_get_the_command(tmp_path):
    import_goal_envs()
    path = her_file(tmp_path, "FetchPush-v1", "FetchPush-v4")  # model_class: tqc
    done = runner.invoke(app, ["train", "sb3-sac", "FetchPush-v4", "--config", str(path), "--dry-run"])
    assert_one_line_error(done, "this entry is for model_class tqc: zoo train sb3-tqc ENV --config FILE")
    plan = plan_run("sb3-tqc", "FetchPush-v4", config_file=path)
    config = plan.resolved.config
    assert (config.replay_buffer, config.n_critics, config.net_arch, config.env_wrapper) == (
        "her", 2, (512, 512, 512), ("sb3_contrib.common.wrappers.TimeFeatureWrapper",))


@pytest.mark.parametrize(("text", "refusal"), [
    ("model_class: 'os.system'", "model_class 'os.system' is not one the zoo runs with HER"),
    ("replay_buffer_class: 'evil.Buffer'", "replay_buffer_class 'evil.Buffer' is not one the zoo knows"),
    ("model_class: 'sac'\n  online_sampling: false", "offline goal sampling was removed in stable-baselines3 2.0"),
    ("replay_buffer_class: HerReplayBuffer\n  replay_buffer_kwargs: \"dict(copy_info_dict=__import__('os'))\"",
     "is not allowed"),
    ("replay_buffer_class: HerReplayBuffer\n  replay_buffer_kwargs: \"dict(handle_timeout_termination=False)\"",
     "handle_timeout_termination cannot be honoured"),
    ("model_class: 'sac'\n  goal_selection_strategy: 'random'", "goal_selection_strategy"),
])
def test_her_keys_are_data(text, refusal, tmp_path):
    import_goal_envs()
    (tmp_path / "her.yml").write_text(f"FetchReach-v4:\n  n_timesteps: 1000\n  {text}\n")
    modules = set(sys.modules)
    done = runner.invoke(app, ["train", "sb3-sac", "FetchReach-v4", "--config", str(tmp_path / "her.yml"),
                               "--dry-run"])
    assert_one_line_error(done, refusal)
    assert not {"evil", "os.system"} & (set(sys.modules) - modules)


def test_her_on_an_env_without_goals_is_refused_in_one_line(tmp_path):
    done = runner.invoke(app, ["train", "sb3-sac", "Pendulum-v1", "--set", "replay_buffer=her", "--steps", "100",
                               "--out", str(tmp_path / "run")])
    assert_one_line_error(done, "replay_buffer=her needs a goal env")
    assert not (tmp_path / "run").exists()


def test_the_dry_run_shows_what_the_atari_entry_sets(dry_runs):
    import json

    code, output = dry_runs["ppo", "atari"]
    plan = json.loads(output)
    values = {name: item["value"] for name, item in plan["hyperparameters"].items()}
    assert values["env_wrapper"] == ["stable_baselines3.common.atari_wrappers.AtariWrapper"]
    assert values["frame_stack"] == 4 and values["net_arch"] == []  # SB3's NatureCNN heads
    assert plan["config_file"]["format"].endswith("entry atari")


def test_an_env_wrapper_outside_the_known_set_is_refused_and_never_imported(tmp_path):
    assert "this" not in sys.modules  # importing it prints; the zoo must not
    (tmp_path / "ppo.yml").write_text("CartPole-v1:\n  env_wrapper:\n    - this.Wrapper\n  n_timesteps: 1000\n")
    done = runner.invoke(app, ["train", "sb3-ppo", "CartPole-v1", "--config", str(tmp_path / "ppo.yml"), "--dry-run"])
    assert_one_line_error(done, "env_wrapper 'this.Wrapper' is not one the zoo knows")
    assert "this" not in sys.modules


def test_env_wrapper_arguments_are_data(tmp_path):
    (tmp_path / "ppo.yml").write_text("CartPole-v1:\n  env_wrapper:\n    - gymnasium.wrappers.TimeAwareObservation:\n"
                                      "        flatten: {eval: 'os.system'}\n")
    done = runner.invoke(app, ["train", "sb3-ppo", "CartPole-v1", "--config", str(tmp_path / "ppo.yml"), "--dry-run"])
    assert_one_line_error(done, "env_wrapper gymnasium.wrappers.TimeAwareObservation", "is not plain data")


def build(algo: str, env: str, **overrides):
    plan = plan_run(agent_name(algo), env, config_file=HYPERPARAMS / f"{algo}.yml", overrides=overrides)
    return plan, build_agent(plan.resolved)


def test_the_atari_entry_runs_behind_sb3s_atari_wrapper_and_a_frame_stack(tmp_path):
    from stable_baselines3.common.torch_layers import NatureCNN

    # Without a module prefix: the zoo imports ale_py for the ALE/ and NoFrameskip ids itself.
    done = runner.invoke(app, ["train", "sb3-ppo", "PongNoFrameskip-v4", "--config", str(HYPERPARAMS / "ppo.yml"),
                               "--steps", "256", "--set", "n_envs=2", "--set", "n_steps=64", "--set", "batch_size=64",
                               "--set", "n_epochs=1", "--set", "iteration_steps=128", "--out", str(tmp_path / "run")])
    assert done.exit_code == 0, done.output
    agent = zoo.load_policy(tmp_path / "run")
    assert agent.model.observation_space.shape == (4, 84, 84)  # 84x84 grey frames, 4 stacked, channels first
    assert isinstance(agent.model.policy.features_extractor, NatureCNN)
    raw, _ = gymnasium.make("PongNoFrameskip-v4").reset(seed=0)
    with pytest.raises(ZooError, match="observations of its env_wrapper/frame_stack"):
        agent.predict(raw)


def test_the_atari_a2c_entry_gets_rmsproptflike():
    _, agent = build("a2c", ATARI_GAME)
    optimizer = agent.model.policy.optimizer
    assert type(optimizer).__name__ == "RMSpropTFLike" and optimizer.defaults["eps"] == 1e-5
    agent.vec_env.close()


def test_ornstein_uhlenbeck_noise_and_use_expln_are_honoured():
    from stable_baselines3.common.noise import OrnsteinUhlenbeckActionNoise

    _, td3 = build("td3", "MountainCarContinuous-v0")
    assert isinstance(td3.model.action_noise, OrnsteinUhlenbeckActionNoise)
    assert np.allclose(td3.model.action_noise._sigma, 0.5)
    _, sac = build("sac", "MountainCarContinuous-v0")
    assert sac.model.actor.action_dist.use_expln is True and sac.model.use_sde


def test_sb3_contrib_policies_are_the_entries():
    plan, ars = build("ars", "CartPole-v1")
    assert type(ars.model.policy).__name__ == "ARSLinearPolicy" and ars.model.n_delta == 2
    plan = plan_run("sb3-crossq", "BipedalWalker-v3", config_file=HYPERPARAMS / "crossq.yml")
    assert (plan.resolved.config.net_arch, plan.resolved.config.critic_arch) == ((256, 256), (1024, 1024))
    _, lstm = build("ppo_lstm", ATARI_GAME)  # CnnLstmPolicy, lstm_hidden_size=128, enable_critic_lstm=False
    assert type(lstm.model).__name__ == "RecurrentPPO" and lstm.model.policy.lstm_actor.hidden_size == 128
    assert lstm.model.policy.lstm_critic is None and lstm.model.observation_space.shape == (4, 84, 84)
    for agent in (ars, lstm):
        agent.vec_env.close()


#: Tiny budgets of the new agents: a few updates each, on their rl-zoo entry's env.
SHORT = {
    "sb3-trpo": ("CartPole-v1", 512, {"n_envs": 2, "n_steps": 128, "iteration_steps": 256}),
    "sb3-qrdqn": ("CartPole-v1", 400, {"learning_starts": 100, "iteration_steps": 100}),
    "sb3-tqc": ("Pendulum-v1", 300, {"learning_starts": 100, "net_arch": "32,32", "batch_size": 32,
                                     "iteration_steps": 100}),
    "sb3-crossq": ("Pendulum-v1", 300, {"learning_starts": 100, "net_arch": "32,32", "critic_arch": "32,32",
                                        "batch_size": 32, "iteration_steps": 100}),
    "sb3-ars": ("CartPole-v1", 500, {"iteration_steps": 100}),
    "sb3-ppo-lstm": ("Acrobot-v1", 1024, {"n_envs": 2, "n_steps": 64, "batch_size": 64, "n_epochs": 1,
                                          "iteration_steps": 256}),
}


@pytest.mark.parametrize("agent", SHORT)
def test_sb3_contrib_agents_train_from_their_entry_then_evaluate(agent, tmp_path):
    env, steps, overrides = SHORT[agent]
    algo = agent[len("sb3-"):].replace("-", "_")
    result = train(agent, env, steps=steps, config_file=HYPERPARAMS / f"{algo}.yml", overrides=overrides,
                   out=tmp_path / "run", argv=["zoo"])
    assert result.env_steps >= steps and result.episodes > 0
    policy = zoo.load_policy(tmp_path / "run")
    evaluation = zoo.evaluate(policy, env, episodes=2, seed=1)
    assert evaluation.episodes == 2 and np.isfinite(evaluation.mean)
    obs, _ = gymnasium.make(env).reset(seed=0)
    action, state = policy.predict(obs[None], deterministic=True)
    assert gymnasium.make(env).action_space.contains(action[0])
    if agent == "sb3-ppo-lstm":  # the LSTM's state goes out, and back in
        assert state is not None and len(state) == 2
        again, _ = policy.predict(obs[None], state=state, episode_start=np.zeros(1, dtype=bool), deterministic=True)
        assert again.shape == action.shape


def test_a_her_entry_trains_evaluates_resumes_exactly_and_exports(tmp_path):
    """her.yml's FetchReach entry (model_class sac, normalize) on FetchReach-v4: 200 steps, and
    the same stopped twice (once mid-episode) and resumed end as a run that never stopped: weights,
    optimisers, HER's buffer and episode bookkeeping, VecNormalize's statistics (``torch.equal``)."""
    import torch
    from stable_baselines3 import SAC, HerReplayBuffer
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    from zoo import checkpoint as ckpt
    from zoo.training.resuming import resume

    import_goal_envs()
    path = her_file(tmp_path, "FetchReach-v1")
    small = {"learning_starts": 50, "batch_size": 32, "net_arch": "32,32", "iteration_steps": 25}

    def everything(run: Path) -> dict[str, torch.Tensor]:
        folder = ckpt.find_checkpoint(run)
        tensors, _ = ckpt.read_training_state(folder)
        return {**ckpt.read_tensors(folder), **{k: v for k, v in tensors.items() if k != "loop.rows"}}

    straight = train("sb3-sac", "FetchReach-v4", seed=2, steps=200, config_file=path, overrides=small,
                     out=tmp_path / "straight", argv=["zoo"])
    assert straight.env_steps == 200 and straight.episodes == 4
    agent = zoo.load_policy(tmp_path / "straight")
    assert isinstance(agent.model.replay_buffer, HerReplayBuffer) and agent.normalizer is not None
    assert type(agent.model.policy).__name__ == "MultiInputPolicy"
    evaluation = zoo.evaluate(agent, "FetchReach-v4", episodes=2, seed=1)
    assert evaluation.episodes == 2 and evaluation.mean_length == 50 and -50 <= evaluation.mean <= 0

    train("sb3-sac", "FetchReach-v4", seed=2, steps=100, config_file=path, overrides=small,
          out=tmp_path / "resumed", argv=["zoo"], checkpoint_every=0)  # 100 = 2 episodes: then 125, mid-episode
    resume(tmp_path / "resumed", steps=125, argv=["zoo"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # an approximate resume warns: this one must be exact
        resume(tmp_path / "resumed", steps=200, argv=["zoo"])
    a, b = everything(tmp_path / "straight"), everything(tmp_path / "resumed")
    assert "agent.buffer.observations.desired_goal" in b and "agent.buffer.ep_start" in b
    assert a.keys() == b.keys() and [k for k in a if not torch.equal(a[k], b[k])] == []

    done = runner.invoke(app, ["export", str(tmp_path / "straight"), "--format", "sb3", "--out",
                               str(tmp_path / "model.zip")])
    assert done.exit_code == 0, done.output
    env = VecNormalize.load(str(tmp_path / "vecnormalize.pkl"), DummyVecEnv([lambda: gymnasium.make("FetchReach-v4")]))
    model = SAC.load(tmp_path / "model.zip", env=env)  # SB3 needs the env to rebuild HER's buffer
    assert model.replay_buffer_kwargs == {"n_sampled_goal": 4, "goal_selection_strategy": "future"}
    env.training = False  # acting: the statistics stay those the run ended with
    obs = env.reset()
    assert np.allclose(model.predict(obs, deterministic=True)[0], agent.predict(env.get_original_obs(),
                                                                                deterministic=True)[0], atol=1e-5)


def test_sb3_her_names_the_agents_that_run_her(tmp_path):
    import_goal_envs()
    path = her_file(tmp_path, "FetchReach-v1")
    done = runner.invoke(app, ["train", "sb3-her", "FetchReach-v4", "--config", str(path), "--dry-run"])
    assert_one_line_error(done, "unknown agent 'sb3-her': 'her' is not an agent of its own", "sb3-sac",
                          "sb3-tqc", "--set replay_buffer=her")


def test_fetch_ids_need_no_module_prefix(tmp_path):
    import subprocess

    # A fresh interpreter, where nothing has imported gymnasium_robotics: the id's pattern does.
    done = subprocess.run([sys.executable, "-m", "zoo.cli", "train", "sb3-sac", "FetchReach-v4", "--set",
                           "replay_buffer=her", "--dry-run", "--json"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    import json

    assert json.loads(done.stdout)["hyperparameters"]["replay_buffer"]["value"] == "her"
