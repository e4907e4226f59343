"""Depth frames to 3D points in metres, and point clouds to PLY bytes.

Pure: numpy in, numpy (or bytes) out; no files, no devices. The camera frame is the depth
camera's: x right, y down, z forward (metres). A pixel (u, v) with depth z becomes
``((u - cx) / fx * z, (v - cy) / fy * z, z)``. The two factors depend only on the frame
size and the intrinsics, so they are computed once per (size, intrinsics) and cached;
unprojecting a frame is then a table gather (``to_metres``) and two multiplies.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from . import registration as reg
from ._checks import depth_2d, flag
from .camera_models import Intrinsics
from .frame import IR_10BIT_MAX, DepthFormat, depth_format_or_raw
from .registration import Registration
from .units import metres_of, to_metres

#: The Kinect v1 depth camera (640x480).
KINECT_V1_DEPTH = Intrinsics()


class PointCloud(NamedTuple):
    """``points``: (N, 3) float32 metres, or (H, W, 3) with NaN holes when organised.
    ``colors``: (N, 3) / (H, W, 3) uint8 RGB matching ``points``, or None without video."""

    points: npt.NDArray[np.float32]
    colors: npt.NDArray[np.uint8] | None


@lru_cache(maxsize=16)
def unprojection_grid(
    height: int, width: int, intrinsics: Intrinsics = KINECT_V1_DEPTH
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """``((u - cx) / fx, (v - cy) / fy)`` as two read-only (H, W) float32 arrays, cached per
    (size, intrinsics) so a stream of frames never rebuilds them."""
    u = (np.arange(width, dtype=np.float64) - intrinsics.cx) / intrinsics.fx
    v = (np.arange(height, dtype=np.float64) - intrinsics.cy) / intrinsics.fy
    gx = np.ascontiguousarray(np.broadcast_to(u[None, :], (height, width)), dtype=np.float32)
    gy = np.ascontiguousarray(np.broadcast_to(v[:, None], (height, width)), dtype=np.float32)
    gx.flags.writeable = False
    gy.flags.writeable = False
    return gx, gy


def colour_lines_up(video_aligned: bool, depth_format: DepthFormat | None) -> bool:
    """Whether a frame's colour pixels are its depth pixels' own, to be taken pixel for
    pixel: its source says so (``Source.video_aligned``: rendered from the depth camera, or
    registered by its dataset) or its depth is registered to the colour camera. Else the
    colour reaches the depth only through a registration (``map_rgb_to_depth``); without
    one, each point would take the colour of a pixel beside it (7-Scenes: 2.5 cm off), so
    a cloud (export) and a mesh (scan) are left uncoloured, and say so."""
    return video_aligned or depth_format is DepthFormat.REGISTERED


def video_as_rgb(video: npt.NDArray[np.generic], shape: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """A video frame as (H, W, 3) uint8 RGB: RGB as is, 8-bit IR repeated as grey, 10-bit IR
    (uint16) scaled to 8 bits. The size must match the depth frame's."""
    if not isinstance(video, np.ndarray):
        raise TypeError(f"expected video as a numpy array, got {type(video).__name__}")
    if (
        video.shape[:2] != shape
        or video.ndim not in (2, 3)
        or (video.ndim == 3 and video.shape[2] != 3)
    ):
        raise ValueError(
            f"expected video of shape {shape} or {(*shape, 3)} matching the depth frame, "
            f"got {video.shape}"
        )
    if video.ndim == 3:
        if video.dtype != np.uint8:
            raise ValueError(f"expected RGB video of dtype uint8, got {video.dtype}")
        return video.astype(np.uint8, copy=False)
    if video.dtype == np.uint8:
        grey = video
    elif video.dtype == np.uint16:
        grey = (np.minimum(video, IR_10BIT_MAX) >> 2).astype(np.uint8)
    else:
        raise ValueError(f"expected IR video of dtype uint8 or uint16, got {video.dtype}")
    return np.repeat(grey[:, :, None], 3, axis=2)


def point_cloud(
    depth: npt.NDArray[np.uint16],
    *,
    depth_format: DepthFormat | str | int | None = None,
    intrinsics: Intrinsics | None = None,
    video: npt.NDArray[np.generic] | None = None,
    organized: bool = False,
    registration: Registration | None = None,
) -> PointCloud:
    """Unproject a depth frame to points in metres (x right, y down, z forward).

    Returns a ``PointCloud(points, colors)``: by default only pixels with a reading, as
    (N, 3) float32 in row-major pixel order; ``organized=True`` keeps the (H, W, 3) grid
    with NaN where there is no reading. ``colors`` is the video at the same pixels (depth
    and video are taken as aligned, as on a registered stream), or None without video.
    ``intrinsics`` defaults to ``KINECT_V1_DEPTH.for_size`` the frame's size.
    ``depth_format`` is what the values count (``frame.depth_format``); without it they are
    raw 11-bit, and a frame holding more than 11 bits is refused.

    With a ``registration`` (a 640x480 frame) the cloud is libfreenect's: raw 11-bit depth
    becomes distance through libfreenect's millimetre table, points follow
    ``freenect_camera_to_world`` (``registration.depth_intrinsics()``), and an RGB ``video``
    is mapped as ``map_rgb_to_depth`` maps it, so each point takes the colour pixel it
    really falls on (black where the colour camera does not see it). IR video, being the
    depth camera's own image, and REGISTERED depth, already aligned, are taken as they are.
    """
    flag("organized", organized)
    depth = depth_2d(depth)
    if depth.size == 0:
        raise ValueError(f"expected a depth frame with pixels, got shape {depth.shape}")
    depth_format = depth_format_or_raw(depth_format, depth)
    if registration is None:
        if intrinsics is None:
            intrinsics = KINECT_V1_DEPTH.for_size(depth.shape[1], depth.shape[0])
        z = metres_of(depth, depth_format)
        rgb = None if video is None else video_as_rgb(video, depth.shape)
    elif intrinsics is not None:
        raise ValueError("expected intrinsics or a registration (which brings its own), got both")
    else:
        z, rgb = _registered(depth, depth_format, video, registration)
        intrinsics = registration.depth_intrinsics()
    if not isinstance(intrinsics, Intrinsics):
        raise TypeError(f"expected intrinsics as an Intrinsics, got {type(intrinsics).__name__}")
    height, width = depth.shape
    gx, gy = unprojection_grid(height, width, intrinsics)
    if organized:
        points = np.empty((height, width, 3), dtype=np.float32)
        np.multiply(gx, z, out=points[:, :, 0])
        np.multiply(gy, z, out=points[:, :, 1])
        points[:, :, 2] = z
        return PointCloud(points, rgb)
    mask = ~np.isnan(z)
    count = int(np.count_nonzero(mask))
    points = np.empty((count, 3), dtype=np.float32)
    zs = z[mask]
    points[:, 2] = zs
    np.multiply(gx[mask], zs, out=points[:, 0])
    np.multiply(gy[mask], zs, out=points[:, 1])
    colors = None if rgb is None else rgb[mask]
    return PointCloud(points, colors)


