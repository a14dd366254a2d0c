"""Hugging Face Hub repo ids, checked before any request is made."""

from __future__ import annotations

import re

from zoo.exceptions import ZooError


def validate_repo_id(repo_id: str) -> str:
    """``repo_id`` if it is a valid ``ORG/NAME`` Hub model id, else a one-line :class:`ZooError`.

    huggingface_hub's own validator decides what a valid name is; the zoo additionally requires
    the namespace, so that a push never lands in an account the user did not name.
    """
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id as hf_validate

    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        raise ZooError(f"Hub repo id {repo_id!r} must be ORG/NAME, e.g. 'my-user/reinforce-CartPole-v1'")
    try:
        hf_validate(repo_id)
    except HFValidationError as exc:
        reason = str(exc).split(":")[0].rstrip(".")
        raise ZooError(f"Hub repo id {repo_id!r} is not valid: {reason}") from None
    return repo_id


#: What git refuses in a ref name (``git check-ref-format``), and so the Hub in a branch or tag.
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|^/|/$|^\.|/\.|\.lock(/|$)|\.$|^@$|^-")


def validate_revision(revision: str | None) -> str | None:
    """``revision`` if it can name a branch, tag or commit (git's ref-name rules), else a
    one-line :class:`ZooError`, raised before any request is made."""
    if revision is None:
        return None
    if not isinstance(revision, str) or not revision or len(revision) > 255 or _BAD_REF.search(revision):
        shown = repr(revision) if len(str(revision)) <= 60 else repr(str(revision)[:57] + "...")
        raise ZooError(f"--revision {shown} is not a valid branch, tag or commit name: no '..', spaces, "
                       "control characters, ~^:?*[\\ or '@{', and no '/' or '.' at either end")
    return revision
