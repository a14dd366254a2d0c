"""What is installed: the zoo's own distribution and the versions a run or a bug report needs.

Read from package metadata, so nothing heavy is imported to answer ``zoo --version``.
"""

from __future__ import annotations

import platform
from importlib import metadata

#: The zoo's distribution on PyPI (``agent-zoo`` there is an unrelated project); the import
#: name is ``zoo``.
DISTRIBUTION = "rl-agent-zoo"
#: The libraries a checkpoint records and ``zoo --version`` reports.
LIBRARIES = ("torch", "gymnasium", "numpy", "stable-baselines3", "huggingface-hub")


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def zoo_version() -> str:
    return installed_version(DISTRIBUTION) or "0+unknown"


def package_versions() -> dict[str, str]:
    """Python, the libraries and the zoo, by name, as installed (missing ones left out)."""
    versions = {"python": platform.python_version()}
    for name in (*LIBRARIES, DISTRIBUTION):
        version = installed_version(name)
        if version is not None:
            versions[name] = version
    return versions
