"""Which vector env ``zoo.make_vec_env`` should pick for an env without a batched version: the
sync vector env or the zoo's worker processes, measured against each other at several copy
counts, and what the rule picks (``vectorization_mode=None``).

    python benchmarks/vector_choice.py
    python benchmarks/vector_choice.py --envs HalfCheetah-v5,Hopper-v5,LunarLander-v3 --copies 2,8,16

Each option is timed as ``benchmarks/env_speed.py``'s bodies section times it (random actions,
best of ``--rounds`` rounds of ``--steps`` vector steps on every usable core): the wall-clock rate,
which other processes on a shared machine lower, and the CPU time per env step of the main
thread and of the worker processes, from which the rate on idle cores is predicted (one step
waits for the main thread, then for the workers' share spread over min(cores, workers)). On a
loaded machine the wall-clock rates swing by 2x from one run to the next; the CPU figures, and the
predictions made from them, do not.
"""

from __future__ import annotations

import argparse
import os
import platform

import env_speed

import zoo
from zoo.vector.workers import WorkerVectorEnv

SYNC, WORKERS = env_speed.OPTIONS[0], env_speed.OPTIONS[4]
PREDICTED = (2, 4, 8)


def picks(env: str, copies: int) -> str:
    """What ``zoo.make_vec_env`` takes by its rule."""
    with env_speed.quiet_stderr():
        envs = zoo.make_vec_env(env, copies)
    try:
        return "workers" if isinstance(envs.unwrapped, WorkerVectorEnv) else "sync"
    finally:
        envs.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", default="HalfCheetah-v5,Hopper-v5,LunarLander-v3")
    parser.add_argument("--copies", default="2,8,16")
    parser.add_argument("--steps", type=int, default=100, help="vector steps per timing round (default 100)")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds per option (default 5)")
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    print(f"{cores} usable cores ({platform.machine()}), load average before: "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| env | copies | sync: measured steps/s | workers: measured | sync: CPU µs/step | workers: main + "
          "workers µs/step | workers / sync predicted on " + " / ".join(map(str, PREDICTED)) + " idle cores | "
          "rule picks |")
    print("|---|---|---|---|---|---|---|---|")
    for env in args.envs.split(","):
        for copies in map(int, args.copies.split(",")):
            sync = env_speed.time_option(SYNC, env, copies, cores, args.steps, args.rounds)
            workers = env_speed.time_option(WORKERS, env, copies, cores, args.steps, args.rounds)
            ratios = " / ".join(f"{workers.predicted(c, WORKERS.workers(copies, c)) * (sync.main + sync.work):.2f}x"
                                for c in PREDICTED)
            sync_cpu = (sync.main + sync.work) * 1e6
            print(f"| {env} | {copies} | {sync.rate:,.0f} | {workers.rate:,.0f} | {sync_cpu:.1f} | "
                  f"{workers.main * 1e6:.1f} + {workers.work * 1e6:.1f} | {ratios} | {picks(env, copies)} |",
                  flush=True)
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
