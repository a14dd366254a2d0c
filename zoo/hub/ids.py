"""Hugging Face Hub repo ids, checked before any request is made."""

from __future__ import annotations

from zoo.errors import ZooError


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
