"""libfreenect's raw -> millimetres for the default parameters, written out here from
``freenect_raw_to_mm`` in libfreenect's ``src/registration.c`` (not depthview's code), with
the numbers read straight from the shipped ``kinect-v1-registration.json``: the tests' truth
for a raw value's distance. ``test_colorize`` checks it against the compiled C itself."""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt


def _shipped() -> dict[str, Any]:
    text = (resources.files("depthview") / "data" / "kinect-v1-registration.json").read_text()
    layout: dict[str, Any] = json.loads(text)
    return layout


def _parameters(layout: dict[str, Any]) -> tuple[float, float, float, float]:
    zp = layout["reg_info"]["zero_plane_info"]
    return (
        float(layout["const_shift"]),
        float(zp["reference_pixel_size"]),
        float(zp["reference_distance"]),
        float(zp["dcmos_emitter_distance"]),
    )


CEILING_MM = 10000  # FREENECT_DEPTH_MM_MAX_VALUE


def c_millimetres(raw: int, layout: dict[str, Any] | None = None) -> float:
    """``freenect_raw_to_mm``'s double for one raw value, before its ``uint16_t`` return,
    for a device.json ``layout`` (default: the shipped one)."""
    const_shift, pixel_size, ref_distance, emitter = _parameters(layout or _shipped())
    # parameter_coefficient 4, shift_scale 10, pixel_size_factor 1, S2D_CONST_OFFSET 0.375
    fixed_ref_x = ((raw - 4 * const_shift) / 4) - 0.375
    metric = fixed_ref_x * pixel_size
    if metric == emitter:
        return math.inf
    return 10 * (metric * ref_distance / (emitter - metric) + ref_distance)


def past_uint16(layout: dict[str, Any] | None = None) -> npt.NDArray[np.bool_]:
    """Raw 0..2046 whose millimetres the C's ``uint16_t`` cannot hold (past the formula's
    pole, negative; before it, past 65535): converting them is undefined in C, and x86
    wraps them (raw 1090 to 6351 mm). depthview holds them at the 10 m ceiling."""
    values = np.array([c_millimetres(r, layout) for r in range(2047)] + [0.0])
    return ~((values > -1) & (values < 65536))


def raw_to_mm(raw: int) -> int:
    """FREENECT_DEPTH_MM of one raw 11-bit value (2047: 0), as the C computes it, and the
    ceiling where the C's conversion is undefined (``past_uint16``)."""
    if raw == 2047:
        return 0
    value = c_millimetres(raw)
    if not -1 < value < 65536:
        return CEILING_MM
    return math.trunc(value)  # (uint16_t) of a double in range


@cache
def mm_table() -> npt.NDArray[np.int64]:
    """``raw_to_mm`` for raw 0..2047."""
    return np.array([raw_to_mm(r) for r in range(2048)], dtype=np.int64)


def held_at_ceiling(
    c_table: npt.NDArray[np.uint16], layout: dict[str, Any] | None = None
) -> npt.NDArray[np.uint16]:
    """libfreenect's compiled ``raw_to_mm_shift`` with the raw values whose conversion is
    undefined in C held at the ceiling, as depthview holds them (``past_uint16``)."""
    table = c_table.copy()
    table[past_uint16(layout)] = CEILING_MM
    return table


def metres(raw: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Metres of raw values as depthview reads them: libfreenect's millimetres / 1000, NaN
    where it has no reading (0) or at and past its 10000 mm ceiling."""
    mm = mm_table()[np.asarray(raw, dtype=np.int64)].astype(np.float64)
    return np.where((mm > 0) & (mm < 10000), mm / 1000.0, np.nan)
