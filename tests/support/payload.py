"""A module whose import is visible: the payload of the tests that check that nothing read from a
file makes the zoo import a module (issue 23, item 1).

Fixture ``payload``: a fresh folder on ``sys.path`` (and on ``PYTHONPATH``, for subprocesses and
spawned workers) holding ``zoo_untrusted_payload.py`` and the package ``zoo_untrusted_pkg`` (with a
submodule ``main``, like ``venv.__main__``). Importing either writes the marker file
``payload.marker``; ``payload.imported()`` says whether it exists. Both are harmless: they write
that one file and nothing else. ``payload.env`` and ``payload.dotted_env`` are env names that
would import them (``zoo_untrusted_payload:CartPole-v1``, ``zoo_untrusted_pkg.main:CartPole-v1``).
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

MODULE = "zoo_untrusted_payload"
PACKAGE = "zoo_untrusted_pkg"


@dataclass(frozen=True)
class Payload:
    module: str
    package: str
    marker: Path

    @property
    def env(self) -> str:
        return f"{self.module}:CartPole-v1"

    @property
    def dotted_env(self) -> str:
        return f"{self.package}.main:CartPole-v1"

    def imported(self) -> bool:
        return self.marker.exists()


def _forget() -> None:
    for name in list(sys.modules):
        if name in (MODULE, PACKAGE) or name.startswith(PACKAGE + "."):
            del sys.modules[name]


@pytest.fixture
def payload(tmp_path, monkeypatch) -> Payload:
    folder = tmp_path / "payload-on-sys-path"
    marker = tmp_path / "PAYLOAD-IMPORTED"
    code = f"from pathlib import Path\nPath({str(marker)!r}).write_text(__name__)\n"
    (folder / PACKAGE).mkdir(parents=True)
    (folder / f"{MODULE}.py").write_text(code)
    (folder / PACKAGE / "__init__.py").write_text(code)
    (folder / PACKAGE / "main.py").write_text(code)
    _forget()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH")) if p))
    importlib.invalidate_caches()
    yield Payload(MODULE, PACKAGE, marker)
    _forget()
