"""Issue 23, item 1: nothing read from a file makes the zoo import a module.

An env name may be ``module:Id`` (``ale_py:ALE/Pong-v5``): the module is imported first, because
importing it registers the env. That is for names the user types on the command line or passes
from Python, never for names read from a checkpoint's ``zoo.json``, a run folder's ``config.json``,
a ``--config`` file, a Hub repo (the zoo's format, the Deep RL course's ``hyperparameters.json``, an
SB3 model card), or a sweep folder. One test per way in: the payload is a harmless module that
writes a marker file when imported (``tests/support/payload.py``); each command must answer with
one ``error:`` line and exit code 2, import nothing, and leave every file as it was.

Then what stays possible: a run trained on a ``module:Id`` env is evaluated and resumed when the
user names the env (or passes ``--gym-packages``), and the message says how when they do not. And
``zoo.json`` is covered by a checksum of its own, which checkpoints written before it existed
(the shipped collection) do without.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
from importlib import resources
from pathlib import Path

import gymnasium
import pytest
from support.checks import snapshot

import zoo
from zoo import checkpoint as ckpt
from zoo.cli import run
from zoo.exceptions import ZooError

SMALL = {"n_envs": 2, "net_arch": "8"}


def zoo_cli(*args: str) -> tuple[int, str, str]:
    """``zoo ARGS`` in this process, exactly as the executable runs it."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = run([str(a) for a in args])
    return code, stdout.getvalue(), stderr.getvalue()


def refused(*args: str, fragments: tuple[str, ...] = ()) -> str:
    """``zoo ARGS`` answered with exit code 2 and one ``error:`` line (holding ``fragments``)."""
    code, stdout, stderr = zoo_cli(*args)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, (args, code, stdout, stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), (args, stderr)
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def forge_meta(folder: Path, **changes) -> None:
    """Edit a checkpoint's zoo.json as a careful forger would: its own checksum (if it has one)
    brought up to date, so that only the rule about env names stands in the way."""
    meta = json.loads((folder / ckpt.META_FILE).read_text())
    meta.update(changes)
    if "meta_sha256" in meta:
        meta["meta_sha256"] = ckpt.meta_sha256(meta)
    (folder / ckpt.META_FILE).write_text(json.dumps(meta))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trained") / "run"
    zoo.train("reinforce", "cartpole", seed=0, steps=200, out=out, overrides=SMALL, argv=["zoo"], checkpoint_every=0)
    return out


@pytest.fixture
def box(tmp_path, monkeypatch) -> Path:
    """An empty working folder (where `zoo train` would write runs/)."""
    folder = tmp_path / "box"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def run_copy(trained, box) -> Path:
    copy = box / "run"
    shutil.copytree(trained, copy)
    return copy


# -- a checkpoint's zoo.json -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dotted", [False, True], ids=["module", "package.submodule"])
def test_a_checkpoint_naming_a_module_env_is_refused_and_imports_nothing(run_copy, box, payload, dotted):
    name = payload.dotted_env if dotted else payload.env
    folder = ckpt.find_checkpoint(run_copy)
    forge_meta(folder, env=name)
    before = snapshot(box)

    line = refused("eval", "reinforce", "cartpole", "--checkpoint", run_copy, "--episodes", "1",
                   fragments=(name, "zoo.json", "command line"))
    assert "--gym-packages" in line
    refused("record", "reinforce", "cartpole", "--checkpoint", run_copy, "--out", box / "x.gif")
    refused("export", run_copy, "--format", "onnx", "--out", box / "x.onnx")
    for load in (zoo.load_agent, zoo.load_policy):
        with pytest.raises(ZooError, match="never imports"):
            load(run_copy)
    assert not payload.imported()
    assert snapshot(box) == before


def test_a_plain_env_name_in_a_checkpoint_still_loads_and_the_lookup_itself_never_imports(run_copy, payload):
    """The refusal is about the module part alone; and looking a name up never imports, whoever asks."""
    assert zoo.load_agent(run_copy).env.gym_id == "CartPole-v1"
    from zoo.plugin_loader import loaded_plugins

    with pytest.raises(ZooError, match="not imported"):
        loaded_plugins().envs.get(payload.env)
    assert not payload.imported()


