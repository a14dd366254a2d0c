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
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo.files import atomic_write_text

PROGRESS_FILE = "progress.csv"
MONITOR_FILE = "monitor.csv"
#: SB3 averages rollout statistics over its last 100 episodes.
EPISODE_WINDOW = 100


def metric_key(name: str) -> str:
    """An agent's metric name as a logger key: ``loss`` -> ``train/loss``; keys that already name
    their section (``train/entropy_loss``, ``rollout/exploration_rate``) are kept."""
    return name if "/" in name else f"train/{name}"


class ProgressCSV:
    """``progress.csv`` as SB3's ``CSVOutputFormat`` writes it."""

    def __init__(self, path: Path, keep_until_iteration: int = 0) -> None:
        self.path = path
        self.keys: list[str] = []
        #: Each row as the text of its cells, by key.
        self.rows: list[dict[str, str]] = []
        if keep_until_iteration and path.is_file():
            with open(path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                self.keys = list(reader.fieldnames or [])
                self.rows = [row for row in reader if float(row.get("time/iterations") or 0) <= keep_until_iteration]
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
    ``r,l,t`` per finished episode, ``t`` being the run's training seconds at that episode."""

    def __init__(self, path: Path, env_id: str, rows: Sequence[Sequence[Any]]) -> None:
        self.path = path
        t_start = time.time()
        if path.is_file():  # keep the run's own start when it resumes
            first = path.read_text(encoding="utf-8").split("\n", 1)[0]
            try:
                t_start = float(json.loads(first[1:])["t_start"])
            except (ValueError, KeyError, TypeError, IndexError):
                pass
        buffer = io.StringIO()
        buffer.write("#" + json.dumps({"t_start": t_start, "env_id": env_id}) + "\n")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(("r", "l", "t"))
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

    def __init__(self, run_dir: Path, env_id: str, *, rows: Sequence[Sequence[Any]] = (), iterations: int = 0,
                 env_steps: int = 0) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.progress = ProgressCSV(run_dir / PROGRESS_FILE, keep_until_iteration=iterations)
        self.monitor = MonitorCSV(run_dir / MONITOR_FILE, env_id, rows)
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
        values["time/iterations"] = iterations
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
