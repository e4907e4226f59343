"""File sources: every layout and unit people have, written small by the tests themselves
(never the datasets), read back and checked in metres against arithmetic done here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import depthview as dv
from _helpers_cli import cli
from _helpers_kinect_mm import metres as kinect_metres
from _helpers_sources import write_recording
from depthview.cli import main
from depthview.errors import SourceError
from depthview.frame import DepthFormat
from depthview.sources.depth_png import read_colour

RNG = np.random.default_rng(5)
H, W = 24, 32


def metres(src_frame: dv.Frame) -> np.ndarray:
    return dv.to_metres(src_frame.depth, src_frame.depth_format).astype(np.float64)


def expect_metres(got: np.ndarray, stored: np.ndarray, per_metre: float, invalid=(0,)) -> None:
    """``got`` (float metres) against stored / per_metre, NaN where there is no reading."""
    want = stored.astype(np.float64) / per_metre
    for bad in invalid:
        want[stored == bad] = np.nan
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, equal_nan=True)


def depth_values(lo: int, hi: int, n: int = 1) -> np.ndarray:
    d = RNG.integers(lo, hi, size=(n, H, W)).astype(np.uint16)
    d[:, ::7, ::5] = 0
    return d


def colour_values(n: int) -> np.ndarray:
    """Flat colours, distinct per frame, so a lossy JPEG still says which frame it is."""
    out = np.zeros((n, H, W, 3), dtype=np.uint8)
    for i in range(n):
        out[i] = (20 + 40 * i, 200 - 30 * i, 60 + 25 * i)
    return out


def save_png(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def assert_colour(got: np.ndarray | None, want: np.ndarray) -> None:
    assert got is not None and got.shape == want.shape
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 3  # JPEG rounding


# -- TUM RGB-D and ICL-NUIM: metres x 5000, kept at 0.2 mm ---------------------------------
def write_tum(root: Path, n: int = 3, *, association: bool = False) -> tuple[np.ndarray, list]:
    depth = depth_values(2500, 40000, n)
    colour = colour_values(n)
    t0 = 1305031102.160407
    lines_d, lines_r, assoc = [], [], []
    for i in range(n):
        td, tr = t0 + i / 30, t0 + i / 30 + 0.011  # colour runs 11 ms behind depth
        save_png(root / "depth" / f"{td:.6f}.png", depth[i])
        save_png(root / "rgb" / f"{tr:.6f}.png", colour[i])
        lines_d.append(f"{td:.6f} depth/{td:.6f}.png")
        lines_r.append(f"{tr:.6f} rgb/{tr:.6f}.png")
        assoc.append(f"{tr:.6f} rgb/{tr:.6f}.png {td:.6f} depth/{td:.6f}.png")
    if association:
        (root / "associations.txt").write_text("\n".join(reversed(assoc)) + "\n")
    else:
        (root / "depth.txt").write_text("# depth maps\n" + "\n".join(lines_d) + "\n")
        (root / "rgb.txt").write_text("# color images\n" + "\n".join(lines_r) + "\n")
    return depth, list(colour)


def test_tum_folder_keeps_fifths_of_a_millimetre(tmp_path: Path) -> None:
    root = tmp_path / "rgbd_dataset_freiburg1_xyz"
    depth, colour = write_tum(root)
    with dv.open(str(root)) as src:
        frames = list(src)
        note, intrinsics = src.units_note, src.intrinsics
    assert len(frames) == 3
    for i, f in enumerate(frames):
        assert f.depth_format is dv.DepthFormat.TUM
        np.testing.assert_array_equal(f.depth, depth[i])  # as stored: 0.2 mm kept
        expect_metres(metres(f), depth[i], 5000.0)
        assert_colour(f.video, colour[i])  # nearest timestamp, 11 ms apart
    assert "TUM" in note and "depth.txt" in note and "nearest timestamps" in note
    assert (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy) == (
        517.3,
        516.5,
        318.6,
        255.3,
    )
    # One step of 1 in TUM units is 0.2 mm: rounding to whole millimetres would lose it.
    z = dv.to_metres(np.array([[10001, 10002]], dtype=np.uint16), dv.DepthFormat.TUM)
    assert z[0, 1] - z[0, 0] == pytest.approx(0.0002, abs=1e-7)


def test_info_shows_the_timing_of_a_source_that_records_times(tmp_path: Path) -> None:
    """Trial P: ``info`` on a TUM folder showed no timing, though ``stream`` sent its frames
    at depth.txt's times (1.0, 1.5, 3.0 s). A source that records its frames' times (TUM's
    lists, an archive's ``timestamp``) now gets a recording's duration and intervals; one
    that records none (times made up) gets none."""
    tum = tmp_path / "tumds"
    for t in ("1.000000", "1.500000", "3.000000"):
        save_png(tum / "depth" / f"{t}.png", np.full((H, W), 5000, np.uint16))
        save_png(tum / "rgb" / f"{t}.png", colour_values(1)[0])
    lines = "".join(f"{t} depth/{t}.png\n" for t in ("1.000000", "1.500000", "3.000000"))
    (tum / "depth.txt").write_text("# depth\n#\n# timestamp filename\n" + lines)
    np.savez(tmp_path / "t.npz", depth=np.full((3, 6, 8), 800, np.uint16), timestamp=[5, 5.1, 5.4])
    save_png(tmp_path / "plain" / "a_depth.png", np.full((H, W), 900, np.uint16))
    save_png(tmp_path / "plain" / "b_depth.png", np.full((H, W), 900, np.uint16))
    for source, duration, worst in ((tum, 2.0, 1500.0), (tmp_path / "t.npz", 0.4, 300.0)):
        ran = cli("info", str(source), "--json")
        assert ran.code == 0, ran.err
        info = json.loads(ran.out)
        assert info["duration_s"] == pytest.approx(duration)
        assert info["worst_interval_ms"] == pytest.approx(worst)
        assert "times_guess" not in info
    info = json.loads(cli("info", str(tmp_path / "plain"), "--json").out)
    assert "duration_s" not in info and "records no frame times" in info["times_guess"]


def test_a_tum_list_whose_times_step_back_is_said_like_an_archives(tmp_path: Path) -> None:
    """Trial Q 11: a depth.txt listing its frames newest first gave ``info`` a mean and worst
    interval of -10 ms and no warning (a ``.npz`` whose times step back gets one), and the
    MP4 fell back to 30 frames/s without a word. Now the list gets the archive's warning,
    naming it; the intervals are those of the steps that go forward (none: left out); and
    a rate its times cannot give is said. Figures worked out here from the listed times."""

    def tum(name: str, times: list[str]) -> Path:
        folder = tmp_path / name
        for t in times:
            save_png(folder / "depth" / f"{t}.png", np.full((H, W), 5000, np.uint16))
        lines = "".join(f"{t} depth/{t}.png\n" for t in times)
        (folder / "depth.txt").write_text("# depth\n" + lines)
        return folder

    back = tum("back", ["1.12", "1.11", "1.10"])
    ran = cli("info", str(back), "--json")
    assert ran.code == 0, ran.err
    info = json.loads(ran.out)
    assert info["mean_interval_ms"] is None and info["worst_interval_ms"] is None
    assert info["times_not_increasing"] == 2
    said = f"{back / 'depth.txt'}: 2 frame time(s) do not increase (first 1.120000 then 1.110000"
    assert any(w.startswith(said) for w in info["warnings"]), info["warnings"]
    ran = cli("export", str(back), str(tmp_path / "b.mp4"), "--quiet")
    assert ran.code == 0, ran.err
    assert said in ran.err
    assert "frame times never go forward: its rate is taken as 30 frames/s" in ran.err

    mixed = tum("mixed", ["1.000", "1.100", "1.050", "1.300"])  # steps +100, -50, +250 ms
    info = json.loads(cli("info", str(mixed), "--json").out)
    assert info["mean_interval_ms"] == pytest.approx((100 + 250) / 2)
    assert info["worst_interval_ms"] == pytest.approx(250)
    assert info["times_not_increasing"] == 1
    assert [w for w in info["warnings"] if "do not increase" in w] == [
        f"{mixed / 'depth.txt'}: 1 frame time(s) do not increase (first 1.100000 then "
        "1.050000 at frames 1, 2): kept as the list holds them, as a recording's own"
    ]
    assert "times_guess" not in info


def test_tum_association_file_orders_and_pairs(tmp_path: Path) -> None:
    depth, colour = write_tum(tmp_path / "icl", association=True)
    # associations.txt lists the frames last first: its order is the frames' order, and
    # its times stepping back are said (trial Q 11), as a .npz's are.
    with pytest.warns(UserWarning, match=r"associations.txt: 2 frame time\(s\) do not increase"):
        frames = list(dv.open(str(tmp_path / "icl")))
    for f, i in zip(frames, (2, 1, 0), strict=True):
        np.testing.assert_array_equal(f.depth, depth[i])
        assert_colour(f.video, colour[i])
        assert f.depth_format is dv.DepthFormat.TUM


def test_association_paths_stay_inside(tmp_path: Path) -> None:
    write_tum(tmp_path / "t", association=True)
    (tmp_path / "t" / "associations.txt").write_text("1 rgb/a.png 1 depth/../../secret.png\n")
    with pytest.raises(SourceError, match=r"associations.txt line 1: expected a file inside"):
        dv.open(str(tmp_path / "t"))


# -- millimetres: Redwood, Open3D's samples, 7-Scenes --------------------------------------
@pytest.mark.parametrize("colour_dir", ["rgb", "color"])
def test_depth_beside_colour_folders_in_millimetres(tmp_path: Path, colour_dir: str) -> None:
    depth = depth_values(400, 9000, 2)
    colour = colour_values(2)
    for i in range(2):
        save_png(tmp_path / "depth" / f"{i:05d}.png", depth[i])
        save_png(tmp_path / colour_dir / f"{i:05d}.jpg", colour[i])
    with dv.open(str(tmp_path)) as src:
        frames = list(src)
        assert "millimetres" in src.units_note and "default" in src.units_note
        assert "equal names" in src.units_note
    for i, f in enumerate(frames):
        assert f.depth_format is dv.DepthFormat.MM
        expect_metres(metres(f), depth[i], 1000.0)
        assert_colour(f.video, colour[i])


def test_seven_scenes_names_and_no_reading_65535(tmp_path: Path) -> None:
    depth = depth_values(400, 9000, 2)
    depth[:, 3, :] = 65535  # 7-Scenes' "no reading"
    colour = colour_values(2)
    for i in range(2):
        save_png(tmp_path / f"frame-{i:06d}.depth.png", depth[i])
        save_png(tmp_path / f"frame-{i:06d}.color.jpg", colour[i])
        (tmp_path / f"frame-{i:06d}.pose.txt").write_text("1 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n")
    with dv.open(str(tmp_path)) as src:
        frames = list(src)
        assert "7-Scenes" in src.units_note
        assert (src.intrinsics.fx, src.intrinsics.cx) == (585.0, 320.0)
    for i, f in enumerate(frames):
        expect_metres(metres(f), depth[i], 1000.0, invalid=(0, 65535))
        assert_colour(f.video, colour[i])


def test_flat_folder_without_evidence_is_millimetres(tmp_path: Path) -> None:
    depth = depth_values(2500, 40000)
    save_png(tmp_path / "scan_depth.png", depth[0])
    save_png(tmp_path / "scan_color.png", colour_values(1)[0])
    with dv.open(str(tmp_path)) as src:
        f = src.read()
        assert "no evidence of units" in src.units_note
        assert "Kinect v1 defaults" in src.units_note
    assert f.depth_format is dv.DepthFormat.MM
    expect_metres(metres(f), depth[0], 1000.0)
    np.testing.assert_array_equal(f.video, colour_values(1)[0])


def test_flat_folder_of_unnamed_16bit_pngs(tmp_path: Path) -> None:
    depth = depth_values(400, 9000, 2)
    save_png(tmp_path / "a.png", depth[0])
    save_png(tmp_path / "b.png", depth[1])
    save_png(tmp_path / "thumb.png", colour_values(1)[0])  # 8-bit: not depth
    frames = list(dv.open(str(tmp_path)))
    assert len(frames) == 2
    expect_metres(metres(frames[1]), depth[1], 1000.0)


# -- SUN3D: millimetres rotated by 3 bits ---------------------------------------------------
def sun3d_stored(mm: np.ndarray) -> np.ndarray:
    """SUN3D's encoding, done here on Python ints: rotate 16 bits left by 3."""
    flat = [((int(v) << 3) | (int(v) >> 13)) & 0xFFFF for v in mm.ravel()]
    return np.array(flat, dtype=np.uint16).reshape(mm.shape)


def test_sun3d_layout_read_right(tmp_path: Path) -> None:
    mm = depth_values(400, 9000, 2)
    mm[0, 0, :4] = (8191, 8192, 12000, 60000)  # values whose top bits wrap around
    for i in range(2):
        save_png(tmp_path / "depth" / f"{i + 1:07d}-{i * 33333:012d}.png", sun3d_stored(mm[i]))
        save_png(
            tmp_path / "image" / f"{i + 1:07d}-{i * 33333 + 900:012d}.jpg", colour_values(2)[i]
        )
    (tmp_path / "intrinsics.txt").write_text("570.3 0 320\n0 570.3 240\n0 0 1\n")
    with dv.open(str(tmp_path)) as src:
        frames = list(src)
        assert "SUN3D" in src.units_note and "rotated by 3 bits" in src.units_note
        assert (src.intrinsics.fx, src.intrinsics.cy) == (570.3, 240.0)
    for i, f in enumerate(frames):
        expect_metres(metres(f), mm[i], 1000.0)
        assert_colour(f.video, colour_values(2)[i])


def test_sun3d_depth_without_its_layout_is_refused_with_why(tmp_path: Path) -> None:
    mm = depth_values(400, 8000)
    save_png(tmp_path / "0000001-000000000000.png", sun3d_stored(mm[0]))
    with pytest.raises(SourceError, match=r"multiples of 8.*depth_format='sun3d'"):
        dv.open(str(tmp_path))
    f = dv.open(str(tmp_path), depth_format="sun3d").read()
    expect_metres(metres(f), mm[0], 1000.0)


# -- the user's word --------------------------------------------------------------------------
def test_depth_format_and_scale_overrides(tmp_path: Path) -> None:
    stored = depth_values(2500, 40000)[0]
    save_png(tmp_path / "x_depth.png", stored)
    f = dv.open(str(tmp_path), depth_format="tum").read()
    assert f.depth_format is dv.DepthFormat.TUM
    expect_metres(metres(f), stored, 5000.0)
    # 4000 units per metre (0.25 mm): converted to whole millimetres.
    src = dv.open(str(tmp_path), depth_scale=4000)
    f = src.read()
    assert f.depth_format is dv.DepthFormat.MM and "depth_scale=4000" in src.units_note
    want = np.rint(stored.astype(np.float64) / 4.0) / 1000.0
    want[stored == 0] = np.nan
    np.testing.assert_allclose(metres(f), want, rtol=1e-6, equal_nan=True)
    # 10000 units per metre: kept at 0.2 mm (TUM units), not rounded to millimetres.
    f = dv.open(str(tmp_path), depth_scale=10000).read()
    assert f.depth_format is dv.DepthFormat.TUM
    want = np.rint(stored.astype(np.float64) / 2.0) / 5000.0
    want[stored == 0] = np.nan
    np.testing.assert_allclose(metres(f), want, rtol=1e-6, equal_nan=True)
    with pytest.raises(SourceError, match="expected depth_format or depth_scale, got both"):
        dv.open(str(tmp_path), depth_format="mm", depth_scale=1000)
    with pytest.raises(
        SourceError,
        match="depth_scale: expected a finite number of depth units per metre >= 1 and <= 100000",
    ):
        dv.open(str(tmp_path), depth_scale=-3)
    with pytest.raises(SourceError, match="depth_format: expected"):
        dv.open(str(tmp_path), depth_format="furlongs")


def test_a_depth_scale_that_drops_readings_is_refused(tmp_path: Path) -> None:
    """Trial D (issue 22): ``--depth-scale 1e308`` (or 1e-300) was taken and every pixel
    written as 0, exit 0. A scale is 1..100000 units per metre in every command and source,
    and one that still leaves a reading no distance (past 65.5 m, under 0.2 mm) is refused
    naming the file, rather than dropping it."""
    stored = depth_values(2500, 40000)[0]
    save_png(tmp_path / "x_depth.png", stored)
    for scale in (1e308, 1e-300, 0.5, 100001):
        with pytest.raises(SourceError, match=r"depth_scale: expected .* >= 1 and <= 100000"):
            dv.open(str(tmp_path), depth_scale=scale)
    with pytest.raises(SourceError, match=r"x_depth\.png: depth_scale=10 units per metre puts"):
        dv.open(str(tmp_path), depth_scale=10).read()  # 250..4000 m: past millimetres
    readings = int((stored > 0).sum())
    # 100000 per metre: 2500 stored is 25 mm, all kept (as TUM's 0.2 mm)
    f = dv.open(str(tmp_path), depth_scale=100000).read()
    assert int((f.depth > 0).sum()) == readings
    for argv in (["info"], ["export"], ["stream"]):
        where = [str(tmp_path)] + ([str(tmp_path / "out.npz")] if argv == ["export"] else [])
        ran = cli(*argv, *where, "--depth-scale", "1e308")
        assert ran.code == 2 and "argument --depth-scale" in ran.err, ran.err
    assert not (tmp_path / "out.npz").exists()


# -- depthview's own files say what they hold ---------------------------------------------------
def test_png16_export_reopens_as_what_it_holds(tmp_path: Path) -> None:
    wall = dv.from_metres(np.full((H, W), 3.0), "11bit")  # a wall at 3 m, raw disparity
    frames = [dv.Frame(depth=wall, index=i) for i in range(2)]
    dv.export(frames, tmp_path / "out", format="png16")
    with dv.open(str(tmp_path / "out")) as src:
        got = list(src)
        assert "depthview's marker" in src.units_note
    # raw disparity is written as millimetres (libfreenect's table), marked as such
    assert got[0].depth_format is dv.DepthFormat.MM
    np.testing.assert_array_equal(got[1].depth, dv.to_mm(wall))
    # libfreenect's table and the fit from_metres inverts differ by ~1.5 % at 3 m
    assert float(np.nanmean(metres(got[0]))) == pytest.approx(3.0, rel=0.03)
    mm = dv.Frame(depth=np.full((H, W), 2500, np.uint16), depth_format=dv.DepthFormat.MM)
    dv.export([mm], tmp_path / "mm", format="png16")
    f = dv.open(str(tmp_path / "mm")).read()
    assert f.depth_format is dv.DepthFormat.MM and float(metres(f)[0, 0]) == 2.5


def test_a_depth_png_carries_its_camera(tmp_path: Path) -> None:
    """Trial R D5: a 16-bit PNG of registered depth (a viewer snapshot) read back alone got
    the Kinect v1 defaults (fx 594.21, cx 339.5), not the registered model it was seen with
    (fx 575.8, cx 320): every point moved. depthview writes the camera into the PNG (a
    second text chunk) and reads it back; a folder's camera.yaml still comes first, and a
    PNG without the chunk keeps the defaults."""
    from depthview.camera_file import CAMERA_FILE, SceneCamera, camera_text
    from depthview.writers import png, png16

    model = dv.Intrinsics(575.8, 575.8, 320.0, 240.0)  # libfreenect's registered model
    depth = np.tile(np.linspace(600, 3500, W).astype(np.uint16), (H, 1))
    depth[::7, ::5] = 0  # holes stay holes
    (tmp_path / "own").mkdir()
    path = tmp_path / "own" / "reg.png"
    path.write_bytes(png16.encode(depth, DepthFormat.REGISTERED, model))
    with dv.open(str(path)) as src:
        assert src.intrinsics == model
        assert src.units_note.endswith("intrinsics: the PNG's own"), src.units_note
        back = src.read()
    # the points by hand: x = (u - cx) z / fx, y = (v - cy) z / fy, z in metres
    v, u = np.nonzero(depth)
    z = depth[v, u] / 1000.0
    want = np.stack([(u - 320.0) * z / 575.8, (v - 240.0) * z / 575.8, z], axis=1)
    got = dv.point_cloud(back.depth, depth_format=back.depth_format, intrinsics=src.intrinsics)
    np.testing.assert_allclose(got.points, want, atol=1e-5)
    info = cli("info", str(path))
    assert info.code == 0 and "intrinsics: the PNG's own" in info.out, info.out + info.err

    # without the chunk: today's defaults
    plain = tmp_path / "plain.png"
    plain.write_bytes(png16.encode(depth, DepthFormat.REGISTERED))
    with dv.open(str(plain)) as src:
        f = W / 640  # the Kinect's 640x480 calibration, scaled to this size
        want_k = dv.Intrinsics(594.21 * f, 591.04 * f, 339.5 * f, 242.7 * f)
        assert src.intrinsics == pytest.approx(want_k)
        assert "intrinsics: Kinect v1 defaults" in src.units_note

    # a folder's camera.yaml comes first
    other = dv.Intrinsics(500.0, 501.0, 310.0, 230.0)
    (tmp_path / "own" / CAMERA_FILE).write_text(camera_text(SceneCamera(other, W, H, 1000.0)))
    with dv.open(str(tmp_path / "own")) as src:
        assert src.intrinsics == other, src.units_note

    # a chunk that holds no camera: one line naming the file, exit 2
    bad = tmp_path / "bad.png"
    text = {"depthview.depth_format": "MM", "depthview.intrinsics": "575.8 575.8 320"}
    bad.write_bytes(png.encode(depth, text))
    ran = cli("info", str(bad))
    assert ran.code == 2 and ran.err.count("\n") == 1, ran.err
    assert ran.err.startswith(f"depthview: error: {bad}: expected a depthview.intrinsics chunk"), (
        ran.err
    )


def test_npz_export_reopens_with_its_format(tmp_path: Path) -> None:
    mm = dv.Frame(depth=np.full((H, W), 1500, np.uint16), depth_format=dv.DepthFormat.MM)
    dv.export([mm, mm], tmp_path / "f.npz", format="npz")
    with dv.open(str(tmp_path / "f.npz")) as src:
        f = src.read()
        assert "depth_format array" in src.units_note
    assert f.depth_format is dv.DepthFormat.MM and float(metres(f)[0, 0]) == 1.5


# -- single files --------------------------------------------------------------------------
def test_one_png_alone_and_inside_a_tum_dataset(tmp_path: Path) -> None:
    stored = depth_values(2500, 40000)[0]
    save_png(tmp_path / "lone.png", stored)
    expect_metres(metres(dv.open(str(tmp_path / "lone.png")).read()), stored, 1000.0)
    write_tum(tmp_path / "tum", n=1)
    one = next((tmp_path / "tum" / "depth").iterdir())
    f = dv.open(str(one)).read()
    assert f.depth_format is dv.DepthFormat.TUM
    expect_metres(metres(f), np.asarray(Image.open(one)), 5000.0)


def write_pgm(path: Path, values: np.ndarray, order: str = "<") -> None:
    """Little-endian as fakenect writes it, or ``order=">"`` as the PGM standard says."""
    h, w = values.shape
    path.write_bytes(b"P5 %d %d 65535\n" % (w, h) + values.astype(f"{order}u2").tobytes())


def test_single_fakenect_and_nyu_pgm(tmp_path: Path) -> None:
    raw = RNG.integers(300, 1080, size=(480, 640)).astype(np.uint16)
    raw[::9] = 2047
    write_pgm(tmp_path / "d-1315403270.612296-3297269139.pgm", raw)  # NYU's raw dump name
    src = dv.open(str(tmp_path / "d-1315403270.612296-3297269139.pgm"))
    f = src.read()
    assert len(src) == 1 and f.depth_format is dv.DepthFormat.RAW_11BIT
    np.testing.assert_array_equal(f.depth, raw)
    want = kinect_metres(raw)  # libfreenect's table (its C formula, written out)
    np.testing.assert_allclose(metres(f), want, rtol=1e-5, equal_nan=True)
    write_pgm(tmp_path / "mm.pgm", np.full((4, 4), 3000, np.uint16), ">")  # the standard's
    with pytest.raises(SourceError, match=r"0\.\.2047, got up to 3000.*depth_format='mm'"):
        dv.open(str(tmp_path / "mm.pgm"), depth_format="11bit").read()
    assert float(metres(dv.open(str(tmp_path / "mm.pgm"), depth_format="mm").read())[0, 0]) == 3
    guessed = dv.open(str(tmp_path / "mm.pgm"))  # past 11 bits: millimetres, said as a guess
    assert float(metres(guessed.read())[0, 0]) == 3 and "millimetres" in guessed.units_guess
    (tmp_path / "short.pgm").write_bytes(b"P5 640 480 65535\n" + bytes(100))
    with pytest.raises(SourceError, match=r"short\.pgm: expected 614417 bytes"):
        dv.open(str(tmp_path / "short.pgm"))


@pytest.mark.parametrize(
    ("marker", "units"),
    [(5, "millimetres"), (5.0, "millimetres"), ("mm", "millimetres"), (1, "raw 10-bit")],
)
def test_npz_depth_format_array_read_as_written(tmp_path: Path, marker: object, units: str) -> None:
    """A ``.npz``'s ``depth_format`` array (depthview writes the number; a name does too) is
    what ``info`` reports, in the file's words rather than as the ``--depth-format`` option."""
    path = tmp_path / "m.npz"
    np.savez(path, depth=np.full((2, 8, 8), 700, np.uint16), depth_format=np.array(marker))
    ran = cli("info", str(path))
    assert ran.code == 0, ran.err
    assert f"units: {units}" in ran.out and "(the .npz's depth_format array)" in ran.out


@pytest.mark.parametrize("marker", [2, 3, 99, 4.7, True, [0, 5]])
def test_npz_depth_format_array_that_names_no_file_format(tmp_path: Path, marker: object) -> None:
    """Trial I: a packed format (2, 3) was taken for unpacked values, 4.7 read as 4 and a
    name refused as "a DepthFormat number"; now anything but a file's format is one line."""
    path = tmp_path / "m.npz"
    np.savez(path, depth=np.full((2, 8, 8), 700, np.uint16), depth_format=np.array(marker))
    ran = cli("info", str(path))
    assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
    assert f"{path}: its depth_format array: expected one of RAW_11BIT (0)" in ran.err
    assert "--depth-format" not in ran.err


def test_npy_stack_and_named_npz(tmp_path: Path) -> None:
    stack = RNG.integers(0, 2048, size=(3, 4, 5), dtype=np.uint16)
    np.save(tmp_path / "s.npy", stack)
    src = dv.open(str(tmp_path / "s.npy"))
    assert len(src) == 3 and "11-bit" in src.units_note
    src.seek(2)
    np.testing.assert_array_equal(src.read().depth, stack[2])
    video = RNG.integers(0, 256, size=(3, 4, 5, 3), dtype=np.uint8)
    np.savez(tmp_path / "f.npz", depth=stack * 10, video=video)
    frames = list(dv.open(str(tmp_path / "f.npz"), depth_format="mm"))
    assert len(frames) == 3 and frames[1].depth_format is dv.DepthFormat.MM
    np.testing.assert_array_equal(frames[1].video, video[1])
    np.save(tmp_path / "one.npy", stack[0])
    assert len(dv.open(str(tmp_path / "one.npy"))) == 1
    # Values beyond 11 bits cannot be disparity: millimetres, said so.
    np.save(tmp_path / "mm.npy", np.full((2, 2), 4000, dtype=np.uint16))
    src = dv.open(str(tmp_path / "mm.npy"))
    assert src.read().depth_format is dv.DepthFormat.MM and "4000" in src.units_note


def test_positional_npz_and_rgb_colour_are_paired(tmp_path: Path) -> None:
    depth = RNG.integers(0, 2048, size=(2, 4, 5), dtype=np.uint16)
    colour = RNG.integers(0, 256, size=(2, 4, 5, 3), dtype=np.uint8)
    np.savez(tmp_path / "capture.npz", depth, colour)  # arr_0, arr_1 as libfreenect users save
    frames = list(dv.open(str(tmp_path / "capture.npz")))
    assert [f.depth_format for f in frames] == [dv.DepthFormat.RAW_11BIT] * 2
    np.testing.assert_array_equal(frames[1].depth, depth[1])
    np.testing.assert_array_equal(frames[1].video, colour[1])
    np.savez(tmp_path / "named.npz", depth=depth, rgb=colour)
    np.testing.assert_array_equal(dv.open(str(tmp_path / "named.npz")).read().video, colour[0])
    np.savez(tmp_path / "stamps.npz", depth, np.arange(2.0))
    with pytest.raises(SourceError, match=r"expected 'arr_1' as colour of shape \(2, H, W, 3\)"):
        dv.open(str(tmp_path / "stamps.npz"))


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"\x93NUMPY garbage", "expected a numpy .npy file"),
        (b"hello", "expected"),
    ],
)
def test_bad_files(tmp_path: Path, content: bytes, match: str) -> None:
    (tmp_path / "x.npy").write_bytes(content)
    with pytest.raises(SourceError, match=match):
        dv.open(str(tmp_path / "x.npy"))


