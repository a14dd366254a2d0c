"""Broken and misbehaving plugins, installed as real distributions (a package plus a dist-info
with entry_points.txt on sys.path): each is reported by name, in one line, and the rest of
the zoo keeps working. Also the environment switches and the hooks' contracts."""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from importlib import metadata

import gymnasium
import pytest
import typer
from typer.testing import CliRunner

import zoo
from zoo.exceptions import ZooError
from zoo.factory import load_agent_class
from zoo.plugin_loader import PluginLoadWarning, discover_plugins
from zoo.tools.checks import check_env

GOOD = """
    from zoo import hookimpl

    @hookimpl
    def register_envs(registry):
        registry.add_env(name="long-cartpole", gym_id="LongCartPole-v3",
                         entry_point="gymnasium.envs.classic_control.cartpole:CartPoleEnv",
                         max_episode_steps=700)

    @hookimpl
    def register_agents(registry):
        registry.add_agent("same-hardcoded", "zoo.agents.hardcoded:Hardcoded")
"""
RAISES_ON_IMPORT = """
    import zoo
    raise ImportError("needs [bold]zoo-test[extra][/bold]\\nsecond line")
"""
EXITS_ON_IMPORT = "import sys\nsys.exit(3)\n"
DUPLICATE = """
    from zoo import hookimpl

    @hookimpl
    def register_envs(registry):
        registry.add_env(name="fine-env", gym_id="FineEnv-v0",
                         entry_point="gymnasium.envs.classic_control.cartpole:CartPoleEnv")
        registry.add_env(name="cartpole", gym_id="OtherCartPole-v0",
                         entry_point="gymnasium.envs.classic_control.cartpole:CartPoleEnv")
"""
WRONG_SIGNATURE = """
    from zoo import hookimpl

    @hookimpl
    def register_agents(reg, cli):
        reg.add_agent("never", "zoo.agents.hardcoded:Hardcoded")
"""
MISSPELLED = """
    from zoo import hookimpl

    @hookimpl
    def register_env(registry):
        registry.add_env(name="never-env", gym_id="CartPole-v1")
"""
NO_HOOKS = """
    def register_envs(registry):  # forgot @hookimpl
        registry.add_env(name="never-env", gym_id="CartPole-v1")
"""
EXPLODING_ENV = """
    import gymnasium
    import numpy as np
    from zoo import hookimpl

    CONSTRUCTED = []

    class Exploding(gymnasium.Env):
        def __init__(self):
            CONSTRUCTED.append(1)
            raise RuntimeError("the simulator licence has expired")

    class Sloppy(gymnasium.Env):
        observation_space = gymnasium.spaces.Box(0.0, 1.0, (2,))
        action_space = gymnasium.spaces.Discrete(2)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            return np.array([0.5, 2.0], dtype=np.float32), {}  # outside its observation space

        def step(self, action):
            return np.array([0.5, 0.5], dtype=np.float32), 0.0, True, False, {}

    @hookimpl
    def register_envs(registry):
        registry.add_env(name="exploding", gym_id="Exploding-v0", entry_point=Exploding)
        registry.add_env(name="sloppy", gym_id="Sloppy-v0", entry_point=Sloppy)
"""
BAD_COMMAND = """
    from zoo import hookimpl

    @hookimpl
    def register_agents(registry):
        registry.add_agent("bad-command-agent", "zoo.agents.hardcoded:Hardcoded")

    @hookimpl
    def register_commands(cli):
        @cli.command(name="half-added")
        def half_added():
            pass
        raise ValueError("cannot build my command")
"""
GOOD_COMMAND = """
    from zoo import hookimpl

    @hookimpl
    def register_commands(cli):
        @cli.command(name="hello-plugin")
        def hello_plugin(name: str = "zoo"):
            print(f"hello {name}")
"""
SHADOWING_COMMAND = """
    from zoo import hookimpl

    @hookimpl
    def register_commands(cli):
        @cli.command()
        def train():
            print("not the zoo's train")
"""
USES_THE_ZOO_AT_IMPORT = """
    import zoo

    CARTPOLE = zoo.make_env("cartpole")  # would need the plugins that are being loaded
"""
PLUGINS = {
    "good": GOOD, "raises-on-import": RAISES_ON_IMPORT, "exits-on-import": EXITS_ON_IMPORT,
    "duplicate": DUPLICATE, "wrong-signature": WRONG_SIGNATURE, "misspelled": MISSPELLED,
    "no-hooks": NO_HOOKS, "exploding-env": EXPLODING_ENV, "bad-command": BAD_COMMAND,
    "good-command": GOOD_COMMAND, "shadowing-command": SHADOWING_COMMAND,
    "uses-the-zoo-at-import": USES_THE_ZOO_AT_IMPORT,
}
BROKEN = sorted(set(PLUGINS) - {"good", "exploding-env", "good-command"})


