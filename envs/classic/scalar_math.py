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

:func:`scalar_square` squares the array, computes each square's rounding error exactly (Dekker's
product for float64; float32 squares are exact in float64), and recomputes with the scalar
operation itself only the squares whose exact value lies within 1/32 ulp of a halfway point: about
6 % of them, and the only ones where a ``pow`` accurate to 1/32 ulp before rounding can round the
other way (glibc's documented bound is 0.02 ulp).
"""

from __future__ import annotations

import math

import numpy as np

#: 2**27 + 1: splits a double into two halves of 26 bits whose products are exact (Dekker).
_SPLIT = 134217729.0
#: How far from a halfway point (in ulps) a ``pow`` that errs by less than this before rounding
#: rounds as the correctly rounded square does.
_MARGIN = 1 / 32
#: Up to this many values (by dtype), the scalar operation on each costs less than the arrays'
#: bookkeeping of :func:`_redo_near_halfway` (measured with numpy 2.4: about 12 us plus 15 ns a
#: value, against 60 ns a float64 value through ``math.pow`` and 300 ns a float32 numpy scalar).
FEW = {np.dtype(np.float64): 256, np.dtype(np.float32): 32}
#: The exponent for each of up to FEW float64 values (map's second argument).
_TWOS = (2.0,) * FEW[np.dtype(np.float64)]
#: Below these magnitudes squares are finite and the bookkeeping raises no floating-point warning.
_QUIET = {np.float64: 1e150, np.float32: 1e19}


def _ulp64(values: np.ndarray) -> np.ndarray:
    """The spacing of doubles at each (non-negative) value: 0 below the normal range, inf at inf."""
    return (values.view(np.uint64) & np.uint64(0x7FF0000000000000)).view(np.float64) * 2.0**-52


def _ulp32(values: np.ndarray) -> np.ndarray:
    """The spacing of float32s at each (non-negative) float32 value, as float64."""
    return (values.view(np.uint32) & np.uint32(0x7F800000)).view(np.float32).astype(np.float64) * 2.0**-23


def _square_error(x: np.ndarray, square: np.ndarray) -> np.ndarray:
    """Exactly ``x * x - square`` for ``square = x * x`` rounded (Dekker's two-product, in order)."""
    c = _SPLIT * x
    high = c - (c - x)
    low = x - high
    return (((high * high - square) + high * low) + low * high) + low * low


def scalar_square(x: np.ndarray) -> np.ndarray:
    """``x ** 2`` element by element as numpy computes it for a scalar of ``x``'s dtype: float64
    and float32 as the C library's ``pow``/``powf``; float16 squares are exact in float32, so
    there both ways round once."""
    few = FEW.get(x.dtype)
    if few is None:
        return x * x
    if x.size <= few:  # the scalar operation itself costs less here
        return _scalar_squares(x)
    if not np.abs(x).max(initial=0.0) < _QUIET[x.dtype.type]:  # infinite squares or NaN: their bookkeeping warns
        with np.errstate(invalid="ignore", over="ignore"):
            return _redo_near_halfway(x)
    return _redo_near_halfway(x)


def _scalar_squares(x: np.ndarray) -> np.ndarray:
    """Each square computed by the scalar operation itself, one value at a time."""
    if x.dtype == np.float64:
        values = x.ravel().tolist()
        try:  # numpy's float64 ** calls the C pow, as math.pow does; map: no bytecode per value
            squares = np.fromiter(map(math.pow, values, _TWOS), np.float64, len(values))
        except OverflowError:
            squares = np.array([_pow2(value) for value in values])
        return squares if x.ndim == 1 else squares.reshape(x.shape)
    with np.errstate(over="ignore", invalid="ignore"):  # an infinite square, as the array path gives it
        return np.array([value**2 for value in x.reshape(-1)], dtype=np.float32).reshape(x.shape)


def _redo_near_halfway(x: np.ndarray) -> np.ndarray:
    """The squares, with those near a halfway point recomputed by the C library's pow."""
    if x.dtype == np.float64:
        square = x * x
        error = _square_error(x, square)
        spacing, significand = _ulp64(square), square.view(np.uint64) << np.uint64(12)
    else:
        exact = x.astype(np.float64) ** 2  # 24-bit significands: the square is exact
        square = exact.astype(np.float32)  # an infinity here is powf's too
        error = exact - square
        spacing, significand = _ulp32(square), square.view(np.uint32) << np.uint32(9)
    # A power of two (significand 0) has half the spacing below it: those are redone too.
    near_halfway = np.flatnonzero((np.abs(error) > (0.5 - _MARGIN) * spacing) | (significand == 0))
    if near_halfway.size:
        values, squares = x.reshape(-1)[near_halfway], square.reshape(-1)  # (square is a new array: a view)
        if x.dtype == np.float64:  # numpy's float64 ** calls the C pow, as math.pow does (and faster)
            squares[near_halfway] = [_pow2(value) for value in values.tolist()]
        else:  # numpy's float32 ** calls powf, which Python has no name for
            squares[near_halfway] = [value**2 for value in values]
    return square


def _pow2(value: float) -> float:
    """The C library's ``pow(value, 2)``, infinite where it overflows (as numpy's scalar is)."""
    try:
        return math.pow(value, 2)
    except OverflowError:
        return math.inf
