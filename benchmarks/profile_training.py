"""Where REINFORCE's training time goes: env, acting, update, Python overhead.

    python benchmarks/profile_training.py reinforce-baseline cartpole --steps 100000
    python benchmarks/profile_training.py reinforce-baseline cartpole --set n_envs=8 --set learning_rate=0.01 \\
        --agent-class /tmp/reinforce_before.py:ReinforceBaseline   # an older version of the agent

Trains once without a profiler (for the wall-clock rate), then again under cProfile, and
splits the profiled time of ``train_iteration`` into: the vector env's ``step``/``reset``;
acting (``_act``: observation normalisation, policy forward, sampling); the rest of collection
(the Python loop, buffers, noise generation); and the update: the value baseline's fit
(``_fit_value``), the policy's gradient step (``_policy_step``; of which the optimiser's
``step``), and the rest (returns, advantages, episode statistics). Env steps are counted as
the run executes them (every copy's transitions). cProfile charges a little time to every
Python call, so the Python-heavy parts look somewhat more expensive than they are; the
unprofiled rate is the real one.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import pstats
import sys
import time
import warnings

import zoo
from zoo.config import parse_overrides
from zoo.factory import training_vec_env
from zoo.training.state import seeded_envs


def load_class(spec: str) -> type:
    path, _, name = spec.partition(":")
    module_spec = importlib.util.spec_from_file_location("_profiled_agent", path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module  # dataclasses look their module up
    module_spec.loader.exec_module(module)
    return getattr(module, name)


def make(agent: str, env: str, seed: int, overrides: dict, agent_class: str | None):
    learner = zoo.make_agent(agent, env, seed=seed, overrides=overrides)
    if agent_class:
        cls = load_class(agent_class)
        config = cls.Config(**{k: v for k, v in vars(learner.config).items() if k in cls.Config.__dataclass_fields__})
        learner = cls(learner.env, config, seed)
    return learner


def train(learner, env: str, seed: int, steps: int) -> tuple[int, int]:
    learner.start_training(lambda n: seeded_envs(training_vec_env(env, n), seed))
    done = iterations = 0
    try:
        while done < steps:
            done += learner.train_iteration().env_steps
            iterations += 1
    finally:
        learner.stop_training()
    return done, iterations



def cumulative(stats: pstats.Stats, match) -> float:
    """Total cumulative time of the functions ``match(filename, name)`` selects (outermost calls)."""
    return sum(entry[3] for (filename, _, name), entry in stats.stats.items() if match(filename, name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("agent")
    parser.add_argument("env")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--agent-class", help="FILE.py:Class to profile instead of the installed agent")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    overrides = parse_overrides(args.set)

    learner = make(args.agent, args.env, args.seed, overrides, args.agent_class)
    start = time.perf_counter()
    steps, iterations = train(learner, args.env, args.seed, args.steps)
    wall = time.perf_counter() - start

    learner = make(args.agent, args.env, args.seed, overrides, args.agent_class)
    profiler = cProfile.Profile()
    profiler.enable()
    p_steps, p_iterations = train(learner, args.env, args.seed, args.steps)
    profiler.disable()
    stats = pstats.Stats(profiler)

    env_cls = type(zoo.make_vec_env(args.env, learner.config.n_envs).unwrapped)
    env_file = env_cls.step.__code__.co_filename
    total = cumulative(stats, lambda f, n: n == "train_iteration")
    collect = cumulative(stats, lambda f, n: n == "_collect")
    env_time = cumulative(stats, lambda f, n: f == env_file and n in ("step", "reset"))
    acting = cumulative(stats, lambda f, n: n == "_act")
    value = cumulative(stats, lambda f, n: n == "_fit_value")
    policy = cumulative(stats, lambda f, n: n == "_policy_step")
    optimiser = cumulative(stats, lambda f, n: n == "step" and f.endswith("optim.py"))
    update = total - collect
    parts = {
        "env step/reset": env_time,
        "acting (normalise, policy forward, sample)": acting,
        "collection overhead (Python loop, buffers, noise)": collect - env_time - acting,
        "update: value baseline fit": value,
        "update: policy gradient step": policy,
        "update: of which optimiser steps": optimiser,
        "update: returns, advantages, rest": update - value - policy,
    }
    print(f"{args.agent} on {args.env}, config {overrides or 'defaults'}"
          f"{', class ' + args.agent_class if args.agent_class else ''}")
    print(f"unprofiled: {steps} env steps in {iterations} updates, {wall:.2f} s = {steps / wall:,.0f} steps/s "
          f"({1e6 * wall / steps:.1f} us per env step)")
    print(f"profiled:   {p_steps} env steps, {p_iterations} updates, {total:.2f} s in train_iteration")
    print(f"{'part':50s} {'share':>6s} {'us/env step':>12s} {'ms/update':>10s}")
    for name, seconds in parts.items():
        share, per_step, per_iteration = 100 * seconds / total, 1e6 * seconds / p_steps, 1e3 * seconds / p_iterations
        print(f"{name:50s} {share:5.1f}% {per_step:12.2f} {per_iteration:10.2f}")


if __name__ == "__main__":
    main()
