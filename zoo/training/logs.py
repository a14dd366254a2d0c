"""The run's logs in the formats RL tools already read.

* ``progress.csv``: stable-baselines3's logger CSV (one row per iteration, a column per key,
  the header widened when a new key appears), with SB3's keys: ``rollout/ep_rew_mean``,
  ``rollout/ep_len_mean``, ``time/fps``, ``time/iterations``, ``time/time_elapsed``,
  ``time/total_timesteps``, ``train/...`` (what the agent reports) and ``eval/...``.
* TensorBoard event files with the same scalars, at the env step (``tensorboard --logdir runs``).
* ``monitor.csv``: SB3's Monitor format (a JSON header line, then ``r,l,t`` per episode), so
  ``stable_baselines3.common.results_plotter.load_results(run_dir)`` reads a zoo run.

The formats are SB3's; the code is not, so that training the zoo's own agents never imports
stable-baselines3. A resumed run rewinds each file to its checkpoint: rows after it are
dropped and TensorBoard purges the events past its env step.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.exceptions import ZooError
from zoo.files import atomic_write_text
from zoo.limits import MAX_COUNT, shown

PROGRESS_FILE = "progress.csv"
MONITOR_FILE = "monitor.csv"
MONITOR_COLUMNS = ("r", "l", "t")
ITERATIONS_KEY = "time/iterations"
#: SB3 averages rollout statistics over its last 100 episodes.
EPISODE_WINDOW = 100


def metric_key(name: str) -> str:
    """An agent's metric name as a logger key: ``loss`` -> ``train/loss``; keys that already name
    their section (``train/entropy_loss``, ``rollout/exploration_rate``) are kept."""
    return name if "/" in name else f"train/{name}"


class ProgressCSV:
    """``progress.csv`` as SB3's ``CSVOutputFormat`` writes it; a resumed run starts from the
    keys and rows it keeps (:func:`read_kept_logs`)."""

    def __init__(self, path: Path, keys: Sequence[str] = (), rows: Sequence[dict[str, str]] = ()) -> None:
        self.path = path
        self.keys: list[str] = list(keys)
        #: Each row as the text of its cells, by key.
        self.rows: list[dict[str, str]] = list(rows)
        self._rewrite()

    @staticmethod
    def _cell(value: Any) -> str:
        if isinstance(value, str):  # quoted, quotes doubled, as SB3 does
            return '"' + value.replace('"', '""') + '"'
        return "" if value is None else str(value)

    def _line(self, cells: Mapping[str, str]) -> str:
        return ",".join(cells.get(key) or "" for key in self.keys) + "\n"

    def _rewrite(self) -> None:
        atomic_write_text(self.path, ",".join(self.keys) + "\n" + "".join(self._line(r) for r in self.rows))

    def write(self, values: Mapping[str, Any]) -> None:
        cells = {key: self._cell(value) for key, value in values.items()}
        self.rows.append(cells)
        new = [key for key in values if key not in self.keys]
        if new:  # a wider header: every earlier row gets empty cells, as SB3 does
            self.keys += new
            self._rewrite()
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(self._line(cells))


class MonitorCSV:
    """``monitor.csv`` in SB3's Monitor format: ``#{"t_start": ..., "env_id": ...}``, then
    ``r,l,t`` per finished episode, ``t`` being the run's training seconds at that episode.
    A resumed run keeps its own ``t_start``."""

    def __init__(self, path: Path, env_id: str, rows: Sequence[Sequence[Any]], t_start: float | None = None) -> None:
        self.path = path
        buffer = io.StringIO()
        buffer.write("#" + json.dumps({"t_start": time.time() if t_start is None else t_start,
                                       "env_id": env_id}) + "\n")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(MONITOR_COLUMNS)
        writer.writerows(self._cells(row) for row in rows)
        atomic_write_text(path, buffer.getvalue())

    @staticmethod
    def _cells(row: Sequence[Any]) -> tuple[Any, ...]:
        # A returns row is (episode, return, length, env_steps, seconds).
        return round(float(row[1]), 6), int(row[2]), round(float(row[4]), 6)

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with open(self.path, "a", newline="", encoding="utf-8") as f:
                csv.writer(f, lineterminator="\n").writerows(self._cells(row) for row in rows)


# -- what a resumed run keeps ------------------------------------------------------------------------
@dataclass
class KeptLogs:
    """What a resumed run keeps of its logs: ``progress.csv``'s keys and its rows up to the
    checkpoint, and ``monitor.csv``'s start time (None: the file is missing, a new one starts)."""

    progress_keys: list[str] = field(default_factory=list)
    progress_rows: list[dict[str, str]] = field(default_factory=list)
    t_start: float | None = None


