"""The loopback Hub server, exercised only through the real, unmodified huggingface_hub client."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
from pathlib import Path

import huggingface_hub
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    ModelCard,
    ModelCardData,
    hf_hub_download,
    metadata_eval_result,
    snapshot_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def make_folder(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()
    }


def sample_files() -> dict[str, bytes]:
    return {
        "config.json": json.dumps({"agent": "reinforce", "env_id": "CartPole-v1"}).encode(),
        "model.safetensors": bytes(range(256)) * 40 + os.urandom(512),  # binary, > 10 kB
        "logs/curve.csv": b"step,reward\n1,10\n2,20\n",
        "empty.txt": b"",
    }


def eval_card(repo_id: str, mean: float = 123.45, std: float = 6.78) -> ModelCard:
    metadata = metadata_eval_result(
        model_pretty_name=repo_id.split("/")[-1],
        task_pretty_name="reinforcement-learning",
        task_id="reinforcement-learning",
        metrics_pretty_name="mean_reward",
        metrics_id="mean_reward",
        metrics_value=f"{mean:.2f} +/- {std:.2f}",
        dataset_pretty_name="CartPole-v1",
        dataset_id="CartPole-v1",
    )
    metadata["library_name"] = "agent-zoo"
    metadata["tags"] = ["CartPole-v1", "reinforce", "reinforcement-learning", "deep-rl-class"]
    card_data = ModelCardData(**metadata)
    return ModelCard(f"---\n{card_data.to_yaml()}\n---\n\n# {repo_id}\n\nA test agent.\n")


# ------------------------------------------------------------------------------------------------
# set-up
# ------------------------------------------------------------------------------------------------


def test_client_is_pointed_at_the_loopback_hub(hub, hf_home):
    assert huggingface_hub.constants.ENDPOINT == hub.url
    assert hub.url.startswith("http://127.0.0.1:")
    assert huggingface_hub.constants.HF_HUB_CACHE == str(hf_home / "hub")
    assert HfApi().whoami()["name"] == hub.user


def test_create_repo_and_exist_ok(hub, hub_repo_id):
    api = HfApi()
    url = api.create_repo(hub_repo_id)
    assert url == f"{hub.url}/{hub_repo_id}"
    assert api.repo_exists(hub_repo_id)
    with pytest.raises(HfHubHTTPError) as exc:
        api.create_repo(hub_repo_id)
    assert exc.value.response.status_code == 409
    assert api.create_repo(hub_repo_id, exist_ok=True) == url
    # A new repo holds an initial commit with .gitattributes, like on the Hub.
    assert hub.commit_count(hub_repo_id) == 1
    assert list(hub.files(hub_repo_id)) == [".gitattributes"]
    assert not api.repo_exists(hub.new_repo_id("never-created"))


# ------------------------------------------------------------------------------------------------
# push and pull
# ------------------------------------------------------------------------------------------------


def test_upload_folder_is_one_commit_and_snapshot_is_byte_identical(hub, hub_repo_id, hf_home, tmp_path, git_blob_sha1):
    api = HfApi()
    api.create_repo(hub_repo_id)
    files = sample_files()
    src = make_folder(tmp_path / "src", files)
    eval_card(hub_repo_id).save(src / "README.md")
    hub.clear_requests()

    info = api.upload_folder(repo_id=hub_repo_id, folder_path=src, commit_message="Push agent")

    assert len(info.oid) == 40 and info.oid == hub.head(hub_repo_id)
    assert hub.commit_count(hub_repo_id) == 2  # initial commit + exactly one push commit
    assert hub.commits(hub_repo_id)[0].title == "Push agent"
    assert hub.request_count("POST", "/commit/") == 1
    assert hub.request_count("POST", "/preupload/") == 1
    assert hub.request_count("POST", "/api/validate-yaml") >= 1  # README.md is validated before the commit

    # Pull into the fresh, empty cache of this test (no cache_dir: hf_home patched the default).
    path = Path(snapshot_download(hub_repo_id))
    assert path == hf_home / "hub" / f"models--{hub_repo_id.replace('/', '--')}" / "snapshots" / info.oid
    pulled = read_tree(path)
    assert pulled.pop(".gitattributes")  # from the repo's initial commit
    assert pulled == read_tree(src)
    refs_main = hf_home / "hub" / f"models--{hub_repo_id.replace('/', '--')}" / "refs" / "main"
    assert refs_main.read_text() == info.oid
    # The cache blobs are named after the git blob sha1 (the ETag the server sends).
    blobs = {p.name for p in (path.parent.parent / "blobs").iterdir()}
    assert git_blob_sha1(files["config.json"]) in blobs


def test_hf_hub_download_single_file_by_branch_and_sha(hub, hub_repo_id, hf_home, tmp_path):
    api = HfApi()
    api.create_repo(hub_repo_id)
    files = sample_files()
    info = api.upload_folder(repo_id=hub_repo_id, folder_path=make_folder(tmp_path / "src", files))
    local = hf_hub_download(hub_repo_id, "logs/curve.csv", cache_dir=tmp_path / "cache")
    assert Path(local).read_bytes() == files["logs/curve.csv"]
    local = hf_hub_download(hub_repo_id, "model.safetensors", revision=info.oid, cache_dir=tmp_path / "cache")
    assert Path(local).read_bytes() == files["model.safetensors"]
    assert info.oid in local
    local = hf_hub_download(hub_repo_id, "empty.txt")
    assert Path(local).read_bytes() == b"" and str(hf_home) in local


def test_card_metadata_read_back_through_model_info(hub, hub_repo_id, tmp_path):
    api = HfApi()
    api.create_repo(hub_repo_id)
    card = eval_card(hub_repo_id, mean=500.0, std=0.0)
    card.push_to_hub(hub_repo_id)  # ModelCard.push_to_hub: validate-yaml + one commit of README.md

    info = api.model_info(hub_repo_id)
    assert info.sha == hub.head(hub_repo_id)
    assert info.library_name == "agent-zoo"
    assert {"CartPole-v1", "reinforce", "reinforcement-learning", "deep-rl-class"} <= set(info.tags)
    assert [s.rfilename for s in info.siblings] == [".gitattributes", "README.md"]
    results = info.card_data.eval_results
    assert len(results) == 1
    assert results[0].task_type == "reinforcement-learning"
    assert results[0].dataset_type == "CartPole-v1"
    assert results[0].metric_type == "mean_reward"
    assert results[0].metric_value == "500.00 +/- 0.00"
    assert info.card_data.to_dict()["model-index"][0]["name"] == hub_repo_id.split("/")[-1]
    # The card itself comes back intact through ModelCard.load.
    loaded = ModelCard.load(hub_repo_id)
    assert loaded.data.to_dict() == card.data.to_dict()


def test_eval_results_files_are_served_with_expand(hub, hub_repo_id):
    api = HfApi()
    api.create_repo(hub_repo_id)
    entry = "- dataset:\n    id: CartPole-v1\n    task_id: default\n  value: 500.0\n"
    api.upload_file(path_or_fileobj=entry.encode(), path_in_repo=".eval_results/cartpole.yaml", repo_id=hub_repo_id)
    info = api.model_info(hub_repo_id, expand=["evalResults"])
    assert [(e.dataset_id, e.task_id, e.value) for e in info.eval_results] == [("CartPole-v1", "default", 500.0)]


def test_malformed_model_index_is_rejected_before_any_commit(hub, hub_repo_id, tmp_path):
    api = HfApi()
    api.create_repo(hub_repo_id)
    readme = "---\nmodel-index:\n- name: x\n  results:\n  - task: {}\n---\n# x\n"
    with pytest.raises(ValueError, match="task.type"):
        api.upload_file(path_or_fileobj=readme.encode(), path_in_repo="README.md", repo_id=hub_repo_id)
    assert hub.commit_count(hub_repo_id) == 1


def test_unchanged_reupload_makes_no_new_commit(hub, hub_repo_id, tmp_path):
    api = HfApi()
    api.create_repo(hub_repo_id)
    src = make_folder(tmp_path / "src", sample_files())
    eval_card(hub_repo_id).save(src / "README.md")
    first = api.upload_folder(repo_id=hub_repo_id, folder_path=src, commit_message="push 1")
    hub.clear_requests()

    again = api.upload_folder(repo_id=hub_repo_id, folder_path=src, commit_message="push 2")

    assert again.oid == first.oid == hub.head(hub_repo_id)
    assert hub.commit_count(hub_repo_id) == 2
    assert hub.request_count("POST", "/commit/") == 0  # the client saw identical oids and skipped the commit

    # Changing one file makes one commit whose parent is the previous head, carrying the other files over.
    (src / "config.json").write_text('{"changed": true}')
    third = api.upload_folder(repo_id=hub_repo_id, folder_path=src, commit_message="push 3")
    assert third.oid != first.oid
    head = hub.commits(hub_repo_id)[0]
    assert head.id == third.oid and head.parents == [first.oid]
    assert hub.files(hub_repo_id)["config.json"] == b'{"changed": true}'
    assert set(hub.files(hub_repo_id)) == set(hub.files(hub_repo_id, revision=first.oid))


def test_create_commit_with_add_and_delete(hub, hub_repo_id):
    api = HfApi()
    api.create_repo(hub_repo_id)
    api.create_commit(
        hub_repo_id,
        [CommitOperationAdd("a.txt", b"a"), CommitOperationAdd("dir/b.txt", b"b"), CommitOperationAdd("dir/c", b"c")],
        commit_message="add",
    )
    info = api.create_commit(
        hub_repo_id,
        [CommitOperationDelete("a.txt"), CommitOperationDelete("dir/", is_folder=True), CommitOperationAdd("d", b"d")],
        commit_message="delete",
        commit_description="longer text",
    )
    assert set(hub.files(hub_repo_id)) == {".gitattributes", "d"}
    commit = api.list_repo_commits(hub_repo_id)[0]
    assert (commit.commit_id, commit.title, commit.message) == (info.oid, "delete", "longer text")
    with pytest.raises(EntryNotFoundError):
        api.delete_file("no-such-file", repo_id=hub_repo_id)
    # parent_commit guards against a concurrent push
    with pytest.raises(HfHubHTTPError) as exc:
        api.create_commit(
            hub_repo_id,
            [CommitOperationAdd("e", b"e")],
            commit_message="late",
            parent_commit=hub.commit_ids(hub_repo_id)[1],
        )
    assert exc.value.response.status_code == 412


def test_branch_tag_and_revision_round_trip(hub, hub_repo_id, tmp_path):
    api = HfApi()
    api.create_repo(hub_repo_id)
    main_commit = api.upload_folder(repo_id=hub_repo_id, folder_path=make_folder(tmp_path / "v1", {"w.bin": b"v1"}))
    api.create_branch(hub_repo_id, branch="dev")
    with pytest.raises(HfHubHTTPError) as exc:
        api.create_branch(hub_repo_id, branch="dev")
    assert exc.value.response.status_code == 409
    api.create_branch(hub_repo_id, branch="dev", exist_ok=True)

    dev_commit = api.upload_folder(
        repo_id=hub_repo_id, folder_path=make_folder(tmp_path / "v2", {"w.bin": b"v2", "new.txt": b"n"}), revision="dev"
    )
    assert hub.head(hub_repo_id, "main") == main_commit.oid
    assert hub.head(hub_repo_id, "dev") == dev_commit.oid
    api.create_tag(hub_repo_id, tag="v2.0", revision="dev")

    refs = api.list_repo_refs(hub_repo_id)
    assert {b.name: b.target_commit for b in refs.branches} == {"main": main_commit.oid, "dev": dev_commit.oid}
    assert [(t.name, t.ref, t.target_commit) for t in refs.tags] == [("v2.0", "refs/tags/v2.0", dev_commit.oid)]

    cache = tmp_path / "cache"
    for rev in ("dev", "v2.0", dev_commit.oid, "refs/heads/dev"):
        path = Path(snapshot_download(hub_repo_id, revision=rev, cache_dir=cache))
        assert path.name == dev_commit.oid
        assert (path / "w.bin").read_bytes() == b"v2" and (path / "new.txt").read_bytes() == b"n"
    main_path = Path(snapshot_download(hub_repo_id, cache_dir=cache))
    assert (main_path / "w.bin").read_bytes() == b"v1" and not (main_path / "new.txt").exists()
    assert api.model_info(hub_repo_id, revision="dev").sha == dev_commit.oid
    assert [c.commit_id for c in api.list_repo_commits(hub_repo_id, revision="dev")][:2] == [
        dev_commit.oid,
        main_commit.oid,
    ]
    api.delete_tag(hub_repo_id, tag="v2.0")
    api.delete_branch(hub_repo_id, branch="dev")
    assert [b.name for b in api.list_repo_refs(hub_repo_id).branches] == ["main"]


def test_list_repo_tree_and_files(hub, hub_repo_id, tmp_path, git_blob_sha1):
    api = HfApi()
    api.create_repo(hub_repo_id)
    api.upload_folder(repo_id=hub_repo_id, folder_path=make_folder(tmp_path / "src", sample_files()))
    assert sorted(api.list_repo_files(hub_repo_id)) == sorted([".gitattributes", *sample_files()])
    top = {(e.path, type(e).__name__) for e in api.list_repo_tree(hub_repo_id)}
    assert ("logs", "RepoFolder") in top and ("logs/curve.csv", "RepoFile") not in top
    sub = list(api.list_repo_tree(hub_repo_id, path_in_repo="logs"))
    assert [(e.path, e.size, e.blob_id) for e in sub] == [
        ("logs/curve.csv", len(sample_files()["logs/curve.csv"]), git_blob_sha1(sample_files()["logs/curve.csv"]))
    ]
    assert api.file_exists(hub_repo_id, "logs/curve.csv") and not api.file_exists(hub_repo_id, "nope")


# ------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------


def test_missing_repo_revision_and_file(hub, hub_repo_id, tmp_path):
    api = HfApi()
    missing = hub.new_repo_id("missing")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(missing)
    with pytest.raises(RepositoryNotFoundError):
        snapshot_download(missing, cache_dir=tmp_path / "c1")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(missing, "config.json", cache_dir=tmp_path / "c1")

    api.create_repo(hub_repo_id)
    with pytest.raises(RevisionNotFoundError):
        api.model_info(hub_repo_id, revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        snapshot_download(hub_repo_id, revision="no-such-branch", cache_dir=tmp_path / "c2")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(hub_repo_id, ".gitattributes", revision="0" * 40, cache_dir=tmp_path / "c2")
    with pytest.raises(RevisionNotFoundError):
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id=hub_repo_id, revision="no-such-branch")
    with pytest.raises(EntryNotFoundError) as exc:
        hf_hub_download(hub_repo_id, "vec_normalize.pkl", cache_dir=tmp_path / "c2")
    assert isinstance(exc.value, HfHubHTTPError)  # RemoteEntryNotFoundError
    assert exc.value.response.status_code == 404
    assert exc.value.response.headers["X-Repo-Commit"] == hub.head(hub_repo_id)


def test_unauthorised_and_private_repos(hub, hub_repo_id, tmp_path, monkeypatch):
    api = HfApi()
    api.create_repo(hub_repo_id, private=True)
    api.upload_file(path_or_fileobj=b"secret", path_in_repo="w.bin", repo_id=hub_repo_id)
    assert api.model_info(hub_repo_id).private is True

    bad = HfApi(token="hf_not_the_right_token")
    for call in (lambda: bad.model_info(hub_repo_id), lambda: bad.create_repo(hub.new_repo_id("x"))):
        with pytest.raises(HfHubHTTPError) as exc:
            call()
        assert exc.value.response.status_code == 401
        assert not isinstance(exc.value, RepositoryNotFoundError)
    with pytest.raises(HfHubHTTPError) as exc:
        hf_hub_download(hub_repo_id, "w.bin", token="hf_not_the_right_token", cache_dir=tmp_path / "c")
    assert exc.value.response.status_code == 401

    anonymous = HfApi(token=False)
    with pytest.raises(RepositoryNotFoundError):  # private repos are invisible without a token
        anonymous.model_info(hub_repo_id)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(hub_repo_id, "w.bin", token=False, cache_dir=tmp_path / "c")
    assert hub_repo_id not in [m.id for m in anonymous.list_models(author=hub.user)]
    assert hub_repo_id in [m.id for m in api.list_models(author=hub.user)]
    with pytest.raises(HfHubHTTPError) as exc:
        anonymous.create_repo(hub.new_repo_id("anon"))
    assert exc.value.response.status_code == 401
    assert {r["auth"] for r in hub.requests} == {"valid", "none", "invalid"}

    # A bad HF_TOKEN in the environment is picked up at call time.
    monkeypatch.setenv("HF_TOKEN", "hf_not_the_right_token")
    with pytest.raises(HfHubHTTPError) as exc:
        HfApi().whoami()
    assert exc.value.response.status_code == 401


def forbidden(call) -> str:
    """Run ``call``, which must fail with a 403 (not a 401 or 404); returns the server's message."""
    with pytest.raises(HfHubHTTPError) as exc:
        call()
    assert exc.value.response.status_code == 403, exc.value
    assert not isinstance(exc.value, RepositoryNotFoundError)
    return exc.value.server_message


