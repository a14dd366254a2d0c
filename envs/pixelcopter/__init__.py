"""Pixelcopter from the PyGame Learning Environment, ported to gymnasium (a zoo env plugin).

Importing this package registers two gymnasium ids for the same env (unless they are
already registered, e.g. by the zoo's plugin loader):

* ``zoo/Pixelcopter-v0``, the zoo's own name;
* ``Pixelcopter-PLE-v0``, the id the Hugging Face Deep RL course uses.

So course code needs one extra line::

    import zoo.envs.pixelcopter  # registers the ids
    env = gymnasium.make("Pixelcopter-PLE-v0")

or, with no import, gymnasium's module form:
``gymnasium.make("zoo.envs.pixelcopter:Pixelcopter-PLE-v0")``.

Modules: :mod:`.game` (rules and constants), :mod:`.timeline` (precomputed scrolling),
:mod:`.env` (the gymnasium env), :mod:`.vector_env` (N copies in numpy arrays),
:mod:`.render` (frames), :mod:`.heuristic` (a hardcoded pilot), :mod:`.plugin` (zoo hook).
"""

from __future__ import annotations

import gymnasium

GYM_ID = "zoo/Pixelcopter-v0"
COURSE_ID = "Pixelcopter-PLE-v0"
# Written relative to this package so the ids work however the package is imported.
ENTRY_POINT = f"{__name__}.env:PixelcopterEnv"
VECTOR_ENTRY_POINT = f"{__name__}.vector_env:PixelcopterVectorEnv"
REWARD_THRESHOLD = 30.0  # the same as the zoo plugin declares, whichever registers first


def register() -> None:
    """Register the gymnasium ids, skipping any that already exist."""
    for env_id in (GYM_ID, COURSE_ID):
        if env_id not in gymnasium.registry:
            gymnasium.register(
                id=env_id,
                entry_point=ENTRY_POINT,
                vector_entry_point=VECTOR_ENTRY_POINT,
                reward_threshold=REWARD_THRESHOLD,
            )


register()
