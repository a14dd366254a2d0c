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
    trust_remote_code: Annotated[bool, typer.Option(
        "--trust-remote-code", help="allow loading a pickled model (an SB3 zip, an rl-baselines3-zoo log folder): "
        "runs its code")] = False,
    gym_packages: GymPackages = None,
) -> None:
    """Export a trained agent: an SB3 zip for SB3's own load (with vecnormalize.pkl beside it for a
    normalised run), or an ONNX graph of the policy. An SB3 zip or an rl-baselines3-zoo log folder
    exports its model files as they are."""
    from zoo.exporting import export_agent, export_model
    from zoo.policy_sources import find_policy, load_source

    source = find_policy(str(checkpoint), best=best)  # str: hub:ORG/NAME is named as such
    if source.kind == "foreign":
        loaded = load_source(source, trust_remote_code=trust_remote_code)
        written = export_model(loaded.policy, format, out_file, loaded.description)
    else:
        written = export_agent(source.checkpoint, format, out_file)
    beside = f" (and {', '.join(p.name for p in written[1:])} beside it)" if written[1:] else ""
    out.print(f"exported {checkpoint} as {format} -> {written[0]}{beside}", markup=False, highlight=False)