def test_a_token_may_not_create_or_delete_repos_in_a_namespace_it_does_not_own(hub, hub_repo_id):
    api = HfApi()
    theirs = hub.new_repo_id("theirs", namespace="other-org")
    message = forbidden(lambda: api.create_repo(theirs))
    assert message == 'You don\'t have the rights to create a model under the namespace "other-org"'
    # exist_ok: the client then asks whether the repo exists (it does not) and raises the 403.
    forbidden(lambda: api.create_repo(theirs, exist_ok=True))
    assert "create a dataset" in forbidden(lambda: api.create_repo(theirs, repo_type="dataset"))
    assert not hub.repo_exists(theirs) and not hub.repo_exists(theirs, repo_type="dataset")

    hub.seed_repo(theirs, {"w.bin": b"theirs"})  # someone else's public repo
    assert api.create_repo(theirs, exist_ok=True) == f"{hub.url}/{theirs}"  # it exists: fine, as on the Hub
    assert "delete a model" in forbidden(lambda: api.delete_repo(theirs))
    assert hub.repo_exists(theirs) and api.model_info(theirs).sha == hub.head(theirs)  # and it can be read

    # The user's own namespace is unaffected.
    api.create_repo(hub_repo_id)
    api.delete_repo(hub_repo_id)
    assert not hub.repo_exists(hub_repo_id)


