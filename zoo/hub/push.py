"""``zoo push``: evaluate a checkpoint and publish it to the Hub in one commit.

The commit holds the checkpoint itself (``model.safetensors`` + ``zoo.json``),
``hyperparameters.json``, ``results.json``, the run's ``curve.png``, an optional
``replay.mp4`` and a ``README.md`` model card (:mod:`zoo.hub.card`). Evaluation is seeded, so
re-pushing an unchanged checkpoint reuses the published results and makes no commit. Only the
files of the run (or checkpoint) folder are published: a symbolic link that leads out of it is
refused, never followed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo import checkpoint as ckpt
from zoo.exceptions import ZooError, one_line
from zoo.factory import load_policy, recorded_env
from zoo.hub.card import (
    CARD_FILE,
    CURVE_FILE,
    HYPERPARAMETERS_FILE,
    RESULTS_FILE,
    VIDEO_FILE,
    build_card,
    evaluation_results,
    hyperparameters,
    results_still_valid,
    score_text,
)
from zoo.hub.errors import hub_errors
from zoo.hub.repo_ids import validate_repo_id, validate_revision
from zoo.limits import check_count, check_seed
from zoo.recording import record
from zoo.scoring import evaluate


class HubPushWarning(UserWarning):
    """Something optional (the replay video) could not be published; the push went on."""


@dataclass
class PushResult:
    repo_id: str
    revision: str
    #: huggingface_hub's ``CommitInfo`` of the head after the push (the new commit, or the
    #: unchanged head when nothing had changed).
    commit: Any
    #: False when every file was already on the Hub as it is: no commit was made.
    changed: bool
    results: dict[str, Any]
    #: True when the published results already described this checkpoint (no re-evaluation).
    reused_results: bool
    files: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.commit.commit_url


@dataclass
class RemoteState:
    """What the branch being pushed to holds now."""

    head: str | None
    files: set[str]
    results: dict[str, Any] | None


def _run_dir_of(path: Path, checkpoint: Path) -> Path | None:
    """The run folder a checkpoint belongs to, if it is inside one: one of its ``checkpoints/``,
    or its ``best/`` (``zoo push RUN --best``)."""
    from zoo.training.periodic_eval import BEST_DIR

    for candidate in (path, checkpoint.parent.parent):
        if (candidate / ckpt.CHECKPOINTS_DIR).is_dir() and checkpoint.parent == candidate / ckpt.CHECKPOINTS_DIR:
            return candidate
    if checkpoint.name == BEST_DIR and (checkpoint.parent / ckpt.CHECKPOINTS_DIR).is_dir():
        return checkpoint.parent
    return None


def _remote_state(api: Any, repo_id: str, revision: str) -> RemoteState:
    """The head commit, files and published results.json of ``revision``; a branch that does not
    exist yet is read from main, where it will start; a repo that does not exist is empty."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    with hub_errors(repo_id, revision):
        try:
            info = api.repo_info(repo_id, revision=revision)
        except RevisionNotFoundError:
            info = api.repo_info(repo_id)
        except RepositoryNotFoundError:
            return RemoteState(None, set(), None)
        files = {s.rfilename for s in info.siblings or []}
        results = None
        if RESULTS_FILE in files:
            path = hf_hub_download(repo_id, RESULTS_FILE, revision=info.sha)
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                results = json.loads(Path(path).read_text(encoding="utf-8"))
    return RemoteState(info.sha, files, results)


#: ``progress(stage, done, total)``: "evaluating" (episodes), "recording" (steps), "uploading"
#: (files; total None until the upload is done).
PushProgress = Callable[[str, float, "float | None"], None]


def _no_progress(stage: str, done: float, total: float | None) -> None:
    pass


