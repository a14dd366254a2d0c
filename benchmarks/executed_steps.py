"""How many env steps a REINFORCE budget executes, and what the policy scores along the way.

    python benchmarks/executed_steps.py AGENT ENV [--seed 0] --steps N [--eval-at 8e6 12e6 ...]
        [--ref 8f6ae7f] [--set KEY=VALUE ...]

Trains AGENT on ENV with its per-env defaults (and ``--set`` overrides), counting every env step
of every copy from outside the agent (``zoo.training.budget.CountedVectorEnv``). This checkout's
agent stops as ``zoo train --steps N`` does (N executed steps; the last row is what
``zoo build-pretrained --steps N`` evaluates); with ``--ref`` the agent class is
``agents/reinforce.py`` at that commit and the run stops once N steps of *learned* episodes are
reached, as budgets were counted before issue 25 (8f6ae7f: the last collection that ran every
copy until the longest episode of the batch ended). At each ``--eval-at`` point (executed steps)
and at the end it prints one JSON row: executed and learned steps, updates, the mean of the last
100 training returns, training seconds, and a deterministic evaluation over 100 episodes seeded
10,000 + seed (as the collection's).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
from collection_learning import make, old_class

import zoo
from zoo.factory import training_vec_env
from zoo.scoring import evaluate
from zoo.training.budget import CountedVectorEnv, StepAllowance
from zoo.training.state import seeded_envs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("agent")
    parser.add_argument("env")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=float, required=True)
    parser.add_argument("--eval-at", type=float, nargs="*", default=[])
    parser.add_argument("--ref", help="train agents/reinforce.py at this commit, budget in learned steps")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    zoo.use_torch_threads()
    budget, points = int(args.steps), sorted(int(p) for p in args.eval_at)
    learner = make(args.agent, args.env, args.seed, old_class(args.ref, args.agent) if args.ref else None)
    for item in args.set:
        key, value = item.split("=", 1)
        setattr(learner.config, key, type(getattr(learner.config, key))(value))
    if args.set:
        learner = type(learner)(learner.env, learner.config, args.seed)
    allowance = StepAllowance(None if args.ref else budget)
    learner.start_training(lambda n: CountedVectorEnv(seeded_envs(training_vec_env(args.env, n), args.seed),
                                                      allowance))
    returns: list[float] = []
    learned = updates = 0
    seconds, start = 0.0, time.perf_counter()

    def row(**fields) -> None:
        score = evaluate(learner, args.env, episodes=100, seed=10_000 + args.seed, deterministic=True)
        print(json.dumps({**fields, "executed": allowance.executed, "learned": learned, "updates": updates,
                          "mean100": round(float(np.mean(returns[-100:])), 2), "train_s": round(seconds, 1),
                          "eval_mean": round(score.mean, 2), "eval_std": round(score.std, 2)}), flush=True)

    try:
        while not (args.ref and learned >= budget):
            it = learner.train_iteration()
            seconds = time.perf_counter() - start
            if not it.episode_returns:
                break  # the budget ends before the next update
            updates += 1
            returns += it.episode_returns
            learned += sum(it.episode_lengths)
            if points and allowance.executed >= points[0]:
                row(point=points.pop(0))
                start = time.perf_counter() - seconds
    finally:
        learner.stop_training()
    row(final=budget)


if __name__ == "__main__":
    main()
