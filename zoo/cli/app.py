"""The ``zoo`` typer application, its two consoles and the one way errors and warnings are shown.

Every command is added with :func:`command`, which turns a :class:`ZooError` into one
``error:`` line on stderr and exit code 2. ``ZOO_DEBUG=1`` prints the full traceback first.

The consoles outlive their readers: when the reader of stdout or stderr goes away (``zoo list |
head -1``, ``zoo train ... 2>&1 | head``), that console prints nothing more and its stream goes to
/dev/null (Python's advice on SIGPIPE, docs.python.org/3/library/signal.html#note-on-sigpipe). A
command whose only product is what it prints (``output_only``: ``zoo list``) then stops quietly
with exit code 141 (128 + SIGPIPE, as a filter killed by SIGPIPE); any other carries on, so a
training run still saves its checkpoints and curve.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any

import typer
from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from zoo.exceptions import ZooError, one_line

app = typer.Typer(
    name="zoo",
    help="agent-zoo: train, evaluate, record and share reinforcement-learning agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help text is shown as written: a plugin command's help holding "[/x]" must not break
    # `zoo --help` for everyone.
    rich_markup_mode=None,
    # -h as well as --help, as rl_zoo3's scripts (argparse) take it; subcommands inherit it.
    context_settings={"help_option_names": ["-h", "--help"]},
)
EXIT_USER_ERROR = 2
#: A listing whose reader went away: the code of a process killed by SIGPIPE, as shells report it.
EXIT_READER_GONE = 128 + signal.SIGPIPE
DEBUG_VAR = "ZOO_DEBUG"


class ReaderGone(Exception):
    """Nobody reads the output of a command whose only product is its output: it stops."""


#: Whether the running command's only product is what it prints (see :func:`command`).
_output_only = False


def to_devnull(stream: Any) -> None:
    """Point ``stream``'s file descriptor at /dev/null: later writes to it, by anyone (Python's
    final flush included), succeed and go nowhere."""
    with contextlib.suppress(AttributeError, OSError, ValueError):  # no descriptor: a test's buffer
        fd = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


class OutputConsole(Console):
    """A console whose reader may go away (see the module docstring)."""

    def on_broken_pipe(self) -> None:  # rich's hook; its default exits with code 1, silently
        self.quiet = True
        to_devnull(self.file)
        if _output_only and not self.stderr:
            raise ReaderGone()


# Markup is off by default: most of what is printed holds text from users, plugins or the Hub,
# where "[/x]" must print as it is, not raise or vanish. Styled lines ask for it (markup=True)
# and escape what they insert.
out = OutputConsole(soft_wrap=True, markup=False)  # long lines (paths, summaries) stay whole when piped
err = OutputConsole(stderr=True, markup=False)


def debugging() -> bool:
    return os.environ.get(DEBUG_VAR, "").strip().lower() not in ("", "0", "false", "no", "off")


def print_error(message: str, exc: BaseException | None = None) -> None:
    """``error: MESSAGE`` on stderr, as one line whatever the message holds (text from users,
    plugins or the Hub is escaped, never read as markup); with ``ZOO_DEBUG=1``, ``exc``'s
    traceback first."""
    if exc is not None and debugging():
        err.print("".join(traceback.format_exception(exc)), markup=False, highlight=False, soft_wrap=True, end="")
    err.print(f"[red]error:[/] {escape(_single_line(message))}", markup=True, highlight=False, soft_wrap=True)


def print_warning(message: Any) -> None:
    """``warning: MESSAGE`` on stderr, one line, escaped."""
    err.print(f"[yellow]warning:[/] {escape(_single_line(str(message)))}", markup=True, highlight=False,
              soft_wrap=True)


def _single_line(text: str) -> str:
    """``text`` with its line breaks (every one ``str.splitlines`` knows) shown as ``\\n``: a
    message that echoes a name or a file's key holding one is still one line."""
    return "\\n".join(text.splitlines())


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A ``warnings.showwarning`` that prints one line, without the source location."""
    print_warning(message)


def os_error_text(exc: OSError) -> str:
    """A filesystem error the zoo did not foresee, as one line: what failed, and on which path."""
    if exc.strerror and exc.filename is not None:
        return f"{exc.strerror}: {str(exc.filename)!r}" + (f" -> {str(exc.filename2)!r}" if exc.filename2 else "")
    return one_line(exc)


def user_errors(command: Callable, output_only: bool = False) -> Callable:
    """Turn a :class:`ZooError`, or a filesystem error (an unwritable or missing place the
    user named), into one line on stderr and exit code 2 (no traceback). ``output_only``: the
    command's only product is what it prints (see the module docstring)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _output_only
        _output_only = output_only
        try:
            return command(*args, **kwargs)
        except ZooError as exc:
            print_error(str(exc), exc)
            raise typer.Exit(EXIT_USER_ERROR) from None
        except BrokenPipeError:  # written to past rich (click's own echo): the reader is gone
            to_devnull(sys.stdout)
            raise ReaderGone() from None
        except OSError as exc:
            print_error(os_error_text(exc), exc)
            raise typer.Exit(EXIT_USER_ERROR) from None
        finally:
            _output_only = False

    return wrapper


def command(*args: Any, output_only: bool = False, **kwargs: Any) -> Callable:
    """``app.command`` with user-error handling; use it for every zoo command. ``output_only``
    for a command whose only product is what it prints (a listing): it stops when its reader
    goes away; any other command carries on without its output."""

    def decorate(fn: Callable) -> Callable:
        return app.command(*args, **kwargs)(user_errors(fn, output_only))

    return decorate


