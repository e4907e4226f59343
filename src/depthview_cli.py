"""The ``depthview`` console script, kept outside the package so that Ctrl-C or SIGTERM
while depthview is still being imported (a third of a second) ends it with one line and
code 130, as at any later moment, rather than a traceback from the middle of an import."""

from __future__ import annotations

import signal
import sys


def entry() -> None:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as Ctrl-C, until a command runs
    try:
        from depthview.cli import entry as run
    except BaseException as exc:  # Python wraps one met in a class body (__set_name__)
        if not _interrupted(exc):
            raise
        sys.stderr.write("depthview: interrupted\n")
        raise SystemExit(130) from None
    run()


def _interrupted(exc: BaseException | None) -> bool:
    """Whether ``exc`` is, or was caused by, Ctrl-C (or SIGTERM, raised as it)."""
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
