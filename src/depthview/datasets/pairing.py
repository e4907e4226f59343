"""Which colour frame and accelerometer record go with each depth frame: pure, by time.

Depth is primary: every depth frame looks for the record of the other stream nearest to it
by the host times each stream recorded itself (a tie goes to the earlier record). A pair
farther apart than ``max_dt`` seconds is dropped; the accelerometer, being optional, is
only left out. Two forms of the same rule: ``nearest`` for whole lists of times (a
recording's index), ``StreamingPairer`` for records that arrive one by one (any source),
holding only the few depth frames still waiting for a later colour frame.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")


def check_max_dt(max_dt: float | None) -> float:
    """``max_dt`` as seconds (inf for None); ValueError for a negative or NaN one."""
    if max_dt is None:
        return math.inf
    if isinstance(max_dt, bool) or not isinstance(max_dt, int | float) or not max_dt >= 0:
        raise ValueError(f"expected max_dt as seconds >= 0, got {max_dt!r}")
    return float(max_dt)


def nearest(
    depth_times: Sequence[float] | npt.NDArray[np.float64],
    other_times: Sequence[float] | npt.NDArray[np.float64],
    max_dt: float | None = None,
) -> npt.NDArray[np.int64]:
    """For each depth time, the index of the nearest of ``other_times`` (sorted or not),
    -1 where there is none within ``max_dt`` seconds. A tie goes to the earlier record."""
    limit = check_max_dt(max_dt)
    d = np.asarray(depth_times, dtype=np.float64)
    o = np.asarray(other_times, dtype=np.float64)
    out = np.full(d.shape, -1, dtype=np.int64)
    if o.size == 0 or d.size == 0:
        return out
    order = np.argsort(o, kind="stable")
    sorted_o = o[order]
    after = np.searchsorted(sorted_o, d, side="left")
    before = np.clip(after - 1, 0, len(o) - 1)
    after_c = np.clip(after, 0, len(o) - 1)
    dt_before = np.abs(d - sorted_o[before])
    dt_after = np.abs(sorted_o[after_c] - d)
    pick = np.where(dt_after < dt_before, after_c, before)
    dt = np.minimum(dt_before, dt_after)
    out[:] = order[pick]
    out[dt > limit] = -1
    return out


@dataclass
class _Waiting(Generic[T]):
    time: float
    item: T
    video: tuple[float, Any] | None
    accel: tuple[float, Any] | None
    video_done: bool = False
    accel_done: bool = False


@dataclass
class StreamingPairer(Generic[T]):
    """Pairs records as they arrive (in arrival order): ``add_depth``, ``add_video``,
    ``add_accel``, each yielding the depth frames whose pairs are now decided as
    ``(item, video or None, accel or None)``; ``finish`` yields the rest. A depth frame
    waits for the first record after it of each stream; at most ``window`` frames wait (a
    stream that has stopped does not hold frames, and so memory, forever)."""

    max_dt: float | None = None
    window: int = 8
    _waiting: deque[_Waiting[T]] = field(default_factory=deque)
    _last_video: tuple[float, Any] | None = None
    _last_accel: tuple[float, Any] | None = None

    def add_depth(self, time: float, item: T) -> Iterator[tuple[T, Any, Any]]:
        self._waiting.append(_Waiting(time, item, self._last_video, self._last_accel))
        while len(self._waiting) > self.window:
            w = self._waiting.popleft()
            yield self._decided(w)
        yield from self._ready()

    def add_video(self, time: float, data: Any) -> Iterator[tuple[T, Any, Any]]:
        for w in self._waiting:
            if not w.video_done:
                if time >= w.time:
                    w.video = _closer(w.time, w.video, (time, data))
                    w.video_done = True
                elif w.video is None or time > w.video[0]:
                    w.video = (time, data)
        self._last_video = (time, data)
        yield from self._ready()

    def add_accel(self, time: float, data: Any) -> Iterator[tuple[T, Any, Any]]:
        for w in self._waiting:
            if not w.accel_done:
                if time >= w.time:
                    w.accel = _closer(w.time, w.accel, (time, data))
                    w.accel_done = True
                elif w.accel is None or time > w.accel[0]:
                    w.accel = (time, data)
        self._last_accel = (time, data)
        yield from self._ready()

    def finish(self) -> Iterator[tuple[T, Any, Any]]:
        while self._waiting:
            yield self._decided(self._waiting.popleft())

    def _ready(self) -> Iterator[tuple[T, Any, Any]]:
        while self._waiting and self._waiting[0].video_done and self._waiting[0].accel_done:
            yield self._decided(self._waiting.popleft())

    def _decided(self, w: _Waiting[T]) -> tuple[T, Any, Any]:
        limit = check_max_dt(self.max_dt)
        video = w.video if w.video is not None and abs(w.video[0] - w.time) <= limit else None
        accel = w.accel if w.accel is not None and abs(w.accel[0] - w.time) <= limit else None
        return w.item, video, accel


def _closer(
    t: float, before: tuple[float, Any] | None, after: tuple[float, Any]
) -> tuple[float, Any]:
    if before is None or abs(after[0] - t) < abs(t - before[0]):
        return after
    return before


__all__ = ["StreamingPairer", "check_max_dt", "nearest"]
