"""libfreenect's raw -> millimetres for the default parameters, written out here from
``freenect_raw_to_mm`` in libfreenect's ``src/registration.c`` (not depthview's code), with
the numbers read straight from the shipped ``kinect-v1-registration.json``: the tests' truth
for a raw value's distance. ``test_colorize`` checks it against the compiled C itself."""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt


@cache
def _parameters() -> tuple[float, float, float, float]:
    text = (resources.files("depthview") / "data" / "kinect-v1-registration.json").read_text()
    layout = json.loads(text)
    zp = layout["reg_info"]["zero_plane_info"]
    return (
        float(layout["const_shift"]),
        float(zp["reference_pixel_size"]),
        float(zp["reference_distance"]),
        float(zp["dcmos_emitter_distance"]),
    )


def raw_to_mm(raw: int) -> int:
    """FREENECT_DEPTH_MM of one raw 11-bit value (2047: 0), as the C computes it."""
    if raw == 2047:
        return 0
    const_shift, pixel_size, ref_distance, emitter = _parameters()
    # parameter_coefficient 4, shift_scale 10, pixel_size_factor 1, S2D_CONST_OFFSET 0.375
    fixed_ref_x = ((raw - 4 * const_shift) / 4) - 0.375
    metric = fixed_ref_x * pixel_size
    value = 10 * (metric * ref_distance / (emitter - metric) + ref_distance)
    return math.trunc(value) & 0xFFFF  # (uint16_t)(int) of a double, in range here


@cache
def mm_table() -> npt.NDArray[np.int64]:
    """``raw_to_mm`` for raw 0..2047 (values past the C's int range do not occur for raw
    < 2047 with these parameters: checked)."""
    return np.array([raw_to_mm(r) for r in range(2048)], dtype=np.int64)


def metres(raw: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Metres of raw values as depthview reads them: libfreenect's millimetres / 1000, NaN
    where it has no reading (0) or at and past its 10000 mm ceiling."""
    mm = mm_table()[np.asarray(raw, dtype=np.int64)].astype(np.float64)
    return np.where((mm > 0) & (mm < 10000), mm / 1000.0, np.nan)
