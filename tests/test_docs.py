"""docs/plugins.md against the code: every hook documented with its exact signature and
parameters and tested by name, the switches and helpers documented, and the minimal plugins
in the guide installed and run as written."""

from __future__ import annotations

import ast
import inspect
import re
import tomllib
import warnings
from pathlib import Path

import pytest

import zoo
import zoo.plugin_loader
import zoo.tools.testing
from zoo import hookspecs

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "plugins.md"
TEXT = GUIDE.read_text()


def hook_specs() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in vars(hookspecs).items()
            if callable(fn) and hasattr(fn, hookspecs.PROJECT_NAME + "_spec")}


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
    for name in zoo.tools.testing.__all__:
        obj = getattr(zoo.tools.testing, name)
        if inspect.isfunction(obj):
            params = ", ".join(str(p).split(":")[0].split("=")[0].strip()
                               for p in inspect.signature(obj).parameters.values())
            documented = re.search(rf"`{name}\(([^)]*)\)", TEXT)
            assert documented, f"zoo.tools.testing.{name} is not documented"
            names = ", ".join(p.split("=")[0].strip() for p in documented.group(1).split(",") if p.strip() != "*")
            assert names == params, f"zoo.tools.testing.{name}: docs say ({names}), code says ({params})"
    assert "zoo plugins" in TEXT and "zoo check" in TEXT


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

    check = zoo.tools.testing.check_env("corridor")
    assert check.passed and check.warnings == [], check.summary()
    hardcoded = zoo.evaluate(zoo.make_agent("hardcoded", "corridor"), "corridor", episodes=3)
    assert "mean return 0.97" in TEXT and round(hardcoded.mean, 2) == 0.97

    result = zoo.tools.testing.run_agent_smoke("random-search", "corridor", tmp_path / "smoke", steps=1_000)
    assert result.episodes == 3
    with pytest.raises(zoo.ZooError, match="random-search needs Discrete actions"):
        zoo.make_agent("random-search", "mountaincar-continuous")


def test_the_guides_plugin_test_file_and_snippets_run(guide_plugins, tmp_path):
    blocks = dict(code_blocks())
    namespace: dict = {}
    exec(compile(blocks["tests/test_plugin.py"], "tests/test_plugin.py", "exec"), namespace)
    namespace["test_plugin_loads_and_its_env_passes_the_checker"]()
    namespace["test_agent_trains_checkpoints_and_evaluates"](tmp_path)
    exec(compile(blocks[""], "docs/plugins.md", "exec"), {})  # discover() with hand-made entry points
