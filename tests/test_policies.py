"""One resolver for every policy a user can name (zoo.policy_sources): a run or checkpoint folder, a
run's best/, a Hub repo, an agent built from its config, and the checkpoint a plugin ships. The
same call from Python and behind `zoo eval`, `zoo record`, `zoo push` and `zoo export`, with
the same one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from support.checks import assert_one_line_error
from typer.testing import CliRunner

import zoo
import zoo.factory
from zoo.cli import app
from zoo.exceptions import ZooError
from zoo.hub.push import push_run
from zoo.policy_sources import LoadedPolicy, PolicySource, find_policy, load_source, resolve_policy

runner = CliRunner()
OBSERVATIONS = np.random.default_rng(0).uniform(-0.2, 0.2, (8, 4)).astype(np.float32)


def actions(policy) -> list:
    return np.asarray(policy.predict(OBSERVATIONS, deterministic=True)[0]).tolist()


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A tiny REINFORCE run on CartPole, evaluated during training so that it keeps best/."""
    out = tmp_path_factory.mktemp("policies") / "run"
    zoo.train("reinforce", "cartpole", seed=0, steps=1500, out=out, eval_every=500, eval_episodes=2, argv=["zoo"])
    assert (out / "best").is_dir()
    return out


@pytest.fixture(scope="module")
def unevaluated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("policies") / "plain"
    zoo.train("reinforce", "cartpole", seed=1, episodes=8, out=out, argv=["zoo"])
    return out


# -- from Python: every kind of source ------------------------------------------------------------
def test_a_run_folder_is_its_newest_checkpoint_and_load_policy_is_unchanged_for_existing_callers(run):
    source = find_policy(run)
    assert (source.kind, source.agent, source.env, source.path) == ("checkpoint", "reinforce", "cartpole", run)
    assert source.description == f"checkpoint {run}" and source.checkpoint == run
    old = zoo.factory.load_policy(run)
    new = zoo.load_policy(run)
    assert type(new) is type(old) and actions(new) == actions(old)
    # agent and env given with a path are what the checkpoint must hold, as before.
    assert actions(zoo.load_policy(str(run), agent="reinforce", env="CartPole-v1")) == actions(old)
    with pytest.raises(ZooError, match="is for agent 'reinforce', not 'reinforce-baseline'"):
        zoo.load_policy(run, agent="reinforce-baseline")
    with pytest.raises(ZooError, match="is for env 'cartpole', not 'acrobot'"):
        zoo.load_policy(run, env="acrobot")


def test_best_is_the_runs_best_evaluated_checkpoint(run, unevaluated):
    source = find_policy(run, best=True)
    assert (source.kind, source.path) == ("best", run / "best")
    assert actions(zoo.load_policy(run, best=True)) == actions(zoo.factory.load_policy(run / "best"))
    with pytest.raises(ZooError, match=r"has no best/ checkpoint: train it with --eval-every STEPS"):
        find_policy(unevaluated, best=True)
    with pytest.raises(ZooError, match="--best picks the best evaluated checkpoint of a run"):
        find_policy(agent="reinforce", env="cartpole", best=True)


def test_an_agent_that_does_not_learn_is_built_from_its_config_with_overrides():
    source = find_policy(agent="hardcoded", env="cartpole")
    assert (source.kind, source.path, source.description) == ("built", None, "hardcoded policy")
    lean = resolve_policy(agent="hardcoded", env="CartPole-v1", overrides={"variant": "lean"})
    assert isinstance(lean, LoadedPolicy) and lean.description == "hardcoded policy (lean)"
    assert lean.policy.config.variant == "lean" and lean.env == "CartPole-v1"
    with pytest.raises(ZooError, match="unknown hyperparameter|did you mean"):
        find_policy(agent="hardcoded", env="cartpole", overrides={"varaint": "lean"})
    with pytest.raises(ZooError, match="env 'cartpole' has no hardcoded policy 'nope': valid: default, lean"):
        zoo.load_policy(agent="hardcoded", env="cartpole", overrides={"variant": "nope"})
    with pytest.raises(ZooError, match="is not a zoo checkpoint of this machine"):
        _ = source.checkpoint


