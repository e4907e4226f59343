"""numpy archives (``.npz``) written as frames come: each frame's arrays go to a spill file
beside the output and are copied into the archive in blocks at the end, so memory does not
grow with the frames (``NpzStream``). Two layouts, each named by the archive's ``layout``
array:

- ``export-frames`` (export): ``depth`` (N, H, W) uint16 as the source gives it with
  ``depth_format``, ``index``, ``timestamp`` and ``device_timestamp``; ``registered`` (mm
  aligned to colour) with ``--registered``; ``video`` (N, H, W, 3) uint8 RGB, or IR
  (N, H, W) uint8 or uint16, with ``video_format`` (its VideoFormat number), ``video_valid``,
  ``video_seq``, ``video_timestamp`` and ``video_device_timestamp``; ``accel`` (N, 3) m/s^2 with
  ``accel_timestamp`` and ``accel_device_timestamp``, and ``tilt_deg`` (the motor's
  angle): each frame's newest reading (a recording's readings between frames are not
  kept: a recording or an .mcap keeps them). A stream some frames lack is kept for the
  frames that have it: zeros and ``video_valid`` False, NaN accelerometer rows and times,
  -1 for a missing seq or device time; ``video_aligned`` (True where the source's colour
  lines up with its depth pixel for pixel: the demo, a TUM folder; so a cloud of the
  archive is coloured as one of the source is); ``intrinsics`` (fx, fy, cx, cy): the depth
  camera the source (or ``--intrinsics``) gave, and ``registration`` (the text of a recording's or
  device's ``device.json``), which reading the archive back uses.
- ``convert-pairs`` (convert): ``depth`` (N, H, W) uint16 mm, ``rgb`` (N, H, W, 3),
  ``depth_times``, ``rgb_times``, ``accel`` (N, 3) m/s^2 (NaN without a record) and
  ``accel_times`` (each reading's own time, NaN without one),
  ``depth_format`` and ``intrinsics`` (the aligned depth's camera); read back with the
  times as export's ``timestamp`` and ``video_timestamp`` (``sources.npz_times``).

Archive members carry a fixed date, so the same frames give the same bytes.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from ..camera_models import Intrinsics
from ..errors import ExportError
from ..frame import VIDEO_ARRAYS, DepthFormat, Frame, VideoFormat, video_format_of
from ..outputs import partial_path
from ..sources.npz_times import (
    ACCEL_TIMES,
    CONVERT_LAYOUT,
    DEPTH_TIMES,
    EXPORT_LAYOUT,
    RGB_TIMES,
    VIDEO_ALIGNED,
)
from .base import Pair, Row, Settings, registered_depth

#: The date every archive member carries (zip's epoch), so output is reproducible.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
COPY_BLOCK = 8 << 20


class _Spill:
    """One array's rows, appended to a file as they come."""

    def __init__(
        self, path: Path, dtype: np.dtype[Any], shape: tuple[int, ...], fill: float
    ) -> None:
        self.path, self.dtype, self.shape, self.fill = path, dtype, shape, fill
        self.rows = 0
        self.file: BinaryIO = open(path, "wb")  # noqa: SIM115  # closed in NpzStream

    def write(self, array: npt.NDArray[Any]) -> None:
        self.file.write(np.ascontiguousarray(array, dtype=self.dtype).tobytes())
        self.rows += 1

    def missing(self, rows: int) -> None:
        """``rows`` rows of the fill value (frames before this array's first, or without it)."""
        block = np.full(self.shape, self.fill, self.dtype).tobytes()
        for _ in range(rows):
            self.file.write(block)
        self.rows += rows


