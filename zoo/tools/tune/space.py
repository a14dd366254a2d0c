"""The search space, as data: each agent declares it in its defaults file (``[AGENT.search]``,
``[AGENT."Env-v0".search]``; ``Agent.search_space``), checked here against the agent's config."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

from zoo.exceptions import ZooError


def load_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ZooError("zoo tune needs Optuna: pip install optuna (the project's tune extra: "
                       "pip install -e '.[tune]' in a checkout)") from None
    import warnings

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats (for trials whose process dies) and the matplotlib plots are marked experimental;
    # the zoo drives heartbeats itself, since its trials run on workers, not in Study.optimize.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used with Study.optimize")
    return optuna


# -- the search space, as data ---------------------------------------------------------------------
def _distribution(name: str, spec: Any, annotation: Any, where: str) -> Any:
    """One parameter's Optuna distribution, from ``{low, high[, log][, step]}`` or ``{choices}``."""
    import typing

    optuna = load_optuna()
    dists = optuna.distributions
    if not isinstance(spec, Mapping) or not ({"choices"} <= set(spec) or {"low", "high"} <= set(spec)):
        raise ZooError(f"{where}: {name} must be {{ low = A, high = B[, log = true][, step = S] }} or "
                       f"{{ choices = [...] }}, got {spec!r}")
    if "choices" in spec:
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise ZooError(f"{where}: {name} has no choices; list at least one")
        # Optuna's choices are scalars: a list value is written as --set spells it (64,64).
        return dists.CategoricalDistribution([",".join(map(str, c)) if isinstance(c, list) else c for c in choices])
    low, high, log, step = spec["low"], spec["high"], bool(spec.get("log", False)), spec.get("step")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
        raise ZooError(f"{where}: {name}'s low and high must be numbers, got {low!r} and {high!r}")
    if not low < high:
        raise ZooError(f"{where}: {name}'s range [{low}, {high}] is empty; low must be below high")
    if log and low <= 0:
        raise ZooError(f"{where}: {name} is searched on a log scale, so low must be above 0, got {low}")
    origin = typing.get_origin(annotation)
    numeric = annotation if origin is None else next((a for a in typing.get_args(annotation) if a in (int, float)),
                                                    None)
    if numeric is int:
        return dists.IntDistribution(int(low), int(high), log=log, step=int(step or 1))
    if numeric is float:
        return dists.FloatDistribution(float(low), float(high), log=log, step=None if step is None else float(step))
    raise ZooError(f"{where}: {name} is not a number, so it takes {{ choices = [...] }}, not a range")


def search_space(agent: str, env: str) -> dict[str, Any]:
    """The agent's search space for ``env``: name -> Optuna distribution, checked against the
    agent's config (an unknown or renamed name, an empty range: one line)."""
    from zoo.config import field_types, unknown_key_message
    from zoo.factory import agent_entry, env_entry, load_agent_class

    agent_e, env_e = agent_entry(agent), env_entry(env)
    cls = load_agent_class(agent_e)
    raw = cls.search_space(env_e)
    where = f"the search space of agent {agent_e.name!r} for {env_e.gym_id}"
    if not raw:
        raise ZooError(f"agent {agent_e.name!r} declares no search space for {env_e.gym_id} (Agent.search_space: "
                       "a [KEY.search] table in its defaults file), so zoo tune has nothing to search")
    types = field_types(cls.Config)
    space = {}
    for name, spec in raw.items():
        if name not in types:
            renamed = getattr(cls, "renamed_hyperparameters", {})
            raise ZooError(f"{where}: {unknown_key_message(name, types, renamed)}")
        space[name] = _distribution(name, spec, types[name], where)
    return space


# -- what every trial must be able to do -----------------------------------------------------------
#: Most combinations of the values that decide a trial's smallest budget the check tries.
MAX_COMBINATIONS = 4096


def _ends(distribution: Any) -> list[Any]:
    """The values of a distribution the budget check tries: every choice, a range's two ends."""
    choices = getattr(distribution, "choices", None)
    return list(choices) if choices is not None else [distribution.low, distribution.high]


def smallest_budgets(agent: str, env: str, space: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """For the combinations of search-space values that decide it, the fewest env steps a trial
    needs to update once (``Agent.min_training_steps``, the rule ``zoo train`` refuses a budget
    by), with the values: each parameter's choices and range ends are tried alone, then those
    that change it together. A value the agent refuses is left to the trial that samples it."""
    from zoo.factory import resolve_config

    def minimum(values: dict[str, Any]) -> int | None:
        try:
            resolved = resolve_config(agent, env, overrides=values)
        except ZooError:
            return None
        return int(resolved.agent_class.min_training_steps(resolved.env, resolved.config))

    base = minimum({})
    deciding = {name: _ends(dist) for name, dist in space.items()
                if any(minimum({name: value}) not in (None, base) for value in _ends(dist))}
    if not deciding or math.prod(len(values) for values in deciding.values()) > MAX_COMBINATIONS:
        combinations = [{name: value} for name, values in deciding.items() for value in values]
    else:
        combinations = [dict(zip(deciding, values)) for values in itertools.product(*deciding.values())]
    found = [(m, values) for values in combinations if (m := minimum(values)) is not None]
    return found or ([(base, {})] if base is not None else [])
