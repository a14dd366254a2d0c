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

Config files (``--config``, TOML or YAML, and the Python-literal strings of rl-baselines3-zoo's
``policy_kwargs``) are data of bounded size: at most ``MAX_CONFIG_BYTES`` (64 KiB), at most
``MAX_CONFIG_VALUES`` values once YAML aliases are expanded (each use of an alias counts its
whole value again: the 364-byte "billion laughs" expands to 3.5 billion), nested at most
``MAX_CONFIG_DEPTH`` levels, and whole numbers within 64 bits (``MAX_WHOLE``). The largest of
rl-baselines3-zoo's own hyperparameter files is 12 KB, 1,300 values, 6 levels deep; PyYAML
(pure Python) takes about a second for 64 KiB of the densest YAML. Nothing past those limits is
expanded, converted or echoed: a message shows a value cut short (:func:`shown`).
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from zoo.exceptions import ZooError

MAX_SEED = 2**31 - 1
MAX_COUNT = 10**12
MAX_WHOLE = 2**63 - 1
MAX_CONFIG_BYTES = 64 * 1024
MAX_CONFIG_VALUES = 100_000
MAX_CONFIG_DEPTH = 32


def check_seed(seed: Any, what: str = "--seed") -> int:
    """``seed`` as an int if it is a whole number in ``0..MAX_SEED``, else a one-line :class:`ZooError`."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed <= MAX_SEED:
        raise ZooError(f"{what} must be a whole number from 0 to {MAX_SEED} (2**31 - 1), got {shown(seed)}")
    return int(seed)


def check_count(value: Any, what: str, maximum: int = MAX_COUNT) -> int:
    """``value`` as an int if it is a whole number in ``1..maximum``, else a one-line :class:`ZooError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= maximum:
        raise ZooError(f"{what} must be a positive number (whole, at most {maximum:,}), got {shown(value)}")
    return int(value)


def whole(value: Any) -> Any:
    """A float with a whole value (YAML's ``!!float 1e5``) as an int; anything else as it is,
    to be refused by the check it goes to with the value the user wrote."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_WHOLE:
        return int(value)
    return value


def digits(value: int) -> int:
    """How many decimal digits ``value`` has (from its logarithm past Python's int-string limit)."""
    value = abs(value)
    if value.bit_length() < 10_000:
        return len(str(value))
    return math.floor(math.log10(value)) + 1


class _Shown(reprlib.Repr):
    """reprlib's bounded repr, with the zoo's words for numbers too long to print."""

    def __init__(self) -> None:
        super().__init__()
        self.maxstring = self.maxother = self.maxlong = 50
        self.maxlevel = 3

    def repr_int(self, x: int, level: int) -> str:
        if abs(x) >= 10**30:  # (repr refuses ints of over 4,300 digits)
            return f"{'-' if x < 0 else ''}a number of about {digits(x):,} digits"
        return repr(x)


_SHOWN = _Shown()


def shown(value: Any, width: int = 60) -> str:
    """``repr(value)`` for a message, cut short: a file's 100,000-character string, a
    10,000-digit number or a value holding itself is shown in at most about ``width``
    characters, without building its whole repr."""
    text = _SHOWN.repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def listed(items: Iterable[Any], most: int = 12) -> str:
    """``'a', 'b' and 3 more``: what a message names, each shown cut short, at most ``most`` of them."""
    items = list(items)
    text = ", ".join(shown(item) for item in items[:most])
    return text + (f" and {len(items) - most:,} more" if len(items) > most else "")


def python_children(value: Any) -> list[Any] | None:
    """The values inside a parsed config value (a table's keys and values, a list's items);
    None for a value that holds none (a number, a string)."""
    if isinstance(value, Mapping):
        return [part for pair in value.items() for part in pair]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return None


def nested_shape(root: Any, children: Callable[[Any], list[Any] | None] = python_children) -> tuple[int, int, Any]:
    """How many values ``root`` holds (itself included), how many levels of containers, and a
    container found inside itself (None if none is). A value that appears in several places (a
    YAML alias) counts each time. Each distinct value is walked once, without recursion, and the
    counts stop past ``MAX_CONFIG_VALUES`` and ``MAX_CONFIG_DEPTH``: aliases over aliases are
    measured in the time it takes to read them, not to expand them."""
    done: dict[int, tuple[int, int]] = {}
    open_: set[int] = set()  # containers whose contents are being counted: the path from the root
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, contents_counted = stack.pop()
        key, kids = id(node), children(node)
        if contents_counted:
            values = min(MAX_CONFIG_VALUES + 1, 1 + sum(done[id(kid)][0] for kid in kids))
            depth = min(MAX_CONFIG_DEPTH + 1, 1 + max((done[id(kid)][1] for kid in kids), default=0))
            done[key] = values, depth
            open_.discard(key)
            if values > MAX_CONFIG_VALUES or depth > MAX_CONFIG_DEPTH:
                return values, depth, None
        elif key in open_:
            return 0, 0, node
        elif key not in done:
            if kids is None:
                done[key] = 1, 0
                continue
            open_.add(key)
            stack.append((node, True))
            stack.extend((kid, False) for kid in kids)
    return (*done[id(root)], None)


def check_nested(value: Any, what: str) -> None:
    """Refuse, in one line naming ``what``, a parsed config value past the limits of a config
    file: more than ``MAX_CONFIG_VALUES`` values, deeper than ``MAX_CONFIG_DEPTH`` levels, a
    value inside itself, a whole number past ``MAX_WHOLE``, or a string that is not text."""
    values, depth, cycle = nested_shape(value)
    if cycle is not None:
        raise ZooError(f"{what} holds a value inside itself; a config file is a tree of values")
    if values > MAX_CONFIG_VALUES:
        raise ZooError(f"{what} holds more than {MAX_CONFIG_VALUES:,} values; a config file holds at most "
                       f"{MAX_CONFIG_VALUES:,}")
    if depth > MAX_CONFIG_DEPTH:
        raise ZooError(f"{what} nests deeper than {MAX_CONFIG_DEPTH} levels; a config file nests at most "
                       f"{MAX_CONFIG_DEPTH}")
    _check_leaves(value, what, "")


def _check_leaves(value: Any, what: str, path: str) -> None:
    # Recursive: the value is known to be a tree of at most MAX_CONFIG_DEPTH levels.
    where = f"{what}: {path}" if path else what
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_WHOLE:
        number = f"a whole number of {digits(value):,} digits" if abs(value) >= 10**30 else f"{value:,}"
        raise ZooError(f"{where} is {number}; whole numbers in a config file are at most {MAX_WHOLE:,} (2**63 - 1)")
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # YAML's "\ud800" escape: half of a UTF-16 pair, no character
            raise ZooError(f"{where} holds {shown(value)}: a lone surrogate is not text; write the character "
                           "itself") from None
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_leaves(key, what, path)
            plain = isinstance(key, str) and key.isprintable() and len(key) <= 40
            name = key if plain else shown(key, 40)
            _check_leaves(item, what, f"{path}.{name}" if path else name)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, item in enumerate(value):
            _check_leaves(item, what, f"{path}[{i}]")
