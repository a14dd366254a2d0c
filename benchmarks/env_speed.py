"""Steps per second of the PLE family's ports against gymnasium's CartPole-v1, in one run.

    python benchmarks/env_speed.py                 # every game, single env and vectorised at N=4096
    python benchmarks/env_speed.py --games Catcher,Pong --num-envs 1024 --rounds 15

Every env gets the same treatment: uniformly random actions drawn up front (so the policy costs
nothing), episodes reset as they end (a single env through ``gymnasium.make``, with its default
wrappers; vector envs through ``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")``
with their own NEXT_STEP autoreset). The envs are timed in alternating rounds and each keeps its
best round, which filters out other processes on a shared machine. Time is CPU time of this
process (``time.process_time``); ``--wall`` uses the wall clock instead. The figure that matters
is the ratio, port / CartPole, measured in the same run.
"""

from __future__ import annotations

import argparse
import time

import gymnasium
import numpy as np

import zoo.envs.ple  # noqa: F401  (registers the PLE family's ids)

REFERENCE = "CartPole-v1"
GAMES = ("Catcher", "FlappyBird", "Pixelcopter", "Pong", "PuckWorld")


def single_rate(env_id: str, steps: int, clock) -> float:
    """Steps per second of one env with random actions, resets included."""
    env = gymnasium.make(env_id)
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, env.action_space.n, steps).tolist()
    start = clock()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    rate = steps / (clock() - start)
    env.close()
    return rate


class VectorRun:
    """A vector env kept across rounds (building it is not what we time)."""

    def __init__(self, env_id: str, num_envs: int, steps: int) -> None:
        self.env = gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
        self.env.reset(seed=0)
        self.actions = np.random.default_rng(0).integers(0, self.env.single_action_space.n, (steps, num_envs))
        for action in self.actions[:10]:  # warm up
            self.env.step(action)

    def rate(self, clock) -> float:
        start = clock()
        for action in self.actions:
            self.env.step(action)
        return self.actions.size / (clock() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", default=",".join(GAMES), help=f"comma-separated (default {','.join(GAMES)})")
    parser.add_argument("--num-envs", type=int, default=4096, help="copies in the vectorised runs (default 4096)")
    parser.add_argument("--rounds", type=int, default=9, help="alternating timing rounds per env (default 9)")
    parser.add_argument("--single-steps", type=int, default=30_000, help="steps per round, single env")
    parser.add_argument("--vector-steps", type=int, default=100, help="vector steps per round")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock, not CPU time")
    args = parser.parse_args()
    clock = time.perf_counter if args.wall else time.process_time
    env_ids = [REFERENCE] + [f"{game}-PLE-v0" for game in args.games.split(",")]

    single = dict.fromkeys(env_ids, 0.0)
    for _ in range(args.rounds):
        for env_id in env_ids:
            single[env_id] = max(single[env_id], single_rate(env_id, args.single_steps, clock))

    runs = {env_id: VectorRun(env_id, args.num_envs, args.vector_steps) for env_id in env_ids}
    vector = dict.fromkeys(env_ids, 0.0)
    for _ in range(args.rounds):
        for env_id, run in runs.items():
            vector[env_id] = max(vector[env_id], run.rate(clock))

    unit = "wall-clock" if args.wall else "CPU"
    print(f"steps per {unit} second, best of {args.rounds} alternating rounds, random actions; "
          f"ratio = env / {REFERENCE} in this run")
    print(f"{'env':22s}{'single env':>14s}{'ratio':>8s}{f'vector N={args.num_envs}':>16s}{'ratio':>8s}")
    for env_id in env_ids:
        print(f"{env_id:22s}{single[env_id]:>14,.0f}{single[env_id] / single[REFERENCE]:>8.2f}"
              f"{vector[env_id]:>16,.0f}{vector[env_id] / vector[REFERENCE]:>8.2f}")


if __name__ == "__main__":
    main()
