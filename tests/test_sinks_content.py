"""The SDK-free part of the sinks: millimetres, names, times, targets, missing extras."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import depthview as dv
from _helpers_sinks import expected_mm
from depthview.frame import DepthFormat, Frame, Record, Stamp, Stream, TiltState
from depthview.sinks import parse_target
from depthview.sinks.content import (
    AccelItem,
    DepthItem,
    DeviceClock,
    Names,
    Planner,
    VideoItem,
    calibration,
    depth_camera,
    depth_mm,
)


def test_depth_mm_is_libfreenects_for_every_raw_value() -> None:
    raw = np.arange(2048, dtype=np.uint16).reshape(32, 64)
    got = depth_mm(raw, DepthFormat.RAW_11BIT)
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, expected_mm(raw))
    assert got[-1, -1] == 0  # 2047: no reading


def test_depth_mm_uses_the_registration_given() -> None:
    from _registration_cases import PARAMETER_SETS

    other = dv.Registration.from_dict(PARAMETER_SETS["far_shifted_padded"])
    raw = np.arange(2048, dtype=np.uint16).reshape(32, 64)
    np.testing.assert_array_equal(depth_mm(raw, DepthFormat.RAW_11BIT, other), dv.to_mm(raw, other))
    assert not np.array_equal(depth_mm(raw, DepthFormat.RAW_11BIT, other), expected_mm(raw))


def test_depth_mm_passes_millimetres_through() -> None:
    mm = np.array([[0, 500, 4000]], dtype=np.uint16)
    assert depth_mm(mm, DepthFormat.MM) is mm


def test_ten_bit_raw_is_eleven_bit_halved() -> None:
    raw10 = np.arange(0, 1023, 7, dtype=np.uint16).reshape(1, -1)
    np.testing.assert_array_equal(depth_mm(raw10, DepthFormat.RAW_10BIT), expected_mm(raw10 * 2))
    assert depth_mm(np.array([[1023]], np.uint16), DepthFormat.RAW_10BIT)[0, 0] == 0


def test_device_clock_unwraps_the_32_bit_wrap_and_small_steps_back() -> None:
    clock = DeviceClock()
    wrap = 1 << 32
    raw = [wrap - 3_000_000, wrap - 1_000_000, 1_000_000, 900_000, 3_000_000]
    got = [clock.unwrap(r) for r in raw]
    assert got == [wrap - 3_000_000, wrap - 1_000_000, wrap + 1_000_000, wrap + 900_000,
                   wrap + 3_000_000]  # fmt: skip


def test_names_for_one_and_several_kinects() -> None:
    one = Names.for_device(None)
    assert one.depth_entity == "kinect/depth"
    assert one.depth_topic == "/kinect/depth/image"
    assert one.video_topic("rgb") == "/kinect/rgb/image"
    assert one.camera_info_topic == "/kinect/depth/camera_info"
    assert one.accel_topic == "/kinect/accel"
    serial = Names.for_device("A00 361-8")
    assert serial.depth_entity == "kinect/A00_361_8/depth"
    assert serial.depth_topic == "/kinect/A00_361_8/depth/image"
    assert serial.depth_frame_id == "kinect_A00_361_8_depth_optical_frame"
    assert Names.for_device(1).accel_topic == "/kinect/1/accel"
    with pytest.raises(ValueError, match="expected a device serial or index"):
        Names.for_device(" ")


def test_calibration_is_the_pinhole_of_the_intrinsics() -> None:
    cam = dv.Intrinsics(fx=500.0, fy=501.0, cx=320.5, cy=240.25)
    k, r, p = calibration(cam)
    k_expected = np.array([[500.0, 0, 320.5], [0, 501.0, 240.25], [0, 0, 1]])
    np.testing.assert_array_equal(np.reshape(k, (3, 3)), k_expected)
    np.testing.assert_array_equal(np.reshape(r, (3, 3)), np.eye(3))
    np.testing.assert_array_equal(np.reshape(p, (3, 4)), np.hstack([k_expected, np.zeros((3, 1))]))


def test_depth_camera_is_kinect_v1_and_scales_with_size() -> None:
    assert depth_camera(640, 480) == dv.KINECT_V1_DEPTH
    half = depth_camera(320, 240)
    assert half.fx == pytest.approx(dv.KINECT_V1_DEPTH.fx / 2)
    assert half.cy == pytest.approx(dv.KINECT_V1_DEPTH.cy / 2)


def test_planner_sends_each_demo_record_once_with_its_times() -> None:
    with dv.open("demo", fps=0, frames=3) as src:
        frames = list(src)
    planner = Planner(raw_depth=True)
    for frame in frames:
        items = planner.items(frame)
        assert [type(i) for i in items] == [VideoItem, AccelItem, DepthItem]
        video, accel, depth = items
        assert isinstance(video, VideoItem) and isinstance(depth, DepthItem)
        assert isinstance(accel, AccelItem)
        assert (video.kind, video.encoding) == ("rgb", "rgb8")
        assert video.image is frame.video
        np.testing.assert_array_equal(depth.mm, expected_mm(frame.depth))
        assert depth.raw is frame.depth
        assert depth.times.seq == frame.index
        assert depth.times.host_time == frame.timestamp
        assert depth.times.wall_clock is False  # the demo counts seconds from its start
        assert depth.times.device_ticks == frame.device_timestamp
        assert accel.accel == pytest.approx(frame.accel, abs=0.02)  # counts of 1/819 g


def test_planner_keeps_each_streams_own_times_on_the_real_sample() -> None:
    planner = Planner()
    depth_times, accel_count = [], 0
    with dv.open("sample") as src:
        for frame in src:
            items = planner.items(frame)
            accel = [i.times.host_time for i in items if isinstance(i, AccelItem)]
            own = [r.stamp.host_time for r in frame.records if r.stream is Stream.ACCEL]
            assert accel == own  # the accelerometer's own times, not the depth frame's
            accel_count += len(accel)
            depth_times += [i.times for i in items if isinstance(i, DepthItem)]
    assert len(depth_times) == 20
    assert accel_count > 20  # the accelerometer reports more often than depth
    assert all(t.wall_clock for t in depth_times)  # unix times from the recording
    assert [t.seq for t in depth_times] == list(range(20))


def test_hand_built_frames_and_ir_video() -> None:
    depth = np.full((4, 6), 700, dtype=np.uint16)
    ir = np.arange(24, dtype=np.uint8).reshape(4, 6)
    frame = dv.Frame(depth=depth, video=ir, timestamp=1_700_000_000.5, index=7)
    items = Planner().items(frame)
    assert [type(i) for i in items] == [VideoItem, DepthItem]
    assert isinstance(items[0], VideoItem)
    assert (items[0].kind, items[0].encoding) == ("ir", "mono8")
    assert items[1].times.wall_clock is True
    assert items[1].times.host_ns == 1_700_000_000_500_000_000
    ir16 = Record(Stream.VIDEO, Stamp(0, 0.0), (ir.astype(np.uint16) * 40))
    frame16 = dv.Frame(depth=depth, records=(ir16,))
    assert Planner().items(frame16)[0].encoding == "mono16"  # type: ignore[union-attr]
    bad = dv.Frame(depth=depth, records=(Record(Stream.VIDEO, Stamp(0, 0.0), depth[:, :, None]),))
    with pytest.raises(ValueError, match="expected video as"):
        Planner().items(bad)


def test_tilt_unknown_while_moving() -> None:
    state = TiltState(0, 819, 0, -128)
    rec = Record(Stream.ACCEL, Stamp(0, 1.0), state)
    frame = dv.Frame(depth=np.zeros((2, 2), np.uint16), records=(rec,))
    (item,) = Planner().items(frame)
    assert isinstance(item, AccelItem)
    assert item.tilt_deg is None
    assert item.accel[1] == pytest.approx(9.80665)


@pytest.mark.parametrize(
    ("text", "kind", "port", "url"),
    [
        ("rerun", "rerun-spawn", None, None),
        ("rerun+http://10.0.0.5:9876/proxy", "rerun-connect", 9876, "rerun+http://10.0.0.5:9876/proxy"),
        ("rerun-web", "rerun-web", 9090, None),
        ("rerun-web:8080", "rerun-web", 8080, None),
        ("foxglove", "foxglove", 8765, None),
        ("foxglove:0", "foxglove", 0, None),
    ],
)  # fmt: skip
def test_parse_target(text: str, kind: str, port: int | None, url: str | None) -> None:
    target = parse_target(text)
    assert (target.kind, target.port, target.url) == (kind, port, url)


@pytest.mark.parametrize(
    "text",
    ["", "rviz", "rerun+http://host:9876/", "rerun+http://:9876/proxy", "foxglove:x",
     "foxglove:70000", "rerun-web:-1", "rerun+http://h:port/proxy"],
)  # fmt: skip
def test_parse_target_refuses_with_one_line(text: str) -> None:
    with pytest.raises(dv.SinkError, match=r"^--to: expected .*got") as info:
        parse_target(text)
    assert "\n" not in str(info.value)


def test_missing_extra_names_the_pip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDKs are installed here; None in sys.modules is how Python says "not importable".
    monkeypatch.setitem(sys.modules, "rerun", None)
    monkeypatch.setitem(sys.modules, "foxglove", None)
    with pytest.raises(dv.SinkError, match=r"pip install 'depthview\[rerun\]'"):
        dv.RerunSink("x.rrd")
    with pytest.raises(dv.SinkError, match=r"pip install 'depthview\[foxglove\]'"):
        dv.FoxgloveSink("x.mcap")


def test_import_depthview_does_not_import_the_sdks() -> None:
    code = (
        "import sys, depthview as dv; dv.RerunSink; dv.FoxgloveSink; "
        "print(sorted({'rerun', 'foxglove', 'pyarrow'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_tum_fifths_of_a_millimetre_reach_the_sinks_as_millimetres() -> None:
    """Issue 22: TUM depth (5000 a metre) went to Rerun/Foxglove as if millimetres, 5x too
    far. The planner's depth item holds millimetres: value / 5, rounded to the nearest."""
    tum = np.array([[0, 5000, 5002, 5003, 12345]], dtype=np.uint16)
    frame = Frame(depth=tum, depth_format=DepthFormat.TUM, timestamp=1.0)
    (item,) = [i for i in Planner().items(frame) if isinstance(i, DepthItem)]
    expected = np.floor(tum.astype(np.float64) / 5 + 0.5).astype(
        np.uint16
    )  # [0,1000,1000,1001,2469]
    np.testing.assert_array_equal(item.mm, expected)
    np.testing.assert_array_equal(depth_mm(tum, DepthFormat.TUM), expected)
