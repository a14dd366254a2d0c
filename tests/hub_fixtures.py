"""pytest fixtures for tests that talk to the loopback Hub server (``tests/hubserver.py``).

``huggingface_hub`` reads ``HF_ENDPOINT``, ``HF_HOME``, ``HF_HUB_OFFLINE``, ``HF_HUB_DISABLE_XET``... once,
when it is imported. So one server is started for the whole test session by ``start_session_hub()``,
which ``tests/conftest.py`` calls at its very top, before anything imports ``huggingface_hub``::

    from hub_fixtures import start_session_hub

    HUB = start_session_hub()  # before anything imports huggingface_hub
    from hub_fixtures import hf_home, hub, hub_offline, hub_repo_id  # noqa: E402,F401  (fixtures)

Fixtures:

``hub``
    The session ``HubServer``, with its request log cleared for the test and ``HF_TOKEN`` set to its token.
    Repos are *not* wiped between tests (so session-scoped seeds survive): use ``hub.new_repo_id()`` or
    the ``hub_repo_id`` fixture for a name no other test uses, and ``hub.reset()`` if a test really
    needs an empty hub.
``hub_repo_id``
    A fresh, unused ``zoo-tester/<test-name>-<n>`` repo id (the repo is not created).
``hf_home``
    A fresh, empty ``HF_HOME`` folder for the test (``hf_home / "hub"`` is the cache). The cache dir is a
    module constant of ``huggingface_hub`` read at import, so this fixture monkeypatches
    ``huggingface_hub.constants.HF_HOME`` / ``HF_HUB_CACHE`` / ``HF_ASSETS_CACHE`` / ``HF_TOKEN_PATH``
    (``hf_hub_download``, ``snapshot_download`` and ``HfApi`` read those at call time, so code that passes
    no ``cache_dir=`` lands in the fresh cache too) and sets the ``HF_HOME`` / ``HF_HUB_CACHE`` environment
    variables so subprocesses use it as well. Exception: ``scan_cache_dir()`` without ``cache_dir=``
    keeps the session cache (it imported the constant by value).
``hub_offline``
    Offline mode in-process (monkeypatches ``huggingface_hub.constants.HF_HUB_OFFLINE``, which the HTTP
    layer checks per request) and ``HF_HUB_OFFLINE=1`` for subprocesses.

Helpers: ``hub_env(hf_home, offline=...)`` builds an environment for a subprocess; ``run_python(code,
env)`` runs ``python -c code`` in one (the most faithful way to test ``HF_HUB_OFFLINE=1``, as a user
would set it before start-up).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hubserver import DEFAULT_TOKEN, DEFAULT_USER, HubServer

__all__ = [
    "start_session_hub",
    "session_hub",
    "hub",
    "hub_repo_id",
    "hf_home",
    "hub_offline",
    "hub_env",
    "run_python",
]

# Environment variables that would make huggingface_hub look somewhere else than the session hub.
_HF_ENV_TO_CLEAR = (
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_ASSETS_CACHE",
    "HUGGINGFACE_ASSETS_CACHE",
    "HF_TOKEN_PATH",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_OIDC_RESOURCE",
    "HUGGINGFACE_CO_STAGING",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN",
    "HF_XET_CACHE",
)

_SESSION_HUB: HubServer | None = None
_SESSION_HOME: str | None = None


def start_session_hub(token: str = DEFAULT_TOKEN, user: str = DEFAULT_USER) -> HubServer:
    """Start the session's Hub server and point ``huggingface_hub`` at it (idempotent).

    Binds 127.0.0.1 on an ephemeral port, then sets ``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HOME`` (a new
    temporary folder), ``HF_HUB_DISABLE_TELEMETRY=1``, ``HF_HUB_DISABLE_XET=1`` and
    ``HF_HUB_DISABLE_UPDATE_CHECK=1`` in ``os.environ`` (so subprocesses inherit them), and clears
    variables that would redirect the cache, the token or offline mode. Must run before
    ``huggingface_hub`` is first imported; the server and the folder are removed at exit.
    """
    global _SESSION_HUB, _SESSION_HOME
    if _SESSION_HUB is not None:
        return _SESSION_HUB
    if "huggingface_hub" in sys.modules:
        raise RuntimeError(
            "start_session_hub() must run before huggingface_hub is imported: it reads HF_ENDPOINT, HF_HOME "
            "and friends at import time. Call it at the very top of tests/conftest.py."
        )
    server = HubServer(token=token, user=user).start()
    home = tempfile.mkdtemp(prefix="zoo-test-hf-home-")
    for name in _HF_ENV_TO_CLEAR:
        os.environ.pop(name, None)
    os.environ.update(
        {
            "HF_ENDPOINT": server.url,
            "HF_TOKEN": token,
            "HF_HOME": home,
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_DISABLE_UPDATE_CHECK": "1",
        }
    )

    def _cleanup() -> None:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)

    atexit.register(_cleanup)
    _SESSION_HUB, _SESSION_HOME = server, home
    return server


def session_hub() -> HubServer:
    """The running session hub (``start_session_hub()`` must have been called)."""
    if _SESSION_HUB is None:
        raise RuntimeError("No session hub: call hub_fixtures.start_session_hub() at the top of tests/conftest.py")
    return _SESSION_HUB


def hub_env(hf_home: str | os.PathLike | None = None, *, offline: bool = False, **extra: str) -> dict[str, str]:
    """A copy of ``os.environ`` for a subprocess: session hub settings, optional HF_HOME and offline mode."""
    server = session_hub()
    env = dict(os.environ)
    env.update({"HF_ENDPOINT": server.url, "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_XET": "1"})
    if hf_home is not None:
        env["HF_HOME"] = str(hf_home)
        env["HF_HUB_CACHE"] = str(Path(hf_home) / "hub")
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    else:
        env.pop("HF_HUB_OFFLINE", None)
    env.update(extra)
    return env


def run_python(
    code: str, env: dict[str, str], args: list[str] = (), timeout: float = 120, **kwargs
) -> subprocess.CompletedProcess:
    """Run ``python -c code *args`` with ``env`` (see ``hub_env``); tests/ is put on PYTHONPATH."""
    env = dict(env)
    tests_dir = str(Path(__file__).resolve().parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (tests_dir, env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=timeout, **kwargs
    )


@pytest.fixture
def hub(monkeypatch) -> HubServer:
    """The session Hub server; its request log starts empty for each test."""
    server = session_hub()
    server.clear_requests()
    monkeypatch.setenv("HF_TOKEN", server.token)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield server


@pytest.fixture
def hub_repo_id(hub, request) -> str:
    """A repo id no other test uses, under the hub user's namespace (the repo is not created)."""
    return hub.new_repo_id(re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-").lower()[:40])


@pytest.fixture
def hf_home(tmp_path, monkeypatch) -> Path:
    """A fresh empty HF_HOME for this test, in-process and for subprocesses; the cache is ``hf_home / "hub"``."""
    session_hub()  # huggingface_hub may only be imported once the session hub is up
    from huggingface_hub import constants

    home = tmp_path / "hf_home"
    cache = home / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_ASSETS_CACHE", str(home / "assets"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    return home


@pytest.fixture
def hub_offline(monkeypatch) -> None:
    """``HF_HUB_OFFLINE=1`` for this test: in-process (patched constant) and in the environment."""
    session_hub()
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
