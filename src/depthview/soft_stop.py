"""Ctrl-C and SIGTERM as a request to stop, for work that must end its files normally.

``record`` and ``export`` keep what they made when interrupted: while they write, the two
signals call ``stop`` instead of raising ``KeyboardInterrupt`` in the middle of a file.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_on_signal(stop: Callable[[int], None], *, once: bool) -> Iterator[None]:
    """While inside, Ctrl-C or SIGTERM calls ``stop(signum)``. With ``once``, the first
    signal also gives the earlier handlers back, so that a second one interrupts at once.
    Only the main thread can take signals: elsewhere, a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: Any) -> None:
        if once:
            restore()
        stop(signum)

    def restore() -> None:
        for s, handler in previous.items():
            signal.signal(s, handler)

    previous = {s: signal.signal(s, on_signal) for s in SIGNALS}
    try:
        yield
    finally:
        restore()
