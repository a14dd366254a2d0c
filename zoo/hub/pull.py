"""``zoo pull``: a Hub repo into the standard Hugging Face cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.hub.errors import hub_errors
from zoo.hub.repo_ids import validate_repo_id, validate_revision


def pull(repo_id: str, revision: str | None = None) -> Path:
    """Download ``repo_id`` at ``revision`` into the Hugging Face cache (or find it there when
    offline) and return the snapshot folder."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import tqdm

    class NoFileCountBar(tqdm):
        # "Fetching N files" says nothing for a repo of a few small files, and would sit on
        # stderr above a one-line error. Large files still get their own download bars.
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "disable": True})

    validate_repo_id(repo_id)
    validate_revision(revision)
    with hub_errors(repo_id, revision):
        return Path(snapshot_download(repo_id, revision=revision, tqdm_class=NoFileCountBar))


