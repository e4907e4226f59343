"""Which colour frame and accelerometer record go with each depth frame: pure, by time.

Two rules (``PAIRINGS``), each by the host times each stream recorded itself:

- "nearest" (the default; NYU's toolbox's rule): depth is primary, every depth frame takes
  the *usable* record of the other stream nearest to it (a tie goes to the earlier record);
  one colour frame may serve two depth frames. ``ranked`` gives a depth frame's candidates
  nearest first, so the caller can pass over one it cannot read; ``nearest`` is the first
  candidate for whole lists of times (a recording's index), ``StreamingPairer`` the same
  rule for records that arrive one by one (any source).
- "associate" (TUM's ``associate.py``): one to one, greedy, the pair with the smallest time
  difference first (``associate``).

A pair farther apart than ``max_dt`` seconds is not made; the accelerometer, being
optional, is only left out.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")

#: The pairing rules ``convert --pairing`` offers (the first is the default).
PAIRINGS = ("nearest", "associate")


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


class Ranked:
    """The times of one stream, sorted once, asked for the records nearest a time."""

    def __init__(self, times: Sequence[float] | npt.NDArray[np.float64]) -> None:
        t = np.asarray(times, dtype=np.float64)
        self.order = np.argsort(t, kind="stable")
        self.sorted = t[self.order]

    def gap(self, t: float) -> float:
        """How far ``t`` is from the nearest time (inf without any)."""
        s = self.sorted
        hi = int(np.searchsorted(s, t, side="left"))
        near = [abs(float(s[i]) - t) for i in (hi - 1, hi) if 0 <= i < len(s)]
        return min(near, default=math.inf)

    def around(self, t: float, max_dt: float | None = None) -> Iterator[int]:
        """Indices (into the times given) within ``max_dt`` of ``t``, nearest first; of two
        at the same distance the earlier comes first."""
        limit = check_max_dt(max_dt)
        s = self.sorted
        hi = int(np.searchsorted(s, t, side="left"))
        lo = hi - 1
        while True:
            d_lo = t - s[lo] if lo >= 0 else math.inf
            d_hi = s[hi] - t if hi < len(s) else math.inf
            if min(d_lo, d_hi) > limit or (lo < 0 and hi >= len(s)):
                return
            if d_lo <= d_hi:
                yield int(self.order[lo])
                lo -= 1
            else:
                yield int(self.order[hi])
                hi += 1


def associate(
    depth_times: Sequence[float] | npt.NDArray[np.float64],
    other_times: Sequence[float] | npt.NDArray[np.float64],
    max_dt: float | None = None,
) -> npt.NDArray[np.int64]:
    """TUM's ``associate.py`` rule: of all (depth, other) pairs within ``max_dt``, take the
    one with the smallest time difference, remove both, repeat; each record serves at most
    one depth frame. For each depth time, the index of its record, -1 without one.

    The closest remaining pair is always next to each other in time order (anything
    between them would be closer to one of them), so a heap of neighbouring pairs does in
    O(n log n) what the script does over all n x m pairs."""
    limit = check_max_dt(max_dt)
    d = np.asarray(depth_times, dtype=np.float64)
    o = np.asarray(other_times, dtype=np.float64)
    out = np.full(d.shape, -1, dtype=np.int64)
    # (time, stream, index): depth is stream 1, the other stream 0 (the script's first list).
    items = sorted(
        [(float(t), 1, k) for k, t in enumerate(d)] + [(float(t), 0, j) for j, t in enumerate(o)]
    )
    n = len(items)
    prev = list(range(-1, n - 1))
    nxt = list(range(1, n + 1))
    alive = [True] * n
    heap: list[tuple[float, float, float, int, int]] = []

    def push(a: int, b: int) -> None:
        if 0 <= a < n and 0 <= b < n and items[a][1] != items[b][1]:
            dt = items[b][0] - items[a][0]
            if dt <= limit:
                other, depth = (a, b) if items[a][1] == 0 else (b, a)
                heapq.heappush(heap, (dt, items[other][0], items[depth][0], a, b))

    for i in range(n - 1):
        push(i, i + 1)
    while heap:
        _, _, _, a, b = heapq.heappop(heap)
        if not (alive[a] and alive[b] and nxt[a] == b):
            continue
        depth, other = (a, b) if items[a][1] == 1 else (b, a)
        out[items[depth][2]] = items[other][2]
        alive[a] = alive[b] = False
        left, right = prev[a], nxt[b]
        if left >= 0:
            nxt[left] = right
        if right < n:
            prev[right] = left
        push(left, right)
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
    takes the nearest of the last ``window`` records of each stream that came before it,
    and waits for the first record of the stream at or after its time (arrived before or
    after it: an archive of pairs lists colour with its depth frame, not in time order;
    trial AP D1); at most ``window`` frames wait (a stream that has stopped does not hold
    frames, and so memory, forever)."""

    max_dt: float | None = None
    window: int = 8
    _waiting: deque[_Waiting[T]] = field(default_factory=deque)
    _videos: deque[tuple[float, Any]] = field(default_factory=deque)
    _accels: deque[tuple[float, Any]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._videos = deque(maxlen=self.window)
        self._accels = deque(maxlen=self.window)

    def add_depth(self, time: float, item: T) -> Iterator[tuple[T, Any, Any]]:
        w = _Waiting(time, item, _nearest(time, self._videos), _nearest(time, self._accels))
        w.video_done = any(t >= time for t, _ in self._videos)
        w.accel_done = any(t >= time for t, _ in self._accels)
        self._waiting.append(w)
        while len(self._waiting) > self.window:
            yield self._decided(self._waiting.popleft())
        yield from self._ready()

    def add_video(self, time: float, data: Any) -> Iterator[tuple[T, Any, Any]]:
        for w in self._waiting:
            if not w.video_done:
                w.video = _closer(w.time, w.video, (time, data))
                w.video_done = time >= w.time
        self._videos.append((time, data))
        yield from self._ready()

    def add_accel(self, time: float, data: Any) -> Iterator[tuple[T, Any, Any]]:
        for w in self._waiting:
            if not w.accel_done:
                w.accel = _closer(w.time, w.accel, (time, data))
                w.accel_done = time >= w.time
        self._accels.append((time, data))
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


def _nearest(t: float, records: deque[tuple[float, Any]]) -> tuple[float, Any] | None:
    """The record nearest in time to ``t`` (the first of two as near), or None."""
    best = None
    for record in records:
        best = _closer(t, best, record)
    return best


def _closer(
    t: float, before: tuple[float, Any] | None, after: tuple[float, Any]
) -> tuple[float, Any]:
    if before is None or abs(after[0] - t) < abs(t - before[0]):
        return after
    return before


__all__ = ["PAIRINGS", "Ranked", "StreamingPairer", "associate", "check_max_dt", "nearest"]
