"""Issue 13's adversarial findings, one regression test each: every one of these inputs is one
``error:`` line on stderr, exit code 2, no traceback, and nothing written.

Items: (2) rich markup in user, plugin and Hub text; (3) seeds out of range; (4) filesystem
errors; (5) bad values that used to be caught only after the run folder was written; (6) Hub
content; (7) checkpoint fields; (8) huge inputs; (9) ``push --revision ../x``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from support.checks import snapshot, write_meta
from typer.testing import CliRunner

from zoo import checkpoint as ckpt
from zoo.cli import app, run
from zoo.exceptions import ZooError
from zoo.limits import MAX_SEED
from zoo.training.session import train

runner = CliRunner()
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def zoo(*args: str) -> tuple[int, str, str]:
    """``zoo ARGS`` in this process, exactly as the executable runs it (one-line usage errors too)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = run(list(args))
    return code, stdout.getvalue(), stderr.getvalue()


def one_line_error(args: list[str], *fragments: str) -> str:
    code, stdout, stderr = zoo(*args)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, (code, stdout, stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert stdout == "" and "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A small resumable REINFORCE run on CartPole."""
    out = tmp_path_factory.mktemp("trained") / "run"
    train("reinforce", "cartpole", seed=0, steps=300, out=out, overrides={"n_envs": 2, "net_arch": "8"},
          argv=["zoo"], checkpoint_every=0)
    return out


@pytest.fixture
def run_copy(trained, tmp_path) -> Path:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    return copy


def rewrite_meta(folder: Path, **changes) -> None:
    """Edit zoo.json as a careful forger would (its checksum of itself brought up to date)."""
    meta = json.loads((folder / "zoo.json").read_text())
    meta.update(changes)
    write_meta(folder, meta)


def rewrite_weights(folder: Path, tensors: dict[str, torch.Tensor]) -> None:
    """Replace model.safetensors and record its new checksum, as a careful forger would."""
    from safetensors.torch import save_file

    save_file(tensors, str(folder / "model.safetensors"))
    rewrite_meta(folder, weights_sha256=ckpt._sha256(folder / "model.safetensors"))


# -- item 2: markup ----------------------------------------------------------------------------------
@pytest.mark.parametrize("args,shown", [
    (["eval", "hardcoded", "[/x]"], "'[/x]'"),
    (["eval", "hardcoded", "[bold red]cartpol"], "'[bold red]cartpol'"),
    (["eval", "[/x]", "cartpole"], "'[/x]'"),
    (["train", "reinforce", "cartpole", "--set", "[/x]=1"], "'[/x]'"),
    (["train", "reinforce", "cartpole", "--set", "activation=[bold]relu"], "'[bold]relu'"),
    (["pull", "[/x]/y"], "'[/x]/y'"),
    (["push-pretrained", "--org", "[/x]", "--dry-run"], "[/x]/"),
    (["sweep", "--agents", "reinforce", "--envs", "cartpole", "--set", "activation=[red]re[/x]lu"],
     "'[red]re[/x]lu'"),
])
def test_markup_in_user_text_is_printed_as_it_is(args, shown, workdir):
    one_line_error(args, shown)
    assert snapshot(workdir) == {}


def test_markup_in_a_plugin_description_error_or_command_help_is_printed_as_it_is(monkeypatch):
    from zoo import plugin_loader
    from zoo.entries import AgentEntry

    real = plugin_loader.loaded_plugins()
    evil = SimpleNamespace(name="[/evil]", distribution="[bold]evil-dist", version="1", module="evil",
                           error="ImportError: [/boom] [red]gone", hooks=[], envs=[], agents=["[/oops]"],
                           hub_formats=[], commands=[], api=">=1,[/api]", deprecations=["zoo.x: use [red]zoo.y"],
                           as_dict=lambda: {"name": "[/evil]"})
    fake = SimpleNamespace(envs=list(real.envs), plugins=[*real.plugins, evil], hub_formats=real.hub_formats,
                           agents=[*real.agents, AgentEntry("[/oops]", "x:y", "does [/oops] [bold red]things",
                                                            "[/evil]")],
                           register_commands=lambda app: None)
    monkeypatch.setattr(plugin_loader, "loaded_plugins", lambda: fake)
    for command in ("list", "plugins"):
        code, stdout, stderr = zoo(command)
        assert code == 0, stderr
        assert "[/oops]" in stdout and "[/boom] [red]gone" in stdout, stdout
    assert ">=1,[/api]" in stdout and "zoo.x: use [red]zoo.y" in stdout, stdout  # (of `zoo plugins`)
    app.command("oops-help", help="does [/oops] things [bold red]loudly")(lambda: None)
    try:
        code, stdout, stderr = zoo("--help")
        assert code == 0 and "does [/oops] things [bold red]loudly" in stdout, stderr
    finally:
        app.registered_commands.pop()


# -- item 3: seeds ------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", ["-1", str(MAX_SEED + 1), "4294967296", str(2**64)])
@pytest.mark.parametrize("command", [
    ["train", "reinforce", "cartpole", "--steps", "10", "--out", "run"],
    ["eval", "hardcoded", "pixelcopter", "--episodes", "1"],
    ["record", "hardcoded", "cartpole", "--out", "x.gif"],
])
def test_seeds_outside_the_range_are_one_line(command, seed, workdir):
    one_line_error([*command, "--seed", seed], "--seed must be a whole number from 0 to 2147483647")
    assert snapshot(workdir) == {}


def test_the_largest_seed_works_on_every_env_copy_of_pixelcopter():
    code, stdout, stderr = zoo("eval", "hardcoded", "pixelcopter", "--episodes", "4", "--seed", str(MAX_SEED),
                               "--max-steps", "5")
    assert code == 0, stderr


# -- item 4: the filesystem ---------------------------------------------------------------------------
def test_an_out_under_a_file_or_where_nothing_can_be_made_is_one_line(workdir):
    (workdir / "afile").write_text("x")
    one_line_error(["train", "reinforce", "cartpole", "--steps", "64", "--out", "afile/run"], "cannot create run")
    one_line_error(["train", "reinforce", "cartpole", "--steps", "64", "--out", "/proc/zoo-no/run"], "cannot create")
    one_line_error(["record", "hardcoded", "cartpole", "--out", "afile/x.gif"], "is a file, not a folder")
    (workdir / "dir.gif").mkdir()
    one_line_error(["record", "hardcoded", "cartpole", "--out", "dir.gif"], "is a folder")
    assert sorted(p.name for p in workdir.iterdir()) == ["afile", "dir.gif"]
    assert list((workdir / "dir.gif").iterdir()) == []


@pytest.mark.skipif(ROOT, reason="root may write anywhere")
def test_an_unwritable_out_or_run_is_one_line(workdir, run_copy):
    locked = workdir / "locked"
    locked.mkdir(mode=0o500)
    try:
        one_line_error(["train", "reinforce", "cartpole", "--steps", "64", "--out", "locked/run"], "cannot create")
        one_line_error(["record", "hardcoded", "cartpole", "--out", "locked/x.gif"], "no permission")
    finally:
        locked.chmod(0o700)
    for path in (run_copy, *run_copy.iterdir()):
        path.chmod(0o500 if path.is_dir() else 0o400)
    try:
        one_line_error(["train", "--resume", str(run_copy), "--steps", "2000"], "cannot write to run folder")
    finally:
        for path in (run_copy, *run_copy.iterdir()):
            path.chmod(0o700 if path.is_dir() else 0o600)


def test_a_failing_video_write_leaves_no_temporary_file(workdir, monkeypatch):
    import imageio.v3 as iio

    def full_disk(*args, **kwargs):  # the encoder fails (a real full disk: tests/test_io_edges.py)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(iio, "imwrite", full_disk)
    one_line_error(["record", "hardcoded", "cartpole", "--out", "new/x.gif", "--max-steps", "5"],
                   "cannot write video file", "No space left")
    assert snapshot(workdir) == {}


@contextlib.contextmanager
def unreadable(monkeypatch, name: str):
    """Files called ``name`` cannot be opened (as if chmod 000; root ignores that)."""
    import builtins

    real_open, real_read_text = builtins.open, Path.read_text

    def refuse(path) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    def guarded_open(file, *args, **kwargs):
        return refuse(file) if Path(str(file)).name == name else real_open(file, *args, **kwargs)

    def guarded_read_text(self, *args, **kwargs):
        return refuse(self) if self.name == name else real_read_text(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(builtins, "open", guarded_open)
        patch.setattr(Path, "read_text", guarded_read_text)
        yield


def test_a_resume_that_cannot_take_the_lock_or_read_a_file_is_one_line(run_copy, monkeypatch):
    before = snapshot(run_copy)
    with unreadable(monkeypatch, ".lock"):
        one_line_error(["train", "--resume", str(run_copy), "--steps", "2000"], "cannot write to run folder",
                       "Permission denied")
    newest = ckpt.find_checkpoint(run_copy)
    for name in ("zoo.json", "model.safetensors", "training.json"):
        with unreadable(monkeypatch, name):
            if name != "training.json":
                one_line_error(["eval", "reinforce", "cartpole", "--checkpoint", str(newest)], "Permission denied")
            one_line_error(["train", "--resume", str(run_copy), "--steps", "2000"], "Permission denied")
    assert snapshot(run_copy) == before


def test_an_unwritable_hf_home_is_one_line(hub, hub_repo_id, hf_home, monkeypatch, trained):
    from huggingface_hub import constants

    hub.seed_repo(hub_repo_id, {"README.md": "# x\n"})
    (hf_home / "blocked").write_text("a file where the cache should be")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hf_home / "blocked" / "hub"))
    one_line_error(["pull", hub_repo_id], "Hugging Face cache")
    one_line_error(["eval", "--from-hub", hub_repo_id], "Hugging Face cache")


