"""A run folder: what ``zoo train`` leaves behind, and how to read it back.

::

    RUN/
      config.json      agent, env, seed, budget and the resolved hyperparameters
      command.txt      the command line that started the run
      returns.csv      one row per finished training episode
      curve.png        the learning curve
      checkpoints/     numbered checkpoint folders, newest last
"""

from __future__ import annotations

import csv
import json
import math
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CONFIG_FILE = "config.json"
COMMAND_FILE = "command.txt"
RETURNS_FILE = "returns.csv"
CURVE_FILE = "curve.png"
RETURNS_COLUMNS = ("episode", "return", "length", "env_steps", "seconds")


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_run_header(run_dir: Path, config: dict[str, Any], argv: Sequence[str] | None = None) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(run_dir / CONFIG_FILE, json.dumps(config, indent=2, sort_keys=True) + "\n")
    argv = list(sys.argv if argv is None else argv)
    _atomic_write_text(run_dir / COMMAND_FILE, shlex.join(argv) + "\n")


def write_returns(run_dir: Path, rows: Sequence[Sequence[Any]]) -> None:
    tmp = run_dir / f".{RETURNS_FILE}.tmp-{os.getpid()}"
    with open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(RETURNS_COLUMNS)
        writer.writerows(rows)
    os.replace(tmp, run_dir / RETURNS_FILE)


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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    episodes = range(1, len(returns) + 1)
    ax.plot(episodes, returns, alpha=0.3, linewidth=0.8, label="episode return")
    ax.plot(episodes, running_mean(returns), linewidth=2, label="running mean (100)")
    ax.set_xlabel("episode")
    ax.set_ylabel("return")
    ax.set_title(title)
    ax.legend(loc="best")
    fig.tight_layout()
    path = Path(run_dir) / CURVE_FILE
    tmp = path.with_name(f".{CURVE_FILE}.tmp-{os.getpid()}.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))
