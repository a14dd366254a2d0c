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


def test_the_import_contracts_cover_every_room_of_the_core():
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    by_name = {c["name"]: c for c in contracts}
    no_builtins = next(c for name, c in by_name.items() if name.startswith("The core imports no built-in"))
    assert set(no_builtins["source_modules"]) == core_modules()
    assert set(no_builtins["forbidden_modules"]) >= {"zoo.agents", "zoo.envs", "zoo_catch", "zoo_cem"}
    no_cli = next(c for name, c in by_name.items() if name.startswith("Nothing below the command line"))
    assert set(no_cli["source_modules"]) == (core_modules() - {"zoo.cli"}) | {"zoo.agents", "zoo.envs"}
    independent = next(c for c in contracts if c["type"] == "independence")
    assert set(independent["modules"]) == {"zoo.agents", "zoo.envs"}


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