def _registered(
    depth: npt.NDArray[np.uint16],
    fmt: DepthFormat,
    video: npt.NDArray[np.generic] | None,
    registration: Registration,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8] | None]:
    """Metres and per-pixel colours of a frame under libfreenect's registration."""
    reg.check_frame(depth)
    if fmt is DepthFormat.RAW_11BIT:
        z = np.take(reg.metres_table(registration), depth)
    elif fmt in (DepthFormat.MM, DepthFormat.REGISTERED):
        z = to_metres(depth, fmt)
    else:
        raise ValueError(
            f"expected depth_format RAW_11BIT, MM or REGISTERED with a registration, got {fmt.name}"
        )
    if video is None:
        return z, None
    if isinstance(video, np.ndarray) and video.ndim == 3 and fmt is not DepthFormat.REGISTERED:
        colours = reg.map_rgb_to_depth(
            depth,
            video,  # type: ignore[arg-type]  # map_rgb_to_depth checks it is uint8 RGB
            registration,
            depth_format=fmt,
        )
        return z, colours
    return z, video_as_rgb(video, depth.shape)


def ply_bytes(
    points: npt.NDArray[np.float32], colors: npt.NDArray[np.uint8] | None = None
) -> bytes:
    """A binary little-endian PLY file: ``x y z`` float32 (and ``red green blue`` uchar).

    Organised (H, W, 3) clouds are flattened and their NaN holes left out, since PLY
    readers expect finite vertices.
    """
    if not isinstance(points, np.ndarray) or points.ndim not in (2, 3) or points.shape[-1] != 3:
        shape = getattr(points, "shape", type(points).__name__)
        raise ValueError(f"expected points of shape (N, 3) or (H, W, 3), got {shape}")
    flat = points.reshape(-1, 3)
    rgb = None
    if colors is not None:
        if colors.shape != points.shape or colors.dtype != np.uint8:
            raise ValueError(
                f"expected colors of shape {points.shape} and dtype uint8, "
                f"got {colors.shape} {colors.dtype}"
            )
        rgb = colors.reshape(-1, 3)
    if points.ndim == 3:
        keep = ~np.isnan(flat).any(axis=1)
        flat = flat[keep]
        rgb = None if rgb is None else rgb[keep]
    fields: list[tuple[str, str]] = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    if rgb is not None:
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    vertices = np.empty(len(flat), dtype=np.dtype(fields))
    vertices["x"], vertices["y"], vertices["z"] = flat[:, 0], flat[:, 1], flat[:, 2]
    if rgb is not None:
        vertices["red"], vertices["green"], vertices["blue"] = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    props = "".join(
        f"property {'float' if kind == '<f4' else 'uchar'} {name}\n" for name, kind in fields
    )
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment depthview point cloud, metres\n"
        f"element vertex {len(vertices)}\n{props}end_header\n"
    )
    return header.encode("ascii") + vertices.tobytes()


__all__ = [
    "KINECT_V1_DEPTH",
    "Intrinsics",
    "PointCloud",
    "ply_bytes",
    "point_cloud",
    "unprojection_grid",
    "video_as_rgb",
]


def quaternion(r: npt.NDArray[np.float64]) -> tuple[float, float, float, float]:
    """(qx, qy, qz, qw) of a rotation matrix, qw >= 0."""
    m = np.asarray(r, dtype=np.float64)
    trace = float(np.trace(m))
    if trace > 0:
        s = 2.0 * math.sqrt(trace + 1.0)
        q = ((m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4)
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = (s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s)
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = ((m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s)
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = ((m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4, (m[1, 0] - m[0, 1]) / s)
    sign = -1.0 if q[3] < 0 else 1.0
    qx, qy, qz, qw = (float(sign * c) for c in q)
    return qx, qy, qz, qw


def rotation(qx: float, qy: float, qz: float, qw: float) -> npt.NDArray[np.float64]:
    """The rotation matrix of a unit quaternion."""
    n = math.sqrt(qx * qx + qy * qy + qz * qz + qw * qw)
    x, y, z, w = qx / n, qy / n, qz / n, qw / n
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
