"""Env plugin: gymnasium's classic-control envs, each with hardcoded policies (:mod:`.policies`)
and, for Acrobot, both MountainCars and Pendulum, a batched version (``vector_entry_point``) that
``zoo.make_vec_env`` and ``gymnasium.make_vec`` use: one numpy array for all copies, each copy
bit-exact to gymnasium's own env (:mod:`.vector_env`). CartPole's is gymnasium's ``CartPoleVectorEnv``.

One module per env: :mod:`.acrobot`, :mod:`.mountain_car`, :mod:`.continuous_mountain_car`,
:mod:`.pendulum`; :mod:`.scalar_math` holds the one operation where arrays and numpy scalars differ.
"""

from __future__ import annotations

from zoo import hookimpl

from .policies import (
    AcrobotPump,
    CartPoleBalance,
    CartPoleLean,
    MountainCarFullForce,
    MountainCarPump,
    MountainCarPush,
    PendulumSwingUp,
)

#: Each env: zoo name, gymnasium id, hardcoded policies, batched env ("module:Class" in this package,
#: imported only when used; None: gymnasium's own, CartPole's), description.
ENVS = (
    ("cartpole", "CartPole-v1", {"default": CartPoleBalance, "lean": CartPoleLean}, None,
     "Balance a pole on a cart (gymnasium)"),
    ("mountaincar-continuous", "MountainCarContinuous-v0",
     {"default": MountainCarPump, "full-force": MountainCarFullForce},
     "continuous_mountain_car:ContinuousMountainCarVectorEnv",
     "Drive an underpowered car up a hill, continuous actions (gymnasium)"),
    ("mountaincar", "MountainCar-v0", {"default": MountainCarPush}, "mountain_car:MountainCarVectorEnv",
     "Drive an underpowered car up a hill, three discrete actions (gymnasium)"),
    ("acrobot", "Acrobot-v1", {"default": AcrobotPump}, "acrobot:AcrobotVectorEnv",
     "Swing a two-link arm's tip above the bar (gymnasium)"),
    ("pendulum", "Pendulum-v1", {"default": PendulumSwingUp}, "pendulum:PendulumVectorEnv",
     "Swing a pendulum up and keep it upright (gymnasium)"),
)


@hookimpl
def register_envs(registry) -> None:
    for name, gym_id, hardcoded, batched, description in ENVS:
        registry.add_env(name=name, gym_id=gym_id, vector_entry_point=batched and f"{__name__}.{batched}",
                         hardcoded=hardcoded, description=description)