def module_name(plugin: str) -> str:
    return "tp_" + plugin.replace("-", "_")


@pytest.fixture
def site(tmp_path, monkeypatch, on_path, write_distribution):
    """All the plugins above, installed as one distribution "zoo-test-plugins" 2.0."""
    root = write_distribution(tmp_path / "site", "zoo-test-plugins", "2.0",
                              {module_name(p): src for p, src in PLUGINS.items()},
                              {p: module_name(p) for p in PLUGINS})
    with installed(root, monkeypatch, on_path):
        yield root


@contextlib.contextmanager
def installed(root, monkeypatch, on_path):
    """The distribution at ``root`` on the path of this process and of ``zoo`` subprocesses, with
    no plugin switch set; the process-wide plugins, if a test loads them, are put back afterwards."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    for var in ("ZOO_PLUGINS", "ZOO_BLOCK_PLUGINS", "ZOO_STRICT_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(zoo.plugin_loader, "_loaded", None)
    with on_path(root):
        yield root


def load():
    """discover_plugins(), returning the plugins and the warning lines it emitted."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = discover_plugins()
    return loaded, [str(w.message) for w in caught if issubclass(w.category, PluginLoadWarning)]


def errors(loaded) -> dict[str, str]:
    return {p.name: p.error for p in loaded.plugins if p.error}


# -- each broken plugin is reported, the rest works ---------------------------------------------

def test_every_broken_plugin_is_reported_once_and_the_rest_registers(site):
    loaded, messages = load()
    assert set(errors(loaded)) == set(BROKEN) - {"bad-command", "shadowing-command"}  # commands: later
    for name in errors(loaded):
        lines = [m for m in messages if m.startswith(f"plugin {name!r} (zoo-test-plugins) failed to load: ")]
        assert len(lines) == 1 and "\n" not in lines[0], messages
    assert {"cartpole", "mountaincar-continuous", "long-cartpole", "exploding"} <= {e.name for e in loaded.envs}
    assert {"hardcoded", "reinforce", "same-hardcoded", "bad-command-agent"} <= {a.name for a in loaded.agents}
    good = loaded.plugin("good")
    assert (good.distribution, good.version, good.envs, good.agents) == (
        "zoo-test-plugins", "2.0", ["long-cartpole"], ["same-hardcoded"])
    assert gymnasium.spec("LongCartPole-v3").max_episode_steps == 700


def test_a_plugin_that_raises_on_import(site):
    loaded, _ = load()
    assert loaded.plugin("raises-on-import").error == "ImportError: needs [bold]zoo-test[extra][/bold]"
    assert loaded.plugin("exits-on-import").error == "SystemExit: 3"


def test_a_plugin_that_uses_the_zoo_while_plugins_load(site):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = zoo.plugin_loader.reload_plugins()  # the process-wide loader: no deadlock, no recursion
    assert loaded.plugin("uses-the-zoo-at-import").error.startswith(
        "a plugin used the zoo's envs or agents while plugins were loading")
    assert "long-cartpole" in loaded.envs and zoo.plugin_loader.loaded_plugins() is loaded
    assert sum("uses-the-zoo-at-import" in str(w.message) for w in caught) == 1


def test_a_duplicate_name_names_both_plugins_and_registers_nothing_of_the_second(site):
    loaded, _ = load()
    error = loaded.plugin("duplicate").error
    assert error == "env name 'cartpole' from plugin 'duplicate' is already registered by plugin 'classic-envs'"
    assert loaded.envs.get("cartpole").plugin == "classic-envs"
    assert "fine-env" not in loaded.envs and "FineEnv-v0" not in gymnasium.registry  # all or nothing
    assert loaded.plugin("duplicate").envs == []


