"""The figures of ``--stats``: what a shown frame costs and how late it reaches the screen.

CPU is counted two ways over the same span (from the first frame shown to the last, so the
start-up is left out): the process's (``time.process_time``: every thread, the reader's
and the OpenGL driver's too, which is what the machine pays) and the main thread's alone
(``time.thread_time``). Latency is from a frame's arrival from the source to the flip
that shows it.
"""

from __future__ import annotations

import collections
import math
import statistics
import time
from dataclasses import dataclass, field

#: How far back the HUD's rates look (seconds); at least the last two frames count.
RATE_WINDOW = 2.0


def interval_rate(count: int, first: float, last: float) -> float | None:
    """Frames per second of ``count`` frames shown from ``first`` to ``last``: the
    ``count - 1`` intervals over the time they span (frames counted in a fixed window would
    read 2 or 4 for 3 a second). None without an interval."""
    span = last - first
    return (count - 1) / span if count > 1 and span > 0 else None


class FrameRate:
    """The rate of frames from their times (the HUD's "shown" and "read"): the intervals of
    the last ``window`` seconds (at least the last two frames) over the time they span. When
    frames stop coming (more than two intervals since the last), the figure falls as if the
    next came now, rather than staying at the old rate."""

    def __init__(self, window: float = RATE_WINDOW) -> None:
        self.window = window
        self.times: collections.deque[float] = collections.deque()

    def add(self, t: float) -> None:
        """A frame at ``t`` (seconds, in order)."""
        self.times.append(t)
        while len(self.times) > 2 and t - self.times[0] > self.window:
            self.times.popleft()

    def clear(self) -> None:
        """Forget the frames so far (the rate counts from the next)."""
        self.times.clear()

    def rate(self, now: float) -> float | None:
        """Frames per second at ``now``; None before the second frame."""
        times = self.times
        if not times:
            return None
        steady = interval_rate(len(times), times[0], times[-1])
        if steady is None:
            return None
        if now - times[-1] > 2.0 / steady:  # stalled: as if the next frame came now
            return interval_rate(len(times) + 1, times[0], now)
        return steady


def _median_p95(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class Stats:
    """Figures for ``--stats``, collected by the loop."""

    frames_shown: int = 0
    last_index: int | None = None
    cpu_ms: list[float] = field(default_factory=list)  # main thread, per draw
    latency_ms: list[float] = field(default_factory=list)  # arrival -> flip, per frame
    started: float | None = None
    last: float | None = None
    _cpu_start: tuple[float, float] = (0.0, 0.0)  # process, main thread at the first frame
    _cpu_last: tuple[float, float] = (0.0, 0.0)

    def shown(self, index: int, now: float, arrived: float) -> None:
        """A new frame reached the screen at ``now`` (it arrived at ``arrived``)."""
        cpu = (time.process_time(), time.thread_time())
        if self.frames_shown == 0:
            self.started = now
            self._cpu_start = cpu
        else:
            self.latency_ms.append((now - arrived) * 1000.0)
        self._cpu_last = cpu
        self.frames_shown += 1
        self.last_index = index
        self.last = now

    def as_dict(self, dropped: int) -> dict[str, object]:
        """JSON-ready summary: CPU per shown frame (process, main thread; ms), the main
        thread's CPU per draw (median, p95), latency (median, p95), the display rate, and
        source frames the window never showed. A figure that needs two frames shown (or one
        draw) is None (JSON null) without them, not a 0.0 that reads as measured (trial AA)."""
        med, p95 = _median_p95(self.cpu_ms)
        lat, lat95 = _median_p95(self.latency_ms)
        n = self.frames_shown - 1
        fps = interval_rate(self.frames_shown, self.started or 0.0, self.last or 0.0)
        process = (self._cpu_last[0] - self._cpu_start[0]) * 1000.0 / n if n > 0 else None
        main = (self._cpu_last[1] - self._cpu_start[1]) * 1000.0 / n if n > 0 else None
        return {
            "frames_shown": self.frames_shown,
            "process_cpu_ms_per_frame": _rounded(process, 3),
            "main_thread_cpu_ms_per_frame": _rounded(main, 3),
            "cpu_ms_median": _rounded(med, 3),
            "cpu_ms_p95": _rounded(p95, 3),
            "latency_ms_median": _rounded(lat, 3),
            "latency_ms_p95": _rounded(lat95, 3),
            "display_fps": _rounded(fps, 2),
            "dropped_source_frames": dropped,
            "last_frame_index": self.last_index,
        }