class NpzStream:
    """An archive at ``path`` from rows added one frame at a time: ``add`` writes a frame's
    arrays (an array first seen late gets rows of its ``fill`` value, else zeros, for the
    frames before it, and one for each frame without it), ``finish`` adds the small arrays
    and ``layout`` and renames the archive into place; ``abandon`` removes what was written."""

    def __init__(self, path: Path, layout: str, fill: dict[str, float] | None = None) -> None:
        self.path = path
        self.layout = layout
        self.rows = 0
        self._fill = fill or {}
        self._spills: dict[str, _Spill] = {}

    def shape(self, key: str) -> tuple[int, ...] | None:
        """The frame shape of ``key``'s arrays (None before its first)."""
        spill = self._spills.get(key)
        return None if spill is None else spill.shape

    def _spill_path(self, key: str) -> Path:
        return self.path.with_name(f"{self.path.name}.{key}")

    def add(self, arrays: dict[str, npt.NDArray[Any]], where: str = "") -> None:
        """One frame's arrays; every array of a key has the first one's dtype and shape."""
        for key, array in arrays.items():
            spill = self._spills.get(key)
            if spill is None:
                fill = self._fill.get(key, 0)
                spill = _Spill(self._spill_path(key), array.dtype, array.shape, fill)
                self._spills[key] = spill
                spill.missing(self.rows)
            elif array.shape != spill.shape or array.dtype != spill.dtype:
                raise ValueError(
                    f"expected every {key} frame {spill.dtype} {spill.shape} as the first, "
                    f"got {array.dtype} {array.shape}{where}"
                )
            spill.write(array)
        self.rows += 1
        for spill in self._spills.values():
            if spill.rows < self.rows:
                spill.missing(self.rows - spill.rows)

    def finish(
        self,
        small: dict[str, npt.NDArray[Any]],
        empty: dict[str, tuple[np.dtype[Any], tuple[int, ...]]] | None = None,
    ) -> None:
        """Write the archive: the spilled arrays (``empty`` gives the dtype and frame shape
        of one no frame had), then ``small`` and ``layout``; renamed into place."""
        for spill in self._spills.values():
            spill.file.close()
        members: list[tuple[str, np.dtype[Any], tuple[int, ...], Path | None]] = [
            (k, s.dtype, (self.rows, *s.shape), s.path) for k, s in self._spills.items()
        ]
        members += [
            (k, np.dtype(d), (self.rows, *shape), None)
            for k, (d, shape) in (empty or {}).items()
            if k not in self._spills
        ]
        tmp = self.path.with_name(self.path.name + ".tmp")  # cleared with the spill files
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for key, dtype, shape, spill_path in members:
                info = zipfile.ZipInfo(f"{key}.npy", ZIP_DATE)
                with zf.open(info, "w", force_zip64=True) as member:
                    header = {
                        "descr": np.lib.format.dtype_to_descr(dtype),
                        "fortran_order": False,
                        "shape": shape,
                    }
                    np.lib.format.write_array_header_1_0(member, header)
                    if spill_path is not None:
                        with open(spill_path, "rb") as src:
                            while block := src.read(COPY_BLOCK):
                                member.write(block)
                        spill_path.unlink()
            for key, array in {**small, "layout": np.array(self.layout)}.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, array, allow_pickle=False)
                zf.writestr(zipfile.ZipInfo(f"{key}.npy", ZIP_DATE), buf.getvalue())
        os.replace(tmp, self.path)

    def abandon(self) -> None:
        for spill in self._spills.values():
            spill.file.close()
            spill.path.unlink(missing_ok=True)
        self.path.with_name(self.path.name + ".tmp").unlink(missing_ok=True)


