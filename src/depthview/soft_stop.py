"""Ctrl-C and SIGTERM as a request to stop, for work that must end its files normally.

``record`` and ``export`` keep what they made when interrupted: while they write, the first
of the two signals calls ``stop`` instead of raising ``KeyboardInterrupt`` in the middle of
a file, and the work ends after the frame being written. A flag alone is not enough where
the next frame never comes (a read blocked in the kernel, a Kinect that went quiet: trial O
met an ``open`` of a named pipe that waited for ever, SIGTERM swallowed), so:

- a signal while the frames are waited for (``until_stopped``) ends the wait at once: the
  frame being read is not written, the writer finishes its file with the frames before it;
- a second signal interrupts at once wherever the work is; but the same signal again
  within ``REPEAT_SECONDS`` is the same request delivered twice (``timeout`` signals the
  command and then its process group; a service manager each process of its group), and
  is ignored, here and by the command line's own handlers (``repeated``): trial V lost a
  whole ``record --overwrite`` to the second copy of one ``timeout -s TERM``.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

SIGNALS = (signal.SIGINT, signal.SIGTERM)
T = TypeVar("T")

#: The main thread is waiting for the next frame (``until_stopped``): a stop signal raises.
_waiting = False
#: A stop signal this soon (seconds) after the one taken before it repeats that one.
REPEAT_SECONDS = 1.0
#: When the last stop signal taken arrived (``time.monotonic``), None before any.
_taken_at: float | None = None


def repeated() -> bool:
    """Whether a stop signal arriving now repeats the one taken before it (within
    ``REPEAT_SECONDS``): the handler then does nothing. Else it is taken (its time kept)."""
    global _taken_at
    now = time.monotonic()
    if _taken_at is not None and now - _taken_at < REPEAT_SECONDS:
        return True
    _taken_at = now
    return False


def forget() -> None:
    """A new piece of work begins (a command, a run of ``stop_on_signal``): no signal taken
    before it is one a later signal repeats (a program that exports twice, stopping each)."""
    global _taken_at
    _taken_at = None


def signalled() -> bool:
    """Whether a stop signal was taken in this process: an error met after it (a library
    interrupted halfway, numba compiling) is the interruption's, said as one."""
    return _taken_at is not None


class _StopWaiting(KeyboardInterrupt):
    """A stop signal met while the next frame was waited for (``until_stopped`` ends there;
    anywhere else it is Ctrl-C's ``KeyboardInterrupt``)."""


@contextlib.contextmanager
def stop_on_signal(stop: Callable[[int], None]) -> Iterator[None]:
    """While inside, Ctrl-C or SIGTERM calls ``stop(signum)`` (and ends a wait for the next
    frame of ``until_stopped``); a second one (not a repeat: ``repeated``) interrupts at once.
    Only the main thread can take signals: elsewhere, a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    taken: list[int] = []
    forget()

    def on_signal(signum: int, frame: Any) -> None:
        if repeated():
            return
        if taken:  # a second request: at once, wherever the work is
            restore()
            raise KeyboardInterrupt
        taken.append(signum)
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
