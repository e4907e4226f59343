"""``ReadAhead``: frames read on a thread come out as reading them in turn gives them,
limits hold, errors are raised in the caller, and closing early stops the thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import depthview as dv
from depthview.errors import SourceError
from depthview.frame import DepthFormat, Frame
from depthview.sources.ahead import ReadAhead
from depthview.sources.base import Source


def _folder(tmp_path: Path, n: int) -> Path:
    """A folder of 16-bit depth PNGs in mm, each frame's pixels its own number plus 500."""
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(n):
        mm = np.full((12, 16), 500 + i, np.uint16)
        mm[i % 12, :] = 0  # a hole that moves: frames differ in shape of content too
        Image.fromarray(mm).save(folder / f"frame-{i:06d}.depth.png")
    return folder


def _depth_sum(frame: Frame) -> int:
    return int(np.asarray(frame.depth, dtype=np.int64).sum())


def test_frames_come_in_order_as_read_in_turn(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 7)
    with dv.open(str(folder), realtime=False) as src:
        direct = [(f.timestamp, _depth_sum(f)) for f in src]
    assert len(direct) == 7
    started = time.perf_counter()
    with dv.open(str(folder), realtime=False) as src, ReadAhead(src, _depth_sum) as ahead:
        got = []
        while True:
            try:
                frame, prepared = ahead.read()
            except StopIteration:
                break
            if not got:  # where a run's timing starts: once the first frame was read
                assert ahead.first_read_at is not None
                assert started <= ahead.first_read_at <= time.perf_counter()
            assert prepared == _depth_sum(frame)  # prepared on the thread, from this frame
            got.append((frame.timestamp, prepared))
        with pytest.raises(StopIteration):  # and stays ended
            ahead.read()
    assert got == direct


class _Counted(Source):
    """Frames 0..n-1 numbered in their timestamps, failing at ``fail_at`` (no real source
    fails on demand) and counting reads (to see that a limit stops the reading too)."""

    name = "counted"

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at, self.reads = n, fail_at, 0

    def read(self) -> Frame:
        i = self.reads
        if i == self.fail_at:
            raise SourceError(f"counted: frame {i} is damaged")
        if i >= self.n:
            raise StopIteration
        self.reads += 1
        return Frame(
            depth=np.full((2, 2), i, np.uint16),
            depth_format=DepthFormat.MM,
            index=i,
            timestamp=float(i),
        )

    def close(self) -> None:
        pass


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 12),
    limit=st.one_of(st.none(), st.integers(0, 15)),
    ahead=st.integers(1, 3),
    fail_at=st.one_of(st.none(), st.integers(0, 14)),
)
def test_counts_reconcile(n: int, limit: int | None, ahead: int, fail_at: int | None) -> None:
    """Every frame up to the limit, the end or the failure, once and in order; the failure
    is raised after the frames before it, never lost; nothing past the limit is read."""
    src = _Counted(n, fail_at)
    stamps: list[float] = []
    error: SourceError | None = None
    with ReadAhead(src, lambda f: f.index, limit, ahead=ahead) as reader:
        while True:
            try:
                frame, index = reader.read()
            except StopIteration:
                break
            except SourceError as exc:
                error = exc
                break
            assert index == frame.index
            stamps.append(frame.timestamp)
    last = n if limit is None else min(n, limit)
    # the read of frame ``fail_at`` happens when the limit allows it and the frames before
    # it exist (at fail_at == n it fails instead of ending)
    fails = fail_at is not None and fail_at <= n and (limit is None or fail_at < limit)
    expected = fail_at if fails else last
    assert stamps == [float(i) for i in range(expected)]
    assert (error is not None) == fails
    if error is not None:
        assert f"frame {fail_at} is damaged" in str(error)
    assert src.reads <= last


def test_closing_early_stops_the_thread() -> None:
    src = _Counted(10_000)
    reader = ReadAhead(src, lambda f: None, ahead=2)
    reader.read()
    reader.close()
    assert not any(t.name == "depthview-read-ahead" and t.is_alive() for t in threading.enumerate())
    assert src.reads < 10  # it stopped, a frame or two ahead, not at the end


def test_ahead_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ahead: expected at least 1"):
        ReadAhead(_Counted(1), lambda f: None, ahead=0)
