"""pytest fixtures for tests that talk to the loopback Hub server (``tests/support/hubserver.py``).

``huggingface_hub`` reads ``HF_ENDPOINT``, ``HF_HOME``, ``HF_HUB_OFFLINE``, ``HF_HUB_DISABLE_XET``... once,
when it is imported. So one server is started for the whole test session, **when this module is imported**:
``tests/conftest.py`` lists it first in ``pytest_plugins``, and pytest imports those plugins right after the
conftest, before any test module (and so before anything imports ``huggingface_hub``). Test modules get
everything below by fixture name and never import this module.

Fixtures:

``hub``
    The session ``HubServer``, with its request log cleared for the test and ``HF_TOKEN`` set to its token.
    Repos are *not* wiped between tests (so session-scoped seeds survive): use ``hub.new_repo_id()`` or
    the ``hub_repo_id`` fixture for a name no other test uses, and ``hub.reset()`` if a test really
    needs an empty hub. The token writes only to the namespaces of its user (``hub.user``) and its
    organisations (``hub.orgs``); elsewhere the server answers 403, like the Hub.
``hub_repo_id``
    A fresh, unused ``zoo-tester/<test-name>-<n>`` repo id (the repo is not created).
``hub_org``
    A fresh organisation name that the hub user belongs to for this test only (so its token may write there).
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
``hub_env``
    The function ``hub_env(hf_home=None, *, offline=False, **extra)``: an environment for a subprocess.
``run_python``
    The function ``run_python(code, env, args=(), timeout=120)``: runs ``python -c code *args`` in ``env``
    (the most faithful way to test ``HF_HUB_OFFLINE=1``, as a user would set it before start-up).
``make_hub_server``
    A factory of extra, independent ``HubServer`` instances (not started; use ``with make_hub_server(...) as
    server:``); any still running are stopped after the test.
``git_blob_sha1``
    The function computing a git blob id (the Hub's ``oid`` and the ETag the server sends).
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

from .hubserver import DEFAULT_TOKEN, DEFAULT_USER, HubServer
from .hubserver import git_blob_sha1 as _git_blob_sha1

__all__ = ["start_session_hub", "session_hub"]

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
    ``huggingface_hub`` is first imported (this module calls it when imported); the server and the
    folder are removed at exit.
    """
    global _SESSION_HUB, _SESSION_HOME
    if _SESSION_HUB is not None:
        return _SESSION_HUB
    if "huggingface_hub" in sys.modules:
        raise RuntimeError(
            "start_session_hub() must run before huggingface_hub is imported: it reads HF_ENDPOINT, HF_HOME "
            "and friends at import time. List support.hub first in pytest_plugins in tests/conftest.py and "
            "import nothing that imports huggingface_hub above it."
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
    # huggingface_hub gives its root logger a StreamHandler on the sys.stderr of the moment its
    # logging module is imported. Imported first inside a CliRunner invocation (the zoo imports it
    # lazily), that is the runner's buffer, closed afterwards: every later Hub warning in the
    # session then prints a "--- Logging error ---" traceback. Imported now, it holds pytest's stream.
    import huggingface_hub.utils.logging  # noqa: F401

    return server


def session_hub() -> HubServer:
    """The running session hub (``start_session_hub()`` must have been called)."""
    if _SESSION_HUB is None:
        raise RuntimeError("No session hub: support.hub.start_session_hub() has not run")
    return _SESSION_HUB


def _hub_env(hf_home: str | os.PathLike | None = None, *, offline: bool = False, **extra: str) -> dict[str, str]:
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


def _run_python(
    code: str, env: dict[str, str], args: list[str] = (), timeout: float = 120, **kwargs
) -> subprocess.CompletedProcess:
    """Run ``python -c code *args`` with ``env`` (see ``hub_env``); tests/ is put on PYTHONPATH."""
    env = dict(env)
    tests_dir = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (tests_dir, env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=timeout, **kwargs
    )


# Started here, at import, so that it runs before anything imports huggingface_hub (see the module docstring).
start_session_hub()


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
def hub_org(hub) -> str:
    """An organisation name no other test uses, which the hub user belongs to for this test only."""
    org = hub.new_repo_id("org", namespace="zoo-test").replace("/", "-")  # zoo-test-org-N
    hub.orgs.add(org)
    yield org
    hub.orgs.discard(org)


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


@pytest.fixture(scope="session")
def hub_env():
    """``hub_env(hf_home=None, *, offline=False, **extra)``: a copy of ``os.environ`` for a subprocess."""
    return _hub_env


@pytest.fixture(scope="session")
def run_python():
    """``run_python(code, env, args=(), timeout=120)``: ``python -c code *args`` in a subprocess."""
    return _run_python


@pytest.fixture
def make_hub_server():
    """``make_hub_server(**kwargs)``: a new ``HubServer`` (not started), stopped after the test if still running."""
    servers: list[HubServer] = []

    def make(*args, **kwargs) -> HubServer:
        server = HubServer(*args, **kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def git_blob_sha1():
    """``git_blob_sha1(data)``: the git blob id of ``data`` (the Hub's ``oid``, the ETag of a file)."""
    return _git_blob_sha1
