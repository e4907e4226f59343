"""librealsense itself as the oracle for depthview.filters: pyrealsense2's software device.

A ``software_device`` with one z16 depth stream (intrinsics, depth units 0.001, a stereo
baseline) turns numpy arrays into real librealsense depth frames, which pyrealsense2's own
filters then process; no camera is needed. Each filter object is made fresh with its
options set before its first frame (librealsense reads some options only then).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyrealsense2 as rs

BASELINE_MM = 75.0
FOCAL_PX = 575.8157


class Oracle:
    """Feeds (H, W) uint16 millimetres into librealsense as depth frames."""

    def __init__(
        self, width: int, height: int, focal_px: float = FOCAL_PX, baseline_mm: float = BASELINE_MM
    ) -> None:
        self.width, self.height = width, height
        self.device = rs.software_device()
        self.sensor = self.device.add_sensor("Depth")
        intr = rs.intrinsics()
        intr.width, intr.height = width, height
        intr.fx = intr.fy = focal_px
        intr.ppx, intr.ppy = width / 2, height / 2
        intr.model = rs.distortion.none
        intr.coeffs = [0.0] * 5
        stream = rs.video_stream()
        stream.type = rs.stream.depth
        stream.index = stream.uid = 0
        stream.width, stream.height, stream.fps, stream.bpp = width, height, 30, 2
        stream.fmt = rs.format.z16
        stream.intrinsics = intr
        self.profile = self.sensor.add_video_stream(stream).as_video_stream_profile()
        self.sensor.add_read_only_option(rs.option.depth_units, 0.001)
        self.sensor.add_read_only_option(rs.option.stereo_baseline, baseline_mm)
        self.sensor.open(self.profile)
        self.queue = rs.frame_queue(4, True)
        self.sensor.start(self.queue)
        self.number = 0
        self._keep: list[np.ndarray] = []
        #: what librealsense's frames were computed with, for depthview's side
        self.fx = float(np.float32(focal_px))

    def frame(self, depth: np.ndarray) -> Any:
        assert depth.dtype == np.uint16 and depth.shape == (self.height, self.width)
        buf = np.ascontiguousarray(depth).copy()
        self._keep = [*self._keep[-8:], buf]
        self.number += 1
        f = rs.software_video_frame()
        f.pixels = buf
        f.bpp = 2
        f.stride = self.width * 2
        f.timestamp = self.number * 33.3
        f.domain = rs.timestamp_domain.hardware_clock
        f.frame_number = self.number
        f.profile = self.profile
        f.depth_units = 0.001
        self.sensor.on_video_frame(f)
        return self.queue.wait_for_frame(5000)

    def close(self) -> None:
        self.sensor.stop()
        self.sensor.close()


def data(frame: Any) -> np.ndarray:
    """A librealsense frame's pixels as numpy: uint16 depth or float32 disparity."""
    arr = np.asanyarray(frame.get_data()).copy()
    if frame.get_profile().format() == rs.format.disparity32:
        arr = arr.view(np.float32)
    return arr


def block(kind: str, **options: float) -> Any:
    """A fresh librealsense filter with its options set."""
    make = {
        "decimation": rs.decimation_filter,
        "threshold": rs.threshold_filter,
        "disparity": lambda: rs.disparity_transform(True),
        "depth": lambda: rs.disparity_transform(False),
        "spatial": rs.spatial_filter,
        "temporal": rs.temporal_filter,
        "holes": rs.hole_filling_filter,
    }[kind]()
    names = {
        "magnitude": rs.option.filter_magnitude,
        "min_m": rs.option.min_distance,
        "max_m": rs.option.max_distance,
        "alpha": rs.option.filter_smooth_alpha,
        "delta": rs.option.filter_smooth_delta,
        "holes_fill": rs.option.holes_fill,
        "persistence": rs.option.holes_fill,
        "mode": rs.option.holes_fill,
    }
    if kind == "threshold":  # max first: setting min above the old max would move it
        options = dict(sorted(options.items(), key=lambda kv: kv[0] != "max_m"))
    for key, value in options.items():
        make.set_option(names[key], float(value))
    return make
