"""What REINFORCE does with the steps under way when its step budget ends: its last update learns
from all of them (the unfinished episodes cut there, learned as truncated; as shipped), against
leaving them unlearned in the collector (the zoo up to 7be60fd), and against a last update on the
ended episodes only (the unfinished ones dropped: what copies that stopped starting episodes near
the end could at best learn from, without their idle steps' cost).

    python benchmarks/budget_end.py [--case cartpole-100k ...] [--seeds 0 1 2]
    python benchmarks/budget_end.py --every-env [--steps 200000]

Each case trains with ``zoo.train`` (the real loop: its budget counts executed env steps) and
the agent's per-env defaults, then evaluates the final policy deterministically on 100 episodes
(seed 10,000 + the training seed). The variants run in the same process, seed by seed; the
earlier behaviour is this code with the last update's batch withheld
(``Reinforce._budget_end_batch`` returning nothing), which is what 7be60fd did.

``--every-env`` trains each built-in agent on every built-in env at its defaults for ``--steps``
and prints the executed-to-used ratio at the end of the run for both variants (no evaluation).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import zoo
from zoo.agents import returns as R
from zoo.agents.reinforce import Reinforce

#: name -> (agent, env, steps or None for the agent's default budget, seeds)
CASES = {
    "cartpole-100k": ("reinforce", "cartpole", 100_000, list(range(30))),
    "cartpole-300k": ("reinforce", "cartpole", 300_000, [0, 1, 2, 3, 4]),
    "acrobot": ("reinforce-baseline", "acrobot", None, [0, 1, 2]),
}
ENVS = ["cartpole", "acrobot", "mountaincar", "mountaincar-continuous", "pendulum", "lunarlander", "pixelcopter",
        "catcher", "flappybird", "pong", "puckworld"]
SHIPPED = Reinforce._budget_end_batch


def ended_only(self: Reinforce):
    """The last batch without the unfinished episodes (their steps executed, never learned)."""
    batch = SHIPPED(self)
    if batch is None:
        return None
    ids = R.episode_ids(batch.active, batch.ends)
    batch.active &= ~np.isin(ids, ids[batch.cut & batch.active])
    batch.ends &= ~batch.cut
    batch.cut[:] = False
    return batch if batch.active.any() else None


VARIANTS = {"learns all at the budget's end (shipped)": SHIPPED,
            "leaves them waiting (7be60fd)": lambda self: None,
            "learns the ended episodes only": ended_only}


def end_ratio(run: Path, executed: int) -> float:
    """Executed env steps per env step learned from, at the end of the run: the last
    progress.csv row's ratio, carried to the steps executed after it (learned from by nothing)."""
    with open(run / "progress.csv", newline="") as f:
        last = list(csv.DictReader(f))[-1]
    used = int(last["time/total_timesteps"]) / float(last["rollout/executed_to_used"])
    return executed / used


def train(variant: str, agent: str, env: str, seed: int, steps: int | None, evaluate: bool) -> dict[str, float]:
    Reinforce._budget_end_batch = VARIANTS[variant]
    try:
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            result = zoo.train(agent, env, seed=seed, steps=steps, out=Path(folder) / "run", checkpoint_every=None)
            seconds = time.perf_counter() - start
            figures = {"ratio": end_ratio(result.run_dir, result.env_steps), "executed": result.env_steps,
                       "seconds": seconds}
            if evaluate:
                learner = zoo.load_agent(result.checkpoint)
                figures["eval"] = zoo.evaluate(learner, env, episodes=100, seed=10_000 + seed).mean
            return figures
    finally:
        Reinforce._budget_end_batch = SHIPPED


def learning(cases: list[str], seeds: list[int] | None) -> None:
    print("| case | variant | evaluation per seed (100 deterministic episodes) | mean | executed/used at the end "
          "per seed | executed env steps |")
    print("|---|---|---|---|---|---|")
    for name in cases:
        agent, env, steps, default_seeds = CASES[name]
        for variant in VARIANTS:
            runs = [train(variant, agent, env, seed, steps, True) for seed in seeds or default_seeds]
            print(f"| {agent} {env} {steps or 'default budget'} | {variant} | "
                  f"{' / '.join(format(r['eval'], '.1f') for r in runs)} | "
                  f"{statistics.mean(r['eval'] for r in runs):.1f} | "
                  f"{' / '.join(format(r['ratio'], '.3f') for r in runs)} | "
                  f"{' / '.join(format(r['executed'], ',') for r in runs)} |", flush=True)


def every_env(steps: int, seed: int, envs: list[str]) -> None:
    print(f"Executed env steps per env step learned from at the end of `zoo train AGENT ENV --steps {steps} "
          f"--seed {seed}` (defaults otherwise)\n")
    print("| agent | env | n_envs | shipped | 7be60fd | executed env steps | seconds (shipped) |")
    print("|---|---|---|---|---|---|---|")
    for agent in ("reinforce", "reinforce-baseline"):
        for env in envs:
            n_envs = zoo.make_agent(agent, env).config.n_envs
            new, old = (train(variant, agent, env, seed, steps, False) for variant in list(VARIANTS)[:2])
            print(f"| {agent} | {env} | {n_envs} | {new['ratio']:.4f} | {old['ratio']:.4f} | {new['executed']:,} | "
                  f"{new['seconds']:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--seeds", type=int, nargs="+", help="instead of each case's own")
    parser.add_argument("--every-env", action="store_true")
    parser.add_argument("--envs", nargs="+", choices=ENVS, default=ENVS)
    parser.add_argument("--steps", type=int, default=200_000, help="--every-env's budget")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.every_env:
        every_env(args.steps, (args.seeds or [0])[0], args.envs)
    else:
        learning(args.case, args.seeds)


if __name__ == "__main__":
    main()
