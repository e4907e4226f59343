"""A stream some frames lack stays in the export for the frames that have it (issue 18):
a recording's first frame often has no accelerometer reading or video yet."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli
from depthview.sources import sample


def _frames(path: Path) -> list[dv.Frame]:
    with dv.open(str(path), realtime=False) as src:
        return list(src)


def test_npz_keeps_the_accelerometer_when_the_first_frame_has_none(tmp_path: Path) -> None:
    rec = sample.write_to(tmp_path / "rec")
    frames = _frames(rec)
    assert frames[0].accel is None and any(f.accel is not None for f in frames)
    assert cli("export", str(rec), str(tmp_path / "a.npz"), "--quiet").code == 0
    with np.load(tmp_path / "a.npz") as data:
        accel, times = data["accel"], data["accel_timestamp"]
    for f, row, t in zip(frames, accel, times, strict=True):
        if f.accel is None:
            assert np.isnan(row).all() and np.isnan(t)
        else:
            np.testing.assert_array_equal(row, f.accel)
            assert f.accel_stamp is not None and t == f.accel_stamp.host_time


def test_npz_keeps_the_video_of_the_frames_that_have_it(tmp_path: Path) -> None:
    """A PNG folder whose colour images start late, as frames built by hand can be."""
    with dv.open("demo", realtime=False) as src:
        demo = [next(src) for _ in range(4)]
    frames = [
        replace(f, video=None, video_stamp=None) if i in (0, 2) else f for i, f in enumerate(demo)
    ]
    dv.export(frames, tmp_path / "v.npz")
    with np.load(tmp_path / "v.npz") as data:
        valid, video, seq = data["video_valid"], data["video"], data["video_seq"]
        vtimes = data["video_timestamp"]
    assert valid.tolist() == [False, True, False, True]
    for f, ok, picture, s, t in zip(frames, valid, video, seq, vtimes, strict=True):
        if ok:
            assert f.video is not None and f.video_stamp is not None
            np.testing.assert_array_equal(picture, f.video)
            assert s == f.video_stamp.seq and t == f.video_stamp.host_time
        else:
            assert not picture.any() and s == -1 and np.isnan(t)


def _accel_device_times(rec: Path) -> list[int]:
    """The device times of a recording's accelerometer records, from their INDEX.txt names."""
    lines = (rec / "INDEX.txt").read_text().split()
    return [int(x.rsplit("-", 1)[1].split(".")[0]) for x in lines if x.startswith("a-")]


def test_accelerometer_device_times_survive_an_npz(tmp_path: Path) -> None:
    """Trial J: ``record`` of an export of a recording gave the accelerometer device times
    made up from host times (1999969 for 2000000); the archive now keeps them
    (``accel_device_timestamp``, -1 where a frame has no reading) and reading it gives them."""
    rec = tmp_path / "rec"
    assert cli("record", "demo", str(rec), "--frames", "6", "--quiet").code == 0
    own = _accel_device_times(rec)
    assert len(own) >= 5
    assert cli("export", str(rec), str(tmp_path / "e.npz"), "--quiet").code == 0
    with np.load(tmp_path / "e.npz") as data:
        kept = data["accel_device_timestamp"]
        valid = np.isfinite(data["accel_timestamp"])
    assert kept.dtype == np.int64 and ((kept >= 0) == valid).all()
    frames = _frames(rec)
    want = [f.accel_stamp.device_timestamp for f in frames if f.accel_stamp is not None]
    assert kept[valid].tolist() == want
    assert cli("record", str(tmp_path / "e.npz"), str(tmp_path / "again"), "--quiet").code == 0
    again = _accel_device_times(tmp_path / "again")
    assert again == want and set(again) <= set(own)


def test_an_export_that_leaves_colour_out_says_so(tmp_path: Path) -> None:
    """Trial J: ``export SRC DIR --format png16`` left the source's colour out with no word,
    so every later step from the export had lost it. Trial L: a .ply took the colour pixel
    at each depth pixel also where colour does not line up with depth (a recording, 7-Scenes):
    wrong colours. Now a cloud is coloured pixel for pixel only where they line up (the
    demo, depth/ beside rgb/), through the registration with --registered, else not at all,
    and the export says so in one warning line."""
    from plyfile import PlyData

    said = "colour images are not kept"
    rec = tmp_path / "rec"  # a Kinect recording: colour from the other camera
    assert cli("record", "demo", str(rec), "--frames", "2", "--quiet").code == 0
    for argv, note in (
        (["p16", "--format", "png16"], "png16 holds depth only"),
        (["c.ply"], "coloured only with --registered"),
        (["cloud", "--format", "ply"], "coloured only with --registered"),
    ):
        ran = cli("export", str(rec), str(tmp_path / argv[0]), *argv[1:], "--frames", "1")
        assert ran.code == 0, ran.err
        (line,) = [x for x in ran.err.splitlines() if said in x]
        assert line.startswith(f"depthview: warning: {tmp_path / argv[0]}: {rec}'s ")
        assert note in line
    names = {p.name for p in PlyData.read(str(tmp_path / "c.ply"))["vertex"].properties}
    assert "red" not in names  # as said: no colours
    for source, argv in (
        (str(rec), ["k.npz"]),
        (str(rec), ["r.ply", "--registered"]),
        (str(rec), ["m.mcap"]),
        ("demo", ["d.ply"]),  # the demo's colour lines up with its depth: coloured
    ):
        ran = cli("export", source, str(tmp_path / argv[0]), *argv[1:], "--frames", "1")
        assert ran.code == 0 and said not in ran.err, ran.err
    names = {p.name for p in PlyData.read(str(tmp_path / "d.ply"))["vertex"].properties}
    assert {"red", "green", "blue"} <= names
    ran = cli("export", "sample", str(tmp_path / "s16"), "--format", "png16", "--frames", "1")
    assert ran.code == 0 and said not in ran.err, ran.err  # no colour to leave out


