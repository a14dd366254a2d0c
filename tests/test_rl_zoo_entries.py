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


def can_make(env: str, cache: dict[str, bool] = {}) -> bool:  # noqa: B006  (a cache for the module)
    if env not in cache:
        import ale_py  # noqa: F401  (registers the Atari ids)

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
    # Every algorithm of every file is there, sb3-contrib's included.
    assert {algo for algo, _ in accepted} == {p.stem for p in HYPERPARAMS.glob("*.yml")} - {"her"}


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
