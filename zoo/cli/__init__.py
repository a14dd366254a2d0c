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
from collections.abc import Sequence

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
from zoo.cli.app import EXIT_USER_ERROR, app, os_error_text, out, print_error, show_warning
from zoo.exceptions import ZooError, one_line

__all__ = ["app", "main", "run"]


def run(args: Sequence[str] | None = None) -> int:
    """Run the command line on ``args`` (default: ``sys.argv[1:]``) and return its exit code.
    Whatever happens is at most one ``error:`` line on stderr: 2 for a user mistake (a bad
    name, value or path), 1 for a failure of the zoo itself (``ZOO_DEBUG=1`` shows its traceback)."""
    warnings.showwarning = show_warning
    from zoo.plugin_loader import loaded_plugins

    try:
        loaded_plugins().register_commands(app)
        code = app(args=None if args is None else list(args), standalone_mode=False, prog_name="zoo")
    except ZooError as exc:
        print_error(str(exc), exc)
        return EXIT_USER_ERROR
    except typer.Abort:
        print_error("aborted")
        return 130
    except typer.TyperException as exc:
        # click's usage errors (bad option values, unknown options or commands) as one line,
        # like every other user error, instead of a multi-line usage box.
        if not hasattr(exc, "format_message"):
            raise
        ctx = getattr(exc, "ctx", None)
        bare = type(exc).__name__ == "NoArgsIsHelpError" or not exc.format_message()
        if bare and ctx is not None:  # bare `zoo` (or a group): show the help
            out.print(ctx.get_help())
            return 0
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        print_error(exc.format_message() + hint, exc)
        return getattr(exc, "exit_code", EXIT_USER_ERROR)
    except OSError as exc:  # a place the user named cannot be read or written
        print_error(os_error_text(exc), exc)
        return EXIT_USER_ERROR
    except Exception as exc:  # a bug: still one line, and the way to see more
        print_error(f"internal error ({one_line(exc)}); ZOO_DEBUG=1 shows the traceback, please report it", exc)
        return 1
    return code if isinstance(code, int) else 0


def main() -> None:
    """The ``zoo`` executable."""
    try:
        code = run()
    finally:
        # The command is done; the process only exits now. At exit the interpreter's garbage
        # collector walks every object still alive, and torch alone leaves enough of them for
        # that to take 0.4-0.7 s. gc.freeze() moves them to the permanent generation, which
        # collections skip; atexit handlers, stream flushing and module teardown run as always.
        gc.freeze()
    sys.exit(code)
