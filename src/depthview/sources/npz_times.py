"""The times a ``.npz`` gives its frames: export's ``export-frames`` layout (each stream's
host and device times, the accelerometer), convert's ``convert-pairs`` layout (its
``depth_times``, ``rgb_times`` and ``accel``, read as the export arrays they are:
``CONVERT_NAMES``), or a bare ``timestamp`` array beside ``depth``.

Reading them back is what keeps ``export A.npz B.npz`` and ``record A.npz R`` true to the
recording the archive came from; an archive without them, or with one time repeated for
every frame (a burst stamped once: said so, see ``files``), gets ``index / fps``. Times that
are not finite are refused in one line. Times that do not increase are kept as the archive
holds them, with a warning: an export of a recording whose INDEX.txt repeats a frame or
lists one late holds them so, and the recording itself is read as it is (``info`` counts
them as ``times_not_increasing``), so what the writer wrote is read back the same.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import SourceError
from ..frame import MAX_SECONDS, TILT_MAX_DEG, TILT_UNKNOWN, Stamp
from .base import warn_own_times

#: The arrays read besides depth and colour (export's layout names them; see writers/npz).
TIME_KEYS = frozenset(
    {
        "timestamp",
        "device_timestamp",
        "video_valid",
        "video_seq",
        "video_timestamp",
        "video_device_timestamp",
        "accel",
        "accel_timestamp",
        "accel_device_timestamp",
        "tilt_deg",
    }
)

#: The layouts depthview's archives name in their ``layout`` array (``writers.npz``).
EXPORT_LAYOUT = "export-frames"
CONVERT_LAYOUT = "convert-pairs"
#: ``convert-pairs``' per-frame arrays, each under the ``export-frames`` name of what it
#: holds: the one reader reads both layouts (and the writer writes these names).
DEPTH_TIMES, RGB_TIMES, ACCEL_TIMES = "depth_times", "rgb_times", "accel_times"
CONVERT_NAMES = {
    DEPTH_TIMES: "timestamp",
    RGB_TIMES: "video_timestamp",
    "accel": "accel",
    # each reading's own time (NaN: none; trial AR D5: an archive without them gave its
    # readings the depth frame's time when exported, a time no reading had)
    ACCEL_TIMES: "accel_timestamp",
}
#: export's 0-d bool: the archive's colour lines up with its depth pixel for pixel (the
#: source's ``video_aligned``, kept: trial AM D8); an archive without it: not known, False.
VIDEO_ALIGNED = "video_aligned"
#: Every array ``read_times`` looks at.
READ_KEYS = TIME_KEYS | set(CONVERT_NAMES) | {"layout"}


@dataclass(frozen=True)
class NpzTimes:
    """Per-frame times and accelerometer rows of an archive (``None``: it has none)."""

    timestamp: npt.NDArray[np.float64]
    device_timestamp: npt.NDArray[np.int64] | None = None
    video_valid: npt.NDArray[np.bool_] | None = None
    video_seq: npt.NDArray[np.int64] | None = None
    video_timestamp: npt.NDArray[np.float64] | None = None
    video_device_timestamp: npt.NDArray[np.int64] | None = None
    accel: npt.NDArray[np.float64] | None = None
    accel_timestamp: npt.NDArray[np.float64] | None = None
    accel_device_timestamp: npt.NDArray[np.int64] | None = None
    tilt_deg: npt.NDArray[np.float64] | None = None

    def fields(self, i: int, has_video: bool) -> dict[str, Any]:
        """The ``Frame`` fields of frame ``i`` (``video`` None where the archive had none)."""
        out: dict[str, Any] = {"timestamp": float(self.timestamp[i])}
        out["device_timestamp"] = _device(self.device_timestamp, i)
        if has_video:
            t = self.video_timestamp[i] if self.video_timestamp is not None else math.nan
            seq = int(self.video_seq[i]) if self.video_seq is not None else i
            out["video_stamp"] = Stamp(
                seq if seq >= 0 else i,
                float(t) if math.isfinite(t) else out["timestamp"],
                _device(self.video_device_timestamp, i),
            )
            out["video_valid"] = bool(self.video_valid[i]) if self.video_valid is not None else True
        if self.accel is not None and bool(np.all(np.isfinite(self.accel[i]))):
            row = self.accel[i]
            out["accel"] = (float(row[0]), float(row[1]), float(row[2]))
            t = self.accel_timestamp[i] if self.accel_timestamp is not None else math.nan
            out["accel_stamp"] = Stamp(
                i,
                float(t) if math.isfinite(t) else out["timestamp"],
                _device(self.accel_device_timestamp, i),
            )
        if self.tilt_deg is not None and math.isfinite(self.tilt_deg[i]):
            out["tilt_deg"] = float(self.tilt_deg[i])
        return out


def _device(values: npt.NDArray[np.int64] | None, i: int) -> int | None:
    """A device time; -1 is export's word for none."""
    if values is None or int(values[i]) < 0:
        return None
    return int(values[i])


