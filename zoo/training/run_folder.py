"""A run folder: what ``zoo train`` leaves behind, and how to read it back.

::

    RUN/
      config.json      agent, env, seed, budget and the resolved hyperparameters, each with
                       where it came from (default, env default, config file, --set)
      config-file.EXT  a copy of the --config file the run was started with, if any
      command.txt      the command line that started the run (and each resume)
      returns.csv      one row per finished training episode
      curve.png        the learning curve
      checkpoints/     numbered checkpoint folders, newest last
      .lock            held by the process training into the folder
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from zoo.exceptions import ZooError, one_line
from zoo.files import (
    TEXT_ENCODING,
    TEXT_ERRORS,
    atomic_save_figure,
    atomic_write_text,
    make_folders,
    read_json_object,
    remove_folders,
)
from zoo.limits import MAX_COUNT, shown

CONFIG_FILE = "config.json"
COMMAND_FILE = "command.txt"
RETURNS_FILE = "returns.csv"
CURVE_FILE = "curve.png"
LOCK_FILE = ".lock"
CONFIG_FILE_COPY = "config-file"
RETURNS_COLUMNS = ("episode", "return", "length", "env_steps", "seconds")


def default_run_dir(agent: str, gym_id: str, seed: int) -> Path:
    """``runs/AGENT__ENV__SEED__TIME``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{agent}__{gym_id.replace('/', '-')}__{seed}__{stamp}"


def _flock(f: Any, run_dir: Path) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise ZooError(f"run folder {str(run_dir)!r} is being trained by another process; "
                       "wait for it to finish or stop it first") from None


def lock(run_dir: Path) -> Any:
    """Lock ``RUN/.lock`` of an existing run so two processes never train into it; returns the
    open lock file (closing it unlocks)."""
    try:
        f = open(run_dir / LOCK_FILE, "a+", encoding="utf-8")
    except OSError as exc:
        raise ZooError(f"cannot write to run folder {str(run_dir)!r} ({exc.strerror or one_line(exc)}); "
                       "check its permissions") from None
    _flock(f, run_dir)
    return f


def _not_empty(run_dir: Path) -> ZooError:
    return ZooError(f"run folder {str(run_dir)!r} already exists and is not empty; choose another --out")