def test_an_agent_that_learns_runs_the_checkpoint_its_plugin_ships():
    source = find_policy(agent="reinforce", env="cartpole")
    assert source.kind == "pretrained" and source.path.name == "reinforce-CartPole-v1"
    assert source.description.startswith("the pretrained checkpoint shipped with agent-zoo (reinforce-CartPole-v1, "
                                         "recorded ")
    loaded = load_source(source)
    assert loaded.env == "cartpole" and actions(loaded.policy) == actions(zoo.factory.load_policy(source.path))
    with pytest.raises(ZooError, match="'sb3-ppo' has no pretrained checkpoint for 'mountaincar-continuous': pass "
                                       "--checkpoint RUN_DIR"):
        find_policy(agent="sb3-ppo", env="mountaincar-continuous")
    with pytest.raises(ZooError, match="'reinforce' runs a trained checkpoint, which keeps its own"):
        find_policy(agent="reinforce", env="cartpole", overrides={"learning_rate": "0.1"})


def test_a_hub_repo_is_named_hub_org_name_and_loaded_only_when_asked(hub, hub_repo_id, run):
    source = find_policy(f"hub:{hub_repo_id}")
    assert (source.kind, source.repo_id, source.path, source.env) == ("hub", hub_repo_id, None, None)
    # Nothing is asked of the Hub until the policy is loaded: a repo that does not exist is found.
    assert find_policy(f"hub:{hub.new_repo_id('not-yet')}").kind == "hub"
    push_run(run, hub_repo_id, eval_episodes=1, video=False)
    loaded = resolve_policy(f"hub:{hub_repo_id}")
    assert loaded.env == "cartpole" and loaded.description.startswith(f"reinforce from {hub_repo_id}@")
    assert actions(loaded.policy) == actions(zoo.load_policy(run))
    assert actions(zoo.load_policy(f"hub:{hub_repo_id}", agent="reinforce", env="cartpole")) == actions(loaded.policy)
    with pytest.raises(ZooError, match="holds a model for agent 'reinforce'"):
        zoo.load_policy(f"hub:{hub_repo_id}", agent="hardcoded")
    with pytest.raises(ZooError, match=f"Hub repo '{hub_repo_id}' is not a zoo checkpoint of this machine"):
        _ = source.checkpoint


@pytest.mark.parametrize("kwargs, complaint", [
    (dict(), "name what to run: AGENT ENV (trained: add --checkpoint RUN_DIR), or --from-hub ORG/NAME"),
    (dict(agent="reinforce"), "name what to run"),
    (dict(agent="hardcoded", env="cartpole", revision="dev"), "--revision applies to a Hub repo"),
    (dict(target="hub:org/name", overrides={"variant": "lean"}), "--set configures an agent built from its config"),
    (dict(target="hub:org/name", best=True), "--best picks the best evaluated checkpoint"),
    (dict(agent="nosuchagent", env="cartpole"), "unknown agent 'nosuchagent'"),
])
def test_what_cannot_be_resolved_is_one_line_before_anything_is_loaded(kwargs, complaint):
    with pytest.raises(ZooError) as caught:
        find_policy(**kwargs)
    assert complaint in str(caught.value) and "\n" not in str(caught.value)


def test_a_source_is_plain_data():
    source = PolicySource("checkpoint", "reinforce", "cartpole", "checkpoint x", path=Path("x"))
    assert source == PolicySource("checkpoint", "reinforce", "cartpole", "checkpoint x", path=Path("x"))
    with pytest.raises(AttributeError):
        source.kind = "hub"  # type: ignore[misc]


