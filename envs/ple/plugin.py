"""Zoo plugin hook: registers the five PLE games with the zoo (and through it, with gymnasium).

Each game gets its zoo name (``catcher``, ...), the zoo id (``zoo/Catcher-v0``) with gym-games'
id as an alias (``Catcher-PLE-v0``, also the id the Hub and the Deep RL course know it by:
``hub_id``), its batched env and its hardcoded policy, all from the
catalogue in :mod:`.games`.
"""

from __future__ import annotations

from zoo import hookimpl

from .games import GAMES


@hookimpl
def register_envs(registry) -> None:
    for game in GAMES:
        registry.add_env(
            name=game.name,
            gym_id=game.gym_id,
            aliases=(game.course_id,),
            hub_id=game.course_id,  # the id the Deep RL course's leaderboard filters on
            entry_point=game.entry_point,
            vector_entry_point=game.vector_entry_point,
            hardcoded={"default": game.heuristic},
            reward_threshold=game.reward_threshold,
            description=game.description,
        )