# -- item 5: validated before anything is written ----------------------------------------------------
@pytest.mark.parametrize("args,fragment", [
    (["reinforce", "cartpole", "--set", "n_envs=100000000000"], "n_envs"),
    (["reinforce", "cartpole", "--set", "learning_rate=1e300"], "learning_rate"),
    (["reinforce", "cartpole", "--set", "net_arch=100000,100000"], "net_arch"),
    (["reinforce", "cartpole", "--set", "batch_steps=100000000000"], "batch_steps"),
    (["reinforce-baseline", "mountaincar-continuous", "--set", "init_log_std=1e300"], "init_log_std"),
    (["sb3-ppo", "cartpole", "--set", "n_steps=100000000000"], "n_steps"),
    (["sb3-ppo", "cartpole", "--set", "batch_size=1"], "batch_size"),
    (["sb3-dqn", "cartpole", "--set", "buffer_size=100000000000"], "buffer_size"),
    (["sb3-sac", "mountaincar-continuous", "--set", "ent_coef=lots"], "ent_coef"),
])
def test_values_too_big_to_train_with_are_refused_before_the_run_folder(args, fragment, workdir):
    one_line_error(["train", *args, "--steps", "10", "--out", "run"], fragment)
    assert snapshot(workdir) == {}


def test_a_run_that_fails_before_its_first_checkpoint_gives_its_folder_back(workdir, monkeypatch):
    from zoo.agents.reinforce import Reinforce

    def broken(self):
        raise RuntimeError("value cannot be converted to type float without overflow")

    monkeypatch.setattr(Reinforce, "train_iteration", broken)
    # 1,000 steps: enough for one step of REINFORCE's 64 copies (a budget below that trains nothing).
    code, _, stderr = zoo("train", "reinforce", "cartpole", "--steps", "1000", "--out", "run")
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1 and "overflow" in lines[0] and "Traceback" not in stderr, stderr
    assert snapshot(workdir) == {}  # the same command can run again


