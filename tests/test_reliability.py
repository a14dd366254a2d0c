"""Nothing lost on interruption, nothing unpickled, nothing numerically silent.

* A run stopped (killed after a checkpoint, or by SIGINT or SIGTERM sent to a real ``zoo train``
  process) and resumed ends with exactly the weights, optimiser state and returns of one that
  never stopped. One stopped by its budget and resumed with a larger one continues its episodes.
* A process killed with SIGKILL at random moments while saving checkpoints always leaves one
  that loads, as the old or the new one.
* Pickles that would run code are never run by any loading path.
* NaN observations stop training with the step named and no checkpoint for them.
* ``--max-steps`` (and a default cap) ends episodes of an env that never ends.
"""

from __future__ import annotations

import csv
import json
import math
import os
import pickle
import random
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
import torch
from support.checks import write_meta
from typer.testing import CliRunner

import zoo
from zoo import checkpoint as ckpt
from zoo.cli import app
from zoo.exceptions import ZooError
from zoo.training.resuming import resume
from zoo.training.session import train

runner = CliRunner()
SMALL = {"n_envs": 4}


def invoke(*args: str):
    return runner.invoke(app, list(args))


def full_state(run: Path) -> dict[str, torch.Tensor]:
    """Weights plus training state (optimiser moments, generator state) of a run's newest checkpoint."""
    folder = ckpt.find_checkpoint(run)
    tensors, _ = ckpt.read_training_state(folder)
    return {**ckpt.read_tensors(folder), **{k: v for k, v in tensors.items() if k.startswith("agent.")}}


def returns_rows(run: Path) -> list[tuple[str, ...]]:
    """returns.csv without its wall-clock column."""
    with open(run / "returns.csv", newline="") as f:
        return [tuple(row[k] for k in ("episode", "return", "length", "env_steps")) for row in csv.DictReader(f)]


def assert_same_run(a: Path, b: Path) -> None:
    state_a, state_b = full_state(a), full_state(b)
    assert state_a.keys() == state_b.keys()
    different = [k for k in state_a if not torch.equal(state_a[k], state_b[k])]
    assert not different, different
    assert returns_rows(a) == returns_rows(b)


# -- resuming --------------------------------------------------------------------------------------
@pytest.mark.parametrize("agent,env,total", [("reinforce", "cartpole", 2500),
                                             ("reinforce-baseline", "mountaincar-continuous", 4000)])
def test_killed_after_a_checkpoint_then_resumed_equals_uninterrupted(tmp_path, agent, env, total, checkpoint_names):
    straight = train(agent, env, seed=3, steps=total, out=tmp_path / "straight", overrides=SMALL, argv=["zoo"])
    first = train(agent, env, seed=3, steps=total, out=tmp_path / "resumed", overrides=SMALL, argv=["zoo"],
                  checkpoint_every=0, keep_checkpoints=2)
    # As if the process had been killed after its last checkpoint but one (the run's end is the last).
    older, newest = checkpoint_names(first.run_dir)
    shutil.rmtree(first.run_dir / ckpt.CHECKPOINTS_DIR / newest)
    halfway = ckpt.read_tensors(first.run_dir / ckpt.CHECKPOINTS_DIR / older)
    assert int(older) < straight.env_steps
    resumed = resume(tmp_path / "resumed", argv=["zoo", "train", "--resume"])
    assert (resumed.env_steps, resumed.episodes) == (straight.env_steps, straight.episodes)
    assert_same_run(straight.run_dir, resumed.run_dir)
    # Not trivially equal: training went on after the resume.
    assert not all(torch.equal(halfway[k], v) for k, v in ckpt.read_tensors(resumed.checkpoint).items())
    assert len(checkpoint_names(resumed.run_dir)) == 2  # --keep from the run's own config


