"""Fixtures that install the example third-party plugins (``plugins/*``) for real.

``example_plugins_site`` (session): ``pip install --no-deps --target SITE`` of each example
plugin, from a copy of its source (a build writes ``build/`` and ``*.egg-info`` next to the
sources, which must not land in the working tree). pip writes
each package and its ``*.dist-info`` with ``entry_points.txt``: the zoo finds the plugins
only through their ``agent_zoo`` entry points, exactly as after ``pip install ./plugins/NAME``.

``example_plugins`` (module): SITE first on ``sys.path`` and ``PYTHONPATH`` (for ``zoo``
subprocesses) and plugins rediscovered; undone after the module, so other test modules see
only the built-in plugins.

``run_zoo`` (session): the function ``run_zoo(*args, env=None, timeout=180)``, ``zoo ARGS`` in a
subprocess as a user runs it (the installed console script).
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = {"catch": REPO / "plugins" / "zoo-catch", "cem": REPO / "plugins" / "zoo-cem"}
EXAMPLE_MODULES = ("zoo_catch", "zoo_cem")


def pip_install_target(sources: list[Path], target: Path) -> None:
    """Install the projects at ``sources`` into ``target`` with pip, without their dependencies.

    First offline with this environment's setuptools (fast); a fresh venv's bundled setuptools
    may be too old to build a wheel without the ``wheel`` package, and then pip builds in
    isolation, fetching setuptools from the index."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
               *map(str, sources)]
    offline = subprocess.run([*command, "--no-build-isolation", "--no-index"], capture_output=True, text=True,
                             timeout=300)
    if offline.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def example_plugins_site(tmp_path_factory) -> Path:
    sources = tmp_path_factory.mktemp("example-plugin-sources")
    copies = []
    for source in EXAMPLES.values():
        copy = sources / source.name
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        copies.append(copy)
    site = tmp_path_factory.mktemp("example-plugin-site")
    pip_install_target(copies, site)
    return site


def forget_modules(prefixes: tuple[str, ...]) -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in prefixes:
            del sys.modules[name]


@pytest.fixture(scope="module")
def example_plugins(example_plugins_site):
    """The example plugins installed and discovered; yields the site folder."""
    from zoo.plugin_loader import reload_plugins

    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(example_plugins_site))
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(example_plugins_site),
                                                             os.environ.get("PYTHONPATH")])))
        importlib.invalidate_caches()
        reload_plugins()
        yield example_plugins_site
    forget_modules(EXAMPLE_MODULES)
    importlib.invalidate_caches()
    reload_plugins()


def zoo_command() -> list[str]:
    """The installed ``zoo`` console script next to this Python (or its entry function)."""
    script = shutil.which("zoo", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-c", "from zoo.cli import main; main()"]


def _run_zoo(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """``zoo ARGS`` in a subprocess, as a user runs it."""
    return subprocess.run([*zoo_command(), *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {}), "COLUMNS": "200"})


@pytest.fixture(scope="session")
def run_zoo():
    """``run_zoo(*args, env=None, timeout=180) -> subprocess.CompletedProcess``: ``zoo ARGS`` in a subprocess."""
    return _run_zoo
