"""The ``Frame`` every source yields, the depth and video formats, and Kinect v1 constants.

Values of the format enums are libfreenect's own (``freenect_depth_format``,
``freenect_video_format``) so they pass straight through the C API.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

DEPTH_WIDTH = 640
DEPTH_HEIGHT = 480
DEPTH_FPS = 30.0

RAW_11BIT_INVALID = 2047
RAW_10BIT_INVALID = 1023
MM_INVALID = 0

ACCEL_COUNTS_PER_G = 819.0
GRAVITY = 9.80665  # m/s^2, as libfreenect's freenect_get_mks_accel
TILT_MIN_DEG = -30.0
TILT_MAX_DEG = 30.0


class DepthFormat(enum.IntEnum):
    """How a depth frame's uint16 values are to be read (libfreenect's numbering)."""

    RAW_11BIT = 0
    RAW_10BIT = 1
    RAW_11BIT_PACKED = 2
    RAW_10BIT_PACKED = 3
    REGISTERED = 4
    MM = 5

    @property
    def is_raw(self) -> bool:
        """Raw disparity (11- or 10-bit) rather than millimetres."""
        return self in (DepthFormat.RAW_11BIT, DepthFormat.RAW_10BIT)

    @property
    def is_metric(self) -> bool:
        """Millimetres (``MM`` or ``REGISTERED``)."""
        return self in (DepthFormat.MM, DepthFormat.REGISTERED)

    @property
    def invalid_value(self) -> int:
        """The value that means "no reading" in this format."""
        if self is DepthFormat.RAW_10BIT:
            return RAW_10BIT_INVALID
        if self.is_metric:
            return MM_INVALID
        return RAW_11BIT_INVALID

    @property
    def max_value(self) -> int:
        """The largest value a frame of this format may hold."""
        if self is DepthFormat.RAW_10BIT:
            return RAW_10BIT_INVALID
        if self.is_metric:
            return 65535
        return RAW_11BIT_INVALID

    @classmethod
    def parse(cls, value: str | int | DepthFormat) -> DepthFormat:
        """Accept an enum, its number, or a name such as ``"11bit"``, ``"mm"``, ``"registered"``."""
        if isinstance(value, DepthFormat):
            return value
        if isinstance(value, int):
            return cls(value)
        key = value.strip().lower().replace("-", "_")
        aliases = {
            "11bit": cls.RAW_11BIT,
            "raw_11bit": cls.RAW_11BIT,
            "raw": cls.RAW_11BIT,
            "10bit": cls.RAW_10BIT,
            "raw_10bit": cls.RAW_10BIT,
            "mm": cls.MM,
            "registered": cls.REGISTERED,
        }
        if key in aliases:
            return aliases[key]
        raise ValueError(f"expected a depth format ({', '.join(sorted(aliases))}), got {value!r}")


class VideoFormat(enum.IntEnum):
    """Video formats of the Kinect's camera (libfreenect's numbering)."""

    RGB = 0
    BAYER = 1
    IR_8BIT = 2
    IR_10BIT = 3
    IR_10BIT_PACKED = 4
    YUV_RGB = 5
    YUV_RAW = 6

    @property
    def is_ir(self) -> bool:
        """Infrared (shown as grey)."""
        return self in (VideoFormat.IR_8BIT, VideoFormat.IR_10BIT, VideoFormat.IR_10BIT_PACKED)


class LedMode(enum.IntEnum):
    """The Kinect's LED modes (libfreenect's ``freenect_led_options``)."""

    OFF = 0
    GREEN = 1
    RED = 2
    YELLOW = 3
    BLINK_GREEN = 4
    BLINK_RED_YELLOW = 6


def accel_counts_to_mks(x: int, y: int, z: int) -> tuple[float, float, float]:
    """Raw accelerometer counts (819 per g) to m/s^2, as ``freenect_get_mks_accel``."""
    k = GRAVITY / ACCEL_COUNTS_PER_G
    return (x * k, y * k, z * k)


@dataclass(frozen=True, slots=True)
class Frame:
    """One depth frame and the video frame and accelerometer reading that go with it.

    ``depth`` is (H, W) uint16 in ``depth_format`` units; ``video`` is (H, W, 3) uint8 RGB,
    (H, W) uint8/uint16 for IR, or None; ``timestamp`` is seconds (unix time for
    recordings and devices, seconds since start for the demo); ``accel`` is m/s^2.
    """

    depth: npt.NDArray[np.uint16]
    video: npt.NDArray[np.uint8] | npt.NDArray[np.uint16] | None = None
    depth_format: DepthFormat = DepthFormat.RAW_11BIT
    video_format: VideoFormat | None = None
    timestamp: float = 0.0
    index: int = 0
    accel: tuple[float, float, float] | None = None
    tilt_deg: float | None = None
    device_timestamp: int | None = None
    meta: dict[str, object] = field(default_factory=dict, compare=False)
