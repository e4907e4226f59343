"""A looped or appended stream continues the clock (issue 22): every later pass is offset so
its times keep increasing, the seam one frame interval wide, every stream (depth, colour,
accelerometer) offset alike so their order within a pass stays as recorded. Checked on real
recordings: the CLI's ``record --append``, a replay that loops, and the viewer's ``R`` key
while a recording loops."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pygame
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import depthview as dv
from _helpers_cli import cli
from _helpers_sources import write_recording
from _helpers_viewer import press, wait_for
from depthview.fakenect_format import parse_index_line
from depthview.recording import record
from depthview.viewer import Viewer, ViewerOptions

DT = 1 / 30


def entries(folder: Path) -> list[tuple[str, float, int]]:
    """(kind, host time, device timestamp) of every INDEX.txt line, in file order."""
    lines = (folder / "INDEX.txt").read_text().splitlines()
    return [(e.kind, e.unix_time, e.device_timestamp) for e in map(parse_index_line, lines)]


def check_continued(
    written: list[tuple[str, float, int]], source: list[tuple[str, float, int]]
) -> int:
    """``written`` is ``source``'s records pass after pass (any start, any length): times
    increase in file order across every stream; within a pass every record is the source's
    time plus one offset (the streams keep their order and spacing); each seam (the last
    record of a pass to the first of the next) is one depth frame interval of the source.
    Returns the number of passes."""
    times = [t for _, t, _ in written]
    assert all(b > a for a, b in itertools.pairwise(times)), "times not increasing"
    own = {(k, ts): t for k, t, ts in source}  # each record's time in the source
    depth = [t for k, t, _ in source if k == "d"]
    interval = float(np.median(np.diff(depth)))
    was = _source_times(written, own)
    passes: list[list[int]] = [[0]]
    for i in range(1, len(written)):
        if was[i] <= was[i - 1]:  # the source started over
            passes.append([])
        passes[-1].append(i)
    for rows in passes:
        offsets = [times[i] - was[i] for i in rows]
        assert max(offsets) - min(offsets) < 2e-6, "streams offset unalike within a pass"
    for before, after in itertools.pairwise(passes):
        seam = times[after[0]] - times[before[-1]]
        assert seam == pytest.approx(interval, abs=2e-6), "seam width"
    return len(passes)


def _source_times(
    written: list[tuple[str, float, int]], own: dict[tuple[str, int], float]
) -> list[float]:
    """Each written record's time in the source. A pass's device timestamps are the
    source's plus one offset (modulo 2^32: the device clock continues across a seam too),
    found where a record no longer matches under the current one: the offset under which
    it and the record after it are both the source's (a pass of one record starts at the
    source's first)."""
    wrap = 1 << 32
    offset, out = 0, []
    for i, (k, _, ts) in enumerate(written):
        if (k, (ts - offset) % wrap) not in own:
            nxt = written[i + 1] if i + 1 < len(written) else None
            mine = sorted((t, s) for (kind, s), t in own.items() if kind == k)
            offset = next(
                (
                    (ts - s) % wrap
                    for _, s in mine
                    if nxt is not None and (nxt[0], (nxt[2] - (ts - s)) % wrap) in own
                ),
                (ts - mine[0][1]) % wrap,  # a pass of one record: the source's first
            )
        out.append(own[(k, (ts - offset) % wrap)])
    return out


@pytest.fixture
def rec(tmp_path: Path) -> Path:
    """A real fakenect recording with depth, colour (1 ms after) and accelerometer."""
    write_recording(tmp_path / "src", n=12, dt=0.05)
    return tmp_path / "src"


def test_a_loop_over_a_clock_set_back_goes_on_from_the_last_frame_played(
    rec: Path, tmp_path: Path
) -> None:
    """Trial AA (D7): a recording whose host clock steps back 10 s mid-way (an NTP step)
    looped with its next pass after its latest time: ~20 s after the last frame played, a
    replay held still for that long at each seam. The next pass comes one frame interval
    after the last frame played."""
    from depthview.fakenect_format import entry_name

    names = (rec / "INDEX.txt").read_text().split()
    stepped = []
    for i, name in enumerate(names):
        e = parse_index_line(name)
        back = 10.0 if i >= len(names) // 2 else 0.0
        new = entry_name(e.kind, round(e.unix_time - back, 6), e.device_timestamp)
        (rec / name).rename(rec / new)
        stepped.append(new)
    (rec / "INDEX.txt").write_text("\n".join(stepped) + "\n")
    with dv.open(str(rec), realtime=False, loop=True) as src:
        times = [src.read().timestamp for _ in range(24)]
    steps = np.diff(times)
    assert sum(steps < 0) == 2  # the recording's own step back, once in each of 2 passes
    assert steps.max() == pytest.approx(0.05, abs=1e-5), steps  # no seam held longer
    assert steps[11] == pytest.approx(0.05, abs=1e-5)  # the seam: one interval, the last frame on


