"""Issue 22: one distance for a raw frame in every output. The same raw frame of a recording
with its own registration (a device.json unlike the default one) goes through each output
(png16, ply, npz --registered, rrd, mcap, convert's TUM depth, the viewer's probe and 3D
geometry, the scanner's input, ``dv.to_metres``), is read back by an independent reader
(Pillow, Open3D, numpy, Rerun's dataframe API, mcap + protobuf) and compared with libfreenect's
own FREENECT_DEPTH_MM for that registration (its compiled C, tests/oracle). On main the PLY
read 3.6% nearer than the png16 of the same frame (the 1/(a*raw+b) fit)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import open3d as o3d
import pytest
from PIL import Image
from plyfile import PlyData

import depthview as dv
from _helpers_cli import cli
from _helpers_kinect_mm import metres as kinect_metres
from _helpers_kinect_mm import mm_table
from _helpers_sinks import column, read_mcap, read_rrd
from _helpers_sources import copy_person, read_pgm, write_recording
from _registration_cases import PARAMETER_SETS
from depthview.scan import Scanner
from depthview.viewer import probe
from depthview.viewer.view3d import cloud_geometry


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample recording with another Kinect's registration beside it."""
    rec = copy_person(tmp_path_factory.mktemp("one-distance"))
    (rec / "device.json").write_text(json.dumps(PARAMETER_SETS["perturbed"]))
    return rec


@pytest.fixture(scope="module")
def truth(recording: Path, freenect_oracle: Any) -> tuple[np.ndarray, np.ndarray]:
    """(the first depth frame's raw values read from its file, libfreenect's millimetres of
    them under the recording's registration)."""
    first = next(
        line for line in (recording / "INDEX.txt").read_text().splitlines() if line[0] == "d"
    )
    raw = read_pgm(recording / first)
    freenect_oracle.load(PARAMETER_SETS["perturbed"])
    mm = freenect_oracle.depth_mm(raw).astype(np.int64)
    mm[mm >= 10000] = 0  # libfreenect's ceiling: no reading in every output
    # the two registrations differ where it matters: this is not the default table
    assert np.abs(mm - mm_table()[raw] * (mm > 0)).max() >= 5
    return raw, mm


def test_png16_is_libfreenects_millimetres(recording: Path, truth: Any, tmp_path: Path) -> None:
    _, mm = truth
    ran = cli("export", str(recording), str(tmp_path / "d"), "--format", "png16", "--frames", "1")
    assert ran.code == 0, ran.err
    with Image.open(tmp_path / "d" / "frame-000000.png") as im:
        got = np.asarray(im).astype(np.int64)
    np.testing.assert_array_equal(got, mm)


def test_ply_z_is_the_same_millimetres(recording: Path, truth: Any, tmp_path: Path) -> None:
    """The trial's case: ``export REC O/x.ply`` beside png16 of the same frame."""
    _, mm = truth
    ran = cli("export", str(recording), str(tmp_path / "x.ply"), "--frames", "1")
    assert ran.code == 0, ran.err
    points = np.asarray(o3d.io.read_point_cloud(str(tmp_path / "x.ply")).points)
    want = mm[mm > 0] / 1000.0  # row-major order of the pixels with a reading
    assert points.shape == (want.size, 3)
    assert np.abs(points[:, 2] - want).max() < 0.001
    assert abs(np.median(points[:, 2]) - np.median(want)) < 0.0005


def test_npz_registered_is_libfreenects(
    recording: Path, truth: Any, tmp_path: Path, freenect_oracle: Any
) -> None:
    raw, _ = truth
    out = tmp_path / "x.npz"
    ran = cli("export", str(recording), str(out), "--frames", "1", "--registered")
    assert ran.code == 0, ran.err
    with np.load(out) as z:
        registered = z["registered"][0]
        np.testing.assert_array_equal(z["depth"][0], raw)  # the raw frame itself
    freenect_oracle.load(PARAMETER_SETS["perturbed"])
    want = freenect_oracle.registered(np.where(raw == 2047, 2047, raw).astype(np.uint16))
    close = np.abs(registered.astype(np.int64) - want.astype(np.int64))
    assert (close[(want > 0) & (want < 10000)] <= 1).all()


def test_rrd_and_mcap_depth_are_the_same_millimetres(
    recording: Path, truth: Any, tmp_path: Path
) -> None:
    _, mm = truth
    rrd, mcap = tmp_path / "x.rrd", tmp_path / "x.mcap"
    for out in (rrd, mcap):
        ran = cli("export", str(recording), str(out), "--frames", "1")
        assert ran.code == 0, ran.err
    table = read_rrd(rrd, "host_time")
    (flat,) = next(d for d in column(table, "/kinect/depth:DepthImage:buffer") if d is not None)
    got = np.frombuffer(bytes(flat), "<u2").reshape(480, 640).astype(np.int64)
    np.testing.assert_array_equal(got, mm)
    assert column(table, "/kinect/depth:DepthImage:meter")[0] == [1000.0]
    ((_, image), *_) = read_mcap(mcap)["/kinect/depth/image"]
    got = np.frombuffer(image.data, "<u2").reshape(480, 640).astype(np.int64)
    np.testing.assert_array_equal(got, mm)


