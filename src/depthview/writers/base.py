"""What the writers share: export's ``Settings`` (how frames become files), the frame file
names, convert's ``Row`` (one pair as written) and the import of an optional extra."""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ..camera_file import CAMERA_FILE, written_by_depthview
from ..colorize import Equalizer
from ..errors import ExportError
from ..frame import DepthFormat, Frame, check_frame
from ..geometry import Intrinsics
from ..registration import Registration, depth_mm, register
from ..units import from_metres, to_metres


@dataclass(frozen=True)
class Settings:
    """How frames become files: the picture (layout, palette, range) and the geometry."""

    layout: str = "depth"
    palette: str | None = None  # None: glview for raw depth, turbo for millimetres
    near: float | None = None
    far: float | None = None
    fps: float | None = None
    #: None: the Kinect's, for each frame's size (``Intrinsics.for_size``).
    intrinsics: Intrinsics | None = None
    #: With a registration (``--registered``): depth aligned to the colour image in png16 and
    #: npz, and libfreenect's point clouds coloured from the colour pixels they fall on.
    registration: Registration | None = None
    #: The source's own registration (None: it has none): raw depth's millimetres in every
    #: output (png16, ply, .rrd/.mcap), the default registration's when None.
    source_registration: Registration | None = None
    #: The source's colour pixels line up with its depth pixels (``Source.video_aligned``:
    #: the demo, datasets whose depth is registered to colour): a cloud takes its colours
    #: pixel for pixel; otherwise only through a registration (``--registered``).
    video_aligned: bool = False
    #: Histogram equalisation that follows the stream (metric palettes without a range), so
    #: a video does not flicker; None equalises each frame on its own.
    equalizer: Equalizer | None = None
    #: An MP4's frames shown at their own times (a gap in them held, not closed: trial V);
    #: False: one after another at ``fps`` (the rate the user gave, ``--fps``).
    timed: bool = True


#: ``write(frames, target, settings) -> frames written``; ``target`` is a folder or a file.
FrameWriter = Callable[[Iterable[Frame], Path, Settings], int]


@dataclass(frozen=True, slots=True)
class Row:
    """One kept pair as written: times (seconds) and file names (relative to the scene)."""

    depth_time: float
    depth_file: str
    rgb_time: float
    rgb_file: str
    accel_time: float | None = None
    accel: tuple[float, float, float] | None = None


@dataclass(frozen=True, slots=True)
class Pair:
    """One aligned pair as convert hands it to a writer: depth in millimetres with its time
    (seconds), the colour image matched to it (None: depth-only output) and the
    accelerometer record nearest it."""

    depth_time: float
    depth_mm: npt.NDArray[np.uint16]
    rgb_time: float = math.nan
    rgb: npt.NDArray[np.uint8] | None = None
    accel_time: float | None = None
    accel: tuple[float, float, float] | None = None
    #: The motor's angle (degrees) of that accelerometer record, None while it moved: a
    #: sink sends it beside the reading (trial AQ D5: convert's .mcap had every tilt null).
    tilt_deg: float | None = None
    #: The depth as the source stored it, and its units, where the pair is that depth
    #: unchanged (metric, not aligned, no depth step): a writer in those units writes it as
    #: it is, TUM's fifths of a millimetre kept (trial V), not through ``depth_mm``.
    stored: tuple[npt.NDArray[np.uint16], DepthFormat] | None = None

    def row(self, depth_file: str = "", rgb_file: str = "") -> Row:
        """The pair as written, in the files named (none for a single-file format)."""
        return Row(
            self.depth_time, depth_file, self.rgb_time, rgb_file, self.accel_time, self.accel
        )


class PairWriter(Protocol):
    """What convert writes one scene with (``tum``, ``npz``, ``sinkfile``): an aligned pair
    at a time; the row as written."""

    rows: list[Row]

    def write(self, pair: Pair) -> Row: ...


