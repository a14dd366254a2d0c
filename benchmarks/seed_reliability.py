"""How an agent's defaults (or a change to them) fare over many seeds, not the few they were tuned on.

For each setting (the defaults, then each ``--set`` of overrides) and each seed:

* **reach**: train with ``stop_at_reward=THRESHOLD`` and a step cap; the env steps and seconds
  until the mean of the last 100 training episodes reached the threshold, or "not within the cap";
* **final** (``--final-seeds``): train the whole default budget, then the mean of the last 100
  training episodes and of 100 deterministic evaluation episodes (seed 10,000, as the collection).

A setting is one ``--set``: ``KEY=VALUE`` pairs separated by spaces, each as ``zoo train --set``
reads it (``--set "learning_rate=0.03 net_arch=64,64"``). Prints one Markdown table per setting and
a summary line: seeds that reached the threshold, the median steps (a seed that never reached it
counting as slower than all), and for the final runs how many evaluate below the threshold.

    python benchmarks/seed_reliability.py reinforce-baseline acrobot --threshold -100 --cap 400000 \
        --seeds 25 --final-seeds 10 --set learning_rate=0.03
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import zoo
from zoo.config import parse_overrides


def reach(agent: str, env: str, seed: int, overrides: dict, threshold: float, cap: int, folder: Path) -> tuple:
    """(env steps, seconds) until the training mean reached ``threshold``; steps None if it did not."""
    start = time.perf_counter()
    result = zoo.train(agent, env, seed=seed, steps=cap, stop_at_reward=threshold, out=folder, overrides=overrides,
                       checkpoint_every=None)
    seconds = time.perf_counter() - start
    return (result.env_steps if result.stopped_at_reward is not None else None), seconds


def final(agent: str, env: str, seed: int, overrides: dict, folder: Path) -> tuple[int, float, float, float]:
    """(env steps, training mean of the last 100 episodes, evaluation mean and std) after the budget."""
    result = zoo.train(agent, env, seed=seed, out=folder, overrides=overrides, checkpoint_every=None)
    evaluation = zoo.evaluate(zoo.load_policy(result.checkpoint), env, episodes=100, seed=10_000).as_dict()
    return result.env_steps, float(np.mean(result.returns[-100:])), evaluation["mean"], evaluation["std"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("agent")
    parser.add_argument("env")
    parser.add_argument("--threshold", type=float, required=True, help="training mean of 100 episodes to reach")
    parser.add_argument("--cap", type=int, required=True, help="env steps at most, for reach")
    parser.add_argument("--seeds", type=int, default=25, help="seeds 0..N-1 for reach (0: none)")
    parser.add_argument("--final-seeds", type=int, default=0, help="seeds 0..N-1 trained the whole default budget")
    parser.add_argument("--set", action="append", default=[],
                        help="a setting to compare with the defaults: KEY=VALUE pairs separated by spaces")
    parser.add_argument("--no-defaults", action="store_true", help="only the --set settings")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    settings = ([] if args.no_defaults else [""]) + args.set
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        for text in settings:
            overrides = parse_overrides(text.split())
            name = text or "defaults"
            print(f"\n### {args.agent} on {args.env}, {name}\n")
            if args.seeds:
                print("| seed | steps to the threshold | seconds |")
                print("|---|---|---|")
            steps = []
            for seed in range(args.seeds):
                shutil.rmtree(folder, ignore_errors=True)
                reached, seconds = reach(args.agent, args.env, seed, overrides, args.threshold, args.cap, folder)
                steps.append(reached)
                shown = f"not within {args.cap:,}" if reached is None else f"{reached:,}"
                print(f"| {seed} | {shown} | {seconds:.2f} |", flush=True)
            ranked = sorted(s if s is not None else float("inf") for s in steps)
            median = statistics.median(ranked) if ranked else None
            finals = []
            if args.final_seeds:
                print("\n| seed | env steps | training mean (100) | evaluation (100, deterministic) |")
                print("|---|---|---|---|")
                for seed in range(args.final_seeds):
                    shutil.rmtree(folder, ignore_errors=True)
                    executed, trained, mean, std = final(args.agent, args.env, seed, overrides, folder)
                    finals.append(mean)
                    print(f"| {seed} | {executed:,} | {trained:.1f} | {mean:.1f} ± {std:.1f} |", flush=True)
            below = sum(mean < args.threshold for mean in finals)
            parts = []
            if steps:
                reached_count = sum(s is not None for s in steps)
                shown = "not within the cap" if median == float("inf") else f"{median:,.0f}"
                parts.append(f"{reached_count}/{args.seeds} seeds reached {args.threshold:g} within {args.cap:,} "
                             f"steps; median {shown}")
            if finals:
                parts.append(f"after the budget {below}/{len(finals)} evaluate below {args.threshold:g}")
            print(f"\n**{name}**: " + "; ".join(parts), flush=True)


if __name__ == "__main__":
    main()