def test_a_token_may_not_commit_branch_or_tag_in_a_namespace_it_does_not_own(hub, tmp_path):
    api = HfApi()
    theirs = hub.new_repo_id("theirs", namespace="other-org")
    hub.seed_repo(theirs, {"w.bin": b"v1"})
    hub.seed_repo(theirs, {"w.bin": b"dev"}, branch="dev")
    before = {"main": hub.head(theirs), "dev": hub.head(theirs, "dev")}

    message = forbidden(lambda: api.upload_file(path_or_fileobj=b"mine", path_in_repo="w.bin", repo_id=theirs))
    assert "create_pr=1" in message  # what the Hub tells an account that may not push
    forbidden(lambda: api.upload_folder(repo_id=theirs, folder_path=make_folder(tmp_path / "src", sample_files())))
    forbidden(lambda: api.create_commit(theirs, [CommitOperationDelete("w.bin")], commit_message="delete"))
    forbidden(lambda: api.create_commit(theirs, [CommitOperationAdd("x", b"x")], commit_message="x", revision="dev"))
    forbidden(lambda: api.create_branch(theirs, branch="mine"))
    forbidden(lambda: api.delete_branch(theirs, branch="dev"))
    forbidden(lambda: api.create_tag(theirs, tag="v1"))
    forbidden(lambda: api.update_repo_settings(theirs, private=True))

    assert hub.branches(theirs) == before and hub.tags(theirs) == {}
    assert hub.files(theirs)["w.bin"] == b"v1" and not api.model_info(theirs).private
    # Opening a pull request is allowed, as on the Hub: main does not move.
    pr = api.upload_file(path_or_fileobj=b"mine", path_in_repo="w.bin", repo_id=theirs, create_pr=True)
    assert pr.pr_num == 1 and hub.head(theirs) == before["main"]
    assert hub.files(theirs, revision="refs/pr/1")["w.bin"] == b"mine"


