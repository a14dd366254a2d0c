"""Issue 23's findings on what a run folder holds, one regression test each: malformed files
under ``zoo plot`` (item 7), garbage logs under ``--resume`` (item 8), forged training states
whose checksums were brought up to date (item 9), a checkpoint pruned while it is read and a
symlinked file under ``zoo push`` (item 19).

A refused command is one ``error:`` line on stderr naming what was wrong and what would be
valid, exit code 2, and leaves everything as it was: the run folder is compared byte for byte
(every file and folder) before and after.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from support.checks import snapshot, write_meta

import zoo
from zoo import checkpoint as ckpt
from zoo.cli import run
from zoo.exceptions import ZooError
from zoo.training.resuming import continue_run


def zoo_cli(*args: str) -> tuple[int, str, str]:
    """``zoo ARGS`` in this process, exactly as the executable runs it."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = run(list(args))
    return code, stdout.getvalue(), stderr.getvalue()


def refused(args: list[str], folder: Path, *fragments: str) -> str:
    """``zoo ARGS`` is one error line naming every fragment, exit code 2, and ``folder`` is unchanged."""
    before = snapshot(folder)
    code, stdout, stderr = zoo_cli(*args)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, (code, stdout, stderr)
    assert len(lines) == 1 and lines[0].startswith("error: ") and "internal error" not in lines[0], stderr
    assert stdout == "" and "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert snapshot(folder) == before, "a refused command changed the folder"
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """Small resumable runs: REINFORCE evaluated as it trains (its loop state has an evaluation
    schedule and a best policy), and SB3's DQN (a replay buffer, counters, an exploration rate)."""
    root = tmp_path_factory.mktemp("trained")
    reinforce = zoo.train("reinforce", "cartpole", seed=1, steps=600, out=root / "reinforce",
                          overrides={"n_envs": 2, "net_arch": "8"}, checkpoint_every=0, eval_every=200,
                          eval_episodes=2, argv=["zoo"]).run_dir
    dqn = zoo.train("sb3-dqn", "cartpole", seed=1, steps=128, out=root / "sb3-dqn", checkpoint_every=0, argv=["zoo"],
                    overrides={"learning_starts": 16, "buffer_size": 64, "batch_size": 8, "train_freq": 4,
                               "iteration_steps": 64, "net_arch": "8", "target_update_interval": 16}).run_dir
    return {"reinforce": reinforce, "sb3-dqn": dqn}


@pytest.fixture
def copy_of(trained, tmp_path) -> Callable[[str], Path]:
    def copy(agent: str) -> Path:
        target = tmp_path / agent
        shutil.copytree(trained[agent], target)
        return target

    return copy


def resume_args(run_dir: Path) -> list[str]:
    """Resume for one more iteration or so (a resume that is wrongly accepted trains briefly)."""
    return ["train", "--resume", str(run_dir), "--steps", "900" if run_dir.name == "reinforce" else "192"]


# -- item 7: zoo plot on malformed files -------------------------------------------------------------
def _set_config(run_dir: Path, key: str, value) -> None:
    config = json.loads((run_dir / "config.json").read_text())
    config[key] = value
    (run_dir / "config.json").write_text(json.dumps(config))


def _edit_returns(run_dir: Path, line: int, text: str) -> None:
    lines = (run_dir / "returns.csv").read_text().splitlines()
    lines[line] = text
    (run_dir / "returns.csv").write_text("\n".join(lines) + "\n")


PLOT_GARBAGE = {
    "a non-numeric return": (lambda r: _edit_returns(r, 2, "2,abc,11,54,0.2"), ["returns.csv", "line 3", "return"]),
    "a NaN return": (lambda r: _edit_returns(r, 2, "2,nan,11,54,0.2"), ["returns.csv", "line 3", "return"]),
    "an infinite step count": (lambda r: _edit_returns(r, 2, "2,1.0,11,1e400,0.2"), ["returns.csv", "env_steps"]),
    "a short row": (lambda r: _edit_returns(r, 2, "2,11.0,11"), ["returns.csv", "line 3", "5"]),
    "a long row": (lambda r: _edit_returns(r, 2, "2,11.0,11,54,0.2,9"), ["returns.csv", "line 3", "5"]),
    "a wrong header": (lambda r: _edit_returns(r, 0, "a,b,c,d,e"), ["returns.csv", "episode,return,length"]),
    "a binary file": (lambda r: (r / "returns.csv").write_bytes(bytes(range(256)) * 8), ["returns.csv", "UTF-8"]),
    "episodes out of order": (lambda r: _edit_returns(r, 2, "7,11.0,11,54,0.2"), ["returns.csv", "episode"]),
    "config 5": (lambda r: _set_config(r, "config", 5), ["config.json", "config"]),
    "agent a list": (lambda r: _set_config(r, "agent", [1]), ["config.json", "agent"]),
    "config.json binary": (lambda r: (r / "config.json").write_bytes(b"\xff\xfe\x00garbage"), ["config.json"]),
}


