"""PLY point clouds: export's folder of one cloud a frame, or one ``.ply`` (its first frame)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt

from ..errors import ExportError
from ..frame import Frame
from ..geometry import colour_lines_up, ply_bytes, point_cloud
from ..outputs import write_atomic
from ..registration import map_rgb_to_depth, readings_mm
from .base import Settings, frame_name, metric_depth


def cloud_bytes(frame: Frame, settings: Settings) -> tuple[bytes, int, int]:
    """The frame's point cloud as PLY, how many points it has, and how many of them are
    black for want of a colour pixel (``--registered``: falling outside the colour image, or
    hidden in it, as libfreenect leaves them). Coloured from its video
    when its pixels line up with the depth's (``settings.video_aligned``, or depth
    registered to colour), or from the colour pixels the points fall on with a registration
    (``--registered``); else without colours (the depth and colour cameras see a point at
    different pixels). The points are the same with or without a registration: the
    source's millimetres (``metric_depth``) in the source's camera (``settings.intrinsics``,
    which for a source with a registration of its own is libfreenect's model of it), so
    that ``--registered`` only colours them."""
    video = frame.video
    lined_up = colour_lines_up(settings.video_aligned, frame.depth_format)
    reg = settings.registration
    if reg is not None and frame.depth.shape != (480, 640):
        raise ExportError(
            f"--registered: expected the Kinect's 640x480 depth, got "
            f"{frame.depth.shape[1]}x{frame.depth.shape[0]} at frame {frame.index}"
        )
    colours: npt.NDArray[np.generic] | None = None
    covered: npt.NDArray[np.bool_] | None = None  # the pixels a colour pixel reached
    if video is not None and video.shape[:2] == frame.depth.shape:
        if lined_up or (reg is not None and video.ndim == 2):  # IR: the depth camera's own
            colours = video
        elif reg is not None:  # each point takes the colour pixel it falls on
            rgb = cast("npt.NDArray[np.uint8]", video)  # RGB: map_rgb_to_depth checks it
            fmt = frame.depth_format
            colours = map_rgb_to_depth(frame.depth, rgb, reg, depth_format=fmt)
            white = np.full_like(rgb, 255)
            covered = map_rgb_to_depth(frame.depth, white, reg, depth_format=fmt)[..., 0] > 0
    # the distances png16 and the sinks give: the source's registration's mm
    depth, fmt = metric_depth(frame.depth, frame.depth_format, settings.source_registration)
    depth = readings_mm(depth, frame.depth_format)  # the ceiling is no point (10 m)
    cloud = point_cloud(depth, depth_format=fmt, intrinsics=settings.intrinsics, video=colours)
    blank = 0 if covered is None else int(np.count_nonzero((depth > 0) & ~covered))
    return ply_bytes(cloud.points, cloud.colors), len(cloud.points), blank


def uncoloured(frame: Frame) -> str:
    """Why a frame with a colour image gives a cloud without colours ("" when it does not):
    the image is not the depth's size (nor, with a registration, the 640x480 it maps to)."""
    video = frame.video
    if video is None or video.shape[:2] == frame.depth.shape:
        return ""
    h, w = frame.depth.shape
    return (
        f"frame {frame.index}: a {video.shape[1]}x{video.shape[0]} colour image, not the "
        f"depth's {w}x{h}: the points are not coloured"
    )


def _said(frame: Frame, said: set[str]) -> None:
    """Warn once per export why points are not coloured (not on every frame)."""
    why = uncoloured(frame)
    if why and not said:
        said.add(why)
        warnings.warn(why, stacklevel=3)


def write_frames(frames: Iterable[Frame], folder: Path, settings: Settings) -> int:
    """A folder of one cloud a frame."""
    count = 0
    said: set[str] = set()
    empty: list[int] = []
    points = blank = 0
    for frame in frames:
        _said(frame, said)
        data, n, black = cloud_bytes(frame, settings)
        write_atomic(folder / frame_name(frame, "ply"), data)
        if not n:
            empty.append(frame.index)
        points, blank, count = points + n, blank + black, count + 1
    _say_empty(empty, count)
    _say_black(blank, points)
    return count


def write_file(frames: Iterable[Frame], path: Path, settings: Settings) -> int:
    """One point cloud: the first frame (a PLY file holds one cloud; export asks for one,
    and the frames are read to their end so that its progress says it is done)."""
    written = 0
    for frame in frames:
        if not written:
            _said(frame, set())
            data, points, black = cloud_bytes(frame, settings)
            write_atomic(path, data)
            _say_empty([] if points else [frame.index], 1)
            _say_black(black, points)
            written = 1
    return written


def _say_black(black: int, points: int) -> None:
    """Points ``--registered`` found no colour pixel for are black (libfreenect's): said in
    one warning, so that a black point is not taken for a black surface (trial X)."""
    if black:
        warnings.warn(
            f"{black} of the {points} points fall outside the colour image or are hidden in "
            "it: no colour pixel reaches them, and they are black",
            stacklevel=3,
        )


def _say_empty(empty: list[int], count: int) -> None:
    """Clouds without a point (every pixel without a reading) are written, as the frames
    are, and said in one warning: not an export that looks whole (trial V)."""
    if empty:
        warnings.warn(
            f"{len(empty)} of the {count} point clouds have no point (the first: frame "
            f"{empty[0]}): every pixel of the frame is without a reading",
            stacklevel=3,
        )


__all__ = ["cloud_bytes", "uncoloured", "write_file", "write_frames"]
