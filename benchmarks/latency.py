"""Latency of the commands a user runs, timed as whole processes, as ratios measured in one run.

    python benchmarks/latency.py [--runs 5] [--baseline-ref 19e8264] [--out benchmarks/results]

Each command in :data:`COMMANDS` runs ``--runs`` times as a fresh process, interleaved with the
floor (``python -c "import numpy, gymnasium"``) and, with ``--baseline-ref``, with the same
command of the zoo at that commit, installed from ``git archive`` into a temporary venv
(``--baseline-dir`` keeps and reuses it). Every repetition runs all of them in turn, the order
reversed every other repetition, so that drift in the machine's load falls on all alike. The
table gives each command's median wall time, its ratio to the floor's median and the
baseline's median divided by it (how many times faster), with the load average before and
after: on a shared machine only the ratios compare.

``zoo push`` publishes to the loopback Hub server the tests use (``tests/**/hubserver.py``), a
fresh repo each time so that every push evaluates; each side pushes a run it trained itself.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Command:
    """A command line to time: ``{zoo}``, ``{python}``, ``{tmp}``, ``{side}``, ``{i}`` and
    ``{run}`` (a trained run folder of this side) are filled in. ``faster`` and ``floor`` are
    the issue's targets: at least that many times faster than the baseline, at most that many
    times the floor."""

    name: str
    argv: tuple[str, ...]
    faster: float | None = None
    floor: float | None = None
    hub: bool = False


FLOOR = Command("python -c \"import numpy, gymnasium\" (the floor)", ("{python}", "-c", "import numpy, gymnasium"))

COMMANDS = [
    Command("zoo --help", ("{zoo}", "--help")),
    Command("zoo list", ("{zoo}", "list")),
    Command("zoo eval reinforce cartpole --episodes 1", ("{zoo}", "eval", "reinforce", "cartpole", "--episodes", "1"),
            faster=4),
    Command("zoo eval reinforce cartpole --episodes 100",
            ("{zoo}", "eval", "reinforce", "cartpole", "--episodes", "100"), faster=5, floor=5),
    Command("zoo eval reinforce pixelcopter --episodes 100",
            ("{zoo}", "eval", "reinforce", "pixelcopter", "--episodes", "100")),
    Command("zoo train reinforce cartpole --steps 50000",
            ("{zoo}", "train", "reinforce", "cartpole", "--steps", "50000", "--out", "{tmp}/train-{side}-{i}"),
            faster=2),
    Command("zoo record reinforce cartpole --out cartpole.mp4",
            ("{zoo}", "record", "reinforce", "cartpole", "--out", "{tmp}/record-{side}-{i}.mp4"), faster=3),
    Command("zoo push RUN --repo-id ... --no-video",
            ("{zoo}", "push", "{run}", "--repo-id", "zoo-tester/latency-{side}-{i}", "--no-video"), faster=3, hub=True),
    Command("zoo push RUN --repo-id ... (with video)",
            ("{zoo}", "push", "{run}", "--repo-id", "zoo-tester/latency-video-{side}-{i}"), hub=True),
]


@dataclass
class Side:
    """One installation of the zoo to time: this checkout's venv, or the baseline's."""

    label: str
    bin: Path
    run: Path | None = None
    times: dict[str, list[float]] = field(default_factory=dict)

    def fill(self, argv: tuple[str, ...], tmp: Path, i: int) -> list[str]:
        values = {"zoo": str(self.bin / "zoo"), "python": str(self.bin / "python"), "tmp": str(tmp),
                  "side": self.label, "i": str(i), "run": str(self.run)}
        return [part.format(**values) for part in argv]


def run(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall seconds of one process; a failure stops the benchmark with its output."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds


# -- the baseline ---------------------------------------------------------------------------------
def install_baseline(ref: str, folder: Path, extras: str = "") -> Path:
    """The ``bin`` folder of a venv with the zoo at ``ref`` installed (editable, from ``git
    archive``, with ``extras`` such as ``"[box2d]"``) in ``folder``; reused if ``folder`` already
    holds that commit."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", f"{ref}^{{commit}}"], check=True,
                            capture_output=True, text=True).stdout.strip()
    marker, venv = folder / "COMMIT", folder / ".venv"
    if marker.is_file() and marker.read_text().strip() == commit and (venv / "bin" / "zoo").exists():
        return venv / "bin"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The torch of this venv, named so that pip takes the same (CPU) build, not a CUDA one.
    torch = f"torch=={metadata.version('torch').split('+')[0]}"
    print(f"installing the zoo at {commit[:12]} into {venv} ...", file=sys.stderr, flush=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", torch, "-e", f"{folder}{extras}"],
                   check=True)
    marker.write_text(commit + "\n")
    return venv / "bin"


# -- the Hub --------------------------------------------------------------------------------------
def start_hub() -> tuple[Any, str]:
    """The tests' loopback Hub server, started, and its write token."""
    found = sorted((REPO / "tests").rglob("hubserver.py"))
    if not found:
        raise SystemExit("no tests/**/hubserver.py to push to; leave out the push commands with --skip push")
    spec = importlib.util.spec_from_file_location("_latency_hubserver", found[0])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.HubServer().start(), module.DEFAULT_TOKEN