@pytest.mark.parametrize("case", PLOT_GARBAGE)
def test_zoo_plot_refuses_a_malformed_run_folder_in_one_line_and_writes_nothing(case, copy_of, tmp_path):
    run_dir = copy_of("reinforce")
    spoil, fragments = PLOT_GARBAGE[case]
    spoil(run_dir)
    refused(["plot", str(run_dir), "--out", str(tmp_path / "curves.png")], tmp_path, *fragments)
    assert not (tmp_path / "curves.png").exists()


def test_zoo_plot_still_draws_a_healthy_run(copy_of, tmp_path):
    run_dir = copy_of("reinforce")
    code, stdout, stderr = zoo_cli("plot", str(run_dir), "--out", str(tmp_path / "curves.png"))
    assert code == 0 and (tmp_path / "curves.png").stat().st_size > 1000, stderr


# -- item 8: resume over garbage logs ------------------------------------------------------------------
def _edit_progress_cell(run_dir: Path, key: str, text: str) -> None:
    lines = (run_dir / "progress.csv").read_text().splitlines()
    column = lines[0].split(",").index(key)
    cells = lines[2].split(",")
    cells[column] = text
    lines[2] = ",".join(cells)
    (run_dir / "progress.csv").write_text("\n".join(lines) + "\n")


LOG_GARBAGE = {
    "progress.csv: a non-numeric iteration": (lambda r: _edit_progress_cell(r, "time/iterations", "abc"),
                                              ["progress.csv", "line 3", "time/iterations"]),
    "progress.csv: a non-numeric loss": (lambda r: _edit_progress_cell(r, "train/loss", "abc"),
                                         ["progress.csv", "line 3", "train/loss"]),
    "progress.csv: a short row": (lambda r: (r / "progress.csv").write_text(
        (r / "progress.csv").read_text().replace("\n", "\n1,2\n", 1)), ["progress.csv", "line 2"]),
    "progress.csv binary": (lambda r: (r / "progress.csv").write_bytes(bytes(range(256)) * 8),
                            ["progress.csv", "UTF-8"]),
    "monitor.csv binary": (lambda r: (r / "monitor.csv").write_bytes(bytes(range(256)) * 8),
                           ["monitor.csv", "UTF-8"]),
    "monitor.csv: a malformed header": (lambda r: (r / "monitor.csv").write_text("#{oops\nr,l,t\n"),
                                        ["monitor.csv", "t_start"]),
}


@pytest.mark.parametrize("case", LOG_GARBAGE)
def test_resume_over_garbage_logs_is_refused_and_leaves_the_folder_byte_identical(case, copy_of):
    run_dir = copy_of("reinforce")
    spoil, fragments = LOG_GARBAGE[case]
    spoil(run_dir)
    line = refused(resume_args(run_dir), run_dir, *fragments)
    assert "move it aside" in line  # what to do about it


def test_resume_keeps_command_lines_that_are_not_utf8_byte_for_byte(copy_of):
    """A command line may name a path of bytes that are not UTF-8 (``--out $'r\\xff'``): the
    resume keeps them as they are and adds its own line."""
    run_dir = copy_of("reinforce")
    (run_dir / "command.txt").write_bytes(b"zoo train --out r\xff\n\xfe\n")
    code, _, stderr = zoo_cli("train", "--resume", str(run_dir), "--steps", "900")
    assert code == 0, stderr
    kept = (run_dir / "command.txt").read_bytes()
    assert kept.startswith(b"zoo train --out r\xff\n\xfe\n") and b"--resume" in kept.split(b"\n")[2]


