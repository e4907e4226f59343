"""The reader's hand-over to the window: frames dropped rather than latency (issue 23).

Property tests drive the hand-over step by step on a clock of their own: the reader
thread's publishing (``_publish``, what the thread calls for every frame read) and the
window's ``next_frame``, interleaved as Hypothesis chooses. Then the real thread on a real
source (the shipped sample) with a window that takes frames slowly, and on the demo held
until the window drew its first frame."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import depthview as dv
from _helpers_cli import headless
from depthview.frame import DepthFormat, Frame
from depthview.sources.base import Source
from depthview.sources.demo import DemoSource
from depthview.viewer.reader import FRAME_SECONDS, PENDING, FrameReader


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Unread(Source):
    """A source the tests publish frames for themselves (never read by a thread)."""

    name = "unread"

    def __init__(self, fps: float | None) -> None:
        self.fps = fps

    def read(self) -> Frame:
        raise StopIteration

    def close(self) -> None:
        pass


def frame(i: int) -> Frame:
    return Frame(
        depth=np.zeros((2, 2), np.uint16), depth_format=DepthFormat.MM, index=i, timestamp=i
    )


steps = st.lists(
    st.one_of(
        st.tuples(st.just("publish"), st.integers(1, 4)),  # frames arriving together
        st.tuples(st.just("wait"), st.floats(0.0, 0.2)),  # seconds passing
        st.tuples(st.just("take"), st.just(0)),  # the window draws
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(steps=steps, fps=st.sampled_from([None, 15.0, 30.0]))
def test_counts_reconcile_order_holds_and_nothing_shown_is_stale(
    steps: list[tuple[str, float]], fps: float | None
) -> None:
    clock = Clock()
    reader = FrameReader(Unread(fps), clock=clock)
    frame_time = 1.0 / fps if fps else FRAME_SECONDS
    assert reader.frame_seconds == frame_time
    published = 0
    taken: list[int] = []
    arrival: dict[int, float] = {}
    for what, arg in steps:
        if what == "publish":
            for _ in range(int(arg)):
                arrival[published] = clock.now
                reader._publish(frame(published))
                published += 1
        elif what == "wait":
            clock.now += arg
        else:
            newest = published - 1
            got = reader.next_frame()
            if got is None:
                assert reader.pending == 0
                continue
            taken.append(got.index)
            # The newest frame, or one that has not waited a frame time yet.
            assert got.index == newest or clock.now - arrival[got.index] <= frame_time
            assert reader.arrived == arrival[got.index]
        # Every frame read is shown, pending, or counted as dropped: none lost, none twice.
        assert reader.frames_read == published
        assert len(taken) + reader.pending + reader.dropped == published
        assert reader.pending <= PENDING
    assert taken == sorted(set(taken))  # in order, each once


def test_a_window_that_keeps_up_shows_frames_that_arrive_together() -> None:
    clock = Clock()
    reader = FrameReader(Unread(30.0), clock=clock)
    reader._publish(frame(0))
    reader._publish(frame(1))  # a recording that loops: two at once
    first, second = reader.next_frame(), reader.next_frame()
    assert (first and first.index, second and second.index) == (0, 1)
    assert reader.dropped == 0


def test_a_slow_window_on_a_real_source_skips_and_counts_the_rest() -> None:
    """The real reader thread on the sample, looping; the window takes a frame every
    0.2 s (as if drawing took six frame times): it gets frames in order, skips the rest
    rather than queueing them, and every frame read is accounted for."""
    source = dv.open("sample", loop=True)
    reader = FrameReader(source)
    reader.start()
    try:
        got = []
        for _ in range(8):
            time.sleep(0.2)
            taken = reader.next_frame()
            if taken is not None:
                got.append(taken)
        assert len(got) >= 4
        assert reader.dropped > 0
    finally:
        reader.stop()
    assert reader.frames_read == len(got) + reader.pending + reader.dropped
    assert reader.pending <= PENDING


class Repaced(DemoSource):
    """The demo, noting the frames the reader re-paces from (``Source.repace``)."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.repaced: list[int] = []

    def repace(self, frame: Frame) -> None:
        self.repaced.append(frame.index)
        super().repace(frame)


def _until(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        time.sleep(0.01)
    return condition()


def test_a_held_reader_waits_for_the_first_draw_then_paces_from_it() -> None:
    """Started with hold_first (as the viewer starts it), the reader reads one frame and
    reads nothing more until the window drew it, however long the draw (the first one
    loads or compiles the loops): nothing overflows the queue meanwhile. Then it paces the
    rest from the frame drawn. The demo at fps=0 reads as fast as it can, so a reader that
    did not hold would have read many frames during the wait."""
    source = Repaced(fps=0)
    reader = FrameReader(source)
    reader.start(hold_first=True)
    try:
        assert _until(lambda: reader.pending == 1)
        time.sleep(0.3)  # the window drawing its first frame
        assert (reader.frames_read, reader.pending, reader.dropped) == (1, 1, 0)
        first = reader.next_frame()
        assert first is not None and first.index == 0 and source.repaced == []
        reader.first_shown()
        assert _until(lambda: reader.frames_read >= 5)
        assert source.repaced == [0]
    finally:
        reader.stop()


def test_a_reader_that_does_not_hold_reads_on() -> None:
    # The default (scripts and tests driving a reader) reads on from the first frame.
    reader = FrameReader(DemoSource(fps=0))
    reader.start()
    try:
        assert _until(lambda: reader.frames_read >= 5)
    finally:
        reader.stop()


@pytest.mark.parametrize("shape", [(480, 640), (1, 480, 640), (1, 1)])
def test_a_one_frame_file_is_paced_and_nothing_is_counted_dropped(
    tmp_path: Path, shape: tuple[int, ...]
) -> None:
    """Trial H (issue 22): a one-frame .npy in the viewer was re-read unpaced (every read a
    new pass, each pass re-anchoring the pacer), a core busy and thousands of re-reads
    counted as dropped. Each pass continues the clock, so the frame comes at the source's
    30 frames/s: the real command's ``--stats`` count reads and drops, not time."""
    path = tmp_path / "one.npy"
    np.save(path, np.full(shape, 800, np.uint16))
    proc = headless(["view", str(path), "--frames", "30", "--stats"])
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    assert stats["frames_shown"] == 30
    assert stats["dropped_source_frames"] <= 3, stats  # was thousands


def test_a_frame_whose_filters_changed_while_it_was_filtered_is_filtered_again() -> None:
    """Trial P (P2): a frame the reader was filtering when ``F`` or ``P`` changed the
    filters was handed over filtered the old way, after the window had shown the change; on
    a paused viewer it stayed. The chains here are plain functions (a mock: the timing
    cannot be had from a real filter), the first held inside its call while the filters
    change; the frame handed over is the second chain's."""
    import threading

    entered, release = threading.Event(), threading.Event()

    def old(mm: np.ndarray, stream: object = 0) -> np.ndarray:
        entered.set()
        release.wait(5)
        return np.full_like(mm, 1)

    def new(mm: np.ndarray, stream: object = 0) -> np.ndarray:
        return np.full_like(mm, 2)

    reader = FrameReader(Unread(30.0))
    reader.set_filters(old)  # type: ignore[arg-type]
    publishing = threading.Thread(target=reader._publish, args=(frame(0),))
    publishing.start()
    assert entered.wait(5)
    reader.set_filters(new)  # type: ignore[arg-type]
    release.set()
    publishing.join(5)
    got = reader.next_frame()
    assert got is not None and int(got.depth.max()) == 2 and reader.next_frame() is None