def test_a_cloud_takes_colour_where_the_layout_lines_it_up(tmp_path: Path) -> None:
    """depth/ beside rgb/ (TUM, Redwood, SUN3D: depth registered to colour) colours each
    point with the pixel at its own place; 7-Scenes' flat folder (two cameras, not
    registered) gives no colours, and says so."""
    from PIL import Image
    from plyfile import PlyData

    depth = np.full((6, 8), 1500, np.uint16)
    rgb = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
    tum = tmp_path / "scene"
    (tum / "depth").mkdir(parents=True)
    (tum / "rgb").mkdir()
    Image.fromarray(depth).save(tum / "depth" / "1.000000.png")
    Image.fromarray(rgb).save(tum / "rgb" / "1.000000.png")
    seven = tmp_path / "seq-01"
    seven.mkdir()
    Image.fromarray(depth).save(seven / "frame-000000.depth.png")
    Image.fromarray(rgb).save(seven / "frame-000000.color.png")

    ran = cli("export", str(tum), str(tmp_path / "t.ply"), "--depth-format", "mm")
    assert ran.code == 0 and "not kept" not in ran.err, ran.err
    v = PlyData.read(str(tmp_path / "t.ply"))["vertex"]
    got = np.stack([v["red"], v["green"], v["blue"]], axis=1)
    np.testing.assert_array_equal(got, rgb.reshape(-1, 3))  # row-major, every pixel a point

    ran = cli("export", str(seven), str(tmp_path / "s.ply"))
    assert ran.code == 0 and "coloured only with --registered" in ran.err, ran.err
    names = {p.name for p in PlyData.read(str(tmp_path / "s.ply"))["vertex"].properties}
    assert "red" not in names


def _ir_frames(fmt: dv.VideoFormat) -> list[dv.Frame]:
    """Three frames with IR video: the demo's 8-bit IR, or 10-bit IR as a Kinect gives it
    ((H, W) uint16, 0..1023)."""
    if fmt is dv.VideoFormat.IR_8BIT:
        with dv.open("demo", realtime=False) as src:
            src.set_video_format(fmt)
            return [next(src) for _ in range(3)]
    depth = np.full((6, 8), 800, np.uint16)
    return [
        dv.Frame(
            depth=depth,
            video=((np.arange(48, dtype=np.uint16).reshape(6, 8) * 21 + i) % 1024),
            video_format=fmt,
            timestamp=1.0 + i / 30,
            index=i,
        )
        for i in range(3)
    ]


@pytest.mark.parametrize("fmt", [dv.VideoFormat.IR_8BIT, dv.VideoFormat.IR_10BIT])
def test_an_ir_npz_export_reads_back_as_ir(tmp_path: Path, fmt: dv.VideoFormat) -> None:
    """Trial O: a .npz export of IR frames ((H, W) video) was written, then refused by
    depthview's own reader ("expected 'video' as colour of shape (N, H, W, 3)"). The archive
    now names its video's format and reads back as that IR, through every command."""
    frames = _ir_frames(fmt)
    assert dv.export(frames, tmp_path / "ir.npz").frames == 3
    info = cli("info", str(tmp_path / "ir.npz"))
    assert info.code == 0 and f"video_formats: ['{fmt.name}']" in info.out, info.err
    ran = cli("export", str(tmp_path / "ir.npz"), str(tmp_path / "again.npz"), "--quiet")
    assert ran.code == 0, ran.err
    with np.load(tmp_path / "again.npz") as data:
        assert data["video_format"] == int(fmt)
    back = _frames(tmp_path / "again.npz")
    assert [f.video_format for f in back] == [fmt] * 3
    for given, read in zip(frames, back, strict=True):
        assert given.video is not None and read.video is not None
        assert read.video.dtype == given.video.dtype
        np.testing.assert_array_equal(read.video, given.video)


def test_npz_refuses_video_it_could_not_read_back(tmp_path: Path) -> None:
    """Video in a format no reader takes (Bayer) is refused before anything is written,
    rather than an archive that cannot be opened."""
    frame = replace(_ir_frames(dv.VideoFormat.IR_8BIT)[0], video_format=dv.VideoFormat.BAYER)
    with pytest.raises(dv.ExportError, match=r"ir\.npz: expected video as RGB .* got BAYER"):
        dv.export([frame], tmp_path / "ir.npz")
    assert list(tmp_path.iterdir()) == []


def test_npz_video_unlike_its_video_format_is_one_line(tmp_path: Path) -> None:
    depth = np.full((2, 6, 8), 800, np.uint16)
    np.savez(tmp_path / "x.npz", depth=depth, video=np.zeros((2, 6, 8), np.uint8), video_format=0)
    ran = cli("info", str(tmp_path / "x.npz"))
    assert ran.code == 2 and len(ran.error_lines) == 1
    assert (
        "expected 'video' as RGB video of shape (2, H, W, 3) uint8, as its video_format array "
        "says, got uint8 (2, 6, 8)" in ran.error_lines[0]
    )
