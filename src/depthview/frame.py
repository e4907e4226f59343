"""The ``Frame`` every source yields, the depth and video formats, and Kinect v1 constants.

Values of the format enums are libfreenect's own (``freenect_depth_format``,
``freenect_video_format``) so they pass straight through the C API; ``DepthFormat.TUM`` is
depthview's own (files only, numbered apart from libfreenect's).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from ._checks import depth_2d, is_number

DEPTH_WIDTH = 640
DEPTH_HEIGHT = 480
DEPTH_FPS = 30.0
#: The Kinect's own clock (a record's ``device_timestamp``): ticks per second, 32 bits.
DEVICE_CLOCK_HZ = 60_000_000

RAW_11BIT_INVALID = 2047
RAW_10BIT_INVALID = 1023
#: The largest value of the Kinect's 10-bit IR image (``VideoFormat.IR_10BIT``, uint16).
IR_10BIT_MAX = 1023
MM_INVALID = 0

ACCEL_COUNTS_PER_G = 819.0
GRAVITY = 9.80665  # m/s^2, as libfreenect's freenect_get_mks_accel
TILT_MIN_DEG = -30.0
TILT_MAX_DEG = 30.0  # the motor's range; also what a record's +-60 half degrees hold
TILT_UNKNOWN = -128  # tilt_angle while the motor moves (0x80)


class DepthFormat(enum.IntEnum):
    """How a depth frame's uint16 values are to be read (libfreenect's numbering)."""

    RAW_11BIT = 0
    RAW_10BIT = 1
    RAW_11BIT_PACKED = 2
    RAW_10BIT_PACKED = 3
    REGISTERED = 4
    MM = 5
    #: Fifths of a millimetre (metres x 5000), as TUM RGB-D and ICL-NUIM store depth: kept
    #: as stored so their 0.2 mm resolution survives. No device produces it.
    TUM = 100
    #: Raw 11-bit disparity read with NYU Depth V2's own fit (``351.3 / (1092.5 - raw)``
    #: metres, at most 10), as its toolbox reads the raw dumps. depthview's own number.
    RAW_11BIT_NYU = 101

    @property
    def is_raw(self) -> bool:
        """Raw disparity (11- or 10-bit) rather than millimetres."""
        return self in (DepthFormat.RAW_11BIT, DepthFormat.RAW_10BIT, DepthFormat.RAW_11BIT_NYU)

    @property
    def is_metric(self) -> bool:
        """A fixed number of units per metre (``MM``, ``REGISTERED``, ``TUM``)."""
        return self in (DepthFormat.MM, DepthFormat.REGISTERED, DepthFormat.TUM)

    @property
    def units_per_metre(self) -> float | None:
        """How many units make a metre (1000 for millimetres), None for raw disparity."""
        if self is DepthFormat.TUM:
            return 5000.0
        return 1000.0 if self.is_metric else None

    @property
    def unit_name(self) -> str:
        """What a value counts, in words (for messages and ``depthview info``)."""
        return {
            DepthFormat.RAW_11BIT: "raw 11-bit disparity",
            DepthFormat.RAW_10BIT: "raw 10-bit disparity",
            DepthFormat.RAW_11BIT_PACKED: "packed raw 11-bit disparity",
            DepthFormat.RAW_10BIT_PACKED: "packed raw 10-bit disparity",
            DepthFormat.REGISTERED: "millimetres registered to the colour camera",
            DepthFormat.MM: "millimetres",
            DepthFormat.TUM: "fifths of a millimetre, metres x 5000",
            DepthFormat.RAW_11BIT_NYU: "raw 11-bit disparity (NYU Depth V2's fit)",
        }[self]

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
    def parse(cls, value: object, also: tuple[str, ...] = ()) -> DepthFormat:
        """Accept an enum, its number (also as text, as a command line gives it), or a name
        such as ``"11bit"``, ``"mm"``, ``"registered"``; anything else (a float, a bool, an
        unknown number or name) is one ``ValueError`` listing what is taken, with the
        caller's own names ``also`` (which it reads before asking)."""
        if isinstance(value, DepthFormat):
            return value
        aliases = {
            "11bit": cls.RAW_11BIT,
            "raw_11bit": cls.RAW_11BIT,
            "raw": cls.RAW_11BIT,
            "10bit": cls.RAW_10BIT,
            "raw_10bit": cls.RAW_10BIT,
            "mm": cls.MM,
            "registered": cls.REGISTERED,
            "tum": cls.TUM,
            "nyu": cls.RAW_11BIT_NYU,
            "raw_11bit_nyu": cls.RAW_11BIT_NYU,
        }
        if isinstance(value, str):
            key = value.strip().lower().replace("-", "_")
            if key in aliases:
                return aliases[key]
            if key.isdigit() and int(key) in cls._value2member_map_:  # (trial AN D7: listed,
                return cls(int(key))  # then refused)
        elif (
            isinstance(value, (int, np.integer))
            and not isinstance(value, bool)
            and int(value) in cls._value2member_map_
        ):
            return cls(int(value))
        numbers = ", ".join(str(int(member)) for member in cls)
        raise ValueError(
            f"expected a depth format ({', '.join(sorted([*aliases, *also]))}; or a number: "
            f"{numbers}), "
            f"got {value!r}"
        )


