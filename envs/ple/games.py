"""The family's catalogue: each PLE game's names, ids and classes, in one table.

Both ways of registering read it: importing :mod:`zoo.envs.ple` registers the gymnasium ids
(:func:`register_gymnasium_ids`), and the zoo's plugin hook (:mod:`.plugin`) registers the same
envs with the zoo. Entry points are strings, so registering imports no game.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium

PACKAGE = __name__.rpartition(".")[0]  # "zoo.envs.ple", however the package is imported


@dataclass(frozen=True)
class GameEntry:
    """One game: its zoo name and title; its ids, classes and description follow from the title
    (each game's modules name their classes ``<Title>Env``, ``<Title>VectorEnv`` and
    ``<Title>Heuristic``)."""

    name: str  # the zoo name and the game's module, e.g. "catcher"
    title: str  # e.g. "Catcher", as in the ids
    reward_threshold: float | None = None

    @property
    def description(self) -> str:
        return f"PLE {self.title}, ported to gymnasium"

    @property
    def gym_id(self) -> str:
        """The zoo's own id, e.g. ``zoo/Catcher-v0``."""
        return f"zoo/{self.title}-v0"

    @property
    def course_id(self) -> str:
        """gym-games' id (the one the Deep RL course uses), e.g. ``Catcher-PLE-v0``."""
        return f"{self.title}-PLE-v0"

    @property
    def entry_point(self) -> str:
        return f"{PACKAGE}.{self.name}.env:{self.title}Env"

    @property
    def vector_entry_point(self) -> str:
        return f"{PACKAGE}.{self.name}.vector_env:{self.title}VectorEnv"

    @property
    def heuristic(self) -> str:
        return f"{PACKAGE}.{self.name}.heuristic:{self.title}Heuristic"


GAMES = (
    GameEntry("pixelcopter", "Pixelcopter", reward_threshold=30.0),
    GameEntry("catcher", "Catcher"),
    GameEntry("flappybird", "FlappyBird"),
    GameEntry("pong", "Pong"),
    GameEntry("puckworld", "PuckWorld"),
)


def register_gymnasium_ids() -> None:
    """Register every game's two gymnasium ids, skipping any that already exist."""
    for game in GAMES:
        for env_id in (game.gym_id, game.course_id):
            if env_id not in gymnasium.registry:
                gymnasium.register(
                    id=env_id,
                    entry_point=game.entry_point,
                    vector_entry_point=game.vector_entry_point,
                    reward_threshold=game.reward_threshold,
                )
