"""zoo push / pull / eval --from-hub against the loopback Hub server, through the real,
unmodified huggingface_hub client (see tests/support/hubserver.py and tests/support/hub.py)."""

from __future__ import annotations

import io
import json
import socket
import sys
from pathlib import Path

import pytest
import torch
from huggingface_hub import HfApi
from support.checks import assert_one_line_error
from typer.testing import CliRunner

import zoo
from zoo import checkpoint as ckpt
from zoo.cli import app
from zoo.exceptions import ZooError
from zoo.hub.formats import load_hub_policy
from zoo.hub.pull import pull
from zoo.hub.push import HubPushWarning, push_run
from zoo.remote_code import UnpicklingWarning
from zoo.versions import zoo_version

runner = CliRunner()
EPISODES = 3
PUSHED_FILES = {".gitattributes", "README.md", "model.safetensors", "zoo.json", "hyperparameters.json",
                "results.json", "curve.png", "replay.mp4"}
TAGS = {"CartPole-v1", "reinforce", "reinforcement-learning", "deep-reinforcement-learning",
        "custom-implementation", "deep-rl-class", "agent-zoo"}


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(autouse=True)
def no_blanket_trust(monkeypatch):
    """Pickles load only when a test asks: no ZOO_TRUST_REMOTE_CODE from the environment."""
    monkeypatch.delenv("ZOO_TRUST_REMOTE_CODE", raising=False)


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Two tiny REINFORCE runs on CartPole (different seeds, so different weights)."""
    root = tmp_path_factory.mktemp("runs")
    return {name: zoo.train("reinforce", "cartpole", seed=seed, episodes=16, out=root / name, argv=["zoo"]).run_dir
            for name, seed in (("a", 0), ("b", 1))}


def checkpoint_of(run: Path) -> Path:
    return ckpt.find_checkpoint(run)


def local_score(run: Path, episodes: int = EPISODES):
    return zoo.evaluate(zoo.load_agent(run), "cartpole", episodes=episodes, seed=0, deterministic=True)


# -- push, pull, card, idempotence ---------------------------------------------------------------

def test_push_is_one_commit_and_pulls_back_byte_for_byte_into_a_fresh_cache(hub, hub_repo_id, hf_home, runs):
    result = push_run(runs["a"], hub_repo_id, eval_episodes=EPISODES)

    assert result.changed and not result.reused_results
    assert hub.commit_count(hub_repo_id) == 2  # the repo's initial commit + exactly one push
    assert hub.request_count("POST", "/commit/") == 1
    assert result.commit.oid == hub.head(hub_repo_id)
    remote = hub.files(hub_repo_id)
    assert set(remote) == PUSHED_FILES
    folder = checkpoint_of(runs["a"])
    assert remote["model.safetensors"] == (folder / "model.safetensors").read_bytes()
    assert remote["zoo.json"] == (folder / "zoo.json").read_bytes()
    assert remote["curve.png"] == (runs["a"] / "curve.png").read_bytes()
    assert remote["replay.mp4"][4:8] == b"ftyp"  # an MP4 container

    results = json.loads(remote["results.json"])
    score = local_score(runs["a"])
    assert results["mean_reward"] == score.mean and results["std_reward"] == score.std
    assert results["n_evaluation_episodes"] == EPISODES and results["deterministic"] is True
    assert results["env_id"] == "CartPole-v1" and results["zoo_version"] == zoo_version()
    assert results["eval_datetime"]
    assert json.loads(remote["hyperparameters.json"])["env_id"] == "CartPole-v1"

    path = pull(hub_repo_id)
    assert path.is_relative_to(hf_home / "hub") and path.name == result.commit.oid
    assert read_tree(path) == remote
    # What was pulled is a working checkpoint.
    assert zoo.load_agent(path).state_tensors().keys() == zoo.load_agent(folder).state_tensors().keys()


def test_card_metadata_reads_back_through_model_info(hub, hub_repo_id, runs):
    result = push_run(runs["a"], hub_repo_id, eval_episodes=EPISODES, video=False)

    info = HfApi().model_info(hub_repo_id)
    card = info.card_data
    assert card.library_name == "agent-zoo"
    assert set(card.tags) == TAGS
    (entry,) = card.eval_results
    score = local_score(runs["a"])
    assert entry.task_type == "reinforcement-learning"
    assert entry.dataset_type == "CartPole-v1" and entry.dataset_name == "CartPole-v1"
    assert entry.metric_type == "mean_reward"
    assert entry.metric_value == f"{score.mean:.2f} +/- {score.std:.2f}"
    assert TAGS <= set(info.tags)
    readme = hub.files(hub_repo_id)["README.md"].decode()
    assert readme.startswith("---\n") and f"zoo eval --from-hub {hub_repo_id}" in readme
    assert "replay.mp4" not in hub.files(hub_repo_id) and result.changed


def test_repushing_an_unchanged_run_makes_no_commit_and_a_new_checkpoint_replaces_stale_files(
        hub, hub_repo_id, runs):
    push_run(runs["a"], hub_repo_id, eval_episodes=EPISODES)
    before = hub.files(hub_repo_id)
    count = hub.commit_count(hub_repo_id)

    again = push_run(runs["a"], hub_repo_id, eval_episodes=EPISODES)

    assert not again.changed and again.reused_results
    assert hub.commit_count(hub_repo_id) == count
    assert hub.files(hub_repo_id) == before  # results.json (eval_datetime included) untouched

    # Another checkpoint, pushed without a video: new results, and the old agent's replay goes.
    other = push_run(runs["b"], hub_repo_id, eval_episodes=EPISODES, video=False)
    assert other.changed and not other.reused_results
    assert hub.commit_count(hub_repo_id) == count + 1
    after = hub.files(hub_repo_id)
    assert "replay.mp4" not in after
    assert after["model.safetensors"] == (checkpoint_of(runs["b"]) / "model.safetensors").read_bytes()
    weights_sha256 = ckpt.read_meta(checkpoint_of(runs["b"]))["weights_sha256"]
    assert json.loads(after["results.json"])["weights_sha256"] == weights_sha256


def test_branch_round_trip_leaves_main_alone(hub, hub_repo_id, hf_home, runs):
    push_run(runs["a"], hub_repo_id, eval_episodes=EPISODES, video=False)
    main = hub.head(hub_repo_id)

    result = push_run(runs["b"], hub_repo_id, eval_episodes=EPISODES, video=False, revision="dev")

    assert result.revision == "dev" and hub.head(hub_repo_id) == main
    assert hub.head(hub_repo_id, "dev") == result.commit.oid
    weights_b = (checkpoint_of(runs["b"]) / "model.safetensors").read_bytes()
    assert (pull(hub_repo_id, revision="dev") / "model.safetensors").read_bytes() == weights_b
    assert (pull(hub_repo_id) / "model.safetensors").read_bytes() != weights_b

    cli = invoke("eval", "--from-hub", hub_repo_id, "--revision", "dev", "--episodes", str(EPISODES), "--json")
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout)["mean"] == local_score(runs["b"]).mean


# -- the CLI ---------------------------------------------------------------------------------------

def test_cli_push_pull_and_eval_never_show_or_publish_the_token(hub, hub_repo_id, hf_home, runs):
    token = hub.token
    pushed = invoke("push", str(runs["a"]), "--repo-id", hub_repo_id, "--eval-episodes", str(EPISODES),
                    "--no-video", "--commit-message", "First agent")
    assert pushed.exit_code == 0, pushed.output
    assert hub.commits(hub_repo_id)[0].title == "First agent"
    assert "mean_reward" in pushed.stdout and hub.head(hub_repo_id) in pushed.stdout
    unchanged = invoke("push", str(runs["a"]), "--repo-id", hub_repo_id, "--eval-episodes", str(EPISODES), "--no-video")
    assert unchanged.exit_code == 0 and "no commit made" in unchanged.stdout

    pulled = invoke("pull", hub_repo_id)
    assert pulled.exit_code == 0
    assert Path(pulled.stdout.strip()) == pull(hub_repo_id)
    for form in (["--from-hub", hub_repo_id], [f"hub:{hub_repo_id}"]):
        evaluated = invoke("eval", *form, "--episodes", str(EPISODES))
        assert evaluated.exit_code == 0, evaluated.output
        assert " ".join(evaluated.stdout.split()).startswith(f"evaluating reinforce from {hub_repo_id}@")

    for result in (pushed, unchanged, pulled, evaluated):
        assert token not in result.output
    for content in hub.files(hub_repo_id).values():
        assert token.encode() not in content


def test_a_failed_recording_is_one_warning_and_the_push_goes_on(hub, hub_repo_id, runs, monkeypatch):
    import zoo.hub.push

    def broken(*args, **kwargs):
        raise RuntimeError("no video device\nsecond line")

    monkeypatch.setattr(zoo.hub.push, "record", broken)
    result = invoke("push", str(runs["a"]), "--repo-id", hub_repo_id, "--eval-episodes", "1")

    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and warnings[0].startswith("warning: could not record replay.mp4")
    assert "RuntimeError: no video device" in warnings[0]
    assert "replay.mp4" not in hub.files(hub_repo_id) and "model.safetensors" in hub.files(hub_repo_id)
    with pytest.warns(HubPushWarning):
        push_run(runs["b"], hub_repo_id, eval_episodes=1)


# -- errors: one line, naming the repo and what to do ---------------------------------------------

def test_repo_revision_and_file_errors(hub, hub_repo_id, hf_home, runs):
    missing = hub.new_repo_id("never-created")
    assert_one_line_error(invoke("pull", missing), repr(missing), "not found")
    assert_one_line_error(invoke("eval", "--from-hub", missing), repr(missing), "not found")

    push_run(runs["a"], hub_repo_id, eval_episodes=1, video=False)
    assert_one_line_error(invoke("pull", hub_repo_id, "--revision", "no-such-branch"),
                          repr(hub_repo_id), "no revision 'no-such-branch'", "--revision")
    assert_one_line_error(invoke("eval", "--from-hub", hub_repo_id, "--revision", "v9"), "no revision 'v9'")

    weights_only = hub.new_repo_id("weights-only")
    hub.seed_repo(weights_only, {"README.md": "# nothing to load\n"})
    assert_one_line_error(invoke("eval", "--from-hub", weights_only), repr(weights_only),
                          "no model the zoo can load", "zoo.json")

    folder = checkpoint_of(runs["a"])
    half = hub.new_repo_id("half-checkpoint")
    hub.seed_repo(half, {"zoo.json": (folder / "zoo.json").read_bytes()})
    assert_one_line_error(invoke("eval", "--from-hub", half), repr(half), "missing model.safetensors")

    assert_one_line_error(invoke("pull", "not-a-repo-id"), "ORG/NAME")
    assert_one_line_error(invoke("eval", "reinforce", "--from-hub", hub_repo_id, "--checkpoint", str(folder)),
                          "--checkpoint and --from-hub")
    assert_one_line_error(invoke("eval", "reinforce", "cartpole", "--revision", "dev"), "--from-hub")
    # AGENT/ENV given with --from-hub are checked against the repo.
    assert_one_line_error(invoke("eval", "hardcoded", "--from-hub", hub_repo_id),
                          "holds a model for agent 'reinforce' (agent-zoo), not 'hardcoded'")
    assert_one_line_error(invoke("eval", f"hub:{hub_repo_id}", "mountaincar-continuous"),
                          "holds a model for env 'cartpole', not 'mountaincar-continuous'")


def test_malformed_config_in_the_repo(hub, hf_home, runs):
    folder = checkpoint_of(runs["a"])
    broken = hub.new_repo_id("broken-config")
    hub.seed_repo(broken, {"zoo.json": "{not json", "model.safetensors": (folder / "model.safetensors").read_bytes()})
    line = assert_one_line_error(invoke("eval", "--from-hub", broken), repr(broken), "zoo.json is not valid JSON",
                                 "push it again")
    assert str(hf_home) not in line  # the repo is named, not the cache folder

    course = hub.new_repo_id("broken-course")
    hub.seed_repo(course, {"model.pt": b"\x80\x04junk", "hyperparameters.json": "[1, 2"})
    assert_one_line_error(invoke("eval", "--from-hub", course, "--trust-remote-code"), repr(course),
                          "hyperparameters.json", "not valid JSON")


def test_unauthorised_token(hub, hub_repo_id, runs, monkeypatch):
    wrong = "hf_wrong_token_0000000000000000000000"
    monkeypatch.setenv("HF_TOKEN", wrong)
    result = invoke("push", str(runs["a"]), "--repo-id", hub_repo_id, "--no-video", "--eval-episodes", "1")
    line = assert_one_line_error(result, repr(hub_repo_id), "401", "HF_TOKEN")
    assert wrong not in result.output and hub.token not in line
    assert not hub.repo_exists(hub_repo_id)
    assert_one_line_error(invoke("pull", hub_repo_id), "401")


def test_pushing_to_a_namespace_the_token_may_not_write_is_one_line_naming_the_403(hub, runs):
    result = invoke("push", str(runs["a"]), "--repo-id", "other-org/x", "--no-video", "--eval-episodes", "1")
    line = assert_one_line_error(result, "'other-org/x'", "403", "your token may not write to")
    assert hub.token not in line and not hub.repo_exists("other-org/x")

    theirs = hub.new_repo_id("theirs", namespace="other-org")  # someone else's repo: it exists, and is public
    head = hub.seed_repo(theirs, {"README.md": "# theirs\n"})
    result = invoke("push", str(runs["a"]), "--repo-id", theirs, "--no-video", "--eval-episodes", "1")
    assert_one_line_error(result, repr(theirs), "403", "your token may not write to")
    assert hub.head(theirs) == head and hub.commit_count(theirs) == 2


def test_private_repos_need_a_token_and_push_private_hides_a_public_repo(hub, hub_repo_id, hf_home, runs,
                                                                          monkeypatch):
    push_run(runs["a"], hub_repo_id, eval_episodes=1, video=False)
    assert not HfApi().model_info(hub_repo_id).private
    again = invoke("push", str(runs["a"]), "--repo-id", hub_repo_id, "--eval-episodes", "1", "--no-video", "--private")
    assert again.exit_code == 0 and "no commit made" in again.stdout
    assert HfApi().model_info(hub_repo_id).private

    monkeypatch.delenv("HF_TOKEN")
    assert_one_line_error(invoke("eval", "--from-hub", hub_repo_id), repr(hub_repo_id), "not found", "HF_TOKEN")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CLI = "import sys; from zoo.cli import main; sys.argv[0] = 'zoo'; main()"


def test_no_network_pull_in_a_subprocess_is_one_line(tmp_path, hub_env, run_python):
    env = hub_env(tmp_path / "hf", HF_ENDPOINT=f"http://127.0.0.1:{closed_port()}")
    pulled = run_python(CLI, env, ["pull", "zoo-tester/anything"])
    assert pulled.returncode == 2, pulled.stderr
    lines = pulled.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Hub" in lines[0] and "zoo-tester/anything" in lines[0], pulled.stderr


def test_no_network_push_is_one_line(runs, hf_home, monkeypatch):
    from huggingface_hub import constants

    endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)  # HfApi() reads it when created
    result = invoke("push", str(runs["a"]), "--repo-id", "zoo-tester/x", "--no-video", "--eval-episodes", "1")
    assert_one_line_error(result, f"cannot reach the Hub at {endpoint}", "'zoo-tester/x'")


def test_offline_eval_from_a_seeded_cache_in_a_subprocess(hub, hub_repo_id, hf_home, runs, hub_env, run_python):
    push_run(runs["a"], hub_repo_id, eval_episodes=1, video=False)
    pull(hub_repo_id)  # seeds this test's fresh cache
    hub.clear_requests()
    env = hub_env(hf_home, offline=True)

    cached = run_python(CLI, env, ["eval", "--from-hub", hub_repo_id, "--episodes", str(EPISODES), "--json"])
    assert cached.returncode == 0, cached.stderr
    assert json.loads(cached.stdout)["mean"] == local_score(runs["a"]).mean

    other = hub.new_repo_id("not-cached")
    hub.seed_repo(other, {"README.md": "# x\n"})
    missing = run_python(CLI, env, ["eval", "--from-hub", other])
    assert missing.returncode == 2
    lines = missing.stderr.strip().splitlines()
    assert len(lines) == 1 and "HF_HUB_OFFLINE" in lines[0] and f"zoo pull {other}" in lines[0], missing.stderr
    assert hub.requests == []  # offline means offline


# -- stable-baselines3 models in the huggingface_sb3 layout ---------------------------------------

def test_sb3_model_in_the_huggingface_sb3_layout_needs_trust_then_evaluates(hub, hub_org, hf_home, tmp_path):
    from stable_baselines3 import PPO

    # The layout huggingface_sb3's push_to_hub makes: {algo}-{env}.zip and config.json, built here
    # with SB3's own save and huggingface_hub's upload.
    repo_id = f"{hub_org}/ppo-CartPole-v1"  # like sb3/ppo-CartPole-v1, in an organisation the token may write to
    model = PPO("MlpPolicy", zoo.make_env("cartpole"), n_steps=64, batch_size=64, seed=0, device="cpu")
    model.learn(128)
    folder = tmp_path / "repo"
    folder.mkdir()
    model.save(folder / "ppo-CartPole-v1")
    (folder / "config.json").write_text(json.dumps({"policy_class": "MlpPolicy", "env_id": "CartPole-v1"}))
    HfApi().create_repo(repo_id, exist_ok=True)
    HfApi().upload_folder(repo_id=repo_id, folder_path=folder, commit_message="Add the SB3 model")
    assert set(hub.files(repo_id)) == {".gitattributes", "ppo-CartPole-v1.zip", "config.json"}

    refused = invoke("eval", "--from-hub", repo_id)
    assert_one_line_error(refused, f"ppo-CartPole-v1.zip from {repo_id}@", "pickled", "--trust-remote-code")

    with pytest.warns(UnpicklingWarning):
        trusted = invoke("eval", f"hub:{repo_id}", "--trust-remote-code", "--episodes", str(EPISODES), "--json")
    assert trusted.exit_code == 0, trusted.output
    data = json.loads(trusted.stdout)
    expected = zoo.evaluate(PPO.load(folder / "ppo-CartPole-v1.zip", device="cpu"), "cartpole", episodes=EPISODES,
                            seed=0)
    assert data["mean"] == expected.mean and data["env"] == "cartpole"
    assert "SB3 PPO model ppo-CartPole-v1.zip" in data["source"] and "unpickled: trusted" in data["source"]


def test_sb3_model_with_vec_normalize_acts_on_normalised_observations(hub, hf_home, tmp_path):
    import numpy as np
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    venv = VecNormalize(DummyVecEnv([lambda: zoo.make_env("cartpole")]))
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, seed=0, device="cpu")
    model.learn(128)
    model.save(tmp_path / "ppo-CartPole-v1")
    venv.save(str(tmp_path / "vec_normalize.pkl"))
    repo_id = hub.new_repo_id("ppo-CartPole-v1")
    hub.seed_repo(repo_id, {name: (tmp_path / name).read_bytes()
                            for name in ("ppo-CartPole-v1.zip", "vec_normalize.pkl")})

    with pytest.warns(UnpicklingWarning):
        loaded = load_hub_policy(repo_id, trust_remote_code=True)
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32) * 2
    actions, _ = loaded.policy.predict(obs, deterministic=True)
    expected, _ = model.predict(venv.normalize_obs(obs), deterministic=True)
    assert (actions == expected).all() and "vec_normalize.pkl" in loaded.source


# -- Deep RL course REINFORCE models ---------------------------------------------------------------

class Policy(torch.nn.Module):
    """The Deep RL course's unit 4 REINFORCE policy, as its notebook defines it."""

    def __init__(self, s_size: int, a_size: int, h_size: int) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(s_size, h_size)
        self.fc2 = torch.nn.Linear(h_size, a_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.nn.functional.relu(self.fc1(x))
        return torch.nn.functional.softmax(self.fc2(x), dim=1)


def course_repo(hub, monkeypatch, s_size: int = 4) -> tuple[str, torch.Tensor, torch.Tensor]:
    """A course-style repo: ``torch.save(policy, "model.pt")`` of a class that lived in the
    notebook's ``__main__`` (and is gone when the zoo loads it), plus hyperparameters.json."""
    torch.manual_seed(0)
    policy = Policy(s_size, 2, 16)
    buffer = io.BytesIO()
    with monkeypatch.context() as patch:
        patch.setattr(Policy, "__module__", "__main__")
        patch.setattr(sys.modules["__main__"], "Policy", Policy, raising=False)
        torch.save(policy, buffer)
    assert b"__main__" in buffer.getvalue() and not hasattr(sys.modules["__main__"], "Policy")
    obs = torch.randn(32, s_size)
    with torch.no_grad():
        probs = policy(obs)
    hyperparameters = {"h_size": 16, "n_training_episodes": 1000, "n_evaluation_episodes": 10, "max_t": 1000,
                       "gamma": 1.0, "lr": 0.01, "env_id": "CartPole-v1", "state_space": s_size, "action_space": 2}
    repo_id = hub.new_repo_id("Reinforce-CartPole-v1")
    hub.seed_repo(repo_id, {"model.pt": buffer.getvalue(), "hyperparameters.json": json.dumps(hyperparameters),
                            "results.json": json.dumps({"env_id": "CartPole-v1", "mean_reward": 500.0})})
    return repo_id, obs, probs


def test_course_model_is_refused_without_trust_and_loaded_into_reinforce_with_it(hub, hf_home, monkeypatch):
    repo_id, obs, expected = course_repo(hub, monkeypatch)

    assert_one_line_error(invoke("eval", "--from-hub", repo_id), f"model.pt from {repo_id}@", "--trust-remote-code")
    with pytest.raises(ZooError, match="trust-remote-code"):
        load_hub_policy(repo_id)

    with pytest.warns(UnpicklingWarning):
        loaded = load_hub_policy(repo_id, trust_remote_code=True)
    agent = loaded.policy
    assert agent.name == "reinforce" and loaded.env == "cartpole" and loaded.layout == "deep-rl-course"
    with torch.no_grad():
        probs = agent.policy.distribution(obs).probs
    assert torch.allclose(probs, expected, atol=1e-6)

    with pytest.warns(UnpicklingWarning):
        evaluated = invoke("eval", "--from-hub", repo_id, "--trust-remote-code", "--episodes", "2")
    assert evaluated.exit_code == 0, evaluated.output
    assert "Deep RL course reinforce model (4 -> 16 -> 2)" in " ".join(evaluated.stdout.split())

    with pytest.raises(ZooError, match="categorical"):
        load_hub_policy(repo_id, trust_remote_code=True, env="mountaincar-continuous")


def test_course_model_whose_shapes_do_not_fit_is_refused(hub, hf_home, monkeypatch):
    repo_id, _, _ = course_repo(hub, monkeypatch, s_size=3)
    with (pytest.warns(UnpicklingWarning),
          pytest.raises(ZooError, match=r"\(3 -> 16 -> 2\) do not fit .*\(4 observations")):
        load_hub_policy(repo_id, trust_remote_code=True)


# -- the Deep RL course leaderboard ----------------------------------------------------------------

def test_a_pixelcopter_push_is_published_under_the_id_the_course_leaderboard_filters_on(hub, hub_repo_id, tmp_path):
    """The course leaderboard lists models tagged Pixelcopter-PLE-v0 whose model-index names that
    dataset; the course scores by sampling actions, and so does --stochastic."""
    run = zoo.train("reinforce", "Pixelcopter-PLE-v0", seed=0, episodes=8, out=tmp_path / "pc", argv=["zoo"]).run_dir
    assert json.loads((run / "config.json").read_text())["gym_id"] == "zoo/Pixelcopter-v0"  # the zoo's own id
    done = invoke("push", str(run), "--repo-id", hub_repo_id, "--stochastic", "--eval-episodes", "3", "--seed", "5",
                  "--no-video")
    assert done.exit_code == 0, done.output
    assert "Pixelcopter-PLE-v0: mean_reward" in done.stdout and "sampled actions, seed 5" in done.stdout

    files = hub.files(hub_repo_id)
    results = json.loads(files["results.json"])
    expected = zoo.evaluate(zoo.load_policy(run), "pixelcopter", episodes=3, seed=5, deterministic=False)
    assert (results["env_id"], results["deterministic"], results["eval_seed"]) == ("Pixelcopter-PLE-v0", False, 5)
    assert (results["mean_reward"], results["std_reward"]) == (expected.mean, expected.std)
    assert json.loads(files["hyperparameters.json"])["env_id"] == "Pixelcopter-PLE-v0"
    card = HfApi().model_info(hub_repo_id).card_data
    assert "Pixelcopter-PLE-v0" in card.tags and not any("zoo/" in tag for tag in card.tags)
    (entry,) = card.eval_results
    assert entry.dataset_type == entry.dataset_name == "Pixelcopter-PLE-v0"
    stochastic = "stochastic actions (sampled from the policy, as the Deep RL course evaluates)"
    assert stochastic in files["README.md"].decode()

    # Pushing greedily now is another evaluation, and the card says so; the repo still evaluates.
    again = push_run(run, hub_repo_id, eval_episodes=3, eval_seed=5, video=False)
    assert not again.reused_results and again.results["deterministic"] is True
    assert "deterministic actions" in hub.files(hub_repo_id)["README.md"].decode()
    evaluated = invoke("eval", f"hub:{hub_repo_id}", "--episodes", "2", "--json")
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["env"] == "pixelcopter"


def test_an_env_is_published_under_its_gym_id_unless_its_plugin_names_an_alias():
    from zoo.registration import EnvRegistry

    assert zoo.env_entry("cartpole").hub_id == "CartPole-v1"
    assert zoo.env_entry("LunarLander-v3").hub_id == "LunarLander-v3"
    assert {zoo.env_entry(name).hub_id for name in ("catcher", "flappybird", "pong", "puckworld")} == {
        "Catcher-PLE-v0", "FlappyBird-PLE-v0", "Pong-PLE-v0", "PuckWorld-PLE-v0"}
    registry = EnvRegistry()
    registry._begin("test")
    with pytest.raises(ZooError, match="hub_id 'Other-v0' must be its gym_id or one of its aliases"):
        registry.add_env("x", "CartPole-v1", hub_id="Other-v0")