def _print_versions(value: bool) -> None:
    if not value:
        return
    from zoo.plugin_loader import loaded_plugins
    from zoo.versions import DISTRIBUTION, package_versions

    versions = package_versions()
    out.print(f"{DISTRIBUTION} {versions.pop(DISTRIBUTION, 'not installed')} (import name zoo)", markup=False)
    for name, version in versions.items():
        out.print(f"{name} {version}", markup=False, highlight=False)
    for plugin in loaded_plugins().plugins:
        state = f" failed: {plugin.error}" if plugin.error else ""
        source = f"{plugin.distribution} {plugin.version}".strip() or plugin.module
        out.print(f"plugin {plugin.name} ({source}){state}", markup=False, highlight=False)
    raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_versions,
                                          help="show the versions of the zoo, its libraries and plugins")] = False,
) -> None:
    """agent-zoo: train, evaluate, record and share reinforcement-learning agents."""


def import_env_names(value: Any) -> Any:
    """Callback of the arguments and options that name envs (``--envs A,B`` too): the module of
    a ``module:Id`` name the user typed is imported now, which registers the env. Only what the
    user types imports a module; names read from files never do (see :mod:`zoo.env_names`)."""
    from zoo.env_names import import_env_module

    for name in (value.split(",") if isinstance(value, str) else ()):
        try:
            import_env_module(name.strip())
        except ZooError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


def _import_gym_packages(value: list[str] | None) -> list[str] | None:
    from zoo.env_names import import_gym_package

    for module in value or ():
        try:
            import_gym_package(module, "--gym-packages")
        except ZooError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


#: ``--gym-packages MODULE``: what rl-baselines3-zoo users pass to have a package that registers
#: its envs on import imported first; needed where no ``module:Id`` name can be typed (``--resume``,
#: a checkpoint's env). The one way, with a typed ``module:Id`` name, that a command imports a module.
GymPackages = Annotated[list[str] | None, typer.Option(
    "--gym-packages", metavar="MODULE", callback=_import_gym_packages,
    help="import MODULE first, a package that registers gymnasium envs when imported (as rl-baselines3-zoo's "
    "--gym-packages); repeatable")]
Seed = Annotated[int, typer.Option(help="random seed (same seed, same result)")]
MaxSteps = Annotated[int | None, typer.Option("--max-steps", min=1,
                     help="cap on steps per episode (envs without a time limit default to 10000)")]
SetOption = Annotated[list[str] | None, typer.Option("--set", metavar="KEY=VALUE",
                      help="override a hyperparameter; repeatable")]
AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output")]


#: On a narrow terminal a column narrows down to its longest word, up to this: a longer word
#: (a URL) is folded rather than widening the table.
LONGEST_WHOLE_WORD = 30


class WholeTable:
    """A table shown so that no cell is cut: in a pipe at its natural width (a reader greps
    whole rows); on a terminal at the terminal's width, wrapping between words, or wider than
    the terminal (which then wraps the lines) rather than cutting words."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterable[Segment]:
        needed = Measurement.get(console, options.update_width(1_000_000), self.table)
        width = max(options.max_width, needed.minimum) if console.is_terminal else needed.maximum
        yield from console.render(self.table, options.update_width(width))


def plain_table(title: str, columns: list[str], rows: list[list[Any]], names: int = 1) -> RenderableType:
    """A table whose cells are shown as they are (names and descriptions come from plugins and
    users, never read as markup). The first ``names`` columns hold names one has to type: they are
    never cut or wrapped; on a narrow terminal the other columns wrap between words instead, and
    in a pipe nothing wraps (:class:`WholeTable`). Print it with a console that soft-wraps
    (:data:`out`): its lines may be wider than the terminal."""
    cells = [[str(cell) for cell in row] for row in rows]
    table = Table(title=title)
    for i, column in enumerate(columns):
        lines = [line for row in cells for line in row[i].splitlines()]
        if i < names:
            widest = max((len(line) for line in lines), default=0)
            table.add_column(column, no_wrap=True, min_width=max(widest, len(column)))
        else:
            longest_word = max((len(word) for line in (column, *lines) for word in line.split()), default=1)
            table.add_column(column, overflow="fold", min_width=min(longest_word, LONGEST_WHOLE_WORD))
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))
    return WholeTable(table)


def print_markdown(text: str) -> None:
    """Markdown (a summary's tables) on stdout: laid out on a terminal; in a pipe as written,
    where rich would cut its tables' cells to 80 columns ("reinfor…")."""
    if not out.is_terminal:
        out.print(text, markup=False, highlight=False, soft_wrap=True, end="" if text.endswith("\n") else "\n")
        return
    from rich.markdown import Markdown  # markdown-it and friends: only when a table is laid out

    out.print(Markdown(text))


#: ``show(stage, done, total)``: move the bar of ``stage`` (``total`` None: not known yet).
ShowStage = Callable[[str, float, "float | None"], None]


@contextlib.contextmanager
def stage_progress() -> Iterator[ShowStage]:
    """Progress bars on stderr for a command that works in stages (evaluating, recording,
    uploading), one bar per stage, added when the stage first reports. Transient: the bars
    are for watching; what the command prints afterwards is what stays (and a pipe gets none)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # No bars without a terminal: there they would only print a blank line when they stop.
    with Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bars:
        tasks: dict[str, Any] = {}

        def show(stage: str, done: float, total: float | None) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(escape(stage), total=total)
            bars.update(tasks[stage], completed=done, total=total)

        yield show

