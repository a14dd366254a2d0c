"""``zoo bench``: run a benchmark suite and write its table (see :mod:`zoo.tools.bench`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zoo.cli.app import AsJson, command, err, out, print_markdown
from zoo.exceptions import ZooError


@command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="one seed and smaller caps: a smoke check in minutes")] = False,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for bench.md and bench.json")] = Path("bench-results"),
    suite: Annotated[Path, typer.Option(help="suite file")] = Path("benchmarks/suite.toml"),
    envs: Annotated[list[str] | None, typer.Option(
        "--env", metavar="KEY", help="only the runs on this env of the suite (its [envs.KEY]); repeatable")] = None,
    seeds: Annotated[list[int] | None, typer.Option(
        "--seed", metavar="SEED", help="these seeds instead of each run's own; repeatable")] = None,
    as_json: AsJson = False,
) -> None:
    """Time learners to each env's threshold against references measured in the same run;
    writes a Markdown table and a JSON file."""
    from zoo.tools.bench import load_suite, run_suite, write_report

    loaded = load_suite(suite)
    if out_dir.exists() and not out_dir.is_dir():  # checked before an hour of benchmarking
        raise ZooError(f"--out {str(out_dir)!r} is a file; give a folder")
    selected = loaded.select(quick, envs or (), seeds or ())
    if not selected:
        raise ZooError(f"no run of suite {suite.name} is on the env(s) selected{' in --quick' if quick else ''}")
    err.print(f"benchmark: {len(selected)} runs, {sum(len(r.seeds) for r in selected)} seeds in all "
              f"({'quick' if quick else 'full'})")
    report = run_suite(loaded, quick=quick, progress=lambda line: err.print(line, highlight=False, soft_wrap=True),
                       runs=selected)
    md, js = write_report(report, out_dir)
    if as_json:
        out.print_json(js.read_text(encoding="utf-8"))
        return
    print_markdown(md.read_text(encoding="utf-8"))
    out.print(f"table: {md}\ndata: {js}", markup=False, highlight=False, soft_wrap=True)
