"""Pixelcopter from the PyGame Learning Environment, ported to gymnasium (part of :mod:`zoo.envs.ple`).

Its gymnasium ids, ``zoo/Pixelcopter-v0`` and the course's ``Pixelcopter-PLE-v0``, are registered
when :mod:`zoo.envs.ple` is imported (which importing this package does first).

Modules: :mod:`.game` (rules and constants), :mod:`.timeline` (precomputed scrolling),
:mod:`.env` (the gymnasium env), :mod:`.vector_env` (N copies in numpy arrays),
:mod:`.render` (frames), :mod:`.heuristic` (a hardcoded pilot).
"""
