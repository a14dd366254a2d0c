"""Every user mistake is one line on stderr, exit code 2, no traceback, and nothing written.

Each case goes through the CLI (``typer.testing.CliRunner`` on ``zoo.cli.app``) from a fresh
working folder, which must stay as it was: no run folder, no half-written file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.checks import assert_one_line_error, snapshot, write_meta
from typer.testing import CliRunner

from zoo import checkpoint as ckpt
from zoo.cli import app
from zoo.exceptions import ZooError
from zoo.hub.repo_ids import validate_repo_id
from zoo.training.session import train

runner = CliRunner()


# -- zoo train -------------------------------------------------------------------------------------
TRAIN_CASES = {
    "unknown env": (["reinforce", "cartpol"], ["'cartpol'", "did you mean 'cartpole'"]),
    "unknown agent": (["reinforc", "cartpole"], ["'reinforc'", "did you mean 'reinforce'"]),
    "spaces the agent cannot handle": (["reinforce", "dict-obs"], ["cannot run on env 'dict-obs'", "flat Box"]),
    "a fixed policy": (["hardcoded", "cartpole"], ["does not learn"]),
    "no env": (["reinforce"], ["name what to train"]),
    "--set without =": (["reinforce", "cartpole", "--set", "learning_rate"], ["KEY=VALUE", "'learning_rate'"]),
    "--set without key": (["reinforce", "cartpole", "--set", "=3"], ["KEY=VALUE"]),
    "--set not a float": (["reinforce", "cartpole", "--set", "learning_rate=fast"],
                          ["learning_rate='fast' is not a valid float"]),
    "--set nan": (["reinforce", "cartpole", "--set", "learning_rate=nan"], ["is not a valid float"]),
    "--set not an int": (["reinforce", "cartpole", "--set", "net_arch=64,x"], ["is not a valid int"]),
    "--set unknown key": (["reinforce", "cartpole", "--set", "learnin_rate=0.1"],
                          ["unknown hyperparameter 'learnin_rate'", "did you mean 'learning_rate'"]),
    "--set an old name": (["reinforce", "cartpole", "--set", "lr=0.1"],
                          ["hyperparameter 'lr' is now called 'learning_rate'", "did you mean 'learning_rate'?"]),
    "--set several values": (["reinforce", "cartpole", "--set", "gamma=0.9,0.99"],
                             ["holds several values", "zoo sweep --set gamma=0.9,0.99"]),
    "--set not a choice": (["reinforce", "cartpole", "--set", "activation=sigmoid"], ["choose one of", "tanh"]),
    "--set out of range": (["reinforce", "cartpole", "--set", "gamma=2"], ["gamma=2.0 is out of range"]),
    "--episodes 0": (["reinforce", "cartpole", "--episodes", "0"], ["--episodes must be a positive", "0"]),
    "--episodes -3": (["reinforce", "cartpole", "--episodes", "-3"], ["--episodes must be a positive", "-3"]),
    "--steps 0": (["reinforce", "cartpole", "--steps", "0"], ["--steps must be a positive"]),
    "--max-steps 0": (["reinforce", "cartpole", "--max-steps", "0"], ["--max-steps must be a positive"]),
    "--max-steps -5": (["reinforce", "cartpole", "--max-steps", "-5"], ["--max-steps must be a positive"]),
    "--checkpoint-every -1": (["reinforce", "cartpole", "--checkpoint-every", "-1"], ["--checkpoint-every"]),
    "--keep 0": (["reinforce", "cartpole", "--keep", "0"], ["--keep must be at least 1"]),
}


@pytest.mark.parametrize("case", TRAIN_CASES)
def test_train_refuses_bad_input_and_writes_nothing(case, workdir, reliability_envs):
    args, fragments = TRAIN_CASES[case]
    result = runner.invoke(app, ["train", *args, "--out", "run"])
    assert_one_line_error(result, *fragments)
    assert snapshot(workdir) == {}
    result = runner.invoke(app, ["train", *args])  # the default run folder, runs/...
    assert_one_line_error(result, *fragments)
    assert snapshot(workdir) == {}


def test_train_refuses_a_run_folder_that_is_not_empty(workdir):
    (workdir / "run").mkdir()
    (workdir / "run" / "notes.txt").write_text("mine")
    before = snapshot(workdir)
    assert_one_line_error(runner.invoke(app, ["train", "reinforce", "cartpole", "--out", "run"]),
                          "already exists and is not empty")
    assert snapshot(workdir) == before


# -- checkpoints -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """Tiny REINFORCE and REINFORCE-baseline runs on CartPole."""
    root = tmp_path_factory.mktemp("trained")
    return {agent: train(agent, "cartpole", seed=0, episodes=8, out=root / agent, overrides={"n_envs": 4},
                         argv=["zoo"]).run_dir for agent in ("reinforce", "reinforce-baseline")}


def edit_meta(folder: Path, **changes) -> None:
    meta = json.loads((folder / ckpt.META_FILE).read_text())
    meta.update(changes)
    write_meta(folder, meta)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


CHECKPOINT_CASES = {
    "missing weights": (lambda c: (c / ckpt.WEIGHTS_FILE).unlink(), ["is missing model.safetensors"]),
    "missing metadata": (lambda c: (c / ckpt.META_FILE).unlink(), ["is missing zoo.json"]),
    "truncated weights": (lambda c: truncate(c / ckpt.WEIGHTS_FILE), ["does not match its recorded checksum"]),
    "truncated metadata": (lambda c: truncate(c / ckpt.META_FILE), ["zoo.json is not valid JSON"]),
    "not a zoo checkpoint": (lambda c: edit_meta(c, format="something-else"), ["is not an agent-zoo checkpoint"]),
    "newer format": (lambda c: edit_meta(c, format_version=99), ["format version 99", "install a matching agent-zoo"]),
    "malformed config": (lambda c: edit_meta(c, config=[1, 2]), ["malformed 'config'"]),
    "changed spaces": (lambda c: edit_meta(c, observation_space="Box(0, 1, (7,), float32)"),
                       ["was trained with observation_space Box(0, 1, (7,), float32)"]),
    "tensors that do not fit": (lambda c: edit_meta(c, config={**json.loads((c / ckpt.META_FILE).read_text())["config"],
                                                               "net_arch": [7]}),
                                ["does not fit agent 'reinforce'"]),
}


@pytest.mark.parametrize("case", CHECKPOINT_CASES)
def test_eval_refuses_a_broken_checkpoint(case, trained, tmp_path):
    damage, fragments = CHECKPOINT_CASES[case]
    folder = tmp_path / "checkpoint"
    shutil.copytree(ckpt.find_checkpoint(trained["reinforce"]), folder)
    damage(folder)
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["eval", "reinforce", "cartpole", "--checkpoint", str(folder), "--episodes", "1"])
    assert_one_line_error(result, *fragments)
    assert snapshot(tmp_path) == before


def test_eval_refuses_a_checkpoint_of_another_agent_or_env(trained):
    baseline = str(trained["reinforce-baseline"])
    assert_one_line_error(runner.invoke(app, ["eval", "reinforce", "cartpole", "--checkpoint", baseline]),
                          "is for agent 'reinforce-baseline', not 'reinforce'")
    assert_one_line_error(runner.invoke(app, ["eval", "reinforce-baseline", "mountaincar-continuous",
                                              "--checkpoint", baseline]),
                          "is for env 'cartpole', not 'mountaincar-continuous'")


def test_resume_refuses_bad_input_and_writes_nothing(trained, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained["reinforce"], run)
    before = snapshot(tmp_path)
    cases = [
        (["--resume", str(tmp_path / "missing")], ["does not exist"]),
        (["--resume", str(tmp_path)], ["is not a run folder"]),
        (["--resume", str(run)], ["already trained", "pass a larger --steps"]),
        (["--resume", str(run), "--steps", "0"], ["--steps must be a positive"]),
        (["--resume", str(run), "--seed", "1"], ["--seed cannot be given with it"]),
        (["reinforce", "cartpole", "--resume", str(run)], ["AGENT, ENV cannot be given"]),
        (["--resume", str(run), "--set", "learning_rate=1", "--out", "x"], ["--out, --set cannot be given"]),
        (["--resume", str(run), "--keep", "0", "--episodes", "99"], ["--keep must be at least 1"]),
    ]
    for args, fragments in cases:
        assert_one_line_error(runner.invoke(app, ["train", *args]), *fragments)
    newest = ckpt.find_checkpoint(run)
    truncate(newest / ckpt.TRAINING_TENSORS_FILE)
    assert_one_line_error(runner.invoke(app, ["train", "--resume", str(run), "--episodes", "99"]),
                          "training.safetensors does not match its recorded checksum")
    shutil.copy(ckpt.find_checkpoint(trained["reinforce"]) / ckpt.TRAINING_TENSORS_FILE, newest)
    # A training.json edited with its checksum fixed: refused in one line all the same.
    good = {name: (newest / name).read_bytes() for name in (ckpt.TRAINING_DATA_FILE, ckpt.META_FILE)}
    for path, value, fragment in ((["envs", 0], {"streams": [{"bit_generator": "PCG64", "state": "x"}]},
                                   "saved random state for PCG64 is malformed"),
                                  (["envs", 0], {"redo_reset": {"seed": "x"}}, "malformed seed"),
                                  (["loop", "episodes"], "many", "does not fit agent 'reinforce'"),
                                  (["agent", "np_random"], {"bit_generator": "os.system"},
                                   "bit generator 'os.system'")):
        data = json.loads(good[ckpt.TRAINING_DATA_FILE])
        data[path[0]][path[1]] = value
        (newest / ckpt.TRAINING_DATA_FILE).write_text(json.dumps(data))
        edit_meta(newest, training_sha256={**json.loads(good[ckpt.META_FILE])["training_sha256"],
                                           ckpt.TRAINING_DATA_FILE: ckpt._sha256(newest / ckpt.TRAINING_DATA_FILE)})
        assert_one_line_error(runner.invoke(app, ["train", "--resume", str(run), "--episodes", "99"]), fragment)
    for name, content in good.items():
        (newest / name).write_bytes(content)

    original = (run / "config.json").read_bytes()
    (run / "config.json").write_text(json.dumps({**json.loads(original), "agent": "reinforce-baseline"}))
    assert_one_line_error(runner.invoke(app, ["train", "--resume", str(run), "--episodes", "99"]),
                          "is for agent 'reinforce'", "trains 'reinforce-baseline'")
    (run / "config.json").write_bytes(original)
    assert snapshot(tmp_path) == before


# -- Hub repo ids ----------------------------------------------------------------------------------
BAD_REPO_IDS = ["", "no-namespace", "a/b/c", "org/", "/name", "org/na me", "org/name!", "org/--name", "org/name..x",
                "org/" + "x" * 100]


@pytest.mark.parametrize("repo_id", BAD_REPO_IDS)
def test_an_invalid_hub_repo_id_is_one_line_before_any_request(repo_id, hub, trained):
    with pytest.raises(ZooError, match="Hub repo id") as caught:
        validate_repo_id(repo_id)
    assert "\n" not in str(caught.value)
    hub.clear_requests()
    assert_one_line_error(runner.invoke(app, ["eval", "--from-hub", repo_id]), "Hub repo id")
    before = snapshot(trained["reinforce"])
    assert_one_line_error(runner.invoke(app, ["push", str(trained["reinforce"]), "--repo-id", repo_id]),
                          "Hub repo id")
    assert snapshot(trained["reinforce"]) == before
    assert hub.request_count() == 0


def test_valid_hub_repo_ids_pass():
    for repo_id in ("zoo-tester/reinforce-CartPole-v1", "a/b", "org.name/model_v1.2"):
        assert validate_repo_id(repo_id) == repo_id
