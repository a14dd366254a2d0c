"""Planning a study: what the user asked for, checked before anything is written or started."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from zoo.exceptions import ZooError
from zoo.tools.tune.space import search_space

Objective = Literal["mean-return", "steps-to-threshold"]
OBJECTIVES = ("mean-return", "steps-to-threshold")


# -- the driver ----------------------------------------------------------------------------------
@dataclass
class TunePlan:
    agent: str
    env: str
    trials: int
    budget: int
    seeds: tuple[int, ...]
    eval_every: int
    eval_episodes: int
    objective: Objective
    threshold: float | None
    storage: str
    study: str
    out: Path
    sampler_seed: int
    space: dict[str, Any] = field(default_factory=dict)


def default_out(agent: str, gym_id: str) -> Path:
    return Path("tunes") / f"{agent}__{gym_id.replace('/', '-')}__{datetime.now():%Y%m%d-%H%M%S}"


def plan_tune(agent: str, env: str, *, trials: int, budget: int | None = None, seeds: int = 2,
              eval_every: int | None = None, eval_episodes: int = 10, objective: str = "mean-return",
              threshold: float | None = None, storage: str | None = None, study: str | None = None,
              out: str | Path | None = None, sampler_seed: int = 0) -> TunePlan:
    """Check everything the user asked for before anything is written or started."""
    from zoo.factory import agent_entry, env_entry, make_agent

    agent_e, env_e = agent_entry(agent), env_entry(env)
    for flag, value, least in (("--trials", trials, 1), ("--seeds", seeds, 1), ("--eval-episodes", eval_episodes, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ZooError(f"{flag} must be a whole number of at least {least}, got {value!r}")
    if objective not in OBJECTIVES:
        raise ZooError(f"--objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    probe = make_agent(agent_e.name, env_e.name)
    if not probe.learns:
        raise ZooError(f"agent {agent_e.name!r} does not learn: there is nothing to tune")
    space = search_space(agent_e.name, env_e.name)
    if budget is None:
        default = probe.default_budget(env_e)
        if "steps" not in default:
            raise ZooError(f"agent {agent_e.name!r} has no step budget for {env_e.gym_id}: pass --budget STEPS")
        budget = int(default["steps"])
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ZooError(f"--budget must be a positive number of env steps, got {budget!r}")
    eval_every = eval_every or max(1, budget // 5)
    if objective == "steps-to-threshold":
        threshold = threshold if threshold is not None else env_e.solved_threshold
        if threshold is None:
            raise ZooError(f"env {env_e.gym_id} declares no reward threshold: pass --threshold R")
    out = Path(out) if out is not None else default_out(agent_e.name, env_e.gym_id)
    if out.exists() and not out.is_dir():
        raise ZooError(f"--out {str(out)!r} is a file; give a folder")
    study_name = study or f"{agent_e.name}__{env_e.gym_id}"
    storage_url = storage or f"sqlite:///{(out / 'study.db').resolve()}"
    return TunePlan(agent_e.name, env_e.name, trials, budget, tuple(range(seeds)), eval_every, eval_episodes,
                    objective, threshold, storage_url, study_name, out, sampler_seed, space)
