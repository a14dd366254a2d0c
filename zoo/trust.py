"""Files that hold pickles are loaded only when the user says they trust them.

Unpickling runs whatever code the file's author put in it. The zoo's own checkpoints are
safetensors + JSON and never need this; foreign formats (stable-baselines3 zips, the Deep RL
course's ``model.pt``) do.
"""

from __future__ import annotations

import warnings

from zoo.errors import ZooError

TRUST_FLAG = "--trust-remote-code"


class UnpicklingWarning(UserWarning):
    """A pickled file is being loaded because the user trusted it."""


def require_trust(what: str, trusted: bool) -> None:
    """Refuse to load ``what`` (a pickled file, named for the user) unless ``trusted``; when
    trusted, say so with an :class:`UnpicklingWarning`, since loading it runs its code."""
    if not trusted:
        raise ZooError(f"{what} holds pickled Python objects, which run code when loaded; refusing to load it. "
                       f"Pass {TRUST_FLAG} if you trust its author")
    warnings.warn(f"unpickling {what} because {TRUST_FLAG} was given: it runs the author's code",
                  UnpicklingWarning, stacklevel=2)
