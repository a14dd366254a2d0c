"""The Collection page: every trained agent that ships with agent-zoo, generated from the catalogue.

As an MkDocs hook it writes ``collection.md`` at build time from ``zoo pretrained --json`` (the
catalogue a user sees) and each checkpoint's ``zoo.json``: score, env steps, training cost,
provenance and the commands that reproduce each figure. Nothing on the page is written by hand.

The replay GIFs are recorded by the zoo itself (``zoo record``) and committed under
``docs/media/collection/``, with ``gifs.json`` recording, for each, the checksum of the weights it
was recorded from, the exact command, what the episode scored and the GIF's own checksum.
Recording all of them takes about two minutes, too long for every build; instead the build
refuses (a warning, so ``mkdocs build --strict`` fails) a GIF that is missing, was recorded from
other weights or with another command, or was changed by hand. After rebuilding a checkpoint::

    python docs/hooks/collection.py record          # records the missing and stale GIFs
    python docs/hooks/collection.py record --all    # records every GIF again
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGE = "collection.md"
GIF_DIR = DOCS / "media" / "collection"
MANIFEST = GIF_DIR / "gifs.json"
SHIPPED = REPO / "agents" / "pretrained"
#: A replay is one whole episode, up to the env's time limit; the games that have none (the PLE
#: family: the zoo caps them at 10,000 steps) are recorded for this many steps, a GIF of a few
#: hundred kB.
MAX_STEPS = 500
RECORDED = re.compile(r"^recorded .*: return (?P<ret>-?[\d.]+) over (?P<steps>\d+) steps -> ", re.M)

log = logging.getLogger(f"mkdocs.hooks.{Path(__file__).stem}")


@dataclass(frozen=True)
class Shipped:
    """One agent of the collection: its catalogue entry and its checkpoint's ``zoo.json``."""

    agent: str
    env: str
    gym_id: str
    path: Path
    meta: dict[str, Any]
    time_limit: int | None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def eval_seed(self) -> int:
        return int(self.meta["evaluation"]["seed"])

    @property
    def gif(self) -> Path:
        return GIF_DIR / f"{self.name}.gif"

    def record_command(self) -> list[str]:
        cap = ["--max-steps", str(MAX_STEPS)] if self.time_limit is None else []
        return ["zoo", "record", self.agent, self.env, "--out", self.gif.relative_to(REPO).as_posix(),
                "--seed", str(self.eval_seed), *cap]


def zoo_env() -> dict[str, str]:
    # `zoo` is the console script of this Python's environment, activated or not.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path, "SDL_VIDEODRIVER": "dummy", "MPLBACKEND": "Agg"}


def shipped() -> list[Shipped]:
    """Every checkpoint shipped in this repository's ``agents/pretrained``, as ``zoo pretrained``
    lists it (agents that installed plugins ship elsewhere are theirs, not the zoo's)."""
    import zoo

    time_limits = {entry.gym_id: entry.time_limit for entry in zoo.list_envs()}
    listing = subprocess.run([sys.executable, "-m", "zoo.cli", "pretrained", "--json"], check=True,
                             capture_output=True, text=True, env=zoo_env()).stdout
    items = []
    for item in json.loads(listing):
        path = Path(item["path"]).resolve()
        if path.parent != SHIPPED:
            continue
        meta = json.loads((path / "zoo.json").read_text())
        items.append(Shipped(item["agent"], item["env"], item["gym_id"], path, meta, time_limits[item["gym_id"]]))
    if not items:
        raise RuntimeError(f"`zoo pretrained --json` lists no checkpoint in {SHIPPED}: is agent-zoo installed from "
                           "this checkout (pip install -e .)?")
    return sorted(items, key=lambda s: (s.gym_id.lower(), s.agent))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest() -> dict[str, dict[str, Any]]:
    return json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}


def stale_reason(item: Shipped, manifest: dict[str, dict[str, Any]]) -> str | None:
    """Why ``item``'s committed GIF is not the replay of its current checkpoint (``None``: it is)."""
    entry = manifest.get(item.name)
    if entry is None or not item.gif.exists():
        return "no GIF recorded"
    if entry["weights_sha256"] != item.meta["weights_sha256"]:
        return "recorded from other weights"
    if entry["command"] != item.record_command():
        return "recorded with another command"
    if entry["gif_sha256"] != sha256(item.gif):
        return "the GIF is not the one recorded"
    return None


