"""Test-session set-up. Environment variables here must be set before the libraries that
read them at import time (pygame, matplotlib, huggingface_hub) are imported.

The fixtures live in ``tests/support/`` and are loaded below as plugins: test modules ask for
them by name. The one thing they import from ``support`` is ``support.checks``'s assertion
helpers (it imports nothing that imports huggingface_hub). ``support.hub`` comes first: importing it
starts the session's loopback Hub server and points ``HF_ENDPOINT``, ``HF_TOKEN`` and ``HF_HOME``
at it, which must happen before anything imports huggingface_hub (it reads them at import).
pytest imports these plugins right after this file, before collecting any test module; so
import nothing here that imports huggingface_hub.
"""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("ZOO_TORCH_THREADS", "1")

pytest_plugins = [
    "support.hub",  # first: starts the loopback Hub server before huggingface_hub is imported
    "support.distributions",
    "support.plugins",
    "support.reliability",
    "support.ple",
    "support.checks",
    "support.processes",
    "support.payload",
]