# -- a run folder on --resume ------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["config.json", "zoo.json"])
def test_resume_of_a_run_folder_naming_a_module_env_is_refused_and_imports_nothing(run_copy, box, payload, where):
    if where == "config.json":
        config = json.loads((run_copy / "config.json").read_text())
        (run_copy / "config.json").write_text(json.dumps({**config, "env": payload.env}))
    else:
        forge_meta(ckpt.find_checkpoint(run_copy), env=payload.env)
    before = snapshot(box)

    refused("train", "--resume", run_copy, "--steps", "400", fragments=(payload.env, where))
    refused("train", "--resume", run_copy, "--steps", "400", "--dry-run")
    with pytest.raises(ZooError, match="never imports"):
        zoo.resume(run_copy, steps=400)
    assert not payload.imported()
    assert snapshot(box) == before


# -- a config file -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_a_config_file_naming_a_module_env_is_refused_and_imports_nothing(box, payload, suffix):
    text = (f'agent = "reinforce"\nenv = "{payload.env}"\nbudget = {{ steps = 100 }}\n' if suffix == ".toml"
            else f'agent: reinforce\nenv: "{payload.env}"\nbudget: {{steps: 100}}\n')
    config = box / f"config{suffix}"
    config.write_text(text)
    before = snapshot(box)

    for dry_run in (["--dry-run"], []):
        refused("train", "--config", config, *dry_run, fragments=(payload.env, str(config), "command line"))
        refused("train", "reinforce", "--config", config, *dry_run, fragments=(payload.env,))
        refused("train", "reinforce", "cartpole", "--config", config, *dry_run, fragments=(payload.env,))
    refused("sweep", "--agents", "reinforce", "--envs", "cartpole", "--seeds", "0", "--train-steps", "100",
            "--config", config, "--out", box / "sweep", fragments=(payload.env,))
    with pytest.raises(ZooError, match="never imports"):
        zoo.plan_run("reinforce", "cartpole", config_file=config)
    assert not payload.imported()
    assert snapshot(box) == before


# (60,000 characters: a config file is at most 64 KiB)
@pytest.mark.parametrize("env", ["[/x]:CartPole-v1", "x" * 60_000 + ":CartPole-v1", ".relative:CartPole-v1"])
def test_a_name_that_cannot_be_a_module_is_refused_in_a_short_line(box, env):
    config = box / "config.toml"
    config.write_text(f'agent = "reinforce"\nenv = "{env}"\n')
    line = refused("train", "--config", config, "--dry-run", fragments=("not an env name",))
    assert len(line) < 600


# -- Hub repos ---------------------------------------------------------------------------------------------------
def test_a_hub_repo_in_the_zoo_format_naming_a_module_env_imports_nothing(hub, hf_home, trained, box, payload):
    folder = ckpt.find_checkpoint(trained)
    meta = json.loads((folder / ckpt.META_FILE).read_text())
    meta["env"] = payload.dotted_env  # like "venv.__main__:CartPole-v1", which made a virtualenv
    if "meta_sha256" in meta:
        meta["meta_sha256"] = ckpt.meta_sha256(meta)
    repo_id = hub.new_repo_id("reinforce-CartPole-v1")
    hub.seed_repo(repo_id, {"zoo.json": json.dumps(meta),
                            "model.safetensors": (folder / "model.safetensors").read_bytes()})
    before = snapshot(box)

    refused("eval", f"hub:{repo_id}", "--episodes", "1", fragments=(repo_id, payload.dotted_env))
    refused("eval", f"hub:{repo_id}", "cartpole", "--episodes", "1", fragments=(payload.dotted_env,))
    with pytest.raises(ZooError, match="never imports"):
        zoo.load_hub_policy(repo_id)
    assert not payload.imported()
    assert snapshot(box) == before


def test_a_course_repo_naming_a_module_env_imports_nothing_before_or_after_trust(hub, hf_home, box, payload,
                                                                                 monkeypatch):
    monkeypatch.delenv("ZOO_TRUST_REMOTE_CODE", raising=False)
    repo_id = hub.new_repo_id("Reinforce-CartPole-v1")
    hub.seed_repo(repo_id, {"model.pt": b"not a pickle the test would ever need",
                            "hyperparameters.json": json.dumps({"env_id": payload.env, "h_size": 16})})
    before = snapshot(box)

    refused("eval", f"hub:{repo_id}", fragments=(payload.env, "hyperparameters.json"))
    refused("eval", f"hub:{repo_id}", "--trust-remote-code", fragments=(payload.env,))
    assert not payload.imported()
    assert snapshot(box) == before