# -- the command line parses, the library decides ------------------------------------------------
def evaluated(*args: str) -> dict:
    result = runner.invoke(app, ["eval", *args, "--episodes", "2", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_zoo_eval_runs_every_kind_of_source_and_says_where_it_came_from(hub, hub_repo_id, run):
    assert evaluated("reinforce", "cartpole", "--checkpoint", str(run))["source"] == f"checkpoint {run}"
    assert evaluated("--checkpoint", str(run))["env"] == "cartpole"  # the checkpoint names its agent and env
    best = evaluated("reinforce", "cartpole", "--checkpoint", str(run), "--best")
    assert best["source"] == f"checkpoint {run / 'best'}"
    assert evaluated("hardcoded", "cartpole", "--set", "variant=lean")["source"] == "hardcoded policy (lean)"
    assert evaluated("reinforce", "cartpole")["source"].startswith("the pretrained checkpoint shipped with agent-zoo")
    push_run(run, hub_repo_id, eval_episodes=1, video=False)
    for form in (["--from-hub", hub_repo_id], [f"hub:{hub_repo_id}"]):
        found = evaluated(*form)
        assert found["source"].startswith(f"reinforce from {hub_repo_id}@") and found["env"] == "cartpole"
    # The same figures as the library gives for the same policy.
    direct = zoo.evaluate(zoo.load_policy(run, best=True), "cartpole", episodes=2, seed=0)
    assert evaluated("--checkpoint", str(run), "--best")["returns"] == direct.returns


def test_zoo_record_takes_the_same_sources(run, tmp_path):
    result = runner.invoke(app, ["record", "reinforce", "cartpole", "--checkpoint", str(run), "--best",
                                 "--out", str(tmp_path / "best.gif"), "--max-steps", "20"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"recorded checkpoint {run / 'best'}: return") and (tmp_path / "best.gif").is_file()


def test_zoo_push_and_export_go_through_the_resolver(hub, hub_repo_id, run, tmp_path):
    pushed = runner.invoke(app, ["push", str(run), "--best", "--repo-id", hub_repo_id, "--eval-episodes", "1",
                                 "--no-video"])
    assert pushed.exit_code == 0, pushed.output
    remote = hub.files(hub_repo_id)
    assert remote["model.safetensors"] == (run / "best" / "model.safetensors").read_bytes()
    assert remote["curve.png"] == (run / "curve.png").read_bytes()  # best/ belongs to its run
    exported = runner.invoke(app, ["export", str(run), "--best", "--format", "onnx", "--out", str(tmp_path / "p.onnx")])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "p.onnx").stat().st_size > 0


@pytest.mark.parametrize("args, complaint", [
    (["eval"], "name what to run: AGENT ENV"),
    (["eval", "hub:org/a", "--from-hub", "org/b"], "name the Hub repo once: hub:ORG/NAME or --from-hub ORG/NAME"),
    (["eval", "--from-hub", "org/a", "--checkpoint", "x"], "--checkpoint and --from-hub both name the policy"),
    (["eval", "hardcoded", "cartpole", "--revision", "dev"], "--revision applies to a Hub repo: add --from-hub"),
    (["eval", "hardcoded", "cartpole", "--best"], "--best picks the best evaluated checkpoint of a run"),
    (["eval", "reinforce", "cartpole", "--set", "learning_rate=0.1"], "runs a trained checkpoint, which keeps its own"),
    (["eval", "sb3-ppo", "mountaincar-continuous"], "has no pretrained checkpoint for 'mountaincar-continuous'"),
    (["record", "reinforce", "cartpole", "--best", "--out", "x.gif"], "--best picks the best evaluated checkpoint"),
    (["export", "hub:org/name", "--format", "onnx", "--out", "p.onnx"], "is not a zoo checkpoint of this machine"),
    (["push", "nowhere", "--repo-id", "org/name"], "nowhere"),
])
def test_the_cli_errors_are_the_resolvers_one_line_and_write_nothing(args, complaint, workdir):
    assert_one_line_error(runner.invoke(app, args), complaint)
    assert list(workdir.iterdir()) == []


def test_best_of_a_run_without_one_is_one_line_from_every_command(unevaluated, workdir):
    for args in (["eval", "reinforce", "cartpole", "--checkpoint", str(unevaluated), "--best"],
                 ["push", str(unevaluated), "--best", "--repo-id", "org/name"],
                 ["export", str(unevaluated), "--best", "--format", "onnx", "--out", "p.onnx"]):
        assert_one_line_error(runner.invoke(app, args), "has no best/ checkpoint")
    assert list(workdir.iterdir()) == []
