"""The source on its own thread, so the window never waits on a device or a disk.

The reader keeps only the latest frame (a slot, not a queue): the window draws what is
newest and never works through a backlog. Frames overwritten before the window took them
are counted as dropped. Seeks and single steps are requests the thread carries out, so
the source is only ever touched by one thread for reading."""

from __future__ import annotations

import collections
import threading
import time
from typing import Protocol

from ..errors import DepthviewError
from ..frame import Frame
from ..sources.base import Source


class FrameSink(Protocol):
    """Something frames can be written to (``depthview.recording.RecordingWriter``)."""

    def write(self, frame: Frame) -> object: ...

    def close(self) -> object: ...


class FrameReader:
    """Reads ``source`` on a daemon thread; ``latest()`` hands over the newest frame once."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._frame: Frame | None = None
        self._fresh = False
        self._requests: collections.deque[tuple[str, int]] = collections.deque()
        self._paused = False
        self._stop = False
        self.frames_read = 0
        self.frames_taken = 0
        self.ended = False
        self.error: BaseException | None = None
        self.recorder: FrameSink | None = None
        self.record_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="depthview-reader", daemon=True)

    def start(self) -> None:
        """Start reading."""
        self._thread.start()

    # -- window side ----------------------------------------------------------------------
    def latest(self) -> Frame | None:
        """The newest frame not yet taken, or None when nothing new arrived."""
        with self._lock:
            if not self._fresh:
                return None
            self._fresh = False
            self.frames_taken += 1
            return self._frame

    @property
    def dropped(self) -> int:
        """Frames read but replaced before the window took them."""
        with self._lock:
            return self.frames_read - self.frames_taken - (1 if self._fresh else 0)

    @property
    def paused(self) -> bool:
        """Whether continuous reading is paused."""
        return self._paused

    def set_paused(self, paused: bool) -> None:
        """Pause or resume continuous reading (single steps still work while paused)."""
        with self._wake:
            self._paused = paused
            self._wake.notify_all()

    def request(self, what: str, arg: int = 0) -> None:
        """Ask the thread to ``"seek"`` to frame ``arg`` and read it, or read ``"one"``."""
        with self._wake:
            self._requests.append((what, arg))
            self.ended = False
            self._wake.notify_all()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the thread, then close the source (also when a read is stuck: closing is what
        unblocks most sources)."""
        with self._wake:
            self._stop = True
            self._wake.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.set_recorder(None)
        self.source.close()

    def set_recorder(self, recorder: FrameSink | None) -> FrameSink | None:
        """Write every frame read from now on to ``recorder``; returns the one replaced."""
        with self._lock:
            old, self.recorder = self.recorder, recorder
            self.record_error = None
        if old is not None:
            old.close()
        return old

    # -- reader thread --------------------------------------------------------------------
    def _publish(self, frame: Frame) -> None:
        recorder = self.recorder
        if recorder is not None:
            try:
                recorder.write(frame)
            except Exception as exc:  # shown in the window; recording stops
                self.record_error = exc
                self.recorder = None
        with self._lock:
            self._frame = frame
            self._fresh = True
            self.frames_read += 1

    def _read_one(self) -> bool:
        try:
            frame = self.source.read()
        except StopIteration:
            self.ended = True
            return False
        except Exception as exc:  # any failure is shown in the window
            self.error = exc
            return False
        self._publish(frame)
        return True

    def _run(self) -> None:
        while True:
            with self._wake:
                while (
                    not self._stop
                    and not self._requests
                    and (self._paused or self.ended or self.error is not None)
                ):
                    self._wake.wait(0.25)
                if self._stop:
                    return
                request = self._requests.popleft() if self._requests else None
            if request is not None:
                what, arg = request
                try:
                    if what == "seek":
                        self.source.seek(max(0, arg))
                except DepthviewError as exc:
                    self.error = exc
                    continue
                self.error = None
                self._read_one()
                continue
            if not self._read_one() and self.error is None and not self.ended:
                time.sleep(0.01)