def test_resume_drops_a_progress_line_cut_short_by_a_kill_and_recreates_missing_logs(copy_of):
    run_dir = copy_of("reinforce")
    progress = run_dir / "progress.csv"
    progress.write_text(progress.read_text() + "12.5,12.5,99")  # a kill in the middle of a write
    (run_dir / "monitor.csv").unlink()
    code, _, stderr = zoo_cli("train", "--resume", str(run_dir), "--steps", "900")
    assert code == 0, stderr
    lines = progress.read_text().splitlines()
    header = lines[0].split(",")
    iterations = [int(line.split(",")[header.index("time/iterations")]) for line in lines[1:]]
    assert iterations == list(range(1, len(iterations) + 1))
    assert (run_dir / "monitor.csv").read_text().startswith('#{"t_start"')


# -- item 9: forged training state, checksums recomputed ------------------------------------------------
def forge(run_dir: Path, edit: Callable[[dict[str, torch.Tensor], dict], None]) -> None:
    """Edit the newest checkpoint's training state and record the new checksums, as a careful
    forger would (the checksum then passes)."""
    from safetensors.torch import load_file, save_file

    folder = ckpt.find_checkpoint(run_dir)
    tensors = load_file(str(folder / ckpt.TRAINING_TENSORS_FILE))
    data = json.loads((folder / ckpt.TRAINING_DATA_FILE).read_text())
    edit(tensors, data)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / ckpt.TRAINING_TENSORS_FILE))
    (folder / ckpt.TRAINING_DATA_FILE).write_text(json.dumps(data))
    meta = json.loads((folder / ckpt.META_FILE).read_text())
    meta["training_sha256"] = {name: ckpt._sha256(folder / name)
                               for name in (ckpt.TRAINING_TENSORS_FILE, ckpt.TRAINING_DATA_FILE)}
    write_meta(folder, meta)


def _group(data: dict, agent: str) -> dict:
    return data["agent"]["optimizer" if agent == "reinforce" else "policy.optimizer"]["param_groups"][0]


def _setting(key: str, value) -> Callable:
    return lambda agent: lambda tensors, data: _group(data, agent).__setitem__(key, value)


def _fill(name: str, value: float) -> Callable:
    return lambda agent: lambda tensors, data: tensors[name].fill_(value)