def test_a_token_writes_in_the_organisations_of_its_user(hub, hub_org, tmp_path):
    api = HfApi()
    assert hub_org in [org["name"] for org in api.whoami()["orgs"]]
    repo_id = f"{hub_org}/shared"
    assert api.create_repo(repo_id) == f"{hub.url}/{repo_id}"
    info = api.upload_folder(repo_id=repo_id, folder_path=make_folder(tmp_path / "src", {"w.bin": b"w"}))
    api.create_branch(repo_id, branch="dev")
    api.create_tag(repo_id, tag="v1")
    assert hub.head(repo_id) == info.oid and hub.head(repo_id, "v1") == info.oid
    api.delete_repo(repo_id)
    assert not hub.repo_exists(repo_id)


def test_a_server_of_its_own_with_another_user_and_organisations(make_hub_server):
    with make_hub_server(token="hf_alice", user="alice", orgs=["team"]) as server:
        api = HfApi(endpoint=server.url, token="hf_alice")
        assert api.whoami()["name"] == "alice"
        assert [org["name"] for org in api.whoami()["orgs"]] == ["team"]
        for repo_id in ("alice/a", "team/b"):
            api.create_repo(repo_id)
            api.upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id=repo_id)
            assert server.files(repo_id)["x"] == b"x"
        assert "zoo-tester" in forbidden(lambda: api.create_repo("zoo-tester/c"))