def test_resume_with_a_missing_optimizer_tensor_changes_nothing(run_copy):
    from safetensors.torch import load_file, save_file

    newest = ckpt.find_checkpoint(run_copy)
    tensors = load_file(str(newest / "training.safetensors"))
    del tensors["agent.optimizer.state.0.exp_avg"]
    save_file(tensors, str(newest / "training.safetensors"))
    meta = json.loads((newest / "zoo.json").read_text())
    meta["training_sha256"]["training.safetensors"] = ckpt._sha256(newest / "training.safetensors")
    write_meta(newest, meta)
    before = snapshot(run_copy)
    one_line_error(["train", "--resume", str(run_copy), "--steps", "2000"], "exp_avg")
    assert snapshot(run_copy) == before


# -- item 6: Hub content ------------------------------------------------------------------------------
def test_hub_content_that_escaped_the_one_line_errors(hub, hf_home, trained):
    newest = ckpt.find_checkpoint(trained)
    files = {name: (newest / name).read_bytes() for name in ("zoo.json", "model.safetensors")}
    dotdot = hub.new_repo_id("dotdot")
    hub.seed_repo(dotdot, {**files, "../x": b"outside"})
    one_line_error(["eval", "--from-hub", dotdot], repr(dotdot))
    one_line_error(["pull", dotdot], repr(dotdot))
    assert not (hf_home.parent / "x").exists()
    for env_id in (5, ["CartPole-v1"], None, {"a": 1}, "[/x]"):
        course = hub.new_repo_id("course")
        hub.seed_repo(course, {"model.pt": b"\x80\x04junk", "hyperparameters.json": json.dumps({"env_id": env_id})})
        one_line_error(["eval", "--from-hub", course, "--trust-remote-code"], repr(course))
    marked = hub.new_repo_id("marked-env")
    meta = json.loads(files["zoo.json"])
    forged = {**meta, "env": "[/x] [bold]cart"}
    forged[ckpt.META_SHA256] = ckpt.meta_sha256(forged)
    hub.seed_repo(marked, {**files, "zoo.json": json.dumps(forged)})
    one_line_error(["eval", "--from-hub", marked], "[/x] [bold]cart")
    card = "---\nmodel-index:\n- name: x\n  results:\n  - task: {type: reinforcement-learning}\n" \
           "    dataset: {type: 5, name: 5}\n    metrics: [{type: mean_reward, value: 1}]\n---\n"
    sb3 = hub.new_repo_id("sb3-numeric-card")
    hub.seed_repo(sb3, {"ppo-CartPole-v1.zip": b"PK junk", "README.md": card})
    one_line_error(["eval", "--from-hub", sb3], "ppo-CartPole-v1.zip")


