"""docs/plugins.md against the code: every hook documented with its exact signature, parameters
and the plugin API version that added it, and tested by name; the switches and helpers
documented; the guide's code importing only from ``zoo``; and the minimal plugins in the guide
installed and run as written, with every other snippet of it executed."""

from __future__ import annotations

import ast
import inspect
import re
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest

import zoo
import zoo.plugin_loader
from zoo import hookspecs
from zoo.plugin_api import PLUGIN_API_VERSION, PROJECT_NAME

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "plugins.md"
TEXT = GUIDE.read_text()


def hook_specs() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in vars(hookspecs).items()
            if callable(fn) and hasattr(fn, PROJECT_NAME + "_spec")}


def signature_text(name: str, signature: inspect.Signature) -> str:
    params = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return f"{name}({params}) -> {signature.return_annotation}"


def section(heading: str) -> str:
    start = TEXT.index(heading) + len(heading)
    following = [i for i in (TEXT.find("\n### ", start), TEXT.find("\n## ", start)) if i != -1]
    return TEXT[start:min(following, default=len(TEXT))]


def test_the_hooks_are_the_ones_the_loader_knows():
    assert set(hook_specs()) == {"register_envs", "register_agents", "register_hub_formats", "register_commands"}


@pytest.mark.parametrize("hook", sorted(hook_specs()))
def test_every_hook_is_documented_with_its_exact_signature_and_parameters(hook):
    signature = hook_specs()[hook]
    heading = f"### `{signature_text(hook, signature)}`"
    assert heading in TEXT, f"docs/plugins.md has no heading {heading}"
    body = section(heading)
    docstring = inspect.getdoc(getattr(hookspecs, hook))
    for param in signature.parameters:
        assert f"- `{param}`:" in body, f"{hook}: parameter {param!r} is not described in docs/plugins.md"
        assert f":param {param}:" in docstring, f"{hook}: parameter {param!r} has no :param: in hookspecs.py"


def since(text: str) -> str:
    found = re.search(r"Since plugin API (\d+\.\d+)\.", text)
    assert found, f"no 'Since plugin API X.Y.' in {text[:80]!r}"
    return found.group(1)


@pytest.mark.parametrize("hook", sorted(hook_specs()))
def test_every_hook_says_which_plugin_api_version_added_it(hook):
    heading = f"### `{signature_text(hook, hook_specs()[hook])}`"
    version = since(inspect.getdoc(getattr(hookspecs, hook)))
    assert since(section(heading)) == version
    assert tuple(map(int, version.split("."))) <= tuple(map(int, PLUGIN_API_VERSION.split(".")))
    history = section("## Plugin API versions")
    row = next(line for line in history.splitlines() if line.startswith(f"| {version} |"))
    assert f"`{hook}`" in row, f"the version table's row for {version} does not name {hook}"


def test_no_hook_is_documented_that_does_not_exist():
    documented = re.findall(r"^### `(\w+)\(", TEXT, flags=re.M)
    assert sorted(documented) == sorted(hook_specs())


def test_every_hook_has_a_test_named_after_it():
    names = set()
    for path in (REPO / "tests").glob("test_plugins*.py"):
        names |= {node.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.FunctionDef)}
    missing = [hook for hook in hook_specs() if f"test_hook_{hook}" not in names]
    assert not missing, f"hooks without a test_hook_<name> in tests/test_plugins*.py: {missing}"


def test_switches_and_testing_helpers_are_documented():
    for var in (zoo.plugin_loader.ONLY_VAR, zoo.plugin_loader.BLOCK_VAR, zoo.plugin_loader.STRICT_VAR):
        assert f"`{var}=" in TEXT
    for name in ("check_plugin", "check_env", "check_all_envs", "run_agent_smoke"):
        params = ", ".join(inspect.signature(getattr(zoo, name)).parameters)
        documented = re.search(rf"`zoo\.{name}\(([^)]*)\)", TEXT)
        assert documented, f"zoo.{name} is not documented"
        names = ", ".join(p.split("=")[0].strip() for p in documented.group(1).split(",") if p.strip() != "*")
        assert names == params, f"zoo.{name}: docs say ({names}), code says ({params})"
    assert "zoo plugins" in TEXT and "zoo check" in TEXT


def test_the_public_api_table_names_only_public_names_and_every_plugin_name():
    table = section("## The public API")
    named = set(re.findall(r"`(\w+)`", table.split("The rest of")[0]))
    assert named <= set(zoo.__all__), named - set(zoo.__all__)
    assert {"hookimpl", "Agent", "FixedPolicy", "EnvRegistry", "HubRepo", "ZooError", "check_plugin"} <= named


def test_plugins_depend_on_the_zoos_own_distribution():
    # Not a name someone else could publish: pip would fetch that instead of the zoo.
    from packaging.requirements import Requirement

    from zoo.versions import DISTRIBUTION

    projects = [tomllib.loads(source)["project"] for name, source in code_blocks() if name == "pyproject.toml"]
    projects += [tomllib.loads(path.read_text())["project"] for path in REPO.glob("plugins/*/pyproject.toml")]
    assert len(projects) == 4
    for project in projects:
        assert DISTRIBUTION in {Requirement(r).name for r in project["dependencies"]}, project["name"]