def test_npy_header_claiming_more_than_the_file_holds(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros(9999, dtype=np.uint16))
    data = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "x.npy").write_bytes(data[: len(data) - 19998 + 100])
    with pytest.raises(
        SourceError, match=r"expected 19998 bytes of uint16 \(9999,\) data, got 100"
    ):
        dv.open(str(tmp_path / "x.npy"))


def test_11bit_npy_out_of_range_and_npz_without_depth(tmp_path: Path) -> None:
    np.save(tmp_path / "big.npy", np.full((2, 2), 4000, dtype=np.uint16))
    with pytest.raises(SourceError, match=r"0\.\.2047"):
        dv.open(str(tmp_path / "big.npy"), depth_format="11bit")
    np.savez(tmp_path / "nodepth.npz", other=np.zeros(2))
    with pytest.raises(SourceError, match="'depth'"):
        dv.open(str(tmp_path / "nodepth.npz"))


# -- geometry follows the units ------------------------------------------------------------
def test_point_cloud_of_tum_units(tmp_path: Path) -> None:
    stored = np.array([[0, 5000], [10001, 65534]], dtype=np.uint16)
    k = dv.Intrinsics(2.0, 2.0, 0.5, 0.5)
    cloud = dv.point_cloud(stored, depth_format=dv.DepthFormat.TUM, intrinsics=k)
    z = np.array([1.0, 10001 / 5000, 65534 / 5000])
    np.testing.assert_allclose(cloud.points[:, 2], z, rtol=1e-6)
    np.testing.assert_allclose(
        cloud.points[:, 0], [(1 - 0.5) / 2 * z[0], -0.25 * z[1], 0.25 * z[2]]
    )
    rgb = dv.colorize(stored, "turbo", near=0.5, far=4.5, depth_format="tum")
    assert (rgb[0, 0] == 0).all() and not (rgb[0, 1] == 0).all()