PACKED = (DepthFormat.RAW_11BIT_PACKED, DepthFormat.RAW_10BIT_PACKED)


def unpacked(fmt: DepthFormat) -> DepthFormat:
    """``fmt``, unless it is a packed one: those name the USB stream's bytes, never a frame
    of values, which read as unpacked 11-bit gave 10-bit frames wrong distances (trial AP
    D3). One ``ValueError`` for every function that takes a frame's values."""
    if fmt in PACKED:
        names = ", ".join(f.name for f in DepthFormat if f not in PACKED)
        raise ValueError(f"expected an unpacked depth format ({names}), got {fmt.name}")
    return fmt


def depth_format_or_raw(
    depth_format: DepthFormat | str | int | None, depth: npt.NDArray[np.uint16]
) -> DepthFormat:
    """The format ``depth`` is given in; None means raw 11-bit. Raw disparity is checked
    against its format's bits, named or not (trial AL D1: a named '10bit' frame of values
    past 1023 came back all NaN without a word): a value past them is another unit's (a
    millimetre frame's), which the raw table would turn into no reading or wrong
    distances. One max over the frame, so callers check once per frame."""
    fmt = (
        DepthFormat.RAW_11BIT if depth_format is None else unpacked(DepthFormat.parse(depth_format))
    )
    if fmt.is_metric:
        return fmt
    top = int(depth.max(initial=0))
    if top > fmt.max_value:
        bits = 10 if fmt.max_value == RAW_10BIT_INVALID else 11
        named = "when no depth_format is given" if depth_format is None else f"as {fmt.name}"
        raise ValueError(
            f"expected raw {bits}-bit depth (0..{fmt.max_value}) {named}, got values up to "
            f"{top}: pass depth_format=frame.depth_format (or 'mm')"
        )
    return fmt


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


#: How a video frame of each format the sources give is held: its dtype and its axes after
#: (H, W) (the Kinect's callbacks, the demo's IR). What a ``.npz`` export stores with its
#: ``video_format``, and what reading one back checks.
VIDEO_ARRAYS: dict[VideoFormat, tuple[np.dtype[np.generic], tuple[int, ...]]] = {
    VideoFormat.RGB: (np.dtype(np.uint8), (3,)),
    VideoFormat.IR_8BIT: (np.dtype(np.uint8), ()),
    VideoFormat.IR_10BIT: (np.dtype(np.uint16), ()),
}


def video_format_of(dtype: np.dtype[np.generic], axes: tuple[int, ...]) -> VideoFormat | None:
    """The format (``VIDEO_ARRAYS``) of video frames of ``dtype`` with ``axes`` after (H, W),
    or None when no format is held so."""
    return next((f for f, held in VIDEO_ARRAYS.items() if held == (dtype, axes)), None)


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


#: What a recording's accelerometer record holds: +-32767 raw counts (+-40 g), in m/s^2.
ACCEL_MAX_MKS = 32767 * GRAVITY / ACCEL_COUNTS_PER_G