def archive_layout(arrays: Mapping[str, npt.NDArray[Any]]) -> str | None:
    """The layout an archive of depthview's names (``export-frames``, ``convert-pairs``)."""
    value = arrays.get("layout")
    if value is None or value.ndim != 0 or value.dtype.kind != "U":
        return None
    return str(value.item())


def _in_export_names(
    arrays: Mapping[str, npt.NDArray[Any]],
) -> tuple[dict[str, npt.NDArray[Any]], dict[str, str]]:
    """The archive's per-frame arrays under ``export-frames``' names, and the archive's own
    name of each (for errors). A ``convert-pairs`` archive's colour image that serves two
    depth frames (one ``rgb_times``) is one colour record, as convert sent it."""
    # convert's names, also without its ``layout`` array (a user's own archive: trial AN
    # D1, whose depth_times were dropped for times by position)
    named = DEPTH_TIMES in arrays and "timestamp" not in arrays
    if archive_layout(arrays) != CONVERT_LAYOUT and not named:
        return {k: v for k, v in arrays.items() if k in TIME_KEYS}, {}
    out = {new: arrays[old] for old, new in CONVERT_NAMES.items() if old in arrays}
    shown = {new: old for old, new in CONVERT_NAMES.items()}
    rgb, depth = out.get("video_timestamp"), out.get("timestamp")
    if rgb is not None and depth is not None and rgb.ndim == 1 and rgb.shape == depth.shape:
        out["video_seq"] = np.concatenate(([0], np.cumsum(rgb[1:] != rgb[:-1]))).astype(np.int64)
    return out, shown


def read_times(path: object, arrays: Mapping[str, npt.NDArray[Any]], n: int) -> NpzTimes | None:
    """The archive's times for ``n`` frames, checked, from its ``READ_KEYS`` arrays; None
    when it has no frame times (no ``timestamp``, or convert's ``depth_times``)."""
    arrays, shown = _in_export_names(arrays)
    if "timestamp" not in arrays:
        _say_left_out(path, arrays, shown, "it has no frame times (timestamp)")
        return None
    t = _column(path, arrays, "timestamp", n, np.float64, shown)
    name = shown.get("timestamp", "timestamp")
    assert t is not None
    if not bool(np.all(np.isfinite(t))):
        bad = int(np.flatnonzero(~np.isfinite(t))[0])
        raise SourceError(f"{path}: {name}: expected finite seconds, got {t[bad]} at frame {bad}")
    if bool(np.any(np.abs(t) > MAX_SECONDS)):  # (trial AF: a traceback in .mcap/.rrd)
        bad = int(np.flatnonzero(np.abs(t) > MAX_SECONDS)[0])
        raise SourceError(
            f"{path}: {name}: expected seconds (unix time at most {MAX_SECONDS:.0f}), got "
            f"{t[bad]:.6g} at frame {bad}; times in milliseconds or nanoseconds are divided by "
            "1e3 or 1e9 first"
        )
    if n > 1 and bool(np.all(t == t[0])):  # frames made by hand: no times of their own
        _say_left_out(path, arrays, shown, "its frame times (timestamp) are one time for all")
        return None
    warn_own_times(f"{path}: {name}", t.tolist(), "the archive")
    accel = arrays.get("accel")
    if accel is not None and (accel.ndim != 2 or accel.shape != (n, 3)):
        raise SourceError(f"{path}: accel: expected ({n}, 3) m/s^2, got {accel.shape}")
    if accel is not None and bool(np.any(np.isinf(accel))):  # NaN: no reading; inf: none such
        raise SourceError(f"{path}: accel: expected m/s^2 (NaN where a frame has none), got inf")
    tilt = _column(path, arrays, "tilt_deg", n, np.float64, shown)
    if tilt is not None:
        _check_tilt(path, tilt)
    return NpzTimes(
        t,
        _column(path, arrays, "device_timestamp", n, np.int64, shown),
        _column(path, arrays, "video_valid", n, np.bool_, shown),
        _column(path, arrays, "video_seq", n, np.int64, shown),
        _column(path, arrays, "video_timestamp", n, np.float64, shown),
        _column(path, arrays, "video_device_timestamp", n, np.int64, shown),
        None if accel is None else accel.astype(np.float64),
        _column(path, arrays, "accel_timestamp", n, np.float64, shown),
        _column(path, arrays, "accel_device_timestamp", n, np.int64, shown),
        tilt,
    )