def _field(path: tuple, value) -> Callable:
    def edit(tensors, data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return lambda agent: edit


FORGED = {
    # Optimiser settings: what the agent's config builds, nothing else.
    "amsgrad": (["sb3-dqn"], _setting("amsgrad", True)),
    "capturable": (["sb3-dqn"], _setting("capturable", True)),
    "maximize": (["sb3-dqn", "reinforce"], _setting("maximize", True)),
    "weight_decay": (["sb3-dqn", "reinforce"], _setting("weight_decay", 1e6)),
    "lr": (["sb3-dqn", "reinforce"], _setting("lr", 1e6)),
    # The replay buffer: inside the spaces, finite, flags that are flags.
    "actions": (["sb3-dqn"], _fill("agent.buffer.actions", 7)),
    "dones": (["sb3-dqn"], _fill("agent.buffer.dones", -1e30)),
    "observations": (["sb3-dqn"], _fill("agent.buffer.observations", 1e30)),
    # SB3's last observations, counters and rates.
    "_last_obs": (["sb3-dqn"], _fill("agent.last._last_obs", 1e30)),
    "num_timesteps": (["sb3-dqn"], _field(("agent", "counters", "num_timesteps"), 10**30)),
    "exploration_rate": (["sb3-dqn"], _field(("agent", "exploration_rate"), math.nan)),
    # The loop's evaluation schedule.
    "best_mean": (["reinforce"], _field(("loop", "evaluation", "best_mean"), math.nan)),
    "next_at": (["reinforce"], _field(("loop", "evaluation", "next_at"), math.inf)),
    # Optimiser moments: Adam's step counts, its running mean of squared gradients.
    "step": (["reinforce"], _fill("agent.optimizer.state.0.step", -3.5)),
    "exp_avg_sq": (["reinforce"], _fill("agent.optimizer.state.0.exp_avg_sq", -1.0)),
}


@pytest.mark.parametrize("agent,field", [(agent, field) for field, (agents, _) in FORGED.items() for agent in agents])
def test_a_forged_training_state_is_refused_naming_the_field_and_changes_nothing(agent, field, copy_of):
    run_dir = copy_of(agent)
    forge(run_dir, FORGED[field][1](agent))
    refused(resume_args(run_dir), run_dir, field)


def test_a_killed_save_left_aside_is_resumed_from_and_put_in_place_only_once_the_resume_is_accepted(copy_of):
    """The newest checkpoint, left under its temporary name by a save killed before its rename,
    is the one resumed from; a resume refused for another reason leaves it where it is."""
    run_dir = copy_of("reinforce")
    newest = ckpt.find_checkpoint(run_dir)
    aside = newest.parent / f".{newest.name}.tmp-killed"
    newest.rename(aside)
    (run_dir / "monitor.csv").write_bytes(b"\xff\xfe")
    refused(resume_args(run_dir), run_dir, "monitor.csv")
    (run_dir / "monitor.csv").unlink()
    session = continue_run(run_dir, steps=900, keep_checkpoints=100)
    assert session.env_steps == int(newest.name) and aside.is_dir() and not newest.exists()
    session.run()  # its first write puts the checkpoint in place
    assert newest.is_dir() and not aside.exists()


# -- item 19: a checkpoint pruned while it is read ------------------------------------------------------
def test_evaluating_a_run_that_prunes_its_checkpoints_as_it_trains_never_fails(tmp_path):
    """``zoo train --keep 1 --checkpoint-every 0`` in another process saves a checkpoint and
    removes the previous one after every iteration; reading the run's newest checkpoint all
    the while must always succeed."""
    run_dir = tmp_path / "run"
    trainer = subprocess.Popen(
        [sys.executable, "-m", "zoo.cli", "train", "reinforce", "cartpole", "--steps", "100000000", "--out",
         str(run_dir), "--keep", "1", "--checkpoint-every", "0", "--set", "n_envs=1", "--set", "net_arch=8"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "ZOO_TORCH_THREADS": "1"})
    try:
        deadline = time.monotonic() + 120
        while not list((run_dir / "checkpoints").glob("0*")):
            assert trainer.poll() is None and time.monotonic() < deadline, trainer.stderr.read()
            time.sleep(0.05)
        names, failures, reads = set(), [], 0
        stop = time.monotonic() + 10
        while time.monotonic() < stop:
            reads += 1
            try:
                policy = zoo.load_policy(run_dir)
                policy.predict(torch.zeros(4).numpy(), deterministic=True)
                names.add(ckpt.find_checkpoint(run_dir).name)
            except (ZooError, OSError) as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
        code, _, stderr = zoo_cli("eval", "--checkpoint", str(run_dir), "--episodes", "1")
        assert trainer.poll() is None, "the trainer stopped: the test read nothing concurrently"
        assert failures == [] and code == 0, (f"{len(failures)} of {reads} reads failed", failures[:3], stderr)
        assert len(names) >= 3, names  # the trainer did save (and prune) all the while
    finally:
        trainer.send_signal(signal.SIGINT)
        try:
            trainer.wait(60)
        except subprocess.TimeoutExpired:
            trainer.kill()
            trainer.wait()


# -- item 19: zoo push never follows a symbolic link out of the run folder ------------------------------
@pytest.mark.parametrize("name", ["curve.png", "model.safetensors"])
def test_push_refuses_a_file_that_links_out_of_the_run_folder(name, hub, hub_repo_id, copy_of, tmp_path):
    run_dir = copy_of("reinforce")
    secret = tmp_path / "secret"
    where = run_dir if name == "curve.png" else ckpt.find_checkpoint(run_dir)
    shutil.copyfile(where / name, secret)  # the same bytes: only the link is wrong
    (where / name).unlink()
    (where / name).symlink_to(secret)
    refused(["push", str(run_dir), "--repo-id", hub_repo_id, "--eval-episodes", "1", "--no-video"], run_dir,
            name, "symbolic link")
    assert not hub.repo_exists(hub_repo_id)


def test_push_takes_a_curve_linked_inside_the_run_folder(hub, hub_repo_id, copy_of):
    run_dir = copy_of("reinforce")
    (run_dir / "curve.png").rename(run_dir / "curve-v1.png")
    (run_dir / "curve.png").symlink_to("curve-v1.png")
    code, _, stderr = zoo_cli("push", str(run_dir), "--repo-id", hub_repo_id, "--eval-episodes", "1", "--no-video")
    assert code == 0, stderr
    assert hub.files(hub_repo_id)["curve.png"] == (run_dir / "curve-v1.png").read_bytes()


def test_the_sb3_state_checks_count_in_the_zoos_range():
    from zoo.agents import sb3_state
    from zoo.limits import MAX_COUNT

    assert sb3_state.MAX_COUNT == MAX_COUNT  # a plugin cannot import zoo.limits: its copy must agree
