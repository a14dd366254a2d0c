"""Exporting a trained agent for tools outside the zoo: each agent names the formats it writes
(``Agent.export_formats``): the SB3 agents write SB3 zips that ``PPO.load`` opens (and, for a
normalised run, ``vecnormalize.pkl`` beside it: ``Agent.export_extras``), the zoo's own agents
ONNX graphs of their greedy policy. A model loaded from another library's files (an SB3 zip, an
rl-baselines3-zoo log folder) exports the same way when it names formats of its own."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from zoo.exceptions import ZooError, one_line
from zoo.factory import load_agent
from zoo.files import replacing


def export_agent(checkpoint: str | Path, format: str, out: str | Path) -> list[Path]:
    """Write the agent saved at ``checkpoint`` (a checkpoint or run folder) to ``out`` in
    ``format``; returns the files written (``out`` first, then the files beside it)."""
    agent = load_agent(checkpoint)
    return export_model(agent, format, out, f"agent {agent.name!r}")


def export_model(model: Any, format: str, out: str | Path, what: str) -> list[Path]:
    """Write ``model`` (an agent, or a policy that names ``export_formats``; ``what`` names it for
    messages) to ``out`` in ``format``, and the files its ``export_extras(format)`` names beside
    it. Every file is written under a temporary name first, and all are renamed into place only
    once all are written; returns them, ``out`` first."""
    formats = getattr(model, "export_formats", {}) or {}
    if format not in formats:
        valid = ", ".join(sorted(formats)) or "none"
        raise ZooError(f"{what} cannot be exported as {format!r}; its formats: {valid}")
    out = Path(out)
    suffix = formats[format]
    if out.suffix != suffix:
        raise ZooError(f"the {format} export is a {suffix} file: --out {str(out)!r} must end in {suffix}")
    if not out.parent.is_dir():
        raise ZooError(f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist")
    extras = getattr(model, "export_extras", None)
    files = [(out, format), *((out.parent / name, kind) for name, kind in (extras(format) if extras else {}).items())]
    try:
        with contextlib.ExitStack() as stack:
            for path, kind in files:
                model.export(stack.enter_context(replacing(path)), kind)
    except ModuleNotFoundError as exc:
        raise ZooError(f"exporting as {format} needs the {exc.name} package: pip install onnx onnxscript") from None
    except OSError as exc:
        raise ZooError(f"cannot write {str(out)!r} ({exc.strerror or one_line(exc)})") from None
    return [path for path, _ in files]
