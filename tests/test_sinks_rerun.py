"""RerunSink to .rrd, read back with Rerun's own dataframe API (never depthview's writer):
every column equals what went in, frame by frame, at the record's own times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_sinks import column, expected_mm, index_ns, ns_of, read_rrd
from depthview.frame import Stream, TiltState
from depthview.sources import sample

DEVICE_HZ = 60_000_000


def _demo(n: int) -> list[dv.Frame]:
    with dv.open("demo", fps=0, frames=n) as src:
        return list(src)


def _image(blob: list[list[int]], shape: tuple[int, ...], dtype: type) -> np.ndarray:
    (flat,) = blob  # one image per row
    return np.frombuffer(bytes(flat), dtype=dtype).reshape(shape)


def test_demo_rrd_reads_back_frame_by_frame(tmp_path: Path) -> None:
    frames = _demo(6)
    path = tmp_path / "demo.rrd"
    with dv.RerunSink(path, raw_depth=True) as sink:
        for frame in frames:
            sink.log(frame)
    table = read_rrd(path, "device_time")
    assert table.num_rows == len(frames)  # all three demo streams share each instant
    # The timelines are the recording's: no wall-clock log_time of the export.
    assert "log_time" not in table.column_names
    device_ns = [int(v.value) for v in table.column("device_time").to_pandas()]
    host_ns = [int(v.value) for v in table.column("host_time").to_pandas()]
    assert device_ns == [round(f.device_timestamp * 1e9 / DEVICE_HZ) for f in frames]  # type: ignore[operator]
    assert host_ns == [ns_of(f.timestamp) for f in frames]
    depth = column(table, "/kinect/depth:DepthImage:buffer")
    raw = column(table, "/kinect/depth_raw:DepthImage:buffer")
    rgb = column(table, "/kinect/rgb:Image:buffer")
    accel = column(table, "/kinect/accel:Scalars:scalars")
    tilt = column(table, "/kinect/tilt:Scalars:scalars")
    for i, frame in enumerate(frames):
        mm = _image(depth[i], (480, 640), np.uint16)
        np.testing.assert_array_equal(mm, expected_mm(frame.depth))
        np.testing.assert_array_equal(_image(raw[i], (480, 640), np.uint16), frame.depth)
        np.testing.assert_array_equal(_image(rgb[i], (480, 640, 3), np.uint8), frame.video)
        (state,) = [r.data for r in frame.records if r.stream is Stream.ACCEL]
        assert isinstance(state, TiltState)
        assert accel[i] == pytest.approx(list(state.accel_mks))
        assert tilt[i] == [0.0]
    depth_format = column(table, "/kinect/depth:DepthImage:format")[0][0]
    assert (depth_format["width"], depth_format["height"]) == (640, 480)
    rgb_format = column(table, "/kinect/rgb:Image:format")[0][0]
    assert (rgb_format["width"], rgb_format["height"]) == (640, 480)


def test_camera_and_depth_scale_are_rerun_pinhole_and_meter(tmp_path: Path) -> None:
    path = tmp_path / "one.rrd"
    with dv.RerunSink(path) as sink:
        sink.log(_demo(1)[0])
    table = read_rrd(path, "host_time")
    (k,) = column(table, "/kinect/depth:Pinhole:image_from_camera")[0]
    cam = dv.KINECT_V1_DEPTH
    # Rerun stores 3x3 matrices column-major.
    np.testing.assert_allclose(
        np.reshape(k, (3, 3)).T, [[cam.fx, 0, cam.cx], [0, cam.fy, cam.cy], [0, 0, 1]], rtol=1e-6
    )
    assert column(table, "/kinect/depth:Pinhole:resolution")[0] == [[640.0, 480.0]]
    assert column(table, "/kinect/depth:DepthImage:meter")[0] == [1000.0]
    assert column(table, "/kinect/depth:DepthImage:depth_range")[0] == [[500.0, 4500.0]]


def test_real_sample_keeps_the_accelerometer_on_its_own_times(tmp_path: Path) -> None:
    path = tmp_path / "sample.rrd"
    with dv.open("sample") as src:
        frames = list(src)
    with dv.RerunSink(path) as sink:
        for frame in frames:
            sink.log(frame)
    table = read_rrd(path, "host_time")
    host_ns = [int(v.value) for v in table.column("host_time").to_pandas()]
    depth = column(table, "/kinect/depth:DepthImage:buffer")
    accel = column(table, "/kinect/accel:Scalars:scalars")
    by_time = dict(zip(host_ns, zip(depth, accel, strict=True), strict=True))
    depth_records = [r for f in frames for r in f.records if r.stream is Stream.DEPTH]
    accel_records = [r for f in frames for r in f.records if r.stream is Stream.ACCEL]
    assert len(depth_records) == 20 and len(accel_records) > 20
    # each at its name's microseconds, to the nanosecond (trial AF D6: 0.2 us off before)
    rec = sample.write_to(tmp_path / "rec")
    for record, ns in zip(depth_records, index_ns(rec, "d"), strict=True):
        row_depth, _ = by_time[ns]
        assert isinstance(record.data, np.ndarray)
        np.testing.assert_array_equal(
            _image(row_depth, (480, 640), np.uint16), expected_mm(record.data)
        )
    for record, ns in zip(accel_records, index_ns(rec, "a"), strict=True):
        _, row_accel = by_time[ns]
        assert isinstance(record.data, TiltState)
        assert row_accel == pytest.approx(list(record.data.accel_mks))
    assert sum(d is not None for d in depth) == 20
    assert sum(a is not None for a in accel) == len(accel_records)
    assert str(table.schema.field("host_time").type).startswith("timestamp")  # unix times


def test_several_kinects_side_by_side(tmp_path: Path) -> None:
    path = tmp_path / "two.rrd"
    frames = _demo(2)
    with dv.RerunSink(path) as sink:
        for frame in frames:
            sink.log(frame, device="A00361")
            sink.log(frame, device=1)
    table = read_rrd(path, "host_time")
    for root in ("/kinect/A00361", "/kinect/1"):
        rows = column(table, f"{root}/depth:DepthImage:buffer")
        assert len([r for r in rows if r is not None]) == 2
    assert not any(name.startswith("/kinect/depth") for name in table.column_names)


def test_ir_video_is_a_grey_image(tmp_path: Path) -> None:
    path = tmp_path / "ir.rrd"
    with dv.open("demo", fps=0, frames=2) as src:
        src.set_video_format(dv.VideoFormat.IR_8BIT)
        frames = list(src)
    with dv.RerunSink(path) as sink:
        for frame in frames:
            sink.log(frame)
    table = read_rrd(path, "host_time")
    ir = column(table, "/kinect/ir:Image:buffer")
    for i, frame in enumerate(frames):
        np.testing.assert_array_equal(_image(ir[i], (480, 640), np.uint8), frame.video)
    assert "/kinect/rgb:Image:buffer" not in table.column_names


def test_existing_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "keep.rrd"
    path.write_bytes(b"precious")
    with pytest.raises(dv.SinkError, match="exists; use --overwrite"):
        dv.RerunSink(path)
    assert path.read_bytes() == b"precious"


def test_log_after_close_and_wrong_input(tmp_path: Path) -> None:
    sink = dv.RerunSink(tmp_path / "c.rrd")
    with pytest.raises(TypeError, match="expected a depthview Frame"):
        sink.log(np.zeros((2, 2), np.uint16))  # type: ignore[arg-type]
    sink.close()
    sink.close()
    with pytest.raises(dv.SinkError, match="log after close"):
        sink.log(_demo(1)[0])


def test_depthview_export_to_rrd_and_mcap(tmp_path: Path) -> None:
    import subprocess
    import sys

    from _helpers_sinks import read_mcap

    for name in ("sample.rrd", "sample.mcap"):
        out = tmp_path / name
        done = subprocess.run(
            [sys.executable, "-m", "depthview", "export", "sample", str(out), "--frames", "7"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "export " + out.suffix[1:] in done.stderr  # the progress bar
        assert f"exported 7 frames (1 files) to {out}" in done.stderr
        assert not list(tmp_path.glob(".*.partial"))
    with dv.open("sample") as src:
        first = [src.read() for _ in range(7)]
    table = read_rrd(tmp_path / "sample.rrd", "host_time")
    depth = [d for d in column(table, "/kinect/depth:DepthImage:buffer") if d is not None]
    assert len(depth) == 7
    np.testing.assert_array_equal(
        _image(depth[6], (480, 640), np.uint16), expected_mm(first[6].depth)
    )
    topics = read_mcap(tmp_path / "sample.mcap")
    assert len(topics["/kinect/depth/image"]) == 7
    again = subprocess.run(
        [sys.executable, "-m", "depthview", "export", "sample", str(tmp_path / "sample.rrd")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 2
    assert again.stderr.strip().endswith("exists; use --overwrite")


def test_a_record_without_device_clock_is_off_the_device_timeline(tmp_path: Path) -> None:
    path = tmp_path / "mixed.rrd"
    demo = _demo(1)[0]
    depth = np.full((480, 640), 800, dtype=np.uint16)
    no_clock = dv.Frame(depth=depth, timestamp=5.0, index=1)  # built by hand: no device time
    with dv.RerunSink(path) as sink:
        sink.log(demo)
        sink.log(no_clock)
    table = read_rrd(path, "host_time")
    host_ns = [int(v.value) for v in table.column("host_time").to_pandas()]
    assert host_ns == [0, 5_000_000_000]
    device = table.column("device_time").to_pylist()
    assert device[0] is not None and device[1] is None
    (blob,) = column(table, "/kinect/depth:DepthImage:buffer")[1]
    np.testing.assert_array_equal(
        np.frombuffer(bytes(blob), np.uint16).reshape(480, 640), expected_mm(depth)
    )


def test_a_sources_own_camera_model_goes_to_the_pinhole(tmp_path: Path) -> None:
    from _helpers_sinks import read_mcap

    cam = dv.Intrinsics(fx=500.0, fy=501.0, cx=320.0, cy=241.0)
    frame = _demo(1)[0]
    with dv.RerunSink(tmp_path / "cam.rrd", intrinsics=cam) as sink:
        sink.log(frame)
    with dv.FoxgloveSink(tmp_path / "cam.mcap") as fox:
        fox.set_camera(cam)
        fox.log(frame)
    table = read_rrd(tmp_path / "cam.rrd", "host_time")
    (k,) = column(table, "/kinect/depth:Pinhole:image_from_camera")[0]
    np.testing.assert_allclose(np.reshape(k, (3, 3)).T, [[500, 0, 320], [0, 501, 241], [0, 0, 1]])
    ((_, info),) = read_mcap(tmp_path / "cam.mcap")["/kinect/depth/camera_info"]
    assert list(info.K) == [500.0, 0, 320.0, 0, 501.0, 241.0, 0, 0, 1]  # type: ignore[attr-defined]


def test_a_colormap_rerun_has_not_is_refused_at_once(tmp_path: Path) -> None:
    """Trial AR (D3): ``colormap="nope"`` was taken, and only Rerun's own warning came, at
    every frame. One line naming the option and what Rerun has; nothing written."""
    with pytest.raises(
        dv.SinkError, match=r"^colormap: expected one of .*\bturbo\b.*, got 'nope'$"
    ):
        dv.RerunSink(tmp_path / "s.rrd", colormap="nope")
    assert list(tmp_path.iterdir()) == []
    with dv.RerunSink(tmp_path / "v.rrd", colormap="Viridis") as sink:  # any case
        sink.log(dv.Frame(depth=np.full((48, 64), 800, np.uint16)))
    assert (tmp_path / "v.rrd").stat().st_size > 0
