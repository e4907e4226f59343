"""Registration where frames come from: a recording's device.json is its registration,
replayed as registered or millimetre depth as libfreenect's fakenect does; the recorder
saves the source's registration, so a re-recording keeps it byte for byte."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli
from _helpers_sources import copy_person, write_recording
from _registration_cases import PARAMETER_SETS
from depthview.cli import main


def with_device_json(tmp_path: Path, layout: dict[str, object]) -> Path:
    rec = copy_person(tmp_path)
    (rec / "device.json").write_text(json.dumps(layout, indent=4))
    return rec


def test_a_recordings_device_json_is_its_registration(tmp_path: Path) -> None:
    # Not the default parameters: the frames must come from the recording's own.
    rec = with_device_json(tmp_path, PARAMETER_SETS["perturbed"])
    own = dv.Registration.from_dict(PARAMETER_SETS["perturbed"])
    assert own != dv.Registration.default()
    with dv.open(str(rec), realtime=False) as src:
        assert src.registration == own
        raw = [f.depth for f in src]
    with dv.open(str(rec), realtime=False, depth_format="registered") as src:
        registered = list(src)
    with dv.open(str(rec), realtime=False, depth_format="mm") as src:
        mm = list(src)
    assert len(raw) == len(registered) == len(mm) == 20
    for r, g, m in zip(raw, registered, mm, strict=True):
        assert g.depth_format is dv.DepthFormat.REGISTERED and m.depth_format is dv.DepthFormat.MM
        np.testing.assert_array_equal(g.depth, dv.register(r, own))
        np.testing.assert_array_equal(m.depth, dv.to_mm(r, own))
        assert not np.array_equal(g.depth, dv.register(r))  # the default would differ
        # The records keep what the files hold: raw depth, for writers.
        depth_record = g.records[-5 if g.index == 19 else -1]
        assert depth_record.stream is dv.Stream.DEPTH
        np.testing.assert_array_equal(depth_record.data, r)


def test_info_says_whose_registration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = with_device_json(tmp_path, PARAMETER_SETS["perturbed"])
    assert main(["info", str(rec), "--json"]) == 0
    assert "the source's own" in json.loads(capsys.readouterr().out)["registration"]
    assert main(["info", "sample", "--json"]) == 0
    assert "Registration.default()" in json.loads(capsys.readouterr().out)["registration"]


def test_without_device_json_the_default_is_used_and_said(tmp_path: Path) -> None:
    rec = copy_person(tmp_path)
    with pytest.warns(UserWarning, match="no device.json: REGISTERED depth uses the default"):
        src = dv.open(str(rec), realtime=False, depth_format="registered")
    with src:
        assert src.registration is None
        frame = src.read()
    with dv.open(str(rec), realtime=False) as raw:
        np.testing.assert_array_equal(frame.depth, dv.register(raw.read().depth))


def test_a_broken_device_json_names_the_file_and_key(tmp_path: Path) -> None:
    layout = json.loads(json.dumps(PARAMETER_SETS["default"]))
    del layout["reg_info"]["zero_plane_info"]["reference_distance"]
    rec = with_device_json(tmp_path, layout)
    with pytest.raises(dv.SourceError, match=r"device.json: .*reference_distance"):
        dv.open(str(rec))


def test_re_recording_keeps_the_device_json_byte_for_byte(tmp_path: Path) -> None:
    rec = copy_person(tmp_path)
    shipped = resources.files("depthview") / "data" / "kinect-v1-registration.json"
    (rec / "device.json").write_bytes(shipped.read_bytes())  # as libfreenect's recorder wrote it
    out = tmp_path / "again"
    assert main(["record", str(rec), str(out)]) == 0
    assert (out / "device.json").read_bytes() == (rec / "device.json").read_bytes()
    assert (out / "INDEX.txt").read_bytes() == (rec / "INDEX.txt").read_bytes()


def test_recording_registered_depth_writes_raw_and_the_registration(tmp_path: Path) -> None:
    rec = with_device_json(tmp_path, PARAMETER_SETS["far_shifted_padded"])
    out = tmp_path / "again"
    with dv.open(str(rec), realtime=False, depth_format="registered") as src:
        dv.record(src, out)
    for name in (rec / "INDEX.txt").read_text().split():
        assert (out / name).read_bytes() == (rec / name).read_bytes()
    again = dv.Registration.from_json(out / "device.json")
    assert again == dv.Registration.from_dict(PARAMETER_SETS["far_shifted_padded"])


def test_a_registration_passed_to_the_writer_is_saved(tmp_path: Path) -> None:
    own = dv.Registration.from_dict(PARAMETER_SETS["perturbed"])
    with dv.open("demo", fps=0, frames=2) as src:
        dv.record(src, tmp_path / "rec", registration=own)
    assert dv.Registration.from_json(tmp_path / "rec" / "device.json") == own
    shutil.rmtree(tmp_path / "rec")
    with dv.open("demo", fps=0, frames=2) as src:
        dv.record(src, tmp_path / "rec")
    assert not (tmp_path / "rec" / "device.json").exists()  # the demo has none of its own


def test_export_registered_png16_npz_and_ply(tmp_path: Path) -> None:
    from PIL import Image
    from plyfile import PlyData

    rec = tmp_path / "rec"
    write_recording(rec, 2, accel=False)
    (rec / "device.json").write_text(json.dumps(PARAMETER_SETS["perturbed"]))
    own = dv.Registration.from_dict(PARAMETER_SETS["perturbed"])
    with dv.open(str(rec), realtime=False) as src:
        frames = list(src)
    base = ["export", str(rec)]
    assert main([*base, str(tmp_path / "p16"), "--format", "png16", "--registered", "--quiet"]) == 0
    for f in frames:
        with Image.open(tmp_path / "p16" / f"frame-{f.index:06d}.png") as im:
            np.testing.assert_array_equal(np.asarray(im), dv.register(f.depth, own))
    assert main([*base, str(tmp_path / "f.npz"), "--registered", "--quiet"]) == 0
    with np.load(tmp_path / "f.npz") as data:
        np.testing.assert_array_equal(data["registered"][1], dv.register(frames[1].depth, own))
        np.testing.assert_array_equal(data["depth"][1], frames[1].depth)
    assert main([*base, str(tmp_path / "c.ply"), "--range", "1:", "--registered", "--quiet"]) == 0
    vertex = PlyData.read(str(tmp_path / "c.ply"))["vertex"]
    f = frames[1]
    mm = dv.to_mm(f.depth, own)
    valid = (mm > 0) & (mm < 10000)  # libfreenect clamps past its range at 10 m
    np.testing.assert_allclose(vertex["z"], mm[valid] / 1000.0, rtol=1e-6)
    colours = dv.map_rgb_to_depth(f.depth, f.video, own)[valid]
    np.testing.assert_array_equal(vertex["red"], colours[:, 0])
    np.testing.assert_array_equal(vertex["blue"], colours[:, 2])


def test_registered_is_refused_where_it_means_nothing(tmp_path: Path, capsys: object) -> None:
    assert main(["export", "sample", str(tmp_path / "v.mp4"), "--registered", "--quiet"]) == 2
    assert list(tmp_path.iterdir()) == []


def test_a_device_json_linked_from_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps(PARAMETER_SETS["default"]))
    rec = copy_person(tmp_path)
    (rec / "device.json").symlink_to(outside)
    with pytest.raises(dv.SourceError, match="expected a file inside the recording"):
        dv.open(str(rec))


def test_rerun_and_foxglove_files_use_the_recordings_registration(tmp_path: Path) -> None:
    from _helpers_sinks import read_mcap

    rec = with_device_json(tmp_path, PARAMETER_SETS["perturbed"])
    own = dv.Registration.from_dict(PARAMETER_SETS["perturbed"])
    assert main(["export", str(rec), str(tmp_path / "k.mcap"), "--frames", "2", "--quiet"]) == 0
    images = read_mcap(tmp_path / "k.mcap")["/kinect/depth/image"]
    with dv.open(str(rec), realtime=False) as src:
        raw = src.read().depth
    got = np.frombuffer(images[0][1].data, "<u2").reshape(480, 640)
    np.testing.assert_array_equal(got, dv.to_mm(raw, own))
    assert not np.array_equal(got, dv.to_mm(raw))  # not the default registration's table


def test_a_registered_png16_export_reads_back_in_its_own_camera(tmp_path: Path) -> None:
    """Trial O 9: ``export REC DIR --format png16 --registered`` wrote no camera file, so the
    folder read back in the depth camera's generic model (fx 594.21, cx 339.5): its points
    were up to 19 cm off the same registered depth read from the recording (libfreenect's
    model of registered depth: reference distance / (2 * pixel size), centre 320, 240). The
    folder now carries that model, so its cloud is the recording's."""
    from PIL import Image
    from plyfile import PlyData

    rec = with_device_json(tmp_path, PARAMETER_SETS["perturbed"])
    zero = PARAMETER_SETS["perturbed"]["reg_info"]["zero_plane_info"]
    focal = zero["reference_distance"] / (2 * zero["reference_pixel_size"])  # about 573
    out = tmp_path / "reg16"
    ran = cli("export", str(rec), str(out), "--format", "png16", "--registered", "--frames", "1")
    assert ran.code == 0, ran.err
    with Image.open(out / "frame-000000.png") as im:
        mm = np.asarray(im).astype(np.float64)
    ran = cli("export", str(out), str(tmp_path / "back.ply"), "--quiet")
    assert ran.code == 0, ran.err
    direct = tmp_path / "direct.ply"
    ran = cli("export", str(rec), str(direct), "--depth-format", "registered", "--frames", "1")
    assert ran.code == 0, ran.err
    vv, uu = np.nonzero(mm > 0)
    z = mm[vv, uu] / 1000.0
    for ply in (tmp_path / "back.ply", direct):
        v = PlyData.read(str(ply))["vertex"]
        assert v.count == len(z) > 100_000
        np.testing.assert_allclose(v["z"], z, rtol=1e-6)
        np.testing.assert_allclose(v["x"], (uu - 320) / focal * z, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(v["y"], (vv - 240) / focal * z, rtol=1e-5, atol=1e-6)


def test_registered_depth_without_device_json_has_one_camera(tmp_path: Path) -> None:
    """Trial Q: a recording without device.json read with ``--depth-format registered`` said
    the depth camera's model (594.21, 339.5) while png16 ``--registered`` of the same depth
    wrote libfreenect's registered model (575.8, 320): one depth, two clouds. Registered
    depth lies in the colour image: both now give the default registration's model."""
    from depthview.camera_file import parse_camera_text

    want = dv.Registration.default().depth_intrinsics()
    npz, png16 = tmp_path / "r.npz", tmp_path / "r16"
    ran = cli("export", "sample", str(npz), "--depth-format", "registered", "--frames", "1")
    assert ran.code == 0, ran.err
    ran = cli("export", "sample", str(png16), "--format", "png16", "--registered", "--frames", "1")
    assert ran.code == 0, ran.err
    with np.load(npz) as data:
        np.testing.assert_allclose(data["intrinsics"], [want.fx, want.fy, want.cx, want.cy])
    camera = parse_camera_text((png16 / "camera.yaml").read_text(), "camera.yaml").intrinsics
    np.testing.assert_allclose([camera.fx, camera.cx, camera.cy], [want.fx, want.cx, want.cy])


@pytest.mark.parametrize("fmt", ["registered", "mm"])
def test_a_recording_read_as_millimetres_is_sent_as_them(tmp_path: Path, fmt: str) -> None:
    """Trial U (D9): ``stream REC --depth-format registered`` (and ``mm``) sent the raw
    disparity (742..2047) as millimetres, its camera_info the registered model: the sinks
    took each depth record, which a converting replay keeps raw. What the .mcap holds (read
    with the mcap library) is now libfreenect's conversion of the recording's frames
    (``register``/``to_mm``, checked against libfreenect's C code elsewhere), 0 = none."""
    from _helpers_sinks import read_mcap

    rec = with_device_json(tmp_path, PARAMETER_SETS["perturbed"])
    own = dv.Registration.from_dict(PARAMETER_SETS["perturbed"])
    out = tmp_path / "x.mcap"
    ran = cli("export", str(rec), str(out), "--depth-format", fmt, "--frames", "3", "--quiet")
    assert ran.code == 0, ran.err
    with dv.open(str(rec), realtime=False) as src:
        raw = [src.read().depth for _ in range(3)]
    convert = dv.register if fmt == "registered" else dv.to_mm
    images = next(v for k, v in read_mcap(out).items() if k.endswith("depth/image"))
    assert len(images) == 3
    for (_, image), depth in zip(images, raw, strict=True):
        got = np.frombuffer(image.data, np.uint16).reshape(image.height, image.width)
        np.testing.assert_array_equal(got, convert(depth, own))