# -- no open files left behind ----------------------------------------------------------------
def test_no_resource_warning(tmp_path: Path) -> None:
    write_tum(tmp_path / "tum")
    depth = depth_values(400, 9000, 2)
    for i in range(2):
        save_png(tmp_path / "flat" / f"{i}.png", depth[i])
    code = (
        "import gc, sys, depthview as dv\n"
        "for uri in sys.argv[1:]:\n"
        "    with dv.open(uri) as src:\n"
        "        list(src)\n"
        "gc.collect()\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-W",
            "error::ResourceWarning",
            "-X",
            "dev",
            "-c",
            code,
            str(tmp_path / "tum"),
            str(tmp_path / "flat"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "ResourceWarning" not in proc.stderr, proc.stderr


# -- info --------------------------------------------------------------------------------------
def test_info_says_units_and_intrinsics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tum(tmp_path / "rgbd_dataset_freiburg3_office")
    assert main(["info", str(tmp_path / "rgbd_dataset_freiburg3_office")]) == 0
    out = capsys.readouterr().out
    assert "depth_format: TUM" in out
    assert "units: fifths of a millimetre, metres x 5000 (TUM" in out
    assert "intrinsics: fx=535.4 fy=539.2 cx=320.1 cy=247.6" in out
    assert (
        main(
            [
                "info",
                "--json",
                "--depth-scale",
                "1000",
                "--intrinsics",
                "500,501,320,240",
                str(tmp_path / "rgbd_dataset_freiburg3_office"),
            ]
        )
        == 0
    )
    info = json.loads(capsys.readouterr().out)
    # in the command line's words, as the user typed them
    assert info["depth_format"] == "MM" and "--depth-scale 1000" in info["units"]
    assert info["intrinsics"] == "fx=500 fy=501 cx=320 cy=240"
    assert "--intrinsics" in info["units"]
    with pytest.raises(SystemExit) as exit_info:
        main(["info", "--intrinsics", "500,0,1,1", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--intrinsics: expected FX,FY,CX,CY" in capsys.readouterr().err


def test_info_recording_subprocess(tmp_path: Path) -> None:
    w = write_recording(tmp_path / "rec", n=4, dt=0.05)
    (w.folder / w.depth_files[2]).write_bytes(b"P5 640 480 65535\n")  # truncated
    proc = subprocess.run(
        [sys.executable, "-m", "depthview", "info", "--json", str(w.folder)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["frames"] == 4 and info["broken_frames"] == 1
    assert info["video_frames"] == 4 and info["accel_records"] == 4
    assert info["duration_s"] == pytest.approx(w.times[-1] - w.times[0], abs=1e-6)
    assert info["mean_interval_ms"] == pytest.approx(50, abs=0.01)
    assert w.depth_files[2] in info["first_broken"]
    assert info["units"].startswith("raw 11-bit disparity (a libfreenect recording")


def test_info_bad_input_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing" in err
    bad = tmp_path / "rec"
    bad.mkdir()
    (bad / "INDEX.txt").write_text("../../etc/passwd\n")
    assert main(["info", str(bad)]) == 2
    assert "line 1" in capsys.readouterr().err


def test_links_out_of_the_folder_are_left_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside_depth.png"
    save_png(outside, depth_values(400, 900)[0])
    folder = tmp_path / "f"
    save_png(folder / "a_depth.png", depth_values(400, 900)[0])
    os.symlink(outside, folder / "b_depth.png")
    # said, not dropped unsaid (a trial's note: the frame went with no reason shown)
    with pytest.warns(UserWarning) as said:
        assert len(dv.open(str(folder))) == 1
    assert [str(w.message) for w in said] == [
        f"{folder / 'b_depth.png'} (a link to {outside}): left out, outside {folder} (links "
        "out of the folder are not followed)"
    ]
    # A depth/ folder that is a link out of the dataset is not one of its folders.
    elsewhere = tmp_path / "elsewhere"
    save_png(elsewhere / "0.png", depth_values(400, 900)[0])
    dataset = tmp_path / "dataset"
    save_png(dataset / "rgb" / "0.png", colour_values(1)[0])
    os.symlink(elsewhere, dataset / "depth")
    with pytest.raises(SourceError) as refused:
        dv.open(str(dataset))
    assert str(refused.value) == (
        f"{dataset / 'depth'}: expected a folder inside {dataset}, got a link to {elsewhere} "
        "(links out of the folder are not followed)"
    )


@pytest.mark.parametrize("under", ["", "depth"])
def test_a_folder_of_links_out_says_so(tmp_path: Path, under: str) -> None:
    """Trial O 15: a folder whose depth PNGs are all links to files elsewhere (a png16
    export linked into another folder) was "not a source depthview can open", though it is
    the kind of folder that message lists. It now names the link and says why, in one line
    as a recording does; a link inside the folder is still followed."""
    target = tmp_path / "target"
    ran = cli("export", "sample", str(target), "--format", "png16", "--frames", "2", "--quiet")
    assert ran.code == 0, ran.err
    opened = tmp_path / "plink"
    links = opened / under
    links.mkdir(parents=True)
    if under:
        save_png(opened / "rgb" / "frame-000000.png", colour_values(1)[0])
    for frame in sorted(target.glob("frame-*.png")):
        (links / frame.name).symlink_to(frame)
    ran = cli("info", str(opened))
    assert ran.code == 2 and ran.out == "", ran.err
    assert ran.err == (
        f"depthview: error: {links / 'frame-000000.png'}: expected a file inside {opened}, "
        f"got a link to {target / 'frame-000000.png'} (links out of the folder are not "
        "followed)\n"
    )
    inside = tmp_path / "plink2"
    inside.mkdir()
    (inside / "frame-000000.png").write_bytes((target / "frame-000000.png").read_bytes())
    (inside / "frame-000001.png").symlink_to("frame-000000.png")
    ran = cli("info", str(inside), "--json")
    assert ran.code == 0 and json.loads(ran.out)["frames"] == 2, ran.err


def test_recording_with_device_json_takes_its_intrinsics(tmp_path: Path) -> None:
    w = write_recording(tmp_path / "rec", n=2, video=False, accel=False)
    device = json.loads(
        (Path(dv.__file__).parent / "data" / "kinect-v1-registration.json").read_text()
    )
    (w.folder / "device.json").write_text(json.dumps(device))
    zero_plane = device["reg_info"]["zero_plane_info"]
    focal = zero_plane["reference_distance"] / (2 * zero_plane["reference_pixel_size"])
    with dv.open(str(w.folder)) as src:
        k = src.intrinsics
        assert "device.json" in src.units_note
    assert (k.fx, k.fy, k.cx, k.cy) == pytest.approx((focal, focal, 320, 240))


def test_units_of_arrays_follow_the_conventions_and_a_guess_is_said(tmp_path: Path) -> None:
    """Issue 22: .npy/.npz values that fit 11 bits are raw disparity (as
    freenect.sync_get_depth() gives them), larger ones millimetres, 16-bit PNG millimetres;
    where nothing said so, info says it is a guess and export says it on its first line;
    --depth-format overrides and the guess is gone."""

    raw = np.full((2, 48, 64), 800, np.uint16)
    np.save(tmp_path / "raw.npy", raw)
    np.savez(tmp_path / "mm.npz", depth=np.full((2, 48, 64), 3000, np.uint16))
    assert dv.open(str(tmp_path / "raw.npy")).depth_format is DepthFormat.RAW_11BIT
    assert dv.open(str(tmp_path / "mm.npz")).depth_format is DepthFormat.MM
    said = dv.open(str(tmp_path / "raw.npy"), depth_format="mm")
    assert said.depth_format is DepthFormat.MM and said.units_guess == ""

    info = json.loads(cli("info", str(tmp_path / "raw.npy"), "--json").out)
    assert info["units_guess"].startswith("units are a guess: raw 11-bit disparity")
    info = json.loads(cli("info", str(tmp_path / "raw.npy"), "--json", "--depth-format", "mm").out)
    assert "units_guess" not in info and info["units"].startswith("millimetres")

    ran = cli("export", str(tmp_path / "raw.npy"), str(tmp_path / "o.npz"))
    assert ran.code == 0, ran.err
    first = ran.err.replace("\r", "\n").splitlines()[0]
    guess = f"depthview: warning: {tmp_path / 'raw.npy'}: units are a guess: raw 11-bit"
    assert first.startswith(guess), ran.err  # the source named (trial Y: several in a stream)


@pytest.mark.parametrize(
    ("shape", "dtype", "says"),
    [
        ((480, 640, 3), np.uint8, "a last axis of 3 or 4 is a colour image"),
        ((480, 640, 4), np.uint8, "a last axis of 3 or 4 is a colour image"),
        ((2, 480, 640, 3), np.uint16, "a last axis of 3 or 4 is a colour image"),
        ((0, 640), np.uint16, "got an empty one (0, 640)"),
        ((5, 0, 640), np.uint16, "got an empty one (5, 0, 640)"),
    ],
)
def test_arrays_that_are_not_depth_are_refused_in_one_line(
    tmp_path: Path, shape: tuple[int, ...], dtype: type, says: str
) -> None:
    np.save(tmp_path / "a.npy", np.zeros(shape, dtype))
    with pytest.raises(SourceError, match=re.escape(says)):
        dv.open(str(tmp_path / "a.npy"))
    proc = subprocess.run(
        [sys.executable, "-m", "depthview", "info", str(tmp_path / "a.npy")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert says in proc.stderr and "a.npy" in proc.stderr


def test_ctrl_c_inside_pillow_leaves_no_file_open(tmp_path: Path) -> None:
    """Found by issue 24's trial: Ctrl-C at once on a 7-Scenes folder printed "unclosed
    file <...depth.png>": Ctrl-C at once lands in Pillow's first ``Image.open``, while it
    imports its plugins, after it opened the file and before it guards it. Ctrl-C cannot be
    timed there from a test, so that import is made to raise KeyboardInterrupt (a stand-in,
    said so): the file must still be closed (no ResourceWarning), for depth and colour."""
    import gc
    import warnings

    from PIL import Image

    from depthview.sources.depth_png import read_colour, read_depth

    png = tmp_path / "frame-000000.depth.png"
    Image.fromarray(np.full((4, 4), 1000, np.uint16)).save(png)

    def interrupted(*_: object) -> bool:
        raise KeyboardInterrupt

    original = Image._import_plugin_for_extension
    Image._import_plugin_for_extension = interrupted
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            for read in (read_depth, read_colour):
                with pytest.raises(KeyboardInterrupt):
                    read(png)
                gc.collect()
    finally:
        Image._import_plugin_for_extension = original
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P"])
def test_colour_images_of_any_mode_read_as_rgb(tmp_path: Path, mode: str) -> None:
    # RGB is handed over without Pillow's convert (a copy); the other modes are converted.
    # The expected pixels come from Pillow's own conversion of the image written.
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(rgb).convert(mode)
    path = tmp_path / f"c.{mode}.png"
    image.save(path)
    got = read_colour(path)
    assert got.dtype == np.uint8 and got.shape == (6, 8, 3)
    np.testing.assert_array_equal(got, np.asarray(Image.open(path).convert("RGB")))
    if mode == "RGB":
        np.testing.assert_array_equal(got, rgb)


def test_made_up_times_are_said_where_times_are_written(tmp_path: Path) -> None:
    """Trial E: a PNG export keeps no times, so reading it back gives each frame its position
    / fps; that is said (info, and the first lines of export, record, stream and scan) rather than
    passed on as the frames' own times. A recording, which has its own, says nothing."""
    rec = tmp_path / "rec"
    write_recording(rec, 3)
    assert dv.open(str(rec)).times_guess == ""
    ran = cli("export", str(rec), str(tmp_path / "p"), "--format", "png16", "--quiet")
    assert ran.code == 0, ran.err
    source = dv.open(str(tmp_path / "p"))
    assert source.times_guess.endswith(
        "records no frame times: each frame's time is its position / 30 frames/s"
    )

    info = json.loads(cli("info", str(tmp_path / "p"), "--json").out)
    assert info["times_guess"] == source.times_guess
    assert "times_guess" not in json.loads(cli("info", str(rec), "--json").out)
    ran = cli("export", str(tmp_path / "p"), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0, ran.err
    assert "records no frame times" in ran.err
    ran = cli("export", str(rec), str(tmp_path / "y.npz"), "--quiet")
    assert "records no frame times" not in ran.err


def test_an_archive_with_one_time_for_every_frame_says_so(tmp_path: Path) -> None:
    """Trial Q 19: a ``.npz`` whose ``timestamp`` holds 1.0 for each of its 4 frames was
    said to "record no frame times" and re-timed. It records times, all equal (a burst
    stamped once): that is said, with the times each frame gets instead (position / fps)."""
    path = tmp_path / "s.npz"
    np.savez(path, depth=np.full((4, 6, 8), 800, np.uint16), timestamp=np.array([1.0] * 4))
    said = (
        f"{path} records one time for every frame (timestamp all 1.000000), not one each: "
        "each frame's time is its position / 30 frames/s"
    )
    ran = cli("export", str(path), str(tmp_path / "o.npz"), "--quiet")
    assert ran.code == 0, ran.err
    assert said in ran.err and "records no frame times" not in ran.err
    with np.load(tmp_path / "o.npz") as data:
        np.testing.assert_allclose(data["timestamp"], [0, 1 / 30, 2 / 30, 3 / 30])
    assert json.loads(cli("info", str(path), "--json").out)["times_guess"] == said
    ran = cli("export", str(path), str(tmp_path / "p.npz"), "--fps", "10", "--quiet")
    assert ran.code == 0 and said.replace("30 frames/s", "10 frames/s") in ran.err, ran.err


def test_one_frame_played_again_says_its_times_are_made_up(tmp_path: Path) -> None:
    """Trial I: a one-frame ``.npy`` has no clock read once, but looped (the viewer, ``stream
    --loop``) its frames get position / fps times, which must be said like any other's."""
    path = tmp_path / "one.npy"
    np.save(path, np.full((4, 6), 700, np.uint16))
    assert dv.open(str(path)).times_guess == ""
    looped = dv.open(str(path), loop=True)
    assert looped.times_guess.endswith(
        "records no frame times: each frame's time is its position / 30 frames/s"
    )
    ran = cli("stream", str(path), "--loop", "--frames", "3", "--to", "foxglove:0")
    assert ran.code == 0, ran.err
    assert "records no frame times" in ran.err
    ran = cli("stream", str(path), "--frames", "1", "--to", "foxglove:0")
    assert ran.code == 0, ran.err
    assert "records no frame times" not in ran.err


@pytest.mark.parametrize("frames", [1, 3])
def test_a_looping_array_replay_continues_its_clock(tmp_path: Path, frames: int) -> None:
    """Trial F: a looped ``.npy`` (timed by position / fps) went back to 0 at every pass, so
    ``stream --loop`` sent times going back; each pass now starts one frame interval after
    the last, as a looping recording's does. A zip that is no .npz says so."""
    np.save(tmp_path / "a.npy", np.full((frames, 48, 64), 800, np.uint16))
    with dv.open(str(tmp_path / "a.npy"), loop=True) as source:
        times = [source.read().timestamp for _ in range(4 * frames)]
    assert times == pytest.approx([i / 30 for i in range(4 * frames)])
    with zipfile.ZipFile(tmp_path / "seq.zip", "w") as z:
        z.writestr("seq/frame-000000.depth.png", b"not read")
    with pytest.raises(SourceError, match=r"a zip without arrays, not a \.npz"):
        dv.open(str(tmp_path / "seq.zip"))


def test_fps_times_a_source_without_times_in_every_format(tmp_path: Path) -> None:
    """Trial G: ``export PNGS x.npz --fps 10`` (also .mcap, ``stream``) timed frames at 1/30 s
    and said "/ 30 frames/s" while the .mp4 of the same command ran at 10: the README's
    rule (position / --fps) now holds in every output, and the warning says 10. A source
    with times of its own keeps them: --fps, which would change nothing, is refused."""
    from _helpers_sinks import read_mcap

    rec = tmp_path / "rec"
    write_recording(rec, 4)
    assert cli("export", str(rec), str(tmp_path / "p"), "--format", "png16", "--quiet").code == 0
    for name in ("x.npz", "x.mcap"):
        ran = cli("export", str(tmp_path / "p"), str(tmp_path / name), "--fps", "10", "--quiet")
        assert ran.code == 0, ran.err
        assert "each frame's time is its position / 10 frames/s" in ran.err, ran.err
    assert np.load(tmp_path / "x.npz")["timestamp"].tolist() == pytest.approx([0, 0.1, 0.2, 0.3])
    stamps = [t for t, _ in read_mcap(tmp_path / "x.mcap")["/kinect/depth/image"]]
    assert [t / 1e9 for t in stamps] == pytest.approx([0, 0.1, 0.2, 0.3])
    ran = cli("export", str(rec), str(tmp_path / "own.npz"), "--fps", "10", "--quiet")
    assert ran.code == 2 and "records its own frame times" in ran.err, ran.err  # (trial AB)
    assert not (tmp_path / "own.npz").exists()


def test_an_npz_of_no_array_is_one_line_saying_so(tmp_path: Path) -> None:
    """Trial AI (D5): ``np.savez('e.npz')`` (a zip of no file) got "not a source depthview
    can open" with every kind of source listed; a .npz holding another array got a precise
    line. The same words for both."""
    np.savez(tmp_path / "e.npz")
    ran = cli("info", str(tmp_path / "e.npz"))
    assert ran.code == 2 and ran.error_lines == [
        f"depthview: error: {tmp_path / 'e.npz'}: expected a 'depth' (or positional 'arr_0') "
        "array in the .npz, got an empty zip"
    ], ran.err
