"""Env stepping speed, measured in one run: the zoo's envs against references stepped alongside.

    python benchmarks/env_speed.py                                # every section
    python benchmarks/env_speed.py --sections classic            # the batched classic-control envs
    python benchmarks/env_speed.py --sections ple --games Catcher,Pong --num-envs 1024 --rounds 15
    python benchmarks/env_speed.py --sections bodies --body-envs 16 --out benchmarks/results

Sections:

* ``ple``: the PLE family's ports against gymnasium's CartPole-v1, each as a single env and batched
  at ``--num-envs`` copies; the figure that matters is the ratio, port / CartPole.
* ``classic``: each batched classic-control env (``zoo.envs.classic``) at ``--num-envs`` copies
  against gymnasium's sync vector env of the same env at ``--sync-envs`` copies; target: at least
  50x. CartPole-v1's row is gymnasium's own ``CartPoleVectorEnv``, for scale.
* ``bodies``: envs whose physics cannot be batched in numpy (Box2D, MuJoCo, Atari) stepped at
  ``--body-envs`` copies by gymnasium's ``SyncVectorEnv``, its ``AsyncVectorEnv`` (one process per
  copy, with shared memory or pipes, and with one copy per core) and EnvPool (C++ threads) where it
  has the env, and the zoo's ``WorkerVectorEnv`` (one worker process per core stepping its share
  of the copies), each on 1 and on 2 cores (CPU affinity). Each option's CPU time per env step, split into the
  main thread's (which no number of cores shortens) and its workers' (which cores share), predicts
  its rate on more cores than this machine has, and on idle ones.

Every env gets the same treatment: uniformly random actions drawn up front (so the policy costs
nothing), episodes reset as they end (vector envs' own NEXT_STEP autoreset; a single env through
``gymnasium.make`` with its default wrappers). Envs are timed in alternating rounds and each keeps
its best round, which filters out other processes on a shared machine. Time is CPU time of this
process (``time.process_time``) in the ple and classic sections (``--wall``: the wall clock), and
the wall clock in the bodies section, where other processes and threads do the work (their CPU
time is read from ``/proc``, so that section runs on Linux).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

import zoo
import zoo.envs.ple  # noqa: F401  (registers the PLE family's ids)

REFERENCE = "CartPole-v1"
GAMES = ("Catcher", "FlappyBird", "Pixelcopter", "Pong", "PuckWorld")
CLASSIC = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1")
CLASSIC_TARGET = 50
#: Bodies that numpy cannot batch: gymnasium id -> (module that registers it with gymnasium, EnvPool's
#: task id and options). Atari in EnvPool is configured as close to gymnasium's ALE/Pong-v5 as it
#: goes (full RGB frames, no frame stacking, sticky actions); its preprocessing is still its own.
IDLE = "zoo-bench/Idle-v0"
BODIES = {
    IDLE: (None, None, {}),
    "LunarLander-v3": (None, "LunarLander-v3", {}),
    "InvertedPendulum-v5": (None, "InvertedPendulum-v5", {}),
    "HalfCheetah-v5": (None, "HalfCheetah-v5", {}),
    "ALE/Pong-v5": ("ale_py", "Pong-v5", {"img_height": 210, "img_width": 160, "gray_scale": False, "stack_num": 1,
                                          "episodic_life": False, "reward_clip": False,
                                          "repeat_action_probability": 0.25}),
}


class Idle(gymnasium.Env):
    """No physics at all (LunarLander's spaces): stepped by an option, it shows what the option
    itself costs per env step."""

    observation_space = gymnasium.spaces.Box(-1.0, 1.0, (8,), dtype=np.float32)
    action_space = gymnasium.spaces.Discrete(4)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return np.zeros(8, dtype=np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        return np.zeros(8, dtype=np.float32), 0.0, False, False, {}


gymnasium.register(IDLE, entry_point=Idle, max_episode_steps=1000)


def random_actions(space: gymnasium.Space, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Uniformly random actions of ``space``, ``shape`` of them (float32 for Box spaces, as agents give)."""
    rng = np.random.default_rng(seed)
    if isinstance(space, gymnasium.spaces.Discrete):
        return rng.integers(space.start, space.start + space.n, shape)
    return rng.uniform(space.low, space.high, (*shape, *space.shape)).astype(np.float32)


def best_of_rounds(rates: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Each callable's best rate over ``rounds`` alternating rounds."""
    best = dict.fromkeys(rates, 0.0)
    for _ in range(rounds):
        for key, rate in rates.items():
            best[key] = max(best[key], rate())
    return best


# -- single envs and vector envs in this process -----------------------------------------------------------
def single_rate(env_id: str, steps: int, clock: Callable[[], float]) -> float:
    """Steps per second of one env with random actions, resets included."""
    env = gymnasium.make(env_id)
    env.reset(seed=0)
    actions = random_actions(env.action_space, (steps,)).tolist()
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

    def __init__(self, env_id: str, num_envs: int, steps: int, mode: str = "vector_entry_point") -> None:
        self.env = gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode)
        self.env.reset(seed=0)
        self.actions = random_actions(self.env.single_action_space, (steps, num_envs))
        for action in self.actions[:10]:  # warm up
            self.env.step(action)

    def rate(self, clock: Callable[[], float]) -> float:
        start = clock()
        for action in self.actions:
            self.env.step(action)
        return len(self.actions) * self.env.num_envs / (clock() - start)


def ple_section(args: argparse.Namespace, clock: Callable[[], float], unit: str) -> list[str]:
    env_ids = [REFERENCE] + [f"{game}-PLE-v0" for game in args.games.split(",")]
    single = best_of_rounds({e: lambda e=e: single_rate(e, args.single_steps, clock) for e in env_ids}, args.rounds)
    runs = {env_id: VectorRun(env_id, args.num_envs, args.vector_steps) for env_id in env_ids}
    vector = best_of_rounds({e: lambda r=r: r.rate(clock) for e, r in runs.items()}, args.rounds)
    lines = [f"PLE ports: steps per {unit} second, best of {args.rounds} alternating rounds, random actions; "
             f"ratio = env / {REFERENCE} in this run", "",
             f"| env | single env | ratio | vector N={args.num_envs} | ratio |", "|---|---|---|---|---|"]
    for env_id in env_ids:
        lines.append(f"| {env_id} | {single[env_id]:,.0f} | {single[env_id] / single[REFERENCE]:.2f} "
                     f"| {vector[env_id]:,.0f} | {vector[env_id] / vector[REFERENCE]:.2f} |")
    return lines


def classic_section(args: argparse.Namespace, clock: Callable[[], float], unit: str) -> list[str]:
    zoo.list_envs()  # loads the plugins: the classic plugin gives gymnasium's ids their batched envs
    rates = {}
    for env_id in CLASSIC:
        batched = VectorRun(env_id, args.num_envs, args.vector_steps)
        sync = VectorRun(env_id, args.sync_envs, args.sync_steps, mode="sync")
        rates[env_id, "batched"], rates[env_id, "sync"] = batched.rate, sync.rate
    best = best_of_rounds({key: lambda rate=rate: rate(clock) for key, rate in rates.items()}, args.rounds)
    lines = [f"Batched classic control: steps per {unit} second, best of {args.rounds} alternating rounds, random "
             f"actions; ratio = batched at N={args.num_envs} / gymnasium's sync vector env at N={args.sync_envs}, "
             f"target >= {CLASSIC_TARGET}x", "",
             f"| env | sync N={args.sync_envs} | batched N={args.num_envs} | ratio | target |", "|---|---|---|---|---|"]
    for env_id in CLASSIC:
        ratio = best[env_id, "batched"] / best[env_id, "sync"]
        verdict = "gymnasium's own" if env_id == "CartPole-v1" else ("met" if ratio >= CLASSIC_TARGET else "NOT MET")
        lines.append(f"| {env_id} | {best[env_id, 'sync']:,.0f} | {best[env_id, 'batched']:,.0f} | {ratio:.0f}x "
                     f"| {verdict} |")
    return lines


# -- bodies: processes, threads, cores --------------------------------------------------------------------
@contextlib.contextmanager
def on_cores(count: int) -> Iterator[None]:
    """Run this process (and the processes and threads it starts) on ``count`` of its CPUs."""
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, allowed[:count])
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


@dataclass
class Option:
    """One way to step N copies of an env."""

    name: str
    make: Callable[[str, int, int], Any]  # (gymnasium id, copies, cores) -> vector env
    copies: Callable[[int, int], int] = lambda n, cores: n  # how many copies it steps, of N asked for
    workers: Callable[[int, int], int] = lambda copies, cores: cores  # processes or threads stepping them
    seeded_by_reset: bool = True


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Standard error closed at the file-descriptor level (MuJoCo's C code, in EnvPool, writes a
    deprecation notice per copy there)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _envpool(env_id: str, num_envs: int, cores: int) -> Any:
    import envpool

    _, task, options = BODIES[env_id]
    if task is None:
        raise LookupError("EnvPool has no such env")
    with quiet_stderr():
        return envpool.make(task, env_type="gymnasium", num_envs=num_envs, batch_size=num_envs, num_threads=cores,
                            seed=0, **options)  # EnvPool is seeded here: its reset ignores a seed


def _async(shared_memory: bool, one_per_core: bool = False) -> Callable[[str, int, int], Any]:
    def make(env_id: str, num_envs: int, cores: int) -> Any:
        return gymnasium.make_vec(env_id, cores if one_per_core else num_envs, vectorization_mode="async",
                                  vector_kwargs={"shared_memory": shared_memory})
    return make


