"""The house keeps its shape: the Python API, the one way errors are printed, and import
contracts that cover every room of the core (CI checks the contracts with `.ci/lint`)."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import zoo

REPO = Path(__file__).resolve().parent.parent


def test_the_python_api_answers_after_plugins_load():
    envs = zoo.list_envs()  # loads the plugins
    assert {e.name for e in envs} >= {"cartpole", "mountaincar-continuous", "pixelcopter"}
    plugins = zoo.plugins()  # once a function shadowed by a submodule of the same name
    assert {p.name for p in plugins} >= {"builtin-agents", "classic-envs", "sb3"}
    assert callable(zoo.plugins)


def test_dir_lists_the_lazy_names_and_help_shows_real_keyword_arguments():
    assert set(zoo.__all__) <= set(dir(zoo))
    for name in zoo.__all__:
        assert getattr(zoo, name) is not None
    train = inspect.signature(zoo.train).parameters
    assert {"seed", "steps", "episodes", "out", "overrides", "progress"} <= set(train)
    assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in train.values())
    resume = inspect.signature(zoo.resume).parameters
    assert {"steps", "episodes", "progress"} <= set(resume)
    assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in resume.values())


def zoo_process(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zoo.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_an_error_is_one_escaped_line_and_zoo_debug_adds_its_traceback():
    plain = zoo_process("eval", "hardcoded", "[/x]", ZOO_DEBUG="")
    assert plain.returncode == 2
    assert plain.stderr.strip().splitlines() == [plain.stderr.strip()]
    assert plain.stderr.startswith("error: unknown env '[/x]'")
    debug = zoo_process("eval", "hardcoded", "[/x]", ZOO_DEBUG="1")
    assert debug.returncode == 2
    assert "Traceback (most recent call last)" in debug.stderr and "ZooError" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == plain.stderr.strip()


def core_modules() -> set[str]:
    """Every module and package directly under zoo/, as the installed names."""
    names = {f"zoo.{p.stem}" for p in (REPO / "zoo").glob("*.py") if p.stem != "__init__"}
    names |= {f"zoo.{p.name}" for p in (REPO / "zoo").iterdir() if (p / "__init__.py").is_file()}
    return names


#: Modules of zoo/tools/ that the tools share, rather than tools of their own.
SHARED_BY_TOOLS = {"zoo.tools.statistics"}


def test_the_import_contracts_cover_every_room_of_the_core():
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert contracts["exclude_type_checking_imports"] is False  # a late import is still an import
    by_name = {c["name"]: c for c in contracts["contracts"]}

    def named(start: str) -> dict:
        return next(c for name, c in by_name.items() if name.startswith(start))

    no_builtins = named("The core imports no built-in")
    assert set(no_builtins["source_modules"]) == core_modules()
    assert set(no_builtins["forbidden_modules"]) >= {"zoo.agents", "zoo.envs", "zoo_catch", "zoo_cem"}
    no_cli = named("Nothing below the command line")
    assert set(no_cli["source_modules"]) == (core_modules() - {"zoo.cli"}) | {"zoo.agents", "zoo.envs"}
    independent = named("Built-in envs and agents do not import each other")
    assert set(independent["modules"]) == {"zoo.agents", "zoo.envs"}
    public_only = named("Plugins, built-in or not, use only the public API")
    assert set(public_only["source_modules"]) == {"zoo.agents", "zoo.envs", "zoo_catch", "zoo_cem"}
    assert set(public_only["forbidden_modules"]) == core_modules()
    layers = named("Features in layers over the core")
    placed = {f"zoo.{name.strip()}" for layer in layers["layers"] for name in layer.replace("|", ":").split(":")}
    assert layers["containers"] == ["zoo"] and layers["exhaustive"] is True
    assert placed == core_modules()
    assert layers["layers"][:5] == ["cli", "tools", "policy_sources | execution", "hub", "training"]
    tools = named("The tools do not import each other")
    in_tools = {f"zoo.tools.{p.stem}" for p in (REPO / "zoo" / "tools").glob("*.py") if p.stem != "__init__"}
    in_tools |= {f"zoo.tools.{p.name}" for p in (REPO / "zoo" / "tools").iterdir() if (p / "__init__.py").is_file()}
    assert set(tools["modules"]) == in_tools - SHARED_BY_TOOLS
    acyclic = named("No import cycles")
    assert acyclic["type"] == "acyclic_siblings" and "zoo" in acyclic["ancestors"]


def test_no_two_modules_of_the_zoo_import_each_other():
    """The module graph of zoo/ (imports inside functions and under TYPE_CHECKING included) has
    no cycle; `.ci/lint` checks the same, with the built-in plugins, package by package."""
    import grimp

    graph = grimp.build_graph("zoo", exclude_type_checking_imports=False)
    modules = {m for m in graph.modules if m == "zoo" or m.startswith("zoo.")}
    imports = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    assert imports["zoo.factory"] and imports["zoo"]  # the graph is the real one

    # Tarjan's strongly connected components; any with two modules or more is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in imports[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while not component or component[-1] != module:
                component.append(stack.pop())
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    assert circles == []


def test_tables_on_a_narrow_pipe_keep_every_name_whole():
    import json

    for command in ("list", "pretrained"):
        narrow = zoo_process(command, COLUMNS="80")
        assert narrow.returncode == 0, narrow.stderr
        assert "…" not in narrow.stdout
        listed = json.loads(zoo_process(command, "--json").stdout)
        rows = listed["envs"] + listed["agents"] if command == "list" else listed
        shown = ("name", "gym_id") if command == "list" else ("agent", "gym_id")
        for row in rows:
            for key in shown:
                if key in row:
                    assert row[key] in narrow.stdout, (command, row[key])
            for variant in row.get("hardcoded", []):
                assert variant in narrow.stdout
