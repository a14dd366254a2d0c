"""Loading what a Hub repo holds into a policy, whatever its layout; and the same layouts from
disk (:func:`load_local_policy`: an SB3 zip or an rl-baselines3-zoo log folder on this machine).

The zoo's own format (``zoo.json`` + ``model.safetensors``) is built in. Every other layout is
a *Hub format* that a plugin registers with the ``register_hub_formats`` hook: a ``detect``
function that recognises the repo from its file list, and a ``load`` function that turns the
downloaded repo (a :class:`HubRepo`) into a :class:`HubPolicy`. The built-in agent plugins
register the stable-baselines3 zip and the Deep RL course ``model.pt`` this way. A format that
unpickles must call :meth:`HubRepo.require_trust` first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zoo import checkpoint as ckpt
from zoo.entries import load_object
from zoo.env_names import import_env_module
from zoo.exceptions import ZooError, one_line
from zoo.factory import agent_entry, find_env, load_policy, recorded_env
from zoo.hub.errors import revision_text
from zoo.hub.pull import pull
from zoo.hub_format import HubFormatEntry, HubPolicy, HubRepo
from zoo.plugin_loader import loaded_plugins

#: The name of the zoo's own format, which needs no plugin.
ZOO_FORMAT = "agent-zoo"


def is_zoo_repo(files: list[str]) -> bool:
    return ckpt.META_FILE in [name for name in files if "/" not in name]


def load_zoo_repo(repo: HubRepo) -> HubPolicy:
    """An agent-zoo checkpoint: safetensors + JSON, never a pickle."""
    folder = repo.folder

    def about_the_repo(exc: ZooError) -> str:
        # The checkpoint's messages name the cache folder; it is the repo that they are about.
        return str(exc).replace(f"checkpoint {str(folder)!r}", "its checkpoint").replace(repr(str(folder)), "it")

    try:
        meta = ckpt.read_meta(folder)
    except ZooError as exc:
        raise ZooError(f"{about_the_repo(exc)} (ask its author to push it again, or pick another --revision)") from None
    repo.check_agent(meta["agent"], ZOO_FORMAT)
    if repo.env is not None and find_env(repo.env).name != recorded_env(meta, f"its {ckpt.META_FILE}").name:
        raise ZooError(f"it holds a model for env {meta['env']!r}, not {repo.env!r}")
    try:
        loaded = load_policy(folder)
    except ZooError as exc:
        raise ZooError(about_the_repo(exc)) from None
    agent = agent_entry(meta["agent"]).name
    return HubPolicy(loaded, find_env(meta["env"]).name, f"{agent} from {repo.label}", agent=agent)


def _function(entry: HubFormatEntry, target: Any, what: str) -> Callable[..., Any]:
    """A format's ``detect`` or ``load`` function, imported if it is a ``"module:function"`` string."""
    try:
        function = load_object(target)
    except Exception as exc:  # imported lazily, so a broken module surfaces only here
        raise ZooError(f"Hub format {entry.name!r} (plugin {entry.plugin or 'unknown'}): its {what} could not "
                       f"be loaded: {one_line(exc)}") from exc
    if not callable(function):
        raise ZooError(f"Hub format {entry.name!r} (plugin {entry.plugin or 'unknown'}): its {what} is not callable")
    return function


def detects(entry: HubFormatEntry, files: list[str]) -> bool:
    """Whether a repo with ``files`` is in ``entry``'s format."""
    detect = _function(entry, entry.detect, "detect function")
    try:
        return bool(detect(list(files)))
    except ZooError:
        raise
    except Exception as exc:  # a plugin's bug must not hide the other formats' verdicts
        raise ZooError(f"Hub format {entry.name!r} (plugin {entry.plugin or 'unknown'}) failed to inspect "
                       f"the repo: {one_line(exc)}") from exc


def _detected_format(files: list[str]) -> tuple[str, Any]:
    """The name and loader of the format of a repo with ``files``: the zoo's own first, then
    the plugins' formats in the order they registered."""
    if is_zoo_repo(files):
        return ZOO_FORMAT, load_zoo_repo
    formats = list(loaded_plugins().hub_formats)
    for entry in formats:
        if detects(entry, files):
            return entry.name, _function(entry, entry.load, "load function")
    known = [f"{ckpt.META_FILE} + {ckpt.WEIGHTS_FILE} ({ZOO_FORMAT})",
             *(f"{entry.description or entry.name} ({entry.name})" for entry in formats)]
    expected = known[0] if len(known) == 1 else f"{', '.join(known[:-1])} or {known[-1]}"
    raise ZooError(f"no model the zoo can load: expected {expected}; found {', '.join(sorted(files)) or 'no files'}")


