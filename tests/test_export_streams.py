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
    assert ran.code == 0 and "the points cannot be coloured" in ran.err, ran.err
    names = {p.name for p in PlyData.read(str(tmp_path / "s.ply"))["vertex"].properties}
    assert "red" not in names


def test_a_cloud_advises_registered_only_where_it_works(tmp_path: Path) -> None:
    """Trial Q 7: a 7-Scenes cloud (millimetres, colour from another camera) advised
    "coloured only with --registered", and ``--registered`` was then refused ("expected raw
    11-bit depth to align, got millimetres"). Now the advice is given where following it
    colours the points (a Kinect recording's raw depth), and a source whose depth it cannot
    align is told that its points cannot be coloured."""
    from PIL import Image
    from plyfile import PlyData

    seven = tmp_path / "seq-01"  # 7-Scenes' flat folder: millimetres, two cameras
    seven.mkdir()
    Image.fromarray(np.full((6, 8), 1500, np.uint16)).save(seven / "frame-000000.depth.png")
    rgb = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
    Image.fromarray(rgb).save(seven / "frame-000000.color.png")
    rec = tmp_path / "rec"  # a Kinect recording: raw disparity, colour from the other camera
    assert cli("record", "demo", str(rec), "--frames", "1", "--quiet").code == 0
    advice = "coloured only with --registered"
    for source, follows in ((seven, False), (rec, True)):
        ran = cli("export", str(source), str(tmp_path / f"{source.name}.ply"), "--frames", "1")
        assert ran.code == 0, ran.err
        (line,) = [x for x in ran.err.splitlines() if "colour images are not kept" in x]
        assert (advice in line) is follows, line
        followed = tmp_path / f"{source.name}-registered.ply"
        ran = cli("export", str(source), str(followed), "--registered", "--frames", "1")
        assert ran.code == (0 if follows else 2), ran.err
        if follows:  # the advice, followed, colours the points
            names = {p.name for p in PlyData.read(str(followed))["vertex"].properties}
            assert {"red", "green", "blue"} <= names
        else:
            assert "the points cannot be coloured" in line


# -- trial O 10: a colour image serving two depth frames is one record -----------------------
def _sun3d(folder: Path) -> tuple[list[float], list[float]]:
    """The trial's SUN3D folder: two depth frames (names at 33000 and 36000 us), colour
    images at 0 (grey 10) and 35000 us (grey 200); (depth times, colour times) in s."""
    from PIL import Image

    mm = np.full((480, 640), 1500, np.uint16)
    for i, us in enumerate((33000, 36000)):
        stored = ((mm.astype(np.uint32) << 3) | (mm >> 13)).astype(np.uint16)  # SUN3D's
        (folder / "depth").mkdir(parents=True, exist_ok=True)
        Image.fromarray(stored).save(folder / "depth" / f"{i + 1:07d}-{us:012d}.png")
    for i, (us, grey) in enumerate(((0, 10), (35000, 200))):
        (folder / "image").mkdir(exist_ok=True)
        image = np.full((480, 640, 3), grey, np.uint8)
        Image.fromarray(image).save(folder / "image" / f"{i + 1:07d}-{us:012d}.png")
    (folder / "intrinsics.txt").write_text("570.342205 0 320\n0 570.342205 240\n0 0 1\n")
    return [0.033, 0.036], [0.0, 0.035]


def _tum(folder: Path) -> tuple[list[float], list[float]]:
    """The trial's TUM folder: depth at .160407/.194330/.226738, colour (grey 10, 100, 200)
    at .175304/.211214/.243347, with TUM's lists."""
    from PIL import Image

    depth = ["1305031102.160407", "1305031102.194330", "1305031102.226738"]
    colour = ["1305031102.175304", "1305031102.211214", "1305031102.243347"]
    (folder / "depth").mkdir(parents=True)
    (folder / "rgb").mkdir()
    for t in depth:
        Image.fromarray(np.full((480, 640), 5000, np.uint16)).save(folder / "depth" / f"{t}.png")
    for t, grey in zip(colour, (10, 100, 200), strict=True):
        image = np.full((480, 640, 3), grey, np.uint8)
        Image.fromarray(image).save(folder / "rgb" / f"{t}.png")
    (folder / "depth.txt").write_text("".join(f"{t} depth/{t}.png\n" for t in depth))
    (folder / "rgb.txt").write_text("".join(f"{t} rgb/{t}.png\n" for t in colour))
    return [float(t) for t in depth], [float(t) for t in colour]