SB3_CARD = """---
library_name: stable-baselines3
tags:
- reinforcement-learning
model-index:
- name: PPO
  results:
  - task:
      type: reinforcement-learning
      name: reinforcement-learning
    dataset:
      name: {env}
      type: {env}
    metrics:
    - type: mean_reward
      value: 500.00 +/- 0.00
      name: mean_reward
---
# PPO agent
"""


def test_an_sb3_repo_whose_card_names_a_module_env_imports_nothing(hub, hf_home, box, payload, monkeypatch):
    monkeypatch.delenv("ZOO_TRUST_REMOTE_CODE", raising=False)
    repo_id = hub.new_repo_id("ppo-CartPole-v1")
    hub.seed_repo(repo_id, {"README.md": SB3_CARD.format(env=payload.env), "ppo-CartPole-v1.zip": b"not a zip"})
    before = snapshot(box)

    refused("eval", f"hub:{repo_id}", fragments=(payload.env, "ppo-CartPole-v1.zip"))
    refused("eval", f"hub:{repo_id}", "--trust-remote-code", fragments=(payload.env,))
    assert not payload.imported()
    assert snapshot(box) == before


def test_zoo_push_of_a_checkpoint_naming_a_module_env_sends_nothing(hub, hub_repo_id, run_copy, box, payload):
    forge_meta(ckpt.find_checkpoint(run_copy), env=payload.env)
    before = snapshot(box)
    refused("push", run_copy, "--repo-id", hub_repo_id, "--no-video", "--eval-episodes", "1",
            fragments=(payload.env,))
    assert not payload.imported()
    assert snapshot(box) == before
    assert hub.request_count("POST", "/commit/") == 0


# -- sweep folders -----------------------------------------------------------------------------------------------
def test_a_sweep_folder_naming_a_module_env_imports_nothing(box, payload):
    """A sweep reads its folder's result.json files back (to skip finished runs); the env names
    in them are compared with the plan's, never looked up."""
    plan = zoo.plan_sweep("reinforce", "cartpole", "0", train_steps=100, out=box / "sweep")
    spec = plan.runs[0]
    Path(spec.run_dir).mkdir(parents=True)
    forged = {**spec.key(), "env": payload.env, "run_id": spec.run_id, "status": "ok", "eval": {"mean": 1.0}}
    (Path(spec.run_dir) / "result.json").write_text(json.dumps(forged))
    (Path(spec.run_dir) / "config.json").write_text(json.dumps({"agent": "reinforce", "env": payload.env}))
    before = snapshot(box)
    refused("sweep", "--agents", "reinforce", "--envs", "cartpole", "--seeds", "0", "--train-steps", "100",
            "--out", box / "sweep")
    assert not payload.imported()
    assert snapshot(box) == before


# -- what stays possible: module envs named by the user ----------------------------------------------------------
MODULE_ENV = "zoo_test_env_module"
MODULE_ENV_ID = "ZooModuleCartPole-v0"


@pytest.fixture
def env_module(tmp_path, monkeypatch):
    """A module that registers a gymnasium env when imported (as ale_py does), and a way to
    forget it as a new process would not know it."""
    folder = tmp_path / "env-module"
    folder.mkdir()
    (folder / f"{MODULE_ENV}.py").write_text(
        "import gymnasium\n"
        f"gymnasium.register(id={MODULE_ENV_ID!r}, entry_point='gymnasium.envs.classic_control:CartPoleEnv', "
        "max_episode_steps=50)\n")
    monkeypatch.syspath_prepend(str(folder))

    def forget() -> None:
        from zoo.plugin_loader import loaded_plugins

        sys.modules.pop(MODULE_ENV, None)
        gymnasium.registry.pop(MODULE_ENV_ID, None)
        loaded_plugins().envs._from_gymnasium.pop(MODULE_ENV_ID, None)  # the lookup's cache of gymnasium's envs

    forget()
    yield forget
    forget()


