"""The ``zoo`` command line: thin commands over the Python API.

:mod:`.app` holds the typer application and the one way errors are printed; each other module
is a group of commands: :mod:`.train`, :mod:`.evaluate` (eval, record), :mod:`.export`, :mod:`.plot`, :mod:`.hub` (push,
pull), :mod:`.plugins` (list, plugins, check), :mod:`.pretrained`, :mod:`.sweep`, :mod:`.tune`, :mod:`.bench`.
Plugins add theirs through the ``register_commands`` hook.
"""

from __future__ import annotations

import codecs
import contextlib
import gc
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence

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
from zoo.cli.app import (
    EXIT_READER_GONE,
    EXIT_USER_ERROR,
    ReaderGone,
    app,
    err,
    os_error_text,
    out,
    print_error,
    show_warning,
    to_devnull,
)
from zoo.exceptions import ZooError, one_line

__all__ = ["app", "main", "run"]


class Terminated(BaseException):
    """SIGTERM arrived: the command unwinds as it would for Ctrl-C (what it was writing is
    removed by its own clean-up), then the process exits with 128 + SIGTERM."""


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` while a command runs (Python's default would end the
    process at once, leaving temporary files behind). Commands that stop more gently on SIGTERM
    (``zoo train`` saves a checkpoint first) put their own handler in place meanwhile."""
    if threading.current_thread() is not threading.main_thread():  # handlers are the main thread's
        yield
        return

    def unwind(signum, frame):  # noqa: ARG001
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, unwind)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


#: How text the console cannot encode is shown (an ASCII console: ``PYTHONIOENCODING=ascii``, ``LC_ALL=C``).
CONSOLE_ERRORS = "zoo-console"
#: Plain spellings of the few symbols the zoo prints itself.
_PLAIN = {"±": "+/-", "…": "...", "×": "x", "→": "->", "—": "-", "–": "-", "≤": "<=", "≥": ">=", "•": "*"}


def _console_text(error: UnicodeError) -> tuple[str | bytes, int]:
    """A codec error handler: the zoo's own symbols in plain ASCII, bytes that were not UTF-8 in
    a name (decoded by ``surrogateescape``) as those bytes, anything else as a ``\\u`` escape."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    char = error.object[error.start]
    if "\udc80" <= char <= "\udcff":
        return bytes([ord(char) - 0xDC00]), error.start + 1
    return _PLAIN.get(char, char.encode("ascii", "backslashreplace").decode("ascii")), error.start + 1


def _console_degrades() -> None:
    """The console shows what it cannot encode in plain text instead of failing on it."""
    codecs.register_error(CONSOLE_ERRORS, _console_text)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):  # replaced, or closed
            stream.reconfigure(errors=CONSOLE_ERRORS)


def run(args: Sequence[str] | None = None) -> int:
    """Run the command line on ``args`` (default: ``sys.argv[1:]``) and return its exit code.
    Whatever happens is at most one ``error:`` line on stderr: 2 for a user mistake (a bad
    name, value or path), 1 for a failure of the zoo itself (``ZOO_DEBUG=1`` shows its traceback)."""
    warnings.showwarning = show_warning
    out.quiet = err.quiet = False  # a reader that went away in an earlier run() is not this one's
    from zoo.plugin_loader import loaded_plugins

    try:
        with _sigterm_unwinds():
            loaded_plugins().register_commands(app)
            code = app(args=None if args is None else list(args), standalone_mode=False, prog_name="zoo")
    except ReaderGone:  # `zoo list | head -1`: the reader has what it wanted
        return EXIT_READER_GONE
    except BrokenPipeError:  # the same, for what click prints itself (`zoo --help | head -1`)
        to_devnull(sys.stdout)
        return EXIT_READER_GONE
    except Terminated:
        print_error("stopped by SIGTERM")
        return 128 + signal.SIGTERM
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
    _console_degrades()
    try:
        code = run()
    finally:
        # The command is done; the process only exits now. At exit the interpreter's garbage
        # collector walks every object still alive, and torch alone leaves enough of them for
        # that to take 0.4-0.7 s. gc.freeze() moves them to the permanent generation, which
        # collections skip; atexit handlers, stream flushing and module teardown run as always.
        gc.freeze()
    sys.exit(code)
