"""Kept so that ``import zoo.envs.pixelcopter`` (and ``gymnasium.make("zoo.envs.pixelcopter:Pixelcopter-PLE-v0")``)
keep working: Pixelcopter now lives in the PLE family, :mod:`zoo.envs.ple.pixelcopter`, and importing
this registers the family's gymnasium ids (all five games)."""

import zoo.envs.ple  # noqa: F401  (registers the gymnasium ids)
