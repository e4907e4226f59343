"""The source on its own thread, so the window never waits on a device or a disk.

The reader hands frames over through a short queue (``PENDING`` frames): a window that
keeps up shows every frame, even two that arrive together (a recording that loops), and
one that falls behind skips rather than working through a backlog: a frame that waited a
frame time (``1 / source.fps``, else ``FRAME_SECONDS``) while a newer one is pending is
stale and skipped, so the window shows the newest frame within one frame time of its
arrival however busy the machine is (issue 23: drop frames, not latency). Frames skipped
so are counted as dropped. Started with ``hold_first``, the reader reads one frame and waits
until the window says it drew it (``first_shown``), then paces the rest from there: the
first draw is where compiled loops are compiled or loaded for this source's depth (seconds
on a first run with a new format or CPU setting), and frames read meanwhile would only
overflow the queue. ``wait()`` lets the window sleep until a frame arrives,
so it draws when there is something new rather than on a clock of its own. Seeks and
single steps are requests the thread carries out, so the source is only ever touched by
one thread for reading. A recorder, when set, is given every frame read, so a recording
holds each record once whatever the window shows (while it records, the window steps
forward only). Depth filters, when set, run here too,
after the recorder (a recording keeps raw frames), so the window only draws; a frame whose
filters were changed while it was being filtered is filtered again with the new ones. While
no next frame comes (paused, ended), the window has the frame it shows filtered again
(``refilter``) when the filters change, so the picture follows the HUD."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..errors import DepthviewError, SourceError
from ..filters import Chain, filter_frame, parse_filter_spec
from ..frame import Frame
from ..sources.base import Source
from .stats import FrameRate

if TYPE_CHECKING:
    from ..registration import Registration

#: Frames the reader holds for the window before it skips the oldest.
PENDING = 3
#: A frame time when the source does not say its rate (a Kinect's 30 Hz).
FRAME_SECONDS = 1.0 / 30.0
#: The longest side of a frame the window can show (SDL makes no surface it scales, nor
#: window, larger): a larger one is the source's failure, said.
MAX_PANEL_SIDE = 16384


class FrameSink(Protocol):
    """Something frames can be written to (``depthview.recording.RecordingWriter``)."""

    def write(self, frame: Frame) -> object: ...

    def close(self) -> object: ...


class FrameReader:
    """Reads ``source`` on a daemon thread; ``latest()`` hands over the newest frame once."""

    def __init__(self, source: Source, clock: Callable[[], float] = time.perf_counter) -> None:
        self.source = source
        self._clock = clock
        fps = source.fps
        #: How long a frame may wait while a newer one is pending before it is skipped.
        self.frame_seconds = 1.0 / fps if fps and fps > 0 else FRAME_SECONDS
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: collections.deque[Frame] = collections.deque()
        self._arrivals: collections.deque[float] = collections.deque()  # perf_counter each
        self._read = FrameRate()  # frames read, from the window's first frame on
        #: When the frame ``next_frame`` returned last arrived (perf_counter seconds).
        self.arrived = 0.0
        self._skipped = 0
        self._requests: collections.deque[tuple[str, int]] = collections.deque()
        self._paused = False
        self._stop = False
        self._holding = False  # read one frame, then wait for ``first_shown``
        self.frames_read = 0
        self.frames_taken = 0
        self.ended = False
        self.error: BaseException | None = None
        self.recorder: FrameSink | None = None
        self.record_error: BaseException | None = None
        #: The index and time of the last frame the recorder was given: the same frame read
        #: again (a seek that landed on it, past a broken one) is not recorded twice (trial U).
        self._recorded: tuple[int, float] | None = None
        #: The index of the last frame read (where a seek goes back from).
        self._last_index: int | None = None
        self._chain: Chain | None = None
        self._make_chain: Callable[[Registration | None], Chain] | None = None
        self._chains_set = 0  # how many times the filters were set (a frame's are current?)
        self.filter_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="depthview-reader", daemon=True)

    def start(self, hold_first: bool = False) -> None:
        """Start reading; with ``hold_first``, read the first frame and wait until
        ``first_shown`` before reading on."""
        self._holding = hold_first
        self._thread.start()

    def first_shown(self) -> None:
        """The window drew the first frame: read on, paced from now."""
        with self._wake:
            self._holding = False
            self._read.clear()  # read on from now: the first frame's wait is not a rate
            self._wake.notify_all()

    def read_rate(self, now: float) -> float | None:
        """Frames per second read from the source (``stats.FrameRate``)."""
        with self._lock:
            return self._read.rate(now)

    # -- window side ----------------------------------------------------------------------
    def next_frame(self) -> Frame | None:
        """The oldest frame not yet taken that is not stale (it waited a frame time while a
        newer one is pending: skipped, counted as dropped), or None when nothing new
        arrived."""
        with self._lock:
            if not self._pending:
                return None
            now = self._clock()
            while len(self._pending) > 1 and now - self._arrivals[0] > self.frame_seconds:
                self._pending.popleft()
                self._arrivals.popleft()
                self._skipped += 1
            self.frames_taken += 1
            self.arrived = self._arrivals.popleft()
            return self._pending.popleft()

    @property
    def pending(self) -> int:
        """Frames read and not yet taken."""
        with self._lock:
            return len(self._pending)

    def wait(self, timeout: float) -> bool:
        """Sleep until a frame is pending, the source ends or fails, or ``timeout`` passes;
        True when a frame is pending."""
        with self._wake:
            if not self._pending and self.error is None and not self.ended:
                self._wake.wait(timeout)
            return bool(self._pending)

    def discard_pending(self) -> None:
        """Forget frames not yet shown (after a seek: they are from before it)."""
        with self._lock:
            self._skipped += len(self._pending)
            self._pending.clear()
            self._arrivals.clear()

    @property
    def dropped(self) -> int:
        """Frames read but never handed to the window (it fell behind)."""
        with self._lock:
            return self._skipped

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
            self._recorded = None
        if old is not None:
            old.close()
        return old

    def set_filters(self, chain: Chain | None) -> None:
        """Filter every frame read from now on through ``chain`` (None: raw frames). The
        filtered frame keeps the raw one in ``meta["unfiltered"]`` for the split view."""
        with self._lock:
            self._chain = chain
            self._chains_set += 1
            self.filter_error = None

    def use_filters(self, spec: str | None) -> None:
        """``set_filters`` from a ``--filter`` spec, with the source's registration; the
        compiled loops are loaded here first, so the reader thread never waits for them.
        A missing ``fast`` extra raises ``FilterError`` (a DepthviewError)."""
        if not spec:
            self._make_chain = None
            self.set_filters(None)
            return
        make = parse_filter_spec(spec)
        make(self.source.registration)(np.zeros((8, 8), dtype=np.uint16))  # warm up
        self._make_chain = make
        self.set_filters(make(self.source.registration))

    def refilter(self, frame: Frame) -> Frame:
        """``frame`` (a frame shown, filtered or not) from its unfiltered depth through the
        filters set now (``use_filters``), or unfiltered when they are off: for the window
        while no next frame comes to show a change of filters (paused, ended). Runs on the
        caller's thread with a chain of its own, so the reader's temporal state is not
        shared; a failure is ``filter_error`` (the window turns the filters off) and the
        frame unfiltered."""
        raw = frame.meta.get("unfiltered", frame)
        raw = raw if isinstance(raw, Frame) else frame
        make = self._make_chain
        if make is None:
            return raw
        try:
            return filter_frame(raw, make(self.source.registration), self.source.registration)
        except Exception as exc:  # shown in the window; filtering stops
            self._make_chain = None
            self.set_filters(None)
            self.filter_error = exc
            return raw

    # -- reader thread --------------------------------------------------------------------
    def _publish(self, frame: Frame) -> None:
        recorder = self.recorder
        again = (frame.index, frame.timestamp) == self._recorded  # the same frame read again
        if recorder is not None and not again:
            try:
                recorder.write(frame)
                self._recorded = (frame.index, frame.timestamp)
            except Exception as exc:  # shown in the window; recording stops
                self.record_error = exc
                self.recorder = None
        while True:
            with self._lock:
                chain, chains_set = self._chain, self._chains_set
            shown = frame
            if chain is not None:
                try:
                    shown = filter_frame(frame, chain, self.source.registration)
                except Exception as exc:  # shown in the window; filtering stops
                    self.filter_error = exc
                    self._chain = None
            with self._wake:
                if chains_set != self._chains_set:
                    continue  # the filters changed while it was filtered: again, with them
                if len(self._pending) >= PENDING:
                    self._pending.popleft()
                    self._arrivals.popleft()
                    self._skipped += 1
                self._pending.append(shown)
                self._arrivals.append(self._clock())
                self._read.add(self._arrivals[-1])
                self.frames_read += 1
                self._wake.notify_all()
                return

    def _read_one(self, sought: int | None = None) -> bool:
        """Read and publish the next frame; after a seek to ``sought`` that went back, one
        before it where the source skipped that one (broken) and read on past it: a step
        back moves back (trial U)."""
        try:
            frame = self.source.read()
            back = self._last_index is not None and sought is not None and sought < self._last_index
            while back and sought is not None and frame.index > sought and sought > 0:
                sought -= 1
                self.source.seek(sought)
                frame = self.source.read()
            h, w = frame.depth.shape[:2]
            if max(h, w) > MAX_PANEL_SIDE:  # no window nor scaling takes it (trial AC)
                raise SourceError(
                    f"{self.source.name}: a {w}x{h} frame: the viewer shows frames of at most "
                    f"{MAX_PANEL_SIDE} pixels a side (export reads it)"
                )
        except StopIteration:
            self._finish(None)
            return False
        except Exception as exc:  # any failure is shown in the window
            self._finish(exc)
            return False
        self._last_index = frame.index
        self._publish(frame)
        if self._holding:
            self._hold(frame)
        return True

    def _hold(self, frame: Frame) -> None:
        """Wait until the window drew ``frame`` (the first), then pace the next from now."""
        with self._wake:
            while self._holding and not self._stop and not self._requests:
                self._wake.wait(0.25)
            self._holding = False
        self.source.repace(frame)

    def _finish(self, error: BaseException | None) -> None:
        with self._wake:
            if error is None:
                self.ended = True
            else:
                self.error = error
            self._wake.notify_all()

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
                    self._finish(exc)
                    continue
                self.error = None
                self._read_one(max(0, arg) if what == "seek" else None)
                continue
            if not self._read_one() and self.error is None and not self.ended:
                time.sleep(0.01)
