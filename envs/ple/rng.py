"""The PLE games' random stream: ``numpy.random.RandomState(seed)``, with the calls the games make.

Every PLE game draws all of its randomness from one legacy ``RandomState`` (PLE's ``rng``), and the
order of the draws is part of the contract: a port that replays the original's episodes must make
the same calls in the same order. :class:`RandomStream` makes those calls bit-identical to
``RandomState`` (tested), but several times cheaper per call, which matters because the games draw
one number at a time.

How numpy's legacy calls work (on the 32-bit words of MT19937):

* ``randint(low, high)`` draws words until ``word & mask`` (mask = the next 2^k - 1 >= high - low - 1)
  is at most high - low - 1, and returns low + that;
* ``choice(seq)`` is ``seq[randint(0, len(seq))]``; ``random_integers(a, b)`` is ``randint(a, b + 1)``;
* ``random_sample()`` is a 53-bit double from two words; ``uniform(low, high)`` is
  ``low + (high - low) * random_sample()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


class RandomStream:
    """The stream of ``numpy.random.RandomState(seed)``; see the module docstring."""

    def __init__(self, seed: int) -> None:
        bits = np.random.MT19937()
        bits.state = np.random.RandomState(seed).get_state(legacy=False)  # RandomState's seeding
        self._bits = bits
        self._word = bits.random_raw  # next 32-bit output of MT19937
        self._random_sample = np.random.RandomState(bits).random_sample  # shares `bits`

    def randint(self, low: int, high: int) -> int:
        """An integer in [low, high), like ``RandomState.randint(low, high)``."""
        span = high - low - 1
        mask = (1 << span.bit_length()) - 1
        while True:
            value = int(self._word()) & mask
            if value <= span:
                return low + value

    def random_integers(self, low: int, high: int) -> int:
        """An integer in [low, high] (both included), like the deprecated ``RandomState.random_integers``."""
        return self.randint(low, high + 1)

    def choice(self, population: Sequence[T]) -> T:
        """One element, like ``RandomState.choice(population)`` (uniform, no ``p``): one randint."""
        return population[self.randint(0, len(population))]

    def random_sample(self) -> float:
        """A double in [0, 1), like ``RandomState.random_sample()`` (two 32-bit words)."""
        return self._random_sample()

    def words_drawn_marker(self) -> tuple[int, bytes]:
        """Something that changes whenever a word is drawn (the generator's position and key),
        so tests can tell whether a step drew random numbers."""
        state = self._bits.state["state"]
        return state["pos"], state["key"].tobytes()

    def uniform(self, low: float, high: float, size: int | None = None) -> float | np.ndarray:
        """Uniform doubles in [low, high), like ``RandomState.uniform(low, high, size)``."""
        return low + (high - low) * self._random_sample(size)


def seed_from(np_random: np.random.Generator) -> int:
    """A seed for a new stream, when the user gave none: drawn from gymnasium's ``np_random``."""
    return int(np_random.integers(2**32))
