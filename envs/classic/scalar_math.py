"""``x ** 2`` on arrays, with the bits numpy gives on scalars.

The batched classic-control envs compute on arrays what gymnasium's single envs compute on numpy
scalars. Almost every operation gives the same bits both ways (``+ - * / %``, comparisons,
``np.clip``; ``np.sin`` and ``np.cos`` of float64 call the C library's ``sin``/``cos`` both ways,
and those of float32 run the same SIMD loop, one element or many; all tested). One does not:
``x ** 2``. On an array numpy squares (``x * x``, correctly rounded); on a numpy scalar it calls the
C library's ``pow`` (``powf`` for float32), which is not correctly rounded. Measured with glibc
2.36: ``pow(x, 2)`` differs from ``x * x`` for about 1 square in 1,200, always when the exact square
lies within 0.009 ulp of a halfway point between two doubles (400 million random x); ``powf(x, 2)``
for 1 in 2,000 float32 values, within 0.002 ulp (every float32 checked). numpy's own array
``np.power(x, y)`` with an array exponent is no help: it runs SVML's vectorised ``pow`` on AVX-512
machines, which differs more often still.

float64: ``np.float_power`` has no SIMD loop; it calls the C library's ``pow`` element by element,
the very function a float64 scalar's ``**`` calls, so it gives the scalar's bits whatever that
library's rounding (20 million random values checked here, none differs), in one call.

float32: ``float_power`` would compute in double, not ``powf``. :func:`scalar_square` squares the
array in float64 (exact for 24-bit significands) and recomputes with the scalar operation itself
only the squares whose exact value lies within 1/32 ulp of a halfway point: about 6 % of them, and
the only ones where a ``powf`` accurate to 1/32 ulp before rounding can round the other way.
"""

from __future__ import annotations

import numpy as np

#: How far from a halfway point (in ulps) a ``powf`` that errs by less than this before rounding
#: rounds as the correctly rounded square does.
_MARGIN = 1 / 32
#: Up to this many float32 values, the scalar operation on each costs less than the arrays'
#: bookkeeping of :func:`_redo_near_halfway` (measured with numpy 2.4: about 12 us plus 15 ns a
#: value, against 300 ns a float32 numpy scalar).
FEW = 32
#: float_power's exponent: a 0-d array costs less per call than a Python float.
_TWO = np.array(2.0)
#: Below this magnitude float32 squares are finite and the bookkeeping raises no floating-point warning.
_QUIET = 1e19


def _ulp32(values: np.ndarray) -> np.ndarray:
    """The spacing of float32s at each (non-negative) float32 value, as float64."""
    return (values.view(np.uint32) & np.uint32(0x7F800000)).view(np.float32).astype(np.float64) * 2.0**-23


def scalar_square(x: np.ndarray) -> np.ndarray:
    """``x ** 2`` element by element as numpy computes it for a scalar of ``x``'s dtype: float64
    and float32 as the C library's ``pow``/``powf``; float16 squares are exact in float32, so
    there both ways round once. A finite float64 square too large for a double is infinite and
    warns, as numpy's scalar does."""
    if x.dtype == np.float64:
        return np.float_power(x, _TWO)  # the C library's pow on each element: the scalar's own call
    if x.dtype != np.float32:
        return x * x
    if x.size <= FEW:  # the scalar operation itself costs less here
        with np.errstate(over="ignore", invalid="ignore"):  # an infinite square, as the array path gives it
            return np.array([value**2 for value in x.reshape(-1)], dtype=np.float32).reshape(x.shape)
    if not np.abs(x).max(initial=0.0) < _QUIET:  # infinite squares or NaN: their bookkeeping warns
        with np.errstate(invalid="ignore", over="ignore"):
            return _redo_near_halfway(x)
    return _redo_near_halfway(x)


def _redo_near_halfway(x: np.ndarray) -> np.ndarray:
    """float32 squares, with those near a halfway point recomputed by the C library's powf."""
    exact = x.astype(np.float64) ** 2  # 24-bit significands: the square is exact
    square = exact.astype(np.float32)  # an infinity here is powf's too
    error = exact - square
    spacing, significand = _ulp32(square), square.view(np.uint32) << np.uint32(9)
    # A power of two (significand 0) has half the spacing below it: those are redone too.
    near_halfway = np.flatnonzero((np.abs(error) > (0.5 - _MARGIN) * spacing) | (significand == 0))
    if near_halfway.size:
        values, squares = x.reshape(-1)[near_halfway], square.reshape(-1)  # (square is a new array: a view)
        squares[near_halfway] = [value**2 for value in values]  # numpy's float32 ** calls powf
    return square
