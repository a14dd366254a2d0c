"""Learning per executed env step: REINFORCE's collection now against an earlier version of it.

    python benchmarks/collection_learning.py [--ref 8f6ae7f] [--seeds 0 1 2 3 4] [--only cartpole]

Each case trains an agent with its per-env defaults until the mean return of its last 100
training episodes reaches the bench's threshold for the env (or a cap), with the agent class of
this checkout and with ``agents/reinforce.py`` as it was at ``--ref`` (loaded from ``git show``:
the same hyperparameters, the same envs). Env steps are counted from outside the agent, by the
envs the agent steps (``zoo.training.budget.CountedVectorEnv``): every transition of every copy,
used or not.

The table gives, per case and version, the median over seeds of executed env steps and wall
seconds to the threshold (a seed that never gets there counts as slower than all), how many
seeds got there, and the executed-to-used ratio (executed env steps per env step of an episode
the agent learned from) over the whole run.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import zoo
from zoo.factory import training_vec_env
from zoo.training.budget import CountedVectorEnv, StepAllowance
from zoo.training.state import seeded_envs

REPO = Path(__file__).resolve().parents[1]

#: (agent, env, threshold on the 100-episode mean of training returns, cap on executed env steps)
CASES = {
    "cartpole": ("reinforce", "cartpole", 475.0, 600_000),
    "cartpole-baseline": ("reinforce-baseline", "cartpole", 475.0, 400_000),
    "acrobot": ("reinforce-baseline", "acrobot", -100.0, 400_000),
    "mountaincar-continuous": ("reinforce-baseline", "mountaincar-continuous", 90.0, 300_000),
    "pendulum": ("reinforce-baseline", "pendulum", -200.0, 3_000_000),
    "lunarlander": ("reinforce-baseline", "lunarlander", 200.0, 3_000_000),
    "pixelcopter": ("reinforce-baseline", "pixelcopter", 30.0, 3_000_000),
}


def old_class(ref: str, agent: str) -> type:
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{ref}:agents/reinforce.py"], check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "reinforce_old.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("_reinforce_old", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.ReinforceBaseline if agent == "reinforce-baseline" else module.Reinforce


def make(agent: str, env: str, seed: int, cls: type | None):
    learner = zoo.make_agent(agent, env, seed=seed)
    if cls is not None:
        config = cls.Config(**{k: v for k, v in vars(learner.config).items() if k in cls.Config.__dataclass_fields__})
        learner = cls(learner.env, config, seed)
    return learner


def train(agent: str, env: str, seed: int, threshold: float, cap: int, cls: type | None) -> dict[str, float]:
    learner = make(agent, env, seed, cls)
    allowance = StepAllowance(None)
    start = time.perf_counter()
    learner.start_training(lambda n: CountedVectorEnv(seeded_envs(training_vec_env(env, n), seed),
                                                      allowance))
    returns: list[float] = []
    used = 0
    reached_steps = reached_seconds = None
    try:
        while allowance.executed < cap:
            it = learner.train_iteration()
            returns += it.episode_returns
            used += sum(it.episode_lengths)
            if len(returns) >= 100 and np.mean(returns[-100:]) >= threshold:
                reached_steps, reached_seconds = allowance.executed, time.perf_counter() - start
                break
    finally:
        learner.stop_training()
    return {"steps": reached_steps, "seconds": reached_seconds, "ratio": allowance.executed / max(used, 1),
            "final": float(np.mean(returns[-100:])) if returns else float("nan")}


def median(values: list[float | None]) -> float | None:
    """Median where None (never reached) counts as slower than any number."""
    ordered = sorted(values, key=lambda v: (v is None, v or 0.0))
    middle = ordered[len(ordered) // 2]
    return middle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default="8f6ae7f", help="the earlier version of agents/reinforce.py")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", choices=sorted(CASES), default=["cartpole", "cartpole-baseline",
                                                                              "acrobot", "mountaincar-continuous"])
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    zoo.use_torch_threads()
    print("| case | version | reached | env steps to threshold (median) | seconds (median) | executed / used | "
          "final mean (median) |")
    print("|---|---|---|---|---|---|---|")
    for case in args.only:
        agent, env, threshold, cap = CASES[case]
        for label, cls in (("now", None), (args.ref, old_class(args.ref, agent))):
            results = [train(agent, env, seed, threshold, cap, cls) for seed in args.seeds]
            steps, seconds = median([r["steps"] for r in results]), median([r["seconds"] for r in results])
            reached = sum(r["steps"] is not None for r in results)
            print(f"| {case} | {label} | {reached}/{len(results)} | {'—' if steps is None else f'{steps:,}'} | "
                  f"{'—' if seconds is None else f'{seconds:.1f}'} | "
                  f"{statistics.median(r['ratio'] for r in results):.3f} | "
                  f"{statistics.median(r['final'] for r in results):.1f} |", flush=True)


if __name__ == "__main__":
    main()
