"""What a study leaves in its folder: trials.csv, best.toml, best-defaults.toml and Optuna's plots."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zoo.exceptions import one_line
from zoo.files import atomic_write_text
from zoo.tools.tune.plan import TunePlan
from zoo.tools.tune.space import load_optuna


def toml_value(value: Any) -> str:
    """A config value (bool, number, string, or a tuple or list of them) as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def typed_params(agent: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The trial's values as the agent's config types them (``"64,64"`` -> ``(64, 64)``)."""
    from zoo.config import build_config, config_to_dict
    from zoo.factory import agent_entry, load_agent_class

    config = config_to_dict(build_config(load_agent_class(agent_entry(agent)).Config, params))
    return {name: config[name] for name in sorted(params)}


def best_config_toml(plan: TunePlan, best: Any) -> str:
    """The best trial as a config file ``zoo train --config`` reads."""
    lines = [f"# zoo tune: best of study {plan.study!r} (trial {best.number}, {plan.objective} {best.value:.4g})",
             f'agent = "{plan.agent}"', f'env = "{plan.env}"', f"budget = {{ steps = {plan.budget} }}", "",
             "[hyperparameters]"]
    lines += [f"{name} = {toml_value(value)}" for name, value in typed_params(plan.agent, best.params).items()]
    return "\n".join(lines) + "\n"


def defaults_table_toml(plan: TunePlan, best: Any, gym_id: str, key: str) -> str:
    """The best trial as a table to paste into the agent's defaults file."""
    lines = [f"# From zoo tune, study {plan.study!r}, trial {best.number} ({plan.objective} {best.value:.4g}).",
             f'[{key}."{gym_id}"]']
    lines += [f"{name} = {toml_value(value)}" for name, value in typed_params(plan.agent, best.params).items()]
    lines.append(f"budget = {{ steps = {plan.budget} }}")
    return "\n".join(lines) + "\n"


def trials_csv(study: Any, space: Mapping[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = sorted(space)
    writer.writerow(["number", "state", "value", "seconds", *names])
    for trial in study.trials:
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds() \
            if trial.datetime_complete and trial.datetime_start else ""
        writer.writerow([trial.number, trial.state.name.lower(), "" if trial.value is None else trial.value,
                         seconds, *(trial.params.get(name, "") for name in names)])
    return buffer.getvalue()


def write_outputs(plan: TunePlan, study: Any) -> dict[str, Path]:
    """trials.csv, best.toml (for ``zoo train --config``), best-defaults.toml (for the defaults
    file), history.png and importance.png (Optuna's matplotlib visualisation)."""
    optuna = load_optuna()
    from zoo.factory import agent_entry, env_entry, load_agent_class
    from zoo.files import atomic_save_figure

    files = {"trials.csv": atomic_write_text(plan.out / "trials.csv", trials_csv(study, plan.space))}
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        return files
    best = study.best_trial
    key = load_agent_class(agent_entry(plan.agent)).defaults_key
    files["best.toml"] = atomic_write_text(plan.out / "best.toml", best_config_toml(plan, best))
    files["best-defaults.toml"] = atomic_write_text(plan.out / "best-defaults.toml",
                                                    defaults_table_toml(plan, best, env_entry(plan.env).gym_id, key))
    import matplotlib

    matplotlib.use("Agg")
    import warnings

    from optuna.visualization import matplotlib as plots

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        axes = plots.plot_optimization_history(study)
        files["history.png"] = atomic_save_figure(axes.figure, plan.out / "history.png")
        if len(complete) >= 2 and len(plan.space) >= 1:
            try:
                figure = whole_labels(plots.plot_param_importances(study).figure)
                files["importance.png"] = atomic_save_figure(figure, plan.out / "importance.png")
            except (RuntimeError, ValueError, ZeroDivisionError) as exc:  # e.g. every trial the same value
                atomic_write_text(plan.out / "importance.txt", f"no parameter importances: {one_line(exc)}\n")
    return files


def whole_labels(figure: Any) -> Any:
    """``figure`` laid out so that every label is inside it: Optuna's importance chart names
    each parameter left of its bar, where a fixed layout cut long names (``rning_rate``)."""
    figure.tight_layout()
    return figure


def summary(study: Any) -> dict[str, Any]:
    """Counts by state and the best trial, for the command line."""
    optuna = load_optuna()
    counts: dict[str, int] = {}
    for trial in study.trials:
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = study.best_trial if complete else None
    return {"trials": counts, "best": None if best is None else
            {"number": best.number, "value": best.value, "params": best.params}}
