"""Learning per executed env step of REINFORCE's carried episodes: the importance ratio of their
earlier steps truncated at 1 (as shipped), not truncated, and the collection of an earlier commit
that carried nothing (its copies waited for the longest episode and threw the rest away).

    python benchmarks/carried_ratio.py [--agent reinforce] [--env cartpole] [--steps 300000]
                                       [--seeds 0 1 2 3 4] [--ref main]

Each variant trains the agent with its per-env defaults for ``--steps`` env steps as executed
(counted outside the agent by ``zoo.training.budget.CountedVectorEnv``: every transition of
every copy, learned from or not; a run stops at the first update at or past it), then evaluates
the final policy deterministically on 100 episodes (seed 10,000 + the training seed). The
earlier commit's ``agents/reinforce.py`` is loaded from ``git show`` with the same config.
"""

from __future__ import annotations

import argparse
import statistics
import warnings

import numpy as np
from collection_learning import old_class  # benchmarks/ is on sys.path when run as a script

import zoo
from zoo.agents import reinforce
from zoo.factory import training_vec_env
from zoo.training.budget import CountedVectorEnv, StepAllowance
from zoo.training.state import seeded_envs


def run(agent: str, env: str, seed: int, steps: int, cls: type | None) -> dict[str, float]:
    learner = zoo.make_agent(agent, env, seed=seed)
    if cls is not None:
        config = cls.Config(**{k: v for k, v in vars(learner.config).items() if k in cls.Config.__dataclass_fields__})
        learner = cls(learner.env, config, seed)
    allowance = StepAllowance(None)
    learner.start_training(lambda n: CountedVectorEnv(seeded_envs(training_vec_env(env, n), seed),
                                                      allowance))
    returns: list[float] = []
    updates = 0
    try:
        while allowance.executed < steps:
            returns += learner.train_iteration().episode_returns
            updates += 1
    finally:
        learner.stop_training()
    evaluation = zoo.evaluate(learner, env, episodes=100, seed=10_000 + seed)
    return {"eval": evaluation.mean, "train": float(np.mean(returns[-100:])), "updates": updates,
            "executed": allowance.executed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agent", default="reinforce")
    parser.add_argument("--env", default="cartpole")
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--ref", default="main", help="the commit whose collection carried nothing")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    print(f"{args.agent} on {args.env}, {args.steps:,} executed env steps, seeds {args.seeds}\n")
    print("| variant | evaluation per seed (100 episodes) | mean | training mean of last 100 | updates | "
          "executed env steps |")
    print("|---|---|---|---|---|---|")
    shipped = reinforce.RATIO_TRUNCATION
    for label, truncation, cls in (("ratio truncated at 1 (shipped)", shipped, None),
                                   ("ratio not truncated", float("inf"), None),
                                   (f"{args.ref}: nothing carried", shipped, old_class(args.ref, args.agent))):
        reinforce.RATIO_TRUNCATION = truncation
        try:
            results = [run(args.agent, args.env, seed, args.steps, cls) for seed in args.seeds]
        finally:
            reinforce.RATIO_TRUNCATION = shipped
        evals = " / ".join(format(r["eval"], ".1f") for r in results)
        executed = " / ".join(format(r["executed"], ",") for r in results)
        print(f"| {label} | {evals} | {statistics.mean(r['eval'] for r in results):.1f} | "
              f"{statistics.mean(r['train'] for r in results):.1f} | "
              f"{' / '.join(str(r['updates']) for r in results)} | {executed} |", flush=True)


if __name__ == "__main__":
    main()