def checked_frames(frames: Iterable[Frame]) -> Iterator[Frame]:
    """The frames every writer takes, each checked before it is handed on (``check_frame``:
    depth that is depth, in range of its label, finite times, colour that is a picture), and
    of one kind through the run: the first frame's ``depth_format`` and colour size. A
    caller's own frames (float metres, int64, values past the label) were written as if
    they were depth, wrapped or truncated, into a file depthview then refuses (trial AJ D6);
    millimetres after raw frames were labelled raw (trial AN D3). Refused in one
    ``ExportError`` naming the frame, the same for every format."""
    first: Frame | None = None
    for n, frame in enumerate(frames):
        where = f"frame {getattr(frame, 'index', n)}"
        try:
            check_frame(frame)
        except (TypeError, ValueError) as exc:
            raise ExportError(f"{where}: {exc}") from None
        if first is None:
            first = frame
        elif frame.depth_format != first.depth_format:
            raise ExportError(
                f"{where}: expected depth in {DepthFormat(first.depth_format).name} as the "
                f"first frame, got {DepthFormat(frame.depth_format).name}"
            )
        video, before = frame.video, first.video
        if video is not None and before is not None and video.shape != before.shape:
            raise ExportError(
                f"{where}: expected video of the first frame's size {before.shape}, got "
                f"{video.shape}"
            )
        yield frame


def frame_name(frame: Frame, suffix: str) -> str:
    """A folder format's file for one frame, named by its index: ``frame-000042.png``."""
    return f"frame-{frame.index:06d}.{suffix}"


#: The names ``frame_name`` gives, in every folder format (png, png16: .png; ply: .ply).
FRAME_FILE = re.compile(r"frame-[0-9]{6,}\.(png|ply)")


def is_frame_file(path: Path) -> bool:
    """A file a folder export writes (what ``--overwrite`` replaces in a folder): its
    frames, and png16's camera file where depthview wrote it (its comment says so: a
    user's own ``camera.yaml``, ORB-SLAM settings, is not the export's to replace)."""
    if FRAME_FILE.fullmatch(path.name) is not None:
        return True
    return path.name == CAMERA_FILE and written_by_depthview(path)


def require(module: str, extra: str, fmt: str) -> Any:
    """Import ``module``, or an ``ExportError`` naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ExportError(
            f"--format {fmt} needs {module.split('.')[0]}: pip install 'depthview[{extra}]'"
        ) from None


def metric_depth(
    depth: npt.NDArray[np.uint16], depth_format: DepthFormat, registration: Registration | None
) -> tuple[npt.NDArray[np.uint16], DepthFormat]:
    """A frame's depth as distances, and their format: metric depth as it is, raw disparity
    as millimetres (``registration.depth_mm`` for ``registration``, else the default one;
    NYU's raw through NYU's fit). What every export of a raw frame measures with (png16,
    ply), so that each gives the same distance."""
    if depth_format.is_metric:
        return depth, depth_format
    if depth_format is DepthFormat.RAW_11BIT_NYU:
        return from_metres(to_metres(depth, depth_format), DepthFormat.MM), DepthFormat.MM
    return depth_mm(depth, depth_format, registration), DepthFormat.MM


def registered_depth(frame: Frame, registration: Registration) -> npt.NDArray[np.uint16]:
    """The frame's depth in millimetres aligned to its colour image (``--registered``)."""
    if frame.depth_format is DepthFormat.REGISTERED:
        return frame.depth
    if frame.depth_format is not DepthFormat.RAW_11BIT:
        raise ExportError(
            f"--registered: expected raw 11-bit depth to align, got {frame.depth_format.name}"
        )
    try:
        return register(frame.depth, registration, depth_format=frame.depth_format)
    except ValueError as exc:
        raise ExportError(f"--registered: {exc}") from None


__all__ = [
    "FRAME_FILE",
    "FrameWriter",
    "Pair",
    "PairWriter",
    "Row",
    "Settings",
    "checked_frames",
    "frame_name",
    "is_frame_file",
    "metric_depth",
    "registered_depth",
    "require",
]