def test_record_append_continues_the_clock(rec: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert cli("record", str(rec), str(out), "--frames", "10").code == 0
    ran = cli("record", str(rec), str(out), "--append", "--frames", "5")
    assert ran.code == 0, ran.err
    written = entries(out)
    assert sum(k == "d" for k, _, _ in written) == 15
    assert check_continued(written, entries(rec)) == 2
    # The replay of the appended recording lasts what was recorded: 15 frames at 20 fps.
    with dv.open(str(out), realtime=False) as src:
        assert src.duration == pytest.approx(14 * 0.05, abs=1e-5)


def test_append_keeps_a_last_line_without_its_newline(rec: Path, tmp_path: Path) -> None:
    """Trial Q 8: an INDEX.txt whose last, complete line has no newline (an editor's or a
    script's) was cut by ``--append`` as if half-written: a record lost unsaid and the clock
    continued from the one before. Now the line is ended and kept, the clock continues after
    it; a half-written name (no record) is still cut."""
    out = tmp_path / "r"
    assert cli("record", str(rec), str(out), "--frames", "10").code == 0
    index = out / "INDEX.txt"
    lines = index.read_text().splitlines()
    index.write_text("\n".join(lines))  # the same lines, the last without its newline
    ran = cli("record", str(rec), str(out), "--append", "--frames", "5")
    assert ran.code == 0, ran.err
    after = index.read_text().splitlines()
    assert after[: len(lines)] == lines  # every record kept, the last one too
    assert sum(k == "d" for k, _, _ in entries(out)) == 15
    assert check_continued(entries(out), entries(rec)) == 2  # the seam: after the last record
    index.write_text("\n".join(after) + "\nd-1483969354.23")  # a name cut short: no record
    assert cli("record", str(rec), str(out), "--append", "--frames", "1").code == 0
    assert index.read_text().splitlines()[: len(after)] == after
    assert check_continued(entries(out), entries(rec)) == 3


def test_append_of_a_source_without_a_device_clock_continues_it(tmp_path: Path) -> None:
    """Trial F: a ``.npy`` has no device clock, so the recording makes one from the host
    times; an append continued the host times but restarted that clock at 0 (device times
    going back at the seam). Both clocks increase across the seam."""
    np.save(tmp_path / "raw3.npy", np.full((3, 480, 640), 800, np.uint16))
    out = tmp_path / "r"
    for extra in ((), ("--append",)):
        ran = cli("record", str(tmp_path / "raw3.npy"), str(out), "--quiet", *extra)
        assert ran.code == 0, ran.err
    depth = [(t, ts) for k, t, ts in entries(out) if k == "d"]
    assert len(depth) == 6
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in itertools.pairwise(depth)), depth


