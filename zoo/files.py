"""Writing files so that a reader never sees half of one, and reading JSON written by others.

Every file the zoo writes outside a checkpoint (run headers, tables, reports, figures) goes
through here: written next to its target under a temporary name, then renamed over it, which
is atomic on POSIX. A crash leaves the old file or the new one, never a truncated one.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zoo.errors import ZooError


def _temporary(path: Path) -> Path:
    # The suffix is kept so that writers choosing a format by extension (matplotlib) still can.
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write; on success it replaces ``path`` in one step, else it is removed."""
    tmp = _temporary(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Replace ``path`` with ``text`` in one step."""
    path = Path(path)
    with replacing(path) as tmp:
        tmp.write_text(text)
    return path


def atomic_save_figure(figure: Any, path: str | Path) -> Path:
    """Save a matplotlib ``figure`` to ``path`` in one step, then close it if pyplot made it."""
    path = Path(path)
    try:
        with replacing(path) as tmp:
            figure.savefig(tmp)
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:  # only pyplot keeps figures alive; a plain Figure is just garbage
            pyplot.close(figure)
    return path


def read_json_object(path: str | Path, what: str | None = None) -> dict[str, Any]:
    """The JSON object in ``path``; anything else (missing, unreadable, not JSON, not an object)
    is a one-line :class:`ZooError` naming ``what`` (default: the path)."""
    path = Path(path)
    what = what or repr(str(path))
    if not path.is_file():
        raise ZooError(f"{what} is missing")
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ZooError(f"{what} cannot be read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ZooError(f"{what} is not valid JSON ({getattr(exc, 'msg', None) or type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ZooError(f"{what} is not a JSON object")
    return data