def record(items: list[Shipped]) -> dict[str, dict[str, Any]]:
    """Record each item's GIF with ``zoo record`` (from the repository root) and note it in the manifest."""
    manifest = read_manifest()
    for item in items:
        command = item.record_command()
        done = subprocess.run(command, cwd=REPO, env=zoo_env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
        played = RECORDED.search(done.stdout)
        if played is None:
            raise RuntimeError(f"cannot read the episode's return from `zoo record`'s output: {done.stdout!r}")
        manifest[item.name] = {"weights_sha256": item.meta["weights_sha256"], "command": command,
                               "return": float(played["ret"]), "steps": int(played["steps"]),
                               "gif_sha256": sha256(item.gif)}
        print(f"{item.gif.relative_to(REPO)}: return {played['ret']} over {played['steps']} steps")
    names = {item.name for item in shipped()}
    manifest = {name: manifest[name] for name in sorted(manifest) if name in names}
    for gif in GIF_DIR.glob("*.gif"):  # the replays of checkpoints that no longer ship
        if gif.stem not in names:
            gif.unlink()
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def number(x: float) -> str:
    return f"{x:,.1f}"


def seconds(x: float) -> str:
    return f"{x:,.1f} s" if x < 100 else f"{x:,.0f} s"


def anchor(gym_id: str) -> str:
    """The anchor of an env's section (``zoo/Catcher-v0``: ``zoo-catcher-v0``)."""
    return re.sub(r"[^a-z0-9]+", "-", gym_id.lower()).strip("-")


def card(item: Shipped, entry: dict[str, Any]) -> str:
    ev, trained, provenance = item.meta["evaluation"], item.meta["trained"], item.meta["provenance"]
    mode = "deterministic" if ev.get("deterministic", True) else "stochastic"
    build = f"{provenance['command']} --out agents/pretrained"
    score_again = f"zoo eval {item.agent} {item.env} --episodes {ev['episodes']} --seed {ev['seed']}"
    gif = item.gif.relative_to(DOCS).as_posix()
    commit = provenance.get("commit", "unknown")[:7]
    return "\n".join([
        f"-   ![{item.agent} on {item.gym_id}, one episode]({gif})",
        "",
        f"    **{item.agent}** on {item.gym_id}",
        "",
        f"    **{number(ev['mean'])} ± {number(ev['std'])}** over {ev['episodes']} {mode} episodes "
        f"(seed {ev['seed']}; min {number(ev['min'])}, max {number(ev['max'])})",
        "",
        f"    Trained {trained['env_steps']:,} env steps ({trained['episodes']:,} episodes, "
        f"{seconds(trained['seconds'])}) with seed {provenance['seed']}, at commit `{commit}`",
        "",
        # A checkpoint from an earlier commit is reproduced at that commit, not by this version's training.
        f"    Reproduce at that commit: `{build}`",
        "",
        f"    Evaluate again: `{score_again}`",
        "",
        f"    This replay (return {number(entry['return'])} over {entry['steps']} steps): "
        f"`{' '.join(entry['command'])}`",
        "",
    ])


def render(items: list[Shipped], manifest: dict[str, dict[str, Any]]) -> str:
    lines = [
        "# Collection",
        "",
        f"The {len(items)} trained agents that ship inside the `rl-agent-zoo` package (`agents/pretrained/`), "
        "generated from the catalogue (`zoo pretrained`) when this site was built. `zoo eval AGENT ENV` runs "
        "one on a fresh machine with no training and no network. Each score was measured when the agent was "
        "built, over 100 episodes on seeds training never saw; each replay was recorded by `zoo record` from "
        "the shipped weights (the build refuses a replay recorded from other weights). How the collection is "
        "built and shared: [The shipped collection](pretrained.md).",
        "",
        "| agent | env | mean ± std | episodes | env steps | training time |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for item in items:
        ev, trained = item.meta["evaluation"], item.meta["trained"]
        lines.append(f"| {item.agent} | [{item.gym_id}](#{anchor(item.gym_id)}) | "
                     f"{number(ev['mean'])} ± {number(ev['std'])} | {ev['episodes']} | {trained['env_steps']:,} | "
                     f"{seconds(trained['seconds'])} |")
    for gym_id in dict.fromkeys(item.gym_id for item in items):
        lines += ["", f"## {gym_id} {{ #{anchor(gym_id)} }}", "", '<div class="grid cards" markdown>', ""]
        lines += [card(item, manifest[item.name]) for item in items if item.gym_id == gym_id]
        lines += ["</div>"]
    return "\n".join(lines) + "\n"


def on_files(files, config):
    from mkdocs.structure.files import File

    items, manifest = shipped(), read_manifest()
    stale = [(item, reason) for item in items if (reason := stale_reason(item, manifest))]
    for item, reason in stale:
        log.warning(f"{item.gif.relative_to(REPO)}: {reason} for the shipped {item.name}; "
                    "run `python docs/hooks/collection.py record`")
    fresh = [item for item in items if item.name in manifest]
    files.append(File.generated(config, PAGE, content=render(fresh, manifest)))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record the Collection page's replay GIFs with `zoo record`.")
    parser.add_argument("action", choices=["record", "check"])
    parser.add_argument("--all", action="store_true", help="record every GIF, not only the missing and stale ones")
    args = parser.parse_args(argv)
    items, manifest = shipped(), read_manifest()
    todo = [item for item in items if args.all or stale_reason(item, manifest)]
    if args.action == "check":
        for item in todo:
            print(f"{item.gif.relative_to(REPO)}: {stale_reason(item, manifest)}")
        return 1 if todo else 0
    record(todo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
