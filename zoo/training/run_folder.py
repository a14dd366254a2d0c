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

import csv
import io
import json
import math
import shlex
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.files import atomic_save_figure, atomic_write_text, read_json_object

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


def lock(run_dir: Path) -> Any:
    """Lock ``RUN/.lock`` so two processes never train into one run folder; returns the open
    lock file (closing it unlocks), or None where there is no ``fcntl``."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return None
    f = open(run_dir / LOCK_FILE, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise ZooError(f"run folder {str(run_dir)!r} is being trained by another process; "
                       "wait for it to finish or stop it first") from None
    return f


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    atomic_write_text(run_dir / CONFIG_FILE, json.dumps(config, indent=2, sort_keys=True) + "\n")


def write_header(run_dir: Path, config: dict[str, Any], argv: Sequence[str] | None = None) -> None:
    """``config.json`` and ``command.txt`` of a new run."""
    run_dir.mkdir(parents=True, exist_ok=True)
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


def append_command(run_dir: Path, argv: Sequence[str]) -> None:
    """Add a resume's command line to ``command.txt``."""
    path = run_dir / COMMAND_FILE
    before = path.read_text() if path.is_file() else ""
    atomic_write_text(path, before + shlex.join(list(argv)) + "\n")


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


def read_returns(run_dir: Path) -> list[dict[str, float]]:
    path = Path(run_dir) / RETURNS_FILE
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


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