#: The motor angle a Kinect reports, in degrees: a signed byte of half degrees (-128 is
#: "moving"), so a recording's angle, and its export's, is never past +-63.5.
TILT_HELD_DEG = (-TILT_UNKNOWN - 1) / 2


def _check_tilt(path: object, tilt: npt.NDArray[np.float64]) -> None:
    """An angle no Kinect reports (1e9) is said once, naming the first frame, and kept as
    the archive holds it (trial AN D8: kept silently; ``record`` then keeps the nearest
    angle a record holds); an infinite one is refused, as an infinite
    accelerometer row is (NaN: a frame without one)."""
    if bool(np.any(np.isinf(tilt))):
        bad = int(np.flatnonzero(np.isinf(tilt))[0])
        raise SourceError(
            f"{path}: tilt_deg: expected degrees (NaN where a frame has none), got "
            f"{tilt[bad]} at frame {bad}"
        )
    past = np.flatnonzero(np.abs(np.nan_to_num(tilt, nan=0.0)) > TILT_HELD_DEG)
    if past.size:
        first = int(past[0])
        more = f" (and {past.size - 1} more frames)" if past.size > 1 else ""
        warnings.warn(
            f"{path}: tilt_deg {tilt[first]:g} at frame {first}{more} is past "
            f"+-{TILT_HELD_DEG:g} degrees, more than a Kinect's motor angle can be: read as "
            f"it is (a recording of it keeps +-{TILT_MAX_DEG:g})",
            stacklevel=4,
        )


#: What an archive's arrays hold besides frame times and which frames have colour.
_WITH_TIMES = sorted(TIME_KEYS - {"timestamp", "video_valid", "video_seq"})


def _say_left_out(
    path: object, arrays: Mapping[str, npt.NDArray[Any]], shown: Mapping[str, str], why: str
) -> None:
    """Arrays that go with frame times, in an archive without them: left out, said (trial
    AD: an accel of the wrong shape went unread, unsaid)."""
    left = [shown.get(k, k) for k in _WITH_TIMES if k in arrays]
    if left:
        warnings.warn(
            f"{path}: {', '.join(left)}: left out: they go with frame times, and {why}",
            stacklevel=3,
        )


def _column(
    path: object,
    arrays: Mapping[str, npt.NDArray[Any]],
    key: str,
    n: int,
    dtype: type,
    shown: Mapping[str, str],
) -> Any:
    values = arrays.get(key)
    if values is None:
        return None
    if values.shape != (n,) or values.dtype.kind not in "biuf":
        raise SourceError(
            f"{path}: {shown.get(key, key)}:"
            f" expected one number a frame ({n},), got {values.dtype} {values.shape}"
        )
    return values.astype(dtype)
