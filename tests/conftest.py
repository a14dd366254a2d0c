"""Test-session set-up. Environment variables here must be set before the libraries that
read them at import time (pygame, matplotlib, huggingface_hub) are imported."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("ZOO_TORCH_THREADS", "1")

# One loopback Hub server for the whole session, started before anything imports
# huggingface_hub (which reads HF_ENDPOINT, HF_TOKEN and HF_HOME at import).
from hub_fixtures import start_session_hub  # noqa: E402

HUB = start_session_hub()
from hub_fixtures import hf_home, hub, hub_offline, hub_repo_id  # noqa: E402,F401  (fixtures)
