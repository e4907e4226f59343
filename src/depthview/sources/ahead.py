"""``ReadAhead``: a source's next frame read (and prepared) on a thread while the caller
works on this one. A batch job that decodes files and then computes on each frame spends
both in turn; with the reading beside it (decoders and numpy release the GIL), the slower
of the two sets the pace instead of their sum."""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..frame import Frame
from .base import Source

T = TypeVar("T")

_END = object()  # the source ran out, or the limit was reached


def start_shielded(thread: threading.Thread) -> None:
    """Start a thread with Ctrl-C held until it runs: a KeyboardInterrupt inside
    ``Thread.start``'s own wait leaves its lock broken ("release unlocked lock"). The thread
    inherits the held signals, so they reach the main thread, once started."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


class _Failed:
    """What the reading thread raised, handed to the caller to raise."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class ReadAhead(Generic[T]):
    """Up to ``limit`` frames of ``source`` (None: all), each with ``prepare(frame)``, read
    ``ahead`` frames before the caller asks. ``read()`` returns them in order, raises
    ``StopIteration`` at the end and raises what reading or preparing raised, where it
    would have been raised without the thread. Use it in a ``with``: leaving stops the
    thread, and the source is read by no one else meanwhile."""

    def __init__(
        self,
        source: Source,
        prepare: Callable[[Frame], T],
        limit: int | None = None,
        ahead: int = 1,
    ) -> None:
        if ahead < 1:
            raise ValueError(f"ahead: expected at least 1 frame, got {ahead}")
        self._source = source
        self._prepare = prepare
        self._limit = limit
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._done = False
        #: ``time.perf_counter()`` when the first frame had been read (before ``prepare``),
        #: or None: where a run's timing starts, as when the caller read it itself.
        self.first_read_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="depthview-read-ahead", daemon=True)
        start_shielded(self._thread)

    def _put(self, item: Any) -> bool:
        """Hand ``item`` over, waiting for room; False when told to stop meanwhile."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        n = 0
        while self._limit is None or n < self._limit:
            try:
                frame = self._source.read()
                if self.first_read_at is None:
                    self.first_read_at = time.perf_counter()
                item: Any = (frame, self._prepare(frame))
            except StopIteration:
                break
            except BaseException as exc:  # raised again in the caller's thread
                self._put(_Failed(exc))
                return
            if not self._put(item):
                return
            n += 1
        self._put(_END)

    def read(self) -> tuple[Frame, T]:
        """The next frame and what ``prepare`` made of it."""
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, _Failed):
            self._done = True
            raise item.error
        frame, prepared = item
        return frame, prepared

    def close(self) -> None:
        """Stop reading (a frame being read is finished first)."""
        self._stop.set()
        while True:  # room for a reader waiting to put, so that it sees the stop
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join()

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
