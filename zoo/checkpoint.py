"""Checkpoints: a folder holding ``model.safetensors`` (tensors) and ``zoo.json`` (metadata),
and, for a run that can be resumed, ``training.safetensors`` + ``training.json`` (optimiser
state, random streams, counters: see :mod:`zoo.training.state`).

Nothing here unpickles: tensors come from safetensors, everything else from JSON. A
checkpoint folder is written under a temporary name (``.NAME.tmp-*``), fsynced and renamed
into place, so a save that is interrupted leaves either the previous checkpoint or the new
one, never a half-written one. Replacing an existing folder takes two renames (the old one
aside to ``.NAME.old-*``, the new one in); a reader that finds the folder missing between
them uses whichever complete one is left over (:func:`find_checkpoint`), and a writer puts it
back in place (:func:`recover_checkpoints`). An old checkpoint is removed by renaming it away
first (:func:`remove_checkpoint`), and a reader of a run's newest checkpoint picks again when
the one it reads goes meanwhile (:func:`read_newest`). Every file's SHA-256 is recorded in
``zoo.json``, and ``zoo.json`` carries the SHA-256 of the rest of itself (``meta_sha256``), all
checked on load, so a truncated or altered file is refused, not misread. A checksum is not a
signature (whoever edits a file can recompute it), so nothing in ``zoo.json`` can make the zoo
import code: the env it names is checked by :func:`zoo.env_names.env_name_from_file`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from zoo.env_names import env_name_from_file
from zoo.exceptions import ZooError
from zoo.files import read_json_object
from zoo.versions import package_versions, zoo_version

WEIGHTS_FILE = "model.safetensors"
META_FILE = "zoo.json"
TRAINING_TENSORS_FILE = "training.safetensors"
TRAINING_DATA_FILE = "training.json"
_TMP, _OLD, _PRUNED = ".tmp-", ".old-", ".pruned-"
FORMAT = "agent-zoo-checkpoint"
#: Bumped when the layout or meaning of a checkpoint changes incompatibly.
FORMAT_VERSION = 1
CHECKPOINTS_DIR = "checkpoints"
#: The key of ``zoo.json`` that holds the checksum of the rest of it (absent before agent-zoo 0.2).
META_SHA256 = "meta_sha256"
T = TypeVar("T")


def meta_sha256(meta: dict[str, Any]) -> str:
    """The checksum of a checkpoint's metadata: SHA-256 of its JSON in one canonical form (keys
    sorted, no spaces), every key but ``meta_sha256`` itself. Computed on the parsed data, so it
    covers exactly what is read (a duplicated key counts as read), whatever the file's layout."""
    body = {key: value for key, value in meta.items() if key != META_SHA256}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _write_failure(exc: Exception, path: Path) -> OSError:
    """safetensors' failure to write ``path`` (``SafetensorError: ... I/O error: No space left on
    device (os error 28)``) as the OSError it reports."""
    found = re.search(r"\(os error (\d+)\)", str(exc))
    code = int(found.group(1)) if found else errno.EIO
    return OSError(code, os.strerror(code) if found else str(exc), str(path))


