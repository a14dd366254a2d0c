"""MkDocs hook: the API reference shows each object under its public name, ``zoo.NAME``.

The ``zoo`` package imports its public names lazily (on first use, so that ``import zoo`` stays
instant), and mkdocstrings reads code statically: it cannot follow ``zoo.train`` to where the
function is defined. This hook does, by asking Python: ``::: zoo.NAME`` becomes a directive for
the object ``zoo.NAME`` really is (``zoo.training.train``), headed by its public name. A directive
that names an object by the module it lives in (``::: zoo.contract.ForeignConfig``) is headed by
its public name too once ``zoo`` exports that very object. Anything else is left to mkdocstrings."""

from __future__ import annotations

import importlib
import re

DIRECTIVE = re.compile(r"^::: (?P<path>zoo(?:\.\w+)+)[ \t]*$(?P<options>\n    options:)?", re.M)


def lookup(path: str) -> object | None:
    """The object at the dotted ``path`` (``zoo.contract.Agent``), or ``None``."""
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def public_source(path: str) -> tuple[str, str] | None:
    """``(where it is defined, public name)`` if ``zoo`` exports the object at ``path``."""
    zoo = importlib.import_module("zoo")
    name = path.rpartition(".")[2]
    if name not in getattr(zoo, "__all__", ()):
        return None
    public = getattr(zoo, name)
    if path != f"zoo.{name}" and lookup(path) is not public:
        return None
    return f"{getattr(public, '__module__', None) or 'zoo'}.{name}", f"zoo.{name}"


def _resolve(match: re.Match) -> str:
    found = public_source(match["path"])
    if found is None:
        return match[0]
    if match["options"]:
        raise ValueError(f"::: {match['path']}: the options of a public name's directive are set by {__file__}")
    source, public = found
    return f'::: {source}\n    options:\n      heading: "{public}"\n      toc_label: "{public}"'


def on_page_markdown(markdown: str, page, config, files) -> str:
    return DIRECTIVE.sub(_resolve, markdown)
