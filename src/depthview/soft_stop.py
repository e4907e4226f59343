"""Ctrl-C and SIGTERM as a request to stop, for work that must end its files normally.

``record`` and ``export`` keep what they made when interrupted: while they write, the first
of the two signals calls ``stop`` instead of raising ``KeyboardInterrupt`` in the middle of
a file, and the work ends after the frame being written. A flag alone is not enough where
the next frame never comes (a read blocked in the kernel, a Kinect that went quiet: trial O
met an ``open`` of a named pipe that waited for ever, SIGTERM swallowed), so:

- a signal while the frames are waited for (``until_stopped``) ends the wait at once: the
  frame being read is not written, the writer finishes its file with the frames before it;
- the first signal gives the earlier handlers back, so a second one interrupts at once
  wherever the work is.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

SIGNALS = (signal.SIGINT, signal.SIGTERM)
T = TypeVar("T")

#: The main thread is waiting for the next frame (``until_stopped``): a stop signal raises.
_waiting = False


class _StopWaiting(KeyboardInterrupt):
    """A stop signal met while the next frame was waited for (``until_stopped`` ends there;
    anywhere else it is Ctrl-C's ``KeyboardInterrupt``)."""


@contextlib.contextmanager
def stop_on_signal(stop: Callable[[int], None]) -> Iterator[None]:
    """While inside, Ctrl-C or SIGTERM calls ``stop(signum)`` (and ends a wait for the next
    frame of ``until_stopped``); the first signal also gives the earlier handlers back, so
    that a second one interrupts at once. Only the main thread can take signals: elsewhere,
    a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: Any) -> None:
        restore()
        stop(signum)
        if _waiting:
            raise _StopWaiting

    def restore() -> None:
        for s, handler in previous.items():
            signal.signal(s, handler)

    previous = {s: signal.signal(s, on_signal) for s in SIGNALS}
    try:
        yield
    finally:
        restore()


def until_stopped(items: Iterable[T], stopped: Callable[[], bool]) -> Iterator[T]:
    """``items`` until ``stopped()`` says so. A stop signal (``stop_on_signal``) while the
    main thread waits for the next item ends the wait at once, as the end of the items."""
    global _waiting
    main = threading.current_thread() is threading.main_thread()  # signals are its alone
    it = iter(items)
    while True:
        try:
            if main:
                _waiting = True
            if stopped():
                return
            item = next(it)
        except (StopIteration, _StopWaiting):
            return
        finally:
            if main:
                _waiting = False
        yield item