def hub_env(base: dict[str, str], url: str, token: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update({"HF_ENDPOINT": url, "HF_TOKEN": token, "HF_HOME": str(home), "HF_HUB_DISABLE_TELEMETRY": "1",
                "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1"})
    return env


# -- measuring ------------------------------------------------------------------------------------
def measure(commands: list[Command], sides: list[Side], runs: int, tmp: Path, env: dict[str, str]) -> Side:
    """Time the floor and every command on every side, ``runs`` times, interleaved."""
    floor = Side("floor", sides[0].bin)
    jobs = [(floor, FLOOR)] + [(side, command) for command in commands for side in sides]
    for i in range(runs):
        order = jobs if i % 2 == 0 else jobs[::-1]
        for side, command in order:
            seconds = run(side.fill(command.argv, tmp, i), env, tmp)
            side.times.setdefault(command.name, []).append(seconds)
        print(f"round {i + 1}/{runs} done", file=sys.stderr, flush=True)
    return floor


def summarise(commands: list[Command], floor: Side, sides: list[Side]) -> list[dict[str, Any]]:
    floor_s = statistics.median(floor.times[FLOOR.name])
    rows = [{"command": FLOOR.name, "seconds": floor_s, "runs": floor.times[FLOOR.name], "floor_ratio": 1.0}]
    for command in commands:
        times = sides[0].times[command.name]
        row: dict[str, Any] = {"command": command.name, "seconds": statistics.median(times), "runs": times}
        row["floor_ratio"] = row["seconds"] / floor_s
        if len(sides) > 1:
            base = sides[1].times[command.name]
            row["baseline_seconds"] = statistics.median(base)
            row["baseline_runs"] = base
            row["faster"] = row["baseline_seconds"] / row["seconds"]
        targets = []
        if command.faster is not None and "faster" in row:
            targets.append((f"≥ {command.faster:g}× faster", row["faster"] >= command.faster))
        if command.floor is not None:
            targets.append((f"≤ {command.floor:g}× floor", row["floor_ratio"] <= command.floor))
        row["targets"] = [{"target": text, "met": met} for text, met in targets]
        rows.append(row)
    return rows


def markdown(report: dict[str, Any]) -> str:
    baseline = report.get("baseline")
    load = lambda values: ", ".join(f"{x:.2f}" for x in values)  # noqa: E731
    lines = [
        f"Latency ({report['created']}): {report['cpus']} CPUs, Python {report['python']}; median of "
        f"{report['runs']} runs per command, interleaved; load average {load(report['load_before'])} before, "
        f"{load(report['load_after'])} after; {report['seconds']:.0f} s in all.",
        "",
        f"Command: `{report['command']}`",
        "",
    ]
    head = ["command", "wall (median)", "÷ floor"]
    if baseline:
        head += [f"at {baseline[:7]}", f"× faster than {baseline[:7]}"]
    head += ["target"]
    lines += ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for row in report["rows"]:
        cells = [f"`{row['command']}`", f"{row['seconds']:.2f} s", f"{row['floor_ratio']:.1f}"]
        if baseline:
            has = "baseline_seconds" in row
            cells += [f"{row['baseline_seconds']:.2f} s" if has else "", f"{row['faster']:.1f}" if has else ""]
        cells.append("; ".join(f"{t['target']}: {'met' if t['met'] else 'MISSED'}" for t in row.get("targets", [])))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--baseline-ref", help="git commit to compare with (installed into a temporary venv)")
    parser.add_argument("--baseline-dir", type=Path, help="keep the baseline's checkout and venv here (reused)")
    parser.add_argument("--skip", default="", help="comma-separated words: leave out commands containing any")
    parser.add_argument("--out", type=Path, help="write latency.md and latency.json into this folder")
    args = parser.parse_args(argv)

    skip = [w for w in args.skip.split(",") if w]
    commands = [c for c in COMMANDS if not any(w in c.name for w in skip)]
    started, load_before = time.perf_counter(), os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="zoo-latency-"))
    hub = None
    try:
        sides = [Side("current", Path(sys.executable).parent)]
        if args.baseline_ref:
            folder = args.baseline_dir or tmp / "baseline"
            sides.append(Side("baseline", install_baseline(args.baseline_ref, folder)))
        env = {**os.environ, "MPLBACKEND": "Agg"}
        if any(c.hub for c in commands):
            hub, token = start_hub()
            env = hub_env(env, hub.url, token, tmp / "hf_home")
            for side in sides:  # a run to push, trained by each side's own zoo
                side.run = tmp / f"pushed-{side.label}"
                run(side.fill(("{zoo}", "train", "reinforce", "cartpole", "--steps", "20000", "--out", str(side.run)),
                              tmp, 0), env, tmp)
        floor = measure(commands, sides, args.runs, tmp, env)
    finally:
        if hub is not None:
            hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
        "python": platform.python_version(), "runs": args.runs,
        "command": "python benchmarks/latency.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "baseline": subprocess.run(["git", "-C", str(REPO), "rev-parse", args.baseline_ref], capture_output=True,
                                   text=True).stdout.strip() if args.baseline_ref else None,
        "load_before": list(load_before), "load_after": list(os.getloadavg()),
        "seconds": time.perf_counter() - started, "rows": summarise(commands, floor, sides),
    }
    text = markdown(report)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "latency.md").write_text(text)
        (args.out / "latency.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
