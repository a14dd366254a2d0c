"""MkDocs hook: the command-line reference (``reference/cli.md``), generated at build time from the
``zoo`` typer app by typer's own documentation generator (``typer zoo.cli utils docs``), so it
can never drift from ``zoo --help``. Commands that installed plugins add (``register_commands``)
are not part of it: the generator reads the zoo's app without loading plugins."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from mkdocs.structure.files import File, Files

PAGE = "reference/cli.md"
TITLE = "Command line reference"
INTRO = (
    "Generated from the `zoo` command line itself when the site is built (typer's documentation "
    "generator over `zoo.cli`'s app), so it says exactly what `zoo COMMAND --help` says. Plugins may "
    "add commands of their own: `zoo --help` lists every command installed, and `zoo plugins` shows "
    "which plugin added which."
)


def generate() -> str:
    """The reference as Markdown: typer's output, with an introduction under its title."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cli.md"
        subprocess.run([sys.executable, "-m", "typer", "zoo.cli", "utils", "docs", "--name", "zoo",
                        "--title", TITLE, "--output", str(out)], check=True, capture_output=True, text=True)
        text = out.read_text()
    title = f"# {TITLE}\n"
    if not text.startswith(title):
        raise RuntimeError(f"typer's docs generator no longer starts with {title!r}: update {__file__}")
    return f"{title}\n{INTRO}\n{text[len(title):]}"


def on_files(files: Files, config) -> Files:
    files.append(File.generated(config, PAGE, content=generate()))
    return files
