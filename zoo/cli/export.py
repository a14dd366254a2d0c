"""``zoo export``: a trained agent in a format other tools open (SB3 zip, ONNX)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zoo.cli.app import GymPackages, command, out


@command("export")
def export_command(
    checkpoint: Annotated[Path, typer.Argument(metavar="RUN_OR_CHECKPOINT", help="run folder or checkpoint folder")],
    format: Annotated[str, typer.Option("--format", help="sb3 (sb3-* agents) or onnx (the zoo's own agents)")],
    out_file: Annotated[Path, typer.Option("--out", help="file to write: model.zip (sb3), policy.onnx (onnx)")],
    best: Annotated[bool, typer.Option("--best", help="the run's best evaluated policy (kept by zoo train "
                                       "--eval-every)")] = False,
    gym_packages: GymPackages = None,
) -> None:
    """Export a trained agent: an SB3 zip for SB3's own load, or an ONNX graph of the policy."""
    from zoo.exporting import export_agent
    from zoo.policy_sources import find_policy

    written = export_agent(find_policy(str(checkpoint), best=best).checkpoint, format, out_file)
    out.print(f"exported {checkpoint} as {format} -> {written}", markup=False, highlight=False)