class NpzWriter:
    """Convert's ``convert-pairs`` layout: one scene's aligned pairs into ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[Row] = []
        self._stream = NpzStream(path, CONVERT_LAYOUT)
        self.camera: Intrinsics | None = None

    def set_camera(self, intrinsics: Intrinsics) -> None:
        """The camera of the aligned depth, kept as ``intrinsics`` (fx, fy, cx, cy): a
        reader would otherwise take the Kinect depth camera's defaults for it."""
        self.camera = intrinsics

    def write(self, pair: Pair) -> Row:
        depth, rgb = np.asarray(pair.depth_mm, dtype="<u2"), pair.rgb
        if rgb is None:
            raise ValueError("expected a colour image: convert's .npz holds aligned pairs")
        first = (self._stream.shape("depth"), self._stream.shape("rgb"))
        if self.rows and first != (depth.shape, rgb.shape):
            raise ValueError(f"expected every frame of {first}, got {(depth.shape, rgb.shape)}")
        self._stream.add({"depth": depth, "rgb": np.asarray(rgb, dtype=np.uint8)})
        row = pair.row()
        self.rows.append(row)
        return row

    def finish(self) -> None:
        n = len(self.rows)
        accel = np.array(
            [r.accel if r.accel is not None else (np.nan,) * 3 for r in self.rows],
            dtype=np.float64,
        ).reshape(n, 3)
        self._stream.finish(
            {
                DEPTH_TIMES: np.array([r.depth_time for r in self.rows], dtype=np.float64),
                RGB_TIMES: np.array([r.rgb_time for r in self.rows], dtype=np.float64),
                "accel": accel,
                ACCEL_TIMES: np.array(
                    [math.nan if r.accel_time is None else r.accel_time for r in self.rows],
                    dtype=np.float64,
                ),
                "depth_format": np.array(int(DepthFormat.MM)),
                **(
                    {}
                    if self.camera is None
                    else {
                        "intrinsics": np.array(
                            [self.camera.fx, self.camera.fy, self.camera.cx, self.camera.cy],
                            dtype=np.float64,
                        )
                    }
                ),
            },
            empty={"depth": (np.dtype("<u2"), (0, 0)), "rgb": (np.dtype(np.uint8), (0, 0, 3))},
        )

    def abandon(self) -> None:
        self._stream.abandon()