def write_checkpoint(directory: Path, tensors: dict[str, Any], meta: dict[str, Any],
                     training: tuple[dict[str, Any], dict[str, Any]] | None = None) -> Path:
    """Write ``tensors`` and ``meta`` (and ``training``, a ``(tensors, data)`` pair of resumable
    training state) as a checkpoint folder at ``directory``, atomically. A write that fails (a
    full disk) raises OSError and leaves nothing: the previous checkpoint stays as it was."""
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    def save_tensors(values: dict[str, Any], path: Path) -> None:
        try:
            save_file({k: v.detach().contiguous().cpu() for k, v in values.items()}, str(path))
        except SafetensorError as exc:
            raise _write_failure(exc, directory) from None

    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}{_TMP}", dir=directory.parent))
    tmp.chmod(0o755)  # mkdtemp's 0700 would make a shipped or shared checkpoint unreadable to others
    try:
        weights = tmp / WEIGHTS_FILE
        save_tensors(tensors, weights)
        files = [weights]
        extra: dict[str, Any] = {}
        if training is not None:
            save_tensors(training[0], tmp / TRAINING_TENSORS_FILE)
            (tmp / TRAINING_DATA_FILE).write_text(json.dumps(training[1], sort_keys=True) + "\n", encoding="utf-8")
            files += [tmp / TRAINING_TENSORS_FILE, tmp / TRAINING_DATA_FILE]
            extra["training_sha256"] = {name: _sha256(tmp / name)
                                        for name in (TRAINING_TENSORS_FILE, TRAINING_DATA_FILE)}
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "zoo_version": zoo_version(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": package_versions(),
            **meta,
            **extra,
            "weights_sha256": _sha256(weights),
        }
        meta = json.loads(json.dumps(meta))  # as a reader will parse it (tuples are lists, keys are strings)
        meta[META_SHA256] = meta_sha256(meta)
        # zoo.json last: a folder with a complete zoo.json has every file it vouches for.
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        for path in (*files, tmp / META_FILE):
            path.chmod(0o644)
            _fsync_file(path)
        _fsync_dir(tmp)
        if directory.exists():
            # Swap: the old folder stays complete until the new one is in place.
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}{_OLD}", dir=directory.parent))
            os.rename(directory, old / directory.name)
            os.rename(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, directory)
        _fsync_dir(directory.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def _leftovers(folder: Path, name: str | None = None) -> list[tuple[str, Path]]:
    """Complete checkpoints a killed save left under temporary names in ``folder``, as
    ``(target name, folder)``: a finished new one (``.NAME.tmp-*``) first, then the old one
    set aside during a swap (``.NAME.old-*/NAME``)."""
    found: list[tuple[str, Path]] = []
    if not folder.is_dir():
        return found
    for kind in (_TMP, _OLD):
        for entry in sorted(folder.glob(f".{name or '*'}{kind}*")):
            target = entry.name[1:].rsplit(kind, 1)[0]
            candidate = entry if kind == _TMP else entry / target
            if entry.is_dir() and _is_complete(candidate):
                found.append((target, candidate))
    return found


def _is_complete(folder: Path) -> bool:
    try:
        read_meta(folder)
    except (ZooError, OSError):  # (OSError: renamed into place meanwhile by the save that made it)
        return False
    return True


def recover_checkpoints(folder: Path) -> None:
    """Clean up after saves that were killed (for the one process writing into ``folder``):
    a complete leftover whose target name is missing is put in place, the rest removed."""
    folder = Path(folder)
    for target, candidate in _leftovers(folder):
        if not (folder / target).exists():
            os.rename(candidate, folder / target)
    for entry in folder.glob(".*"):
        if entry.is_dir() and any(kind in entry.name for kind in (_TMP, _OLD, _PRUNED)):
            shutil.rmtree(entry, ignore_errors=True)


#: How often :func:`find_checkpoint` lists a run's checkpoints again when a listing finds none.
_LIST_ATTEMPTS = 20


def _candidates(folder: Path) -> dict[str, Path]:
    """The checkpoints in ``folder`` by name, and the complete leftovers of killed saves."""
    candidates = {p.name: p for p in folder.glob("*") if p.is_dir() and not p.name.startswith(".")} \
        if folder.is_dir() else {}
    for target, leftover in _leftovers(folder):  # a save killed before its rename: read in place
        candidates.setdefault(target, leftover)
    return candidates


def find_checkpoint(path: str | Path) -> Path:
    """The checkpoint folder at ``path``: the folder itself, or the newest one in a run folder."""
    path = Path(path)
    if not path.exists():
        # A save killed half-way through replacing this folder: the old or the new one is
        # complete under a temporary name (read in place: a reader never moves files).
        leftovers = _leftovers(path.parent, path.name)
        if leftovers:
            return leftovers[0][1]
        raise ZooError(f"checkpoint {str(path)!r} does not exist")
    if (path / META_FILE).exists() or (path / WEIGHTS_FILE).exists():
        return path
    folder = path / CHECKPOINTS_DIR
    candidates = _candidates(folder)
    # Listing checkpoints/ while a save renames the new folder in and pruning removes the old one
    # may see neither (a directory listing is not a snapshot): list again before giving up.
    for _ in range(_LIST_ATTEMPTS):
        if candidates or not folder.is_dir():
            break
        candidates = _candidates(folder)
    if not candidates:
        raise ZooError(
            f"no checkpoint in {str(path)!r}: expected a folder with {META_FILE} and {WEIGHTS_FILE}, "
            f"or a run folder with {CHECKPOINTS_DIR}/"
        )
    return candidates[max(candidates)]


#: How often :func:`read_newest` picks again when what it read was removed or replaced meanwhile.
_READ_ATTEMPTS = 20


def read_newest(path: str | Path, read: Callable[[Path], T]) -> T:
    """``read(folder)`` for the checkpoint folder at ``path`` (:func:`find_checkpoint`: a run
    folder's newest). A run that is training prunes its older checkpoints (``--keep``) and
    replaces ``best/``: when the folder read was removed or replaced while it was read, the
    newest is picked and read again."""
    attempts = _READ_ATTEMPTS
    while True:
        folder = find_checkpoint(path)
        before = _identity(folder)
        try:
            return read(folder)
        except (ZooError, OSError):
            attempts -= 1
            if attempts == 0 or (before is not None and _identity(folder) == before):
                raise


def _identity(folder: Path) -> tuple[int, int] | None:
    try:
        stat = folder.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def remove_checkpoint(folder: Path) -> None:
    """Remove a checkpoint folder so that a reader finds it whole or not at all: it is renamed
    away in one step, then deleted (see :func:`read_newest`)."""
    aside = folder.with_name(f".{folder.name}{_PRUNED}{os.getpid()}")
    try:
        os.rename(folder, aside)
    except OSError:
        return
    shutil.rmtree(aside, ignore_errors=True)


def read_meta(checkpoint: Path) -> dict[str, Any]:
    """The checkpoint's metadata, checked for completeness and format compatibility."""
    meta_path, weights_path = checkpoint / META_FILE, checkpoint / WEIGHTS_FILE
    for required in (meta_path, weights_path):
        if not required.is_file():
            raise ZooError(f"checkpoint {str(checkpoint)!r} is missing {required.name}")
    meta = read_json_object(meta_path, f"checkpoint {str(checkpoint)!r}: {META_FILE}")
    if meta.get("format") != FORMAT:
        raise ZooError(f"checkpoint {str(checkpoint)!r}: {META_FILE} is not an agent-zoo checkpoint")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise ZooError(
            f"checkpoint {str(checkpoint)!r} uses format version {version!r} "
            f"(written by agent-zoo {meta.get('zoo_version', '?')}); this agent-zoo {zoo_version()} "
            f"reads format {FORMAT_VERSION}: install a matching agent-zoo version"
        )
    _check_meta_sha256(checkpoint, meta)
    for key in ("agent", "env", "config", "weights_sha256"):
        if key not in meta:
            raise ZooError(f"checkpoint {str(checkpoint)!r}: {META_FILE} has no {key!r}")
    for key, kind in (("agent", str), ("env", str), ("config", dict), ("weights_sha256", str)):
        if not isinstance(meta[key], kind):
            raise ZooError(f"checkpoint {str(checkpoint)!r}: {META_FILE} has a malformed {key!r}")
    env_name_from_file(meta["env"], f"checkpoint {str(checkpoint)!r}: {META_FILE}")
    if _sha256(weights_path) != meta["weights_sha256"]:
        raise ZooError(
            f"checkpoint {str(checkpoint)!r}: {WEIGHTS_FILE} does not match its recorded checksum "
            "(truncated or corrupted); use another checkpoint"
        )
    return meta


def _check_meta_sha256(checkpoint: Path, meta: dict[str, Any]) -> None:
    """Refuse metadata that is not what was written. Checkpoints written before agent-zoo 0.2
    have no checksum of their metadata, and still load (their files are checked as before)."""
    if META_SHA256 not in meta:
        return
    try:
        same = meta[META_SHA256] == meta_sha256(meta)
    except (ValueError, TypeError, RecursionError):  # numbers or nesting JSON cannot write back
        same = False
    if not same:
        raise ZooError(f"checkpoint {str(checkpoint)!r}: {META_FILE} does not match its recorded checksum (edited or "
                       "corrupted); use another checkpoint")


def _load_tensors(path: Path, numpy: bool = False) -> dict[str, Any]:
    if numpy:
        from safetensors.numpy import load, load_file
    else:
        from safetensors.torch import load, load_file
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # safetensors opens UTF-8 paths only; a folder named with other bytes is read here
        return load(path.read_bytes())
    return load_file(str(path))


def read_tensors(checkpoint: Path, *, numpy: bool = False) -> dict[str, Any]:
    """The checkpoint's weights as torch tensors, or as numpy arrays (``numpy=True``: no torch
    import, for processes that only act)."""
    from safetensors import SafetensorError

    try:
        return _load_tensors(checkpoint / WEIGHTS_FILE, numpy=numpy)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ZooError(f"checkpoint {str(checkpoint)!r}: cannot read {WEIGHTS_FILE} ({exc})") from None


def has_training_state(checkpoint: Path) -> bool:
    return "training_sha256" in read_meta(checkpoint)


def read_training_state(checkpoint: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``(tensors, data)`` training state saved with a checkpoint, checked against the
    checksums in its metadata."""
    from safetensors import SafetensorError

    meta = read_meta(checkpoint)
    recorded = meta.get("training_sha256")
    if not isinstance(recorded, dict):
        raise ZooError(f"checkpoint {str(checkpoint)!r} holds no training state (agent {meta['agent']!r} "
                       "cannot resume, or it was saved for acting only)")
    for name in (TRAINING_TENSORS_FILE, TRAINING_DATA_FILE):
        path = checkpoint / name
        if not path.is_file():
            raise ZooError(f"checkpoint {str(checkpoint)!r} is missing {name}")
        if _sha256(path) != recorded.get(name):
            raise ZooError(f"checkpoint {str(checkpoint)!r}: {name} does not match its recorded checksum "
                           "(truncated or corrupted)")
    try:
        tensors = _load_tensors(checkpoint / TRAINING_TENSORS_FILE)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ZooError(f"checkpoint {str(checkpoint)!r}: cannot read its training state ({exc})") from None
    data = read_json_object(checkpoint / TRAINING_DATA_FILE, f"checkpoint {str(checkpoint)!r}: {TRAINING_DATA_FILE}")
    return tensors, data
