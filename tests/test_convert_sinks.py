"""``convert --format rrd|mcap``: one file per scene through depthview's Rerun and Foxglove
sinks, read back with the tools' own readers (Rerun's dataframe API, the mcap reader) and
checked against the same scene converted to TUM's layout (its PNGs read with Pillow, its
times from associations.txt), the independent reference of what each pair is."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import depthview as dv
from _helpers_datasets import write_scene
from _helpers_sinks import column, read_mcap, read_rrd
from depthview.camera_models import Registration

FRAMES = 6


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depthview", "convert", "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A colour frame every other depth frame: one colour frame serves two depth frames.
    return write_scene(tmp_path_factory.mktemp("rec") / "desk", FRAMES, video_every=2)


@pytest.fixture(scope="module")
def tum(scene: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The TUM conversion of the scene (in millimetres): pairs, colour frames and
    accelerometer records by their times, images read with Pillow."""
    out = tmp_path_factory.mktemp("tum")
    dv.convert([scene], out, format="tum", tum_scale=1000)  # millimetres, as .rrd/.mcap hold
    folder = out / "desk"
    pairs, colours = [], {}
    for line in (folder / "associations.txt").read_text().splitlines():
        rgb_time, rgb_file, depth_time, depth_file = line.split()
        depth = np.asarray(Image.open(folder / depth_file))
        pairs.append((float(depth_time), depth))
        colours[float(rgb_time)] = np.asarray(Image.open(folder / rgb_file).convert("RGB"))
    accel = [
        (float(t), (float(x), float(y), float(z)))
        for t, x, y, z in (
            line.split()
            for line in (folder / "accelerometer.txt").read_text().splitlines()
            if not line.startswith("#")
        )
    ]
    assert len(pairs) == FRAMES and len(colours) == FRAMES // 2 and len(accel) == FRAMES
    return {"pairs": pairs, "colours": sorted(colours.items()), "accel": accel}


def _times_match(ns: list[int], seconds: list[float]) -> None:
    assert len(ns) == len(seconds)
    for n, t in zip(ns, seconds, strict=True):
        assert abs(n / 1e9 - t) < 1e-6  # associations.txt keeps microseconds


def _manifest_lists(out: Path, name: str) -> None:
    (line,) = [json.loads(text) for text in (out / "manifest.jsonl").read_text().splitlines()]
    assert line["output"] == name and line["pairs_kept"] == FRAMES
    assert line["files"] == {name: hashlib.sha256((out / name).read_bytes()).hexdigest()}
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no partial left


def test_rrd_holds_each_pair_at_its_times(
    scene: Path, tum: dict[str, list[object]], tmp_path: Path
) -> None:
    done = cli(str(scene), str(tmp_path), "--format", "rrd")
    assert done.returncode == 0, done.stderr
    _manifest_lists(tmp_path, "desk.rrd")
    table = read_rrd(tmp_path / "desk.rrd", "host_time")
    host_ns = [int(v.value) for v in table.column("host_time").to_pandas()]
    depth = column(table, "/kinect/depth:DepthImage:buffer")
    rgb = column(table, "/kinect/rgb:Image:buffer")
    accel = column(table, "/kinect/accel:Scalars:scalars")

    def rows(values: list[object]) -> list[tuple[int, object]]:
        return [(t, v) for t, v in zip(host_ns, values, strict=True) if v is not None]

    depth_rows, rgb_rows, accel_rows = rows(depth), rows(rgb), rows(accel)
    _times_match([t for t, _ in depth_rows], [t for t, _ in tum["pairs"]])  # type: ignore[misc]
    _times_match([t for t, _ in rgb_rows], [t for t, _ in tum["colours"]])  # type: ignore[misc]
    _times_match([t for t, _ in accel_rows], [t for t, _ in tum["accel"]])  # type: ignore[misc]
    for (_, blob), (_, png) in zip(depth_rows, tum["pairs"], strict=True):  # type: ignore[misc]
        (flat,) = blob  # type: ignore[misc]
        np.testing.assert_array_equal(np.frombuffer(bytes(flat), "<u2").reshape(480, 640), png)
    for (_, blob), (_, png) in zip(rgb_rows, tum["colours"], strict=True):  # type: ignore[misc]
        (flat,) = blob  # type: ignore[misc]
        np.testing.assert_array_equal(np.frombuffer(bytes(flat), np.uint8).reshape(png.shape), png)
    for (_, got), (_, want) in zip(accel_rows, tum["accel"], strict=True):  # type: ignore[misc]
        assert got == pytest.approx(list(want), abs=1e-5)
    # The depth is aligned to the colour image: its camera is the one libfreenect's
    # registered depth is laid out with (reference distance / 2 pixel size, image centre),
    # from the recording's device.json; not the depth camera's calibration.
    zp = Registration.default().zero_plane_info
    focal = zp.reference_distance / (2 * zp.reference_pixel_size)
    (k,) = next(v for v in column(table, "/kinect/depth:Pinhole:image_from_camera") if v)
    np.testing.assert_allclose(
        np.reshape(k, (3, 3)).T, [[focal, 0, 320], [0, focal, 240], [0, 0, 1]], rtol=1e-6
    )
    # A rerun skips the complete scene and leaves it as it was.
    before = (tmp_path / "desk.rrd").read_bytes()
    again = cli(str(scene), str(tmp_path), "--format", "rrd")
    assert again.returncode == 0 and "1 already complete" in again.stdout, again.stdout
    assert (tmp_path / "desk.rrd").read_bytes() == before