def test_a_hook_with_a_wrong_signature(site):
    error = load()[0].plugin("wrong-signature").error
    assert error == ("hook register_agents(reg, cli) takes 'reg', 'cli', which the hook does not pass; "
                     "expected register_agents(registry)")


def test_a_misspelled_hook_name(site):
    loaded, _ = load()
    assert loaded.plugin("misspelled").error.startswith(  # closest match first
        "'register_env' is marked @hookimpl but is not a zoo hook: did you mean 'register_envs'")
    assert "no zoo hook" in loaded.plugin("no-hooks").error and "@zoo.hookimpl" in loaded.plugin("no-hooks").error


def test_an_env_whose_constructor_raises_is_registered_without_running_it(site):
    import tp_exploding_env

    loaded, _ = load()
    assert loaded.plugin("exploding-env").error is None
    assert loaded.plugin("exploding-env").envs == ["exploding", "sloppy"]
    assert tp_exploding_env.CONSTRUCTED == []  # registering is cheap: nothing was built
    check = check_env("exploding", loaded=loaded)
    assert not check.passed
    assert check.error == "could not create the env: RuntimeError: the simulator licence has expired"
    assert check.summary().startswith("exploding (Exploding-v0, plugin exploding-env): FAILED: ")
    assert check_env("cartpole", loaded=loaded).passed


def test_zoo_check_reports_the_broken_env_and_checks_the_others(site, run_zoo):
    done = run_zoo("check", "--all")
    assert done.returncode == 1
    assert ("exploding (Exploding-v0, plugin exploding-env): FAILED: could not create the env: "
            "RuntimeError: the simulator licence has expired") in done.stdout
    assert ("sloppy (Sloppy-v0, plugin exploding-env): FAILED: AssertionError: The first element returned by "
            "`env.reset()` is not within the observation space.") in done.stdout
    assert ("cartpole (CartPole-v1, plugin classic-envs): passed with 2 warnings\n"
            "  - A Box observation space minimum value is -infinity. This is probably too low.\n") in done.stdout
    assert "long-cartpole (LongCartPole-v3, plugin good): passed" in done.stdout
    assert "Traceback" not in done.stderr


def test_using_the_broken_env_is_a_one_line_error(site):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginLoadWarning)
        zoo.plugin_loader.reload_plugins()
    with pytest.raises(ZooError, match=r"^env 'exploding' \(plugin exploding-env\) could not be created: "
                                       r"RuntimeError: the simulator licence has expired$"):
        zoo.make_agent("reinforce", "exploding")
    with pytest.raises(ZooError, match=r"^env 'exploding' \(plugin exploding-env\) could not be created"):
        zoo.evaluate(zoo.make_agent("hardcoded", "cartpole"), "exploding", episodes=1)


def test_a_command_that_raises_at_registration_and_one_that_shadows_a_builtin(site):
    loaded, _ = load()
    cli = typer.Typer()

    @cli.command()
    def train():
        pass

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded.register_commands(cli)
    assert loaded.plugin("bad-command").error == "ValueError: cannot build my command"
    assert loaded.plugin("shadowing-command").error == (
        "command 'train' from plugin 'shadowing-command' is already registered by 'the zoo'")
    assert [str(w.message) for w in caught] == [
        "plugin 'bad-command' (zoo-test-plugins) failed to add its commands: ValueError: cannot build my command",
        "plugin 'shadowing-command' (zoo-test-plugins) failed to add its commands: command 'train' from plugin "
        "'shadowing-command' is already registered by 'the zoo'",
    ]
    names = [c.name or c.callback.__name__ for c in cli.registered_commands]
    assert names == ["train", "hello-plugin"]  # the half-added command was taken back
    assert loaded.plugin("good-command").commands == ["hello-plugin"]
    assert loaded.plugin("bad-command").agents == ["bad-command-agent"]  # registered before the failure
    loaded.register_commands(cli)  # idempotent
    assert len(cli.registered_commands) == 2
    assert CliRunner().invoke(cli, ["hello-plugin", "--name", "you"]).stdout == "hello you\n"