def test_record_of_a_looping_replay_continues_the_clock(rec: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    with dv.open(str(rec), realtime=False, loop=True) as src:
        summary = record(src, out, frames=30)
    assert summary.frames == 30
    # Two whole passes (d0 .. the accelerometer 2 ms after d11), two seams, then d0 .. d5.
    whole = 11 * 0.05 + 0.002
    assert summary.seconds == pytest.approx(2 * whole + 2 * 0.05 + 5 * 0.05, abs=1e-5)
    assert check_continued(entries(out), entries(rec)) == 3


def test_a_looping_replay_itself_continues_the_clock(rec: Path) -> None:
    """Trial D (issue 22): ``dv.open(rec, loop=True)`` (and ``stream --loop``) replayed each
    pass at the recording's own times, so Rerun laid the passes over one another; the
    frames' and every record's host and device times now go on as ``record`` writes them:
    each pass one frame interval after the last record of the one before, streams alike."""
    with dv.open(str(rec), realtime=False, loop=True) as src:
        frames = [src.read() for _ in range(30)]
    records = [
        (r.stream.value, r.stamp.host_time, r.stamp.device_timestamp)
        for f in frames
        for r in f.records
    ]
    assert check_continued(records, entries(rec)) == 3  # the rule record's files follow
    times = [f.timestamp for f in frames]
    assert all(b > a for a, b in itertools.pairwise(times))
    for f in frames:  # the frame's own stamps moved with its records
        (depth,) = [r for r in f.records if r.stream.value == "d"]
        assert (depth.stamp.host_time, depth.stamp.device_timestamp) == (
            f.timestamp,
            f.device_timestamp,
        )
        if f.video_stamp is not None:
            assert f.video_stamp.host_time <= f.timestamp + 0.05
    ticks = [f.device_timestamp for f in frames]
    steps = {(b - a) & 0xFFFFFFFF for a, b in itertools.pairwise(ticks)}  # type: ignore[operator]
    assert len(steps) <= 2 and max(steps) < 0.06 * 60_000_000  # no jump back at a seam


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(min_value=2, max_value=6),
    first=st.integers(min_value=1, max_value=14),
    more=st.integers(min_value=1, max_value=14),
)
def test_property_any_passes_any_lengths(
    tmp_path_factory: pytest.TempPathFactory, n: int, first: int, more: int
) -> None:
    base = tmp_path_factory.mktemp("p")
    write_recording(base / "src", n=n, dt=DT, width=640, height=480)
    out = base / "r"
    with dv.open(str(base / "src"), realtime=False, loop=True) as src:
        record(src, out, frames=first)
    with dv.open(str(base / "src"), realtime=False, loop=True) as src:
        record(src, out, frames=more, mode="append")
    written = entries(out)
    assert sum(k == "d" for k, _, _ in written) == first + more  # nothing dropped
    passes = check_continued(written, entries(base / "src"))
    assert passes == 1 + (first - 1) // n + (more - 1) // n + 1


def test_viewer_recording_across_a_loop_continues_the_clock(rec: Path) -> None:
    """``R``, wait while the replay starts over, ``R``: the saved recording's times go on."""
    viewer = Viewer(dv.open(str(rec), loop=True), ViewerOptions(snapshot_dir=rec.parent))
    try:
        wait_for(viewer, lambda: viewer.frame is not None)
        press(viewer, "R")
        folder = viewer.state.recording
        assert folder is not None, viewer.state.message
        seen: list[int] = []

        def looped_twice() -> bool:
            if viewer.frame is not None and (not seen or seen[-1] != viewer.frame.index):
                seen.append(viewer.frame.index)
            return sum(b < a for a, b in itertools.pairwise(seen)) >= 2

        wait_for(viewer, looped_twice, timeout=20)
        press(viewer, "R")
    finally:
        if pygame.display.get_init():
            viewer.close()
    written = entries(folder)
    assert sum(k == "d" for k, _, _ in written) > 12
    assert check_continued(written, entries(rec)) >= 2


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(min_value=1, max_value=5),
    dt=st.sampled_from([1 / 30, 0.05, 0.1]),
    video=st.booleans(),
    reads=st.integers(min_value=1, max_value=23),
)
def test_property_a_looping_replay_never_goes_back_in_time(
    tmp_path_factory: pytest.TempPathFactory, n: int, dt: float, video: bool, reads: int
) -> None:
    """Over any number of passes of any small recording: each stream's host times and the
    depth device clock only increase (the device clock modulo 2^32), and within a pass every
    record keeps the recording's spacing."""
    base = tmp_path_factory.mktemp("loop")
    write_recording(base, n=n, dt=dt, video=video, width=64, height=48)
    with dv.open(str(base), realtime=False, loop=True) as src:
        frames = [src.read() for _ in range(reads)]
    last: dict[str, float] = {}
    for f in frames:
        for r in f.records:
            kind = r.stream.value
            assert r.stamp.host_time > last.get(kind, -math.inf), (kind, r.stamp)
            last[kind] = r.stamp.host_time
    ticks = [f.device_timestamp for f in frames]
    for a, b in itertools.pairwise(ticks):
        assert a is not None and b is not None
        assert 0 < (b - a) & 0xFFFFFFFF < 1 << 31  # forward on the wrapping clock
    if reads > n:  # the seam: one frame interval after the pass's last record
        seam = frames[n].timestamp - max(r.stamp.host_time for f in frames[:n] for r in f.records)
        assert seam == pytest.approx(dt if n > 1 else 1 / 30, abs=1e-5)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seconds=st.floats(0.01, 0.5), dt=st.sampled_from([1 / 30, 0.05, 0.1]))