def load_hub_policy(repo_id: str, *, revision: str | None = None, trust_remote_code: bool = False,
                    agent: str | None = None, env: str | None = None) -> HubPolicy:
    """Pull ``repo_id`` and load its policy with the format that recognises it. ``agent`` and
    ``env``, when given, must match what the repo holds (``env`` also picks the env for a model
    that does not name a registered one)."""
    import_env_module(env)  # the caller's own name: its module, if it names one, is imported
    folder = pull(repo_id, revision)
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    repo = HubRepo(repo_id, revision, folder, files, trust_remote_code, agent, env, find_env=find_env,
                   find_agent=agent_entry)
    try:
        return _load_repo(repo)
    except ZooError as exc:  # name the repo, once
        message = str(exc)
        raise ZooError(message if repo_id in message
                       else f"Hub repo {repo_id!r}{revision_text(revision)}: {message}") from None


def _load_repo(repo: HubRepo) -> HubPolicy:
    name, load = _detected_format(repo.files)
    try:
        loaded = load(repo)
    except ZooError:
        raise
    except Exception as exc:  # a format plugin's bug, or a file it could not parse
        raise ZooError(f"the {name} format could not load it: {one_line(exc)}") from exc
    if not isinstance(loaded, HubPolicy):
        raise ZooError(f"the {name} format returned {type(loaded).__name__}, not a HubPolicy")
    return dataclasses.replace(loaded, layout=name)


#: At most this many files of a folder are listed to recognise its layout.
MAX_LOCAL_FILES = 10_000
#: Files beside a named file that describe it: rl-baselines3-zoo's ``ENV/config.yml``,
#: ``ENV/args.yml`` and ``ENV/vecnormalize.pkl``, and statistics next to a zip.
_CONTEXT = ("*/config.yml", "*/args.yml", "*/vecnormalize.pkl", "vecnormalize.pkl", "vec_normalize.pkl")


def local_files(path: Path) -> tuple[Path, list[str]]:
    """The folder and files (relative, ``/``-separated) that a Hub format sees of ``path``: a
    folder's files; for a file, that file beside the files of its folder that describe it."""
    if path.is_dir():
        files = []
        for p in sorted(path.rglob("*")):
            if p.is_file():
                files.append(p.relative_to(path).as_posix())
                if len(files) >= MAX_LOCAL_FILES:
                    break
        return path, files
    folder = path.parent
    context = {p.relative_to(folder).as_posix() for pattern in _CONTEXT for p in folder.glob(pattern) if p.is_file()}
    return folder, sorted({path.name} | context)


def local_format(path: Path) -> str:
    """The name of the format that reads ``path`` (a file or folder that is no zoo checkpoint),
    decided from file names alone; a one-line error if none does."""
    folder, files = local_files(path)
    try:
        return _detected_format([name for name in files if name != ckpt.META_FILE])[0]
    except ZooError as exc:
        raise ZooError(f"{str(path)!r} is neither a zoo checkpoint or run folder nor a model in a layout the zoo "
                       f"reads: {exc}") from None


def load_local_policy(path: str | Path, *, trust_remote_code: bool = False, agent: str | None = None,
                      env: str | None = None) -> HubPolicy:
    """Load the policy at ``path``, a file or folder in another library's layout (an SB3 zip, an
    rl-baselines3-zoo log folder: the Hub formats the plugins register), as :func:`load_hub_policy`
    loads a Hub repo."""
    import_env_module(env)
    path = Path(path)
    folder, files = local_files(path)
    repo = HubRepo(str(path), None, folder, files, trust_remote_code, agent, env, find_env=find_env,
                   find_agent=agent_entry, where=str(path))
    try:
        return _load_repo(repo)
    except ZooError as exc:
        message = str(exc)
        raise ZooError(message if str(path) in message else f"{str(path)!r}: {message}") from None