def test_the_cli_reports_each_broken_plugin_in_one_warning_line_and_keeps_working(site, run_zoo):
    done = run_zoo("list")
    assert done.returncode == 0, done.stderr
    warning_lines = [line for line in done.stderr.splitlines() if line.startswith("warning: plugin ")]
    for name in BROKEN:
        assert sum(f"plugin '{name}'" in line for line in warning_lines) == 1, (name, done.stderr)
        assert f"plugin {name} (zoo-test-plugins) failed" in done.stdout
    assert len(done.stderr.splitlines()) == len(warning_lines)  # nothing else: no traceback
    assert "long-cartpole" in done.stdout and "exploding" in done.stdout
    # Error texts are printed as they are, never read as rich markup.
    assert "failed to load: ImportError: needs [bold]zoo-test[extra][/bold]" in done.stdout
    assert "failed to load: ImportError: needs [bold]zoo-test[extra][/bold]" in done.stderr
    assert "failed: ImportError: needs [bold]zoo-test[extra][/bold]" in run_zoo("plugins").stdout

    plugins = {p["name"]: p for p in json.loads(run_zoo("plugins", "--json").stdout)["plugins"]}
    assert plugins["wrong-signature"]["error"].startswith("hook register_agents(reg, cli)")
    assert plugins["good-command"]["commands"] == ["hello-plugin"]
    assert plugins["bad-command"]["error"] == "ValueError: cannot build my command"

    assert run_zoo("hello-plugin", "--name", "cli").stdout == "hello cli\n"
    evaluated = run_zoo("eval", "hardcoded", "cartpole", "--episodes", "2", "--json")
    assert evaluated.returncode == 0 and json.loads(evaluated.stdout)["mean"] == 500.0


# -- switches ----------------------------------------------------------------------------------

def test_zoo_plugins_loads_only_the_named_plugins(site, monkeypatch):
    monkeypatch.setenv("ZOO_PLUGINS", "good, classic-envs")
    loaded, messages = load()
    assert [p.name for p in loaded.plugins] == ["classic-envs", "good"]
    assert messages == []
    assert "hardcoded" not in loaded.agents  # the built-in agents are a plugin too
    monkeypatch.setenv("ZOO_PLUGINS", "good,clasic-envs")
    loaded, messages = load()
    assert len(messages) == 1 and messages[0].startswith(
        "ZOO_PLUGINS names 'clasic-envs', which is not an installed plugin: did you mean 'classic-envs'")


def test_zoo_block_plugins_blocks_the_named_plugins(site, monkeypatch, run_zoo):
    monkeypatch.setenv("ZOO_BLOCK_PLUGINS", ",".join(BROKEN))
    loaded, messages = load()
    assert messages == [] and errors(loaded) == {}
    assert not {p.name for p in loaded.plugins} & set(BROKEN)
    assert "long-cartpole" in loaded.envs
    done = run_zoo("list")
    assert done.returncode == 0 and done.stderr == ""


def test_zoo_strict_plugins_makes_a_load_error_fatal(site, monkeypatch, run_zoo):
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    with pytest.raises(ZooError, match=r"plugin 'duplicate' \(zoo-test-plugins\) failed to load: .*"
                                       r"ZOO_STRICT_PLUGINS is set"):
        discover_plugins()
    done = run_zoo("list")
    assert done.returncode == 2
    assert done.stderr.startswith("error: plugin 'duplicate'") and len(done.stderr.splitlines()) == 1
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "0")
    assert errors(load()[0])
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    monkeypatch.setenv("ZOO_BLOCK_PLUGINS", ",".join(BROKEN))
    assert errors(load()[0]) == {}  # strict with only working plugins: loads normally


# -- the hooks' contracts (tests/test_docs.py checks each hook has a test named after it) --------

def ep(name: str, module: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=module, group="agent_zoo")


def test_hook_register_envs(site):
    loaded = discover_plugins([ep("good", module_name("good"))])
    entry = loaded.envs.get("LongCartPole-v3")
    assert (entry.name, entry.plugin, loaded.envs.get("long-cartpole")) == ("long-cartpole", "good", entry)
    made = gymnasium.make("LongCartPole-v3")
    assert made.spec.max_episode_steps == 700
    made.close()
    assert entry.observation_space.shape == (4,)


