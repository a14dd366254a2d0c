"""The one exception type that means "the user asked for something that cannot be done"
(public as ``zoo.ZooError``), and the one way any exception is put into a single line for the user."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ZooError(Exception):
    """A user-facing error: the CLI prints its message on one line and exits with code 2."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A short hint naming the closest valid choices, or listing them all when none is close."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    if close:
        return "did you mean " + ", ".join(repr(c) for c in close) + "?"
    return "valid: " + ", ".join(choices) if choices else "none are registered"


def one_line(exc: BaseException) -> str:
    """``exc`` as one line: a :class:`ZooError`'s first line as it is (it was written for the
    user), anything else prefixed with its type, since its message alone may not say what broke."""
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else ""
    if isinstance(exc, ZooError):
        return text or "ZooError"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