def _record_replay(policy: Any, env: str, out: Path, seed: int, progress: PushProgress) -> None:
    """Record one episode to ``out``; a failure is a warning, never the end of the push."""
    try:
        record(policy, env, out, seed=seed, progress=lambda done, total: progress("recording", done, total))
    except Exception as exc:  # any failure of rendering or encoding: the video is optional
        out.unlink(missing_ok=True)
        warnings.warn(f"could not record {VIDEO_FILE} ({one_line(exc)}); pushing without it",
                      HubPushWarning, stacklevel=3)


@dataclass
class Pushed:
    """What is published of the checkpoint and its run, read once, before anything is sent:
    the checkpoint's files (their bytes), its metadata and policy, and the run's curve."""

    checkpoint: Path
    files: dict[str, bytes]
    meta: dict[str, Any]
    policy: Any
    curve: bytes | None


def _own_file(path: Path, root: Path) -> bytes:
    """The bytes of ``path``, a file of the folder ``root`` that is pushed. A symbolic link is
    followed only as far as it stays inside ``root``: a link out of it would publish whatever
    it names (``/etc/hostname``...)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise ZooError(f"{str(path)!r} is a symbolic link to {str(resolved)!r}, outside {str(root)!r}: zoo push "
                       "publishes only the files of the run or checkpoint folder; put the file itself there")
    try:
        return resolved.read_bytes()
    except OSError as exc:
        raise ZooError(f"{str(path)!r} cannot be read ({exc.strerror or one_line(exc)})") from None


def _read_pushed(path: Path, checkpoint: Path) -> Pushed:
    """The checkpoint folder ``checkpoint`` (found at ``path``) and its run's curve, as pushed."""
    run_dir = _run_dir_of(path, checkpoint)
    root = run_dir or checkpoint
    files = {name: _own_file(checkpoint / name, root) for name in (ckpt.WEIGHTS_FILE, ckpt.META_FILE)}
    meta = ckpt.read_meta(checkpoint)
    if hashlib.sha256(files[ckpt.WEIGHTS_FILE]).hexdigest() != meta["weights_sha256"] or \
            files[ckpt.META_FILE] != (checkpoint / ckpt.META_FILE).read_bytes():
        raise ZooError(f"checkpoint {str(checkpoint)!r} changed while it was read; push it again")
    policy = load_policy(checkpoint)  # acting only: no torch for the zoo's own agents
    has_curve = run_dir is not None and ((run_dir / CURVE_FILE).exists() or (run_dir / CURVE_FILE).is_symlink())
    curve = _own_file(run_dir / CURVE_FILE, run_dir) if has_curve else None
    return Pushed(checkpoint, files, meta, policy, curve)


def _stage(stage: Path, repo_id: str, pushed: Pushed, results: dict[str, Any], reused: bool, keep_video: bool,
           record_video: Callable[[Path], None] | None) -> tuple[list[str], list[str]]:
    """Write the files of the commit into ``stage``: ``reused`` when ``results`` are the published
    ones, ``keep_video`` when the published replay still shows this agent, ``record_video`` to
    record a new one. Returns the files staged and the published files that must go."""
    for name, data in pushed.files.items():
        (stage / name).write_bytes(data)
    parameters = hyperparameters(pushed.meta, results["env_id"])
    (stage / HYPERPARAMETERS_FILE).write_text(json.dumps(parameters, indent=2, sort_keys=True) + "\n",
                                                encoding="utf-8")
    (stage / RESULTS_FILE).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    stale = []
    if pushed.curve is not None:
        (stage / CURVE_FILE).write_bytes(pushed.curve)
    elif not reused:
        stale.append(CURVE_FILE)
    if record_video is not None and not keep_video:
        record_video(stage / VIDEO_FILE)
    if not (stage / VIDEO_FILE).exists() and not keep_video:
        stale.append(VIDEO_FILE)  # an older agent's replay must not stay next to new results
    files = sorted(p.name for p in stage.iterdir()) + [CARD_FILE]
    card = build_card(repo_id, pushed.meta, results, files + ([VIDEO_FILE] if keep_video else []))
    card.save(stage / CARD_FILE)
    return files, stale


