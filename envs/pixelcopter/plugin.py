"""Zoo plugin hook: registers Pixelcopter with the zoo (and through it, with gymnasium)."""

from __future__ import annotations

from zoo.hookspecs import hookimpl


@hookimpl
def register_envs(registry) -> None:
    registry.add_env(
        name="pixelcopter",
        gym_id="zoo/Pixelcopter-v0",
        aliases=("Pixelcopter-PLE-v0",),
        entry_point="zoo.envs.pixelcopter.env:PixelcopterEnv",
        vector_entry_point="zoo.envs.pixelcopter.vector_env:PixelcopterVectorEnv",
        hardcoded={"default": "zoo.envs.pixelcopter.heuristic:PixelcopterHeuristic"},
        reward_threshold=30.0,
        description="PLE Pixelcopter, ported to gymnasium",
    )
