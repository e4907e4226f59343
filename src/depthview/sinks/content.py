"""What a sink sends, under which name and at which time: the part of the Rerun and Foxglove
sinks that needs neither SDK, so it is tested on its own.

A frame becomes a list of items, one per record that arrived since the previous frame (each
record once, with its own stream's times): depth in millimetres (uint16, 0 = no reading),
the video image (RGB, or IR as grey), the accelerometer in m/s^2 and the motor tilt. Each
item carries ``Times``: the host time in seconds and the Kinect's clock unwrapped past its
32-bit wrap, so the tools' timelines are the recording's, not the moment of sending.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np
import numpy.typing as npt

from ..frame import DEVICE_CLOCK_HZ, DepthFormat, Frame, Stream, TiltState
from ..geometry import KINECT_V1_DEPTH, Intrinsics, point_cloud
from ..registration import Registration, depth_mm, readings_mm

#: The Kinect's own clock (``Stamp.device_timestamp``, ``frame.DEVICE_CLOCK_HZ``) wraps at 2^32.
DEVICE_CLOCK_WRAP = 1 << 32
#: Host times above this (1973 as unix time) are wall-clock times; below, seconds from a start.
UNIX_TIME_FLOOR = 1e8
#: The depth the colour map spans by default: the Kinect v1's working range, metres.
DEPTH_RANGE_M = (0.5, 4.5)
#: Millimetres per metre: the meter scale of the uint16 depth images both tools receive.
MM_PER_METRE = 1000.0


# -- depth and camera ---------------------------------------------------------------------
def depth_camera(width: int, height: int, intrinsics: Intrinsics | None = None) -> Intrinsics:
    """The depth camera's pinhole model for a (width, height) image: the one place the sinks
    take it from. The source's own intrinsics when it has them, else the Kinect v1's
    (scaled for sizes other than 640x480)."""
    if intrinsics is not None:
        return intrinsics
    return KINECT_V1_DEPTH.for_size(width, height)


def calibration(intrinsics: Intrinsics) -> tuple[list[float], list[float], list[float]]:
    """ROS ``CameraInfo`` matrices for an undistorted pinhole: K (3x3), R (3x3), P (3x4),
    row-major."""
    fx, fy, cx, cy = intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy
    k = [fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0]
    r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    p = [fx, 0.0, cx, 0.0, 0.0, fy, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return k, r, p


# -- names --------------------------------------------------------------------------------
VideoKind = Literal["rgb", "ir"]
ImageEncoding = Literal["rgb8", "mono8", "mono16"]


def device_label(device: str | int | None) -> str | None:
    """A serial or index as it appears in names (letters, digits and ``_`` only)."""
    if device is None:
        return None
    label = re.sub(r"[^A-Za-z0-9_]", "_", str(device).strip())
    if not label:
        raise ValueError(f"expected a device serial or index, got {device!r}")
    return label


@dataclass(frozen=True, slots=True)
class Names:
    """Entity paths (Rerun) and ROS-style topics (Foxglove) for one Kinect: ``kinect/...``
    alone, ``kinect/<serial or index>/...`` when several stand side by side."""

    root: str = "kinect"

    @classmethod
    def for_device(cls, device: str | int | None) -> Names:
        label = device_label(device)
        return cls("kinect" if label is None else f"kinect/{label}")

    # Rerun entity paths
    @property
    def depth_entity(self) -> str:
        return f"{self.root}/depth"

    @property
    def depth_raw_entity(self) -> str:
        return f"{self.root}/depth_raw"

    def video_entity(self, kind: VideoKind) -> str:
        return f"{self.root}/{kind}"

    @property
    def accel_entity(self) -> str:
        return f"{self.root}/accel"

    @property
    def tilt_entity(self) -> str:
        return f"{self.root}/tilt"

    # Foxglove topics and frames
    @property
    def depth_topic(self) -> str:
        return f"/{self.root}/depth/image"

    @property
    def depth_raw_topic(self) -> str:
        return f"/{self.root}/depth/image_raw"

    @property
    def camera_info_topic(self) -> str:
        return f"/{self.root}/depth/camera_info"

    @property
    def points_topic(self) -> str:
        return f"/{self.root}/depth/points"

    def video_topic(self, kind: VideoKind) -> str:
        return f"/{self.root}/{kind}/image"

    @property
    def accel_topic(self) -> str:
        return f"/{self.root}/accel"

    @property
    def tilt_topic(self) -> str:
        return f"/{self.root}/tilt"

    @property
    def stamps_topic(self) -> str:
        return f"/{self.root}/device_time"

    @property
    def depth_frame_id(self) -> str:
        return f"{self.root.replace('/', '_')}_depth_optical_frame"

    def video_frame_id(self, kind: VideoKind) -> str:
        return f"{self.root.replace('/', '_')}_{kind}_optical_frame"


# -- time ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Times:
    """When a record was taken: ``host_time`` seconds (unix time when ``wall_clock``, else
    seconds from the source's start) and the Kinect clock in ticks, unwrapped (None when the
    source has no device clock)."""

    seq: int
    host_time: float
    wall_clock: bool
    device_ticks: int | None

    @property
    def host_ns(self) -> int:
        """Host time in integer nanoseconds (Foxglove's log time), from the time as written
        (its shortest repr): a fakenect name's exact microseconds stay exact, where
        ``t * 1e9`` of a unix time in float64 is up to 0.2 us off (trial AF D6)."""
        return round(Decimal(repr(float(self.host_time))) * 1_000_000_000)

    @property
    def device_ns(self) -> int | None:
        """The Kinect clock in integer nanoseconds, or None."""
        if self.device_ticks is None:
            return None
        return (self.device_ticks * 1_000_000_000 + DEVICE_CLOCK_HZ // 2) // DEVICE_CLOCK_HZ


class DeviceClock:
    """Unwraps the Kinect's 32-bit clock: each reading is taken as the nearest value to the
    previous one, so small steps back (streams arriving out of order) stay small and the
    wrap every 71.6 s adds 2^32 ticks instead of jumping back."""

    def __init__(self) -> None:
        self._last: int | None = None

    def unwrap(self, raw: int) -> int:
        raw = int(raw) % DEVICE_CLOCK_WRAP
        if self._last is None:
            self._last = raw
            return raw
        step = (raw - self._last) % DEVICE_CLOCK_WRAP
        if step >= DEVICE_CLOCK_WRAP // 2:
            step -= DEVICE_CLOCK_WRAP
        self._last += step
        return self._last


# -- items --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DepthItem:
    """A depth frame: millimetres for the tools, and the raw values when asked for."""

    times: Times
    mm: npt.NDArray[np.uint16]
    raw: npt.NDArray[np.uint16] | None
    camera: Intrinsics
    #: ``mm`` with only readings (``registration.readings_mm``): what the point topic holds.
    readings: npt.NDArray[np.uint16] | None = None
    #: The depth lies in the colour image's pixels (registered, or aligned by a dataset or
    #: convert): the colour camera's frame, not the depth camera's.
    aligned: bool = False


@dataclass(frozen=True, slots=True)
class VideoItem:
    """A video frame as the tools take it: RGB as ``rgb8``, IR as grey (``mono8``/``mono16``)."""

    times: Times
    image: npt.NDArray[np.uint8] | npt.NDArray[np.uint16]
    kind: VideoKind
    encoding: ImageEncoding

    @property
    def channels(self) -> int:
        return 3 if self.encoding == "rgb8" else 1


@dataclass(frozen=True, slots=True)
class ModelItem:
    """A scan's model as it grows (``depthview scan --to``): the camera path so far
    ((N, 3) metres, the scan's world: its first camera), the camera's pose now (4x4 camera
    to world) and the mesh when it changed (vertices (V, 3), triangles (T, 3), colours
    (V, 3) uint8), else None."""

    times: Times
    path: npt.NDArray[np.float32]
    pose: npt.NDArray[np.float64]
    mesh: tuple[npt.NDArray[np.float32], npt.NDArray[np.int32], npt.NDArray[np.uint8]] | None

    #: Where each part goes (Rerun entities; Foxglove topics with a leading /).
    MODEL = "scan/model"
    PATH = "scan/path"
    CAMERA = "scan/camera"


@dataclass(frozen=True, slots=True)
class AccelItem:
    """An accelerometer reading (m/s^2; None: a tilt without one, sent alone) and the
    motor's tilt (degrees, None while moving)."""

    times: Times
    accel: tuple[float, float, float] | None
    tilt_deg: float | None
    tilt_status: int


Item = DepthItem | VideoItem | AccelItem


def video_encoding(image: npt.NDArray[np.generic]) -> tuple[VideoKind, ImageEncoding]:
    """How a video array is sent: (H, W, 3) uint8 is RGB, (H, W) uint8/uint16 is IR."""
    if image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8:
        return "rgb", "rgb8"
    if image.ndim == 2 and image.dtype == np.uint8:
        return "ir", "mono8"
    if image.ndim == 2 and image.dtype == np.uint16:
        return "ir", "mono16"
    raise ValueError(
        f"expected video as (H, W, 3) uint8 RGB or (H, W) uint8/uint16 IR, "
        f"got {image.shape} {image.dtype}"
    )


class Planner:
    """Turns one Kinect's frames into items, keeping the state that spans frames (the
    unwrapped device clock, whether host times are wall-clock times)."""

    def __init__(
        self,
        *,
        raw_depth: bool = False,
        intrinsics: Intrinsics | None = None,
        registration: Registration | None = None,
        aligned: bool = False,
    ) -> None:
        self.raw_depth = raw_depth
        self.intrinsics = intrinsics
        self.registration = registration
        self.aligned = aligned
        self._clock = DeviceClock()
        self._wall_clock: bool | None = None

    def times(self, seq: int, host_time: float, device_timestamp: int | None) -> Times:
        if self._wall_clock is None:
            self._wall_clock = host_time > UNIX_TIME_FLOOR
        ticks = None if device_timestamp is None else self._clock.unwrap(device_timestamp)
        return Times(seq, float(host_time), self._wall_clock, ticks)

    def items(self, frame: Frame) -> list[Item]:
        """One item per record in ``frame.records`` (or the frame's own, when built by hand),
        in arrival order. The frame's own reading is sent as the frame has it, not as a
        recording's record would hold it (trial AR D7: a tilt of 70 went as 30, and a tilt
        without an accelerometer reading as a reading of 0 m/s^2): a tilt alone is an item
        without ``accel``, before the depth."""
        out: list[Item] = []
        own = frame.accel_stamp or frame.depth_stamp
        tilt = frame.tilt_deg if frame.tilt_deg is None or math.isfinite(frame.tilt_deg) else None
        alone = frame.accel is None and tilt is not None
        for record in frame.own_records():
            stamp = record.stamp
            if alone and record.stream is Stream.DEPTH:
                alone = False
                times = self.times(own.seq, own.host_time, own.device_timestamp)
                out.append(AccelItem(times, None, tilt, 0))
            times = self.times(stamp.seq, stamp.host_time, stamp.device_timestamp)
            data = record.data
            if record.stream is Stream.DEPTH:
                assert isinstance(data, np.ndarray)
                depth, fmt = data.astype(np.uint16, copy=False), frame.depth_format
                if isinstance(record.format, DepthFormat) and record.format is not fmt:
                    # a replay converting its records (a recording read as millimetres or
                    # registered keeps its raw records): the frame's own depth is what was
                    # asked for; another record is sent as what it holds (trial U)
                    if (stamp.host_time, stamp.device_timestamp) == (
                        frame.timestamp,
                        frame.device_timestamp,
                    ):
                        depth = frame.depth
                    else:
                        fmt = record.format
                raw = depth if self.raw_depth and fmt.is_raw else None
                camera = depth_camera(depth.shape[1], depth.shape[0], self.intrinsics)
                mm = depth_mm(depth, fmt, self.registration)
                readings = readings_mm(mm, fmt)
                aligned = self.aligned or fmt is DepthFormat.REGISTERED
                out.append(DepthItem(times, mm, raw, camera, readings, aligned))
            elif record.stream is Stream.VIDEO:
                assert isinstance(data, np.ndarray)
                kind, encoding = video_encoding(data)
                out.append(VideoItem(times, data, kind, encoding))
            else:
                assert isinstance(data, TiltState)
                if stamp == own and frame.accel is not None:
                    out.append(AccelItem(times, frame.accel, tilt, data.tilt_status))
                else:
                    out.append(AccelItem(times, data.accel_mks, data.tilt_deg, data.tilt_status))
        return out


def points_xyz(mm: npt.NDArray[np.uint16], camera: Intrinsics) -> npt.NDArray[np.float32]:
    """(N, 3) float32 points in metres (x right, y down, z forward) for the pixels with a
    reading, in row-major order: the optional point cloud topic."""
    return point_cloud(mm, depth_format=DepthFormat.MM, intrinsics=camera).points


__all__ = [
    "DEPTH_RANGE_M",
    "DEVICE_CLOCK_HZ",
    "DEVICE_CLOCK_WRAP",
    "MM_PER_METRE",
    "AccelItem",
    "DepthItem",
    "DeviceClock",
    "Item",
    "Names",
    "Planner",
    "Times",
    "VideoItem",
    "calibration",
    "depth_camera",
    "depth_mm",
    "device_label",
    "points_xyz",
    "video_encoding",
]