def accel_mks_to_counts(accel: tuple[float, float, float]) -> tuple[int, int, int]:
    """m/s^2 back to the nearest raw counts (the inverse of ``accel_counts_to_mks``),
    clamped to what a record holds; a reading that is not finite is no count: refused
    (``ValueError`` naming accel), not Python's conversion error (trial AJ D7)."""
    if not all(math.isfinite(a) for a in accel):
        raise ValueError(
            f"expected accel as three finite m/s^2, got ({', '.join(str(a) for a in accel)})"
        )
    k = ACCEL_COUNTS_PER_G / GRAVITY
    x, y, z = (int(min(32767, max(-32768, round(a * k)))) for a in accel)
    return (x, y, z)


#: The largest frame time taken, in seconds: unix time to the year 2106, as a fakenect file
#: name holds it (milliseconds or nanoseconds since 1970 are far past it). The one limit of
#: a frame's time: what the readers take (``sources.npz_times``), ``record`` writes and
#: every writer takes (``check_frame``).
MAX_SECONDS = float(2**32)


def check_fields(frame: Frame) -> None:
    """A frame's side fields of the kind they are (``timestamp`` a number, ``accel`` three,
    ``tilt_deg`` one), else ``ValueError`` naming the field (trial AR D9: "must be real
    number, not str", naming neither); the caller names the frame."""
    if not is_number(frame.timestamp):
        raise ValueError(f"timestamp: expected seconds as a number, got {frame.timestamp!r}")
    accel = frame.accel
    three = isinstance(accel, (tuple, list, np.ndarray)) and len(accel) == 3
    if accel is not None and not (three and all(map(is_number, accel))):
        raise ValueError(f"accel: expected three numbers (m/s^2) or None, got {accel!r}")
    if frame.tilt_deg is not None and not is_number(frame.tilt_deg):
        raise ValueError(f"tilt_deg: expected a number of degrees or None, got {frame.tilt_deg!r}")


def record_times(frame: Frame) -> list[tuple[str, float]]:
    """Each record's stream (in words) and host time, in arrival order: the frame's own
    records', or for a frame built by hand the ones ``Frame.own_records`` gives it, without
    making its records (a reading's counts) to learn them."""
    if frame.records:
        return [(r.stream.name.lower(), r.stamp.host_time) for r in frame.records]
    times = []
    if frame.video is not None:
        times.append(("video", (frame.video_stamp or frame.depth_stamp).host_time))
    if frame.accel is not None:
        times.append(("accel", (frame.accel_stamp or frame.depth_stamp).host_time))
    return [*times, ("depth", frame.timestamp)]


def check_frame(frame: Frame) -> None:
    """What every writer and sink takes of a frame, checked before any of it is written:
    depth (H, W) uint16 within its ``depth_format`` (raw 11-bit up to 2047), a finite
    ``timestamp``, record times and accelerometer readings a reader takes back (at most
    ``MAX_SECONDS``; not infinite), and video that is a picture ((H, W, 3) uint8 RGB, or
    (H, W) uint8 or uint16 IR). ``ValueError`` (``TypeError`` for what is no array) saying
    what it got; the caller names the frame."""
    depth = depth_2d(frame.depth)
    fmt = DepthFormat(frame.depth_format)
    hi = int(depth.max()) if depth.size else 0
    if hi > fmt.max_value:
        raise ValueError(f"expected {fmt.name} values 0..{fmt.max_value}, got up to {hi}")
    check_fields(frame)
    if not math.isfinite(frame.timestamp):
        raise ValueError(f"timestamp: expected finite seconds, got {frame.timestamp}")
    # What no reader takes back (trial AR D1: an .npz export its own reader refused).
    if frame.accel is not None and any(math.isinf(a) for a in frame.accel):
        shown = ", ".join(str(a) for a in frame.accel)
        raise ValueError(f"accel: expected finite m/s^2 (NaN: none), got ({shown})")
    if frame.tilt_deg is not None and math.isinf(frame.tilt_deg):
        raise ValueError(f"tilt_deg: expected finite degrees (NaN: none), got {frame.tilt_deg}")
    for what, t in record_times(frame):  # (trial AR D8: an OverflowError in the sinks)
        if not abs(t) <= MAX_SECONDS:
            raise ValueError(
                f"{what} record: expected a time of at most {MAX_SECONDS:.0f} s (unix time), "
                f"got {t:g} s"
            )
    video = frame.video
    if video is None:
        return
    picture = isinstance(video, np.ndarray) and (
        (video.ndim == 3 and video.shape[2] == 3 and video.dtype == np.uint8)
        or (video.ndim == 2 and video.dtype in (np.uint8, np.uint16))
    )
    if not picture:
        got = (video.shape, str(video.dtype)) if isinstance(video, np.ndarray) else video
        raise ValueError(
            f"expected video as (H, W, 3) uint8 RGB or (H, W) uint8/uint16 IR, got {got}"
        )


