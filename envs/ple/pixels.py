"""pygame's integer rects, without pygame: where a sprite's rect lands, and when two rects collide.

Several PLE games keep positions only in pygame ``Rect`` s (Catcher) or test collisions on them
(FlappyBird, Pixelcopter). A rect has integer left, top, width and height. Assigning a double
centre rounds it half away from zero (checked with pygame 2.6.1: 0.5 -> 1, 2.5 -> 3, -0.5 -> -1),
and the rect's left is then ``centre - width // 2``. Two rects collide when their interiors
overlap: touching edges do not count.
"""

from __future__ import annotations

import numpy as np


def round_half_away(x: float) -> int:
    """Round to the nearest integer, halves away from zero, as pygame places a rect's centre.

    ``int(x)`` truncates toward zero and ``x - int(x)`` is exact, so doubling the remainder
    and truncating again adds the missing -1/0/+1 without any rounding error.
    """
    i = int(x)
    return i + int(2.0 * (x - i))


def round_half_away_array(x: np.ndarray) -> np.ndarray:
    """:func:`round_half_away` for arrays (returns floats holding integers)."""
    whole = np.trunc(x)
    return whole + np.trunc(2.0 * (x - whole))


def spans_overlap(start_a, length_a, start_b, length_b):
    """Whether [start_a, start_a + length_a) and [start_b, start_b + length_b) share a pixel
    (one axis of pygame's ``Rect.colliderect``), for numbers or arrays."""
    return (start_a < start_b + length_b) & (start_b < start_a + length_a)
