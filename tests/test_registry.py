"""Plugin discovery through real entry points, isolation of broken plugins, name lookups."""

from __future__ import annotations

import warnings

import gymnasium
import pytest

import zoo
from zoo.exceptions import ZooError
from zoo.plugin_loader import PluginLoadWarning, discover_plugins

GOOD_PLUGIN = """
    from zoo import hookimpl

    @hookimpl
    def register_envs(registry):
        registry.add_env(name="cartpole-long", gym_id="CartPoleLong-v9",
                         entry_point="gymnasium.envs.classic_control.cartpole:CartPoleEnv",
                         max_episode_steps=1000)
"""
BROKEN_ON_IMPORT = "raise RuntimeError('this plugin is broken')\n"
DUPLICATE_NAME = """
    from zoo import hookimpl

    @hookimpl
    def register_agents(registry):
        registry.add_agent("reinforce", "zoo.agents.reinforce:Reinforce")
"""


@pytest.fixture
def third_party(tmp_path, on_path, write_distribution):
    root = write_distribution(
        tmp_path / "site", "zoo-thirdparty", "1.2.3",
        {"tp_good": GOOD_PLUGIN, "tp_broken": BROKEN_ON_IMPORT, "tp_dupe": DUPLICATE_NAME},
        {"tp-good": "tp_good", "tp-broken": "tp_broken", "tp-dupe": "tp_dupe"},
    )
    with on_path(root):
        yield


def load_quietly():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = discover_plugins()
    return loaded, [str(w.message) for w in caught if issubclass(w.category, PluginLoadWarning)]


def test_builtins_are_found_through_the_projects_own_entry_points():
    loaded, _ = load_quietly()
    by_name = {p.name: p for p in loaded.plugins}
    assert by_name["classic-envs"].distribution == "rl-agent-zoo"
    assert by_name["classic-envs"].envs == ["cartpole", "mountaincar-continuous", "mountaincar", "acrobot", "pendulum"]
    assert by_name["box2d-envs"].envs == ["lunarlander"]
    assert set(by_name["builtin-agents"].agents) == {"hardcoded", "reinforce", "reinforce-baseline"}
    assert loaded.envs.get("CartPole-v1").name == "cartpole"


def test_third_party_plugin_is_discovered_and_registered_with_gymnasium(third_party):
    loaded, _ = load_quietly()
    entry = loaded.envs.get("cartpole-long")
    assert entry.plugin == "tp-good"
    assert loaded.plugin("tp-good").distribution == "zoo-thirdparty"
    assert loaded.plugin("tp-good").version == "1.2.3"
    env = gymnasium.make("CartPoleLong-v9")
    assert env.spec.max_episode_steps == 1000
    env.close()


def test_a_broken_plugin_is_reported_and_everything_else_works(third_party):
    loaded, messages = load_quietly()
    assert loaded.plugin("tp-broken").error == "RuntimeError: this plugin is broken"
    assert any("tp-broken" in m and "this plugin is broken" in m for m in messages)
    assert "cartpole" in loaded.envs and "cartpole-long" in loaded.envs


def test_duplicate_names_are_refused_naming_both_plugins(third_party):
    loaded, _ = load_quietly()
    error = loaded.plugin("tp-dupe").error
    assert "'reinforce'" in error and "tp-dupe" in error and "builtin-agents" in error
    assert loaded.agents.get("reinforce").plugin == "builtin-agents"


def test_strict_mode_makes_load_errors_fatal(third_party, monkeypatch):
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    monkeypatch.setenv("ZOO_PLUGINS", "classic-envs,tp-broken")
    with pytest.raises(ZooError, match="tp-broken"):
        discover_plugins()


def test_allow_and_block_lists(third_party, monkeypatch):
    monkeypatch.setenv("ZOO_BLOCK_PLUGINS", "tp-broken,tp-dupe")
    loaded, messages = load_quietly()
    assert all("tp-" not in m for m in messages)  # blocked plugins are not even imported
    assert {p.name for p in loaded.plugins}.isdisjoint({"tp-broken", "tp-dupe"})
    monkeypatch.setenv("ZOO_PLUGINS", "classic-envs")
    loaded, _ = load_quietly()
    assert [p.name for p in loaded.plugins] == ["classic-envs"]