def test_convert_depth_only_tum_is_the_same_millimetres(
    recording: Path, truth: Any, tmp_path: Path
) -> None:
    _, mm = truth
    out = tmp_path / "conv"
    ran = cli("convert", str(recording), str(out), "--depth-only", "--tum-scale", "1000")
    assert ran.code == 0, ran.err
    (first, *_) = sorted((out / recording.name / "depth").glob("*.png"))
    with Image.open(first) as im:
        got = np.asarray(im).astype(np.int64)
    np.testing.assert_array_equal(got, mm)


def test_viewer_probe_and_3d_and_scanner_read_the_same(recording: Path, truth: Any) -> None:
    raw, mm = truth
    with dv.open(str(recording), realtime=False) as src:
        frame = src.read()
        registration = src.registration
    assert registration is not None
    np.testing.assert_array_equal(frame.depth, raw)
    fmt = frame.depth_format
    geometry = cloud_geometry(fmt, raw.shape, registration)  # what the viewer draws in 3D
    ys, xs = np.nonzero(mm)
    pick = np.random.default_rng(0).choice(ys.size, 200, replace=False)
    for y, x in zip(ys[pick], xs[pick], strict=True):
        reading = probe.read(frame.depth, fmt, int(x), int(y), geometry, registration)
        assert reading is not None
        assert abs(reading.metres * 1000 - mm[y, x]) < 1, (x, y)
        assert reading.mm == mm[y, x]
    z, _, _ = Scanner(registration=registration).metres(frame)
    seen = np.isfinite(z)
    assert seen.sum() > 0.5 * (mm > 0).sum()
    assert np.abs(z[seen] * 1000 - mm[seen]).max() < 1


def test_to_metres_and_to_mm_agree_without_a_registration(truth: Any) -> None:
    """The trial's second half: ``dv.to_metres`` and ``dv.to_mm`` of one raw frame (the
    default registration) disagreed by 3.5%."""
    raw, _ = truth
    metres = dv.to_metres(raw)
    mm = dv.to_mm(raw).astype(np.int64)
    mm[mm >= 10000] = 0
    want = mm_table()[raw]  # the C formula, written out
    want[want >= 10000] = 0
    np.testing.assert_array_equal(mm, want)
    np.testing.assert_array_equal(np.isfinite(metres), mm > 0)
    assert np.abs(metres[mm > 0] * 1000 - mm[mm > 0]).max() < 0.01
    # the viewer on a source without a registration (the demo, files): the same table
    geometry = cloud_geometry(dv.DepthFormat.RAW_11BIT, raw.shape)
    ys, xs = np.nonzero(mm)
    for y, x in zip(ys[::997], xs[::997], strict=True):
        reading = probe.read(raw, dv.DepthFormat.RAW_11BIT, int(x), int(y), geometry)
        assert reading is not None and abs(reading.metres * 1000 - mm[y, x]) < 0.01


def test_registered_ply_measures_alike_and_says_when_it_has_no_colour(tmp_path: Path) -> None:
    """Trial D: ``export sample O/reg.ply --registered`` had median z 1.649 m, the same frame
    without --registered 1.591 m; --registered only colours points (libfreenect's cloud), and
    on a depth-only source it says that there is no colour to use."""
    reg, plain = tmp_path / "reg.ply", tmp_path / "s.ply"
    ran = cli("export", "sample", str(reg), "--registered", "--frames", "1", "--quiet")
    assert ran.code == 0 and "--registered: sample has no colour image" in ran.err, ran.err
    ran = cli("export", "sample", str(plain), "--frames", "1", "--quiet")
    assert ran.code == 0 and "warning" not in ran.err, ran.err
    a = np.asarray(o3d.io.read_point_cloud(str(reg)).points)
    b = np.asarray(o3d.io.read_point_cloud(str(plain)).points)
    assert a.shape == b.shape
    np.testing.assert_allclose(np.sort(a[:, 2]), np.sort(b[:, 2]), atol=1e-6)


def test_an_npz_export_keeps_the_recordings_registration(
    recording: Path, truth: Any, tmp_path: Path
) -> None:
    """Trial J: the .npz export left the recording's device.json behind, so its png16 (and
    PLY, mcap) read the raw frames through the default registration: a median 1.8 m off.
    The archive keeps it (``registration``), so every output of the export is the same
    millimetres, and a recording made from it carries it again (device.json)."""
    _, mm = truth
    npz = tmp_path / "x.npz"
    assert cli("export", str(recording), str(npz), "--frames", "2", "--quiet").code == 0
    with np.load(npz) as data:
        kept = json.loads(str(data["registration"]))
    own = json.loads((recording / "device.json").read_text())
    assert dv.Registration.from_dict(kept) == dv.Registration.from_dict(own)
    ran = cli("export", str(npz), str(tmp_path / "d"), "--format", "png16", "--frames", "1")
    assert ran.code == 0, ran.err
    with Image.open(tmp_path / "d" / "frame-000000.png") as im:
        np.testing.assert_array_equal(np.asarray(im).astype(np.int64), mm)
    info = json.loads(cli("info", str(npz), "--json").out)
    assert "own" in info["registration"]
    ran = cli("record", str(npz), str(tmp_path / "r"), "--quiet")
    assert ran.code == 0, ran.err
    again = json.loads((tmp_path / "r" / "device.json").read_text())
    assert dv.Registration.from_dict(again) == dv.Registration.from_dict(kept)