def test_hook_register_agents(site):
    loaded = discover_plugins([ep("good", module_name("good")), ep("builtin-agents", "zoo.agents.plugin")])
    assert load_agent_class(loaded.agents.get("same-hardcoded")).__name__ == "Hardcoded"
    assert loaded.plugin("good").agents == ["same-hardcoded"]


LINEAR_FORMAT = """
    import numpy as np
    from zoo import hookimpl

    class Linear:
        def __init__(self, weights):
            self.weights = np.asarray(weights, dtype=np.float64)

        def predict(self, observation, state=None, episode_start=None, deterministic=False):
            return (np.asarray(observation) @ self.weights > 0).astype(np.int64), state

    def detect(files):
        return "linear-policy.json" in files

    def load(repo):
        from zoo import HubPolicy

        data = repo.read_json("linear-policy.json")
        env = repo.pick_env(data.get("env"), what="the linear policy")
        return HubPolicy(Linear(data["weights"]), env, f"a linear policy from {repo.label}")

    @hookimpl
    def register_hub_formats(registry):
        registry.add_format("linear-json", detect=detect, load=load, description="linear-policy.json")
"""


def test_hook_register_hub_formats(tmp_path, monkeypatch, hub, hub_repo_id, hf_home, on_path, write_distribution):
    from zoo.cli import app

    root = write_distribution(tmp_path / "site", "zoo-linear-format", "1.0", {"tp_linear_format": LINEAR_FORMAT},
                              {"linear-format": "tp_linear_format"})
    weights = [0.05, 0.3, 10.0, 2.0]  # the PD controller of the cartpole plugin: holds the pole
    hub.seed_repo(hub_repo_id, {"linear-policy.json": json.dumps({"env": "CartPole-v1", "weights": weights})})
    runner = CliRunner()
    monkeypatch.setattr(zoo.plugin_loader, "_loaded", None)
    refused = runner.invoke(app, ["eval", "--from-hub", hub_repo_id, "--episodes", "2"])
    assert refused.exit_code == 2
    assert "no model the zoo can load" in refused.output and "linear-policy.json" in refused.output
    monkeypatch.setattr(zoo.plugin_loader, "_loaded", None)
    with on_path(root):
        assert zoo.plugin_loader.loaded_plugins().plugin("linear-format").hub_formats == ["linear-json"]
        result = runner.invoke(app, ["eval", "--from-hub", hub_repo_id, "--episodes", "3", "--json"])
    assert result.exit_code == 0, result.output
    evaluated = json.loads(result.output)
    assert evaluated["source"].startswith(f"a linear policy from {hub_repo_id}@")
    assert (evaluated["env"], evaluated["returns"]) == ("cartpole", [500.0] * 3)


def test_registration_errors_are_one_line_zoo_errors():
    from zoo.registration import AgentRegistry, EnvRegistry

    envs, agents = EnvRegistry(), AgentRegistry()
    cases = [
        (lambda: envs.add_env("x", "not a valid id!", entry_point="my.pkg:Env"),
         "'not a valid id!' is not a valid gymnasium id"),
        (lambda: envs.add_env("x", "CartPole-v1", entry_point="my.pkg:Env"),
         "gymnasium id 'CartPole-v1' is already registered with gymnasium for another env"),
        (lambda: envs.add_env("x", "NoSuchEnv-v0"), "gymnasium has no id 'NoSuchEnv-v0' and no entry_point"),
        (lambda: envs.add_env(" x", "CartPole-v1"), "must be a non-empty string"),
        (lambda: agents.add_agent("x", 42), "agent_class must be a class or a 'module:Class' string"),
    ]
    for call, message in cases:
        with pytest.raises(ZooError, match=message.replace("(", r"\(").replace(")", r"\)")):
            call()
    agents.add_agent("not-an-agent", "collections:OrderedDict")
    agents.add_agent("missing", "no_such_module_anywhere:Agent")
    agents._commit()
    with pytest.raises(ZooError, match="agent 'not-an-agent' .* not a subclass of zoo.Agent"):
        load_agent_class(agents.get("not-an-agent"))  # the class is loaded (and checked) when first asked for
    with pytest.raises(ZooError, match="agent 'missing' .* could not be loaded: ModuleNotFoundError"):
        load_agent_class(agents.get("missing"))


