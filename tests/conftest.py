"""Test-session set-up. Environment variables here must be set before the libraries that
read them at import time (pygame, matplotlib, huggingface_hub) are imported."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("ZOO_TORCH_THREADS", "1")
