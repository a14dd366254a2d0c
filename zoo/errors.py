"""The one exception type that means "the user asked for something that cannot be done"."""

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