def test_stopped_by_its_budget_then_resumed_with_more_continues_its_episodes_and_learns_all(tmp_path):
    """Issue 25: the budget's end learns the unfinished episodes, cut there; a larger budget
    continues them (the envs where they were), and learns everything it steps too."""
    first = train("reinforce", "cartpole", seed=3, steps=1250, out=tmp_path / "run", overrides=SMALL, argv=["zoo"])
    _, saved = ckpt.read_training_state(first.checkpoint)
    assert saved["agent"]["collection"]["rows"] == 0 and sum(saved["agent"]["collection"]["cut_lengths"]) > 0
    resumed = resume(tmp_path / "run", steps=2500, argv=["zoo", "train", "--resume"])
    assert 2500 - 4 < resumed.env_steps <= 2500
    with open(first.run_dir / "progress.csv", newline="") as f:
        last = list(csv.DictReader(f))[-1]
    assert (int(last["time/total_timesteps"]), float(last["rollout/executed_to_used"])) == (resumed.env_steps, 1.0)
    assert json.loads((first.run_dir / "config.json").read_text())["budget"]["steps"] == 2500


def wait_for(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def assert_interrupted_then_resumed_like_uninterrupted(run: Path, sig: int, returncode: int, stdout: str,
                                                       stderr: str, tmp_path: Path) -> None:
    assert returncode == 128 + sig, (returncode, stderr)
    assert f"interrupted by {signal.Signals(sig).name}" in stderr and f"zoo train --resume {run}" in stderr
    assert "Traceback" not in stderr
    saved = ckpt.find_checkpoint(run)
    assert f"checkpoint: {saved}" in stdout
    total = int(saved.name) + 800

    resumed = invoke("train", "--resume", str(run), "--steps", str(total))
    assert resumed.exit_code == 0, resumed.output
    assert (run / "command.txt").read_text().splitlines()[-1] == f"zoo train --resume {run} --steps {total}"
    straight = train("reinforce", "cartpole", seed=5, steps=total, out=tmp_path / "straight", overrides=SMALL,
                     argv=["zoo"])
    assert_same_run(straight.run_dir, run)


TRAIN_FOREVER = ("train", "reinforce", "cartpole", "--seed", "5", "--steps", "10000000", "--set", "n_envs=4",
                 "--checkpoint-every", "0")


def test_sigterm_to_a_zoo_train_process_saves_exits_with_a_message_and_resumes_exactly(tmp_path, checkpoint_names,
                                                                                        zoo_process):
    run = tmp_path / "run"
    proc = zoo_process(*TRAIN_FOREVER, "--out", str(run))
    try:
        wait_for(lambda: checkpoint_names(run) or proc.poll() is not None, what="a checkpoint")
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert_interrupted_then_resumed_like_uninterrupted(run, signal.SIGTERM, proc.returncode, stdout, stderr, tmp_path)


def test_ctrl_c_during_zoo_train_saves_exits_with_a_message_and_resumes_exactly(tmp_path, checkpoint_names):
    """SIGINT to this very process while the CLI trains in it (no second interpreter to start)."""
    run = tmp_path / "run"
    finished = threading.Event()

    def press_ctrl_c() -> None:
        # Only once the loop runs (a checkpoint exists), so the zoo's handler gets it, not pytest.
        while not finished.is_set():
            if checkpoint_names(run):
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.02)

    presser = threading.Thread(target=press_ctrl_c, daemon=True)
    presser.start()
    try:
        result = invoke(*TRAIN_FOREVER, "--out", str(run))
    finally:
        finished.set()
        presser.join()
    assert_interrupted_then_resumed_like_uninterrupted(run, signal.SIGINT, result.exit_code, result.stdout,
                                                       result.stderr, tmp_path)


def test_resume_refuses_what_it_cannot_continue(tmp_path):
    run = train("reinforce", "cartpole", seed=0, episodes=8, out=tmp_path / "run", overrides=SMALL, argv=["zoo"])
    before = sorted(p.relative_to(run.run_dir) for p in run.run_dir.rglob("*"))
    # The episode budget stops the copies on the step that ends the 8th episode (since 0.2.0).
    with pytest.raises(ZooError, match=r"already trained 8 episodes, 329 env steps .* pass a larger --steps \(333 or "
                                        r"more\) or --episodes"):
        resume(run.run_dir)
    refused = invoke("train", "reinforce", "cartpole", "--resume", str(run.run_dir))
    assert refused.exit_code == 2 and "AGENT, ENV cannot be given with it" in refused.stderr
    # A checkpoint saved for acting only (no training state) cannot be resumed from.
    meta_path = run.checkpoint / ckpt.META_FILE
    meta = json.loads(meta_path.read_text())
    del meta["training_sha256"]
    write_meta(run.checkpoint, meta)
    with pytest.raises(ZooError, match="holds no training state"):
        resume(run.run_dir, episodes=100)
    assert sorted(p.relative_to(run.run_dir) for p in run.run_dir.rglob("*")) == before


