"""The ``depthview`` command: argument parsing and wiring only, one module per subcommand.

Each subcommand module has ``add_parser(subparsers)`` and ``run(args) -> int``. Every
``DepthviewError`` (and a bad option) becomes one line on stderr and exit code 2; anything
unexpected is exit code 1; Ctrl-C or SIGTERM ends a command cleanly with code 130.
"""

from __future__ import annotations

import argparse
import collections
import difflib
import importlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType, ModuleType

from ..errors import DepthviewError, cli_words
from ..soft_stop import SIGNALS, forget, repeated, signalled
from ..sources import KINDS

#: Help for a SOURCE argument, the same in every subcommand.
SOURCE_HELP = f"what to read: {KINDS}"

#: The exit code of a command ended by Ctrl-C or SIGTERM (128 + SIGINT, as shells say it).
INTERRUPTED = 130


#: Subcommands in help order; ``view`` is the default when the first word is not one of them.
COMMANDS = ("view", "record", "export", "convert", "stream", "scan", "info", "bench")


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line naming the bad option (its default is 2 lines)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _modules() -> dict[str, ModuleType]:
    found = {}
    for name in COMMANDS:
        try:
            found[name] = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return found


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    """The full parser, and the subcommand modules it dispatches to."""
    parser = _Parser(
        prog="depthview",
        description="See what a Kinect sees: depth in colour beside the camera image.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"depthview {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    modules = _modules()
    for module in modules.values():
        module.add_parser(sub)
    return parser, modules


#: Warnings printed in full; beyond these, each kind is only counted, then summed up at exit.
WARNINGS_SHOWN = 5


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """Print warnings as ``depthview: warning: ...`` lines (not Python's two-line format
    with a source line); after a few, count them by kind and say how many at the end."""
    counts: collections.Counter[str] = collections.Counter()

    def show(message: Warning | str, *args: object, **kwargs: object) -> None:
        text = " ".join(str(message).split())
        kind = text.split(":", 1)[0]
        counts[kind] += 1
        if counts[kind] <= WARNINGS_SHOWN:
            sys.stderr.write(f"depthview: warning: {one_line(cli_words(text))}\n")

    previous = warnings.showwarning
    warnings.showwarning = show
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = show
            yield
    finally:
        warnings.showwarning = previous
        for kind, n in counts.items():
            if n > WARNINGS_SHOWN:
                sys.stderr.write(f"depthview: warning: {kind}: {n} in all\n")


@contextmanager
def _rust_log_off() -> Iterator[None]:
    """Rerun's SDK logs its own failures (and Ctrl-C) as ERROR lines; the command line says
    each failure in one line of its own. A RUST_LOG the user set (``warn``) is kept."""
    if "RUST_LOG" in os.environ:
        yield
        return
    os.environ["RUST_LOG"] = "off"
    try:
        yield
    finally:
        os.environ.pop("RUST_LOG", None)


@contextmanager
def _interrupts_not_unraisable() -> Iterator[None]:
    """A stop signal met inside a library's callback (numba compiling calls back into
    Python) cannot rise from it: Python prints it as "Exception ignored ..." with a
    traceback. It is the interruption the command then says in one line: not printed."""
    hook = sys.unraisablehook

    def unraisable(info: sys.UnraisableHookArgs) -> None:
        if not isinstance(info.exc_value, KeyboardInterrupt):
            hook(info)

    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        sys.unraisablehook = hook


def _mistyped_command(word: str, commands: list[str]) -> str | None:
    """A first word that is close to a command's name and is no file, folder or source
    (``expor``, ``strem``): the message suggesting the command, else None (the viewer)."""
    if not word or word.startswith("-") or ":" in word or os.path.exists(word):
        return None
    from ..sources import NAMES  # demo, sample, kinect: words the viewer opens

    if word in NAMES:
        return None
    close = difflib.get_close_matches(word, commands, n=1, cutoff=0.75)
    if not close:
        return None
    return f"{word!r} is not a command, nor a file or source; did you mean {close[0]!r}?"


#: Characters that end a line (``str.splitlines``), shown escaped inside a message.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


def one_line(message: str) -> str:
    """An error is one line: a line break a user typed into a name shows escaped (``\\n``),
    so it cannot split the message or hide its start."""
    return message.translate(_LINE_BREAKS)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``depthview`` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser, modules = build_parser()
    if not args_list or (
        args_list[0] not in modules and args_list[0] not in ("-h", "--help", "--version")
    ):
        mistyped = _mistyped_command(args_list[0] if args_list else "", list(modules))
        if mistyped is not None:
            sys.stderr.write(f"depthview: error: {mistyped}\n")
            return 2
        args_list.insert(0, "view" if "view" in modules else next(iter(modules)))
    command = modules.get(args_list[0]) if args_list else None
    prepare = getattr(command, "prepare_argv", None)
    if prepare is not None:
        args_list = prepare(args_list)
    args = parser.parse_args(args_list)
    with _terminate_as_interrupt():
        return _run(modules[args.command], args)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (``kill``, ``timeout``, a service manager) ends a command as Ctrl-C does: what
    was made is kept, partial files go, one line says so, code 130. (A command that stops
    softly on Ctrl-C, as export and record do, takes SIGTERM alike while it writes.)"""

    if threading.current_thread() is not threading.main_thread():
        yield  # signals are the main thread's: nothing to change
        return
    forget()  # this command's signals only
    previous = {s: signal.signal(s, _interrupt) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C or SIGTERM: ``KeyboardInterrupt``, unless it repeats the one before
    (``soft_stop.repeated``: one request delivered twice, which would interrupt the ending
    of the first)."""
    if not repeated():
        raise KeyboardInterrupt


def _run(command: ModuleType, args: argparse.Namespace) -> int:
    try:
        with one_line_warnings(), _rust_log_off(), _interrupts_not_unraisable():
            return int(command.run(args))
    except DepthviewError as exc:
        sys.stderr.write(f"depthview: error: {one_line(cli_words(str(exc)))}\n")
        return 2
    except PermissionError as exc:  # a file or folder inside an input the user may not read
        where = exc.filename or "a file"
        sys.stderr.write(f"depthview: error: {where}: permission denied\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("depthview: interrupted\n")
        return INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception:
        if not signalled():
            raise
        # Ctrl-C or SIGTERM broke off a library's own work (numba compiling): said as the
        # interruption it is, not as a failure with a traceback (trial V)
        sys.stderr.write("depthview: interrupted\n")
        return INTERRUPTED


def entry() -> None:
    """``python -m depthview`` and the console script (``depthview_cli``). Ctrl-C before a
    command runs (the parser, its modules' imports) ends as it does later: one line, 130."""
    handled = threading.current_thread() is threading.main_thread()
    try:
        try:
            if handled:  # from the start: no moment with SIGTERM's default (killed, 143)
                for s in SIGNALS:
                    signal.signal(s, _interrupt)
            code = main()
        finally:
            if handled:  # the command has ended, its line said: nothing more is to stop,
                # and the exit handlers (logging's, Rerun's: bounded) are not broken into.
                # Ignored, not a handler of Python's, which Python gives back to the
                # default (killing: 143) as it finishes (trial X: SIGTERM just after
                # "exported"). Inside the try: a signal before this is the interruption
                # below, not a traceback in between (a race the tests met)
                for s in SIGNALS:
                    signal.signal(s, signal.SIG_IGN)
    except KeyboardInterrupt:
        sys.stderr.write("depthview: interrupted\n")
        code = INTERRUPTED
    _end_past_stuck_native_threads(code)
    raise SystemExit(code)


def _end_past_stuck_native_threads(code: int) -> None:
    """A Rerun connection still stuck on a receiver that takes no data (its wait bounded,
    said) would have Python's own ending break its native thread off with an abort (exit
    -6): with the command's line said, the process ends here with the command's code. The
    module is looked up, not imported: only a command that sent to Rerun has one."""
    rerun = sys.modules.get("depthview.sinks.rerun")
    if rerun is not None and rerun.stuck_at_exit():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