def _commit(api: Any, repo_id: str, branch: str, revision: str | None, stage: Path, remote: RemoteState,
            stale: list[str], private: bool, message: str) -> tuple[Any, str]:
    """Create the repo and branch if needed and upload ``stage`` in one commit; returns the
    commit and the head it was made on."""
    head = remote.head
    with hub_errors(repo_id, revision):
        created = api.create_repo(repo_id, private=private, exist_ok=True)
        if private and head is not None and not api.repo_info(repo_id).private:
            api.update_repo_settings(repo_id, private=True)
        if branch != "main":
            api.create_branch(repo_id, branch=branch, exist_ok=True)
        if head is None:
            head = api.repo_info(repo_id, revision=branch).sha
        commit = api.upload_folder(repo_id=created.repo_id, folder_path=stage, revision=branch,
                                   commit_message=message,
                                   delete_patterns=[name for name in stale if name in remote.files] or None)
    return commit, head


def push_run(
    run_or_checkpoint_dir: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    eval_episodes: int = 10,
    eval_seed: int = 0,
    deterministic: bool = True,
    video: bool = True,
    revision: str | None = None,
    commit_message: str | None = None,
    progress: PushProgress | None = None,
) -> PushResult:
    """Evaluate the checkpoint at ``run_or_checkpoint_dir`` (the newest one of a run folder)
    and publish it to ``repo_id`` in one commit on ``revision`` (a branch, created from main if
    needed; default main). Re-pushing an unchanged checkpoint makes no commit. ``progress``
    hears of each stage as it goes.

    The score is ``eval_episodes`` episodes from ``eval_seed``: greedy actions when
    ``deterministic``, else sampled from the policy, as the Deep RL course evaluates. The env is
    published under its :attr:`zoo.EnvEntry.hub_id` (``Pixelcopter-PLE-v0`` for the zoo's
    Pixelcopter), the id the course leaderboard filters on."""
    from huggingface_hub import HfApi

    validate_repo_id(repo_id)
    validate_revision(revision)
    check_count(eval_episodes, "--eval-episodes")
    check_seed(eval_seed, "the evaluation seed")
    branch = revision or "main"
    path = Path(run_or_checkpoint_dir)
    # Read once, whole (a run still training may prune or replace the checkpoint meanwhile).
    pushed = ckpt.read_newest(path, lambda checkpoint: _read_pushed(path, checkpoint))
    meta, policy = pushed.meta, pushed.policy
    hub_env_id = recorded_env(meta, f"checkpoint {str(pushed.checkpoint)!r}: {ckpt.META_FILE}").hub_id
    progress = progress or _no_progress

    api = HfApi()
    remote = _remote_state(api, repo_id, branch)
    reused = results_still_valid(remote.results, meta, episodes=eval_episodes, eval_seed=eval_seed,
                                 deterministic=deterministic, env_id=hub_env_id)
    if reused:
        results = remote.results
    else:
        score = evaluate(policy, meta["env"], episodes=eval_episodes, seed=eval_seed, deterministic=deterministic,
                         progress=lambda done, total: progress("evaluating", done, total))
        results = evaluation_results(meta, score, eval_seed=eval_seed, env_id=hub_env_id)

    def record_video(out: Path) -> None:
        _record_replay(policy, meta["env"], out, eval_seed, progress)

    # The replay published with these very results still shows this agent: keep it.
    keep_video = reused and VIDEO_FILE in remote.files
    message = commit_message or f"Push {meta['agent']} on {hub_env_id}: mean_reward {score_text(results)}"
    with tempfile.TemporaryDirectory(prefix="zoo-push-") as tmp:
        files, stale = _stage(Path(tmp), repo_id, pushed, results, reused, keep_video, record_video if video else None)
        progress("uploading", 0, None)
        commit, head = _commit(api, repo_id, branch, revision, Path(tmp), remote, stale, private, message)
        progress("uploading", len(files), len(files))
    return PushResult(repo_id, branch, commit, commit.oid != head, results, reused, files)