def test_head_errors_have_no_body_and_keep_the_connection_usable(git_blob_sha1, make_hub_server):
    with make_hub_server(token="t") as server:
        server.seed_repo("org/m", {"a.txt": b"abc"})
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("HEAD", "/org/m/resolve/main/missing.txt")
        resp = conn.getresponse()
        assert resp.status == 404 and resp.read() == b""
        assert resp.headers["X-Error-Code"] == "EntryNotFound"
        assert resp.headers["X-Repo-Commit"] == server.head("org/m")
        conn.request("HEAD", "/org/m/resolve/nope/a.txt")
        resp = conn.getresponse()
        assert (resp.status, resp.read(), resp.headers["X-Error-Code"]) == (404, b"", "RevisionNotFound")
        conn.request("HEAD", "/org/other/resolve/main/a.txt")
        resp = conn.getresponse()
        assert (resp.status, resp.read(), resp.headers["X-Error-Code"]) == (401, b"", "RepoNotFound")
        conn.request("GET", "/org/m/resolve/main/a.txt", headers={"Range": "bytes=1-"})
        resp = conn.getresponse()
        assert (resp.status, resp.read(), resp.headers["Content-Range"]) == (206, b"bc", "bytes 1-2/3")
        conn.request("HEAD", "/org/m/resolve/main/a.txt")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == b""
        assert resp.headers["ETag"] == f'"{git_blob_sha1(b"abc")}"'
        assert resp.headers["Content-Length"] == "3"
        conn.close()
        assert server.request_count("HEAD") == 4
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url  # stopped: it has no URL any more


