"""Hub format: stable-baselines3 models published with ``huggingface_sb3`` (``{algo}-{env}.zip``,
optionally with ``vec_normalize.pkl``), run as the matching ``sb3-{algo}`` agent.

Both files are pickles: they load only when the user trusts the repo. The algorithm the name says
must be the one the zip's JSON shows (:mod:`zoo.agents.sb3_files` reads and loads it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from zoo import HubPolicy, HubRepo
from zoo.agents.sb3_files import ALGORITHMS as _LOADED

#: Algorithms whose zips the zoo can load (rl-baselines3-zoo's names; sb3-contrib's need it installed).
ALGORITHMS = tuple(_LOADED)
VEC_NORMALIZE_FILE = "vec_normalize.pkl"
_ZIP = re.compile(rf"^({'|'.join(ALGORITHMS)})-(.+)\.zip$")


def detect(files: Sequence[str]) -> bool:
    return any(_ZIP.match(name) for name in files if "/" not in name)


def load(repo: HubRepo) -> HubPolicy:
    from zoo.agents.sb3_files import load_sb3_zip

    zip_name = next(name for name in repo.top_files if _ZIP.match(name))
    algo, env_in_name = _ZIP.match(zip_name).groups()
    stats = VEC_NORMALIZE_FILE if VEC_NORMALIZE_FILE in repo.files else None
    return load_sb3_zip(repo, zip_name, [repo.card_env(), env_in_name], vec_normalize_name=stats, named_algorithm=algo)