def test_an_npz_registration_that_is_not_device_json_is_one_line(tmp_path: Path) -> None:
    npz = tmp_path / "bad.npz"
    np.savez(npz, depth=np.full((1, 8, 8), 700, np.uint16), registration=np.array("{}"))
    ran = cli("info", str(npz))
    assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
    assert f"{npz}: registration" in ran.err


def test_append_refuses_a_source_of_another_registration(recording: Path, tmp_path: Path) -> None:
    """Trial J: appending a recording with its own device.json to one without wrote that
    device.json, and the 20 earlier frames read 1649 -> 1092 mm; the other way round the
    appended frames read through the wrong one. Refused, nothing written; the same
    registration appends as before."""
    import shutil

    from _helpers_cli import tree_hash

    plain = tmp_path / "plain"
    assert cli("record", "sample", str(plain), "--frames", "3", "--quiet").code == 0
    own = tmp_path / "own"
    shutil.copytree(recording, own)
    # Trial L: a device.json equal to the default still changes how earlier frames read
    # (their intrinsics come from it): one where the recording has none is refused too.
    usual = tmp_path / "usual"
    shutil.copytree(recording, usual)
    (usual / "device.json").write_text(dv.Registration.default().to_json())
    for target, source in ((plain, recording), (own, "sample"), (plain, usual)):
        before = tree_hash(target)
        ran = cli("record", str(source), str(target), "--append", "--frames", "2", "--quiet")
        assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
        assert f"{target}: cannot append: the source's registration differs" in ran.err
        assert tree_hash(target) == before
    ran = cli("record", str(recording), str(own), "--append", "--frames", "2", "--quiet")
    assert ran.code == 0, ran.err
    with dv.open(str(own), realtime=False) as src:
        assert len(src) == 20 + 2


@pytest.mark.parametrize("given", [None, "500,510,320.5,241.25"])
def test_registered_ply_only_colours_the_points(tmp_path: Path, given: str | None) -> None:
    """Trial O 11: for a source without a registration of its own, ``export R c.ply
    --registered`` put the points in the default registration's camera (fx 575.8, cx 320)
    where the plain export uses the source's (fx 594.21, cx 339.5, as ``info`` says): x
    moved by up to 34 cm, though ``--help`` says the option colours the points. Both clouds
    are now the same points, the registered one coloured by ``map_rgb_to_depth``; and
    ``--intrinsics``, which the plain cloud follows, is followed with ``--registered`` too."""
    rec = tmp_path / "rec"
    write_recording(rec, 2, accel=False)  # colour, no device.json
    fx, fy, cx, cy = (594.21, 591.04, 339.5, 242.7)
    extra: list[str] = []
    if given is not None:
        fx, fy, cx, cy = (float(v) for v in given.split(","))
        extra = ["--intrinsics", given]
    clouds = {}
    for name, option in (("plain", []), ("registered", ["--registered"])):
        out = tmp_path / f"{name}.ply"
        ran = cli("export", str(rec), str(out), "--range", "1:2", "--quiet", *option, *extra)
        assert ran.code == 0, ran.err
        clouds[name] = PlyData.read(str(out))["vertex"]
    with dv.open(str(rec), realtime=False) as src:
        src.seek(1)
        frame = src.read()
    assert frame.video is not None
    z = kinect_metres(frame.depth)
    vv, uu = np.nonzero(np.isfinite(z))
    z = z[vv, uu]
    for v in clouds.values():
        assert v.count == len(z) > 100_000
        np.testing.assert_allclose(v["z"], z, rtol=1e-6)
        np.testing.assert_allclose(v["x"], (uu - cx) / fx * z, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(v["y"], (vv - cy) / fy * z, rtol=1e-5, atol=1e-6)
    colours = dv.map_rgb_to_depth(frame.depth, frame.video)[vv, uu]  # the default registration
    v = clouds["registered"]
    np.testing.assert_array_equal(np.stack([v["red"], v["green"], v["blue"]], 1), colours)


def test_registered_ply_of_a_depth_only_source_is_the_plain_cloud(tmp_path: Path) -> None:
    """Trial O 11: ``export sample b.ply --registered`` (nothing to colour) moved x by up to
    19 cm from the plain export; it is now the same file."""
    files = []
    for name, option in (("a", []), ("b", ["--registered"])):
        out = tmp_path / f"{name}.ply"
        ran = cli("export", "sample", str(out), "--range", "0:1", "--quiet", *option)
        assert ran.code == 0, ran.err
        files.append(out.read_bytes())
    assert files[0] == files[1]
