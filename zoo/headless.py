"""Rendering without a display (a server, CI, a container): what pygame and MuJoCo must be told
before they start, decided once per process, only on Linux, only when there is no display, and
never over a choice the user made.

* pygame, which gymnasium's classic-control and Box2D envs draw with even for ``rgb_array``,
  looks for a video device when it starts; without a display SDL tries Wayland and prints
  ``error: XDG_RUNTIME_DIR is invalid or not set in the environment`` on stderr.
  ``SDL_VIDEODRIVER=dummy`` tells it there is none.
* MuJoCo renders through an OpenGL platform. GLFW, which gymnasium tries first, needs a display;
  after it fails, the next one fails too ("an OpenGL platform library has not been loaded").
  ``MUJOCO_GL=egl`` (else ``osmesa``) picks one that renders headless, if its library is installed;
  if neither is, an env that cannot render says so (:func:`advice`).
"""

from __future__ import annotations

import ctypes.util
import functools
import os
import re
import sys
from collections.abc import Callable, Mapping

#: OpenGL platforms that render without a display, in the order they are tried, with their library.
HEADLESS_GL = (("egl", "EGL"), ("osmesa", "OSMesa"))
#: What to install when neither is there (Debian and Ubuntu package names).
INSTALL_GL = "install libegl1 (or libosmesa6)"

_GL_ERROR = re.compile(r"opengl|\bgl[A-Z_]|egl|osmesa|glfw|mjr_", re.IGNORECASE)


def has_display(environ: Mapping[str, str]) -> bool:
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def opengl_backend(environ: Mapping[str, str] = os.environ,
                   find_library: Callable[[str], str | None] = ctypes.util.find_library,
                   platform: str = sys.platform) -> str | None:
    """The ``MUJOCO_GL`` to set: the first headless platform whose library is installed; None
    where the user chose one, where there is a display, off Linux (macOS and Windows render
    natively), or if no headless platform is installed."""
    if not platform.startswith("linux") or "MUJOCO_GL" in environ or has_display(environ):
        return None
    chosen = environ.get("PYOPENGL_PLATFORM")  # PyOpenGL's platform, if the user named one
    if chosen is not None:
        return chosen if chosen in dict(HEADLESS_GL) else None
    return next((backend for backend, library in HEADLESS_GL if find_library(library)), None)


@functools.cache
def prepare() -> None:
    """Tell pygame and MuJoCo how to render here (see the module docstring); once per process.
    Called before an env that renders is made."""
    if not sys.platform.startswith("linux") or has_display(os.environ):
        return
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    backend = opengl_backend()
    if backend is not None:
        os.environ["MUJOCO_GL"] = backend


def advice(exc: BaseException) -> str:
    """What to add to the message of a render that failed with ``exc`` for want of a display:
    how to get an OpenGL platform that needs none; else nothing."""
    if not _GL_ERROR.search(str(exc)) or not sys.platform.startswith("linux") or has_display(os.environ):
        return ""
    installed = opengl_backend({})
    if installed is None:
        return f"; there is no display, and rendering without one needs EGL or OSMesa: {INSTALL_GL}"
    if os.environ.get("MUJOCO_GL") == installed:
        return ""  # the headless platform was chosen and is there: something else failed
    return f"; there is no display: MUJOCO_GL={installed} renders without one"