GREYS = {"sun3d": (10, 200), "tum": (10, 100, 200)}


@pytest.mark.parametrize("kind", ["sun3d", "tum"])
def test_a_colour_image_serving_two_frames_is_labelled_and_written_once(
    tmp_path: Path, kind: str
) -> None:
    """Trial O 10: colour is paired by the names' times, but a SUN3D folder's frames were
    timed position / 30, and ``video_seq`` counted depth frames: an image serving two
    depth frames was labelled as two colour records (SUN3D: record 0 at 0.0 s, though its
    pixels were record 1's), and the ``.mcap`` / ``.rrd`` wrote it twice. Now the frames
    carry the names' times, each frame's colour its record's own place and time, and the
    image is written once."""
    from _helpers_sinks import column, read_mcap, read_rrd

    src = tmp_path / kind
    depth_t, colour_t = (_sun3d if kind == "sun3d" else _tum)(src)
    # the nearest colour record of each depth frame, by the names' times
    nearest = [min(range(len(colour_t)), key=lambda k: abs(colour_t[k] - t)) for t in depth_t]
    assert len(set(nearest)) < len(nearest)  # one image serves two frames
    ran = cli("export", str(src), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0 and "records no frame times" not in ran.err, ran.err
    with np.load(tmp_path / "x.npz") as z:
        np.testing.assert_allclose(z["timestamp"], depth_t, rtol=0, atol=1e-6)
        assert z["video_seq"].tolist() == nearest
        np.testing.assert_allclose(
            z["video_timestamp"], [colour_t[k] for k in nearest], rtol=0, atol=1e-6
        )
        assert [int(v.max()) for v in z["video"]] == [GREYS[kind][k] for k in nearest]
    shown = sorted(set(nearest))  # each image shown, once, at its own time
    for source, mcap in ((src, "x.mcap"), (tmp_path / "x.npz", "back.mcap")):  # read back too
        ran = cli("export", str(source), str(tmp_path / mcap), "--quiet")
        assert ran.code == 0, ran.err
        rgb = read_mcap(tmp_path / mcap)["/kinect/rgb/image"]
        assert [t / 1e9 for t, _ in rgb] == pytest.approx([colour_t[k] for k in shown], abs=1e-6)
        assert [msg.data[0] for _, msg in rgb] == [GREYS[kind][k] for k in shown]  # type: ignore[attr-defined]
    ran = cli("export", str(src), str(tmp_path / "x.rrd"), "--quiet")
    assert ran.code == 0, ran.err
    table = read_rrd(tmp_path / "x.rrd", "host_time")
    host = [int(v.value) / 1e9 for v in table.column("host_time").to_pandas()]
    images = [
        (t, bytes(blob[0])[0])
        for t, blob in zip(host, column(table, "/kinect/rgb:Image:buffer"), strict=True)
        if blob is not None
    ]
    assert [t for t, _ in images] == pytest.approx([colour_t[k] for k in shown], abs=1e-6)
    assert [grey for _, grey in images] == [GREYS[kind][k] for k in shown]


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


def test_npz_uint16_ir_past_10_bits_is_one_line(tmp_path: Path) -> None:
    """Trial AF (D3): a .npz's uint16 video of 60000 was taken as the Kinect's 10-bit IR
    (0..1023) without a word: clipped white in pictures, labelled IR_10BIT in .npz and
    .mcap. Refused in one line naming the array and its largest value; 1023 reads."""
    depth = np.full((2, 6, 8), 800, np.uint16)
    video = np.full((2, 6, 8), 1023, np.uint16)
    np.savez(tmp_path / "ok.npz", depth=depth, video=video)
    ran = cli("info", str(tmp_path / "ok.npz"))
    assert ran.code == 0 and "video_formats: ['IR_10BIT']" in ran.out, ran.err
    video[1, 2, 3] = 60000
    np.savez(tmp_path / "x.npz", depth=depth, video=video)
    ran = cli("export", str(tmp_path / "x.npz"), str(tmp_path / "out.npz"))
    assert ran.code == 2 and ran.error_lines == [
        f"depthview: error: {tmp_path / 'x.npz'}: expected 'video' as 10-bit IR (uint16 values "
        "0..1023, as a Kinect gives it), got values up to 60000"
    ], ran.err
    assert not (tmp_path / "out.npz").exists()


# -- trial Q 4: convert's own .npz read back with its times -----------------------------------
def test_a_convert_npz_reads_back_with_its_times_and_accelerometer(tmp_path: Path) -> None:
    """Trial Q 4: a ``convert --format npz`` scene (``layout`` ``convert-pairs``) holds
    ``depth_times``, ``rgb_times`` and ``accel``, yet reading it back said it "records no
    frame times", stamped the frames index / 30 (an .mcap dated 1970, colour at the depth's
    made-up time) and dropped the accelerometer. Now depth is at its recorded times, colour
    at its own (an image serving two depth frames once), the accelerometer kept."""
    from _helpers_datasets import T0, write_scene
    from _helpers_sinks import read_mcap

    write_scene(tmp_path / "rec" / "scene1", frames=6, video_every=2)
    ran = cli("convert", str(tmp_path / "rec"), str(tmp_path / "conv"), "--format", "npz")
    assert ran.code == 0, ran.err
    npz = tmp_path / "conv" / "scene1.npz"
    # the scene as written: depth at T0 + i/30, colour 12 ms after every second depth frame
    # (the odd frames' nearest is the one before), accelerometer (10, 819 + i % 3, -20) counts
    depth_t = [T0 + i / 30 for i in range(6)]
    colour_t = [T0 + (i - i % 2) / 30 + 0.012 for i in range(6)]
    accel = [np.array([10, 819 + i % 3, -20]) * 9.80665 / 819 for i in range(6)]
    info = cli("info", str(npz))
    assert info.code == 0 and "records no frame times" not in info.out + info.err
    ran = cli("export", str(npz), str(tmp_path / "back.npz"), "--quiet")
    assert ran.code == 0 and "records no frame times" not in ran.err, ran.err
    with np.load(tmp_path / "back.npz") as z:
        np.testing.assert_allclose(z["timestamp"], depth_t, rtol=0, atol=2e-6)
        np.testing.assert_allclose(z["video_timestamp"], colour_t, rtol=0, atol=2e-6)
        assert z["video_seq"].tolist() == [0, 0, 1, 1, 2, 2]
        np.testing.assert_allclose(z["accel"], accel, rtol=0, atol=1e-9)
    ran = cli("export", str(npz), str(tmp_path / "back.mcap"), "--quiet")
    assert ran.code == 0, ran.err
    topics = read_mcap(tmp_path / "back.mcap")
    seconds = {k: [t / 1e9 for t, _ in v] for k, v in topics.items()}
    assert seconds["/kinect/depth/image"] == pytest.approx(depth_t, abs=2e-6)
    assert seconds["/kinect/rgb/image"] == pytest.approx(colour_t[::2], abs=2e-6)
    got = [(m["x"], m["y"], m["z"]) for _, m in topics["/kinect/accel"]]
    np.testing.assert_allclose(got, accel, rtol=0, atol=1e-6)


def test_registered_points_without_a_colour_pixel_are_said(tmp_path: Path) -> None:
    """Trial X (D10): ``export --registered`` to PLY painted the points whose colour pixel
    falls outside the colour image (or is hidden in it) black, 8.7 % of them, without a
    word; the demo's colour image has no black pixel. They are counted in one warning: the
    count is the file's black points, read back from its bytes."""
    import re

    rec = tmp_path / "rec"
    assert cli("record", "demo", str(rec), "--frames", "5", "--quiet").code == 0
    out = tmp_path / "x.ply"
    ran = cli("export", str(rec), str(out), "--range", "3:4", "--registered", "--quiet")
    assert ran.code == 0, ran.err
    said = re.search(r"(\d+) of the (\d+) points fall outside the colour image", ran.err)
    assert said, ran.err
    head, _, body = out.read_bytes().partition(b"end_header\n")
    n = int(re.search(rb"element vertex (\d+)", head)[1])  # type: ignore[index]
    vertex = np.dtype([("xyz", "<f4", 3), ("rgb", "u1", 3)])
    rgb = np.frombuffer(body[: n * vertex.itemsize], vertex)["rgb"]
    assert int(said[2]) == n and int(said[1]) == int((rgb == 0).all(axis=1).sum()) > 0


def test_an_npz_of_converts_names_without_its_layout_keeps_its_times(tmp_path: Path) -> None:
    """Trial AN (D1): a .npz with ``depth_times`` and ``rgb_times`` (the README's names) but no
    ``layout`` array was read as recording no times: convert paired colour by position and
    timed frames by index / 30. Its own times are read, and pair as they say."""
    r = np.random.default_rng(1)
    np.savez(
        tmp_path / "pair.npz",
        depth=r.integers(500, 1000, (4, 48, 64)).astype(np.uint16),
        rgb=r.integers(0, 255, (4, 48, 64, 3)).astype(np.uint8),
        depth_times=np.array([0, 0.1, 0.2, 0.3]),
        rgb_times=np.array([0.02, 0.13, 0.19, 0.5]),
    )
    with dv.open(str(tmp_path / "pair.npz")) as src:
        assert [f.timestamp for f in src] == pytest.approx([0, 0.1, 0.2, 0.3])
        assert not src.times_guess
    out = tmp_path / "out"
    args = ["--max-dt", "0.025", "--depth-format", "mm", "--quiet"]  # (mm: written as it came)
    ran = cli("convert", str(tmp_path / "pair.npz"), str(out), *args)
    assert ran.code == 0, ran.err
    lines = (out / "pair" / "associations.txt").read_text().split("\n")
    pairs = [tuple(float(x) for x in ln.split()[::2]) for ln in lines if ln]
    assert pairs == [(0.02, 0.0), (0.19, 0.2)]  # 0.13 is 0.03 s from 0.1; 0.3 has none


# -- trial AM D8: an export's .npz keeps that its colour lines up with its depth --------------
def test_an_npz_export_keeps_its_colour_lined_up_with_its_depth(tmp_path: Path) -> None:
    """Trial AM D8: the demo's colour is rendered from the depth camera, so its cloud is
    coloured pixel for pixel; its .npz export read back said its colour "does not line up
    with its depth" and gave a cloud without colours. The archive now keeps the fact
    (``video_aligned``); one written before (without it) stays uncoloured, and says so."""
    from plyfile import PlyData

    def colours(ply: Path) -> np.ndarray:
        v = PlyData.read(str(ply))["vertex"]
        return np.stack([v["red"], v["green"], v["blue"]], axis=1)

    npz, own = tmp_path / "walk.npz", tmp_path / "own.ply"
    assert cli("export", "demo:walk", str(npz), "--frames", "2", "--quiet").code == 0
    assert cli("export", "demo:walk", str(own), "--frames", "1", "--quiet").code == 0
    ran = cli("export", str(npz), str(tmp_path / "back.ply"), "--frames", "1")
    assert ran.code == 0 and "line up" not in ran.err, ran.err
    got = colours(tmp_path / "back.ply")
    np.testing.assert_array_equal(got, colours(own))
    with np.load(npz) as z:  # each point the colour pixel at its own place (row-major)
        depth, video = z["depth"][0], z["video"][0]
        assert int(z["depth_format"]) == dv.DepthFormat.RAW_11BIT  # 2047: no reading
        arrays = {k: z[k] for k in z.files if k != "video_aligned"}
    np.testing.assert_array_equal(got, video[(depth > 0) & (depth < 2047)])

    older = tmp_path / "older.npz"  # as written before the array was kept
    np.savez(older, **arrays)
    ran = cli("export", str(older), str(tmp_path / "older.ply"), "--frames", "1")
    assert ran.code == 0 and "its colour does not line up with its depth" in ran.err, ran.err
    names = {p.name for p in PlyData.read(str(tmp_path / "older.ply"))["vertex"].properties}
    assert "red" not in names