def test_two_distributions_with_the_same_plugin_name(tmp_path, on_path, write_distribution):
    first = write_distribution(tmp_path / "a", "zoo-first", "1.0", {"first_mod": GOOD}, {"samename": "first_mod"})
    second = write_distribution(tmp_path / "b", "zoo-second", "1.0", {"second_mod": GOOD},
                                {"samename": "second_mod"})
    with on_path(first), on_path(second), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = discover_plugins()
    infos = [p for p in loaded.plugins if p.name == "samename"]
    assert len(infos) == 2 and infos[0].error is None
    assert "plugin name 'samename' is already taken by" in infos[1].error
    assert "long-cartpole" in loaded.envs


def test_an_earlier_copy_of_a_distribution_on_the_path_hides_a_later_one(tmp_path, on_path, write_distribution):
    """As importlib.metadata's entry_points() does: names compare normalised ("Zoo.Twice" is
    "zoo-twice"), and the copy first on sys.path is the one installed."""
    old = write_distribution(tmp_path / "old", "zoo-twice", "1.0", {"twice_old": GOOD}, {"twice-old": "twice_old"})
    new = write_distribution(tmp_path / "new", "Zoo.Twice", "2.0", {"twice_new": GOOD}, {"twice-new": "twice_new"})
    with on_path(old), on_path(new):  # new first
        assert {ep.name for ep in metadata.entry_points(group="agent_zoo")} >= {"twice-new"}
        assert "twice-old" not in {ep.name for ep in metadata.entry_points(group="agent_zoo")}
        loaded, messages = load()
    assert not messages
    assert [(p.name, p.distribution, p.version) for p in loaded.plugins if p.name.startswith("twice")] == [
        ("twice-new", "Zoo.Twice", "2.0")]


def test_a_distribution_with_a_malformed_entry_points_file(tmp_path, on_path, write_distribution):
    root = write_distribution(tmp_path / "site", "zoo-malformed", "0.3", {"malformed_mod": GOOD}, {"x": "y"})
    (next(root.glob("*.dist-info")) / "entry_points.txt").write_text("[agent_zoo]\nno equals sign here\n")
    with on_path(root):
        with pytest.raises(TypeError):  # what importlib.metadata does to every caller
            metadata.entry_points(group="agent_zoo")
        loaded, messages = load()
    assert loaded.plugin("zoo-malformed").error.startswith("its entry_points.txt cannot be read (TypeError")
    assert sum("zoo-malformed" in m for m in messages) == 1
    assert "cartpole" in loaded.envs and "reinforce" in loaded.agents


# -- plugin API versions -------------------------------------------------------------------------

def api_plugin(declared: str | None, env: str) -> str:
    declaration = "" if declared is None else f"zoo_plugin_api = {declared!r}\n"
    return declaration + f"""
from zoo import hookimpl

@hookimpl
def register_envs(registry):
    registry.add_env(name={env!r}, gym_id="{env.title().replace('-', '')}-v0",
                     entry_point="gymnasium.envs.classic_control.cartpole:CartPoleEnv")
"""


@pytest.fixture
def api_site(tmp_path, monkeypatch, on_path, write_distribution):
    """Plugins that declare various plugin API versions, in distribution "zoo-api" 2.0."""
    plugins = {"future": api_plugin(">=2,<3", "future-env"), "current": api_plugin(f">={zoo.PLUGIN_API_VERSION},<2",
                                                                                  "current-env"),
               "silent": api_plugin(None, "silent-env"), "garbled": api_plugin("two point oh", "garbled-env")}
    root = write_distribution(tmp_path / "api", "zoo-api", "2.0", {f"api_{name}": src for name, src in plugins.items()},
                              {name: f"api_{name}" for name in plugins})
    with installed(root, monkeypatch, on_path):
        yield root


