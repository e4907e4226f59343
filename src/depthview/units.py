"""Raw Kinect values <-> metres.

Raw 11-bit disparity converts as libfreenect's FREENECT_DEPTH_MM does, through the default
registration's millimetre table (``freenect_raw_to_mm``; ``registration.depth_mm`` uses the
same table, or a source's own registration): one distance for a raw value in every output.
Readings are 1..9999 mm (raw 0..1054 for the default parameters; past its 10000 mm ceiling
no reading); 10-bit raw is 11-bit shifted right by one; metric formats divide by their units
per metre (1000 for millimetres, 5000 for TUM). The widely used fit ``1 / (raw *
-0.0030711016 + 3.3309495161)`` (``RAW_TO_M_A``, ``RAW_TO_M_B``) reads about 3% nearer than
libfreenect's table and is kept only as a name. NYU Depth V2's toolbox reads raw
11-bit disparity with its own fit, ``351.3 / (1092.5 - raw)`` clipped to 0..10 m
(``DepthFormat.RAW_11BIT_NYU``, ``nyu_metres``). No reading (2047, 1023, 0) becomes NaN.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from ._checks import depth_2d, out_array
from ._registration_tables import MM_MAX, raw_to_mm
from .camera_models import Registration
from .frame import DepthFormat, depth_format_or_raw

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
def kinect_mm() -> npt.NDArray[np.uint16]:
    """libfreenect's millimetres for raw 11-bit values 0..2047 under the default registration
    (0: no reading), read-only."""
    table = raw_to_mm(Registration.default())
    table.flags.writeable = False
    return table


def kinect_zero_plane() -> npt.NDArray[np.float64]:
    """The default registration's figures ``kinect_raw`` inverts libfreenect's formula with:
    reference distance, emitter distance, reference pixel size, const shift."""
    reg = Registration.default()
    zp = reg.zero_plane_info
    figures = (zp.reference_distance, zp.dcmos_emitter_dist, zp.reference_pixel_size)
    return np.array([*figures, reg.const_shift], dtype=np.float64)


def kinect_raw(metres: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The (fractional) raw 11-bit value libfreenect's default table reads as ``metres``: the
    inverse of ``freenect_raw_to_mm``'s formula, for a simulated sensor (NaN where none)."""
    ref, dcmos, pixel, shift = kinect_zero_plane()
    m = np.asarray(metres, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        over = m * 100.0 - ref  # mm / 10 past the reference plane
        metric = over * dcmos / (ref + over)
        raw = 4.0 * (metric / pixel + 0.375) + 4.0 * shift
    return np.where(m > 0, raw, np.nan)


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
        inside = values <= depth_format.max_value
        mm = np.zeros(values.shape, dtype=np.float64)
        mm[inside] = kinect_mm()[raw11[inside].astype(np.intp)]
        table = np.where((mm > 0) & (mm < MM_MAX), mm / 1000.0, np.nan)
    table[int(depth_format.invalid_value)] = np.nan
    out = table.astype(np.float32)
    out.flags.writeable = False
    return out


def to_metres(
    depth: npt.NDArray[np.uint16],
    depth_format: DepthFormat | str | int | None = None,
    *,
    out: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """Depth in metres (float32, same shape), NaN where the sensor has no reading.
    ``depth_format`` is what the values count (``frame.depth_format``); without it they are
    raw 11-bit, and a frame holding more than 11 bits is refused."""
    depth = depth_2d(depth)
    return metres_of(depth, depth_format_or_raw(depth_format, depth), out)


def metres_of(
    depth: npt.NDArray[np.uint16],
    fmt: DepthFormat,
    out: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """``to_metres`` of a 2-D frame whose format ``depth_format_or_raw`` already checked
    against its values (``point_cloud``: one max over a frame, not two)."""
    # numpy's take reads the values as a copy of indices first: out may overlap depth.
    out_array(out, depth.shape, np.float32, strided=True)
    return np.take(metres_table(fmt), depth, out=out)


def from_metres(
    metres: npt.ArrayLike, depth_format: DepthFormat | str | int = DepthFormat.RAW_11BIT
) -> npt.NDArray[np.uint16]:
    """The inverse of ``to_metres``: the nearest raw (or mm) value for each distance.

    NaN, and distances the format cannot express, become the format's no-reading value.
    """
    fmt = DepthFormat.parse(depth_format)
    try:
        if isinstance(metres, (str, bytes)):  # numpy would read "1.5" as a number
            raise TypeError
        m = np.asarray(metres, dtype=np.float64)
    except (TypeError, ValueError):
        shown = repr(metres)
        shown = shown if len(shown) <= 40 else f"{shown[:30]}..."
        raise ValueError(f"expected metres as numbers, got {shown}") from None
    with np.errstate(divide="ignore", invalid="ignore"):
        per_metre = fmt.units_per_metre
        if per_metre is not None:
            value = np.rint(m * per_metre)
            ok = np.isfinite(value) & (value >= 1) & (value <= 65535)
        elif fmt is DepthFormat.RAW_11BIT_NYU:
            value = np.rint(NYU_B - NYU_A / m)
            ok = np.isfinite(value) & (m > 0) & (m < NYU_MAX_M) & (value >= 0) & (value < 2047)
        else:
            value, ok = _nearest_raw(m, fmt)
    result = np.where(ok, value, fmt.invalid_value)
    return result.astype(np.uint16)


@cache
def _reading_raws(
    depth_format: DepthFormat,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """The values of a raw format that read as distances in one rising run (libfreenect's
    table wraps past its ceiling), and their metres."""
    table = metres_table(depth_format)[: int(depth_format.invalid_value)].astype(np.float64)
    last = int(np.argmax(~np.isfinite(table[1:]) & np.isfinite(table[:-1])))
    values = np.arange(last + 1)
    return values, table[: last + 1]


def _nearest_raw(
    m: npt.NDArray[np.float64], fmt: DepthFormat
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """For each distance, the raw value whose reading is nearest (and whether there is one:
    within half a step of the readable range)."""
    values, metres = _reading_raws(fmt)
    flat = np.nan_to_num(m.reshape(-1), nan=-1.0, posinf=-1.0, neginf=-1.0)
    right = np.clip(np.searchsorted(metres, flat), 1, len(metres) - 1)
    left = right - 1
    nearer_left = np.abs(flat - metres[left]) <= np.abs(metres[right] - flat)
    index = np.where(nearer_left, left, right)
    rising = np.flatnonzero(metres > metres[0])
    step_lo = (metres[rising[0]] - metres[0]) / 2 if rising.size else 0.0
    step_hi = (metres[-1] - metres[-2]) / 2
    ok = (flat >= metres[0] - step_lo) & (flat <= metres[-1] + step_hi)
    return values[index].reshape(m.shape).astype(np.float64), ok.reshape(m.shape)
