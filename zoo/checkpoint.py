"""Checkpoints: a folder holding ``model.safetensors`` (tensors) and ``zoo.json`` (metadata).

Nothing here unpickles: tensors come from safetensors, everything else from JSON. A
checkpoint folder is written under a temporary name and renamed into place, so a save that
is interrupted leaves either the previous checkpoint or the new one, never a half-written one.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from zoo.errors import ZooError

WEIGHTS_FILE = "model.safetensors"
META_FILE = "zoo.json"
FORMAT = "agent-zoo-checkpoint"
#: Bumped when the layout or meaning of a checkpoint changes incompatibly.
FORMAT_VERSION = 1
CHECKPOINTS_DIR = "checkpoints"


def zoo_version() -> str:
    try:
        return metadata.version("agent-zoo")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("torch", "gymnasium", "numpy", "stable-baselines3", "agent-zoo"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


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


def write_checkpoint(directory: Path, tensors: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Write ``tensors`` and ``meta`` as a checkpoint folder at ``directory``, atomically."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    tmp.chmod(0o755)  # mkdtemp's 0700 would make a shipped or shared checkpoint unreadable to others
    try:
        weights = tmp / WEIGHTS_FILE
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(weights))
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "zoo_version": zoo_version(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": package_versions(),
            **meta,
            "weights_sha256": _sha256(weights),
        }
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        for path in (weights, tmp / META_FILE):
            path.chmod(0o644)
            with open(path, "rb") as f:
                os.fsync(f.fileno())
        if directory.exists():
            # Swap: the old folder stays complete until the new one is in place.
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
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


def find_checkpoint(path: str | Path) -> Path:
    """The checkpoint folder at ``path``: the folder itself, or the newest one in a run folder."""
    path = Path(path)
    if not path.exists():
        raise ZooError(f"checkpoint {str(path)!r} does not exist")
    if (path / META_FILE).exists() or (path / WEIGHTS_FILE).exists():
        return path
    candidates = sorted(
        (p for p in (path / CHECKPOINTS_DIR).glob("*") if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    ) if (path / CHECKPOINTS_DIR).is_dir() else []
    if not candidates:
        raise ZooError(
            f"no checkpoint in {str(path)!r}: expected a folder with {META_FILE} and {WEIGHTS_FILE}, "
            f"or a run folder with {CHECKPOINTS_DIR}/"
        )
    return candidates[-1]


def read_meta(checkpoint: Path) -> dict[str, Any]:
    """The checkpoint's metadata, checked for completeness and format compatibility."""
    meta_path, weights_path = checkpoint / META_FILE, checkpoint / WEIGHTS_FILE
    for required in (meta_path, weights_path):
        if not required.is_file():
            raise ZooError(f"checkpoint {str(checkpoint)!r} is missing {required.name}")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ZooError(f"checkpoint {str(checkpoint)!r}: {META_FILE} is not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ZooError(f"checkpoint {str(checkpoint)!r}: {META_FILE} is not an agent-zoo checkpoint")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise ZooError(
            f"checkpoint {str(checkpoint)!r} uses format version {version!r} "
            f"(written by agent-zoo {meta.get('zoo_version', '?')}); this agent-zoo {zoo_version()} "
            f"reads format {FORMAT_VERSION}: install a matching agent-zoo version"
        )
    for key in ("agent", "env", "config", "weights_sha256"):
        if key not in meta:
            raise ZooError(f"checkpoint {str(checkpoint)!r}: {META_FILE} has no {key!r}")
    if _sha256(weights_path) != meta["weights_sha256"]:
        raise ZooError(
            f"checkpoint {str(checkpoint)!r}: {WEIGHTS_FILE} does not match its recorded checksum "
            "(truncated or corrupted); use another checkpoint"
        )
    return meta


def read_tensors(checkpoint: Path) -> dict[str, Any]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(checkpoint / WEIGHTS_FILE))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ZooError(f"checkpoint {str(checkpoint)!r}: cannot read {WEIGHTS_FILE} ({exc})") from None