def test_a_plugin_for_another_plugin_api_is_refused_in_one_line_and_the_rest_works(api_site):
    loaded, messages = load()
    refused = f"plugin 'future' (zoo-api 2.0) needs zoo plugin API >=2,<3; this zoo provides {zoo.PLUGIN_API_VERSION}"
    assert [m for m in messages if "'future'" in m] == [refused]
    future = loaded.plugin("future")
    assert (future.api, future.error, future.envs) == (">=2,<3", refused.split(") ", 1)[1], [])
    assert "FutureEnv-v0" not in loaded.envs and "future-env" not in loaded.envs
    current, silent = loaded.plugin("current"), loaded.plugin("silent")
    assert (current.api, current.error, current.envs) == (f">={zoo.PLUGIN_API_VERSION},<2", None, ["current-env"])
    assert (silent.api, silent.error, silent.envs) == (None, None, ["silent-env"])  # taken as written for 1.x
    garbled = loaded.plugin("garbled")
    assert garbled.error == ("its zoo_plugin_api = 'two point oh' is not a version specifier (PEP 440); "
                             f"write e.g. zoo_plugin_api = '>={zoo.PLUGIN_API_VERSION},<2'")
    assert "cartpole" in loaded.envs and "reinforce" in loaded.agents


def test_zoo_plugins_shows_the_api_versions_and_strict_mode_refuses_an_incompatible_plugin(api_site, run_zoo,
                                                                                           monkeypatch):
    listed = json.loads(run_zoo("plugins", "--json").stdout)
    assert listed["plugin_api"] == zoo.PLUGIN_API_VERSION
    plugins = {p["name"]: p for p in listed["plugins"]}
    assert (plugins["future"]["api"], plugins["silent"]["api"], plugins["builtin-agents"]["api"]) == (
        ">=2,<3", None, None)
    assert plugins["future"]["error"].startswith("needs zoo plugin API >=2,<3")
    table = run_zoo("plugins")
    assert table.returncode == 0
    assert (f"This zoo provides plugin API {zoo.PLUGIN_API_VERSION}; a plugin that declares no zoo_plugin_api is "
            "taken as written for >=1.0,<2.") in table.stdout
    assert "plugin future (zoo-api) declares plugin API >=2,<3" in table.stdout
    assert f"plugin current (zoo-api) declares plugin API >={zoo.PLUGIN_API_VERSION},<2" in table.stdout
    assert "plugin silent (zoo-api) declares" not in table.stdout
    warnings_ = [line for line in table.stderr.splitlines() if "'future'" in line]
    assert warnings_ == [f"warning: plugin 'future' (zoo-api 2.0) needs zoo plugin API >=2,<3; this zoo provides "
                         f"{zoo.PLUGIN_API_VERSION}"]

    monkeypatch.setenv("ZOO_BLOCK_PLUGINS", "garbled")
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    with pytest.raises(ZooError, match=r"^plugin 'future' \(zoo-api 2.0\) needs zoo plugin API >=2,<3; "
                                       r".*ZOO_STRICT_PLUGINS is set\)$"):
        discover_plugins()
    done = run_zoo("list")
    assert done.returncode == 2 and done.stderr.startswith("error: plugin 'future' (zoo-api 2.0) needs zoo plugin API")
    monkeypatch.setenv("ZOO_BLOCK_PLUGINS", "garbled,future")
    assert errors(load()[0]) == {}


def test_a_plugin_that_uses_old_import_paths_works_and_zoo_plugins_names_them(tmp_path, on_path, write_distribution,
                                                                               monkeypatch):
    old_style = """
        from zoo.agent import FixedPolicy
        from zoo.hookspecs import hookimpl

        class Left(FixedPolicy):
            def act(self, observations):
                return observations[:, 0] * 0

        @hookimpl
        def register_envs(registry):
            registry.add_env(name="old-style", gym_id="OldStyle-v0", hardcoded={"default": Left},
                             entry_point="gymnasium.envs.classic_control.cartpole:CartPoleEnv")
    """
    root = write_distribution(tmp_path / "old", "zoo-old-style", "0.1", {"tp_old_style": old_style},
                              {"old-style": "tp_old_style"})
    monkeypatch.setattr(zoo.plugin_loader, "_loaded", None)
    with on_path(root), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = discover_plugins()
    info = loaded.plugin("old-style")
    assert (info.error, info.envs) == (None, ["old-style"])
    assert info.deprecations == ["zoo.agent.FixedPolicy: use zoo.FixedPolicy",
                                 "zoo.hookspecs.hookimpl: use zoo.hookimpl"]
    assert sum(issubclass(w.category, DeprecationWarning) and "zoo.agent.FixedPolicy" in str(w.message)
               for w in caught) == 1
    assert all(p.deprecations == [] for p in loaded.plugins if p.distribution == "rl-agent-zoo")