# -- killed while saving ---------------------------------------------------------------------------
def saver(folder: Path, mode: str, start: int, report: int) -> None:
    """Save checkpoints forever, each a little different; report each finished one."""
    big = torch.zeros(1 << 20)  # 4 MB, so a kill often lands inside a write
    i = start
    while True:
        i += 1
        name = "checkpoint" if mode == "replace" else f"{i:012d}"
        ckpt.write_checkpoint(folder / name, {"i": torch.tensor([i]), "big": big + i},
                              {"agent": "reinforce", "env": "cartpole", "config": {}})
        os.write(report, f"{i}\n".encode())


def run_and_sigkill(folder: Path, mode: str, start: int, delay: float) -> int:
    """Fork a saver, SIGKILL it after its first save plus ``delay`` seconds; the last finished save."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: save until killed, never back into pytest
        try:
            os.close(read)
            saver(folder, mode, start, write)
        finally:
            os._exit(1)
    os.close(write)
    with os.fdopen(read) as reports:
        first = reports.readline()
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        finished = [first, *reports.read().split()]
    return int(finished[-1])


@pytest.mark.parametrize("mode", ["replace", "new-folder"])
def test_sigkill_at_random_moments_during_saves_never_leaves_a_bad_checkpoint(tmp_path, mode):
    rng = random.Random(0)
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    # What a reader asks for: the checkpoint folder itself, or the run folder holding checkpoints/.
    target = folder / "checkpoint" if mode == "replace" else tmp_path
    outcomes, last = [], 0
    for _ in range(12):
        last = run_and_sigkill(folder, mode, last + 1, rng.uniform(0.0, 0.15))
        found = ckpt.find_checkpoint(target)
        meta = ckpt.read_meta(found)  # checksums verified
        value = int(ckpt.read_tensors(found)["i"])
        assert meta["agent"] == "reinforce" and value in (last, last + 1), (value, last)
        assert torch.equal(ckpt.read_tensors(found)["big"], torch.full((1 << 20,), float(value)))
        outcomes.append("old" if value == last else "new")
        ckpt.recover_checkpoints(folder)  # as `zoo train --resume` does before going on
        assert not [p for p in folder.iterdir() if p.name.startswith(".")]
        recovered = int(ckpt.read_tensors(ckpt.find_checkpoint(target))["i"])
        assert recovered in (last, last + 1) and recovered >= value  # a finished new one may be put in place
        last = recovered
    assert "old" in outcomes, outcomes


def test_leftovers_of_a_killed_save_are_never_taken_for_the_newest_checkpoint(tmp_path):
    zoo_run = train("reinforce", "cartpole", seed=0, episodes=8, out=tmp_path / "run", overrides=SMALL, argv=["zoo"])
    folder = zoo_run.run_dir / ckpt.CHECKPOINTS_DIR
    newest = ckpt.find_checkpoint(zoo_run.run_dir)
    half = folder / f".{int(newest.name) + 999:012d}.tmp-abc"
    shutil.copytree(newest, half)
    (half / ckpt.META_FILE).unlink()  # killed before its metadata was written
    assert ckpt.find_checkpoint(zoo_run.run_dir) == newest
    ckpt.recover_checkpoints(folder)
    assert not half.exists() and ckpt.find_checkpoint(zoo_run.run_dir) == newest

    # Killed between the two renames of a replacement: the folder is missing, the old one aside.
    aside = folder / f".{newest.name}.old-xyz"
    aside.mkdir()
    newest.rename(aside / newest.name)
    assert ckpt.find_checkpoint(newest) == aside / newest.name
    zoo.load_agent(newest)  # loads the one set aside
    ckpt.recover_checkpoints(folder)
    assert (newest / ckpt.META_FILE).is_file() and not aside.exists()


# -- pickles never run -----------------------------------------------------------------------------
class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))  # unpickling creates the marker file


def evil_pickle(marker: Path) -> bytes:
    return pickle.dumps({"weights": _Evil(marker)})


def test_a_pickle_in_place_of_checkpoint_files_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "PWNED"
    run = train("reinforce", "cartpole", seed=0, episodes=8, out=tmp_path / "run", overrides=SMALL, argv=["zoo"])
    folder = run.checkpoint
    payload = evil_pickle(marker)
    for name in (ckpt.WEIGHTS_FILE, ckpt.TRAINING_TENSORS_FILE):
        (folder / name).write_bytes(payload)
    meta = json.loads((folder / ckpt.META_FILE).read_text())
    # The attacker also fixes the checksums, so only the file format stands in the way.
    meta["weights_sha256"] = ckpt._sha256(folder / ckpt.WEIGHTS_FILE)
    meta["training_sha256"][ckpt.TRAINING_TENSORS_FILE] = ckpt._sha256(folder / ckpt.TRAINING_TENSORS_FILE)
    write_meta(folder, meta)
    with pytest.raises(ZooError, match="cannot read"):
        zoo.load_agent(folder)
    with pytest.raises(ZooError, match="cannot read"):
        resume(run.run_dir, episodes=100)
    result = invoke("eval", "reinforce", "cartpole", "--checkpoint", str(folder))
    assert result.exit_code == 2 and "cannot read" in result.stderr
    pt_file = tmp_path / "model.pt"
    pt_file.write_bytes(payload)
    result = invoke("eval", "reinforce", "cartpole", "--checkpoint", str(pt_file))
    # Read as the Deep RL course's format, whose hyperparameters.json is missing: refused before the trust gate.
    assert result.exit_code == 2 and "model.pt" in result.stderr
    assert not marker.exists()
    pickle.loads(payload)  # the payload is live: unpickled, it does create the marker
    assert marker.exists()


def test_pickled_hub_models_are_refused_without_trust_and_never_run(hub, hf_home, tmp_path, monkeypatch):
    marker = tmp_path / "PWNED"
    payload = evil_pickle(marker)
    course = hub.new_repo_id("Reinforce-CartPole-v1")
    hub.seed_repo(course, {"model.pt": payload, "hyperparameters.json": json.dumps({"env_id": "CartPole-v1"})})
    sb3 = hub.new_repo_id("ppo-CartPole-v1")
    hub.seed_repo(sb3, {"ppo-CartPole-v1.zip": payload})
    monkeypatch.delenv("ZOO_TRUST_REMOTE_CODE", raising=False)
    for repo, refusal in ((course, ("--trust-remote-code", "ZOO_TRUST_REMOTE_CODE")),
                          # Whether a zip is an SB3 model is read from its JSON before trust (no pickle
                          # involved): a pickle named .zip is no model at all. tests/test_sb3_files.py
                          # covers the trust gate of real SB3 zips.
                          (sb3, ("ppo-CartPole-v1.zip is not a stable-baselines3 zip",))):
        result = invoke("eval", "--from-hub", repo)
        assert result.exit_code == 2, result.output
        assert all(fragment in result.stderr for fragment in refusal), result.stderr
        monkeypatch.setenv("ZOO_TRUST_REMOTE_CODE", "0")
        assert invoke("eval", "--from-hub", repo).exit_code == 2
        monkeypatch.delenv("ZOO_TRUST_REMOTE_CODE")
    assert not marker.exists()


# -- numbers ---------------------------------------------------------------------------------------
def test_nan_observations_stop_training_naming_the_step_and_write_no_checkpoint(reliability_envs, tmp_path,
                                                                                 checkpoint_names):
    run = tmp_path / "run"
    result = invoke("train", "reinforce", "nan-after", "--steps", "1000", "--out", str(run),
                    "--set", "n_envs=2", "--checkpoint-every", "0")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: training stopped in the iteration after env step ")
    assert "non-finite observation" in lines[-1] and "Traceback" not in result.output
    # 10-step episodes, NaN after 30 steps of an env copy: the 4th iteration sees it.
    assert "after env step 60:" in lines[-1]
    assert checkpoint_names(run) == ["000000000020", "000000000040", "000000000060"]  # none after it
    zoo.load_agent(run)


def test_divergence_is_caught_before_a_checkpoint_is_written(tmp_path):
    with pytest.raises(ZooError, match=r"(diverged at env step|in the iteration after env step) \d+: .*"
                                       r"no checkpoint written"):
        train("reinforce", "mountaincar-continuous", seed=0, steps=20_000, out=tmp_path / "run",
              overrides={"n_envs": 2, "learning_rate": 1e30, "log_std_init": 30.0}, checkpoint_every=0, argv=["zoo"])
    for folder in (tmp_path / "run" / "checkpoints").glob("*"):
        assert all(torch.isfinite(t).all() for t in ckpt.read_tensors(folder).values())


# -- episodes that never end -----------------------------------------------------------------------
def test_max_steps_ends_episodes_of_an_env_without_time_limit(reliability_envs, tmp_path):
    result = invoke("eval", "hardcoded", "endless", "--episodes", "2", "--max-steps", "7", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["lengths"] == [7, 7]
    result = invoke("eval", "hardcoded", "endless", "--episodes", "1", "--json")
    assert json.loads(result.stdout)["lengths"] == [10_000]  # evaluation's default cap

    result = invoke("train", "reinforce", "endless", "--steps", "100", "--max-steps", "25",
                    "--out", str(tmp_path / "capped"), "--set", "n_envs=2")
    assert result.exit_code == 0, result.output
    assert {row[2] for row in returns_rows(tmp_path / "capped")} == {"25"}
    result = invoke("train", "reinforce", "endless", "--steps", "10000", "--out", str(tmp_path / "default"),
                    "--set", "n_envs=1")
    assert result.exit_code == 0, result.output
    assert [row[2] for row in returns_rows(tmp_path / "default")] == ["10000"]


def test_only_the_trust_gated_hub_loaders_can_unpickle():
    """A source scan: every call that can unpickle (torch.load without weights_only=True, pickle,
    SB3's and VecNormalize's .load) lives in the Hub format loaders of the built-in agent plugins
    (which read the same layouts from disk: SB3 zips, rl-baselines3-zoo log folders),
    after a require_trust call in the same function or in every function that calls it (the Hub
    tests show those refusals at work)."""
    import ast

    def calls(node: ast.AST) -> list[ast.Call]:
        return [n for n in ast.walk(node) if isinstance(n, ast.Call)]

    def unpickles(call: ast.Call) -> bool:
        name = ast.unparse(call.func)
        weights_only = {k.arg: ast.unparse(k.value) for k in call.keywords}.get("weights_only")
        return ((name == "torch.load" and weights_only != "True") or name.startswith("pickle.")
                or (name.endswith(".load") and name.split(".")[0] in ("algo_class", "VecNormalize")))

    def first_line(fn: ast.FunctionDef, name: str) -> float:
        return min((c.lineno for c in calls(fn) if ast.unparse(c.func).split(".")[-1] == name), default=math.inf)

    repo = Path(__file__).resolve().parent.parent
    risky: dict[tuple[str, str], int] = {}
    functions: dict[tuple[str, str], ast.FunctionDef] = {}
    for path in sorted([*repo.glob("zoo/**/*.py"), *repo.glob("agents/**/*.py"), *repo.glob("envs/**/*.py")]):
        file = path.relative_to(repo).as_posix()
        for fn in [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)]:
            functions.setdefault((file, fn.name), fn)
            lines = [c.lineno for c in calls(fn) if unpickles(c)]
            if lines:
                risky[(file, fn.name)] = min(lines)
    assert {file for file, _ in risky} == {"agents/course_format.py", "agents/sb3_files.py"}, risky
    for (file, name), line in risky.items():
        if first_line(functions[(file, name)], "require_trust") < line:
            continue
        callers = [fn for (where, _), fn in functions.items()
                   if where == file and first_line(fn, name) < math.inf and fn.name != name]
        assert callers and all(first_line(fn, "require_trust") < first_line(fn, name) for fn in callers), name
