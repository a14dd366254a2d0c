"""``zoo plot``: learning curves across seeds, with confidence bands (see :mod:`zoo.tools.plot`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zoo.cli.app import command, out


@command("plot")
def plot_command(
    paths: Annotated[list[Path], typer.Argument(metavar="RUN_OR_SWEEP...", help="run folders or sweep folders")],
    out_file: Annotated[Path, typer.Option("--out", help="figure to write (.png, .svg or .pdf)")],
    x: Annotated[str, typer.Option("--x", help="x axis: steps (env steps) or time (training seconds)")] = "steps",
    window: Annotated[int, typer.Option(help="running mean over this many episodes")] = 100,
) -> None:
    """Draw learning curves: the mean over seeds of each agent and configuration, with a 95 %
    bootstrap confidence band."""
    from zoo.tools.plot import plot_learning_curves

    written = plot_learning_curves(paths, out_file, x=x, window=window)  # type: ignore[arg-type]
    out.print(f"figure: {written}", markup=False, highlight=False)
