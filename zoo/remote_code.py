"""Files that hold pickles are loaded only when the user says they trust them.

Unpickling runs whatever code the file's author put in it. The zoo's own checkpoints are
safetensors + JSON and never need this; foreign formats (stable-baselines3 zips, the Deep RL
course's ``model.pt``) do. Trust is given per command with ``--trust-remote-code``, or for a
whole session with ``ZOO_TRUST_REMOTE_CODE=1`` (for scripts that load known repos). Public as
``zoo.require_trust`` and ``zoo.UnpicklingWarning``.
"""

from __future__ import annotations

import os
import warnings

from zoo.exceptions import ZooError

TRUST_FLAG = "--trust-remote-code"
TRUST_ENV = "ZOO_TRUST_REMOTE_CODE"


class UnpicklingWarning(UserWarning):
    """A pickled file is being loaded because the user trusted it."""


def trusted_by_environment() -> bool:
    """Whether ``ZOO_TRUST_REMOTE_CODE`` is set to a true value (1, true, yes, on)."""
    return os.environ.get(TRUST_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def require_trust(what: str, trusted: bool) -> None:
    """Refuse to load ``what`` (a pickled file, named for the user) unless ``trusted`` or
    ``ZOO_TRUST_REMOTE_CODE`` is set; when trusted, say so with an :class:`UnpicklingWarning`,
    since loading it runs its code."""
    if trusted:
        how = f"{TRUST_FLAG} was given"
    elif trusted_by_environment():
        how = f"{TRUST_ENV} is set"
    else:
        raise ZooError(f"{what} holds pickled Python objects, which run code when loaded; refusing to load it. "
                       f"Pass {TRUST_FLAG} (or set {TRUST_ENV}=1) if you trust its author")
    warnings.warn(f"unpickling {what} because {how}: it runs the author's code", UnpicklingWarning, stacklevel=2)
