"""Env plugin: gymnasium's Box2D envs (install the ``box2d`` extra to run them), with hardcoded
policies. Registering builds nothing, so the plugin loads without Box2D installed; using the
env without it is a one-line error naming the missing package."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from zoo import FixedPolicy, hookimpl


class LunarLanderHeuristic(FixedPolicy):
    """gymnasium's own heuristic controller for LunarLander (``lunar_lander.heuristic``): aim the
    lander's angle at the pad, hover down, cut the engines on touching."""

    def act(self, observations: np.ndarray) -> np.ndarray:
        from gymnasium.envs.box2d.lunar_lander import heuristic

        # It reads only the observation and whether the env is the continuous variant.
        discrete = SimpleNamespace(unwrapped=SimpleNamespace(continuous=False))
        return np.array([heuristic(discrete, obs) for obs in observations], dtype=np.int64)


@hookimpl
def register_envs(registry) -> None:
    registry.add_env(
        name="lunarlander",
        gym_id="LunarLander-v3",
        hardcoded={"default": LunarLanderHeuristic},
        description="Land on the pad with four discrete engine actions (gymnasium, Box2D)",
    )
