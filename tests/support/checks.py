"""What the bad-input tests check, in one place: a command failed with one clear line, and
nothing on disk changed.

``assert_one_line_error(result, *fragments)``, ``snapshot(root)``, ``write_meta(folder, meta)``,
``invoke_zoo(args, cwd)``, ``fuzz(examples)`` and ``ctrl_c_after(steps)`` are plain functions that test modules import
(``from support.checks import ...``); ``workdir`` is a fixture (this module is listed in
``pytest_plugins``): an empty current folder, where ``zoo train`` would put ``runs/``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

#: The fuzz tests' profile: ``ZOO_FUZZ=ci`` (the default; fixed and derandomized, so CI is
#: repeatable and bounded) or ``ZOO_FUZZ=slow`` (ten times more examples, random: for local runs).
SLOW = os.environ.get("ZOO_FUZZ", "ci") == "slow"


def fuzz(examples: int) -> settings:
    """Hypothesis settings for one fuzz test: ``examples`` in CI, ten times more with ZOO_FUZZ=slow."""
    return settings(max_examples=examples * (10 if SLOW else 1), deadline=None, derandomize=not SLOW,
                    database=None, suppress_health_check=list(HealthCheck))


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file (its bytes) and folder (``b"/"``) below ``root``: equal snapshots, nothing changed."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"/")
            for p in sorted(root.rglob("*"))}


def ctrl_c_after(steps: int):
    """A progress callback for ``zoo.train`` that sends this process one SIGINT (Ctrl-C) once the
    run has executed ``steps`` env steps: the loop stops after that iteration, as for a user's."""
    sent = []

    def progress(done) -> None:
        if done.env_steps >= steps and not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)
    return progress


def write_meta(folder: Path, meta: dict[str, Any], indent: int | None = None) -> None:
    """Write a checkpoint's ``zoo.json`` as a careful forger would: with its own checksum
    (``meta_sha256``) brought up to date if it has one, so that what a test edits meets the check
    it is about, not the checksum."""
    from zoo import checkpoint as ckpt

    meta = dict(meta)
    if ckpt.META_SHA256 in meta:
        meta[ckpt.META_SHA256] = ckpt.meta_sha256(meta)
    (Path(folder) / ckpt.META_FILE).write_text(json.dumps(meta, indent=indent, sort_keys=indent is not None)
                                               + ("\n" if indent is not None else ""))


def invoke_zoo(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """``zoo ARGS`` run in this process from ``cwd`` through :func:`zoo.cli.run`, as the executable
    runs it: ``(exit code, stdout, stderr)``."""
    from zoo.cli import run

    stdout, stderr = io.StringIO(), io.StringIO()
    before = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = run(args)
    finally:
        os.chdir(before)
    return code, stdout.getvalue(), stderr.getvalue()


def assert_one_line_error(result: Any, *fragments: str) -> str:
    """A CliRunner result that is exit code 2 with one line on stderr starting with 'error: ',
    containing every fragment, nothing on stdout and no traceback; returns the line."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output and result.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """An empty current folder (where `zoo train` would put runs/ by default)."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder
