"""Wall time of REINFORCE with a baseline to each env's bench threshold: this checkout against an
earlier commit, measured in the same run.

    python benchmarks/training_speed.py [--baseline-ref 9b18252] [--seeds 0 1 2] [--repeats 3]
                                        [--only acrobot pendulum] [--baseline-dir DIR] [--out benchmarks/results]

Each case is ``zoo bench`` on a one-run suite: ``reinforce-baseline`` with each version's own
per-env defaults on one env, trained until the training returns meet the env's criteria (those
of ``benchmarks/suite.toml`` where it has the env; for the PLE games without one, a threshold
both versions reach) or a cap. The earlier commit is installed from ``git archive`` into a
temporary venv (``benchmarks/latency.py``'s ``install_baseline``; ``--baseline-dir`` keeps and
reuses it). Runs alternate between the two sides, the order reversed every other run, so that
drift in the machine's load falls on both alike. Each seed runs ``--repeats`` times on each side
(the same training each time) and counts its fastest run: on a shared machine whatever else runs
only ever slows a run down. The table gives each side's median seconds to
the threshold (bench's "seconds": from making the agent to the iteration that meets the
criteria, process start-up and the final evaluation left out), its median env steps, how many
seeds got there, and the speed-up (the earlier commit's median seconds over this one's) against
the issue's target. Earlier versions count env steps of learned episodes only; this one counts
every executed step.

Pong and PuckWorld go through ``zoo train`` instead (:data:`VIA_TRAIN`): their games have no time
limit, and 9b18252's bench left such an env's episodes uncapped where ``zoo train`` caps them at
10,000 steps, so PuckWorld never ended an episode there. Each side's run is stopped (SIGTERM: it
saves and exits) once its ``monitor.csv`` shows the threshold met, and the seconds are that
iteration's (``zoo train``'s clock: from the start of training to the end of the iteration).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: env key -> (zoo env, criteria, cap on env steps, target speed-up or None for "not slower")
CASES: dict[str, tuple[str, list[dict], int, float | None]] = {
    "acrobot": ("acrobot", [{"window": 100, "at_least": -100}], 1_000_000, 5.0),
    "pendulum": ("pendulum", [{"window": 100, "at_least": -200}], 10_000_000, 3.0),
    "mountaincar-continuous": ("mountaincar-continuous", [{"window": 100, "at_least": 90}], 600_000, 3.0),
    "lunarlander": ("lunarlander", [{"window": 100, "at_least": 200}], 5_000_000, 2.0),
    "cartpole": ("cartpole", [{"window": 100, "at_least": 475}], 600_000, 1.0),
    "pixelcopter": ("pixelcopter", [{"window": 100, "at_least": 30}, {"window": 10, "stat": "mean-std",
                                                                        "at_least": 5}], 8_000_000, 1.0),
    "catcher": ("catcher", [{"window": 100, "at_least": 10}], 4_000_000, 1.0),
    "flappybird": ("flappybird", [{"window": 100, "at_least": 5}], 10_000_000, 1.0),
    "pong": ("pong", [{"window": 100, "at_least": -3}], 20_000_000, 1.0),
    "puckworld": ("puckworld", [{"window": 100, "at_least": -150_000}], 12_000_000, 1.0),
}
#: Cases measured with ``zoo train`` rather than ``zoo bench`` (see the module docstring).
VIA_TRAIN = {"pong", "puckworld"}


def latency_module():
    spec = importlib.util.spec_from_file_location("_latency", Path(__file__).with_name("latency.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def suite_text(key: str, seed: int) -> str:
    env, criteria, cap, _ = CASES[key]
    rules = ", ".join("{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in c.items()) + " }" for c in criteria)
    return (f'[quick]\nseeds = [{seed}]\n\n[envs.{key}]\nenv = "{env}"\ncriteria = [{rules}]\n'
            f'cap_steps = {cap}\nstop = "threshold"\neval_episodes = 1\n\n'
            f'[[runs]]\nname = "REINFORCE + baseline"\nagent = "reinforce-baseline"\nenv = "{key}"\nseeds = [{seed}]\n')


def first_iteration_reaching(returns: list[float], seconds: list[float], criteria: list[dict]) -> int | None:
    """The last episode of the first iteration after which the returns meet every criterion, as
    the bench checks them after each iteration (a run's files give each episode its iteration's
    seconds)."""
    from zoo.tools.bench import Criterion, all_met

    rules = [Criterion(**c) for c in criteria]
    for i in range(len(returns)):
        last_of_iteration = i + 1 == len(returns) or seconds[i + 1] != seconds[i]
        if last_of_iteration and all_met(rules, returns[:i + 1]):
            return i
    return None


def _csv_rows(path: Path, skip: int = 0) -> list[dict[str, str]]:
    """The complete lines of a CSV file another process appends to, after ``skip`` lines."""
    import csv

    lines = [line for line in path.read_text().splitlines(keepends=True)[skip:] if line.endswith("\n")]
    return list(csv.DictReader(lines))


def train_once(zoo_bin: Path, key: str, seed: int, tmp: Path, label: str) -> dict:
    """One seed of one :data:`VIA_TRAIN` case on one side: ``zoo train`` until its training returns
    meet the case's threshold (then stopped) or the cap, as a record like the bench's. The run
    appends every iteration's episodes to ``monitor.csv``, where the threshold is watched for;
    ``returns.csv``, written at every save (the last one as the run stops), gives the env steps."""
    import signal
    import time

    env, criteria, cap, _ = CASES[key]
    run, log = tmp / f"{label}-{key}-{seed}", tmp / f"{label}-{key}-{seed}.log"
    env_vars = {**os.environ, "ZOO_TORCH_THREADS": "1", "SDL_VIDEODRIVER": "dummy"}
    with log.open("w") as output:  # a file, not a pipe nobody reads until the end: that could fill up
        process = subprocess.Popen([str(zoo_bin), "train", "reinforce-baseline", env, "--seed", str(seed),
                                    "--steps", str(cap), "--out", str(run)], stdout=output, stderr=subprocess.STDOUT,
                                   env=env_vars, cwd=tmp)
    while process.poll() is None:
        time.sleep(0.5)
        if (run / "monitor.csv").exists():
            rows = _csv_rows(run / "monitor.csv", skip=1)[:-1]  # the last iteration may be half written
            if first_iteration_reaching([float(r["r"]) for r in rows], [float(r["t"]) for r in rows],
                                        criteria) is not None:
                process.send_signal(signal.SIGTERM)  # it saves a checkpoint and exits
                break
    process.wait()
    if process.returncode not in (0, 128 + signal.SIGTERM):
        raise SystemExit(f"{label} {key} seed {seed} failed:\n{log.read_text()}")
    rows = _csv_rows(run / "returns.csv")
    i = first_iteration_reaching([float(r["return"]) for r in rows], [float(r["seconds"]) for r in rows], criteria)
    if i is None:
        return {"reached": False, "steps": None, "seconds": None}
    return {"reached": True, "steps": int(rows[i]["env_steps"]), "seconds": float(rows[i]["seconds"])}


def bench_once(zoo_bin: Path, key: str, seed: int, tmp: Path, label: str) -> dict:
    """One seed of one case on one side: ``zoo bench``'s record of it."""
    folder = tmp / f"{label}-{key}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    suite = folder / "suite.toml"
    suite.write_text(suite_text(key, seed))
    env = {**os.environ, "ZOO_TORCH_THREADS": "1"}
    done = subprocess.run([str(zoo_bin), "bench", "--suite", str(suite), "--out", str(folder / "out")],
                          capture_output=True, text=True, env=env, cwd=folder)
    if done.returncode != 0:
        raise SystemExit(f"{label} {key} seed {seed} failed:\n{done.stdout}\n{done.stderr}")
    row = json.loads((folder / "out" / "bench.json").read_text())["rows"][0]
    return row["seeds"][0]