def test_the_guide_imports_only_from_zoo():
    for _, source in code_blocks():
        private = re.findall(r"^\s*(?:from zoo\.\w+|import zoo\.\w+)", source, flags=re.M)
        assert not private, f"docs/plugins.md imports a zoo submodule: {private}"


# -- the guide's minimal plugins, as written -----------------------------------------------------

def code_blocks() -> list[tuple[str, str]]:
    """(file name or "", source) of every fenced toml/python block, in order."""
    blocks = []
    for source in re.findall(r"^```(?:python|toml)\n(.*?)^```", TEXT, flags=re.M | re.S):
        first = source.splitlines()[0]
        blocks.append((first.removeprefix("# file: ").strip() if first.startswith("# file: ") else "", source))
    return blocks


def guide_packages() -> list[dict]:
    """Each pyproject.toml block with the Python modules that follow it."""
    packages: list[dict] = []
    for name, source in code_blocks():
        if name == "pyproject.toml":
            project = tomllib.loads(source)["project"]
            packages.append({"dist": project["name"], "version": project["version"], "modules": {},
                             "entry_points": project["entry-points"]["agent_zoo"]})
        elif name.endswith(".py") and "/" not in name:
            packages[-1]["modules"][name.removesuffix(".py")] = source
    return packages


@pytest.fixture
def guide_plugins(tmp_path, monkeypatch, on_path, write_distribution):
    packages = guide_packages()
    assert [p["dist"] for p in packages] == ["zoo-corridor", "zoo-random-search"]
    roots = [write_distribution(tmp_path / p["dist"], p["dist"], p["version"], p["modules"], p["entry_points"])
             for p in packages]
    monkeypatch.setattr(zoo.plugin_loader, "_loaded", None)  # restored afterwards
    with on_path(roots[0]), on_path(roots[1]), warnings.catch_warnings():
        warnings.simplefilter("ignore", zoo.plugin_loader.PluginLoadWarning)  # others' broken plugins
        zoo.plugin_loader.reload_plugins()
        yield


def test_the_guides_minimal_plugins_work_as_written(guide_plugins, tmp_path):
    loaded = zoo.plugin_loader.loaded_plugins()
    assert loaded.plugin("corridor").error is None and loaded.plugin("corridor").envs == ["corridor"]
    assert loaded.plugin("random-search").error is None
    assert loaded.plugin("random-search").agents == ["random-search"]

    assert (loaded.plugin("corridor").api, loaded.plugin("corridor").deprecations) == (">=1.2,<2", [])
    assert (loaded.plugin("random-search").api, loaded.plugin("random-search").deprecations) == (">=1.2,<2", [])
    check = zoo.check_env("corridor")
    assert check.passed and check.warnings == [], check.summary()
    hardcoded = zoo.evaluate(zoo.make_agent("hardcoded", "corridor"), "corridor", episodes=3)
    assert "mean return 0.97" in TEXT and round(hardcoded.mean, 2) == 0.97

    result = zoo.run_agent_smoke("random-search", "corridor", tmp_path / "smoke", steps=1_000)
    assert result.episodes == 3
    with pytest.raises(zoo.ZooError, match="random-search needs Discrete actions"):
        zoo.make_agent("random-search", "mountaincar-continuous")


def snippet(*words: str) -> dict:
    """Execute the one unnamed python block of the guide that holds every one of ``words``."""
    [source] = [source for name, source in code_blocks() if not name and all(w in source for w in words)]
    namespace: dict = {}
    exec(compile(source, "docs/plugins.md", "exec"), namespace)
    return namespace


def test_the_guides_plugin_test_file_and_snippets_run(guide_plugins, tmp_path):
    blocks = dict(code_blocks())
    namespace: dict = {}
    exec(compile(blocks["tests/test_plugin.py"], "tests/test_plugin.py", "exec"), namespace)
    namespace["test_plugin_loads_and_its_env_passes_the_checker"]()
    namespace["test_agent_trains_checkpoints_and_evaluates"](tmp_path)
    snippet("zoo.discover_plugins(")  # with hand-made entry points
    assert snippet("zoo_plugin_api =")["zoo_plugin_api"] == ">=1.2,<2"

    reader = snippet("read_foreign_config")["RandomSearch"]
    foreign = reader.read_foreign_config({"CartPole-v1": {"sigma": 0.3, "timesteps": 20000}}, zoo.env_entry("cartpole"))
    assert foreign == zoo.ForeignConfig({"step_size": 0.3}, {"steps": 20000}, "random-search file")
    assert reader.read_foreign_config({"n_timesteps": 5}, zoo.env_entry("cartpole")) is None

    hub_format = snippet("register_hub_formats")
    assert hub_format["detect"](["linear-policy.json", "README.md"]) and not hub_format["detect"](["model.zip"])
    registry = zoo.HubFormatRegistry()
    hub_format["register_hub_formats"](registry)
    assert [entry.name for entry in registry._pending] == ["linear-json"]
    policy = hub_format["LinearPolicy"]([[1.0, 0.0], [0.0, 1.0]])
    actions, _ = policy.predict(np.array([[2.0, 1.0], [0.0, 3.0]]))
    assert actions.tolist() == [0, 1]
