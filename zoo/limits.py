"""The ranges of the numbers a user gives the zoo (seeds and counts), decided once and checked
where they come in: the Python API's entry points and so the CLI, before anything is built or
written.

Seeds are ``0 <= seed <= MAX_SEED = 2**31 - 1``. An env copy ``i`` of a vector env is seeded
with ``seed + i`` (gymnasium's vector envs, SB3's VecEnvs), and the strictest consumer,
numpy's legacy ``RandomState`` (the Pixelcopter levels), takes ``0 .. 2**32 - 1``: half that
range for the seed leaves room for any number of env copies. torch and numpy's ``Generator``
take all of it.

Counts (episodes, env steps, per-episode step caps) are ``1 <= n <= MAX_COUNT = 10**12``:
far beyond any run this zoo makes (a trillion steps is months of training), and well inside
the 64-bit integers numpy and the checkpoint files use, so nothing overflows downstream.
"""

from __future__ import annotations

import numbers
from typing import Any

from zoo.exceptions import ZooError

MAX_SEED = 2**31 - 1
MAX_COUNT = 10**12


def check_seed(seed: Any, what: str = "--seed") -> int:
    """``seed`` as an int if it is a whole number in ``0..MAX_SEED``, else a one-line :class:`ZooError`."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed <= MAX_SEED:
        raise ZooError(f"{what} must be a whole number from 0 to {MAX_SEED} (2**31 - 1), got {_short(seed)}")
    return int(seed)


def check_count(value: Any, what: str, maximum: int = MAX_COUNT) -> int:
    """``value`` as an int if it is a whole number in ``1..maximum``, else a one-line :class:`ZooError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= maximum:
        raise ZooError(f"{what} must be a positive number (whole, at most {maximum:,}), got {_short(value)}")
    return int(value)


def _short(value: Any) -> str:
    """``repr(value)``, cut short: a 10,000-digit number does not belong in a one-line error."""
    if isinstance(value, int) and abs(value) >= 10**30:  # (repr refuses ints of over 4300 digits)
        return f"{'-' if value < 0 else ''}a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