def test_record_seconds_counts_the_recordings_clock(
    tmp_path_factory: pytest.TempPathFactory, seconds: float, dt: float
) -> None:
    """``record REC OUT --seconds S`` keeps the frames stamped less than S after the first
    (a recording replays far faster than real time, so wall time would keep them all;
    trial G), and says the span it kept."""
    base = tmp_path_factory.mktemp("rec")
    write_recording(base / "in", 12, dt=dt, video=False)
    proc = cli("record", str(base / "in"), str(base / "out"), "--seconds", repr(seconds), "--quiet")
    assert proc.code == 0, proc.err
    kept = [e for e in entries(base / "out") if e[0] == "d"]
    source = [e for e in entries(base / "in") if e[0] == "d"]
    want = [t for _, t, _ in source if t - source[0][1] < seconds - 1e-9]
    assert len(kept) == len(want) >= 1
    assert f"recorded {len(kept)} frames" in proc.out


def _npz_host_times(path: Path) -> tuple[np.ndarray, list[float]]:
    """An archive's depth times and every stored host time (all streams), read with numpy."""
    with np.load(path) as z:
        depth = z["timestamp"].astype(np.float64)
        every = [
            float(t)
            for key in ("timestamp", "video_timestamp", "accel_timestamp")
            if key in z.files
            for t in z[key]
            if math.isfinite(t)
        ]
    return depth, every


def _pass_shift(depth: np.ndarray, every: list[float]) -> float:
    """The rule, computed here: a pass is the span of its stored times plus one depth frame
    period (the depth frames' mean spacing; 1/30 s for one frame) later than the one before."""
    period = (depth[-1] - depth[0]) / (len(depth) - 1) if len(depth) > 1 else DT
    return max(every) - min(every) + period


def test_a_looping_npz_export_continues_its_clock(rec: Path, tmp_path: Path) -> None:
    """Trial F (issue 22): ``export REC out.npz`` keeps each stream's own times, and looping
    that archive (``dv.open(..., loop=True)``, as ``stream --loop`` and the viewer do) went
    back to the first pass's times at every pass, while .npy, PNG folders and TUM lists
    went on. Every pass is the first plus k * (span + one frame period), every stream and
    the device clock alike."""
    out = tmp_path / "out.npz"
    ran = cli("export", str(rec), str(out), "--quiet")
    assert ran.code == 0, ran.err
    depth, every = _npz_host_times(out)
    shift = _pass_shift(depth, every)
    n = len(depth)
    with dv.open(str(out), realtime=False, loop=True) as src:
        frames = [src.read() for _ in range(3 * n)]
    first = frames[:n]
    for k in range(3):
        for was, now in zip(first, frames[k * n : (k + 1) * n], strict=True):
            assert now.timestamp == pytest.approx(was.timestamp + k * shift, abs=1e-6)
            for a, b in ((was.video_stamp, now.video_stamp), (was.accel_stamp, now.accel_stamp)):
                assert (a is None) == (b is None)
                if a is not None and b is not None:
                    assert b.host_time == pytest.approx(a.host_time + k * shift, abs=1e-6)
    times = [f.timestamp for f in frames]
    assert all(b > a for a, b in itertools.pairwise(times)), times
    # A frame holds the newest colour frame, so one may repeat; none goes back.
    video = [f.video_stamp.host_time for f in frames if f.video_stamp is not None]
    assert len(set(video)) >= 2 * n and all(b >= a for a, b in itertools.pairwise(video))
    ticks = [f.device_timestamp for f in frames]
    for a, b in itertools.pairwise(ticks):
        assert a is not None and b is not None
        assert 0 < (b - a) & 0xFFFFFFFF < 0.06 * 60_000_000  # forward, one frame's worth


