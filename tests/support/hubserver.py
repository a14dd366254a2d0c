"""A small Hugging Face Hub-compatible HTTP server for tests, standard library (+ PyYAML) only.

The real, unmodified ``huggingface_hub`` client talks to it over real HTTP on 127.0.0.1. It implements
the subset of the Hub API that ``huggingface_hub`` 2.4 uses for ``create_repo``, ``upload_folder`` /
``create_commit``, ``snapshot_download`` / ``hf_hub_download``, ``model_info`` / ``repo_info``,
``list_repo_refs``, ``list_repo_commits``, ``list_repo_tree``, branches, tags, ``whoami`` and
``delete_repo`` (see ``shared/hub-protocol.md``).

Storage is in memory. Repositories hold real git-like history: every commit has a 40-hex id computed
like git's (blob/tree/commit objects hashed with sha1), a parent, a title and message, and a full
snapshot of its files. ``revision`` may be a branch, a tag, a full commit sha, ``refs/heads/X``,
``refs/tags/X`` or ``refs/pr/N``. Preupload always answers ``uploadMode: "regular"`` (so no LFS or Xet
code runs in the client) and returns the git blob sha1 of the file already at that path, which lets
the client skip unchanged files. Like the real Hub, the commit endpoint always records a commit (even
an empty one): it is the *client* that skips the commit when nothing changed.

Like the real Hub, a newly created repo has one commit, "initial commit", holding ``.gitattributes``:
a snapshot of a pushed repo therefore also holds ``.gitattributes``.

Authentication: ``HubServer(token=...)`` is the one write token (user ``user``); an optional
``read_token`` may read private repos but gets 403 on writes. A request with any other bearer token gets
401 with ``X-Error-Message: Invalid credentials in Authorization header`` (``HfHubHTTPError``, status
401). Without a token, public repos can be read; private repos answer 401 + ``RepoNotFound`` (the client
raises ``RepositoryNotFoundError``) and writes answer 401.

Namespaces: like the Hub, the write token writes only under its user's namespace and under the
organisations the user belongs to (``HubServer(orgs=[...])``, or ``hub.orgs.add(...)`` on a running
server; ``whoami`` lists them). Anywhere else the server answers 403 (``HfHubHTTPError``, status 403):
creating or deleting a repo there (``You don't have the rights to create a model under the namespace
"other-org"``, the Hub's wording), committing to (and preupload for), branching, tagging or changing the
settings of a repo there (``Forbidden: pass `create_pr=1` as a query parameter to create a Pull
Request``, what the Hub tells an account that may not push). As on the Hub, a pull request
(``create_pr=1``) may be opened on any repo the token can see. Repos seeded server-side with
``seed_repo()`` may live in any namespace.

This module must not import ``huggingface_hub``: the server has to be running (to know its port)
before ``huggingface_hub`` is imported with ``HF_ENDPOINT`` pointing at it.

Run on its own, for manual trials (from the repository root; Ctrl-C stops it, and its repos are gone)::

    python -m tests.support.hubserver [--port N] [--token T] [--user U] [--org ORG ...]

It listens on 127.0.0.1 (a free port unless ``--port``) and prints the ``HF_ENDPOINT`` and ``HF_TOKEN`` to
export in another shell, where ``zoo push`` and ``zoo pull`` then talk to it.
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import hashlib
import json
import re
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

import yaml

__all__ = ["HubServer", "git_blob_sha1", "DEFAULT_TOKEN", "DEFAULT_USER"]

DEFAULT_TOKEN = "hf_zootest_0123456789abcdefghijklmnopqrstuv"
DEFAULT_USER = "zoo-tester"

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}

# Same pattern as huggingface_hub.repocard.REGEX_YAML_BLOCK.
_YAML_BLOCK = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")

# What the Hub puts in the .gitattributes of a new model repo (abridged).
INITIAL_GITATTRIBUTES = b"""*.7z filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.npy filter=lfs diff=lfs merge=lfs -text
*.npz filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.pickle filter=lfs diff=lfs merge=lfs -text
*.pkl filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
*.tar.* filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
"""


# --------------------------------------------------------------------------------------------------
# git object hashing
# --------------------------------------------------------------------------------------------------


def git_blob_sha1(data: bytes) -> str:
    """The git blob id of ``data`` (what ``git hash-object`` prints, and what the Hub calls ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _git_tree_sha1(files: dict[str, str], prefix: str = "") -> str:
    """git tree id of the directory ``prefix`` (``""`` = root) in a flat ``path -> blob oid`` map."""
    entries: dict[str, tuple[str, str]] = {}  # name -> (mode, sha)
    subdirs: set[str] = set()
    for path, oid in files.items():
        if prefix and not path.startswith(prefix + "/"):
            continue
        rest = path[len(prefix) + 1 :] if prefix else path
        head, sep, _ = rest.partition("/")
        if sep:
            subdirs.add(head)
        else:
            entries[head] = ("100644", oid)
    for name in subdirs:
        entries[name] = ("40000", _git_tree_sha1(files, f"{prefix}/{name}" if prefix else name))
    # git sorts tree entries by name, directories compared as if they ended with "/"
    ordered = sorted(entries.items(), key=lambda kv: kv[0] + ("/" if kv[1][0] == "40000" else ""))
    body = b"".join(
        f"{mode} {name}".encode() + b"\0" + bytes.fromhex(sha) for name, (mode, sha) in ordered
    )
    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()


def _iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_card_metadata(text: str) -> dict | None:
    """YAML front matter of a README.md as a dict (``None`` if absent); raises ``ValueError`` if invalid."""
    match = _YAML_BLOCK.search(text)
    if not match:
        return None
    try:
        data = yaml.safe_load(match.group(2))
    except yaml.YAMLError as exc:
        raise ValueError(f"Invalid YAML in README.md metadata: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("README.md metadata must be a YAML mapping")
    return data


def _model_index_errors(model_index) -> list[str]:
    """A light version of the Hub's model-index schema check."""
    errors = []
    if not isinstance(model_index, list):
        return ['"model-index" must be an array']
    for i, entry in enumerate(model_index):
        if not isinstance(entry, dict) or "name" not in entry:
            errors.append(f'"model-index[{i}].name" is required')
            continue
        results = entry.get("results")
        if not isinstance(results, list):
            errors.append(f'"model-index[{i}].results" must be an array')
            continue
        for j, res in enumerate(results):
            where = f"model-index[{i}].results[{j}]"
            if not isinstance(res, dict):
                errors.append(f'"{where}" must be an object')
                continue
            task = res.get("task")
            if not isinstance(task, dict) or not task.get("type"):
                errors.append(f'"{where}.task.type" is required')
            dataset = res.get("dataset")
            if not isinstance(dataset, dict) or not dataset.get("type") or not dataset.get("name"):
                errors.append(f'"{where}.dataset" needs "type" and "name"')
            metrics = res.get("metrics")
            if not isinstance(metrics, list) or not metrics:
                errors.append(f'"{where}.metrics" must be a non-empty array')
                continue
            for k, metric in enumerate(metrics):
                if not isinstance(metric, dict) or "type" not in metric or "value" not in metric:
                    errors.append(f'"{where}.metrics[{k}]" needs "type" and "value"')
    return errors


# --------------------------------------------------------------------------------------------------
# data model
# --------------------------------------------------------------------------------------------------


@dataclass
class Commit:
    id: str
    parents: list[str]
    title: str
    message: str
    author: str
    timestamp: float
    files: dict[str, str]  # path -> blob oid (full snapshot)


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: float
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    pull_requests: dict[int, str] = field(default_factory=dict)
    gated: bool | str = False
    sdk: str | None = None

    def resolve(self, revision: str) -> str | None:
        """Commit id for a branch, tag, ``refs/...`` name or full sha; ``None`` if unknown."""
        rev = revision
        if rev.startswith("refs/heads/"):
            return self.branches.get(rev[len("refs/heads/") :])
        if rev.startswith("refs/tags/"):
            return self.tags.get(rev[len("refs/tags/") :])
        m = re.fullmatch(r"refs/pr/(\d+)", rev)
        if m:
            return self.pull_requests.get(int(m.group(1)))
        if rev in self.branches:
            return self.branches[rev]
        if rev in self.tags:
            return self.tags[rev]
        if _SHA_RE.match(rev.lower()) and rev.lower() in self.commits:
            return rev.lower()
        return None

    def branch_name(self, revision: str) -> str | None:
        """The branch a commit to ``revision`` goes to (``None`` if ``revision`` is not a branch)."""
        name = revision[len("refs/heads/") :] if revision.startswith("refs/heads/") else revision
        return name if name in self.branches else None

    def history(self, commit_id: str) -> list[Commit]:
        out = []
        cur: str | None = commit_id
        while cur:
            c = self.commits[cur]
            out.append(c)
            cur = c.parents[0] if c.parents else None
        return out


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}


# --------------------------------------------------------------------------------------------------
# the server
# --------------------------------------------------------------------------------------------------


class HubServer:
    """Hub-compatible HTTP server on 127.0.0.1 (ephemeral port), run in a background thread.

    >>> with HubServer(token="hf_x") as hub:
    ...     os.environ["HF_ENDPOINT"] = hub.url   # before importing huggingface_hub
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        user: str = DEFAULT_USER,
        *,
        orgs: Iterable[str] = (),
        read_token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.token = token
        self.read_token = read_token
        self.user = user
        self.orgs: set[str] = set(orgs)  # organisations the user belongs to: its token may write there too
        self.host = host
        self._port = port
        self._lock = threading.RLock()
        self._repos: dict[tuple[str, str], Repo] = {}
        self._blobs: dict[str, bytes] = {}
        self._requests: list[dict] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0

    # ---- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("HubServer is not running")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else self._port

    def start(self) -> HubServer:
        if self._httpd is not None:
            return self
        handler = type("BoundHubHandler", (_Handler,), {"hub": self})
        httpd = ThreadingHTTPServer((self.host, self._port), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False  # keep-alive connections of the client must not block stop()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="hubserver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- state helpers for tests -----------------------------------------------------------------

    def reset(self) -> None:
        """Forget every repo, blob and logged request."""
        with self._lock:
            self._repos.clear()
            self._blobs.clear()
            self._requests.clear()

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def requests(self) -> list[dict]:
        """Logged requests: ``{"method", "path", "query", "status", "auth"}`` (auth: none/valid/read/invalid).

        ``path`` is the URL path with percent-escapes decoded. Tokens are never logged.
        """
        with self._lock:
            return [dict(r) for r in self._requests]

    def request_count(self, method: str | None = None, path_contains: str | None = None) -> int:
        return sum(
            1
            for r in self.requests
            if (method is None or r["method"] == method.upper())
            and (path_contains is None or path_contains in r["path"])
        )

    def may_write(self, namespace: str) -> bool:
        """Whether the write token may write under ``namespace``: the user's own, or one of its ``orgs``."""
        return namespace == self.user or namespace in self.orgs

    def new_repo_id(self, stem: str = "repo", namespace: str | None = None) -> str:
        """A repo id not used before on this server: ``{namespace or user}/{stem}-{n}``."""
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")[:60] or "repo"
        with self._lock:
            self._counter += 1
            return f"{namespace or self.user}/{stem}-{self._counter}"

    def _repo(self, repo_id: str, repo_type: str = "model") -> Repo:
        repo = self._repos.get((repo_type, repo_id))
        if repo is None:
            raise KeyError(f"no {repo_type} repo {repo_id!r} on the test hub")
        return repo

    def repo_exists(self, repo_id: str, repo_type: str = "model") -> bool:
        with self._lock:
            return (repo_type, repo_id) in self._repos

    def head(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> str:
        """Commit id that ``revision`` points to."""
        with self._lock:
            sha = self._repo(repo_id, repo_type).resolve(revision)
            if sha is None:
                raise KeyError(f"unknown revision {revision!r} in {repo_id!r}")
            return sha

    def commit_ids(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> list[str]:
        """First-parent history of ``revision``, newest first."""
        with self._lock:
            repo = self._repo(repo_id, repo_type)
            return [c.id for c in repo.history(self.head(repo_id, revision, repo_type))]

    def commit_count(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> int:
        return len(self.commit_ids(repo_id, revision, repo_type))

    def commits(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> list[Commit]:
        with self._lock:
            repo = self._repo(repo_id, repo_type)
            return list(repo.history(self.head(repo_id, revision, repo_type)))

    def files(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> dict[str, bytes]:
        """``path -> content`` of every file at ``revision``."""
        with self._lock:
            repo = self._repo(repo_id, repo_type)
            commit = repo.commits[self.head(repo_id, revision, repo_type)]
            return {p: self._blobs[oid] for p, oid in commit.files.items()}

    def branches(self, repo_id: str, repo_type: str = "model") -> dict[str, str]:
        with self._lock:
            return dict(self._repo(repo_id, repo_type).branches)

    def tags(self, repo_id: str, repo_type: str = "model") -> dict[str, str]:
        with self._lock:
            return dict(self._repo(repo_id, repo_type).tags)

    def seed_repo(
        self,
        repo_id: str,
        files: dict[str, bytes | str],
        *,
        repo_type: str = "model",
        private: bool = False,
        message: str = "Seed files",
        branch: str = "main",
        author: str | None = None,
    ) -> str:
        """Create (if needed) ``repo_id`` and commit ``files`` to ``branch`` server-side; returns the commit id.

        For tests that need a repo on the Hub (e.g. someone else's SB3 model) without pushing it through
        the client.
        """
        with self._lock:
            key = (repo_type, repo_id)
            if key not in self._repos:
                self._create_repo(repo_type, repo_id, private=private, author=author or repo_id.split("/")[0])
            repo = self._repos[key]
            parent = repo.branches.get(branch, repo.branches["main"])
            tree = dict(repo.commits[parent].files)
            for path, content in files.items():
                data = content.encode() if isinstance(content, str) else bytes(content)
                tree[path] = self._store_blob(data)
            commit = self._new_commit(repo, parent, message, "", tree, author or self.user)
            repo.branches[branch] = commit.id
            return commit.id

    # ---- internal model --------------------------------------------------------------------------

    def _store_blob(self, data: bytes) -> str:
        oid = git_blob_sha1(data)
        self._blobs[oid] = data
        return oid

    def _new_commit(
        self, repo: Repo, parent: str | None, title: str, description: str, files: dict[str, str], author: str
    ) -> Commit:
        self._counter += 1
        ts = time.time()
        tree = _git_tree_sha1(files)
        message = title + ("\n\n" + description if description else "")
        ident = f"{author} <{author}@users.noreply.test.hub>"
        while True:
            body = f"tree {tree}\n"
            if parent:
                body += f"parent {parent}\n"
            body += f"author {ident} {int(ts)} +0000\ncommitter {ident} {int(ts)} +0000\n\n{message}\n"
            raw = body.encode()
            sha = hashlib.sha1(b"commit %d\0" % len(raw) + raw).hexdigest()
            if sha not in repo.commits:
                break
            ts += 1  # identical commit in the same second (e.g. empty commits): git would collide too
        commit = Commit(sha, [parent] if parent else [], title, description, author, ts, dict(files))
        repo.commits[sha] = commit
        return commit

    def _create_repo(self, repo_type: str, repo_id: str, private: bool, author: str, sdk: str | None = None) -> Repo:
        repo = Repo(repo_type=repo_type, repo_id=repo_id, private=private, created_at=time.time(), sdk=sdk)
        self._repos[(repo_type, repo_id)] = repo
        files = {".gitattributes": self._store_blob(INITIAL_GITATTRIBUTES)}
        repo.branches["main"] = self._new_commit(repo, None, "initial commit", "", files, author).id
        return repo

    def repo_url(self, repo: Repo) -> str:
        return f"{self.url}/{URL_PREFIXES[repo.repo_type]}{repo.repo_id}"


# --------------------------------------------------------------------------------------------------
# request handling
# --------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer  # set on the bound subclass
    protocol_version = "HTTP/1.1"
    server_version = "ZooTestHub/1.0"

    def log_message(self, format, *args):  # noqa: A002 - silence stderr logging
        pass

    # ---- plumbing --------------------------------------------------------------------------------

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size_line = self.rfile.readline().strip()
                size = int(size_line.split(b";")[0] or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> dict:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise HubError(400, f"Invalid JSON body: {exc}") from exc
        if not isinstance(data, dict):
            raise HubError(400, "JSON body must be an object")
        return data

    def _log(self, status: int) -> None:
        # Logged before the response goes out, so a client that has its answer always sees its request logged.
        self.status = status
        with self.hub._lock:
            self.hub._requests.append(
                {
                    "method": self.method,
                    "path": unquote(self.raw_path),
                    "query": self.raw_query,
                    "status": status,
                    "auth": self.auth,
                }
            )

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json", headers=None):
        self._log(status)
        self.send_response(status)
        for k, v in (headers or {}).items():
            if v is not None:
                self.send_header(k, str(v))
        if content_type:
            self.send_header("Content-Type", content_type)
        if self.method == "HEAD" and status >= 400:
            self.send_header("Content-Length", "0")
        elif "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.method != "HEAD" and body:
            self.wfile.write(body)

    def _send_json(self, status: int, payload, headers=None):
        self._send(status, json.dumps(payload).encode(), headers=headers)

    def _send_error(self, err: HubError):
        headers = dict(err.headers)
        if err.code:
            headers["X-Error-Code"] = err.code
        headers["X-Error-Message"] = err.message.encode("ascii", "backslashreplace").decode()  # headers are latin-1
        self._send_json(err.status, {"error": err.message}, headers=headers)

    def _dispatch(self, method: str):
        self.method = method
        self.status = 0
        split = urlsplit(self.path)
        self.raw_path = split.path
        self.raw_query = split.query
        self.query = parse_qs(split.query, keep_blank_values=True)
        self.segments = [unquote(s) for s in split.path.split("/")[1:]]
        # One handler instance serves every request of a keep-alive connection: reset per-request state.
        self.body = b""
        self.auth = "invalid"
        try:
            self.body = self._read_body() if method in ("POST", "PUT", "DELETE") else b""
            self.auth = self._authenticate()
            with self.hub._lock:
                self._route(method)
        except HubError as err:
            self._send_error(err)
        except Exception as exc:  # a bug in the server: answer 500 rather than hanging the client
            if self.status:
                raise  # the response had started: nothing sensible left to send
            self._send_error(HubError(500, f"test hub internal error: {type(exc).__name__}: {exc}"))

    def _authenticate(self) -> str:
        header = self.headers.get("Authorization")
        if not header:
            return "none"
        scheme, _, tok = header.partition(" ")
        tok = tok.strip()
        if scheme.lower() == "bearer" and tok == self.hub.token:
            return "valid"
        if scheme.lower() == "bearer" and self.hub.read_token is not None and tok == self.hub.read_token:
            return "read"
        raise HubError(401, "Invalid credentials in Authorization header")

    def _require_write(self, repo: Repo | None = None, *, pull_request: bool = False):
        """Refuse a write without a write token (401/403), or to a repo outside the user's namespaces (403).

        Like the Hub, anyone with a write token may open a pull request (``create_pr=1``) on a repo they can see.
        """
        if self.auth == "none":
            raise HubError(401, "You must be authenticated to perform this action (no token was sent)")
        if self.auth != "valid":
            raise HubError(403, "You don't have the rights to write here: this token is read-only")
        if repo is not None and not pull_request and not self.hub.may_write(repo.repo_id.split("/")[0]):
            raise HubError(403, "Forbidden: pass `create_pr=1` as a query parameter to create a Pull Request")

    def _require_namespace(self, namespace: str, doing: str):
        """403 unless the write token may write under ``namespace`` (call after ``_require_write()``)."""
        if not self.hub.may_write(namespace):
            raise HubError(403, f'You don\'t have the rights to {doing} under the namespace "{namespace}"')

    # ---- routing ---------------------------------------------------------------------------------

    def _route(self, method: str):
        seg = self.segments
        if seg and seg[-1] == "" and len(seg) > 1:
            seg = seg[:-1]
        if seg[:1] == ["api"]:
            rest = seg[1:]
            if rest == ["whoami-v2"] and method == "GET":
                return self._whoami()
            if rest == ["agent-harnesses"] and method == "GET":
                return self._send_json(200, {"standardEnvVars": [], "harnesses": {}})
            if rest == ["repos", "create"] and method == "POST":
                return self._create_repo()
            if rest == ["repos", "delete"] and method == "DELETE":
                return self._delete_repo()
            if rest == ["validate-yaml"] and method == "POST":
                return self._validate_yaml()
            if len(rest) == 1 and rest[0] in REPO_TYPES and method == "GET":
                return self._list_repos(REPO_TYPES[rest[0]])
            if len(rest) >= 3 and rest[0] in REPO_TYPES:
                repo_type = REPO_TYPES[rest[0]]
                repo_id = f"{rest[1]}/{rest[2]}"
                action, args = (rest[3], rest[4:]) if len(rest) > 3 else (None, [])
                return self._repo_api(method, repo_type, repo_id, action, args)
            raise HubError(404, f"Unknown API route: {method} {self.raw_path}")
        # file resolution: /{datasets/|spaces/}{ns}/{name}/resolve/{rev}/{path}
        repo_type = "model"
        rest = seg
        if rest[:1] in (["datasets"], ["spaces"]):
            repo_type = REPO_TYPES[rest[0]]
            rest = rest[1:]
        if len(rest) >= 5 and rest[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(repo_type, f"{rest[0]}/{rest[1]}", rest[3], "/".join(rest[4:]))
        raise HubError(404, f"Not found: {method} {self.raw_path}")

    def _repo_api(self, method, repo_type, repo_id, action, args):
        # Repos are looked up (and access checked) before anything else, like on the Hub.
        repo = self._get_repo(repo_type, repo_id)
        rev_arg = "/".join(args)
        if action is None and method == "GET":
            return self._repo_info(repo, None)
        if action == "revision" and method == "GET" and args:
            return self._repo_info(repo, rev_arg)
        if action == "preupload" and method == "POST":
            return self._preupload(repo, rev_arg)
        if action == "commit" and method == "POST":
            return self._commit(repo, rev_arg)
        if action == "tree" and method == "GET" and args:
            return self._tree(repo, args[0], "/".join(args[1:]))
        if action == "paths-info" and method == "POST" and args:
            return self._paths_info(repo, rev_arg)
        if action == "refs" and method == "GET":
            return self._refs(repo)
        if action == "commits" and method == "GET" and args:
            return self._commits(repo, rev_arg)
        if action == "branch" and args and method in ("POST", "DELETE"):
            return self._branch(repo, rev_arg, method)
        if action == "tag" and args and method in ("POST", "DELETE"):
            return self._tag(repo, rev_arg, method)
        if action == "settings" and method == "PUT":
            return self._settings(repo)
        raise HubError(404, f"Unknown repo API route: {method} {self.raw_path}")

    # ---- access helpers --------------------------------------------------------------------------

    def _get_repo(self, repo_type: str, repo_id: str) -> Repo:
        repo = self.hub._repos.get((repo_type, repo_id))
        if repo is None or (repo.private and self.auth not in ("valid", "read")):
            # The Hub answers 401 (not 404) when not authenticated, so a private repo's existence is not leaked.
            status = 404 if self.auth in ("valid", "read") else 401
            raise HubError(status, "Repository not found", code="RepoNotFound")
        return repo

    def _resolve_rev(self, repo: Repo, revision: str) -> str:
        sha = repo.resolve(revision)
        if sha is None:
            raise HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        return sha

    def _card_metadata(self, repo: Repo, commit: Commit) -> dict | None:
        oid = commit.files.get("README.md")
        if oid is None:
            return None
        try:
            return parse_card_metadata(self.hub._blobs[oid].decode("utf-8-sig", errors="replace"))
        except ValueError:
            return None

    # ---- endpoints: account ----------------------------------------------------------------------

    def _whoami(self):
        if self.auth == "none":
            raise HubError(401, "Invalid credentials in Authorization header")
        role = "write" if self.auth == "valid" else "read"
        self._send_json(
            200,
            {
                "type": "user",
                "id": hashlib.sha1(self.hub.user.encode()).hexdigest()[:24],
                "name": self.hub.user,
                "fullname": self.hub.user,
                "email": None,
                "emailVerified": False,
                "isPro": False,
                "orgs": [
                    {"type": "org", "name": org, "fullname": org, "roleInOrg": "write"} for org in sorted(self.hub.orgs)
                ],
                "auth": {"type": "access_token", "accessToken": {"displayName": "test-token", "role": role}},
            },
        )

    # ---- endpoints: repos ------------------------------------------------------------------------

    def _create_repo(self):
        self._require_write()
        data = self._json_body()
        name = data.get("name")
        if not name or not isinstance(name, str) or "/" in name:
            raise HubError(400, "Invalid repo name")
        org = data.get("organization") or self.hub.user
        repo_type = data.get("type") or "model"
        if repo_type not in URL_PREFIXES:
            raise HubError(400, f"Invalid repo type {repo_type!r}")
        self._require_namespace(org, f"create a {repo_type}")
        repo_id = f"{org}/{name}"
        existing = self.hub._repos.get((repo_type, repo_id))
        if existing is not None:
            return self._send_json(
                409,
                {"error": "You already created this model repo", "url": self.hub.repo_url(existing)},
                headers={"X-Error-Message": "You already created this model repo"},
            )
        if "visibility" in data:
            private = data["visibility"] == "private"
        else:
            private = bool(data.get("private", False))
        repo = self.hub._create_repo(repo_type, repo_id, private=private, author=self.hub.user, sdk=data.get("sdk"))
        self._send_json(200, {"url": self.hub.repo_url(repo), "name": repo_id, "id": repo_id})

    def _delete_repo(self):
        self._require_write()
        data = self._json_body()
        namespace = data.get("organization") or self.hub.user
        repo_type = data.get("type") or "model"
        self._require_namespace(namespace, f"delete a {repo_type}")
        repo_id = f"{namespace}/{data.get('name')}"
        self._get_repo(repo_type, repo_id)
        del self.hub._repos[(repo_type, repo_id)]
        self._send_json(200, {})

    def _settings(self, repo: Repo):
        self._require_write(repo)
        data = self._json_body()
        if "visibility" in data:
            repo.private = data["visibility"] == "private"
        if "private" in data:
            repo.private = bool(data["private"])
        if "gated" in data:
            repo.gated = data["gated"]
        self._send_json(200, {"private": repo.private, "gated": repo.gated})

    def _list_repos(self, repo_type: str):
        author = (self.query.get("author") or [None])[0]
        search = (self.query.get("search") or [None])[0]
        filters = self.query.get("filter") or []
        out = []
        for (rtype, repo_id), repo in sorted(self.hub._repos.items()):
            if rtype != repo_type or (repo.private and self.auth not in ("valid", "read")):
                continue
            if author and repo_id.split("/")[0] != author:
                continue
            if search and search.lower() not in repo_id.lower():
                continue
            info = self._info_dict(repo, repo.branches.get("main"))
            if filters and not all(f in (info.get("tags") or []) for f in filters):
                continue
            out.append({k: info[k] for k in ("_id", "id", "private", "tags", "lastModified", "createdAt") if k in info}
                       | ({"library_name": info["library_name"]} if info.get("library_name") else {}))
        self._send_json(200, out)

    def _info_dict(self, repo: Repo, sha: str | None, blobs: bool = False) -> dict:
        commit = repo.commits.get(sha) if sha else None
        files = commit.files if commit else {}
        info: dict = {
            "_id": hashlib.sha1(f"{repo.repo_type}/{repo.repo_id}".encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": sha,
            "private": repo.private,
            "gated": repo.gated,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "createdAt": _iso(repo.created_at),
            "lastModified": _iso(commit.timestamp if commit else repo.created_at),
            "siblings": [
                {"rfilename": p} | ({"size": len(self.hub._blobs[oid]), "blobId": oid} if blobs else {})
                for p, oid in sorted(files.items())
            ],
            "usedStorage": sum(len(self.hub._blobs[oid]) for oid in files.values()),
        }
        meta = self._card_metadata(repo, commit) if commit else None
        tags: list[str] = []
        if meta is not None:
            info["cardData"] = meta
            card_tags = meta.get("tags") or []
            if isinstance(card_tags, str):
                card_tags = [card_tags]
            tags.extend(str(t) for t in card_tags)
            if repo.repo_type == "model":
                if meta.get("library_name"):
                    info["library_name"] = meta["library_name"]
                    tags.append(str(meta["library_name"]))
                if meta.get("pipeline_tag"):
                    info["pipeline_tag"] = meta["pipeline_tag"]
                if "model-index" in meta:
                    info["model-index"] = meta["model-index"]
                    tags.append("model-index")
            if meta.get("license"):
                tags.append(f"license:{meta['license']}")
        tags.append("region:us")
        info["tags"] = list(dict.fromkeys(tags))
        if repo.repo_type == "space":
            info["sdk"] = repo.sdk
        if repo.repo_type == "model":
            info["spaces"] = []
        return info

    def _eval_results(self, commit: Commit | None) -> list:
        out = []
        if commit is None:
            return out
        for path, oid in sorted(commit.files.items()):
            if path.startswith(".eval_results/") and path.endswith((".yaml", ".yml")):
                try:
                    data = yaml.safe_load(self.hub._blobs[oid])
                except yaml.YAMLError as exc:
                    out.append({"filename": path, "error": str(exc)})
                    continue
                for entry in data if isinstance(data, list) else [data]:
                    out.append({"filename": path, "data": entry})
        return out

    def _repo_info(self, repo: Repo, revision: str | None):
        if revision is None:
            sha = repo.branches.get("main")
        else:
            sha = self._resolve_rev(repo, revision)
        blobs = (self.query.get("blobs") or ["false"])[0].lower() in ("1", "true")
        info = self._info_dict(repo, sha, blobs=blobs)
        expand = self.query.get("expand") or self.query.get("expand[]")
        if expand:
            commit = repo.commits.get(sha) if sha else None
            info["evalResults"] = self._eval_results(commit)
            info["cardData"] = info.get("cardData")
            info = {k: v for k, v in info.items() if k in ("_id", "id") or k in expand}
        self._send_json(200, info)

    # ---- endpoints: push -------------------------------------------------------------------------

    def _validate_yaml(self):
        data = self._json_body()
        content = data.get("content") or ""
        try:
            meta = parse_card_metadata(content)
        except ValueError as exc:
            return self._send_json(400, {"errors": [{"message": str(exc)}], "warnings": []})
        if not meta:
            return self._send_json(
                200, {"errors": [], "warnings": [{"message": "Empty or missing yaml metadata in repo card"}]}
            )
        errors = _model_index_errors(meta["model-index"]) if "model-index" in meta else []
        tags = meta.get("tags")
        if tags is not None and not isinstance(tags, (list, str)):
            errors.append('"tags" must be an array')
        if errors:
            return self._send_json(400, {"errors": [{"message": e} for e in errors], "warnings": []})
        self._send_json(200, {"errors": [], "warnings": []})

    def _writable_branch(self, repo: Repo, revision: str) -> str:
        branch = repo.branch_name(revision)
        if branch is None:
            raise HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        return branch

    def _preupload(self, repo: Repo, revision: str):
        create_pr = (self.query.get("create_pr") or ["0"])[0] in ("1", "true")
        self._require_write(repo, pull_request=create_pr)
        sha = self._resolve_rev(repo, revision) if create_pr else repo.branches[self._writable_branch(repo, revision)]
        files_now = repo.commits[sha].files if sha else {}
        data = self._json_body()
        out = []
        for f in data.get("files") or []:
            path = f.get("path")
            self._check_path(path)
            out.append({"path": path, "uploadMode": "regular", "shouldIgnore": False, "oid": files_now.get(path)})
        self._send_json(200, {"files": out, "commitOid": sha})

    @staticmethod
    def _check_path(path):
        if not isinstance(path, str) or not path or path.startswith("/") or path.endswith("/"):
            raise HubError(400, f"Invalid path in repo: {path!r}")
        if any(part in ("", ".", "..") for part in path.split("/")) or path.startswith(".git/"):
            raise HubError(400, f"Invalid path in repo: {path!r}")

    def _commit(self, repo: Repo, revision: str):
        create_pr = (self.query.get("create_pr") or ["0"])[0] in ("1", "true")
        self._require_write(repo, pull_request=create_pr)
        if create_pr:
            base_sha = self._resolve_rev(repo, revision)
            branch = None
        else:
            branch = self._writable_branch(repo, revision)
            base_sha = repo.branches[branch]
        lines = [ln for ln in self.body.splitlines() if ln.strip()]
        try:
            items = [json.loads(ln) for ln in lines]
        except ValueError as exc:
            raise HubError(400, f"Invalid ndjson body: {exc}") from exc
        if not items or items[0].get("key") != "header":
            raise HubError(400, "The first line of a commit must be its header")
        header = items[0].get("value") or {}
        summary = header.get("summary")
        if not summary:
            raise HubError(400, "Commit summary is required")
        parent_commit = header.get("parentCommit")
        if parent_commit and not create_pr and parent_commit != base_sha:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        if parent_commit and create_pr:
            if parent_commit not in repo.commits:
                raise HubError(404, f"Invalid rev id: {parent_commit}", code="RevisionNotFound")
            base_sha = parent_commit
        tree = dict(repo.commits[base_sha].files) if base_sha else {}
        for item in items[1:]:
            key, value = item.get("key"), item.get("value") or {}
            path = value.get("path")
            if key == "file":
                self._check_path(path)
                encoding = value.get("encoding", "base64")
                content = value.get("content", "")
                try:
                    data = base64.b64decode(content, validate=True) if encoding == "base64" else content.encode()
                except ValueError as exc:
                    raise HubError(400, f"Invalid base64 content for {path}") from exc
                tree[path] = self.hub._store_blob(data)
            elif key == "deletedFile":
                if path not in tree:
                    raise HubError(
                        404, f"A file with this name doesn't exist: {path}", code="EntryNotFound",
                        headers={"X-Repo-Commit": base_sha},
                    )
                del tree[path]
            elif key == "deletedFolder":
                prefix = (path or "").rstrip("/") + "/"
                doomed = [p for p in tree if p.startswith(prefix)]
                if not doomed:
                    raise HubError(
                        404, f"A folder with this name doesn't exist: {path}", code="EntryNotFound",
                        headers={"X-Repo-Commit": base_sha},
                    )
                for p in doomed:
                    del tree[p]
            elif key == "lfsFile":
                raise HubError(400, "The test hub serves every file as a regular git file; LFS is not supported")
            else:
                raise HubError(400, f"Unknown commit operation {key!r}")
        commit = self.hub._new_commit(repo, base_sha, summary, header.get("description") or "", tree, self.hub.user)
        pr_url = None
        if create_pr:
            num = max(repo.pull_requests, default=0) + 1
            repo.pull_requests[num] = commit.id
            pr_url = f"{self.hub.repo_url(repo)}/discussions/{num}"
        else:
            repo.branches[branch] = commit.id
        self._send_json(
            200,
            {
                "success": True,
                "commitOid": commit.id,
                "commitUrl": f"{self.hub.repo_url(repo)}/commit/{commit.id}",
                "commitMessage": summary,
                "hookOutput": "",
                "pullRequestUrl": pr_url,
            },
        )

    def _branch(self, repo: Repo, name: str, method: str):
        self._require_write(repo)
        if method == "POST":
            if name in repo.branches:
                raise HubError(409, f"Reference refs/heads/{name} already exists")
            if not name or name.startswith(("refs/", "/")) or ".." in name or _SHA_RE.match(name):
                raise HubError(400, f"Invalid branch name {name!r}")
            data = self._json_body()
            start = data.get("startingPoint")
            if data.get("emptyBranch"):
                empty = self.hub._new_commit(repo, None, f"Create empty branch {name}", "", {}, self.hub.user)
                repo.branches[name] = empty.id
            else:
                repo.branches[name] = self._resolve_rev(repo, start) if start else repo.branches["main"]
            return self._send_json(200, {})
        if name not in repo.branches:
            raise HubError(404, f"Invalid rev id: {name}", code="RevisionNotFound")
        if name == "main":
            raise HubError(403, "You cannot delete the default branch")
        del repo.branches[name]
        self._send_json(200, {})

    def _tag(self, repo: Repo, arg: str, method: str):
        self._require_write(repo)
        if method == "POST":
            sha = self._resolve_rev(repo, arg)
            tag = self._json_body().get("tag")
            if not tag or not isinstance(tag, str):
                raise HubError(400, "Tag name is required")
            if tag in repo.tags:
                raise HubError(409, f"Tag {tag} already exists")
            repo.tags[tag] = sha
            return self._send_json(200, {})
        if arg not in repo.tags:
            raise HubError(404, f"Invalid rev id: {arg}", code="RevisionNotFound")
        del repo.tags[arg]
        self._send_json(200, {})

    # ---- endpoints: pull -------------------------------------------------------------------------

    def _last_commit(self, repo: Repo, sha: str, path: str, is_dir: bool) -> dict:
        """The newest commit (first-parent) that changed ``path``."""

        def state(c: Commit):
            if is_dir:
                return tuple(sorted((p, o) for p, o in c.files.items() if p.startswith(path + "/")))
            return c.files.get(path)

        hist = repo.history(sha)
        last = hist[0]
        for older in hist[1:]:
            if state(older) != state(last):
                break
            last = older
        return {"id": last.id, "title": last.title, "date": _iso(last.timestamp)}

    def _entries(self, repo: Repo, sha: str, base: str, recursive: bool, expand: bool) -> list[dict]:
        files = repo.commits[sha].files if sha else {}
        prefix = base + "/" if base else ""
        if base and not any(p.startswith(prefix) for p in files):
            raise HubError(
                404, f"Entry not found: {base}", code="EntryNotFound", headers={"X-Repo-Commit": sha}
            )
        out_files, out_dirs = {}, set()
        for path, oid in files.items():
            if not path.startswith(prefix):
                continue
            rel = path[len(prefix) :]
            parts = rel.split("/")
            for i in range(1, len(parts)):
                if recursive or i == 1:
                    out_dirs.add(prefix + "/".join(parts[:i]))
            if recursive or len(parts) == 1:
                out_files[path] = oid
        entries = []
        for d in sorted(out_dirs):
            entry = {"type": "directory", "oid": _git_tree_sha1(files, d), "size": 0, "path": d}
            if expand:
                entry["lastCommit"] = self._last_commit(repo, sha, d, True)
            entries.append(entry)
        for p, oid in sorted(out_files.items()):
            entry = {"type": "file", "oid": oid, "size": len(self.hub._blobs[oid]), "path": p}
            if expand:
                entry["lastCommit"] = self._last_commit(repo, sha, p, False)
            entries.append(entry)
        return entries

    @staticmethod
    def _flag(values, default=False) -> bool:
        if not values:
            return default
        return values[0].lower() in ("1", "true")

    def _tree(self, repo: Repo, revision: str, path: str):
        sha = self._resolve_rev(repo, revision)
        path = path.strip("/")
        entries = self._entries(
            repo, sha, path, self._flag(self.query.get("recursive")), self._flag(self.query.get("expand"))
        )
        self._send_json(200, entries)

    def _paths_info(self, repo: Repo, revision: str):
        sha = self._resolve_rev(repo, revision)
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            data = self._json_body()
            paths, expand = data.get("paths") or [], bool(data.get("expand"))
        else:
            form = parse_qs(self.body.decode(), keep_blank_values=True)
            paths = form.get("paths") or []
            expand = self._flag(form.get("expand"))
        files = repo.commits[sha].files if sha else {}
        out = []
        for p in paths:
            p = p.strip("/")
            if p in files:
                entry = {"type": "file", "oid": files[p], "size": len(self.hub._blobs[files[p]]), "path": p}
                if expand:
                    entry["lastCommit"] = self._last_commit(repo, sha, p, False)
                out.append(entry)
            elif any(f.startswith(p + "/") for f in files):
                entry = {"type": "directory", "oid": _git_tree_sha1(files, p), "size": 0, "path": p}
                if expand:
                    entry["lastCommit"] = self._last_commit(repo, sha, p, True)
                out.append(entry)
        self._send_json(200, out)

    def _refs(self, repo: Repo):
        def ref(kind, name, sha):
            return {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": sha}

        payload = {
            "branches": [ref("heads", n, s) for n, s in sorted(repo.branches.items())],
            "tags": [ref("tags", n, s) for n, s in sorted(repo.tags.items())],
            "converts": [],
        }
        if self._flag(self.query.get("include_prs")):
            payload["pullRequests"] = [
                {"name": str(n), "ref": f"refs/pr/{n}", "targetCommit": s}
                for n, s in sorted(repo.pull_requests.items())
            ]
        self._send_json(200, payload)

    def _commits(self, repo: Repo, revision: str):
        sha = self._resolve_rev(repo, revision)
        formatted = "formatted" in (self.query.get("expand[]") or []) + (self.query.get("expand") or [])
        out = []
        for c in repo.history(sha) if sha else []:
            item = {
                "id": c.id,
                "authors": [{"user": c.author, "avatar": None}],
                "date": _iso(c.timestamp),
                "title": c.title,
                "message": c.message,
            }
            if formatted:
                item["formatted"] = {"title": c.title, "message": c.message}
            out.append(item)
        self._send_json(200, out)

    def _resolve(self, repo_type: str, repo_id: str, revision: str, path: str):
        repo = self._get_repo(repo_type, repo_id)
        sha = self._resolve_rev(repo, revision)
        files = repo.commits[sha].files if sha else {}
        oid = files.get(path)
        if oid is None:
            raise HubError(404, "Entry not found", code="EntryNotFound", headers={"X-Repo-Commit": sha})
        data = self.hub._blobs[oid]
        headers = {
            "X-Repo-Commit": sha,
            "ETag": f'"{oid}"',
            "Accept-Ranges": "bytes",
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(path.rsplit('/', 1)[-1])}",
            "Cache-Control": "private, max-age=0, must-revalidate",
        }
        status, body = 200, data
        rng = self.headers.get("Range")
        if rng and self.method == "GET":
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if not m or (not m.group(1) and not m.group(2)):
                raise HubError(416, "Invalid range")
            if m.group(1):
                start = int(m.group(1))
                end = int(m.group(2)) if m.group(2) else len(data) - 1
            else:
                start, end = max(len(data) - int(m.group(2)), 0), len(data) - 1
            end = min(end, len(data) - 1)
            if start >= len(data) and len(data) > 0:
                raise HubError(416, "Range not satisfiable", headers={"Content-Range": f"bytes */{len(data)}"})
            body = data[start : end + 1]
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        headers["Content-Length"] = str(len(body))
        self._send(status, body, content_type="application/octet-stream", headers=headers)


# --------------------------------------------------------------------------------------------------
# on its own: python -m tests.support.hubserver
# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Serve on 127.0.0.1 until Ctrl-C, after printing the environment variables that point a client at it."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.hubserver",
        description="A loopback Hugging Face Hub-compatible server (in memory) for manual trials.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the write token (default: %(default)s)")
    parser.add_argument("--user", default=DEFAULT_USER, help="the token's user, its namespace (default: %(default)s)")
    parser.add_argument("--org", action="append", default=[], metavar="ORG",
                        help="an organisation the user belongs to, where its token may write too (repeatable)")
    args = parser.parse_args(argv)
    server = HubServer(token=args.token, user=args.user, orgs=args.org, port=args.port)
    try:
        server.start()
    except OSError as exc:
        parser.error(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}")
    namespaces = ", ".join([args.user, *args.org])
    print(f"Loopback Hub at {server.url} (user {args.user}, may write under: {namespaces}). In another shell:\n"
          f"  export HF_ENDPOINT={server.url}\n"
          f"  export HF_TOKEN={args.token}\n"
          "  export HF_HOME=$(mktemp -d)  # optional: keeps these repos out of your own Hugging Face cache\n"
          "Ctrl-C stops it (repos are kept in memory only).", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("stopped", flush=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
