"""The gym-pygame family on gymnasium 1.x: PLE's Catcher, FlappyBird, Pixelcopter, Pong and
PuckWorld, ported from the original games, bit-exact by default and without pygame in the step loop.

Importing this package registers, for each game, its zoo id and gym-games' id (unless they are
already registered, e.g. by the zoo's plugin loader):

====================  =======================  =====================
game                  zoo id                   gym-games' id
====================  =======================  =====================
Catcher               ``zoo/Catcher-v0``       ``Catcher-PLE-v0``
FlappyBird            ``zoo/FlappyBird-v0``    ``FlappyBird-PLE-v0``
Pixelcopter           ``zoo/Pixelcopter-v0``   ``Pixelcopter-PLE-v0``
Pong                  ``zoo/Pong-v0``          ``Pong-PLE-v0``
PuckWorld             ``zoo/PuckWorld-v0``     ``PuckWorld-PLE-v0``
====================  =======================  =====================

So code written for gym-games needs one line instead of ``import gym_pygame``::

    import zoo.envs.ple  # registers the ids
    env = gymnasium.make("Catcher-PLE-v0")

or, with no import, gymnasium's module form: ``gymnasium.make("zoo.envs.ple:Catcher-PLE-v0")``.

Shared by every game: :mod:`.rng` (the seeding contract: numpy's ``RandomState`` stream and the
draws the games make), :mod:`.env` (the gymnasium env: seeding, stepping, ``info["state"]``,
rendering), :mod:`.vector_env` (the batched env's API and autoreset), :mod:`.pixels` (pygame's
integer rects), :mod:`.render` (numpy frames, the pygame window), :mod:`.games` (the catalogue)
and :mod:`.plugin` (the zoo hook). Each game's subpackage holds its rules (``game.py``), its env
and vector env, and a hardcoded policy.
"""

from __future__ import annotations

from .games import GAMES, register_gymnasium_ids

__all__ = ["GAMES", "register_gymnasium_ids"]

register_gymnasium_ids()