def test_mcap_holds_each_pair_at_its_times(
    scene: Path, tum: dict[str, list[object]], tmp_path: Path
) -> None:
    summary = dv.convert([scene], tmp_path, format="mcap")
    assert summary.done == ["desk"]
    _manifest_lists(tmp_path, "desk.mcap")
    topics = read_mcap(tmp_path / "desk.mcap")
    depth, rgb = topics["/kinect/depth/image"], topics["/kinect/rgb/image"]
    accel, info = topics["/kinect/accel"], topics["/kinect/depth/camera_info"]
    _times_match([t for t, _ in depth], [t for t, _ in tum["pairs"]])  # type: ignore[misc]
    _times_match([t for t, _ in rgb], [t for t, _ in tum["colours"]])  # type: ignore[misc]
    _times_match([t for t, _ in accel], [t for t, _ in tum["accel"]])  # type: ignore[misc]
    for (_, msg), (_, png) in zip(depth, tum["pairs"], strict=True):  # type: ignore[misc]
        assert msg.encoding == "16UC1"  # type: ignore[attr-defined]
        got = np.frombuffer(msg.data, "<u2").reshape(480, 640)  # type: ignore[attr-defined]
        np.testing.assert_array_equal(got, png)
    for (_, msg), (_, png) in zip(rgb, tum["colours"], strict=True):  # type: ignore[misc]
        assert msg.data == png.tobytes()  # type: ignore[attr-defined]
    # Trial AB (D4): aligned depth and its camera are the colour camera's, in its frame (they
    # were labelled the depth camera's frame, 2.5 cm from where they are)
    frames = {m.frame_id for _, m in [*depth, *info, *rgb]}  # type: ignore[attr-defined]
    assert frames == {"kinect_rgb_optical_frame"}
    for (_, msg), (_, want) in zip(accel, tum["accel"], strict=True):  # type: ignore[misc]
        assert [msg["x"], msg["y"], msg["z"]] == pytest.approx(list(want), abs=1e-5)  # type: ignore[index]
    zp = Registration.default().zero_plane_info
    focal = zp.reference_distance / (2 * zp.reference_pixel_size)
    assert list(info[0][1].K) == pytest.approx([focal, 0, 320, 0, focal, 240, 0, 0, 1])  # type: ignore[attr-defined]
    again = dv.convert([scene], tmp_path, format="mcap")
    assert again.skipped == ["desk"] and again.done == []


def test_a_stereo_calibration_sends_its_colour_camera(scene: Path, tmp_path: Path) -> None:
    cal = dv.StereoCalibration.nyu()
    dv.convert([scene], tmp_path, format="rrd", calibration=cal, depth_format="nyu")
    table = read_rrd(tmp_path / "desk.rrd", "host_time")
    (k,) = next(v for v in column(table, "/kinect/depth:Pinhole:image_from_camera") if v)
    c = cal.colour
    assert (c.fx, c.cx) != (cal.depth.fx, cal.depth.cx)  # the two cameras can be told apart
    np.testing.assert_allclose(
        np.reshape(k, (3, 3)).T, [[c.fx, 0, c.cx], [0, c.fy, c.cy], [0, 0, 1]], rtol=1e-6
    )


