"""Random streams as JSON-ready data: a numpy generator's state out and back in, checked.

Training state (:mod:`zoo.training.state`) and env positions (:mod:`zoo.vector.positions`) save
every random stream this way; the public names are ``zoo.numpy_rng_state`` and ``zoo.numpy_rng``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.exceptions import ZooError

#: Bit generators a saved numpy state may name (never looked up by an arbitrary name).
_BIT_GENERATORS = {name: getattr(np.random, name) for name in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")}


def numpy_rng_state(generator: np.random.Generator) -> dict[str, Any]:
    """A numpy generator's state as JSON-ready data (big ints are fine in JSON)."""
    return generator.bit_generator.state


def numpy_rng(state: dict[str, Any]) -> np.random.Generator:
    """A numpy generator in the state :func:`numpy_rng_state` returned."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise ZooError(f"saved random state names bit generator {name!r}; expected one of {', '.join(_BIT_GENERATORS)}")
    bit_generator = _BIT_GENERATORS[name]()
    try:
        bit_generator.state = state
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ZooError(f"saved random state for {name} is malformed ({type(exc).__name__}: {exc})") from None
    return np.random.Generator(bit_generator)
