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

#: Where the batched envs live; entry points are strings, so registering imports none of them.
_BATCHED = {
    "acrobot": f"{__name__}.acrobot:AcrobotVectorEnv",
    "mountaincar": f"{__name__}.mountain_car:MountainCarVectorEnv",
    "mountaincar-continuous": f"{__name__}.continuous_mountain_car:ContinuousMountainCarVectorEnv",
    "pendulum": f"{__name__}.pendulum:PendulumVectorEnv",
}


@hookimpl
def register_envs(registry) -> None:
    registry.add_env(
        name="cartpole",
        gym_id="CartPole-v1",
        hardcoded={"default": CartPoleBalance, "lean": CartPoleLean},
        description="Balance a pole on a cart (gymnasium)",
    )
    registry.add_env(
        name="mountaincar-continuous",
        gym_id="MountainCarContinuous-v0",
        vector_entry_point=_BATCHED["mountaincar-continuous"],
        hardcoded={"default": MountainCarPump, "full-force": MountainCarFullForce},
        description="Drive an underpowered car up a hill, continuous actions (gymnasium)",
    )
    registry.add_env(
        name="mountaincar",
        gym_id="MountainCar-v0",
        vector_entry_point=_BATCHED["mountaincar"],
        hardcoded={"default": MountainCarPush},
        description="Drive an underpowered car up a hill, three discrete actions (gymnasium)",
    )
    registry.add_env(
        name="acrobot",
        gym_id="Acrobot-v1",
        vector_entry_point=_BATCHED["acrobot"],
        hardcoded={"default": AcrobotPump},
        description="Swing a two-link arm's tip above the bar (gymnasium)",
    )
    registry.add_env(
        name="pendulum",
        gym_id="Pendulum-v1",
        vector_entry_point=_BATCHED["pendulum"],
        hardcoded={"default": PendulumSwingUp},
        description="Swing a pendulum up and keep it upright (gymnasium)",
    )
