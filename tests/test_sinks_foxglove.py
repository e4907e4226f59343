"""FoxgloveSink to .mcap, read back with the mcap reader and the protobuf schemas the file
carries (never depthview's writer): bytes, encodings, sizes, calibration and times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_sinks import expected_mm, index_ns, ns_of, read_mcap
from depthview.frame import Stream, TiltState
from depthview.sources import sample

DEVICE_HZ = 60_000_000


def _stamp_ns(msg: object) -> int:
    ts = msg.timestamp  # type: ignore[attr-defined]
    return int(ts.seconds) * 1_000_000_000 + int(ts.nanos)


Topics = dict[str, list[tuple[int, object]]]


def _write(path: Path, frames: list[dv.Frame], **options: object) -> Topics:
    with dv.FoxgloveSink(path, **options) as sink:  # type: ignore[arg-type]
        for frame in frames:
            sink.log(frame)
    return read_mcap(path)


def test_demo_mcap_depth_colour_calibration_and_times(tmp_path: Path) -> None:
    with dv.open("demo", fps=0, frames=5) as src:
        frames = list(src)
    topics = _write(tmp_path / "demo.mcap", frames, raw_depth=True)
    assert set(topics) == {
        "/kinect/depth/image",
        "/kinect/depth/image_raw",
        "/kinect/depth/camera_info",
        "/kinect/rgb/image",
        "/kinect/accel",
        "/kinect/tilt",
        "/kinect/device_time",
    }
    depth, rgb = topics["/kinect/depth/image"], topics["/kinect/rgb/image"]
    raw, info = topics["/kinect/depth/image_raw"], topics["/kinect/depth/camera_info"]
    assert len(depth) == len(rgb) == len(raw) == len(info) == 5
    cam = dv.KINECT_V1_DEPTH
    rows = zip(frames, depth, rgb, raw, info, strict=True)
    for frame, (t_d, d), (t_c, c), (_, r), (t_i, k) in rows:
        ns = ns_of(frame.timestamp)
        assert t_d == t_c == t_i == ns == _stamp_ns(d) == _stamp_ns(c) == _stamp_ns(k)
        assert (d.encoding, d.width, d.height, d.step) == ("16UC1", 640, 480, 1280)
        assert d.frame_id == "kinect_depth_optical_frame"
        np.testing.assert_array_equal(
            np.frombuffer(d.data, "<u2").reshape(480, 640), expected_mm(frame.depth)
        )
        assert (c.encoding, c.width, c.height, c.step) == ("rgb8", 640, 480, 1920)
        assert c.data == frame.video.tobytes()  # type: ignore[union-attr]
        assert (r.encoding, r.step) == ("mono16", 1280)
        assert r.data == frame.depth.astype("<u2").tobytes()
        assert (k.width, k.height, k.frame_id) == (640, 480, d.frame_id)
        np.testing.assert_allclose(list(k.K), [cam.fx, 0, cam.cx, 0, cam.fy, cam.cy, 0, 0, 1])
        np.testing.assert_allclose(
            list(k.P), [cam.fx, 0, cam.cx, 0, 0, cam.fy, cam.cy, 0, 0, 0, 1, 0]
        )
        assert list(k.R) == [1, 0, 0, 0, 1, 0, 0, 0, 1]
    for frame, (t_a, a), (_, tilt) in zip(
        frames, topics["/kinect/accel"], topics["/kinect/tilt"], strict=True
    ):
        (state,) = [r.data for r in frame.records if r.stream is Stream.ACCEL]
        assert isinstance(state, TiltState)
        assert t_a == ns_of(frame.timestamp)
        assert [a["x"], a["y"], a["z"]] == pytest.approx(list(state.accel_mks))  # type: ignore[index]
        assert tilt["angle_deg"] == 0.0  # type: ignore[index]
    clock = [(d["stream"], d["device_timestamp"]) for _, d in topics["/kinect/device_time"]]  # type: ignore[index]
    assert clock == [(s, f.device_timestamp) for f in frames for s in ("rgb", "depth")]


def test_point_cloud_topic_is_the_unprojected_depth(tmp_path: Path) -> None:
    with dv.open("demo", fps=0, frames=1) as src:
        frame = src.read()
    topics = _write(tmp_path / "points.mcap", [frame], points=True)
    ((_, cloud),) = topics["/kinect/depth/points"]
    assert cloud.point_stride == 12  # type: ignore[attr-defined]
    assert [f.name for f in cloud.fields] == ["x", "y", "z"]  # type: ignore[attr-defined]
    xyz = np.frombuffer(cloud.data, "<f4").reshape(-1, 3)  # type: ignore[attr-defined]
    mm = expected_mm(frame.depth)
    v, u = np.nonzero(mm)
    z = mm[v, u] / 1000.0
    cam = dv.KINECT_V1_DEPTH
    expected = np.stack([(u - cam.cx) / cam.fx * z, (v - cam.cy) / cam.fy * z, z], axis=1)
    np.testing.assert_allclose(xyz, expected, rtol=1e-5, atol=1e-6)


def test_real_sample_times_and_ir_grey(tmp_path: Path) -> None:
    with dv.open("sample") as src:
        frames = list(src)
    topics = _write(tmp_path / "sample.mcap", frames)
    depth_records = [r for f in frames for r in f.records if r.stream is Stream.DEPTH]
    accel_records = [r for f in frames for r in f.records if r.stream is Stream.ACCEL]
    # to the nanosecond of the names' microseconds (trial AF D6: t * 1e9 was 0.2 us off)
    rec = sample.write_to(tmp_path / "rec")
    assert [t for t, _ in topics["/kinect/depth/image"]] == index_ns(rec, "d")
    assert [t for t, _ in topics["/kinect/accel"]] == index_ns(rec, "a")
    assert len(depth_records) == len(index_ns(rec, "d"))
    assert len(accel_records) == len(index_ns(rec, "a"))
    for record, (_, msg) in zip(depth_records, topics["/kinect/depth/image"], strict=True):
        assert isinstance(record.data, np.ndarray)
        got = np.frombuffer(msg.data, "<u2").reshape(480, 640)  # type: ignore[attr-defined]
        np.testing.assert_array_equal(got, expected_mm(record.data))
    ticks = [d["device_time"] for _, d in topics["/kinect/device_time"]]  # type: ignore[index]
    assert ticks == pytest.approx(
        [r.stamp.device_timestamp / DEVICE_HZ for r in depth_records]  # type: ignore[operator]
    )
    with dv.open("demo", fps=0, frames=2) as src:
        src.set_video_format(dv.VideoFormat.IR_8BIT)
        ir_frames = list(src)
    ir = _write(tmp_path / "ir.mcap", ir_frames)["/kinect/ir/image"]
    for frame, (_, msg) in zip(ir_frames, ir, strict=True):
        assert (msg.encoding, msg.step) == ("mono8", 640)  # type: ignore[attr-defined]
        assert msg.data == frame.video.tobytes()  # type: ignore[attr-defined, union-attr]


def test_existing_mcap_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "keep.mcap"
    path.write_bytes(b"precious")
    with pytest.raises(dv.SinkError, match="exists; use --overwrite"):
        dv.FoxgloveSink(path)
    assert path.read_bytes() == b"precious"
    with pytest.raises(dv.SinkError, match=r"expected 'server' or a \.mcap path"):
        dv.FoxgloveSink(str(tmp_path / "x.bag"))
