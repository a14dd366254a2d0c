"""Fixtures for tests that need a plugin installed as a real distribution.

A "distribution" here is a folder on ``sys.path`` holding a module and a ``*.dist-info``
folder with ``METADATA`` and ``entry_points.txt``: exactly what pip leaves behind, so
``importlib.metadata`` finds its entry points the way it finds any installed package's.

Fixtures (session-scoped, so fixtures of any scope may use them):

``write_distribution``
    The function ``write_distribution(root, dist_name, version, modules, entry_points) -> root``.
``on_path``
    The context manager ``on_path(root)``: ``root`` first on ``sys.path``, its modules forgotten afterwards.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest


def write_fake_distribution(root: Path, dist_name: str, version: str, modules: dict[str, str],
                       entry_points: dict[str, str]) -> Path:
    """Write a fake installed distribution under ``root``; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist_name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[agent_zoo]\n{lines}\n")
    return root


class OnPath:
    """Context manager: put ``root`` first on sys.path and forget its modules afterwards."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)

    def __enter__(self) -> None:
        sys.path.insert(0, self.root)

    def __exit__(self, *exc) -> None:
        sys.path.remove(self.root)
        for name, module in list(sys.modules.items()):
            if (getattr(module, "__file__", None) or "").startswith(self.root):
                del sys.modules[name]


@pytest.fixture(scope="session")
def write_distribution():
    """``write_distribution(root, dist_name, version, modules, entry_points)``: a fake installed distribution."""
    return write_fake_distribution


@pytest.fixture(scope="session")
def on_path():
    """``with on_path(root):``: ``root`` first on sys.path, and its modules forgotten afterwards."""
    return OnPath