def median_or_none(values: list[float | None]) -> float | None:
    """Median where a seed that never reached counts as slower than all (None when it is the median)."""
    ordered = sorted(values, key=lambda v: (v is None, v or 0.0))
    return ordered[len(ordered) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-ref", default="9b18252")
    parser.add_argument("--baseline-dir", type=Path, help="keep the baseline's venv here (reused when it matches)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each seed on each side; a seed's seconds are its fastest run's")
    parser.add_argument("--out", type=Path, help="write training-speed.md and .json into this folder")
    args = parser.parse_args()
    latency = latency_module()
    tmp = Path(tempfile.mkdtemp(prefix="zoo-training-speed-"))
    # box2d: LunarLander, which the zoo installs only with an extra
    baseline_bin = latency.install_baseline(args.baseline_ref, args.baseline_dir or tmp / "baseline", "[box2d]")
    sides = {"now": Path(sys.executable).parent / "zoo", args.baseline_ref: baseline_bin / "zoo"}
    load_before = os.getloadavg()
    records: dict[str, dict[str, list[dict]]] = {}
    for key in args.only:
        records[key] = {label: [] for label in sides}
        for i, seed in enumerate(args.seeds):
            runs: dict[str, list[dict]] = {label: [] for label in sides}
            for repeat in range(args.repeats):
                order = list(sides.items()) if (i + repeat) % 2 == 0 else list(sides.items())[::-1]
                for label, zoo_bin in order:
                    record = (train_once if key in VIA_TRAIN else bench_once)(zoo_bin, key, seed, tmp,
                                                                              f"{label}-{repeat}")
                    runs[label].append(record)
                    print(f"{key} seed {seed} {label}: reached={record['reached']} steps={record['steps']} "
                          f"seconds={record['seconds']}", file=sys.stderr, flush=True)
            for label, seed_runs in runs.items():
                # A seed's runs do the same work (a seed reproduces its training), so they differ only
                # by what else the machine did meanwhile, which only ever slows a run down.
                if len({(r["reached"], r["steps"]) for r in seed_runs}) != 1:
                    raise SystemExit(f"{label} {key} seed {seed}: its runs differ: {seed_runs}")
                records[key][label].append(min(seed_runs, key=lambda r: (r["seconds"] is None, r["seconds"] or 0)))
    lines = [f"Training speed ({datetime.now(UTC).isoformat(timespec='seconds')}): {os.cpu_count()} CPUs "
             f"({platform.machine()}), Python {platform.python_version()}; load average "
             f"{', '.join(f'{x:.2f}' for x in load_before)} before, "
             f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} after", "",
             f"Command: `python benchmarks/training_speed.py --baseline-ref {args.baseline_ref} --seeds "
             f"{' '.join(map(str, args.seeds))} --repeats {args.repeats}"
             + (f" --only {' '.join(args.only)}" if args.only != list(CASES) else "") + "`", "",
             "REINFORCE with a baseline (`reinforce-baseline`, each version's per-env defaults) until the mean "
             "training return of the last 100 episodes meets the threshold; each seed's fastest of "
             f"{args.repeats} runs per side, then medians over seeds (a seed that never got there counts as "
             f"slowest). Speed-up = {args.baseline_ref}'s median seconds / this checkout's.", "",
             f"| env | threshold | {args.baseline_ref}: reached, steps, seconds | now: reached, steps, seconds | "
             "speed-up | target |", "|---|---|---|---|---|---|"]
    summary = {}
    for key, by_side in records.items():
        cells, medians = [], {}
        for label in (args.baseline_ref, "now"):
            seeds = by_side[label]
            reached = sum(r["reached"] for r in seeds)
            seconds = median_or_none([r["seconds"] if r["reached"] else None for r in seeds])
            steps = median_or_none([r["steps"] if r["reached"] else None for r in seeds])
            medians[label] = seconds
            cells.append(f"{reached}/{len(seeds)}, {'—' if steps is None else f'{steps:,}'}, "
                         f"{'—' if seconds is None else f'{seconds:.1f} s'}")
        before, after = medians[args.baseline_ref], medians["now"]
        speedup = None if after is None else (None if before is None else before / after)
        target = CASES[key][3]
        shown = ("—" if after is None else f"> {CASES[key][2]:,} steps cap" if before is None else f"{speedup:.1f}x")
        criteria = ", ".join(f"{c.get('stat', 'mean')} of {c['window']} ≥ {c['at_least']:g}" for c in CASES[key][1])
        lines.append(f"| {key} | {criteria} | {cells[0]} | {cells[1]} | {shown} | "
                     f"{'not slower' if target == 1.0 else f'≥ {target:g}x'} |")
        summary[key] = {"before": by_side[args.baseline_ref], "now": by_side["now"], "speedup": speedup,
                        "target": target}
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "training-speed.md").write_text(text)
        (args.out / "training-speed.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