class _NotTheLog(Exception):
    """A line of a log that is not what the zoo writes: (line number, what it holds)."""


def read_kept_logs(run_dir: Path, iterations: int) -> KeptLogs:
    """What a run resumed after ``iterations`` iterations keeps of its logs, read and checked
    before the resume writes anything. Each file must be what the zoo writes: UTF-8 CSV whose
    every line has its header's cells, each a finite number (or, in ``progress.csv``, empty),
    with iterations counted one by one; only a last line without its newline (a write cut short
    by a kill) may be anything, and is dropped. Anything else is a one-line :class:`ZooError`
    naming the file and the line. A missing file is fine: the resume starts a new one; so is a
    ``progress.csv`` of an empty header alone (a run stopped before it logged a row)."""
    kept = KeptLogs()
    progress, monitor = run_dir / PROGRESS_FILE, run_dir / MONITOR_FILE
    with _checking(progress, "SB3 progress log"):
        if progress.exists() or progress.is_symlink():
            kept.progress_keys, kept.progress_rows = _kept_progress(progress, iterations)
    kept.t_start = read_monitor_start(monitor)
    return kept


def read_monitor_start(path: Path) -> float | None:
    """The start time of the SB3 Monitor file at ``path``, checked as :func:`read_kept_logs`
    checks it (None: the file is missing)."""
    with _checking(path, "SB3 Monitor file"):
        if path.exists() or path.is_symlink():
            return _monitor_start(path)
    return None


@contextlib.contextmanager
def _checking(path: Path, what: str) -> Iterator[None]:
    """Turn whatever reading ``path`` raises into one line naming it and what to do."""
    advice = f"not the {what} zoo train writes; move it aside to resume (a new one is started)"
    try:
        yield
    except _NotTheLog as exc:
        line, problem = exc.args
        raise ZooError(f"{str(path)!r} line {line}: {problem}: {advice}") from None
    except UnicodeDecodeError:
        raise ZooError(f"{str(path)!r} is not UTF-8 text: {advice}") from None
    except csv.Error as exc:
        raise ZooError(f"{str(path)!r} is not CSV ({exc}): {advice}") from None
    except OSError as exc:
        raise ZooError(f"{str(path)!r} cannot be read ({exc.strerror or exc}): {advice}") from None


def _lines(path: Path) -> list[tuple[int, str, bool]]:
    """The file's lines as ``(number, text, complete)``: only a last line that lacks its newline
    (a write cut short) is incomplete."""
    lines = path.read_bytes().decode("utf-8").split("\n")
    cut = lines.pop()  # "" when the file ends with its newline
    return [(number, line, True) for number, line in enumerate(lines, 1)] + \
        ([(len(lines) + 1, cut, False)] if cut else [])


def _cells(line: str) -> list[str]:
    return next(csv.reader([line]), [])


def _numbers(number: int, line: str, keys: Sequence[str], *, empty: bool) -> dict[str, float | None]:
    """A line's cells by key, each a finite number (or None for an empty cell, where ``empty``)."""
    cells = _cells(line)
    if len(cells) != len(keys):
        raise _NotTheLog(number, f"{len(cells)} cells under a header of {len(keys)}")
    values: dict[str, float | None] = {}
    for key, cell in zip(keys, cells):
        try:
            value = None if empty and cell == "" else float(cell)
        except ValueError:
            raise _NotTheLog(number, f"{key} {shown(cell)} is not a number") from None
        if value is not None and not math.isfinite(value):
            raise _NotTheLog(number, f"{key} {shown(cell)} is not a finite number")
        values[key] = value
    return values


def _iteration(number: int, value: float | None, before: int | None) -> int:
    """A progress line's iteration: a whole number from 1, one more than the line before's."""
    if value is None or not value.is_integer() or not 1 <= value <= MAX_COUNT or \
            (before is not None and value != before + 1):
        wanted = "a whole number from 1" if before is None else f"{before + 1}, one more than the line before's"
        raise _NotTheLog(number, f"{ITERATIONS_KEY} is {'empty' if value is None else f'{value:g}'}, expected {wanted}")
    return int(value)


def _kept_progress(path: Path, iterations: int) -> tuple[list[str], list[dict[str, str]]]:
    lines = _lines(path)
    if lines == [(1, "", True)]:  # what a run writes until it logs its first row (no key yet)
        return [], []
    keys = _cells(lines[0][1]) if lines and lines[0][2] else []
    if ITERATIONS_KEY not in keys or len(set(keys)) != len(keys) or "" in keys:
        raise _NotTheLog(1, f"the header {shown(','.join(keys))} has no {ITERATIONS_KEY} or repeats a key")
    rows, before = [], None
    for number, line, complete in lines[1:]:
        try:
            before = _iteration(number, _numbers(number, line, keys, empty=True)[ITERATIONS_KEY], before)
        except _NotTheLog:
            if complete:
                raise
            break  # cut short by a kill, after the checkpoint: it goes anyway
        if before <= iterations:
            rows.append(dict(zip(keys, _cells(line))))
    return keys, rows


