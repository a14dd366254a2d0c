"""Exporting a trained agent for tools outside the zoo: each agent names the formats it writes
(``Agent.export_formats``): the SB3 agents write SB3 zips that ``PPO.load`` opens, the zoo's own
agents ONNX graphs of their greedy policy."""

from __future__ import annotations

from pathlib import Path

from zoo.exceptions import ZooError, one_line
from zoo.factory import load_agent
from zoo.files import replacing


def export_agent(checkpoint: str | Path, format: str, out: str | Path) -> Path:
    """Write the agent saved at ``checkpoint`` (a checkpoint or run folder) to ``out`` in ``format``."""
    agent = load_agent(checkpoint)
    formats = type(agent).export_formats
    if format not in formats:
        valid = ", ".join(sorted(formats)) or "none"
        raise ZooError(f"agent {agent.name!r} cannot be exported as {format!r}; its formats: {valid}")
    out = Path(out)
    suffix = formats[format]
    if out.suffix != suffix:
        raise ZooError(f"the {format} export is a {suffix} file: --out {str(out)!r} must end in {suffix}")
    if not out.parent.is_dir():
        raise ZooError(f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist")
    try:
        with replacing(out) as tmp:
            agent.export(tmp, format)
    except ModuleNotFoundError as exc:
        raise ZooError(f"exporting as {format} needs the {exc.name} package: pip install onnx onnxscript") from None
    except OSError as exc:
        raise ZooError(f"cannot write {str(out)!r} ({exc.strerror or one_line(exc)})") from None
    return out
