"""Env names, and the one way an env name may make the zoo import a module.

An env is named by a zoo name (``cartpole``), a gymnasium id (``CartPole-v1``) or, for a package
that registers its envs with gymnasium when it is imported, ``module:Id`` (``ale_py:ALE/Pong-v5``).
Importing a module runs its code, so the rule is by who gave the name:

* A name the user gave (typed on the command line, passed to ``--gym-packages``, or passed to a
  public function of ``zoo`` from their own Python code) may import its module:
  :func:`import_env_module` does, and nothing else in the zoo imports a module for an env.
* Looking a name up (``EnvRegistry.get``) never imports: a ``module:Id`` name whose module is not
  imported yet is refused.
* A name read from a file (a checkpoint's ``zoo.json``, a run's ``config.json``, a config file, a
  Hub repo) goes through :func:`env_name_from_file`, which refuses a module part whose module is not
  imported already (importing it again would run nothing), in one line that says how to proceed.

A module imported for the user is remembered with the gymnasium ids it registered
(:func:`env_module`), so that a checkpoint can record it and a later message can name it. This
module imports nothing of the zoo but its exception, and gymnasium only when it imports a module.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from typing import Any

from zoo.exceptions import ZooError, one_line

#: Gymnasium id -> the module imported at the user's request that registered it (or that the
#: user named with it, ``module:Id``).
_MODULE_OF: dict[str, str] = {}


def module_part(name: str) -> tuple[str | None, str]:
    """``("ale_py", "ALE/Pong-v5")`` for ``"ale_py:ALE/Pong-v5"``; ``(None, name)`` without a module."""
    module, sep, env_id = name.partition(":")
    return (module, env_id) if sep else (None, name)


def how_to_import(module: str, name: str | None = None) -> str:
    """What the user can do to have ``module`` imported: the command-line ways, and Python's."""
    named = f"name the env on the command line as {name}, or " if name else ""
    return f"{named}add --gym-packages {module} (from Python: import {module} first)"


def import_env_module(name: str) -> None:
    """Import the module part of the env name ``name`` (``"ale_py:ALE/Pong-v5"`` imports
    ``ale_py``); nothing for a name without one. For names the user gave: the command line's
    arguments and the public Python API's, never a name read from a file."""
    if not isinstance(name, str):
        return
    module, env_id = module_part(name)
    if module is None:
        module = known_env_module(env_id)
        if module is None:
            return
    import_gym_package(module, f"env {name!r}")
    gym_id = gymnasium_id(env_id)
    if gym_id is not None:
        _MODULE_OF.setdefault(gym_id, module)


#: Id patterns whose envs a package the zoo knows registers on import: Atari games (ale-py's
#: ``ALE/Pong-v5``, and gym's old ``PongNoFrameskip-v4`` / ``Pong-v4`` ids, which ale-py registers too).
_ATARI_ID = re.compile(r"ALE/[A-Za-z0-9]+-v\d+|[A-Z][A-Za-z0-9]*(NoFrameskip|Deterministic)-v[04]")
#: The module that registers them, and what to install to have it.
ATARI_MODULE, ATARI_INSTALL = "ale_py", "pip install 'rl-agent-zoo[atari]'"
#: gymnasium-robotics' goal envs (``FetchReach-v4``, ``HandReach-v3``), which rl-baselines3-zoo's
#: HER entries use; rl_zoo3 imports the package for every run.
_ROBOTICS_ID = re.compile(r"(Fetch|Hand)[A-Za-z_]+-v\d+")
#: Each id pattern, the module that registers its envs, what they are and what to install.
KNOWN_ID_MODULES = ((_ATARI_ID, ATARI_MODULE, "an Atari game, which needs ale-py", ATARI_INSTALL),
                    (_ROBOTICS_ID, "gymnasium_robotics", "a gymnasium-robotics env, which needs gymnasium-robotics",
                     "pip install 'rl-agent-zoo[goal]'"))