def _zoo_workers(env_id: str, num_envs: int, cores: int) -> Any:
    """The zoo's own: ``zoo.vector.workers.WorkerVectorEnv`` as ``zoo.make_vec_env`` builds it
    (one worker process per usable core, each stepping its share of the copies in a sync vector
    env; ``zoo.make_vec_env`` takes it by default where a step costs enough)."""
    import zoo

    return zoo.make_vec_env(env_id, num_envs, vectorization_mode="workers")


OPTIONS = [
    Option("gymnasium SyncVectorEnv", lambda e, n, c: gymnasium.make_vec(e, n, vectorization_mode="sync"),
           workers=lambda copies, cores: 0),
    Option("gymnasium AsyncVectorEnv, shared memory", _async(True), workers=lambda copies, cores: copies),
    Option("gymnasium AsyncVectorEnv, pipes", _async(False), workers=lambda copies, cores: copies),
    Option("gymnasium AsyncVectorEnv, one copy per core", _async(True, one_per_core=True),
           copies=lambda n, cores: cores, workers=lambda copies, cores: copies),
    Option("zoo WorkerVectorEnv: a process per core, each a SyncVectorEnv of its share", _zoo_workers,
           workers=lambda copies, cores: min(copies // 2, cores)),
    Option("EnvPool (C++ threads, one per core)", _envpool, workers=lambda copies, cores: min(copies, cores),
           seeded_by_reset=False),
]


@dataclass
class Timing:
    """Best-of-rounds figures of one option on a number of cores, per env step."""

    rate: float  # env steps per wall-clock second
    main: float  # CPU seconds of the main thread per env step: what no number of cores shortens
    work: float  # CPU seconds of the workers (processes or threads) per env step: what cores share

    def predicted(self, cores: int, units: int) -> float:
        """Env steps per second on ``cores`` idle cores: each step waits for the main thread, then
        for the workers' share, spread over ``units`` workers (at most one per core helps)."""
        return 1 / max(self.main + self.work / max(1, min(cores, units)), 1e-9)


def _cpu(pid: int) -> float:
    """CPU seconds all threads of another process have run (from /proc, in nanoseconds there)."""
    return sum(int((task / "schedstat").read_text().split()[0]) for task in Path(f"/proc/{pid}/task").iterdir()) / 1e9


def time_option(option: Option, env_id: str, num_envs: int, cores: int, steps: int, rounds: int) -> Timing | str:
    """The option's best round on ``cores`` cores, or why it could not run."""
    with on_cores(cores):
        try:
            with quiet_stderr():  # MuJoCo's notices, printed by every process that builds a model
                envs = option.make(env_id, num_envs, cores)
        except Exception as exc:  # not installed, or the option does not have this env
            return f"{type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"
        try:
            envs.reset(**({"seed": 0} if option.seeded_by_reset else {}))
            copies = option.copies(num_envs, cores)
            actions = random_actions(envs.single_action_space if hasattr(envs, "single_action_space")
                                     else envs.action_space, (steps + 5, copies))
            for action in actions[:5]:
                envs.step(action)
            workers = [process.pid for process in getattr(envs, "processes", ())]
            best = None
            for _ in range(rounds):
                before = time.perf_counter(), time.thread_time(), time.process_time(), sum(map(_cpu, workers))
                for action in actions[5:]:
                    envs.step(action)
                after = time.perf_counter(), time.thread_time(), time.process_time(), sum(map(_cpu, workers))
                wall, main, process, children = (end - start for start, end in zip(before, after))
                # Worker threads (EnvPool's) run in this process; worker processes are children.
                timing = Timing(steps * copies / wall, main / (steps * copies),
                                max(0.0, process - main + children) / (steps * copies))
                best = timing if best is None or timing.rate > best.rate else best
            return best
        finally:
            envs.close()


def bodies_section(args: argparse.Namespace) -> list[str]:
    cores = len(os.sched_getaffinity(0))
    counts = sorted({1, cores})
    predicted = (1, 2, 4, 8, 16)
    lines = [f"Bodies numpy cannot batch: env steps per second at N={args.body_envs} copies, random actions, best "
             f"of {args.body_rounds} rounds of {args.body_steps} steps on 1 and on {cores} cores (CPU affinity; "
             "wall clock, so other processes on the machine lower these). CPU per env step, from the run on "
             f"{cores} cores: the main thread's (what no number of cores shortens) and the workers' (processes "
             "or threads: what cores share). Predicted: the rate those CPU figures allow on idle cores, one "
             "step waiting for the main thread, then for the workers' share spread over min(cores, workers) "
             "(Async: one worker per copy; the zoo's workers and EnvPool: one per core). Ceiling: the main "
             "thread alone."]
    for env_id, (module, _, _) in BODIES.items():
        try:
            if module:
                gymnasium.register_envs(__import__(module))
            with quiet_stderr():
                gymnasium.make(env_id).close()
        except Exception as exc:
            lines += ["", f"{env_id}: skipped, {type(exc).__name__}: {str(exc).splitlines()[0][:100]}"]
            continue
        with quiet_stderr():
            single = max(single_rate(env_id, args.body_steps * 4, time.perf_counter) for _ in range(args.body_rounds))
        title = ("no physics: what each option costs by itself" if env_id == IDLE else
                 f"a single env, gymnasium.make: {single:,.0f} steps/s, {1e6 / single:.0f} µs per step")
        lines += ["", f"{env_id} ({title})", "",
                  "| option | copies | " + " | ".join(f"measured, {c} core{'s' * (c > 1)}" for c in counts)
                  + " | main µs/step | workers µs/step | predicted " + " / ".join(map(str, predicted))
                  + " cores | ceiling |", "|---|---|" + "---|" * len(counts) + "---|---|---|---|"]
        for option in OPTIONS:
            timings = {c: time_option(option, env_id, args.body_envs, c, args.body_steps, args.body_rounds)
                       for c in counts}
            if any(isinstance(t, str) for t in timings.values()):
                reason = next(t for t in timings.values() if isinstance(t, str))
                lines.append(f"| {option.name} | | n/a: {reason} |" + " |" * (len(counts) + 3))
                continue
            cpu = timings[cores]
            copies = option.copies(args.body_envs, cores)
            rates = " / ".join(f"{cpu.predicted(c, option.workers(option.copies(args.body_envs, c), c)):,.0f}"
                               for c in predicted)
            ceiling = f"{1 / cpu.main:,.0f}" if option.workers(copies, cores) else "-"
            lines.append(f"| {option.name} | {copies} | "
                         + " | ".join(f"{timings[c].rate:,.0f}" for c in counts)
                         + f" | {cpu.main * 1e6:.1f} | {cpu.work * 1e6:.1f} | {rates} | {ceiling} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default="ple,classic,bodies", help="comma-separated: ple, classic, bodies")
    parser.add_argument("--games", default=",".join(GAMES), help=f"PLE games (default {','.join(GAMES)})")
    parser.add_argument("--num-envs", type=int, default=4096, help="copies in the batched runs (default 4096)")
    parser.add_argument("--sync-envs", type=int, default=64, help="copies in the sync reference (default 64)")
    parser.add_argument("--rounds", type=int, default=9, help="alternating timing rounds per env (default 9)")
    parser.add_argument("--single-steps", type=int, default=30_000, help="steps per round, single env")
    parser.add_argument("--vector-steps", type=int, default=100, help="batched vector steps per round")
    parser.add_argument("--sync-steps", type=int, default=100, help="sync vector steps per round")
    parser.add_argument("--body-envs", type=int, default=16, help="copies in the bodies section (default 16)")
    parser.add_argument("--body-steps", type=int, default=100, help="vector steps per round, bodies")
    parser.add_argument("--body-rounds", type=int, default=3, help="timing rounds per option and core count")
    parser.add_argument("--wall", action="store_true", help="time the ple and classic sections with the wall clock")
    parser.add_argument("--out", type=Path, help="also write the tables to OUT/env-speed.md")
    args = parser.parse_args(argv)
    clock = time.perf_counter if args.wall else time.process_time
    unit = "wall-clock" if args.wall else "CPU"
    sections = {"ple": lambda: ple_section(args, clock, unit), "classic": lambda: classic_section(args, clock, unit),
                "bodies": lambda: bodies_section(args)}
    chosen = args.sections.split(",")
    unknown = sorted(set(chosen) - set(sections))
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}: choose from {', '.join(sections)}")
    load = os.getloadavg()
    header = [f"Env speed ({datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}): "
              f"{len(os.sched_getaffinity(0))} CPUs ({platform.processor() or platform.machine()}), "
              f"Python {platform.python_version()}, numpy {np.__version__}, gymnasium {gymnasium.__version__}; "
              f"load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} before", "",
              f"Command: `python benchmarks/env_speed.py {' '.join(argv if argv is not None else sys.argv[1:])}`"]
    report = list(header)
    print("\n".join(header), flush=True)
    for name in chosen:
        lines = sections[name]()
        print("\n" + "\n".join(lines), flush=True)
        report += [""] + lines
    load = os.getloadavg()
    report += ["", f"Load average after: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}."]
    print(report[-1])
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "env-speed.md").write_text("\n".join(report) + "\n")


if __name__ == "__main__":
    main()
