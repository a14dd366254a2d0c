"""Drawing PLE frames: numpy for the pixels, pygame only for the ``"human"`` window.

Each game draws its state into an (height, width, 3) uint8 array with these helpers, so
``render_mode="rgb_array"`` needs no pygame at all; pygame is imported only when a window opens.
Frames are indexed ``frame[y, x]`` with y growing downward, as on screen.
"""

from __future__ import annotations

import numpy as np

Colour = tuple[int, int, int]


def blank(width: int, height: int, colour: Colour = (0, 0, 0)) -> np.ndarray:
    """A new frame filled with one colour."""
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:] = colour
    return frame


def fill_rect(frame: np.ndarray, left: int, top: int, width: int, height: int, colour: Colour) -> None:
    """Fill a rect, clipped to the frame (negative indices must not wrap around)."""
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + width, frame.shape[1]), min(top + height, frame.shape[0])
    if x0 < x1 and y0 < y1:
        frame[y0:y1, x0:x1] = colour


def fill_circle(frame: np.ndarray, centre_x: float, centre_y: float, radius: float, colour: Colour,
                alpha: float = 1.0) -> None:
    """Fill the pixels whose centres lie within ``radius`` of the centre, optionally blended."""
    ys, xs = np.ogrid[: frame.shape[0], : frame.shape[1]]
    inside = (xs + 0.5 - centre_x) ** 2 + (ys + 0.5 - centre_y) ** 2 <= radius**2
    if alpha >= 1.0:
        frame[inside] = colour
    else:
        frame[inside] = (1 - alpha) * frame[inside] + alpha * np.array(colour)


def scaled(frame: np.ndarray, scale: int) -> np.ndarray:
    """The frame enlarged ``scale`` times (each pixel a scale x scale block)."""
    if scale == 1:
        return frame
    return frame.repeat(scale, axis=0).repeat(scale, axis=1)


class Window:
    """A pygame window showing frames at a fixed rate (``render_mode="human"``)."""

    def __init__(self, title: str, fps: int) -> None:
        import pygame  # only the human mode needs pygame

        self._pygame = pygame
        pygame.display.init()
        pygame.display.set_caption(title)
        self._screen = None
        self._clock = pygame.time.Clock()
        self._fps = fps

    def show(self, frame: np.ndarray) -> None:
        pygame = self._pygame
        if self._screen is None or self._screen.get_size() != (frame.shape[1], frame.shape[0]):
            self._screen = pygame.display.set_mode((frame.shape[1], frame.shape[0]))
        # surfarray wants (x, y, colour); frames are (y, x, colour).
        pygame.surfarray.blit_array(self._screen, frame.swapaxes(0, 1))
        pygame.event.pump()  # keep the window responsive
        pygame.display.flip()
        self._clock.tick(self._fps)

    def close(self) -> None:
        self._pygame.display.quit()
