"""``--fps`` times a source that records no frame times (trial G): a PNG folder exported
with ``--fps 10`` has its frames 0.1 s apart in every output (the .npz's times, the .mcap's
log times, the MP4's duration) and the warning names 10 frames/s, as the README says; a
source with its own times keeps them. Times are read back by numpy, the mcap reader and
PyAV, not by depthview."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from _helpers_cli import cli
from _helpers_sinks import read_mcap


@pytest.fixture()
def png_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(np.full((48, 64), 1000 + 10 * i, np.uint16)).save(
            folder / f"frame-{i:06d}.depth.png"
        )
    return folder


@pytest.mark.parametrize("rate", [10.0, 2.5])
def test_fps_times_a_folder_in_every_output(png_folder: Path, tmp_path: Path, rate: float) -> None:
    want = np.arange(6) / rate
    ran = cli("export", str(png_folder), str(tmp_path / "x.npz"), "--fps", str(rate), "--quiet")
    assert ran.code == 0, ran.err
    assert f"position / {rate:g} frames/s" in ran.err
    np.testing.assert_allclose(np.load(tmp_path / "x.npz")["timestamp"], want, atol=1e-9)

    ran = cli("export", str(png_folder), str(tmp_path / "x.mcap"), "--fps", str(rate), "--quiet")
    assert ran.code == 0, ran.err
    depth = [
        t
        for topic, items in read_mcap(tmp_path / "x.mcap").items()
        if "depth" in topic
        for t, _ in items
    ]
    assert depth, "no depth messages"
    got = (np.array(sorted(set(depth))) - min(depth)) / 1e9
    np.testing.assert_allclose(got, want, atol=1e-6)

    ran = cli("export", str(png_folder), str(tmp_path / "x.mp4"), "--fps", str(rate), "--quiet")
    assert ran.code == 0, ran.err
    with av.open(str(tmp_path / "x.mp4")) as container:
        stream = container.streams.video[0]
        assert float(stream.average_rate) == pytest.approx(rate, rel=1e-3)


def test_fps_is_refused_where_it_would_change_nothing(tmp_path: Path) -> None:
    """A source with its own times keeps them; outside an MP4 --fps then changes nothing,
    and was left unsaid (trial AB D7: a user asking for 10 frames/s got the source's 30):
    refused in one line, nothing written. The demo is timed at --fps."""
    for out in ("t.npz", "t.mcap", "t.rrd", "p"):
        ran = cli("export", "sample", str(tmp_path / out), "--fps", "10", "--quiet")
        assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
        assert "sample records its own frame times" in ran.err
    assert list(tmp_path.iterdir()) == []
    ran = cli("export", "demo", str(tmp_path / "d.npz"), "--fps", "10", "--frames", "3")
    assert ran.code == 0, ran.err
    np.testing.assert_allclose(np.load(tmp_path / "d.npz")["timestamp"], [0, 0.1, 0.2])


def test_an_mp4_holds_a_gap_in_the_sources_own_times(tmp_path: Path) -> None:
    """Trial V (V2): 10 frames, a 2.7 s gap, 10 frames (a .npz's own times) became an MP4 of
    20 frames one after another, 0.67 s long, unsaid. Now each frame is shown at its own
    time (read back by PyAV): the video lasts the source's 3.33 s, the gap held on the
    frame before it. ``--fps`` (the user's rate) still plays them one after another."""
    depth = np.random.default_rng(1).integers(400, 1100, (20, 120, 160)).astype(np.uint16)
    times = np.r_[np.arange(10) / 30, 3 + np.arange(10) / 30]
    np.savez(tmp_path / "gap.npz", depth=depth, timestamp=times)
    ran = cli("export", str(tmp_path / "gap.npz"), str(tmp_path / "gap.mp4"), "--quiet")
    assert ran.code == 0, ran.err
    with av.open(str(tmp_path / "gap.mp4")) as video:
        stream = video.streams.video[0]
        shown = [float(f.pts * stream.time_base) for f in video.decode(video=0)]
    np.testing.assert_allclose(shown, times - times[0], atol=1 / 60)
    ran = cli(
        "export", str(tmp_path / "gap.npz"), str(tmp_path / "f.mp4"), "--fps", "10", "--quiet"
    )
    assert ran.code == 0, ran.err
    with av.open(str(tmp_path / "f.mp4")) as video:
        stream = video.streams.video[0]
        shown = [float(f.pts * stream.time_base) for f in video.decode(video=0)]
    np.testing.assert_allclose(shown, np.arange(20) / 10, atol=1e-6)


def test_an_mp4_keeps_its_times_past_one_that_steps_back(tmp_path: Path) -> None:
    """Trial Z (D2): one time stepping back (0, 1, 0.5, 2, 3) made every later frame of
    the MP4 late (0, 1.17, 2.33, 3.5, 4.67: a 5.8 s video of a 3 s source), as frames were
    placed in units of the rate. Each frame keeps its own time; the one that steps back
    follows the frame before it by a tick of the MP4's clock (read back by PyAV)."""
    depth = np.stack([np.full((48, 64), 800 + 100 * i, np.uint16) for i in range(5)])
    np.savez(tmp_path / "back.npz", depth=depth, timestamp=np.array([0.0, 1.0, 0.5, 2.0, 3.0]))
    ran = cli("export", str(tmp_path / "back.npz"), str(tmp_path / "b.mp4"), "--quiet")
    assert ran.code == 0, ran.err
    with av.open(str(tmp_path / "b.mp4")) as video:
        stream = video.streams.video[0]
        shown = [float(f.pts * stream.time_base) for f in video.decode(video=0)]
    np.testing.assert_allclose(shown, [0.0, 1.0, 1.0, 2.0, 3.0], atol=1e-3)
    assert shown[2] > shown[1]


def test_an_mp4_of_times_that_never_go_forward_plays_at_the_rate_it_says(
    tmp_path: Path,
) -> None:
    """Trial AH (D1): an archive whose times never go forward (0.4, 0.3, ... 0) was said to be
    "taken as 30 frames/s", but its MP4 put the frames one tick of the 90 kHz clock apart
    (each a step back). Times that are a guess are not the MP4's clock: 1/30 s apart."""
    depth = np.stack([np.full((48, 64), 800 + 100 * i, np.uint16) for i in range(5)])
    np.savez(tmp_path / "back.npz", depth=depth, timestamp=np.array([0.4, 0.3, 0.2, 0.1, 0.0]))
    ran = cli("export", str(tmp_path / "back.npz"), str(tmp_path / "b.mp4"), "--quiet")
    assert ran.code == 0, ran.err
    assert "taken as 30 frames/s" in ran.err
    with av.open(str(tmp_path / "b.mp4")) as video:
        stream = video.streams.video[0]
        shown = [float(f.pts * stream.time_base) for f in video.decode(video=0)]
    np.testing.assert_allclose(shown, np.arange(5) / 30, atol=1e-3)


def test_fps_0_reads_as_fast_as_it_can_and_times_frames_at_the_kinects_rate(
    tmp_path: Path,
) -> None:
    """Trial AB (D16): ``dv.open(SOURCE, fps=0)`` ("as fast as it can") gave every frame of
    a source without times the time 0.0: a sink or recorder got them all at one instant.
    Paced as fast as it can, timed by position / 30."""
    import depthview as dv

    np.save(tmp_path / "a.npy", np.full((4, 48, 64), 700, np.uint16))
    with dv.open(str(tmp_path / "a.npy"), fps=0) as src:
        times = [f.timestamp for f in src]
    assert times == pytest.approx([0, 1 / 30, 2 / 30, 3 / 30])


def test_a_gap_of_days_between_an_archives_frame_times_is_said(tmp_path: Path) -> None:
    """Trial AC (D6): a .npz whose times leave 11 days between frames held the viewer on its
    first frame with no word why (it waited for the second's time). The gap is said."""
    np.savez(
        tmp_path / "g.npz",
        depth=np.full((3, 48, 64), 800, np.uint16),
        timestamp=np.array([0.0, 1e6, 1e6 + 0.5]),
    )
    ran = cli("info", str(tmp_path / "g.npz"))
    assert ran.code == 0, ran.err
    assert (
        "1 gap(s) of more than 60 s between frame times (the longest 1000000 s, after frame 0)"
        in ran.out
    )


def test_an_mp4_longer_than_its_clock_holds_is_one_line_naming_the_way_out(
    tmp_path: Path,
) -> None:
    """Trial AD (D9): frame times 30000 s apart passed the 90 kHz clock's 32-bit limit and
    ended in FFmpeg's "Not yet implemented in FFmpeg, patches welcome". One line says the
    span and --fps; nothing is left; with --fps the frames go one after another."""
    np.savez(
        tmp_path / "g.npz",
        depth=np.full((3, 48, 64), 800, np.uint16),
        timestamp=np.array([0.0, 30000.0, 30000.0333]),
    )
    out = tmp_path / "g.mp4"
    ran = cli("export", str(tmp_path / "g.npz"), str(out), "--quiet")
    assert ran.code == 2 and ran.error_lines == [
        f"depthview: error: {out}: frame 1 comes 30000 s after the first, more than an MP4's "
        "clock holds here (23861 s); --fps plays the frames one after another"
    ], ran.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.npz"]
    assert cli("export", str(tmp_path / "g.npz"), str(out), "--fps", "30", "--quiet").code == 0


def test_an_archives_side_arrays_are_read_or_said(tmp_path: Path) -> None:
    """Trial AD (D11): in a .npz without frame times, an ``accel`` (of any shape) went
    unread without a word; one of inf readings was dropped frame by frame. Said: left out,
    or refused in one line."""
    depth = np.full((3, 48, 64), 800, np.uint16)
    np.savez(tmp_path / "a.npz", depth=depth, accel=np.zeros((3, 2)), tilt_deg=np.zeros(3))
    ran = cli("export", str(tmp_path / "a.npz"), str(tmp_path / "a.mcap"), "--quiet")
    assert ran.code == 0, ran.err
    assert (
        f"{tmp_path / 'a.npz'}: accel, tilt_deg: left out: they go with frame times, and it "
        "has no frame times (timestamp)"
    ) in ran.err
    times = np.array([0.0, 0.033, 0.066])
    np.savez(tmp_path / "i.npz", depth=depth, accel=np.full((3, 3), np.inf), timestamp=times)
    ran = cli("export", str(tmp_path / "i.npz"), str(tmp_path / "i.mcap"), "--quiet")
    assert ran.code == 2 and ran.error_lines == [
        f"depthview: error: {tmp_path / 'i.npz'}: accel: expected m/s^2 (NaN where a frame "
        "has none), got inf"
    ]


def test_frame_times_past_unix_seconds_are_one_line(tmp_path: Path) -> None:
    """Trial AF (D1): times in milliseconds (as many loggers save them), or 1e300, ended an
    .mcap or .rrd export with an OverflowError's traceback. One line names the array."""
    depth = np.full((3, 48, 64), 800, np.uint16)
    ms = np.array([1700000000000, 1700000000033, 1700000000066], np.int64)
    np.savez(tmp_path / "ms.npz", depth=depth, timestamp=ms)
    for out in ("x.mcap", "x.rrd", "x.npz"):
        ran = cli("export", str(tmp_path / "ms.npz"), str(tmp_path / out), "--quiet")
        assert ran.code == 2 and ran.error_lines == [
            f"depthview: error: {tmp_path / 'ms.npz'}: timestamp: expected seconds (unix time "
            "at most 4294967296), got 1.7e+12 at frame 0; times in milliseconds or "
            "nanoseconds are divided by 1e3 or 1e9 first"
        ], ran.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ms.npz"]
