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
    except KeyboardInterrupt:
        sys.stderr.write("depthview: interrupted\n")
        raise SystemExit(130) from None
    run()
