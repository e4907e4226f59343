"""NYU Depth V2's own alignment (its toolbox's ``project_depth_map.m``), step by step.

NYU's official aligned frames were made by a MATLAB function; reproducing it is what lets a
dataset converted here be compared with theirs. What it does, in order:

1. the colour image and the raw disparity are undistorted by inverse mapping with bilinear
   interpolation (Bouguet's ``rect``: 0-based pixel centres; pixels that map from outside
   the image stay 255); a noise mask (the pixels equal to the frame's maximum, as 255) is
   undistorted the same way and is set where it is > 0;
2. disparity < 600 and masked pixels become 2047; metres = 351.3 / (1092.5 - raw), clipped
   to 0..10 (``units.nyu_metres``);
3. points back-projected on a 1-based pixel grid, ``X = (x - cx) Z / fx``; moved by R and
   the translation (``StereoCalibration.nyu()``: the same projection as the toolbox's
   reflected R and ``(t_x, t_z, t_y)``); projected with the colour camera's fx, cx;
   rounded; kept where ``0 < x < 640`` and ``0 < y < 480`` (1-based);
4. the nearest point wins each pixel, and the value written is its depth before the move;
   > 10 becomes 10, NaN 0. The colour returned is the undistorted colour image.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from ._checks import out_array
from .camera_models import Intrinsics, StereoCalibration
from .stereo import _kernels, remap, remap_table, remap_u8, splat
from .units import NYU_A, NYU_B, NYU_MAX_M, nyu_metres

#: Raw disparity below this is noise after undistortion (the toolbox's threshold).
NYU_MIN_RAW = 600
NYU_NO_READING = 2047
#: Where Bouguet's ``rect`` has no source pixel.
RECT_FILL = 255.0


@lru_cache(maxsize=4)
def grid_rays(
    k: Intrinsics, width: int, height: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``((x - cx) / fx, (y - cy) / fy)`` on the toolbox's 1-based grid, flat row-major."""
    v, u = np.mgrid[1 : height + 1, 1 : width + 1].astype(np.float64)
    rx = ((u - k.cx) / k.fx).ravel()
    ry = ((v - k.cy) / k.fy).ravel()
    rx.flags.writeable = False
    ry.flags.writeable = False
    return rx, ry


def undistort_colour(
    rgb: npt.NDArray[np.uint8],
    calibration: StereoCalibration,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Step 1 for the colour image: ``rect`` per channel, then MATLAB's ``uint8`` (rounds
    half away from zero; the values are not negative, so half up)."""
    c = calibration
    out_array(out, (c.height, c.width, 3), np.uint8, apart_from={"rgb": rgb}, strided=True)
    table = remap_table(c.colour, c.colour_distortion, c.width, c.height)
    return remap_u8(rgb, table, int(RECT_FILL), out)


def undistorted_metres(
    raw: npt.NDArray[np.uint16], calibration: StereoCalibration
) -> npt.NDArray[np.float64]:
    """Steps 1 and 2: the undistorted disparity in metres, flat (H*W,) float64."""
    c = calibration
    kernels = _kernels()
    if kernels is None or not raw.flags.c_contiguous:
        return nyu_metres(undistort_disparity(raw, c)).reshape(-1)
    table = remap_table(c.depth, c.depth_distortion, c.width, c.height)
    out = np.empty(c.width * c.height, dtype=np.float64)
    kernels.nyu_metres(
        raw.reshape(-1),
        int(raw.max()),
        table.pixels,
        table.top_left,
        table.weights,
        c.width,
        float(NYU_MIN_RAW),
        float(NYU_NO_READING),
        NYU_A,
        NYU_B,
        NYU_MAX_M,
        out,
    )
    return out


def undistort_disparity(
    raw: npt.NDArray[np.uint16], calibration: StereoCalibration
) -> npt.NDArray[np.float64]:
    """Steps 1 and 2 for the disparity: undistorted (bilinear), with noise (< 600, and the
    undistorted mask of the frame's maximum) set to 2047."""
    c = calibration
    table = remap_table(c.depth, c.depth_distortion, c.width, c.height)
    stacked = np.empty((c.height, c.width, 2), dtype=np.float64)
    stacked[:, :, 0] = raw
    stacked[:, :, 1] = np.where(raw == raw.max(), 255.0, 0.0)
    both = remap(stacked, table, RECT_FILL)
    disparity = both[:, :, 0]
    disparity[(disparity < NYU_MIN_RAW) | (both[:, :, 1] > 0)] = NYU_NO_READING
    return disparity


def project_depth_map(
    raw: npt.NDArray[np.uint16],
    rgb: npt.NDArray[np.uint8] | None,
    calibration: StereoCalibration | None = None,
    *,
    out: npt.NDArray[np.float32] | None = None,
    colour_out: npt.NDArray[np.uint8] | None = None,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8] | None]:
    """NYU's ``project_depth_map``: (depth in metres on the undistorted colour image's
    pixels, 0 where none, float32; the undistorted colour image, or None without one).
    ``raw`` is a (480, 640) frame of 11-bit disparity as the raw dumps hold it (after the
    byte swap); ``calibration`` defaults to ``StereoCalibration.nyu()``."""
    c = StereoCalibration.nyu() if calibration is None else calibration
    shape = (c.height, c.width)
    if not isinstance(raw, np.ndarray) or raw.shape != shape or raw.dtype.kind not in "ui":
        got: object = (raw.shape, raw.dtype) if isinstance(raw, np.ndarray) else type(raw).__name__
        raise ValueError(f"expected raw disparity as {shape} integers, got {got}")
    if rgb is not None and (
        not isinstance(rgb, np.ndarray) or rgb.shape != (*shape, 3) or rgb.dtype != np.uint8
    ):
        got = (rgb.shape, rgb.dtype) if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise ValueError(f"expected rgb as {(*shape, 3)} uint8, got {got}")
    metres = undistorted_metres(raw, c)
    rx, ry = grid_rays(c.depth, c.width, c.height)
    out_array(out, shape, np.float32, apart_from={"raw": raw, "rgb": rgb})
    out_array(colour_out, (*shape, 3), np.uint8, apart_from={"rgb": rgb, "out": out}, strided=True)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    splat(metres, rx, ry, c, out, nyu=True)
    np.minimum(out, NYU_MAX_M, out=out)
    return out, None if rgb is None else undistort_colour(rgb, c, colour_out)


__all__ = ["grid_rays", "project_depth_map", "undistort_colour", "undistort_disparity"]
