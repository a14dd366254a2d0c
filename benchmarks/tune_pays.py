"""Does `zoo tune` pay? Tune an agent on an env for a bounded budget, then train the tuned config
and the shipped defaults on fresh seeds, in the same run, and compare the env steps each takes
to reach the env's threshold (the bench's criterion: the 100-episode running mean of training
returns).

    python benchmarks/tune_pays.py [--agent reinforce-baseline] [--env cartpole] [--trials 30]
                                   [--budget 150000] [--seeds 5] [--out benchmarks/results/tune]

Writes OUT/trials.csv, OUT/best.toml, OUT/history.png, OUT/importance.png (from the study) and
OUT/tune-pays.json and OUT/tune-pays.md (the comparison), and prints the table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from zoo.tools.bench import Criterion, first_reached, train_zoo_agent
from zoo.tools.tune import plan_tune, run_tune, typed_params

#: Fresh seeds for the comparison: none of them is a seed the study trained on.
FRESH_SEEDS_FROM = 1000


def steps_to_threshold(agent: str, env: str, seed: int, cap: int, overrides: dict, threshold: float) -> int | None:
    criterion = Criterion(window=100, at_least=threshold)
    record = train_zoo_agent(env, seed, cap, lambda returns: first_reached([criterion], returns) is not None,
                             agent=agent, overrides=overrides)
    hit = first_reached([criterion], record.returns)
    return None if hit is None else record.env_steps[hit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agent", default="reinforce-baseline")
    parser.add_argument("--env", default="cartpole")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--budget", type=int, default=150_000, help="env steps per seed in each trial")
    parser.add_argument("--seeds", type=int, default=5, help="fresh seeds for the comparison")
    parser.add_argument("--cap", type=int, default=300_000, help="env steps each comparison run may take")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/tune"))
    args = parser.parse_args()

    from zoo.factory import agent_entry, env_entry, load_agent_class

    entry = env_entry(args.env)
    threshold = entry.solved_threshold
    started = time.perf_counter()
    plan = plan_tune(args.agent, args.env, trials=args.trials, budget=args.budget, seeds=2,
                     eval_every=args.budget // 15, eval_episodes=10, objective="steps-to-threshold",
                     out=args.out, study=f"{args.agent}__{entry.gym_id}__steps-to-threshold")
    outcome = run_tune(plan, workers=args.workers,
                       on_trial=lambda o: print(f"trial {o['number']}: {o['state']} {o['value']}", flush=True))
    tuning_seconds = time.perf_counter() - started
    best = outcome.study.best_trial
    tuned = typed_params(args.agent, best.params)
    defaults = load_agent_class(agent_entry(args.agent)).env_defaults(entry)

    seeds = list(range(FRESH_SEEDS_FROM, FRESH_SEEDS_FROM + args.seeds))
    rows = {}
    for label, overrides in (("shipped defaults", {}), ("tuned", tuned)):
        rows[label] = [steps_to_threshold(args.agent, args.env, seed, args.cap, overrides, threshold)
                       for seed in seeds]
        print(label, rows[label], flush=True)

    def summary(values: list[int | None]) -> dict:
        reached = [v for v in values if v is not None]
        # A seed that never reaches the threshold counts as slower than every one that does.
        ranked = [v if v is not None else float("inf") for v in values]
        median = statistics.median(ranked)
        return {"reached": len(reached), "median": None if median == float("inf") else median,
                "mean_of_reached": statistics.mean(reached) if reached else None}

    result = {
        "agent": args.agent, "env": entry.gym_id, "threshold": threshold, "criterion": "100-episode running mean",
        "study": {"name": plan.study, "trials": len(outcome.study.trials), "budget_per_seed": args.budget,
                  "seeds_per_trial": 2, "best_trial": best.number, "best_value": best.value,
                  "seconds": round(tuning_seconds, 1)},
        "defaults": {k: (list(v) if isinstance(v, tuple) else v) for k, v in defaults.items()},
        "tuned": {k: (list(v) if isinstance(v, tuple) else v) for k, v in tuned.items()},
        "fresh_seeds": seeds, "cap": args.cap,
        "steps_to_threshold": rows, "summary": {label: summary(values) for label, values in rows.items()},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tune-pays.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"`python benchmarks/tune_pays.py --agent {args.agent} --env {args.env} --trials {args.trials} "
             f"--budget {args.budget} --seeds {args.seeds}`: study of {len(outcome.study.trials)} trials "
             f"({tuning_seconds:.0f} s), then both configs on fresh seeds {seeds[0]}-{seeds[-1]}, capped at "
             f"{args.cap:,} steps.", "",
             "| config | " + " | ".join(f"seed {s}" for s in seeds) + " | reached | median steps |",
             "|---|" + "|".join("---" for _ in seeds) + "|---|---|"]
    for label, values in rows.items():
        s = result["summary"][label]
        cells = [f"{v:,}" if v is not None else "not reached" for v in values]
        median = "—" if s["median"] is None else f"{s['median']:,.0f}"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {s['reached']}/{len(seeds)} | {median} |")
    (args.out / "tune-pays.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