def test_stream_loop_of_an_npz_export_continues_its_clock(rec: Path, tmp_path: Path) -> None:
    """The same through ``depthview stream --loop`` into a real Rerun viewer, read back from
    the .rrd it saves: the depth images' host times keep increasing over three passes."""
    from _helpers_sinks import read_rrd, rerun_receiver

    out = tmp_path / "out.npz"
    assert cli("export", str(rec), str(out), "--quiet").code == 0
    depth, every = _npz_host_times(out)
    n = len(depth)
    with rerun_receiver(tmp_path) as (url, env, saved):
        command = ["stream", str(out), "--loop", "--frames", str(3 * n), "--quiet", "--to", url]
        done = subprocess.run(
            [sys.executable, "-m", "depthview", *command],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert done.returncode == 0, done.stderr
    table = read_rrd(saved, "host_time")
    sent = [
        t.value / 1e9
        for t, blob in zip(
            table.column("host_time").to_pandas(),
            table.column("/kinect/depth:DepthImage:buffer").to_pylist(),
            strict=True,
        )
        if blob is not None
    ]
    want = [t + k * _pass_shift(depth, every) for k in range(3) for t in depth]
    assert sent == pytest.approx(want, abs=1e-5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(st.floats(min_value=1e-3, max_value=5.0), min_size=0, max_size=6),
    origin=st.sampled_from([0.0, 12.5, 1_700_000_000.0]),
    video_lead=st.none() | st.floats(min_value=0.0, max_value=1e-3),
    device=st.booleans(),
)
def test_property_a_looping_npz_never_goes_back_in_time(
    tmp_path_factory: pytest.TempPathFactory,
    steps: list[float],
    origin: float,
    video_lead: float | None,
    device: bool,
) -> None:
    """Any count and spacing of an archive's own times (with or without colour times a
    little before each depth frame's, with or without a device clock): over 3 passes every
    stream's host times strictly increase and each pass is the first plus k times the rule's
    shift; the device clock only goes forward."""
    depth_t = origin + np.concatenate([[0.0], np.cumsum(steps)])
    n = len(depth_t)
    arrays: dict[str, np.ndarray] = {
        "depth": np.full((n, 6, 8), 700, np.uint16),
        "timestamp": depth_t,
    }
    if video_lead is not None:
        arrays["video"] = np.zeros((n, 6, 8, 3), np.uint8)
        arrays["video_timestamp"] = depth_t - video_lead
    if device:
        arrays["device_timestamp"] = (4_294_000_000 + np.arange(n) * 2_000_000) % (1 << 32)
    path = tmp_path_factory.mktemp("npz") / "t.npz"
    np.savez(path, **arrays)
    depth, every = _npz_host_times(path)
    shift = _pass_shift(depth, every)
    with dv.open(str(path), realtime=False, loop=True) as src:
        frames = [src.read() for _ in range(3 * n)]
    times = [f.timestamp for f in frames]
    assert all(b > a for a, b in itertools.pairwise(times)), times
    assert times == pytest.approx([t + k * shift for k in range(3) for t in depth_t], abs=1e-5)
    if video_lead is not None:
        video = [f.video_stamp.host_time for f in frames if f.video_stamp is not None]
        assert len(video) == 3 * n and all(b > a for a, b in itertools.pairwise(video))
    if device:
        ticks = [f.device_timestamp for f in frames]
        for a, b in itertools.pairwise(ticks):
            assert a is not None and b is not None
            assert 0 < (b - a) & 0xFFFFFFFF < 1 << 31


def test_r_pressed_well_into_a_timeless_source_starts_at_the_wall_clock(
    tmp_path: Path,
) -> None:
    """Trial W (W1): ``R`` pressed 3 s into the demo stamped its first frame at the wall
    clock of the press plus those 3 s, and a second recording of the session further
    still. A source counting from its start is recorded from the wall clock when the
    recording starts, each frame its own interval after the one before."""
    import time

    from depthview.recording import RecordingWriter

    with dv.open("demo", fps=0) as demo:
        demo.seek(90)  # 3 s in at 30 frames/s
        frames = [demo.read() for _ in range(5)]
    assert frames[0].timestamp == pytest.approx(3.0)
    started = time.time()
    writer = RecordingWriter(tmp_path / "r", times_from_start=True)
    for frame in frames:
        writer.write(frame)
    writer.close()
    depth = [t for kind, t, _ in entries(tmp_path / "r") if kind == "d"]
    assert abs(depth[0] - started) < 0.5, (depth[0], started)
    np.testing.assert_allclose(np.diff(depth), 1 / 30, atol=2e-6)
