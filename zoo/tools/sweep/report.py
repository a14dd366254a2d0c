"""Reporting a sweep: one row per run (``results.csv``, ``results.json``) and, over seeds, the
interquartile mean with its bootstrap interval and mean ± std per agent × env × setting
(``summary.md``, ``summary.png``), each file written atomically."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo.files import atomic_save_figure, atomic_write_text
from zoo.tools.statistics import stratified_bootstrap_ci

TABLE_FILES = ("results.csv", "results.json", "summary.md", "summary.png")


# -- tables ----------------------------------------------------------------------------------------
CSV_COLUMNS = ("run_id", "agent", "env", "setting", "seed", "status", "eval_mean", "eval_std",
               "eval_min", "eval_max", "eval_mean_length", "train_episodes", "train_env_steps",
               "train_seconds", "seconds", "error")


def table_row(result: Mapping[str, Any]) -> dict[str, Any]:
    ev, tr = result.get("eval") or {}, result.get("train") or {}
    return {"run_id": result["run_id"], "agent": result["agent"], "env": result["env"],
            "setting": result["label"], "seed": result["seed"], "status": result["status"],
            "eval_mean": ev.get("mean"), "eval_std": ev.get("std"), "eval_min": ev.get("min"),
            "eval_max": ev.get("max"), "eval_mean_length": ev.get("mean_length"),
            "train_episodes": tr.get("episodes"), "train_env_steps": tr.get("env_steps"),
            "train_seconds": tr.get("seconds"), "seconds": result.get("seconds"),
            "error": result.get("error")}


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation; (nan, nan) for no values."""
    if not values:
        return math.nan, math.nan
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def summarize(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per agent × env × setting, over seeds of each run's mean eval return: the IQM with
    a 95 % bootstrap confidence interval (:mod:`zoo.tools.statistics`), mean ± std, min, max."""
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["agent"], r["env"], r["label"]), []).append(r)
    rows = []
    for (agent, env, label), members in groups.items():
        ok = [r for r in members if r["status"] == "ok"]
        means = [r["eval"]["mean"] for r in ok]
        mean, std = mean_std(means)
        middle, low, high = stratified_bootstrap_ci(means)
        rows.append({"agent": agent, "env": env, "setting": label, "seeds": sorted(r["seed"] for r in ok),
                     "failed": sorted(r["seed"] for r in members if r["status"] != "ok"),
                     "iqm": middle, "iqm_low": low, "iqm_high": high,
                     "mean": mean, "std": std, "min": min(means, default=math.nan),
                     "max": max(means, default=math.nan)})
    return rows


def _number(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}"


def summary_markdown(results: Sequence[Mapping[str, Any]], summary: Sequence[Mapping[str, Any]]) -> str:
    lines = ["# Sweep summary", "",
             "Mean evaluation return of each run's final checkpoint, then over seeds: the interquartile "
             "mean with a 95 % percentile bootstrap interval (rliable's method), and mean ± std (population).",
             "",
             "| agent | env | setting | seeds | IQM [95% CI] | mean ± std | min | max | failed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in summary:
        failed = "seeds " + ", ".join(map(str, row["failed"])) if row["failed"] else "–"
        lines.append(f"| {row['agent']} | {row['env']} | {row['setting']} | {len(row['seeds'])} | "
                     f"{_number(row['iqm'])} [{_number(row['iqm_low'])}, {_number(row['iqm_high'])}] | "
                     f"{_number(row['mean'])} ± {_number(row['std'])} | {_number(row['min'])} | "
                     f"{_number(row['max'])} | {failed} |")
    failures = [r for r in results if r["status"] != "ok"]
    ok = len(results) - len(failures)
    lines += ["", f"{ok} of {len(results)} runs succeeded, {len(failures)} failed."]
    if failures:
        lines += ["", "## Failures", ""]
        lines += [f"- `{r['run_id']}`: {r['error']}" for r in failures]
    return "\n".join(lines) + "\n"


def plot_summary(path: Path, results: Sequence[Mapping[str, Any]], summary: Sequence[Mapping[str, Any]]) -> Path:
    """One panel per env: a bar (mean ± std over seeds) per agent × setting, seeds as dots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = list(dict.fromkeys(row["env"] for row in summary)) or ["(no runs)"]
    fig, axes = plt.subplots(1, len(envs), figsize=(max(4.0, 4.5 * len(envs)), 4), dpi=100, squeeze=False)
    for ax, env in zip(axes[0], envs):
        rows = [row for row in summary if row["env"] == env]
        labels = [f"{row['agent']}\n{row['setting']}" for row in rows]
        ax.bar(range(len(rows)), [0 if math.isnan(r["mean"]) else r["mean"] for r in rows],
               yerr=[0 if math.isnan(r["std"]) else r["std"] for r in rows], capsize=4, alpha=0.6)
        for i, row in enumerate(rows):
            seeds = [r["eval"]["mean"] for r in results if r["status"] == "ok" and r["env"] == env
                     and r["agent"] == row["agent"] and r["label"] == row["setting"]]
            ax.plot([i] * len(seeds), seeds, "k.", markersize=4)
        ax.set_xticks(range(len(rows)), labels, fontsize=8)
        ax.set_title(env)
        ax.set_ylabel("mean eval return")
    fig.tight_layout()
    return atomic_save_figure(fig, path)


def write_tables(out: Path, results: Sequence[Mapping[str, Any]]) -> dict[str, Path]:
    """results.csv, results.json, summary.md and summary.png in ``out``, each written atomically."""
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(results)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table_row(r) for r in results)
    paths = {name: out / name for name in TABLE_FILES}
    atomic_write_text(paths["results.csv"], buffer.getvalue())
    # JSON has no NaN: a group whose every seed failed gets null statistics.
    atomic_write_text(paths["results.json"], json.dumps(
        {"runs": list(results), "summary": _nan_to_none(summary)}, indent=2, sort_keys=True) + "\n")
    atomic_write_text(paths["summary.md"], summary_markdown(results, summary))
    plot_summary(paths["summary.png"], results, summary)
    return paths


def _nan_to_none(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()} for row in rows]