def _monitor_start(path: Path) -> float:
    lines = _lines(path)
    try:
        header = json.loads(lines[0][1][1:]) if lines and lines[0][1].startswith("#") else None
    except (ValueError, RecursionError):
        header = None
    t_start = header.get("t_start") if isinstance(header, dict) else None
    if isinstance(t_start, bool) or not isinstance(t_start, (int, float)) or not math.isfinite(t_start):
        raise _NotTheLog(1, 'it is not #{"t_start": <seconds>, "env_id": ...}')
    if len(lines) < 2 or tuple(_cells(lines[1][1])) != MONITOR_COLUMNS:
        raise _NotTheLog(2, f"the header is not {','.join(MONITOR_COLUMNS)}")
    for number, line, complete in lines[2:]:
        try:
            _numbers(number, line, MONITOR_COLUMNS, empty=False)
        except _NotTheLog:
            if complete:
                raise
    return float(t_start)
def _tensorboard_dir(run_dir: Path) -> tuple[str, int | None]:
    """Where TensorBoard writes the events of ``run_dir``, and a descriptor to close afterwards.
    TensorBoard takes only paths that are valid UTF-8; a folder named with other bytes (Linux
    allows them) is reached through its open descriptor, at ``/proc/self/fd/N``."""
    path = str(run_dir)
    try:
        path.encode("utf-8")
        return path, None
    except UnicodeEncodeError:
        pass
    fd = os.open(run_dir, os.O_RDONLY | os.O_DIRECTORY)
    return f"/proc/self/fd/{fd}", fd


class TrainingLog:
    """Everything a run logs as it trains; see the module docstring."""

    def __init__(self, run_dir: Path, env_id: str, *, rows: Sequence[Sequence[Any]] = (), env_steps: int = 0,
                 kept: KeptLogs | None = None) -> None:
        """The logs of a new run, or (``kept``: :func:`read_kept_logs`) of a resumed one, rewound
        to its checkpoint: ``rows`` are the episodes so far, ``env_steps`` the checkpoint's."""
        from torch.utils.tensorboard import SummaryWriter

        kept = kept or KeptLogs()
        self.progress = ProgressCSV(run_dir / PROGRESS_FILE, kept.progress_keys, kept.progress_rows)
        self.monitor = MonitorCSV(run_dir / MONITOR_FILE, env_id, rows, kept.t_start)
        # purge_step: events a killed session wrote past the checkpoint it resumes from vanish.
        log_dir, self._dir_fd = _tensorboard_dir(run_dir)
        self.tensorboard = SummaryWriter(log_dir=log_dir, purge_step=env_steps or None)
        self.session_steps = env_steps  # where this session started, for time/fps
        self.session_start = time.perf_counter()

    def iteration(self, *, iterations: int, env_steps: int, seconds: float, rows: Sequence[Sequence[Any]],
                  new_rows: Sequence[Sequence[Any]], metrics: Mapping[str, float],
                  extra: Mapping[str, float] | None = None) -> dict[str, Any]:
        """Log one iteration: ``rows`` are all episodes so far, ``new_rows`` this iteration's;
        returns the logged values."""
        self.monitor.write(new_rows)
        values: dict[str, Any] = {}
        recent = rows[-EPISODE_WINDOW:]
        if recent:
            values["rollout/ep_rew_mean"] = sum(float(r[1]) for r in recent) / len(recent)
            values["rollout/ep_len_mean"] = sum(float(r[2]) for r in recent) / len(recent)
        elapsed = max(time.perf_counter() - self.session_start, 1e-9)
        values["time/fps"] = int((env_steps - self.session_steps) / elapsed)
        values[ITERATIONS_KEY] = iterations
        values["time/time_elapsed"] = int(seconds)
        values["time/total_timesteps"] = env_steps
        values.update({metric_key(name): float(value) for name, value in metrics.items()})
        values.update(extra or {})
        self.progress.write(values)
        for key, value in values.items():
            self.tensorboard.add_scalar(key, value, env_steps)
        return values

    def flush(self) -> None:
        self.tensorboard.flush()

    def close(self) -> None:
        self.tensorboard.close()
        if self._dir_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._dir_fd)