def claim(run_dir: Path) -> tuple[Any, list[Path]]:
    """Make ``run_dir`` this process's new run folder before anything is written in it.

    The claim is the creation of ``RUN/.lock`` with ``O_EXCL``: of two processes starting a
    run into the same folder at once, exactly one creates it, locks it and goes on; the other
    is refused without writing anything. Returns the open, locked lock file and the folders
    this call created (to remove with :func:`unclaim` if the start fails)."""
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise _not_empty(run_dir)
    made: list[Path] = []
    try:
        made = make_folders(run_dir)
        fd = os.open(run_dir / LOCK_FILE, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
    except FileExistsError:
        unclaim(run_dir, None, made, lock_created=False)
        raise _not_empty(run_dir) from None
    except OSError as exc:
        unclaim(run_dir, None, made, lock_created=False)
        raise ZooError(f"cannot create run folder {str(run_dir)!r} ({exc.strerror or one_line(exc)}); "
                       "choose an --out you can write") from None
    f = os.fdopen(fd, "a+")
    _flock(f, run_dir)  # cannot fail: nobody else has the file yet; resume takes the same lock
    if any(p.name != LOCK_FILE for p in run_dir.iterdir()):  # written by something that takes no claim
        unclaim(run_dir, f, made)
        raise _not_empty(run_dir)
    return f, made


def unclaim(run_dir: Path, lock_file: Any, made: Sequence[Path], *, lock_created: bool = True) -> None:
    """Undo :func:`claim` and whatever the run wrote since: the run folder is left as it was found.
    Everything in it is the run's own, since :func:`claim` found it empty."""
    if lock_file is not None:
        lock_file.close()
    if lock_created and run_dir.is_dir():
        for entry in run_dir.iterdir():
            with contextlib.suppress(OSError):
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    remove_folders(list(made))  # each only if empty: never what another process put there


def remove_run(run_dir: Path) -> None:
    """Remove a run folder so that its run can be done again from the start, unless another live
    process holds it (trains into it or resumes it: its ``.lock``, taken here first): then a
    one-line :class:`ZooError`, and nothing is removed. A process that dies lets go of the lock."""
    run_dir = Path(run_dir)
    if run_dir.is_symlink() or run_dir.is_file():
        run_dir.unlink()
        return
    if not run_dir.exists():
        return
    held = lock(run_dir)
    try:
        shutil.rmtree(run_dir)
    finally:
        held.close()


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    atomic_write_text(run_dir / CONFIG_FILE, json.dumps(config, indent=2, sort_keys=True) + "\n")


def write_header(run_dir: Path, config: dict[str, Any], argv: Sequence[str] | None = None) -> None:
    """``config.json`` and ``command.txt`` of a new run (in a folder :func:`claim` made ours)."""
    write_config(run_dir, config)
    atomic_write_text(run_dir / COMMAND_FILE, shlex.join(list(sys.argv if argv is None else argv)) + "\n")


def config_file_copy_name(suffix: str) -> str:
    """``config-file.toml``: the name of the run's copy of its ``--config`` file."""
    return CONFIG_FILE_COPY + suffix


def write_config_file_copy(run_dir: Path, suffix: str, text: str) -> Path:
    """Keep the ``--config`` file with the run, as it was read, so the run can be reproduced."""
    path = run_dir / config_file_copy_name(suffix)
    atomic_write_text(path, text)
    return path


def read_commands(run_dir: Path) -> str:
    """The command lines in ``command.txt`` ("" if it is missing), bytes that are not UTF-8 kept
    as they are (a command line may hold a path named with such bytes); a file that cannot be
    read is a one-line :class:`ZooError`."""
    path = run_dir / COMMAND_FILE
    if not (path.exists() or path.is_symlink()):
        return ""
    try:
        return path.read_bytes().decode(TEXT_ENCODING, TEXT_ERRORS)
    except OSError as exc:
        raise ZooError(f"{str(path)!r} cannot be read ({exc.strerror or one_line(exc)}): move it aside to resume "
                       "(a new one is started)") from None


def append_command(run_dir: Path, argv: Sequence[str]) -> None:
    """Add a resume's command line to ``command.txt``."""
    atomic_write_text(run_dir / COMMAND_FILE, read_commands(run_dir) + shlex.join(list(argv)) + "\n")


def read_config(run_dir: Path) -> dict[str, Any]:
    """A run folder's ``config.json``, checked to name the run's agent and env."""
    if not run_dir.is_dir():
        raise ZooError(f"run folder {str(run_dir)!r} does not exist")
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise ZooError(f"{str(run_dir)!r} is not a run folder: it has no {CONFIG_FILE}")
    config = read_json_object(path)
    if not all(isinstance(config.get(k), str) for k in ("agent", "env")):
        raise ZooError(f"{str(path)!r} does not name the run's agent and env")
    return config


def write_returns(run_dir: Path, rows: Sequence[Sequence[Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(RETURNS_COLUMNS)
    writer.writerows(rows)
    atomic_write_text(run_dir / RETURNS_FILE, buffer.getvalue())


def episode_end_steps(iteration: Any, env_steps: int, earlier: int = 0) -> list[int]:
    """The run's env step at the end of each episode of ``iteration``, ``env_steps`` being the
    run's count once the iteration is counted: its own, where the agent reports
    ``episode_steps`` (negative for an episode that ended before the iteration), else the end of
    the iteration. Never before ``earlier``, the step of the run's last episode so far."""
    count = len(iteration.episode_returns)
    within = getattr(iteration, "episode_steps", None)
    if within is None or len(within) != count:
        return [env_steps] * count
    start = env_steps - iteration.env_steps
    return [min(env_steps, max(earlier, start + int(step))) for step in within]


def check_returns_row(row: Sequence[float], number: int, previous: Sequence[float] | None = None) -> None:
    """Raise ``ValueError`` unless ``row`` can be episode ``number`` (from 1) of a run's returns,
    after ``previous``: what the training loop writes to ``returns.csv`` and saves in a
    checkpoint. Every value finite; episode, length and env steps whole counts (at most
    ``MAX_COUNT``); episodes numbered in order; env steps and seconds never going back."""
    for name, value in zip(RETURNS_COLUMNS, row):
        if not math.isfinite(value):
            raise ValueError(f"{name} {value!r} is not a finite number")
    episode, _, length, env_steps, seconds = row
    for name, value in (("episode", episode), ("length", length), ("env_steps", env_steps)):
        if not (float(value).is_integer() and 0 <= value <= MAX_COUNT):
            raise ValueError(f"{name} {value!r} is not a count from 0 to {MAX_COUNT:,}")
    if episode != number:
        raise ValueError(f"episode {episode:g} is where episode {number} belongs")
    if seconds < 0:
        raise ValueError(f"seconds {seconds:g} is negative")
    for index in (3, 4) if previous is not None else ():
        if row[index] < previous[index]:
            raise ValueError(f"{RETURNS_COLUMNS[index]} {row[index]:g} is less than the row before's "
                             f"{previous[index]:g}")


def read_returns(run_dir: Path) -> list[dict[str, float]]:
    """The rows of the run's ``returns.csv`` (none if it has none yet), each checked to be what
    the training loop writes (:func:`check_returns_row`); anything else is a one-line
    :class:`ZooError` naming the file, the line and what it holds."""
    path = Path(run_dir) / RETURNS_FILE
    if not path.exists():
        return []
    rows: list[list[float]] = []

    def refuse(line: int, problem: str) -> ZooError:
        return ZooError(f"{str(path)!r} line {line}: {problem}; expected a header {','.join(RETURNS_COLUMNS)} "
                        "and a row of 5 numbers per episode, as zoo train writes them")

    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            for cells in reader:
                line = reader.line_num
                if line == 1:
                    if tuple(cells) != RETURNS_COLUMNS:
                        raise refuse(line, f"the header is {shown(','.join(cells))}")
                    continue
                if len(cells) != len(RETURNS_COLUMNS):
                    raise refuse(line, f"the row has {len(cells)} cells, not {len(RETURNS_COLUMNS)}")
                values = []
                for name, cell in zip(RETURNS_COLUMNS, cells):
                    try:
                        values.append(float(cell))
                    except ValueError:
                        raise refuse(line, f"{name} {shown(cell)} is not a number") from None
                try:
                    check_returns_row(values, len(rows) + 1, rows[-1] if rows else None)
                except ValueError as exc:
                    raise refuse(line, str(exc)) from None
                rows.append(values)
    except UnicodeDecodeError:
        raise ZooError(f"{str(path)!r} is not UTF-8 text; expected the returns table zoo train writes") from None
    except csv.Error as exc:
        raise ZooError(f"{str(path)!r} is not CSV ({exc}); expected the returns table zoo train writes") from None
    except OSError as exc:
        raise ZooError(f"{str(path)!r} cannot be read ({exc.strerror or one_line(exc)})") from None
    return [dict(zip(RETURNS_COLUMNS, values)) for values in rows]


def running_mean(values: Sequence[float], window: int = 100) -> list[float]:
    """Mean of the last ``window`` values at each position (fewer at the start)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot_curve(run_dir: Path, returns: Sequence[float], title: str) -> Path:
    """Save the learning curve (episode returns and their 100-episode running mean) as PNG."""
    # matplotlib's object-oriented API renders to a file with its Agg canvas; pyplot (and its
    # backend machinery, 0.2 s more to import) is for interactive windows.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.subplots()
    episodes = range(1, len(returns) + 1)
    ax.plot(episodes, returns, alpha=0.3, linewidth=0.8, label="episode return")
    ax.plot(episodes, running_mean(returns), linewidth=2, label="running mean (100)")
    ax.set_xlabel("episode")
    ax.set_ylabel("return")
    ax.set_title(title)
    ax.legend(loc="best")
    fig.tight_layout()
    return atomic_save_figure(fig, Path(run_dir) / CURVE_FILE)


def finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))
