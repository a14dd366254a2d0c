"""MkDocs hook: the API reference names each object by its public name, ``::: zoo.train``.

The ``zoo`` package imports its public names lazily (on first use, so that ``import zoo`` stays
instant), and mkdocstrings reads code statically: it cannot follow ``zoo.train`` to where the
function is defined. This hook does, by asking Python: ``::: zoo.NAME`` becomes a directive for
the object ``zoo.NAME`` really is (``zoo.training.train``), headed by its public name. A name
that ``zoo`` does not export is left alone, for mkdocstrings to find or report."""

from __future__ import annotations

import importlib
import re

DIRECTIVE = re.compile(r"^::: zoo\.(?P<name>\w+)[ \t]*$(?P<options>\n    options:)?", re.M)


def defined_in(name: str) -> str | None:
    """The module where the public ``zoo.<name>`` is defined (``None``: not a public name)."""
    zoo = importlib.import_module("zoo")
    if name not in getattr(zoo, "__all__", ()):
        return None
    return getattr(getattr(zoo, name), "__module__", None) or "zoo"


def _resolve(match: re.Match) -> str:
    name = match["name"]
    module = defined_in(name)
    if module is None:
        return match[0]
    if match["options"]:
        raise ValueError(f"::: zoo.{name}: options of a public name's directive are set by {__file__}")
    options = f'\n    options:\n      heading: "zoo.{name}"\n      toc_label: "zoo.{name}"'
    return f"::: {module}.{name}{options}"


def on_page_markdown(markdown: str, page, config, files) -> str:
    return DIRECTIVE.sub(_resolve, markdown)
