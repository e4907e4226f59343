"""Depth placed on the colour camera's pixels with a general stereo calibration.

``align(metres, calibration)`` does what a calibrated RGB-D pair needs: each depth pixel's
true ray (its distortion removed, as OpenCV's ``undistortPoints``), back-projected at its
depth, moved into the colour camera (``R p + t``), projected into the undistorted colour
image (as ``projectPoints`` with no distortion), the nearest point kept where several land
on one pixel (a z-buffer). ``undistort_image`` resamples the colour image to match
(inverse mapping, bilinear, as ``cv2.undistort``). The tests use OpenCV as the oracle.

Pure: numpy in, numpy out. Everything that depends only on the calibration (rays, remap
weights) is computed once per calibration and cached, so a frame costs one pass. With the
``fast`` extra the per-frame loops are compiled (``_stereo_numba``); numpy does the same
arithmetic without it. ``nyu_toolbox`` reuses these pieces with NYU's own conventions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from ._checks import out_array
from ._compiled import optional
from .camera_models import Distortion, Intrinsics, StereoCalibration

#: Fixed-point steps when removing distortion; OpenCV's default is 5, which leaves up to
#: a tenth of a pixel at a Kinect's image corners; 20 converge to well below 1e-6.
UNDISTORT_ITERATIONS = 20


def distort(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], d: Distortion
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Normalised undistorted coordinates to where the lens shows them (Brown-Conrady,
    OpenCV's and Bouguet's ``apply_distortion``)."""
    r2 = x * x + y * y
    radial = 1.0 + r2 * (d.k1 + r2 * (d.k2 + r2 * d.k3))
    xy2 = 2.0 * x * y
    xd = x * radial + d.p1 * xy2 + d.p2 * (r2 + 2.0 * x * x)
    yd = y * radial + d.p1 * (r2 + 2.0 * y * y) + d.p2 * xy2
    return xd, yd


