"""A plugin written exactly as the plugin guide told authors at commit 19e8264 (``from zoo.agent
import FixedPolicy``, ``from zoo.hookspecs import hookimpl``, ``from zoo.testing import ...``)
still installs and works with every command, and ``zoo plugins`` tells its author which old
import paths it uses.

The guide of that commit is kept byte for byte in tests/data/old-docs/; its two example
packages (the corridor env and the random-search agent, each a ``pyproject.toml`` and a module)
are taken from it as written and installed with pip, as a user would.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from support.plugins import pip_install_target

GUIDE = Path(__file__).resolve().parent / "data" / "old-docs" / "plugins-19e8264.md"
#: ``git show 19e8264:docs/plugins.md | sha256sum``: the copy is the guide as it was.
GUIDE_SHA256 = "4d7fffd213e519330ee09f515469830a7f9065a99f3df833c3c7e9a39d328004"


def code_blocks() -> list[tuple[str, str]]:
    """(file name or "", source) of every fenced toml/python block of the old guide, in order."""
    blocks = []
    for source in re.findall(r"^```(?:python|toml)\n(.*?)^```", GUIDE.read_text(), flags=re.M | re.S):
        first = source.splitlines()[0]
        blocks.append((first.removeprefix("# file: ").strip() if first.startswith("# file: ") else "", source))
    return blocks


def test_the_old_guide_is_the_one_of_19e8264():
    assert hashlib.sha256(GUIDE.read_bytes()).hexdigest() == GUIDE_SHA256


@pytest.fixture(scope="module")
def old_plugins(tmp_path_factory):
    """The guide's two packages written out as it gives them and pip-installed into a site
    folder; yields the environment for ``zoo`` subprocesses that see them."""
    sources = tmp_path_factory.mktemp("old-plugin-sources")
    projects: list[Path] = []
    for name, source in code_blocks():
        if name == "pyproject.toml":
            projects.append(sources / tomllib.loads(source)["project"]["name"])
            projects[-1].mkdir()
        if name and "/" not in name:
            (projects[-1] / name).write_text(source)
    assert [p.name for p in projects] == ["zoo-corridor", "zoo-random-search"]
    assert "from zoo.agent import FixedPolicy" in (projects[0] / "zoo_corridor.py").read_text()
    site = tmp_path_factory.mktemp("old-plugin-site")
    pip_install_target(projects, site)
    yield {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
           "COLUMNS": "200"}


def zoo_command() -> list[str]:
    script = shutil.which("zoo", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-c", "from zoo.cli import main; main()"]


def zoo(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([*zoo_command(), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    assert done.returncode == 0, done.stderr
    return done


def test_zoo_plugins_lists_them_and_the_old_paths_they_use(old_plugins):
    listed = json.loads(zoo(old_plugins, "plugins", "--json").stdout)
    plugins = {p["name"]: p for p in listed["plugins"]}
    corridor, search = plugins["corridor"], plugins["random-search"]
    assert (corridor["distribution"], corridor["error"], corridor["envs"]) == ("zoo-corridor", None, ["corridor"])
    assert (search["distribution"], search["error"], search["agents"]) == ("zoo-random-search", None, ["random-search"])
    assert corridor["api"] is None  # declares nothing: taken as written for 1.x
    assert corridor["deprecations"] == ["zoo.agent.FixedPolicy: use zoo.FixedPolicy",
                                        "zoo.hookspecs.hookimpl: use zoo.hookimpl"]
    assert search["deprecations"] == ["zoo.agent.Agent: use zoo.Agent", "zoo.agent.Iteration: use zoo.Iteration",
                                      "zoo.hookspecs.hookimpl: use zoo.hookimpl"]
    table = zoo(old_plugins, "plugins")
    assert "plugin corridor (zoo-corridor) uses deprecated zoo.agent.FixedPolicy: use zoo.FixedPolicy" in table.stdout
    assert table.stderr == ""  # a user of the plugin is not bothered: the author sees it here


def test_zoo_check_and_zoo_eval_hardcoded_on_the_old_env_plugin(old_plugins):
    assert zoo(old_plugins, "check", "corridor").stdout.startswith("corridor (zoo_corridor/Corridor-v0, plugin "
                                                                   "corridor): passed")
    result = json.loads(zoo(old_plugins, "eval", "hardcoded", "corridor", "--episodes", "3", "--json").stdout)
    assert round(result["mean"], 2) == 0.97  # as the old guide says: four steps right


def test_zoo_train_the_old_agent_plugin_and_a_built_in_agent_on_the_old_env(old_plugins, tmp_path):
    zoo(old_plugins, "train", "random-search", "cartpole", "--steps", "3000", "--out", str(tmp_path / "rs"))
    evaluated = json.loads(zoo(old_plugins, "eval", "random-search", "cartpole", "--checkpoint", str(tmp_path / "rs"),
                               "--episodes", "3", "--json").stdout)
    assert evaluated["episodes"] == 3
    zoo(old_plugins, "train", "reinforce", "corridor", "--steps", "2000", "--out", str(tmp_path / "reinforce"))
    assert (tmp_path / "reinforce" / "returns.csv").is_file()


def test_the_old_guides_test_file_and_loader_snippet_run(old_plugins, tmp_path):
    blocks = dict(code_blocks())
    # Shown: the old paths the old code uses. An error: an old path used by the zoo's own code.
    runner = (f"import pathlib, warnings\n"
              f"warnings.filterwarnings('always', message=r'zoo\\.', category=DeprecationWarning)\n"
              f"warnings.filterwarnings('error', category=DeprecationWarning, module=r'zoo(\\.|$)')\n"
              f"namespace = {{}}\n"
              f"exec(compile({blocks['tests/test_plugin.py']!r}, 'tests/test_plugin.py', 'exec'), namespace)\n"
              f"namespace['test_plugin_loads_and_its_env_passes_the_checker']()\n"
              f"namespace['test_agent_trains_checkpoints_and_evaluates'](pathlib.Path({str(tmp_path)!r}))\n"
              f"exec(compile({blocks['']!r}, 'docs/plugins.md', 'exec'), {{}})\n"
              f"print('ran')\n")
    done = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True, env=old_plugins,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ran")
    for old, new in (("zoo.testing.check_plugin", "zoo.check_plugin"),
                     ("zoo.plugins.discover", "zoo.discover_plugins")):
        assert f"{old} is deprecated since agent-zoo 0.2.0 and will be removed in 1.0: use {new}" in done.stderr
