"""Exports opened with independent readers (Pillow, PyAV's decoder, plyfile, numpy)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from plyfile import PlyData

import depthview as dv
from _helpers_cli import cli, tree_hash
from _helpers_kinect_mm import metres as kinect_metres
from _helpers_sources import PERSON, write_entries, write_recording
from depthview.cli import main
from depthview.colorize import Equalizer
from depthview.sources.depth_png import read_header

CLI = [sys.executable, "-m", "depthview"]


def person_frames() -> list[dv.Frame]:
    with dv.open(str(PERSON), realtime=False) as src:
        return list(src)


def test_png_matches_colorize_and_range(tmp_path: Path) -> None:
    out = tmp_path / "png"
    code = main(
        [
            "export",
            str(PERSON),
            str(out),
            "--range",
            "3:12",
            "--every",
            "4",
            "--palette",
            "turbo",
            "--near",
            "0.8",
            "--far",
            "3",
            "--quiet",
        ]
    )
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["frame-000003.png", "frame-000007.png", "frame-000011.png"]
    frames = person_frames()
    for name in names:
        i = int(name[6:12])
        with Image.open(out / name) as im:
            assert im.mode == "RGB" and im.size == (640, 480)
            pixels = np.asarray(im)
        want = dv.colorize(frames[i].depth, "turbo", near=0.8, far=3.0)
        np.testing.assert_array_equal(pixels, want)


def test_png16_of_raw_depth_holds_millimetres(tmp_path: Path) -> None:
    """Issue 22: a png16 export of a raw source holds millimetres as libfreenect's
    FREENECT_DEPTH_MM gives them for the source's registration (``dv.to_mm``, checked
    against libfreenect in test_registration_libfreenect), marked MM; on main it held the
    raw disparity (539-2047)."""
    out = tmp_path / "p16"
    assert (
        main(["export", str(PERSON), str(out), "--format", "png16", "--frames", "2", "--quiet"])
        == 0
    )
    with dv.open(str(PERSON), realtime=False) as src:
        registration = src.registration
        frames = [src.read() for _ in range(2)]
    assert frames[0].depth_format is dv.DepthFormat.RAW_11BIT
    for i in range(2):
        assert read_header(out / f"frame-{i:06d}.png").marker == "MM"
        with Image.open(out / f"frame-{i:06d}.png") as im:
            assert im.mode in ("I;16", "I")
            got = np.asarray(im).astype(np.uint16)
        np.testing.assert_array_equal(got, dv.to_mm(frames[i].depth, registration))
        seen = got[got > 0]
        assert seen.size and seen.min() >= 400 and seen.max() <= 10000  # millimetres
    with dv.open(str(out)) as back:  # read back as millimetres, by the marker
        assert back.read().depth_format is dv.DepthFormat.MM


def test_side_by_side_png_from_demo(tmp_path: Path) -> None:
    out = tmp_path / "sbs"
    assert main(["export", "demo", str(out), "--layout", "both", "--frames", "2", "--quiet"]) == 0
    with dv.open("demo", fps=0) as src:
        frame = src.read()
    pixels = np.asarray(Image.open(out / "frame-000000.png"))
    assert pixels.shape == (480, 1280, 3)
    np.testing.assert_array_equal(pixels[:, :640], dv.colorize(frame.depth))
    assert frame.video is not None
    np.testing.assert_array_equal(pixels[:, 640:], frame.video)


def read_mp4(path: Path) -> tuple[np.ndarray, float]:
    """Every frame of an MP4 decoded by PyAV (FFmpeg's decoder), and its frame rate."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        return np.stack(frames), float(stream.average_rate)


def test_mp4_frames_and_rate(tmp_path: Path) -> None:
    out = tmp_path / "d.mp4"
    assert main(["export", "demo", str(out), "--frames", "12", "--layout", "both", "--quiet"]) == 0
    video, fps = read_mp4(out)
    assert video.shape == (12, 480, 1280, 3)
    assert fps == pytest.approx(30.0)
    with dv.open("demo", fps=0) as src:
        first = dv.colorize(src.read().depth)
    # lossy codec: close on average, not bit for bit
    assert np.abs(video[0, :, :640].astype(int) - first.astype(int)).mean() < 8
    assert (
        main(
            [
                "export",
                "demo",
                str(tmp_path / "slow.mp4"),
                "--frames",
                "3",
                "--fps",
                "12.5",
                "--quiet",
            ]
        )
        == 0
    )
    assert read_mp4(tmp_path / "slow.mp4")[1] == pytest.approx(12.5)


@pytest.mark.parametrize(("height", "width"), [(481, 641), (480, 640)])
def test_mp4_of_odd_sizes_says_it_cuts_them(tmp_path: Path, height: int, width: int) -> None:
    """Trial O: 481x641 frames became a 480x640 MP4 without a word (H.264's yuv420p takes
    even sizes), where other exports say what they change. Now one warning says so."""
    np.save(tmp_path / "d.npy", np.full((2, height, width), 800, np.uint16))
    ran = cli("export", str(tmp_path / "d.npy"), str(tmp_path / "d.mp4"), "--quiet")
    assert ran.code == 0, ran.err
    video, _ = read_mp4(tmp_path / "d.mp4")
    even = (height // 2 * 2, width // 2 * 2)
    assert video.shape == (2, *even, 3)
    said = [line for line in ran.err.splitlines() if "MP4's pictures" in line]
    if even == (height, width):
        assert said == []
    else:
        assert said == [
            f"depthview: warning: the MP4's pictures of {width}x{height} are cut to "
            f"{even[1]}x{even[0]}: H.264 takes even sizes (the last column or row is left out; "
            "a PNG export keeps it)"
        ]


def test_ply_points_match_independent_unprojection(tmp_path: Path) -> None:
    out = tmp_path / "ply"
    assert main(["export", "demo", str(out), "--format", "ply", "--range", "5:6", "--quiet"]) == 0
    with dv.open("demo", fps=0) as src:
        src.seek(5)
        frame = src.read()
    ply = PlyData.read(str(out / "frame-000005.ply"))
    assert ply.byte_order == "<" and not ply.text
    v = ply["vertex"]
    metres = kinect_metres(frame.depth)  # libfreenect's table (its C formula, written out)
    ok = np.isfinite(metres)
    vv, uu = np.nonzero(ok)
    z = metres[ok]
    assert v.count == ok.sum() > 1000
    np.testing.assert_allclose(v["z"], z, rtol=1e-5)
    np.testing.assert_allclose(v["x"], (uu - 339.5) / 594.21 * z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v["y"], (vv - 242.7) / 591.04 * z, rtol=1e-5, atol=1e-6)
    assert frame.video is not None
    np.testing.assert_array_equal(v["green"], frame.video[ok][:, 1])


def test_ply_without_video_has_no_colours(tmp_path: Path) -> None:
    out = tmp_path / "ply"
    assert (
        main(["export", str(PERSON), str(out), "--format", "ply", "--frames", "1", "--quiet"]) == 0
    )
    names = [p.name for p in PlyData.read(str(out / "frame-000000.ply"))["vertex"].properties]
    assert names == ["x", "y", "z"]


def test_npz_raw_frames(tmp_path: Path) -> None:
    out = tmp_path / "f.npz"
    assert main(["export", str(PERSON), str(out), "--quiet"]) == 0
    frames = person_frames()
    with np.load(out) as data:
        assert data["depth"].shape == (20, 480, 640)
        np.testing.assert_array_equal(data["depth"], np.array([f.depth for f in frames]))
        np.testing.assert_array_equal(data["index"], np.arange(20))
        assert "video" not in data.files


@pytest.mark.parametrize(
    ("out", "extra", "message"),
    [
        ("o", ["--range", "9:3"], "--range: expected 0 <= START < END"),
        ("o", ["--range", "a:b"], "--range: expected START:END"),
        ("o", ["--frames", "0"], "argument --frames: expected a whole number of frames >= 1"),
        ("o", ["--palette", "nope"], "argument --palette: invalid choice: 'nope'"),
        ("o", ["--format", "gif"], "argument --format: invalid choice: 'gif'"),
        ("o", ["--layout", "side-by-side"], "argument --layout: invalid choice"),
        ("o", ["--every", "0"], "argument --every: expected a whole number >= 1 and <= 1000000000"),
        ("o", ["--palette", "glview", "--near", "1"], "glview"),
        ("o", ["--format", "mp4"], "--format mp4 writes one file: expected a name ending in .mp4"),
        ("o.mp4", ["--format", "png"], "a .mp4 name means --format mp4, got --format png"),
        ("o.npz", ["--format", "mp4"], "a .npz name means --format npz"),
        ("o.gif", [], "expected a name ending in .mcap, .mp4, .npz, .ply, .rrd, or a folder"),
        (
            "o.mp4",
            ["--fps", "0"],
            "argument --fps: expected a finite number of frames per second >= 0.01 and "
            "<= 1000, got '0'",
        ),
        (
            "o.mp4",
            ["--fps", "nan"],
            "argument --fps: expected a finite number of frames per second >= 0.01 and "
            "<= 1000, got 'nan'",
        ),
        ("o.npz", ["--palette", "turbo"], "--format npz holds depth values, not pictures"),
        ("file/o.mp4", [], "not a writable folder"),
    ],
)
def test_bad_arguments_exit_2_and_leave_nothing(
    tmp_path: Path, out: str, extra: list[str], message: str
) -> None:
    (tmp_path / "file").write_text("not a folder")
    before = sorted(tmp_path.iterdir())
    proc = subprocess.run(
        [sys.executable, "-m", "depthview", "export", str(PERSON), str(tmp_path / out), *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert sorted(tmp_path.iterdir()) == before  # no empty output folder, no partial file


def test_format_follows_the_name(tmp_path: Path) -> None:
    assert main(["export", "sample", str(tmp_path / "cloud.ply"), "--range", "4:", "--quiet"]) == 0
    ply = PlyData.read(str(tmp_path / "cloud.ply"))
    with dv.open("sample", realtime=False) as src:
        src.seek(4)
        z = dv.to_metres(src.read().depth)
    np.testing.assert_allclose(ply["vertex"]["z"], z[~np.isnan(z)])
    assert main(["export", "sample", str(tmp_path / "frames"), "--frames", "2", "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [
        "frame-000000.png",
        "frame-000001.png",
    ]


def test_millimetre_sources_get_a_steady_metric_palette(tmp_path: Path) -> None:
    with dv.open("demo", fps=0, frames=2, depth_format="mm") as src:
        summary = dv.export(src, tmp_path / "mm")
        assert summary.frames == 2
        src.seek(0)
        frames = list(src)
    # turbo, equalised as the stream goes (as the viewer does), not frame by frame
    follow = Equalizer()
    for f in frames:
        want = dv.colorize(f.depth, "turbo", depth_format="mm", equalizer=follow)
        with Image.open(tmp_path / "mm" / f"frame-{f.index:06d}.png") as im:
            np.testing.assert_array_equal(np.asarray(im), want)
    alone = dv.colorize(frames[1].depth, "turbo", depth_format="mm")
    assert not np.array_equal(alone, want)


def test_npz_keeps_each_streams_times(tmp_path: Path) -> None:
    lines = write_entries(tmp_path / "rec", "rrdarrdad")
    assert main(["export", str(tmp_path / "rec"), str(tmp_path / "f.npz"), "--quiet"]) == 0
    with dv.open(str(tmp_path / "rec"), realtime=False) as src:
        frames = list(src)
    with np.load(tmp_path / "f.npz") as data:
        times = [f.video_stamp.host_time for f in frames if f.video_stamp]
        np.testing.assert_array_equal(data["video_timestamp"], times)
        np.testing.assert_array_equal(data["video_seq"], [1, 3, 3])
        assert data["video_device_timestamp"][0] == int(lines[1].split("-")[2].split(".")[0])
        np.testing.assert_array_equal(data["timestamp"], [f.timestamp for f in frames])


@pytest.mark.parametrize(
    ("every", "given", "rate"), [(3, None, 10.0), (2, None, 15.0), (3, 30, 30.0)]
)
def test_mp4_with_every_plays_in_the_sources_time(
    tmp_path: Path, every: int, given: int | None, rate: float
) -> None:
    """Trial J: ``--every 3`` made a 30 frames/s MP4 of every third frame, three times too
    fast (9 s of source in 3 s). The rate is now the source's / N, so the video lasts as long
    as the frames it shows; an ``--fps`` given is the MP4's as asked."""
    out = tmp_path / "e.mp4"
    extra = [] if given is None else ["--fps", str(given)]
    ran = cli("export", "demo", str(out), "--frames", "6", "--every", str(every), *extra)
    assert ran.code == 0, ran.err
    with dv.open("demo", realtime=False) as src:
        source_rate = src.fps
    video, fps = read_mp4(out)
    assert len(video) == 6
    assert fps == pytest.approx(rate) and (given or source_rate / every) == pytest.approx(rate)


@pytest.mark.parametrize("kind", ["npz", "recording", "npz jittered"])
@pytest.mark.parametrize("every", [1, 2])
def test_an_mp4_plays_at_the_rate_of_the_sources_own_times(
    tmp_path: Path, kind: str, every: int
) -> None:
    """Trial O: an MP4 of a 10 frames/s ``.npz`` with ``timestamp`` (or of a recording
    made at 10 frames/s) played at 30 frames/s (/ --every), three times too fast: the
    source's rate was the nominal 30 whatever its times. It is now the one its own frame
    times show, so the video lasts as long as the frames it shows took."""
    dt = 0.1
    if kind == "recording":
        write_recording(tmp_path / "src", 8, dt=dt, video=False)
        source = tmp_path / "src"
    else:
        times = 1_700_000_000 + np.arange(8) * dt
        if kind == "npz jittered":  # host times as a busy machine stamps them, one dropped
            times = times + np.array([0, 4, -3, 2, -4, 3, 0, 0]) * 1e-3
            times[-1] += dt  # the last frame late by one interval: a gap is not the rate
        source = tmp_path / "ts.npz"
        np.savez(source, depth=np.full((8, 48, 64), 700, np.uint16), timestamp=times)
    out = tmp_path / "v.mp4"
    ran = cli("export", str(source), str(out), "--every", str(every), "--quiet")
    assert ran.code == 0, ran.err
    video, fps = read_mp4(out)
    assert len(video) == len(range(0, 8, every))
    assert fps == pytest.approx(1 / dt / every, rel=0.01)


MP4_INTERRUPTED = """
import sys
from depthview.cli import main
from depthview.colorize import Equalizer
from depthview.sources.depth_png import read_header
sys.exit(main(["export", "demo", sys.argv[1], "--frames", "600", "--quiet"]))
"""


@pytest.mark.parametrize("delay", [0.0, 0.8, 1.6, 2.4])
def test_ctrl_c_leaves_a_playable_mp4_or_nothing(tmp_path: Path, delay: float) -> None:
    out = tmp_path / "cut.mp4"
    proc = subprocess.Popen(
        [sys.executable, "-c", MP4_INTERRUPTED, str(out)], stderr=subprocess.PIPE, text=True
    )
    partial = tmp_path / ".cut.mp4.partial"
    deadline = time.monotonic() + 60
    while not partial.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # start-up: until the export has begun writing
    time.sleep(delay)  # then somewhere in the export
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert [p.name for p in tmp_path.iterdir()] in ([], ["cut.mp4"])  # no partial file
    if out.exists():
        video, _ = read_mp4(out)
        assert f"interrupted: exported {len(video)} frames" in err
    else:
        assert f"interrupted: nothing exported: {out} was not made" in err


def test_overwrite_protection(tmp_path: Path) -> None:
    out = tmp_path / "x.npz"
    out.write_bytes(b"precious")
    args = ["export", str(PERSON), str(out), "--quiet"]
    assert main(args) == 2
    assert out.read_bytes() == b"precious"
    assert main([*args, "--overwrite"]) == 0
    with np.load(out) as data:
        assert len(data["depth"]) == 20


def test_progress_bar_on_stderr(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "depthview",
            "export",
            str(PERSON),
            str(tmp_path / "o"),
            "--format",
            "png16",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout == ""
    assert "20/20" in proc.stderr and "frame/s" in proc.stderr


def test_ply_uses_the_intrinsics_given(tmp_path: Path) -> None:
    out = tmp_path / "c.ply"
    assert main(["export", "sample", str(out), "--intrinsics", "500,520,320,250", "--quiet"]) == 0
    v = PlyData.read(str(out))["vertex"]
    frame = person_frames()[0]
    z = dv.to_metres(frame.depth)
    vv, uu = np.nonzero(~np.isnan(z))
    np.testing.assert_allclose(v["x"], (uu - 320) / 500 * z[vv, uu], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v["y"], (vv - 250) / 520 * z[vv, uu], rtol=1e-5, atol=1e-6)


def test_a_range_without_a_palette_is_turbo_in_export_as_in_view(tmp_path: Path) -> None:
    """Trial D (issue 22): ``export sample out --near 0.5`` was refused (the default glview
    has no range) while ``view sample --near 0.5`` drew; a range now asks for the metric
    default, turbo, in both, and ``--palette glview`` with a range is one line in both."""
    out = tmp_path / "p"
    ran = cli("export", str(PERSON), str(out), "--near", "0.5", "--far", "3", "--frames", "1")
    assert ran.code == 0, ran.err
    with dv.open(str(PERSON), realtime=False) as src:
        frame = src.read()
    with Image.open(out / "frame-000000.png") as im:
        got = np.asarray(im)
    np.testing.assert_array_equal(got, dv.colorize(frame.depth, "turbo", near=0.5, far=3.0))
    for command in (["export", str(PERSON), str(tmp_path / "q")], ["view", str(PERSON)]):
        ran = cli(*command, "--near", "0.5", "--palette", "glview", "--frames", "1")
        assert ran.code == 2 and ran.error_lines == [
            "depthview: error: --palette glview maps raw values and has no range: --near and "
            "--far need a metric palette such as turbo"
        ], ran.err
    assert not (tmp_path / "q").exists()


def test_npz_keeps_each_frames_tilt_and_reads_it_back(tmp_path: Path) -> None:
    """The sample's motor angle (trial G: the .npz had none while the .mcap had 83 tilt
    messages): each frame's newest tilt is kept, NaN where a frame has none, and a replay
    of the archive gives every frame the tilt the recording gave it."""
    out = tmp_path / "s.npz"
    ran = cli("export", "sample", str(out), "--quiet")
    assert ran.code == 0, ran.err
    with dv.open("sample") as src:
        want = [f.tilt_deg for f in src]
    assert any(t is not None for t in want)
    stored = np.load(out)["tilt_deg"]
    assert [None if np.isnan(t) else float(t) for t in stored] == want
    with dv.open(str(out)) as src:
        assert [f.tilt_deg for f in src] == want


def test_a_broken_frame_is_not_replaced_by_the_next(tmp_path: Path) -> None:
    """Trial G (issue 22): with frame 9 of a recording broken, ``--range 8:10`` exported
    frames 8 and 10 (10 is outside the range), ``--range 9:10`` frame 10 alone, and
    ``--every 3`` shifted its rhythm after the gap. Frames are counted by the recording's
    own numbers; a range with no readable frame is refused in one line, nothing written."""
    from depthview.sources import sample

    rec = tmp_path / "rec"
    sample.write_to(rec)
    tenth = sorted(rec.glob("d-*.pgm"))[9]
    tenth.write_bytes(tenth.read_bytes()[:1000])

    def indices(*extra: str) -> list[int]:
        out = tmp_path / "x.npz"
        ran = cli("export", str(rec), str(out), "--quiet", "--overwrite", *extra)
        assert ran.code == 0, ran.err
        return [int(i) for i in np.load(out)["index"]]

    assert indices("--range", "8:10") == [8]  # frame 9 skipped (said), 10 not taken
    assert indices("--every", "3") == [0, 3, 6, 12, 15, 18]
    assert indices("--range", "8:12") == [8, 10, 11]
    earlier = (tmp_path / "x.npz").read_bytes()
    for out in ("x.npz", "p", "x.mcap"):
        ran = cli("export", str(rec), str(tmp_path / out), "--range", "9:10", "--overwrite")
        assert ran.code == 2, ran.err
        assert ran.error_lines == [
            f"depthview: error: {rec}: nothing to export: no readable frame among those "
            f"chosen (--range, --every, --frames); {tmp_path / out} was not written"
        ]
    assert (tmp_path / "x.npz").read_bytes() == earlier  # the earlier export stays
    assert not (tmp_path / "p").exists() and not (tmp_path / "x.mcap").exists()
    ran = cli("export", str(rec), str(tmp_path / "q"), "--range", "8:11", "--quiet")
    assert ran.code == 0, ran.err
    assert sorted(p.name for p in (tmp_path / "q").iterdir()) == [
        "frame-000008.png",
        "frame-000010.png",
    ]


def test_an_export_of_an_export_numbers_its_frames_as_the_file_read(tmp_path: Path) -> None:
    """Trial Z (D3): an ``.npz``'s ``index`` is each frame's place in the SOURCE exported
    (the README's rule): the source frames 2, 5, 8 of a recording; exported again, the places
    in that file, 0, 1, 2, with the times the first export kept."""
    from depthview.sources import sample

    rec = sample.write_to(tmp_path / "rec")
    first, again = tmp_path / "b.npz", tmp_path / "b2.npz"
    for source, out, extra in (
        (rec, first, ("--range", "2:9", "--every", "3")),
        (first, again, ()),
    ):
        ran = cli("export", str(source), str(out), "--quiet", *extra)
        assert ran.code == 0, ran.err
    with dv.open(str(rec), realtime=False) as src:
        times = [src.read().timestamp for _ in range(9)]
    b, b2 = np.load(first), np.load(again)
    assert list(b["index"]) == [2, 5, 8] and list(b2["index"]) == [0, 1, 2]
    np.testing.assert_array_equal(b["timestamp"], [times[2], times[5], times[8]])
    np.testing.assert_array_equal(b2["timestamp"], b["timestamp"])


def test_an_overlay_of_depth_and_colour_that_do_not_line_up_is_said(tmp_path: Path) -> None:
    """Trial AB (D17): ``--layout overlay`` blended depth over colour pixel for pixel where
    they do not line up (a recording's raw depth, 7-Scenes), without a word, while a cloud
    of the same source said it. Said, with what lines them up; not where they do."""
    rec = tmp_path / "rec"
    assert cli("record", "demo", str(rec), "--frames", "1", "--quiet").code == 0
    runs = {
        "raw": (str(rec), []),
        "registered": (str(rec), ["--depth-format", "registered"]),
        "demo": ("demo", []),
    }
    said = {}
    for name, (source, extra) in runs.items():
        out = tmp_path / name
        ran = cli("export", source, str(out), "--layout", "overlay", "--frames", "1", *extra)
        assert ran.code == 0, ran.err
        said[name] = [ln for ln in ran.err.splitlines() if "--layout overlay" in ln]
    assert said == {
        "raw": [
            f"depthview: warning: {tmp_path / 'raw'}: --layout overlay blends {rec}'s depth over "
            "its colour images pixel for pixel, and they do not line up (--depth-format "
            "registered lines them up)"
        ],
        "registered": [],
        "demo": [],
    }


def test_registered_depth_to_ply_is_not_said_to_leave_its_colour_out(tmp_path: Path) -> None:
    """Trial AB (D11): ``--depth-format registered x.ply`` warned that the colour is not kept
    (it "does not line up"), while registered depth lines up with it and every point was
    coloured. No such warning, and the points take the colour pixel for pixel."""
    from plyfile import PlyData

    rec = tmp_path / "rec"
    assert cli("record", "demo", str(rec), "--frames", "1", "--quiet").code == 0
    out = tmp_path / "x.ply"
    ran = cli("export", str(rec), str(out), "--depth-format", "registered")
    assert ran.code == 0, ran.err
    assert "not kept" not in ran.err, ran.err
    vertex = PlyData.read(str(out))["vertex"]
    with dv.open(str(rec), realtime=False, depth_format="registered") as src:
        frame = src.read()
    video = frame.video
    assert video is not None
    want = video[(frame.depth > 0)]
    got = np.stack([vertex["red"], vertex["green"], vertex["blue"]], axis=-1)
    assert len(got) == len(want) and (got.sum(axis=1) > 0).mean() > 0.9
    np.testing.assert_array_equal(np.sort(got, axis=0), np.sort(want, axis=0))


@pytest.mark.parametrize("registered", [True, False])
def test_a_colour_image_of_another_size_is_said_not_to_colour_points(
    tmp_path: Path, registered: bool
) -> None:
    """Trial G (issue 22): ``export TUM_HD t.ply --registered`` with a 1280x960 colour image
    wrote a cloud without colours and said nothing (a source without colour says so). One
    warning per export names the sizes; the cloud is what it says."""
    src = tmp_path / "hd.npz"
    np.savez(
        src,
        depth=np.full((3, 480, 640), 700, np.uint16),
        video=np.full((3, 960, 1280, 3), 90, np.uint8),
    )
    extra = ["--registered"] if registered else []
    for out in ("t.ply", "folder"):
        fmt = ["--format", "ply"] if out == "folder" else []
        ran = cli("export", str(src), str(tmp_path / out), "--quiet", *fmt, *extra)
        assert ran.code == 0, ran.err
        said = [line for line in ran.err.splitlines() if "not coloured" in line]
        assert said == [
            "depthview: warning: frame 0: a 1280x960 colour image, not the depth's 640x480: "
            "the points are not coloured"
        ]
    for ply in [tmp_path / "t.ply", *sorted((tmp_path / "folder").glob("*.ply"))]:
        names = {p.name for p in PlyData.read(str(ply))["vertex"].properties}
        assert "red" not in names and {"x", "y", "z"} <= names


def test_ply_of_raw_depth_past_the_range_holds_no_wall_at_10_m(tmp_path: Path) -> None:
    """Trial I (issue 22): raw values past the Kinect's range (libfreenect's millimetre table
    puts them at its 10000 mm ceiling) became a wall of points at z = 10 m in the PLY, while
    ``dv.point_cloud`` and ``to_metres`` have no reading there. The PLY holds the points
    with a reading: as many as ``to_metres`` gives finite distances."""
    from plyfile import PlyData

    depth = np.full((480, 640), 800, np.uint16)
    depth[:, 320:] = 1500  # past the range: no distance
    depth[:10] = 2047  # no reading
    np.save(tmp_path / "far.npy", depth)
    ran = cli("export", str(tmp_path / "far.npy"), str(tmp_path / "far.ply"), "--quiet")
    assert ran.code == 0, ran.err
    z = np.asarray(PlyData.read(str(tmp_path / "far.ply"))["vertex"]["z"])
    assert len(z) == int(np.isfinite(dv.to_metres(depth, "11bit")).sum())
    assert z.max() < 10.0


def test_a_colour_layout_with_no_readable_colour_is_refused_and_an_earlier_export_kept(
    tmp_path: Path,
) -> None:
    """Trial O: ``--layout video`` (``both``, ``overlay``) of a recording whose colour
    images were all broken exited 0 with all-black pictures, each skipped image warned
    about but nothing said about the result. It is refused now, as a source without colour
    is, and an earlier export stays as it was; one readable image is enough to export."""
    from _helpers_datasets import write_scene

    rec = write_scene(tmp_path / "rec", 4)
    colour = sorted(rec.glob("r-*.ppm"))
    for ppm in colour:
        ppm.write_bytes(ppm.read_bytes()[:100])
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    assert cli("export", "demo", str(earlier / "v.mp4"), "--frames", "2", "--quiet").code == 0
    assert cli("export", "demo", str(earlier / "p"), "--frames", "2", "--quiet").code == 0
    before = tree_hash(earlier)
    for out, layout in ((earlier / "v.mp4", "video"), (earlier / "p", "both")):
        ran = cli("export", str(rec), str(out), "--layout", layout, "--overwrite", "--quiet")
        assert ran.code == 2, ran.err
        (line,) = ran.error_lines
        assert line == (
            f"depthview: error: --layout {layout}: expected colour images to show, got no "
            f"readable one in the 4 frames of {rec} exported; {out} stays as it was"
        )
        assert tree_hash(earlier) == before
    # one readable image (written as the recorder writes it): the export goes ahead
    colour[2].write_bytes(b"P6 640 480 255\n" + bytes(range(256)) * 3600)
    ran = cli("export", str(rec), str(tmp_path / "ok.mp4"), "--layout", "video", "--quiet")
    assert ran.code == 0, ran.err


def test_frames_without_colour_in_a_colour_layout_are_said(tmp_path: Path) -> None:
    """Trial O (minor note): a ``.npz`` whose frame 1 has ``video_valid`` False gave a black
    ``--layout video`` picture for it without a word. One warning now names how many and
    the first; the export goes ahead."""
    npz = tmp_path / "x.npz"
    assert cli("export", "demo", str(npz), "--frames", "3", "--quiet").code == 0
    with np.load(npz) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["video_valid"][1] = False
    arrays["video"][1] = 0
    np.savez(tmp_path / "y.npz", **arrays)
    ran = cli(
        "export", str(tmp_path / "y.npz"), str(tmp_path / "p"), "--layout", "video", "--quiet"
    )
    assert ran.code == 0, ran.err
    assert (
        "depthview: warning: --layout video: 1 of the 3 frames exported had no colour image "
        "(the first: frame 1), black where it goes"
    ) in ran.err.splitlines()
    assert len(list((tmp_path / "p").glob("frame-*.png"))) == 3
    ran = cli("export", str(tmp_path / "y.npz"), str(tmp_path / "q"), "--layout", "depth")
    assert ran.code == 0 and "no colour image" not in ran.err, ran.err


QUARTERS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0))  # TL, TR, BL, BR


def quartered(height: int, width: int) -> np.ndarray:
    """A colour image whose four quarters are the four colours of ``QUARTERS``."""
    picture = np.zeros((height, width, 3), np.uint8)
    h, w = height // 2, width // 2
    for (y, x), colour in zip(((0, 0), (0, w), (h, 0), (h, w)), QUARTERS, strict=True):
        picture[y : y + h, x : x + w] = colour
    return picture


@pytest.mark.parametrize("size", [(960, 1280), (240, 320)])
def test_colour_of_another_size_fills_the_panel_whole(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """Trial AJ (D10): ``--layout both|video`` of colour larger than the depth showed only its
    top-left 640x480 (all one colour), and a smaller one sat in the panel's corner on black,
    while the viewer scales it into the panel. The whole picture now fills the panel: each
    quarter of it holds its own colour, in PNG and MP4."""
    npz = tmp_path / "x.npz"
    depth = np.full((2, 480, 640), 1500, np.uint16)
    video = np.stack([quartered(*size)] * 2)
    np.savez(npz, depth=depth, video=video, timestamp=np.array([5.0, 5.1]))
    for layout, left in (("both", 640), ("video", 0)):
        png, mp4 = tmp_path / f"p-{layout}", tmp_path / f"{layout}.mp4"
        for out in (png, mp4):
            ran = cli("export", str(npz), str(out), "--layout", layout, "--depth-format", "mm")
            assert ran.code == 0, ran.err
        pictures = {
            "png": np.asarray(Image.open(png / "frame-000000.png")).astype(int),
            "mp4": read_mp4(mp4)[0][0].astype(int),
        }
        for kind, picture in pictures.items():
            assert picture.shape == (480, left + 640, 3), kind
            panel = picture[:, left:]
            for (y, x), colour in zip(
                ((0, 0), (0, 320), (240, 0), (240, 320)), QUARTERS, strict=True
            ):
                # the quarter inside a margin (the MP4's chroma blurs its edges)
                inner = panel[y + 8 : y + 232, x + 8 : x + 312].reshape(-1, 3)
                error = np.abs(inner - np.array(colour)).max(axis=1)
                limit = 0 if kind == "png" else 40
                assert (error <= limit).mean() > 0.99, (layout, kind, (y, x), error.max())


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("x.mcap", ()),
        ("x.rrd", ()),
        ("x.npz", ()),
        ("x.mp4", ()),
        ("x.ply", ()),
        ("p", ()),
        ("p", ("--format", "png16")),
    ],
)
def test_ctrl_c_before_the_first_frame_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, extra: tuple[str, ...]
) -> None:
    """Trial Q 15: Ctrl-C as the writer starts, before it has a frame: no file is left
    (an .mcap was, with no message, and the next export was refused 'exists'), and the
    line says nothing was exported rather than '0 frames (0 files) to x.mcap'."""
    import importlib
    from dataclasses import replace

    export_module = importlib.import_module("depthview.export")  # (dv.export: the function)

    def interrupted_at_start(fmt: export_module.ExportFormat) -> export_module.ExportFormat:
        def write(frames: object, path: Path, settings: object) -> int:
            signal.raise_signal(signal.SIGINT)  # the user's Ctrl-C, as the writer begins
            return fmt.write(frames, path, settings)  # type: ignore[arg-type]

        return replace(fmt, write=write)

    for table in (export_module.FORMATS, export_module.SUFFIXES):
        for key, fmt in list(table.items()):
            monkeypatch.setitem(table, key, interrupted_at_start(fmt))
    out = tmp_path / "out"
    out.mkdir()
    ran = cli("export", str(PERSON), str(out / name), *extra, "--quiet")
    assert ran.code == 130, ran.err
    assert list(out.iterdir()) == []  # no file, no folder, no partial
    assert f"interrupted: nothing exported: {out / name} was not made" in ran.err, ran.err
    monkeypatch.undo()  # the next export, not interrupted, is not refused ("exists")
    again = cli("export", str(PERSON), str(out / name), *extra, "--frames", "1", "--quiet")
    assert again.code == 0, again.err