def undistort_normalised(
    u: npt.NDArray[np.float64],
    v: npt.NDArray[np.float64],
    k: Intrinsics,
    d: Distortion,
    iterations: int = UNDISTORT_ITERATIONS,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Pixel coordinates (0-based) to normalised undistorted coordinates: the fixed-point
    iteration of OpenCV's ``undistortPoints``, run to convergence."""
    x0 = (np.asarray(u, dtype=np.float64) - k.cx) / k.fx
    y0 = (np.asarray(v, dtype=np.float64) - k.cy) / k.fy
    x, y = x0.copy(), y0.copy()
    if d.is_zero:
        return x, y
    for _ in range(iterations):
        r2 = x * x + y * y
        inv = 1.0 / (1.0 + r2 * (d.k1 + r2 * (d.k2 + r2 * d.k3)))
        dx = 2.0 * d.p1 * x * y + d.p2 * (r2 + 2.0 * x * x)
        dy = d.p1 * (r2 + 2.0 * y * y) + 2.0 * d.p2 * x * y
        x = (x0 - dx) * inv
        y = (y0 - dy) * inv
    return x, y


def _readonly(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    a.flags.writeable = False
    return a


@lru_cache(maxsize=8)
def depth_rays(
    k: Intrinsics, d: Distortion, width: int, height: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Each depth pixel's undistorted ray (x/z, y/z), flat (H*W,) in row-major order."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    x, y = undistort_normalised(u.ravel(), v.ravel(), k, d)
    return _readonly(x), _readonly(y)


@dataclass(frozen=True, eq=False)
class RemapTable:
    """Bilinear inverse mapping of an undistortion: for each output pixel that samples
    inside the input, the flat index of its top-left source pixel and four weights."""

    width: int
    height: int
    pixels: npt.NDArray[np.intp]  # output pixels (flat) that have a source
    top_left: npt.NDArray[np.intp]  # flat index of the source's top-left neighbour
    weights: npt.NDArray[np.float64]  # (N, 4): top-left, top-right, bottom-left, bottom-right


@lru_cache(maxsize=8)
def remap_table(k: Intrinsics, d: Distortion, width: int, height: int) -> RemapTable:
    """Where each pixel of the undistorted image is in the distorted one (0-based pixel
    centres); pixels whose 2x2 neighbourhood is not wholly inside the image have none
    (Bouguet's ``rect``: ``0 <= floor(x) <= W - 2``)."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    x = (u.ravel() - k.cx) / k.fx
    y = (v.ravel() - k.cy) / k.fy
    xd, yd = distort(x, y, d)
    px = k.fx * xd + k.cx
    py = k.fy * yd + k.cy
    x0 = np.floor(px)
    y0 = np.floor(py)
    good = (x0 >= 0) & (x0 <= width - 2) & (y0 >= 0) & (y0 <= height - 2)
    ax = px[good] - x0[good]
    ay = py[good] - y0[good]
    weights = np.stack([(1 - ay) * (1 - ax), (1 - ay) * ax, ay * (1 - ax), ay * ax], axis=1).astype(
        np.float64
    )
    top_left = (y0[good] * width + x0[good]).astype(np.intp)
    return RemapTable(
        width,
        height,
        _readonly(np.flatnonzero(good).astype(np.intp)),
        _readonly(top_left),
        _readonly(weights),
    )


def remap(image: npt.NDArray[Any], table: RemapTable, fill: float) -> npt.NDArray[np.float64]:
    """``image`` (H, W) or (H, W, C) resampled through ``table`` as float64; pixels without a
    source are ``fill``."""
    h, w = image.shape[:2]
    if (w, h) != (table.width, table.height):
        raise ValueError(f"expected an image of {table.width}x{table.height}, got {w}x{h}")
    flat = image.reshape(h * w, -1)
    out = np.full(flat.shape, fill, dtype=np.float64)
    kernels = _kernels()
    if kernels is not None:
        kernels.remap(flat, table.pixels, table.top_left, table.weights, w, out)
    else:
        tl = table.top_left
        wt = table.weights
        out[table.pixels] = (
            wt[:, 0:1] * flat[tl]
            + wt[:, 1:2] * flat[tl + 1]
            + wt[:, 2:3] * flat[tl + w]
            + wt[:, 3:4] * flat[tl + w + 1]
        )
    return out.reshape(image.shape)


def undistort_image(
    image: npt.NDArray[np.uint8],
    k: Intrinsics,
    d: Distortion,
    *,
    fill: int = 0,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """The undistorted image with the same intrinsics (``cv2.undistort``'s result, bilinear;
    pixels that see outside the input are ``fill``), rounded to uint8 (half up)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        got = (image.shape, image.dtype) if isinstance(image, np.ndarray) else type(image)
        raise ValueError(f"expected an (H, W) or (H, W, 3) uint8 image, got {got}")
    out_array(out, image.shape, np.uint8, apart_from={"image": image}, strided=True)
    h, w = image.shape[:2]
    if d.is_zero:
        if out is None:
            return image.copy()
        out[...] = image
        return out
    return remap_u8(image, remap_table(k, d, w, h), fill, out)


def remap_u8(
    image: npt.NDArray[np.uint8],
    table: RemapTable,
    fill: int,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """``remap`` of a uint8 image rounded back to uint8 (half up), into ``out``."""
    if out is None:
        out = np.empty(image.shape, dtype=np.uint8)
    kernels = _kernels()
    if kernels is not None and image.flags.c_contiguous and out.flags.c_contiguous:
        h, w = image.shape[:2]
        kernels.remap_u8(
            image.reshape(h * w, -1),
            table.pixels,
            table.top_left,
            table.weights,
            w,
            fill,
            out.reshape(h * w, -1),
        )
        return out
    out[...] = np.floor(remap(image, table, fill) + 0.5)
    return out


def _check_depth(depth: object, calibration: StereoCalibration) -> npt.NDArray[np.float32]:
    shape = (calibration.height, calibration.width)
    if not isinstance(depth, np.ndarray) or depth.shape != shape:
        got = depth.shape if isinstance(depth, np.ndarray) else type(depth).__name__
        raise ValueError(f"expected depth in metres of shape {shape}, got {got}")
    if depth.dtype.kind != "f":
        raise ValueError(f"expected depth in metres (float), got dtype {depth.dtype}")
    return np.ascontiguousarray(depth, dtype=np.float32)


def align(
    metres: npt.NDArray[np.floating],
    calibration: StereoCalibration,
    *,
    out: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """Depth (metres, NaN or 0 = no reading) placed on the undistorted colour image's pixels:
    (H, W) float32 metres along the colour camera's axis, 0 where nothing lands; where
    several points land on one pixel the nearest is kept. A pixel is the one whose centre
    is nearest the projection (0-based centres, ``floor(u + 0.5)``)."""
    if not isinstance(calibration, StereoCalibration):
        raise TypeError(
            f"expected calibration as a StereoCalibration, got {type(calibration).__name__}"
        )
    z = _check_depth(metres, calibration)
    w, h = calibration.width, calibration.height
    out_array(out, (h, w), np.float32, apart_from={"metres": metres})
    if out is None:
        out = np.empty((h, w), dtype=np.float32)
    rx, ry = depth_rays(calibration.depth, calibration.depth_distortion, w, h)
    splat(z.reshape(-1), rx, ry, calibration, out, nyu=False)
    return out


def splat(
    z: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    rx: npt.NDArray[np.float64],
    ry: npt.NDArray[np.float64],
    calibration: StereoCalibration,
    out: npt.NDArray[np.float32],
    *,
    nyu: bool,
) -> None:
    """The z-buffer: points ``(rx z, ry z, z)`` moved and projected into ``out``.

    ``nyu=False``: 0-based pixels (``floor(u + 0.5)``, kept in 0..W-1), the value and the
    order are the moved depth. ``nyu=True``: NYU's toolbox: the rays are on its 1-based
    grid, the projection is rounded half away from zero and kept where ``0 < x < W`` and
    ``0 < y < H`` (1-based), the value and the order are the depth before the move.
    Points with no reading (z <= 0 or NaN) are left out."""
    r = calibration.rotation_matrix
    t = calibration.translation_vector
    c = calibration.colour
    h, w = out.shape
    kernels = _kernels()
    if kernels is not None:
        kernels.splat(z, rx, ry, r, t, c.fx, c.fy, c.cx, c.cy, nyu, out.reshape(-1), w, h)
        return
    zz = np.asarray(z, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        idx = np.flatnonzero(zz > 0)
    zs = zz[idx]
    x, y = rx[idx] * zs, ry[idx] * zs
    xc = r[0, 0] * x + r[0, 1] * y + r[0, 2] * zs + t[0]
    yc = r[1, 0] * x + r[1, 1] * y + r[1, 2] * zs + t[1]
    zc = r[2, 0] * x + r[2, 1] * y + r[2, 2] * zs + t[2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = c.fx * xc / zc + c.cx
        v = c.fy * yc / zc + c.cy
    if nyu:
        ui = np.sign(u) * np.floor(np.abs(u) + 0.5)  # MATLAB's round
        vi = np.sign(v) * np.floor(np.abs(v) + 0.5)
        keep = (ui > 0) & (ui < w) & (vi > 0) & (vi < h)
        target = (vi[keep] - 1) * w + (ui[keep] - 1)
        value = zs[keep]
    else:
        ui = np.floor(u + 0.5)
        vi = np.floor(v + 0.5)
        keep = (zc > 0) & (ui >= 0) & (ui < w) & (vi >= 0) & (vi < h)
        target = vi[keep] * w + ui[keep]
        value = zc[keep]
    flat = out.reshape(-1)
    flat.fill(np.inf)
    np.minimum.at(flat, target.astype(np.intp), value.astype(np.float32))
    flat[np.isinf(flat)] = 0.0


# -- back ends ------------------------------------------------------------------------------
_UNSET = object()
_KERNELS: Any = _UNSET


def _kernels() -> Any:
    global _KERNELS
    if _KERNELS is _UNSET:
        _KERNELS = optional("_stereo_numba")
    return _KERNELS


def backend() -> str:
    """Which loops run: "numba" with the ``fast`` extra, else "numpy"."""
    return "numba" if _kernels() else "numpy"


__all__ = [
    "RemapTable",
    "align",
    "backend",
    "depth_rays",
    "distort",
    "remap",
    "remap_table",
    "remap_u8",
    "splat",
    "undistort_image",
    "undistort_normalised",
]