def tilt_state_clamped(frame: Frame) -> str:
    """What ``TiltState.from_mks`` clamps of the frame's readings, in words ("" for
    nothing): a writer says it once (a reading past a record's range kept as its edge,
    trial AJ D7). The motor angle of a frame with its own records is the device's (a
    recording's raw half degrees, which may pass 30 and are written as they are): only a
    frame built by hand has its angle made into a record here, beside its reading (a tilt
    alone makes none: ``Frame.own_records``)."""
    accel = frame.accel
    tilt_deg = None if frame.records or accel is None else frame.tilt_deg
    past = []
    k = ACCEL_COUNTS_PER_G / GRAVITY
    if accel is not None and any(not -32768 <= round(a * k) <= 32767 for a in accel):
        shown = ", ".join(f"{a:g}" for a in accel)
        past.append(f"accel ({shown}) m/s^2 past +-{ACCEL_MAX_MKS:.2f}")
    if tilt_deg is not None and math.isfinite(tilt_deg) and abs(round(tilt_deg * 2)) > 60:
        past.append(f"tilt_deg {tilt_deg:g} past +-{TILT_MAX_DEG:g} degrees")
    if not past:
        return ""
    return f"{' and '.join(past)}: kept as the nearest value an accelerometer record holds"


@dataclass(frozen=True, slots=True)
class TiltState:
    """libfreenect's ``freenect_raw_tilt_state``: raw accelerometer counts (819 per g), the
    motor angle in half degrees (-128 while moving or unknown) and the motor status.

    ``pad`` is the struct's padding byte as a recording holds it, kept so that writing the
    record back gives the same bytes."""

    accel_x: int
    accel_y: int
    accel_z: int
    tilt_angle: int
    tilt_status: int = 0
    pad: int = 0

    @property
    def accel_mks(self) -> tuple[float, float, float]:
        """Acceleration in m/s^2."""
        return accel_counts_to_mks(self.accel_x, self.accel_y, self.accel_z)

    @property
    def tilt_deg(self) -> float | None:
        """Motor angle in degrees, or None while it is moving or unknown."""
        return None if self.tilt_angle == TILT_UNKNOWN else self.tilt_angle / 2.0

    @classmethod
    def from_mks(
        cls, accel: tuple[float, float, float] | None, tilt_deg: float | None
    ) -> TiltState:
        """The raw state that reads back as ``accel`` (m/s^2) and ``tilt_deg``."""
        x, y, z = accel_mks_to_counts(accel) if accel is not None else (0, 0, 0)
        angle = (
            TILT_UNKNOWN
            if tilt_deg is None or not math.isfinite(tilt_deg)
            else int(min(60, max(-60, round(tilt_deg * 2))))
        )
        return cls(x, y, z, angle)


class Stream(enum.Enum):
    """The Kinect's three independent streams; values are fakenect's file-name letters."""

    DEPTH = "d"
    VIDEO = "r"
    ACCEL = "a"


@dataclass(frozen=True, slots=True)
class Stamp:
    """Which record of its stream something is, and when it was taken.

    ``seq`` counts records of one stream from 0; ``host_time`` is seconds (unix time from a
    device or recording, seconds since the start for the demo); ``device_timestamp`` is the
    Kinect's own 32-bit clock (about 60 MHz), None when the source has none."""

    seq: int
    host_time: float
    device_timestamp: int | None = None

    def shifted(self, seconds: float, ticks: int) -> Stamp:
        """The stamp ``seconds`` later on the host clock and ``ticks`` later on the device
        clock (modulo 2^32, as the Kinect's wraps)."""
        device = self.device_timestamp
        return Stamp(
            self.seq,
            self.host_time + seconds,
            None if device is None else (device + ticks) & 0xFFFFFFFF,
        )


