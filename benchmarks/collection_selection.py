"""Choose a shipped checkpoint without looking at the episodes that score it.

Trains ``AGENT`` on ``ENV`` with ``--seed S`` (the agent's per-env defaults, plus ``--set``
overrides), and after every iteration past ``--from`` env steps (at most one per ``--every`` steps)
evaluates the current policy deterministically on a *selection* set: ``--selection-episodes``
episodes seeded ``50,000 + S``, which share no episode with the collection's 100 evaluation
episodes seeded ``10,000 + S`` (:func:`zoo.scoring.evaluation_seed`). The policy with the best
selection mean is saved beside the run (``OUT-best``); the collection score of every policy is
printed too, for the record, and never used to choose. Acting deterministically draws no random
numbers, so the evaluations do not change what training does: the policy found at ``N`` steps is
the one ``zoo build-pretrained`` makes with a budget of ``N`` steps (same seed, same config).

    python benchmarks/collection_selection.py sb3-dqn mountaincar --seed 16 --steps 200000 \\
        --set schedule_steps=200000 --from 40000 --selection-episodes 1000 --out runs/select-mc
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import zoo
from zoo.config import parse_overrides
from zoo.scoring import evaluation_seed

SELECTION_SEED_OFFSET = 50_000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("agent")
    parser.add_argument("env")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True, help="training budget (env steps)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--from", dest="start_at", type=int, default=0, help="first env step to evaluate at")
    parser.add_argument("--every", type=int, default=1, help="env steps between evaluations (at least)")
    parser.add_argument("--selection-episodes", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True, help="run folder; the chosen policy goes to OUT-best")
    args = parser.parse_args(argv)

    selection_seed, collection_seed = SELECTION_SEED_OFFSET + args.seed, evaluation_seed(args.seed)
    session = zoo.start_run(args.agent, args.env, seed=args.seed, steps=args.steps,
                            overrides=parse_overrides(args.overrides), out=args.out)
    best: dict[str, float] = {}
    last = [-args.every]

    def after_iteration(progress) -> None:
        if progress.env_steps < args.start_at or progress.env_steps - last[0] < args.every:
            return
        last[0] = progress.env_steps
        selection = zoo.evaluate(session.learner, args.env, episodes=args.selection_episodes,
                                 seed=selection_seed, deterministic=True)
        collection = zoo.evaluate(session.learner, args.env, episodes=100, seed=collection_seed, deterministic=True)
        row = {"env_steps": progress.env_steps, "selection_mean": selection.mean, "selection_std": selection.std,
               "collection_mean": collection.mean, "collection_std": collection.std}
        print(json.dumps(row), flush=True)
        if not best or selection.mean > best["selection_mean"]:
            best.update(row)
            zoo.save_agent(session.learner, args.out.parent / f"{args.out.name}-best",
                           trained={"env_steps": progress.env_steps})

    session.run(after_iteration)
    print(json.dumps({"chosen": best}))


if __name__ == "__main__":
    main()
