"""Learning curves across seeds: ``zoo plot RUN_OR_SWEEP ... --out FILE.png``.

Runs of the same agent, env and configuration but different seeds form a group; each group is
drawn as the mean over its runs of the 100-episode running mean of training returns, with a 95 %
percentile bootstrap band over runs (:func:`zoo.tools.statistics.bootstrap_mean_band`). The x
axis is env steps or training seconds; each run is interpolated onto a common grid that stops
where the shortest run of the group stops, so the band never mixes finished and unfinished runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from zoo.exceptions import ZooError
from zoo.files import atomic_save_figure
from zoo.tools.statistics import bootstrap_mean_band
from zoo.training import run_folder

XAxis = Literal["steps", "time"]
#: Points on each group's x grid.
GRID_POINTS = 200


@dataclass
class Run:
    """One run folder's learning curve."""

    path: Path
    agent: str
    env: str
    config: dict[str, Any]
    x: np.ndarray
    y: np.ndarray


@dataclass
class Group:
    agent: str
    env: str
    config: dict[str, Any]
    runs: list[Run] = field(default_factory=list)
    label: str = ""


def find_runs(paths: Iterable[str | Path]) -> list[Path]:
    """Run folders named directly, or found inside sweep folders (``OUT/runs/*``) and folders of
    runs (``runs/``)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if (path / run_folder.CONFIG_FILE).is_file():
            found.append(path)
            continue
        if not path.is_dir():
            raise ZooError(f"{str(path)!r} is neither a run folder nor a folder of runs")
        inner = sorted(p.parent for p in path.glob(f"**/{run_folder.CONFIG_FILE}"))
        if not inner:
            raise ZooError(f"no run folders (with {run_folder.CONFIG_FILE}) in {str(path)!r}")
        found += inner
    return list(dict.fromkeys(found))


def load_run(path: Path, x: XAxis, window: int) -> Run | None:
    """The run's curve, or None for a run that finished no episode yet. A ``config.json`` or
    ``returns.csv`` that is not what ``zoo train`` writes is a one-line :class:`ZooError`."""
    config = run_folder.read_config(path)
    hyperparameters = config.get("config", {})
    if not isinstance(hyperparameters, dict):
        raise ZooError(f"{str(path / run_folder.CONFIG_FILE)!r}: 'config' is {type(hyperparameters).__name__}, "
                       "expected the run's hyperparameters as a JSON object")
    rows = run_folder.read_returns(path)
    if not rows:
        return None
    xs = np.array([r["env_steps"] if x == "steps" else r["seconds"] for r in rows], dtype=np.float64)
    ys = np.array(run_folder.running_mean([r["return"] for r in rows], window))
    return Run(path, config["agent"], config["env"], hyperparameters, xs, ys)


def group_runs(runs: Sequence[Run]) -> list[Group]:
    """Runs that differ only in their seed, together; labelled by agent and whatever
    hyperparameters tell the groups of one agent and env apart."""
    groups: dict[str, Group] = {}
    for run in runs:
        key = json.dumps([run.agent, run.env, run.config], sort_keys=True)
        groups.setdefault(key, Group(run.agent, run.env, run.config)).runs.append(run)
    result = list(groups.values())
    for group in result:
        siblings = [g for g in result if (g.agent, g.env) == (group.agent, group.env)]
        differing = sorted({k for g in siblings for k in {*g.config, *group.config}
                            if g.config.get(k) != group.config.get(k)})
        settings = ", ".join(f"{k}={group.config.get(k)}" for k in differing)
        group.label = f"{group.agent} ({settings})" if settings else group.agent
    return result


def curves_on_grid(runs: Sequence[Run]) -> tuple[np.ndarray, np.ndarray]:
    """The runs' curves on one x grid, from the first episode of any run to the end of the
    shortest run."""
    start = min(float(r.x[0]) for r in runs)
    stop = min(float(r.x[-1]) for r in runs)
    grid = np.linspace(start, max(stop, start), GRID_POINTS)
    return grid, np.stack([np.interp(grid, r.x, r.y) for r in runs])


def plot_learning_curves(paths: Iterable[str | Path], out: str | Path, *, x: XAxis = "steps",
                         window: int = 100) -> Path:
    """Draw every group of runs found in ``paths``, one panel per env; returns ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if x not in ("steps", "time"):
        raise ZooError(f"--x must be steps or time, got {x!r}")
    if window < 1:
        raise ZooError(f"--window must be at least 1, got {window}")
    out = Path(out)
    if out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ZooError(f"--out {str(out)!r} must end in .png, .svg or .pdf")
    if not out.parent.is_dir():
        raise ZooError(f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist")
    runs = [run for run in (load_run(p, x, window) for p in find_runs(paths)) if run is not None]
    if not runs:
        raise ZooError("none of these runs has finished an episode yet: nothing to plot")
    groups = group_runs(runs)
    envs = list(dict.fromkeys(g.env for g in groups))
    fig, axes = plt.subplots(1, len(envs), figsize=(6 * len(envs), 4), dpi=100, squeeze=False)
    for ax, env in zip(axes[0], envs):
        for group in (g for g in groups if g.env == env):
            grid, curves = curves_on_grid(group.runs)
            mean, low, high = bootstrap_mean_band(curves)
            line = ax.plot(grid, mean, label=f"{group.label}, {len(group.runs)} seed(s)")[0]
            ax.fill_between(grid, low, high, color=line.get_color(), alpha=0.25, linewidth=0)
        ax.set_title(env)
        ax.set_xlabel("env steps" if x == "steps" else "training seconds")
        ax.set_ylabel(f"return (running mean of {window})")
        ax.legend(loc="best", fontsize=8)
    fig.suptitle("mean over seeds, 95% bootstrap confidence band", fontsize=9)
    fig.tight_layout()
    return atomic_save_figure(fig, out)