def known_env_module(env_id: str) -> str | None:
    """The module the zoo imports for ``env_id`` by the id's pattern (``ale_py`` for an Atari id
    not yet registered, ``gymnasium_robotics`` for a Fetch or Hand id), or None. The zoo chooses
    the module: an id names none."""
    if not isinstance(env_id, str):
        return None
    for pattern, module, what, install in KNOWN_ID_MODULES:
        if not pattern.fullmatch(env_id) or module in sys.modules:
            continue
        if importlib.util.find_spec(module) is None:
            raise ZooError(f"env {env_id!r} is {what}: {install}")
        return module
    return None


def gymnasium_id(env_id: str) -> str | None:
    """``env_id`` as an id in gymnasium's registry, matched exactly, else case-insensitively;
    None if gymnasium has no such env."""
    import gymnasium

    if env_id in gymnasium.registry:
        return env_id
    matches = [known for known in gymnasium.registry if known.lower() == env_id.lower()]
    return matches[0] if len(matches) == 1 else None


def import_gym_package(module: str, what: str | None = None) -> None:
    """Import ``module``, a package the user named that registers gymnasium envs when imported
    (``--gym-packages``, or the module part of a name: :func:`import_env_module`); a module that
    fails to import is one line. The gymnasium ids it registers are remembered (:func:`env_module`)."""
    if not isinstance(module, str) or not module.strip():
        raise ZooError(f"{what or 'a gym package'}: {module!r} is not a module name")
    if module in sys.modules:
        return
    import gymnasium

    before = set(gymnasium.registry)
    try:
        importlib.import_module(module)
    except Exception as exc:  # the user's module: say why it did not import, in one line
        raise ZooError(f"{what + ': module' if what else 'module'} {module!r} could not be imported: "
                       f"{one_line(exc)}") from None
    for gym_id in set(gymnasium.registry) - before:
        _MODULE_OF.setdefault(gym_id, module)


def env_module(gym_id: str) -> str | None:
    """The module imported at the user's request that registers ``gym_id``, if one did."""
    return _MODULE_OF.get(gym_id)


def not_imported(name: str, module: str) -> ZooError:
    """The refusal of a lookup of ``module:Id`` whose module is not imported."""
    return ZooError(f"env {name!r}: module {module!r} is not imported, and looking an env up never imports "
                    f"one: {how_to_import(module, name)}")


def env_name_from_file(name: Any, where: str) -> str:
    """``name``, an env name read from a file that ``where`` describes (``"checkpoint 'R':
    zoo.json"``), checked: a non-empty string whose module part, if any, is imported already.
    The zoo never imports a module that a file names; the message says how the user can."""
    if not isinstance(name, str) or not name.strip():
        raise ZooError(f"{where} names no env: its env is {_shown(name)}, not a name")
    module, _ = module_part(name)
    if module is None or module in sys.modules:
        return name
    if len(name) > _LONGEST or not is_module_name(module):
        raise ZooError(f"{where} names env {_shown(name)}, which is not an env name (what comes before ':' must "
                       "be a module)")
    raise ZooError(f"{where} names env {name!r}, whose module {module!r} would have to be imported, and the "
                   f"zoo never imports a module that a file names; if you trust it, {how_to_import(module, name)}")


#: Names longer than this are cut in messages (a file may hold anything).
_LONGEST = 200


def is_module_name(text: Any) -> bool:
    """Whether ``text`` could name a module (``ale_py``, ``pkg.sub``): what a message may suggest importing."""
    return isinstance(text, str) and len(text) <= _LONGEST and all(part.isidentifier() for part in text.split("."))


def _shown(value: Any) -> str:
    """``value`` for a message, never unbounded (a huge int has no repr at all)."""
    text = repr(value[:_LONGEST + 1]) if isinstance(value, str) else (
        repr(value) if value is None or isinstance(value, (bool, float)) else f"a {type(value).__name__}")
    return text if len(text) <= _LONGEST else text[:_LONGEST] + "..."