# -- item 7: checkpoint fields ------------------------------------------------------------------------
@pytest.mark.parametrize("change,fragment", [
    ({"seed": "7"}, "seed"), ({"seed": [1]}, "seed"), ({"seed": -1}, "seed"), ({"seed": 2**64}, "seed"),
    ({"seed": 1e300}, "seed"), ({"config": {"net_arch": None}}, "net_arch"),
    ({"config": {"net_arch": [1e300]}}, "net_arch"),
    ({"config": {"n_envs": "many"}}, "n_envs"),
])
def test_checkpoint_fields_are_checked(change, fragment, run_copy):
    newest = ckpt.find_checkpoint(run_copy)
    meta = json.loads((newest / "zoo.json").read_text())
    if "config" in change:
        change = {"config": {**meta["config"], **change["config"]}}
    rewrite_meta(newest, **change)
    one_line_error(["eval", "reinforce", "cartpole", "--checkpoint", str(newest)], fragment)
    one_line_error(["train", "--resume", str(run_copy), "--steps", "2000"], fragment)


def test_json_nested_100000_deep_is_one_line(run_copy):
    newest = ckpt.find_checkpoint(run_copy)
    (newest / "zoo.json").write_text("[" * 100_000 + "]" * 100_000)
    one_line_error(["eval", "reinforce", "cartpole", "--checkpoint", str(newest)], "not valid JSON")
    (newest / "zoo.json").write_text('{"format": "agent-zoo-checkpoint", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    one_line_error(["eval", "reinforce", "cartpole", "--checkpoint", str(newest)], "zoo.json")


@pytest.mark.parametrize("forge,fragment", [
    (lambda t: t.fill_(float("nan")), "NaN"),
    (lambda t: t.fill_(float("inf")), "NaN or infinite"),
    (lambda t: t.double(), "float64"),
    (lambda t: t.long(), "int64"),
    (lambda t: t.bool(), "bool"),
    (lambda t: t.half(), "float16"),
])
def test_forged_weights_with_a_matching_checksum_are_refused(forge, fragment, run_copy):
    newest = ckpt.find_checkpoint(run_copy)
    tensors = ckpt.read_tensors(newest)
    name = "policy.body.0.weight" if "policy.body.0.weight" in tensors else sorted(tensors)[0]
    tensors[name] = forge(tensors[name].clone())
    rewrite_weights(newest, tensors)
    line = one_line_error(["eval", "reinforce", "cartpole", "--checkpoint", str(newest)], fragment)
    assert name in line


def test_a_negative_env_step_count_is_refused_on_resume(run_copy):
    newest = ckpt.find_checkpoint(run_copy)
    data = json.loads((newest / "training.json").read_text())
    data["loop"]["env_steps"] = -5
    (newest / "training.json").write_text(json.dumps(data))
    meta = json.loads((newest / "zoo.json").read_text())
    meta["training_sha256"]["training.json"] = ckpt._sha256(newest / "training.json")
    write_meta(newest, meta)
    before = snapshot(run_copy)
    one_line_error(["train", "--resume", str(run_copy), "--steps", "2000"], "env_steps -5")
    assert snapshot(run_copy) == before


# -- item 8: huge inputs ------------------------------------------------------------------------------
def test_huge_counts_are_one_line(workdir):
    one_line_error(["eval", "hardcoded", "cartpole", "--episodes", "99999999999999999999999"], "--episodes")
    one_line_error(["train", "reinforce", "cartpole", "--steps", str(10**30), "--out", "run"], "--steps")
    one_line_error(["train", "reinforce", "cartpole", "--max-steps", str(2**63), "--out", "run"], "--max-steps")
    assert snapshot(workdir) == {}


def test_a_huge_seed_range_is_refused_at_once_and_a_large_one_is_parsed_in_linear_time(workdir):
    from zoo.tools.sweep import parse_seeds

    started = time.perf_counter()
    one_line_error(["sweep", "--agents", "reinforce", "--envs", "cartpole", "--seeds", "0-99999999999"], "seeds")
    one_line_error(["sweep", "--agents", "reinforce", "--envs", "cartpole", "--seeds", "0-2000000"], "100,000")
    assert parse_seeds("0-20000,5,20000-20010") == list(range(20011))
    assert time.perf_counter() - started < 5
    assert snapshot(workdir) == {}


# -- item 9: push --revision ---------------------------------------------------------------------------
@pytest.mark.parametrize("revision", ["../x", "a..b", "/main", "x.lock", "bad name", "-x", "x@{1}"])
def test_push_refuses_a_bad_revision_before_any_request(revision, hub, hub_repo_id, trained):
    hub.clear_requests()
    one_line_error(["push", str(trained), "--repo-id", hub_repo_id, "--revision", revision, "--no-video"],
                   "--revision")
    assert hub.request_count() == 0
    assert not hub.repo_exists(hub_repo_id)


def test_api_entry_points_check_seeds_too():
    import zoo as api

    for bad in (-1, MAX_SEED + 1, "3", 2.0, True):
        with pytest.raises(ZooError, match="seed"):
            api.make_agent("reinforce", "cartpole", seed=bad)


# -- found by the fuzz tests ----------------------------------------------------------------------------
def test_finite_weights_too_large_to_act_with_are_refused_at_load(run_copy):
    newest = ckpt.find_checkpoint(run_copy)
    tensors = ckpt.read_tensors(newest)
    tensors = {name: (t.clone().fill_(3e38) if t.is_floating_point() and "policy" in name else t)
               for name, t in tensors.items()}
    rewrite_weights(newest, tensors)
    one_line_error(["eval", "reinforce", "cartpole", "--checkpoint", str(newest)], "cannot act")


def test_forged_episode_actions_of_an_sb3_run_are_refused_on_resume(tmp_path):
    from safetensors.torch import load_file, save_file

    config = {"learning_starts": 16, "buffer_size": 64, "batch_size": 8, "iteration_steps": 64, "net_arch": "8"}
    run_dir = train("sb3-dqn", "cartpole", seed=1, steps=64, out=tmp_path / "run", overrides=config,
                    argv=["zoo"]).run_dir
    newest = ckpt.find_checkpoint(run_dir)
    tensors = load_file(str(newest / "training.safetensors"))
    name = next(k for k in tensors if k.startswith("agent.env.") and k.endswith(".actions"))
    tensors[name] = tensors[name].double()  # 0.0 is no action of CartPole's Discrete(2)
    save_file(tensors, str(newest / "training.safetensors"))
    meta = json.loads((newest / "zoo.json").read_text())
    meta["training_sha256"]["training.safetensors"] = ckpt._sha256(newest / "training.safetensors")
    write_meta(newest, meta)
    before = snapshot(run_dir)
    one_line_error(["train", "--resume", str(run_dir), "--steps", "200"], "actions", "whole numbers")
    assert snapshot(run_dir) == before


def test_a_sweep_folder_that_cannot_be_created_is_one_line_and_nothing_before_it(workdir):
    one_line_error(["sweep", "--agents", "reinforce", "--envs", "cartpole", "--train-steps", "64",
                    "--eval-episodes", "1", "--out", "/proc/zoo-no/x"], "cannot create the sweep folder")
    assert snapshot(workdir) == {}


# -- issue 23, item 19: a vector of no envs -------------------------------------------------------------
@pytest.mark.parametrize("env", ["cartpole", "lunarlander", "catcher", "pendulum"])
@pytest.mark.parametrize("num_envs", [0, -1, True, 1.5])
def test_a_vector_env_of_no_envs_is_refused_in_one_line(env, num_envs):
    import zoo as public

    with pytest.raises(ZooError, match=r"num_envs must be a positive number \(whole.*got"):
        public.make_vec_env(env, num_envs)
