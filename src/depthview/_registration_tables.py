"""libfreenect's registration tables, computed with the C code's own arithmetic.

libfreenect (``src/registration.c``) turns a Kinect's factory parameters into three tables:
millimetres for each raw value, a depth-dependent horizontal shift (in 1/256 pixel) for
each millimetre, and a per-pixel target position in the colour image. The recurrences and
conversions below follow the C operation by operation (float32 where the C multiplies
floats, 32-bit wrap where it shifts an ``int32_t``, arithmetic right shifts of ``int64_t``,
truncating double-to-int conversions as x86-64 performs them), so the tables are equal bit
for bit; the tests compare them with libfreenect compiled from its source. One exception:
raw values whose millimetres a ``uint16_t`` cannot hold (undefined in C; ``holds_in_uint16``)
are at the 10 m ceiling, not the wrapped distances x86 makes of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from .camera_models import HEIGHT as HEIGHT
from .camera_models import WIDTH as WIDTH
from .camera_models import Registration

PIXELS = WIDTH * HEIGHT
RAW_VALUES = 2048  # FREENECT_DEPTH_RAW_MAX_VALUE
RAW_NO_VALUE = 2047  # FREENECT_DEPTH_RAW_NO_VALUE
MM_MAX = 10000  # FREENECT_DEPTH_MM_MAX_VALUE: shift table size, and DEPTH_MM's ceiling
X_SCALE = 256  # REG_X_VAL_SCALE: target x positions are fixed point, 1/256 pixel
SENSOR_X_RES = 1280  # the zero-plane pixel size is for the sensor's 1280-wide image
UINT32 = 1 << 32
#: ``placed_mm``'s "places nothing": above every placed value, so a minimum keeps the nearest.
NOTHING = 0xFFFF

_Array = TypeVar("_Array", bound=np.ndarray)


@dataclass(frozen=True, eq=False)
class RegistrationTables:
    """One registration's tables (read-only arrays), built once and shared.

    libfreenect's own: ``raw_to_mm`` (2048 uint16, its ``raw_to_mm_shift``),
    ``depth_to_rgb_shift`` (10000 int32), ``registration_table`` (480, 640, 2) int32 (target
    x in 1/256 pixel, target row). Derived for the per-frame loops, indexed by any uint16:
    ``mm`` (FREENECT_DEPTH_MM's output for each raw value), ``placed_mm`` (the millimetres
    registration places for each raw value, ``NOTHING`` where it places none), ``shift``
    (``depth_to_rgb_shift`` padded with zeros so every ``placed_mm`` value indexes it);
    ``target_x`` (the table's x, contiguous) and the output offset of each pixel's target
    row as the C computes it in unsigned 32-bit arithmetic: ``registered_row`` for the
    registered depth, ``rgb_row`` for the colour mapping (libfreenect subtracts its pad lines
    differently in the two).
    """

    raw_to_mm: npt.NDArray[np.uint16]
    depth_to_rgb_shift: npt.NDArray[np.int32]
    registration_table: npt.NDArray[np.int32]
    mm: npt.NDArray[np.uint16]
    placed_mm: npt.NDArray[np.uint16]
    shift: npt.NDArray[np.int32]
    target_x: npt.NDArray[np.int32]
    registered_row: npt.NDArray[np.uint32]
    rgb_row: npt.NDArray[np.uint32]


def c_double_to_int32(values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """What x86-64 gives for a C ``(int32_t)double``: truncation toward zero, and the
    "integer indefinite" INT32_MIN for NaN and values outside int32 (undefined in C, but
    this is the code gcc emits, so the tables match libfreenect's build bit for bit)."""
    with np.errstate(invalid="ignore"):
        t = np.trunc(values)
        ok = np.isfinite(t) & (t >= -(2.0**31)) & (t < 2.0**31)
    return np.where(ok, t, -(2.0**31)).astype(np.int64)


def _wrap32(value: int) -> int:
    """A Python int as the signed 32-bit value C's ``int32_t`` arithmetic leaves."""
    value &= UINT32 - 1
    return value - UINT32 if value >= 1 << 31 else value


def raw_to_mm(reg: Registration) -> npt.NDArray[np.uint16]:
    """libfreenect's ``freenect_raw_to_mm`` for raw values 0..2047, 2047 giving 0."""
    zp = reg.zero_plane_info
    raw = np.arange(RAW_VALUES, dtype=np.float64)
    # parameter_coefficient 4, pixel_size_factor 1, shift_scale 10, S2D_CONST_OFFSET 0.375;
    # zero-plane values are C floats, widened to double where the C mixes them with doubles.
    fixed_ref_x = ((raw - (4.0 * reg.const_shift / 1.0)) / 4.0) - 0.375
    metric = fixed_ref_x * zp.reference_pixel_size * 1.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mm = 10.0 * (
            (metric * zp.reference_distance / (zp.dcmos_emitter_dist - metric))
            + zp.reference_distance
        )
    table = (c_double_to_int32(mm) & 0xFFFF).astype(np.uint16)  # the C returns uint16_t
    table[~holds_in_uint16(mm)] = MM_MAX
    table[RAW_NO_VALUE] = 0
    return table


def holds_in_uint16(mm: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Where ``freenect_raw_to_mm``'s double is one its ``uint16_t`` result can hold. Past the
    formula's pole it is negative, and before it past 65535: converting those is undefined in
    C, and x86 wraps them to arbitrary millimetres (raw 1090 gave 6351 mm for a reading past
    10 m: trial AJ D14). depthview holds those raw values at the ceiling, as past 10 m."""
    with np.errstate(invalid="ignore"):
        return (mm > -1.0) & (mm < 65536.0)


def depth_to_rgb_shift(reg: Registration) -> npt.NDArray[np.int32]:
    """libfreenect's ``freenect_init_depth_to_rgb``: x shift (1/256 pixel) per millimetre."""
    zp = reg.zero_plane_info
    x_scale = SENSOR_X_RES // WIDTH
    # float * uint32_t * int stays in float in C; only then 1.0 / ... is double.
    size = np.float32(np.float32(zp.reference_pixel_size) * np.float32(x_scale)) * np.float32(10)
    pixel_size = 1.0 / float(np.float32(size))
    rgb_to_ir = zp.dcmos_rcmos_dist * pixel_size * 10.0
    reference = zp.reference_distance * pixel_size * 10.0
    depth_px = np.arange(MM_MAX, dtype=np.float64) * pixel_size
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = ((rgb_to_ir * (depth_px - reference) / depth_px) + 0.375) * X_SCALE
    return c_double_to_int32(shift).astype(np.int32)


def _row_starts(reg: Registration) -> list[tuple[int, int, int, int, int, int]]:
    """The C's per-row recurrence: each row's starting (dX0, dXdX0, dXdXdX0, dY0, dXdY0,
    dXdXdY0), in fixed point. Shifts of ``int32_t`` wrap at 32 bits as the C's do."""
    r = reg.reg_info
    d_x = _wrap32(r.dx_start << 13) >> 4
    d_y = _wrap32(r.dy_start << 13) >> 4
    dxdx = _wrap32(r.dxdx_start << 11) >> 3
    dxdy = _wrap32(r.dxdy_start << 11) >> 3
    dydx = _wrap32(r.dydx_start << 11) >> 3
    dydy = _wrap32(r.dydy_start << 11) >> 3
    dxdxdx = _wrap32(_wrap32(r.dxdxdx_start << 5) << 3)
    dydxdx = _wrap32(_wrap32(r.dydxdx_start << 5) << 3)
    dydxdy = _wrap32(_wrap32(r.dydxdy_start << 5) << 3)
    dxdxdy = _wrap32(_wrap32(r.dxdxdy_start << 5) << 3)
    dydydx = _wrap32(_wrap32(r.dydydx_start << 5) << 3)
    dydydy = _wrap32(_wrap32(r.dydydy_start << 5) << 3)
    rows = []
    for _ in range(HEIGHT):
        dxdxdx += r.cx
        dxdx += dydxdx >> 8
        dydxdx += r.dx
        d_x += dydx >> 6
        dydx += dydydx >> 8
        dydydx += r.bx
        dxdxdy += r.cy
        dxdy += dydxdy >> 8
        dydxdy += r.dy
        d_y += dydy >> 6
        dydy += dydydy >> 8
        dydydy += r.by
        rows.append((d_x, dxdx, dxdxdx, d_y, dxdy, dxdxdy))
    return rows


def registration_table(reg: Registration) -> npt.NDArray[np.int32]:
    """libfreenect's ``freenect_init_registration_table``: (480, 640, 2) int32 target x (in
    1/256 pixel; 1280 pixels for targets outside the image) and target row."""
    starts = np.array(_row_starts(reg), dtype=np.int64)
    x, dxdx, dxdxdx, y, dxdy, dxdxdy = (starts[:, k].copy() for k in range(6))
    ax, ay = reg.reg_info.ax, reg.reg_info.ay
    fixed_x = np.empty((HEIGHT, WIDTH), dtype=np.int64)
    fixed_y = np.empty((HEIGHT, WIDTH), dtype=np.int64)
    for col in range(WIDTH):  # every row at once, one column at a time, as the C steps
        fixed_x[:, col] = x
        fixed_y[:, col] = y
        x += dxdx >> 6
        dxdx += dxdxdx >> 8
        dxdxdx += ax
        y += dxdy >> 6
        dxdy += dxdxdy >> 8
        dxdxdy += ay
    scale = 1.0 / (1 << 17)
    cols = np.arange(WIDTH, dtype=np.float64)[None, :]
    rows = np.arange(HEIGHT, dtype=np.float64)[:, None]
    new_x = cols + fixed_x.astype(np.float64) * scale + 1.0  # DEPTH_X_OFFSET
    new_y = rows + fixed_y.astype(np.float64) * scale + 1.0  # DEPTH_Y_OFFSET
    outside = (new_x < 0) | (new_y < 0) | (new_x >= WIDTH) | (new_y >= HEIGHT)
    new_x[outside] = 2 * WIDTH
    table = np.empty((HEIGHT, WIDTH, 2), dtype=np.int32)
    table[:, :, 0] = c_double_to_int32(new_x * X_SCALE)
    table[:, :, 1] = c_double_to_int32(new_y)
    return table


def _readonly(array: _Array) -> _Array:
    array.flags.writeable = False
    return array


def build(reg: Registration) -> RegistrationTables:
    """All tables for ``reg``: tens of milliseconds, so callers cache them per registration."""
    raw = raw_to_mm(reg)
    shift = depth_to_rgb_shift(reg)
    table = registration_table(reg)
    target_x = np.ascontiguousarray(table[:, :, 0])
    # The C adds target x and shift in int32; with parameters where that could overflow
    # (undefined behaviour) nothing would be exact, so refuse them.
    sums = (int(target_x.min()) + int(shift[1:].min()), int(target_x.max()) + int(shift.max()))
    if sums[0] < -(2**31) or sums[1] >= 2**31:
        raise ValueError(
            f"expected registration parameters whose shifts fit libfreenect's int32 "
            f"arithmetic, got target x + shift spanning {sums}"
        )
    mm = np.zeros(65536, dtype=np.uint16)
    mm[:RAW_VALUES] = np.minimum(raw, MM_MAX)  # FREENECT_DEPTH_MM clamps at 10000
    placed_mm = np.full(65536, NOTHING, dtype=np.uint16)
    placed_mm[:RAW_VALUES] = np.where((raw > 0) & (raw < MM_MAX), raw, NOTHING)
    padded_shift = np.zeros(65536, dtype=np.int32)
    padded_shift[:MM_MAX] = shift
    pad = HEIGHT * reg.reg_pad_info.start_lines  # libfreenect's target_offset (sic: HEIGHT)
    row = table[:, :, 1].astype(np.int64)
    return RegistrationTables(
        raw_to_mm=_readonly(raw),
        depth_to_rgb_shift=_readonly(shift),
        registration_table=_readonly(table),
        mm=_readonly(mm),
        placed_mm=_readonly(placed_mm),
        shift=_readonly(padded_shift),
        target_x=_readonly(target_x),
        registered_row=_readonly(((row * WIDTH - pad) % UINT32).astype(np.uint32)),
        rgb_row=_readonly((((row - pad) * WIDTH) % UINT32).astype(np.uint32)),
    )
