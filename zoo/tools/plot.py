"""Learning curves across seeds: ``zoo plot RUN_OR_SWEEP ... --out FILE.png``.

Runs of the same agent, env and configuration but different seeds form a group; each group is
drawn as the mean over its runs of the 100-episode running mean of training returns, with a 95 %
percentile bootstrap band over runs (:func:`zoo.tools.statistics.bootstrap_mean_band`). The x
axis is env steps or training seconds, each episode at its own; the runs are interpolated onto
one grid over the range every run of the group covers (from the latest first episode to the
earliest last one), so the mean never extrapolates a run and never mixes finished and
unfinished runs. Each group's legend names only the settings that tell it from the other groups
of its agent and env, floats rounded; the legend sits under the axes, which keep their size.
"""

from __future__ import annotations

import json
import textwrap
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
#: Significant digits a legend shows a float with; more only where labels would read the same.
LEGEND_DIGITS = 3
#: Characters per line of a legend entry before it wraps.
LEGEND_WIDTH = 70
#: Size of each panel's axes, in inches; a long legend makes the figure taller, not the axes smaller.
AXES_SIZE = (6.0, 3.2)


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
    xs, ys = last_at_each_x(xs, ys)
    return Run(path, config["agent"], config["env"], hyperparameters, xs, ys)


def last_at_each_x(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One point per x (``xs`` never decrease): the last, where several episodes share an x.
    Runs written before episodes had their own env step (every episode of an iteration at the
    step the iteration ended) then read as one point per iteration, where their running mean
    is, instead of a jump at each x that interpolation would draw as a spike."""
    last = np.append(xs[1:] != xs[:-1], True)
    return xs[last], ys[last]


def format_value(value: Any, digits: int = LEGEND_DIGITS) -> str:
    """A setting's value for a legend: floats to ``digits`` significant digits, inside lists
    and objects too; anything else as JSON would show it."""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v, digits) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v, digits)}" for k, v in value.items()) + "}"
    return value if isinstance(value, str) else json.dumps(value)


def differing_settings(configs: Sequence[dict[str, Any]]) -> list[str]:
    """The settings whose value is not the same in every one of ``configs``."""
    keys = sorted({key for config in configs for key in config})
    return [key for key in keys if len({json.dumps(config.get(key), sort_keys=True) for config in configs}) > 1]


def legend_labels(agent: str, configs: Sequence[dict[str, Any]]) -> list[str]:
    """Labels for groups of one agent and env with these ``configs``: the agent and the settings
    that differ, rounded to :data:`LEGEND_DIGITS` significant digits, or as many more as it takes
    for different configs to read differently; wrapped at :data:`LEGEND_WIDTH` characters."""
    differing = differing_settings(configs)
    for digits in range(LEGEND_DIGITS, 18):
        settings = [", ".join(f"{key}={format_value(config.get(key), digits)}" for key in differing)
                    for config in configs]
        if len(set(settings)) == len(configs):
            break
    labels = [f"{agent} ({text})" if text else agent for text in settings]
    return [textwrap.fill(label, LEGEND_WIDTH, break_on_hyphens=False) for label in labels]


def group_runs(runs: Sequence[Run]) -> list[Group]:
    """Runs that differ only in their seed, together; labelled by agent and whatever
    hyperparameters tell the groups of one agent and env apart."""
    groups: dict[str, Group] = {}
    for run in runs:
        key = json.dumps([run.agent, run.env, run.config], sort_keys=True)
        groups.setdefault(key, Group(run.agent, run.env, run.config)).runs.append(run)
    result = list(groups.values())
    for agent, env in dict.fromkeys((g.agent, g.env) for g in result):
        siblings = [g for g in result if (g.agent, g.env) == (agent, env)]
        for group, label in zip(siblings, legend_labels(agent, [g.config for g in siblings])):
            group.label = label
    return result


def common_range(runs: Sequence[Run]) -> tuple[float, float] | None:
    """The x range every run covers, from the latest first point to the earliest last one;
    None when the runs share none."""
    start, stop = max(float(r.x[0]) for r in runs), min(float(r.x[-1]) for r in runs)
    return (start, stop) if start <= stop else None


def curves_on_grid(runs: Sequence[Run]) -> tuple[np.ndarray, np.ndarray]:
    """The runs' curves on one x grid over :func:`common_range` (which must exist)."""
    covered = common_range(runs)
    if covered is None:
        raise ValueError("the runs share no x range")
    grid = np.linspace(*covered, GRID_POINTS)
    return grid, np.stack([np.interp(grid, r.x, r.y) for r in runs])


def learning_curves_figure(groups: Sequence[Group], *, x: XAxis = "steps", window: int = 100) -> Any:
    """A matplotlib figure of ``groups`` (:func:`group_runs`), one panel per env, each with its
    legend under the axes. Every panel's axes are :data:`AXES_SIZE`; save it with
    ``bbox_inches="tight"`` so that the figure grows around the legends."""
    from matplotlib.figure import Figure

    envs = list(dict.fromkeys(g.env for g in groups))
    (width, height), margin = AXES_SIZE, 1.0  # inches around each panel's axes, for its labels
    fig = Figure(figsize=(len(envs) * (width + 2 * margin), height + 2 * margin), dpi=100)
    fig.subplots_adjust(left=margin / (width + 2 * margin), right=1 - margin / (width + 2 * margin),
                        bottom=margin / (height + 2 * margin), top=1 - margin / (height + 2 * margin),
                        wspace=2 * margin / width)
    axes = fig.subplots(1, len(envs), squeeze=False)[0]
    for ax, env in zip(axes, envs):
        for group in (g for g in groups if g.env == env):
            label = f"{group.label}, {len(group.runs)} seed{'s' if len(group.runs) > 1 else ''}"
            if common_range(group.runs) is None:  # seeds that share no x range: no mean to draw
                line = None
                for run in group.runs:
                    line = ax.plot(run.x, run.y, linewidth=0.8, color=line.get_color() if line else None,
                                   label=None if line else f"{label} (no common range: each seed)")[0]
                continue
            grid, curves = curves_on_grid(group.runs)
            mean, low, high = bootstrap_mean_band(curves)
            line = ax.plot(grid, mean, label=label)[0]
            ax.fill_between(grid, low, high, color=line.get_color(), alpha=0.25, linewidth=0)
        ax.set_title(env)
        ax.set_xlabel("env steps" if x == "steps" else "training seconds")
        ax.set_ylabel(f"return (running mean of {window})")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8, frameon=False)
    fig.suptitle("mean over seeds (over the steps all seeds cover), 95% bootstrap confidence band", fontsize=9)
    return fig


def plot_learning_curves(paths: Iterable[str | Path], out: str | Path, *, x: XAxis = "steps",
                         window: int = 100) -> Path:
    """Draw every group of runs found in ``paths``, one panel per env; returns ``out``."""
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
    fig = learning_curves_figure(group_runs(runs), x=x, window=window)
    return atomic_save_figure(fig, out, bbox_inches="tight", pad_inches=0.15)
