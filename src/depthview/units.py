"""Raw Kinect values <-> metres.

Raw 11-bit disparity converts with the widely used fit ``1 / (raw * -0.0030711016 +
3.3309495161)`` metres (valid for raw < 2047, and only where the denominator is positive,
i.e. raw < 1084); 10-bit raw is 11-bit shifted right by one; metric formats divide by their
units per metre (1000 for millimetres, 5000 for TUM). NYU Depth V2's toolbox reads raw
11-bit disparity with its own fit, ``351.3 / (1092.5 - raw)`` clipped to 0..10 m
(``DepthFormat.RAW_11BIT_NYU``, ``nyu_metres``). No reading (2047, 1023, 0) becomes NaN.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from ._checks import depth_2d
from .frame import DepthFormat

RAW_TO_M_A = -0.0030711016
RAW_TO_M_B = 3.3309495161
#: NYU Depth V2's ``depth_rel2depth_abs.m``: metres = NYU_A / (NYU_B - raw), at most NYU_MAX_M.
NYU_A = 351.3
NYU_B = 1092.5
NYU_MAX_M = 10.0


def nyu_metres(raw: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> npt.NDArray[np.float64]:
    """NYU's raw disparity to metres, as its toolbox computes them: ``351.3 / (1092.5 - raw)``
    clipped to 0..10 (behind the fit's pole, raw > 1092.5, is 0; at it, 10). Works on the
    interpolated (float) disparity of an undistorted frame as well as on integers."""
    r = np.asarray(raw, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = NYU_A / (NYU_B - r)
    m = np.clip(m, 0.0, NYU_MAX_M)  # +inf (at the pole) -> 10, negative -> 0
    return np.nan_to_num(m, nan=0.0, posinf=NYU_MAX_M)


@cache
def metres_table(depth_format: DepthFormat) -> npt.NDArray[np.float32]:
    """Metres for every possible uint16 value of ``depth_format`` (65536 float32, NaN where no
    reading). Computed once per format and shared; treat it as read-only."""
    values = np.arange(65536, dtype=np.float64)
    per_metre = depth_format.units_per_metre
    if per_metre is not None:
        table = values / per_metre
    elif depth_format is DepthFormat.RAW_11BIT_NYU:
        table = nyu_metres(values)
        table[(table <= 0) | (values > depth_format.max_value)] = np.nan
    else:
        raw11 = values * 2 if depth_format is DepthFormat.RAW_10BIT else values
        denom = raw11 * RAW_TO_M_A + RAW_TO_M_B
        with np.errstate(divide="ignore"):
            table = np.where(denom > 0, 1.0 / denom, np.nan)
        table[values > depth_format.max_value] = np.nan
    table[int(depth_format.invalid_value)] = np.nan
    out = table.astype(np.float32)
    out.flags.writeable = False
    return out


def to_metres(
    depth: npt.NDArray[np.uint16],
    depth_format: DepthFormat | str | int = DepthFormat.RAW_11BIT,
    *,
    out: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """Depth in metres (float32, same shape), NaN where the sensor has no reading."""
    depth = depth_2d(depth)
    fmt = DepthFormat.parse(depth_format)
    if out is not None and (out.shape != depth.shape or out.dtype != np.float32):
        raise ValueError(
            f"expected out of shape {depth.shape} and dtype float32, got {out.shape} {out.dtype}"
        )
    return np.take(metres_table(fmt), depth, out=out)


def from_metres(
    metres: npt.ArrayLike, depth_format: DepthFormat | str | int = DepthFormat.RAW_11BIT
) -> npt.NDArray[np.uint16]:
    """The inverse of ``to_metres``: the nearest raw (or mm) value for each distance.

    NaN, and distances the format cannot express, become the format's no-reading value.
    """
    fmt = DepthFormat.parse(depth_format)
    m = np.asarray(metres, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_metre = fmt.units_per_metre
        if per_metre is not None:
            value = np.rint(m * per_metre)
            ok = np.isfinite(value) & (value >= 1) & (value <= 65535)
        elif fmt is DepthFormat.RAW_11BIT_NYU:
            value = np.rint(NYU_B - NYU_A / m)
            ok = np.isfinite(value) & (m > 0) & (m < NYU_MAX_M) & (value >= 0) & (value < 2047)
        else:
            raw11 = (1.0 / m - RAW_TO_M_B) / RAW_TO_M_A
            value = np.rint(raw11 / 2) if fmt is DepthFormat.RAW_10BIT else np.rint(raw11)
            ok = np.isfinite(value) & (m > 0) & (value >= 0) & (value < fmt.invalid_value)
    result = np.where(ok, value, fmt.invalid_value)
    return result.astype(np.uint16)