def write_frames(frames: Iterable[Frame], path: Path, settings: Settings) -> int:
    """Export's ``export-frames`` layout: raw frames with each stream's own times (see the
    module's help); nothing is written when there are no frames."""
    tmp = partial_path(path)
    stream = NpzStream(tmp, EXPORT_LAYOUT, fill={"accel": math.nan})
    small: dict[str, list[Any]] = {
        k: []
        for k in (
            "index",
            "timestamp",
            "device_timestamp",
            "video_valid",
            "video_seq",
            "video_timestamp",
            "video_device_timestamp",
            "accel_timestamp",
            "accel_device_timestamp",
            "tilt_deg",
        )
    }
    depth_format: DepthFormat | None = None
    video_format: VideoFormat | None = None
    has_video = has_accel = has_tilt = False
    try:
        for frame in frames:
            if depth_format is None:
                depth_format = frame.depth_format
            arrays: dict[str, npt.NDArray[Any]] = {
                "depth": np.asarray(frame.depth).astype(np.uint16, copy=False)
            }
            if settings.registration is not None:
                arrays["registered"] = registered_depth(frame, settings.registration)
            if frame.video is not None:
                video_format = _video_format(frame, video_format, path)
                arrays["video"] = frame.video
                has_video = True
            if frame.accel is not None:
                arrays["accel"] = np.asarray(frame.accel, dtype=np.float64)
                has_accel = True
            try:
                stream.add(arrays, f" at frame {frame.index}")
            except ValueError as exc:
                raise ExportError(f"{path}: {exc}") from None
            s = frame.video_stamp if frame.video is not None else None
            small["index"].append(frame.index)
            small["timestamp"].append(frame.timestamp)
            small["device_timestamp"].append(_int(frame.device_timestamp))
            small["video_valid"].append(frame.video is not None)
            small["video_seq"].append(_int(s.seq if s else None))
            small["video_timestamp"].append(
                math.nan if frame.video is None else s.host_time if s else frame.timestamp
            )
            small["video_device_timestamp"].append(_int(s.device_timestamp if s else None))
            small["accel_timestamp"].append(
                math.nan
                if frame.accel is None
                else frame.accel_stamp.host_time
                if frame.accel_stamp
                else frame.timestamp
            )
            a = frame.accel_stamp if frame.accel is not None else None
            small["accel_device_timestamp"].append(_int(a.device_timestamp if a else None))
            small["tilt_deg"].append(math.nan if frame.tilt_deg is None else frame.tilt_deg)
            has_tilt = has_tilt or frame.tilt_deg is not None
        if depth_format is None:
            stream.abandon()
            return 0
        small_arrays: dict[str, npt.NDArray[Any]] = {
            "depth_format": np.array(int(depth_format)),
            "index": np.array(small["index"], dtype=np.int64),
            "timestamp": np.array(small["timestamp"], dtype=np.float64),
            "device_timestamp": np.array(small["device_timestamp"], dtype=np.int64),
        }
        if video_format is not None:
            small_arrays["video_format"] = np.array(int(video_format))
        if has_video:
            small_arrays["video_valid"] = np.array(small["video_valid"], dtype=bool)
            small_arrays[VIDEO_ALIGNED] = np.array(settings.video_aligned)
            small_arrays["video_seq"] = np.array(small["video_seq"], dtype=np.int64)
            small_arrays["video_timestamp"] = np.array(small["video_timestamp"], dtype=np.float64)
            small_arrays["video_device_timestamp"] = np.array(
                small["video_device_timestamp"], dtype=np.int64
            )
        if has_accel:
            small_arrays["accel_timestamp"] = np.array(small["accel_timestamp"], dtype=np.float64)
            small_arrays["accel_device_timestamp"] = np.array(
                small["accel_device_timestamp"], dtype=np.int64
            )
        if has_tilt:
            small_arrays["tilt_deg"] = np.array(small["tilt_deg"], dtype=np.float64)
        if settings.source_registration is not None:  # a recording's device.json, kept
            small_arrays["registration"] = np.array(settings.source_registration.to_json())
        if settings.intrinsics is not None:  # the source's camera (or --intrinsics), kept
            k = settings.intrinsics
            small_arrays["intrinsics"] = np.array([k.fx, k.fy, k.cx, k.cy], dtype=np.float64)
        stream.finish(small_arrays)
    except BaseException:
        stream.abandon()
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.replace(tmp, path)
    return stream.rows


def _video_format(frame: Frame, first: VideoFormat | None, path: Path) -> VideoFormat:
    """The format of ``frame``'s video, which the archive keeps (``video_format``) so that
    it reads back as what it is: one a reader knows (``VIDEO_ARRAYS``), held as that format
    is, and the first video frame's; ``ExportError`` otherwise, before anything is kept."""
    video = np.asarray(frame.video)
    held = video_format_of(video.dtype, video.shape[2:]) if video.ndim >= 2 else None
    fmt = frame.video_format if frame.video_format is not None else held
    if fmt is None or fmt not in VIDEO_ARRAYS or fmt is not held:
        kinds = ", ".join(
            f"{f.name} {'x'.join(('H', 'W', *map(str, axes)))} {dtype}"
            for f, (dtype, axes) in VIDEO_ARRAYS.items()
        )
        said = "" if frame.video_format is None else f"{frame.video_format.name} "
        raise ExportError(
            f"{path}: expected video as {kinds}, got {said}{video.dtype} {video.shape} at "
            f"frame {frame.index}"
        )
    if first is not None and fmt is not first:
        raise ExportError(
            f"{path}: expected every video frame in {first.name} as the first, got "
            f"{fmt.name} at frame {frame.index}"
        )
    return fmt


def _int(value: int | None) -> int:
    """-1 where a frame has none."""
    return -1 if value is None else value


__all__ = ["CONVERT_LAYOUT", "EXPORT_LAYOUT", "NpzStream", "NpzWriter", "write_frames"]