@dataclass(frozen=True, slots=True)
class Record:
    """One record as it arrived: a depth or video frame (an array, in ``format``) or a tilt
    state (``format`` None)."""

    stream: Stream
    stamp: Stamp
    data: npt.NDArray[np.uint16] | npt.NDArray[np.uint8] | TiltState
    format: DepthFormat | VideoFormat | None = None


@dataclass(frozen=True, slots=True)
class Frame:
    """One depth frame, with the newest video frame and accelerometer reading at its time.

    ``depth`` is (H, W) uint16 in ``depth_format`` units; ``video`` is (H, W, 3) uint8 RGB,
    (H, W) uint8/uint16 for IR, or None; ``timestamp`` is the depth frame's host time in
    seconds (unix time for recordings and devices, seconds since start for the demo) and
    ``device_timestamp`` its Kinect clock; ``accel`` is m/s^2 and ``tilt_deg`` degrees.

    The three streams arrive independently, so ``video_stamp`` and ``accel_stamp`` say which
    record of their stream ``video`` and ``accel`` are and when each was taken. ``records``
    holds every record that arrived since the previous frame, this depth frame included, in
    arrival order: a writer that writes ``records`` writes each record exactly once with its
    own times (see ``own_records`` for frames built without them).
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
    video_stamp: Stamp | None = None
    accel_stamp: Stamp | None = None
    records: tuple[Record, ...] = ()
    meta: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # A format given as the functions take it ("mm", 5) is the enum every writer reads
        # (trial AR D9: export said "'mm' is not a valid DepthFormat").
        if not isinstance(self.depth_format, DepthFormat):
            object.__setattr__(self, "depth_format", DepthFormat.parse(self.depth_format))

    @property
    def depth_stamp(self) -> Stamp:
        """The depth frame's own stamp (its index and times)."""
        return Stamp(self.index, self.timestamp, self.device_timestamp)

    def shifted(self, seconds: float, ticks: int) -> Frame:
        """The frame with every time (its own, its video's and accelerometer's, every
        record's) ``seconds`` later on the host clock and ``ticks`` on the device clock: a
        later pass of a looping replay, whose clock continues."""
        if seconds == 0 and ticks == 0:
            return self
        device = self.device_timestamp
        return replace(
            self,
            timestamp=self.timestamp + seconds,
            device_timestamp=None if device is None else (device + ticks) & 0xFFFFFFFF,
            video_stamp=None
            if self.video_stamp is None
            else self.video_stamp.shifted(seconds, ticks),
            accel_stamp=None
            if self.accel_stamp is None
            else self.accel_stamp.shifted(seconds, ticks),
            records=tuple(replace(r, stamp=r.stamp.shifted(seconds, ticks)) for r in self.records),
        )

    def own_records(self) -> tuple[Record, ...]:
        """``records``, or for a frame built without them (by hand, from arrays) the video,
        accelerometer and depth records it holds, all at the depth frame's times. A tilt
        without an accelerometer reading makes no record: a record holds counts, and made up
        they read back as a reading of 0 m/s^2 (trial AR D7); a sink sends the frame's tilt
        itself (``sinks.content.Planner``), a recording leaves it out and says so."""
        if self.records:
            return self.records
        out = []
        if self.video is not None:
            stamp = self.video_stamp or Stamp(self.index, self.timestamp, self.device_timestamp)
            out.append(Record(Stream.VIDEO, stamp, self.video, self.video_format))
        if self.accel is not None:
            stamp = self.accel_stamp or Stamp(self.index, self.timestamp, self.device_timestamp)
            out.append(Record(Stream.ACCEL, stamp, TiltState.from_mks(self.accel, self.tilt_deg)))
        out.append(Record(Stream.DEPTH, self.depth_stamp, self.depth, self.depth_format))
        return tuple(out)