def test_a_run_on_a_module_env_is_evaluated_and_resumed_when_the_user_names_the_module(env_module, box):
    name = f"{MODULE_ENV}:{MODULE_ENV_ID}"
    code, stdout, stderr = zoo_cli("train", "reinforce", name, "--steps", "200", "--out", box / "run",
                                   "--set", "n_envs=2", "--set", "net_arch=8", "--checkpoint-every", "0")
    assert code == 0, stderr
    meta = ckpt.read_meta(ckpt.find_checkpoint(box / "run"))
    assert meta["env"] == MODULE_ENV_ID and meta["env_module"] == MODULE_ENV
    assert json.loads((box / "run" / "config.json").read_text())["env_module"] == MODULE_ENV

    env_module()  # a new process: the module is not imported, gymnasium does not know the id
    before = snapshot(box)
    line = refused("eval", "reinforce", MODULE_ENV_ID, "--checkpoint", box / "run", "--episodes", "1",
                   fragments=(MODULE_ENV_ID, f"--gym-packages {MODULE_ENV}"))
    assert name in line  # the name to type, module and all
    refused("train", "--resume", box / "run", "--steps", "400", fragments=(f"--gym-packages {MODULE_ENV}",))
    assert MODULE_ENV not in sys.modules and snapshot(box) == before

    code, stdout, stderr = zoo_cli("eval", "reinforce", name, "--checkpoint", box / "run", "--episodes", "1")
    assert code == 0, stderr
    env_module()
    code, stdout, stderr = zoo_cli("eval", "reinforce", MODULE_ENV_ID, "--checkpoint", box / "run", "--episodes",
                                   "1", "--gym-packages", MODULE_ENV)
    assert code == 0, stderr
    env_module()
    code, stdout, stderr = zoo_cli("train", "--resume", box / "run", "--steps", "400", "--gym-packages", MODULE_ENV)
    assert code == 0, stderr
    env_module()
    assert zoo.load_policy(box / "run", env=name) is not None  # from Python, the caller's name imports
    # Resumed to 400 executed env steps (2 copies: within one step of it, never past).
    assert ckpt.read_meta(ckpt.find_checkpoint(box / "run"))["trained"]["env_steps"] in (399, 400)


def test_python_callers_name_module_envs_as_before(env_module, payload):
    """The public API imports the module of a name its caller passes: the caller's own code."""
    env = zoo.make_env(f"{MODULE_ENV}:{MODULE_ENV_ID}")
    assert env.spec.id == MODULE_ENV_ID
    env.close()
    assert zoo.env_entry(payload.env).gym_id == "CartPole-v1" and payload.imported()


def test_gym_packages_that_do_not_import_are_one_line(box):
    refused("eval", "hardcoded", "cartpole", "--gym-packages", "no_such_module_here", "--episodes", "1",
            fragments=("no_such_module_here",))


# -- zoo.json's own checksum -------------------------------------------------------------------------------------
def test_a_new_checkpoint_carries_a_checksum_of_its_metadata_and_an_edited_one_is_refused(run_copy, box):
    folder = ckpt.find_checkpoint(run_copy)
    meta = json.loads((folder / ckpt.META_FILE).read_text())
    assert meta["meta_sha256"] == ckpt.meta_sha256(meta)
    meta["config"]["learning_rate"] = 0.5  # a change that would load: only the checksum catches it
    (folder / ckpt.META_FILE).write_text(json.dumps(meta))
    before = snapshot(box)
    refused("eval", "reinforce", "cartpole", "--checkpoint", run_copy, "--episodes", "1",
            fragments=("zoo.json does not match its recorded checksum",))
    with pytest.raises(ZooError, match="zoo.json does not match"):
        zoo.load_agent(folder)
    with pytest.raises(ZooError, match="zoo.json does not match"):
        zoo.resume(run_copy, steps=400)
    assert snapshot(box) == before


def test_checkpoints_written_before_the_metadata_checksum_still_load(run_copy):
    folder = ckpt.find_checkpoint(run_copy)
    meta = json.loads((folder / ckpt.META_FILE).read_text())
    del meta["meta_sha256"]  # as every checkpoint of agent-zoo 0.1 is (the shipped ones built then too)
    (folder / ckpt.META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    assert zoo.load_agent(folder).env.gym_id == "CartPole-v1"
    # The SB3 checkpoints of the collection were built with 0.1 and ship as they were (docs/pretrained.md).
    shipped = Path(str(resources.files("zoo.agents").joinpath("pretrained", "sb3-ppo-Acrobot-v1")))
    assert "meta_sha256" not in json.loads((shipped / ckpt.META_FILE).read_text())
    assert zoo.load_policy(shipped, agent="sb3-ppo", env="acrobot") is not None
