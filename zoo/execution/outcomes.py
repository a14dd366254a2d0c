"""What a backend reports about a job it was given: plain data for the driver."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

#: ``done``: the job returned ``value``; ``lost``: it raised, or its worker is gone (``value`` says
#: why, in one line); ``again``: it never started (its pool broke first) and is to be handed out again.
OutcomeKind = Literal["done", "lost", "again"]


@dataclass(frozen=True)
class Outcome:
    key: int
    kind: OutcomeKind
    value: Any = None


def times(n: int) -> str:
    """``once``, ``twice``, ``3 times``."""
    return {1: "once", 2: "twice"}.get(n, f"{n} times")
