"""Writing files so that a reader never sees half of one, and reading JSON written by others.

Every file the zoo writes outside a checkpoint (run headers, tables, reports, figures) goes
through here: written next to its target under a temporary name, then renamed over it, which
is atomic on POSIX. A crash leaves the old file or the new one, never a truncated one.

Text is UTF-8 whatever the locale (``LC_ALL=C`` must not change what a run folder holds), and
names the user typed are written back byte for byte: a folder called ``r\xff`` (not UTF-8) is
``r\xff`` in ``command.txt`` too (Python's ``surrogateescape``, as ``os.fsencode`` does).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zoo.exceptions import ZooError

#: How the zoo's text files are encoded, whatever the locale; ``errors=TEXT_ERRORS`` keeps the
#: bytes of names that are not UTF-8 (arguments and paths decoded by Python's ``surrogateescape``).
TEXT_ENCODING, TEXT_ERRORS = "utf-8", "surrogateescape"


def _temporary(path: Path) -> Path:
    # The suffix is kept so that writers choosing a format by extension (matplotlib) still can.
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write; on success it replaces ``path`` in one step, else it is removed.

    The temporary file is created (empty) before the writer runs: a place that cannot hold a file
    (``/proc``) fails here, not somewhere inside the writer's library. A filesystem error is raised
    naming ``path``, the file the user knows, not the temporary one."""
    tmp = _temporary(path)
    try:
        tmp.touch()
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno is None or exc.filename not in (None, str(tmp), tmp):
            raise
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Replace ``path`` with ``text`` in one step."""
    path = Path(path)
    with replacing(path) as tmp:
        tmp.write_text(text, encoding=TEXT_ENCODING, errors=TEXT_ERRORS)
    return path


def atomic_save_figure(figure: Any, path: str | Path, **options: Any) -> Path:
    """Save a matplotlib ``figure`` to ``path`` in one step (``options`` go to ``savefig``),
    then close it if pyplot made it."""
    path = Path(path)
    try:
        with replacing(path) as tmp:
            figure.savefig(tmp, **options)
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:  # only pyplot keeps figures alive; a plain Figure is just garbage
            pyplot.close(figure)
    return path


def make_folders(folder: str | Path) -> list[Path]:
    """Create ``folder`` and its missing parents; returns the ones this call created, outermost
    first, so that a failed write can remove exactly those (:func:`remove_folders`). If one
    cannot be made, those made so far are removed before the error is raised."""
    folder = Path(folder)
    missing = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    made: list[Path] = []
    try:
        for path in missing:
            try:
                path.mkdir()
            except FileExistsError:  # made by someone else meanwhile: fine, if it is a folder
                if not path.is_dir():
                    raise
                continue
            made.append(path)
    except OSError:
        remove_folders(made)
        raise
    return made


def remove_folders(made: list[Path]) -> None:
    """Remove folders :func:`make_folders` created, innermost first, each only if still empty."""
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            folder.rmdir()


def check_writable_file(path: str | Path, what: str = "file") -> None:
    """Refuse, in one line and before any work is done, a file that could never be written:
    a folder, a path under a file, or a place without write permission."""
    path = Path(path)
    if path.is_dir():
        raise ZooError(f"{what} {str(path)!r} is a folder; give a file name")
    if path.exists() and not path.is_file():  # a device or a pipe: never replaced by a rename
        raise ZooError(f"{what} {str(path)!r} exists and is not a regular file; give another name")
    existing = next((p for p in path.parents if p.exists()), None)
    if existing is None:
        return
    if not existing.is_dir():
        raise ZooError(f"cannot write {what} {str(path)!r}: {str(existing)!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ZooError(f"cannot write {what} {str(path)!r}: no permission to write in {str(existing)!r}")


@contextlib.contextmanager
def writing_file(path: str | Path, what: str = "file") -> Iterator[Path]:
    """A temporary path to write ``path`` through (its suffix kept, for writers that choose a
    format by it); on success it replaces ``path`` in one step. Missing folders are created. On
    any failure the temporary file and the folders made for it are removed, and a filesystem
    error becomes a one-line :class:`ZooError` naming ``what``."""
    path = Path(path)
    check_writable_file(path, what)
    made: list[Path] = []
    try:
        made = make_folders(path.parent)
        with replacing(path) as tmp:
            yield tmp
    except OSError as exc:
        remove_folders(made)
        raise ZooError(f"cannot write {what} {str(path)!r} ({exc.strerror or exc})") from None
    except BaseException:
        remove_folders(made)
        raise


def read_json_object(path: str | Path, what: str | None = None) -> dict[str, Any]:
    """The JSON object in ``path``; anything else (missing, unreadable, not JSON, not an object)
    is a one-line :class:`ZooError` naming ``what`` (default: the path)."""
    path = Path(path)
    what = what or repr(str(path))
    if not path.is_file():
        raise ZooError(f"{what} is missing")
    try:
        data = json.loads(path.read_text(encoding=TEXT_ENCODING))
    except OSError as exc:
        raise ZooError(f"{what} cannot be read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ZooError(f"{what} is not valid JSON ({getattr(exc, 'msg', None) or type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ZooError(f"{what} is not a JSON object")
    return data
