"""Hugging Face Hub failures as one line each, naming the repo and what to do.

The token comes from wherever huggingface_hub finds it (``HF_TOKEN``, ``hf auth login``); the
zoo never reads, prints or writes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from zoo.exceptions import ZooError


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _network_errors() -> tuple[type[BaseException], ...]:
    # huggingface_hub's HTTP client raises these for a refused connection or a timeout.
    errors: list[type[BaseException]] = []
    for name in ("httpx2", "httpx"):
        with contextlib.suppress(ImportError):
            errors.append(__import__(name).TransportError)
    return tuple(errors)


def revision_text(revision: str | None) -> str:
    return f" at revision {revision!r}" if revision else ""


def _login_hint() -> str:
    return "set HF_TOKEN or run `hf auth login`"


@contextlib.contextmanager
def hub_errors(repo_id: str, revision: str | None = None, filename: str | None = None) -> Iterator[None]:
    """Turn huggingface_hub's exceptions into one-line ZooErrors naming ``repo_id``."""
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"Hub repo {repo_id!r}{revision_text(revision)}"
    try:
        yield
    except RevisionNotFoundError:
        raise ZooError(f"Hub repo {repo_id!r} has no revision {revision!r}: pass an existing branch, tag or "
                       "commit with --revision") from None
    except RepositoryNotFoundError:
        raise ZooError(f"Hub repo {repo_id!r} was not found at {_endpoint()}: check the name, or if it is "
                       f"private, {_login_hint()} with a token that can read it") from None
    except LocalEntryNotFoundError as exc:
        if constants.HF_HUB_OFFLINE or isinstance(exc.__cause__, OfflineModeIsEnabled):
            raise ZooError(f"{where} is not in the Hugging Face cache ({constants.HF_HUB_CACHE}) and "
                           f"HF_HUB_OFFLINE is set: run `zoo pull {repo_id}` while online first") from None
        if isinstance(exc.__cause__, HfHubHTTPError) and exc.__cause__.response is not None:
            raise _http_error(exc.__cause__, repo_id, where) from None
        missing = f"has no file {filename!r}" if filename else "could not be downloaded"
        if isinstance(exc.__cause__, _network_errors()):
            raise ZooError(f"cannot reach the Hub at {_endpoint()} to fetch {repo_id!r}: check your network "
                           "connection and HF_ENDPOINT, or use a model already in the cache") from None
        raise ZooError(f"{where} {missing}: {str(exc).splitlines()[-1]}") from None
    except EntryNotFoundError:
        raise ZooError(f"{where} has no file {filename!r}: is it the right repo?") from None
    except OfflineModeIsEnabled:
        raise ZooError(f"HF_HUB_OFFLINE is set, so {repo_id!r} cannot be reached: unset it to use the Hub") from None
    except HfHubHTTPError as exc:
        raise _http_error(exc, repo_id, where) from None
    except _network_errors():
        raise ZooError(f"cannot reach the Hub at {_endpoint()} for {repo_id!r}: check your network connection "
                       "and HF_ENDPOINT") from None
    except OSError as exc:  # the cache: HF_HOME under a file, not writable, disk full
        raise ZooError(f"{where}: cannot use the Hugging Face cache at {constants.HF_HUB_CACHE} "
                       f"({exc.strerror or type(exc).__name__}: {exc.filename or exc}); set HF_HOME to a folder "
                       "you can write") from None
    except ValueError as exc:  # what the repo holds, refused by the client (a file named '../x')
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ZooError(f"{where} holds something the Hugging Face client refuses: {first}") from None


def _http_error(exc: Any, repo_id: str, where: str) -> ZooError:
    status = exc.response.status_code if exc.response is not None else None
    if status == 401:
        return ZooError(f"the Hub at {_endpoint()} rejected your token for {repo_id!r} (401 unauthorised): "
                        f"{_login_hint()} with a valid token")
    if status == 403:
        return ZooError(f"your token may not write to {repo_id!r} (403 forbidden): use a token with write "
                        "access to that namespace")
    message = (exc.server_message or str(exc)).strip().splitlines()
    return ZooError(f"{where}: the Hub answered {status}: {message[0] if message else 'no details'}")