def test_unknown_names_suggest_close_matches():
    with pytest.raises(ZooError, match=r"unknown env 'cartpol': did you mean 'cartpole'[,?]"):
        zoo.make_env("cartpol")
    with pytest.raises(ZooError, match="unknown agent 'reinforc'.*'reinforce'"):
        zoo.make_agent("reinforc", "cartpole")


def test_short_names_and_gymnasium_ids_are_interchangeable():
    assert zoo.make_env("cartpole").spec.id == "CartPole-v1"
    assert zoo.make_env("MountainCarContinuous-v0").spec.id == "MountainCarContinuous-v0"
    agent = zoo.make_agent("reinforce", "CartPole-v1")
    assert agent.env.name == "cartpole"


def test_import_zoo_loads_no_plugins():
    import subprocess
    import sys

    code = ("import sys, zoo, zoo.plugin_loader; "
            "assert zoo.plugin_loader._loaded is None; "
            "assert not any(m.startswith(('zoo.agents', 'zoo.envs')) for m in sys.modules); "
            "assert 'torch' not in sys.modules; print('ok')")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "ok"


@pytest.fixture
def frozen_lake_spec():
    """gymnasium's FrozenLake-v1 spec, put back as it was after the test."""
    before = gymnasium.spec("FrozenLake-v1")
    yield before
    gymnasium.registry["FrozenLake-v1"] = before


def test_a_vector_entry_point_is_attached_to_an_id_gymnasium_owns(frozen_lake_spec):
    from zoo.registration import EnvRegistry

    envs = EnvRegistry()
    envs._begin("tp")
    envs.add_env("lake", "FrozenLake-v1", vector_entry_point="tp_pkg.vector:LakeVectorEnv")
    envs._commit()
    spec = gymnasium.spec("FrozenLake-v1")
    assert spec.vector_entry_point == "tp_pkg.vector:LakeVectorEnv"
    assert (spec.entry_point, spec.max_episode_steps, spec.kwargs) == (
        frozen_lake_spec.entry_point, frozen_lake_spec.max_episode_steps, frozen_lake_spec.kwargs)
    # Loading the plugins again attaches the same entry point again; another one is refused.
    envs = EnvRegistry()
    envs._begin("tp")
    envs.add_env("lake", "FrozenLake-v1", vector_entry_point="tp_pkg.vector:LakeVectorEnv")
    with pytest.raises(ZooError, match="'FrozenLake-v1' already has a vector entry point"):
        envs.add_env("lake2", "FrozenLake-v1", vector_entry_point="other_pkg:Vec")


def test_a_plugin_that_fails_half_way_leaves_gymnasiums_ids_as_they_were(frozen_lake_spec, monkeypatch):
    from zoo.registration import EnvRegistry

    envs = EnvRegistry()
    envs._begin("tp")
    envs.add_env("lake", "FrozenLake-v1", vector_entry_point="tp_pkg.vector:LakeVectorEnv")
    envs.add_env("mine", "MineNotRegistered-v0", entry_point="tp_pkg.env:Mine")

    def refuse(**kwargs):
        raise RuntimeError("no")

    monkeypatch.setattr(gymnasium, "register", refuse)
    with pytest.raises(ZooError, match="cannot register env with gymnasium"):
        envs._commit()
    assert gymnasium.spec("FrozenLake-v1") == frozen_lake_spec and "MineNotRegistered-v0" not in gymnasium.registry
    assert "lake" not in envs


def test_the_classic_plugin_gives_gymnasiums_ids_their_batched_envs():
    zoo.plugin_loader.loaded_plugins()
    for gym_id, module in [("Acrobot-v1", "acrobot"), ("MountainCar-v0", "mountain_car"),
                           ("MountainCarContinuous-v0", "continuous_mountain_car"), ("Pendulum-v1", "pendulum")]:
        env = gymnasium.make_vec(gym_id, 3, vectorization_mode="vector_entry_point")
        assert type(env).__module__ == f"zoo.envs.classic.{module}"
        assert env.unwrapped.max_episode_steps == gymnasium.spec(gym_id).max_episode_steps
        env.close()
    assert gymnasium.spec("CartPole-v1").vector_entry_point.endswith("CartPoleVectorEnv")  # gymnasium's own, kept