# ------------------------------------------------------------------------------------------------
# offline
# ------------------------------------------------------------------------------------------------

OFFLINE_SCRIPT = r"""
import hashlib, json, os, sys
from pathlib import Path
from huggingface_hub import constants, hf_hub_download, snapshot_download
from huggingface_hub.errors import LocalEntryNotFoundError
repo_id, missing_repo = sys.argv[1], sys.argv[2]
out = {"offline": constants.HF_HUB_OFFLINE, "cache": constants.HF_HUB_CACHE}
path = Path(snapshot_download(repo_id))
out["snapshot"] = str(path)
out["files"] = {p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(path.rglob("*")) if p.is_file()}
out["one"] = hf_hub_download(repo_id, "config.json")
for name, call in [("missing_file", lambda: hf_hub_download(repo_id, "vec_normalize.pkl")),
                   ("missing_repo", lambda: snapshot_download(missing_repo))]:
    try:
        call()
        out[name] = "no error"
    except LocalEntryNotFoundError as exc:
        out[name] = type(exc).__name__
print(json.dumps(out))
"""


def test_offline_subprocess_resolves_from_seeded_cache(hub, hub_repo_id, hf_home, tmp_path, hub_env, run_python):
    api = HfApi()
    api.create_repo(hub_repo_id)
    files = sample_files()
    info = api.upload_folder(repo_id=hub_repo_id, folder_path=make_folder(tmp_path / "src", files))
    snapshot_download(hub_repo_id)  # seed hf_home's cache over HTTP
    before = hub.request_count()

    proc = run_python(OFFLINE_SCRIPT, hub_env(hf_home, offline=True), args=[hub_repo_id, hub.new_repo_id("uncached")])

    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["offline"] is True and out["cache"] == str(hf_home / "hub")
    assert Path(out["snapshot"]).name == info.oid
    expected = {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    expected[".gitattributes"] = hashlib.sha256(hub.files(hub_repo_id)[".gitattributes"]).hexdigest()
    assert out["files"] == expected
    assert Path(out["one"]).read_bytes() == files["config.json"]
    assert out["missing_file"] == "LocalEntryNotFoundError"
    assert out["missing_repo"] == "LocalEntryNotFoundError"
    assert hub.request_count() == before  # offline: not one request reached the server


def test_offline_in_process_fixture(hub, hub_repo_id, hf_home, request):
    HfApi().create_repo(hub_repo_id)
    HfApi().upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id=hub_repo_id)
    seeded = hf_hub_download(hub_repo_id, "config.json")
    before = hub.request_count()
    request.getfixturevalue("hub_offline")
    assert hf_hub_download(hub_repo_id, "config.json") == seeded
    with pytest.raises(LocalEntryNotFoundError):
        hf_hub_download(hub_repo_id, "other.json")
    assert hub.request_count() == before