def test_a_failed_scene_leaves_no_file_and_a_rerun_writes_it(scene: Path, tmp_path: Path) -> None:
    calls: list[int] = []

    def step(mm: np.ndarray) -> np.ndarray:
        calls.append(1)
        if len(calls) == 3:
            raise dv.DepthviewError("stopped on purpose")
        return mm

    s = dv.convert([scene], tmp_path, format="mcap", step=step)
    assert s.failed == [("desk", "stopped on purpose")] and s.done == []
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing half-made
    again = dv.convert([scene], tmp_path, format="mcap")
    assert again.done == ["desk"] and again.pairs_kept == FRAMES
    assert len(read_mcap(tmp_path / "desk.mcap")["/kinect/depth/image"]) == FRAMES


@pytest.mark.parametrize(
    ("fmt", "module", "extra"), [("rrd", "rerun", "rerun"), ("mcap", "foxglove", "foxglove")]
)
def test_a_missing_sdk_is_one_line_before_anything_is_written(
    scene: Path, tmp_path: Path, fmt: str, module: str, extra: str
) -> None:
    # The dev install has both SDKs, so their absence is simulated: the only mock here
    # (None in sys.modules makes Python's import fail as for a package not installed).
    out = tmp_path / "out"
    code = (
        f"import runpy, sys; sys.modules[{module!r}] = None; "
        "runpy.run_module('depthview', run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "convert", "--quiet", str(scene), str(out), "--format", fmt],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert f"pip install 'depthview[{extra}]'" in line, line
    assert not out.exists()


def test_converts_npz_read_back_is_aligned_depth(scene: Path, tmp_path: Path) -> None:
    """Trial AF (D5): convert's .npz (aligned pairs) read back was taken as depth that does not
    line up with its colour: exported to .mcap in the depth camera's frame (convert's own
    .mcap says the colour camera's), and a PLY of it uncoloured, said as unalignable."""
    from _helpers_cli import cli

    dv.convert([scene], tmp_path / "c", format="npz")
    npz = tmp_path / "c" / "desk.npz"
    with dv.open(str(npz), realtime=False) as src:
        assert src.video_aligned
    ran = cli("export", str(npz), str(tmp_path / "x.mcap"), "--quiet")
    assert ran.code == 0, ran.err
    topics = read_mcap(tmp_path / "x.mcap")
    frames = {
        m.frame_id
        for _, m in [*topics["/kinect/depth/image"], *topics["/kinect/depth/camera_info"]]
    }  # type: ignore[attr-defined]
    assert frames == {"kinect_rgb_optical_frame"}
    ran = cli("export", str(npz), str(tmp_path / "x.ply"), "--range", "0:1", "--quiet")
    assert ran.code == 0 and "not kept" not in ran.err, ran.err


@pytest.mark.parametrize("half_degrees", [26, 70])
def test_convert_mcap_tilt_is_the_recordings_angle(tmp_path: Path, half_degrees: int) -> None:
    """Trial AQ D5: convert's .mcap sent every tilt as null (its pairs kept the reading and
    lost the angle), where export of the same recording sends the record's angle."""
    import struct

    from _helpers_cli import cli as depthview

    rec = write_scene(tmp_path / "tilted", 4, tilt_half_degrees=half_degrees)
    dumps = sorted(rec.glob("a-*.dump"))
    # the record as libfreenect lays it out: int16 x, y, z, int8 half degrees, uint8 status
    angles = {struct.unpack("<hhhbBi", d.read_bytes())[3] / 2 for d in dumps}
    assert angles == {half_degrees / 2}
    ran = depthview("convert", str(rec), str(tmp_path / "out"), "--format", "mcap", "--quiet")
    assert ran.code == 0, ran.err
    tilt = read_mcap(tmp_path / "out" / "tilted.mcap")["/kinect/tilt"]
    assert len(tilt) == len(dumps)
    assert {msg["angle_deg"] for _, msg in tilt} == angles
    ran = depthview("export", str(rec), str(tmp_path / "e.mcap"), "--quiet")
    assert ran.code == 0, ran.err
    exported = read_mcap(tmp_path / "e.mcap")["/kinect/tilt"]
    assert {msg["angle_deg"] for _, msg in exported} == angles
