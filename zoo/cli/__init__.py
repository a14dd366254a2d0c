"""The ``zoo`` command line: thin commands over the Python API.

:mod:`.app` holds the typer application and the one way errors are printed; each other module
is a group of commands: :mod:`.train`, :mod:`.evaluate` (eval, record), :mod:`.export`, :mod:`.plot`, :mod:`.hub` (push,
pull), :mod:`.plugins` (list, plugins, check), :mod:`.pretrained`, :mod:`.sweep`, :mod:`.tune`, :mod:`.bench`.
Plugins add theirs through the ``register_commands`` hook.
"""

from __future__ import annotations

import gc
import sys
import warnings

import typer

from zoo.cli import (  # noqa: F401  (each adds its commands)
    bench,
    evaluate,
    export,
    hub,
    plot,
    plugins,
    pretrained,
    sweep,
    train,
    tune,
)
from zoo.cli.app import EXIT_USER_ERROR, app, out, print_error, show_warning
from zoo.errors import ZooError

__all__ = ["app", "main"]


def main() -> None:
    """The ``zoo`` executable."""
    try:
        _run()
    finally:
        # The command is done; the process only exits now. At exit the interpreter's garbage
        # collector walks every object still alive, and torch alone leaves enough of them for
        # that to take 0.4-0.7 s. gc.freeze() moves them to the permanent generation, which
        # collections skip; atexit handlers, stream flushing and module teardown run as always.
        gc.freeze()


def _run() -> None:
    warnings.showwarning = show_warning
    from zoo.plugin_loader import loaded_plugins

    try:
        loaded_plugins().register_commands(app)
        code = app(standalone_mode=False, prog_name="zoo")
    except ZooError as exc:
        print_error(str(exc), exc)
        sys.exit(EXIT_USER_ERROR)
    except typer.Abort:
        print_error("aborted")
        sys.exit(130)
    except typer.TyperException as exc:
        # click's usage errors (bad option values, unknown options or commands) as one line,
        # like every other user error, instead of a multi-line usage box.
        if not hasattr(exc, "format_message"):
            raise
        ctx = getattr(exc, "ctx", None)
        if not exc.format_message() and ctx is not None:  # bare `zoo`: show the help
            out.print(ctx.get_help())
            sys.exit(0)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        print_error(exc.format_message() + hint, exc)
        sys.exit(getattr(exc, "exit_code", EXIT_USER_ERROR))
    sys.exit(code if isinstance(code, int) else 0)
