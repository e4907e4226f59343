"""Depth aligned to the colour image, and millimetres, exactly as libfreenect computes them.

The Kinect's depth and colour cameras sit 2.5 cm apart, so raw depth does not line up with
the colour image. Each Kinect stores factory parameters (read over USB by libfreenect, and
saved by its ``fakenect-record`` in a recording's ``device.json``); libfreenect builds
tables from them (``_registration_tables``) and gives ``FREENECT_DEPTH_MM`` (millimetres)
and ``FREENECT_DEPTH_REGISTERED`` (millimetres placed where the colour camera sees them).
This module does the same from any raw 11-bit frame, bit for bit::

    reg = dv.Registration.from_json("recording/device.json")   # or Registration.default()
    mm = dv.to_mm(frame.depth, reg)                  # one table lookup
    aligned = dv.register(frame.depth, reg)          # depth in the colour image's pixels
                                                     # (depth_format="mm" for millimetres)
    colours = dv.map_rgb_to_depth(frame.depth, frame.video, reg)  # colour of each depth pixel

Tables are built once per registration (cached). With the ``fast`` extra the per-frame
loops are compiled (numba) and allocate nothing when ``out=`` is given; without it numpy
does the same arithmetic. Where the C code's behaviour is undefined (a target outside the
frame, a millimetre value past its 10000-entry shift table) nothing is written.
"""

from __future__ import annotations

import threading
from functools import cache, lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from ._checks import depth_2d, out_array
from ._compiled import optional
from ._registration_tables import (
    HEIGHT,
    MM_MAX,
    NOTHING,
    PIXELS,
    UINT32,
    WIDTH,
    RegistrationTables,
    build,
)
from .camera_models import (
    RegInfo,
    Registration,
    RegPadInfo,
    ZeroPlaneInfo,
)
from .camera_models import _default as _default
from .colorize import gather
from .frame import RAW_10BIT_INVALID, RAW_11BIT_INVALID, DepthFormat, depth_format_or_raw


@lru_cache(maxsize=8)
def _tables(registration: Registration) -> RegistrationTables:
    return build(registration)


def tables(registration: Registration | None = None) -> RegistrationTables:
    """The registration's tables (the default registration's for None), built once."""
    if registration is None:
        registration = _default()
    elif not isinstance(registration, Registration):
        raise TypeError(
            f"expected registration as a Registration, got {type(registration).__name__}"
        )
    return _tables(registration)


# -- back ends ------------------------------------------------------------------------------
_UNSET = object()
_KERNELS: Any = _UNSET  # the numba module, loaded on first use (importing numba is slow)
_scratch = threading.local()


def _kernels() -> Any:
    global _KERNELS
    if _KERNELS is _UNSET:
        _KERNELS = optional("_registration_numba")
    return _KERNELS


def backend() -> str:
    """Which loops run: "numba" with the ``fast`` extra, else "numpy"."""
    return "numba" if _kernels() else "numpy"


def _scratch_buffer(name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
    """A per-thread buffer of one frame's pixels, reused across calls."""
    buffers: dict[str, npt.NDArray[Any]] | None = getattr(_scratch, "buffers", None)
    if buffers is None:
        buffers = _scratch.buffers = {}
    if name not in buffers:
        buffers[name] = np.empty(PIXELS, dtype=dtype)
    return buffers[name]


def _targets_numpy(
    placed_mm: npt.NDArray[np.uint16],
    depth: npt.NDArray[np.uint16],
    t: RegistrationTables,
    row: npt.NDArray[np.uint32],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.uint16], npt.NDArray[np.int64]]:
    """For the pixels libfreenect places: (their flat index, millimetres, flat target),
    with the C's arithmetic (truncating division, unsigned 32-bit offsets)."""
    mm = placed_mm[depth].ravel()
    index = np.flatnonzero(mm != NOTHING)
    mm = mm[index]
    s = t.target_x.ravel()[index].astype(np.int64) + t.shift[mm]
    nx = np.where(s >= 0, s >> 8, np.where(s > -256, 0, WIDTH))
    target = row.ravel()[index].astype(np.int64) + nx
    target[target >= UINT32] -= UINT32
    keep = (nx < WIDTH) & (target < PIXELS)
    return index[keep], mm[keep], target[keep]


# -- the public functions -------------------------------------------------------------------
def check_frame(depth: object) -> npt.NDArray[np.uint16]:
    """``depth`` as a (480, 640) uint16 frame, the only size libfreenect registers."""
    arr = depth_2d(depth)
    if arr.shape != (HEIGHT, WIDTH):
        raise ValueError(
            f"expected depth of shape ({HEIGHT}, {WIDTH}) (registration is for the Kinect's "
            f"640x480 depth mode), got {arr.shape}"
        )
    return arr


@lru_cache(maxsize=8)
def metres_table(registration: Registration | None = None) -> npt.NDArray[np.float32]:
    """Metres for every uint16 raw value through libfreenect's millimetre table (65536
    float32, read-only): NaN where it has no reading and at its 10000 mm ceiling."""
    mm = tables(registration).mm
    metres = np.where((mm > 0) & (mm < MM_MAX), mm / 1000.0, np.nan).astype(np.float32)
    metres.flags.writeable = False
    return metres


def to_mm(
    depth: npt.NDArray[np.uint16],
    registration: Registration | None = None,
    *,
    depth_format: DepthFormat | str | int | None = None,
    out: npt.NDArray[np.uint16] | None = None,
) -> npt.NDArray[np.uint16]:
    """Depth (any (H, W)) to millimetres; raw 11-bit exactly as libfreenect's
    FREENECT_DEPTH_MM gives them: its table, 0 for no reading (2047), at most 10000 (its
    ceiling). One table lookup. ``depth_format`` is what the values count
    (``frame.depth_format``: other formats as ``depth_mm`` converts them; NYU's raw, read by
    its own fit, is ``to_metres``'); without it they are raw 11-bit; raw values past their
    format's bits are refused (another unit's: a millimetre frame). ``out`` may be
    ``depth`` itself (each pixel is read before it is written), not another view
    overlapping it."""
    arr = depth_2d(depth)
    fmt = depth_format_or_raw(depth_format, arr)
    if fmt is DepthFormat.RAW_11BIT_NYU:  # trial AL D2: "expected unpacked depth" misled
        raise ValueError(
            "to_mm: depth_format RAW_11BIT_NYU is read by NYU's own fit, which to_mm "
            "(libfreenect's millimetre table) does not apply: dv.to_metres(depth, 'nyu') "
            "gives its metres (x 1000 for millimetres)"
        )
    if fmt is not DepthFormat.RAW_11BIT:
        out_array(out, arr.shape, np.uint16)
        mm = depth_mm(arr, fmt, registration)
        if out is None:
            return mm.copy() if mm is arr else mm
        np.copyto(out, mm)
        return out
    return _raw_to_mm(arr, registration, out)


def _raw_to_mm(
    arr: npt.NDArray[np.uint16],
    registration: Registration | None,
    out: npt.NDArray[np.uint16] | None,
) -> npt.NDArray[np.uint16]:
    table = tables(registration).mm
    in_place = (
        isinstance(out, np.ndarray)
        and out.__array_interface__["data"][0] == arr.__array_interface__["data"][0]
        and out.strides == arr.strides
    )
    out_array(out, arr.shape, np.uint16, apart_from=None if in_place else {"depth": arr})
    if out is None:
        out = np.empty(arr.shape, dtype=np.uint16)
    gather(table, arr, out)
    return out


def depth_mm(
    depth: npt.NDArray[np.uint16],
    depth_format: DepthFormat,
    registration: Registration | None = None,
) -> npt.NDArray[np.uint16]:
    """Depth in millimetres (uint16, 0 = no reading) from any unpacked frame's values: the
    one conversion the sinks, writers and filters use. Millimetres pass through; TUM's
    fifths of a millimetre are rounded to the nearest millimetre; raw disparity goes
    through ``to_mm`` for ``registration`` (the source's, else the default); 10-bit raw is
    11-bit halved."""
    if depth_format in (DepthFormat.MM, DepthFormat.REGISTERED):
        return depth
    if depth_format is DepthFormat.TUM:
        return ((depth.astype(np.uint32) + 2) // 5).astype(np.uint16)
    if depth_format is DepthFormat.RAW_10BIT:
        raw11 = np.where(depth < RAW_10BIT_INVALID, depth * 2, RAW_11BIT_INVALID)
        depth = raw11.astype(np.uint16)
    elif depth_format is not DepthFormat.RAW_11BIT:
        raise ValueError(f"expected unpacked depth, got {depth_format.name}")
    return _raw_to_mm(depth_2d(np.ascontiguousarray(depth)), registration, None)


def readings_mm(mm: npt.NDArray[np.uint16], depth_format: DepthFormat) -> npt.NDArray[np.uint16]:
    """``depth_mm``'s millimetres of a frame of ``depth_format`` with only readings kept:
    raw depth that libfreenect's table puts at its 10000 mm ceiling (at or past 10 m, no
    distance) becomes 0, as ``to_metres`` makes it NaN. What a point cloud holds; depth
    images keep FREENECT_DEPTH_MM's values."""
    if depth_format.is_metric:
        return mm
    return np.where(mm >= MM_MAX, np.uint16(0), mm).astype(np.uint16, copy=False)


def register(
    depth: npt.NDArray[np.uint16],
    registration: Registration | None = None,
    *,
    depth_format: DepthFormat | str | int | None = None,
    out: npt.NDArray[np.uint16] | None = None,
) -> npt.NDArray[np.uint16]:
    """(480, 640) depth to millimetres aligned to the colour image, bit for bit
    libfreenect's FREENECT_DEPTH_REGISTERED: each pixel moves by its table position and a
    depth-dependent shift; where several land on one pixel the nearest wins; pixels nothing
    lands on are 0. ``depth_format`` is what the values count, as for ``to_mm``: raw
    11-bit, or millimetres (``"mm"``, FREENECT_DEPTH_MM's, placed as the raw value that
    gives them); without it they are raw 11-bit, and a frame holding more than 11 bits is
    refused."""
    arr = check_frame(depth)
    t = tables(registration)
    placed_mm = _placed_mm(depth_format, arr, t)
    out_array(out, arr.shape, np.uint16, apart_from={"depth": arr})
    if out is None:
        out = np.empty(arr.shape, dtype=np.uint16)
    flat = out.reshape(-1)
    kernels = _kernels()
    if kernels is not None:
        kernels.register(placed_mm, arr, t.target_x, t.registered_row, t.shift, flat)
        return out
    _, mm, target = _targets_numpy(placed_mm, arr, t, t.registered_row)
    flat.fill(NOTHING)  # above any placed value (< 10000): the minimum keeps the nearest
    np.minimum.at(flat, target, mm)
    flat[flat == NOTHING] = 0
    return out


@cache
def _placed_mm_of_mm() -> npt.NDArray[np.uint16]:
    """``placed_mm`` for millimetre input: the value itself, NOTHING for no reading (0) and
    for 10000 and more (past libfreenect's shift table)."""
    table = np.arange(65536, dtype=np.uint16)
    table[0] = NOTHING
    table[MM_MAX:] = NOTHING
    table.flags.writeable = False
    return table


def _placed_mm(
    depth_format: DepthFormat | str | int | None,
    depth: npt.NDArray[np.uint16],
    t: RegistrationTables,
) -> npt.NDArray[np.uint16]:
    """The millimetres registration places for each value of ``depth``, a frame of
    ``depth_format``: raw 11-bit (None: raw, checked as ``to_mm`` checks it, so millimetres
    are never read as disparity) or millimetres; other formats are refused."""
    fmt = depth_format_or_raw(depth_format, depth)
    if fmt is DepthFormat.RAW_11BIT:
        return t.placed_mm
    if fmt is DepthFormat.MM:
        return _placed_mm_of_mm()
    raise ValueError(
        f"expected depth_format RAW_11BIT or MM (depth in the depth camera's pixels), "
        f"got {fmt.name}"
    )


def map_rgb_to_depth(
    depth: npt.NDArray[np.uint16],
    video: npt.NDArray[np.uint8],
    registration: Registration | None = None,
    *,
    depth_format: DepthFormat | str | int | None = None,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """The colour of each depth pixel: (480, 640, 3) uint8, libfreenect's
    ``freenect_map_rgb_to_depth`` (the inverse of registration). Each depth pixel takes the
    colour pixel it lands on; pixels with no depth, landing outside the colour image, or
    hidden there behind a nearer one are black (libfreenect leaves those untouched).
    ``depth`` is raw 11-bit, or millimetres (FREENECT_DEPTH_MM) with ``depth_format="mm"``
    (without it, raw and checked as ``register`` checks it); ``video`` is the (480, 640, 3)
    RGB image."""
    arr = check_frame(depth)
    t = tables(registration)
    placed_mm = _placed_mm(depth_format, arr, t)
    shape = (HEIGHT, WIDTH, 3)
    if not isinstance(video, np.ndarray) or video.shape != shape or video.dtype != np.uint8:
        got = (video.shape, video.dtype) if isinstance(video, np.ndarray) else type(video)
        raise ValueError(f"expected video as {shape} uint8 RGB, got {got}")
    out_array(out, shape, np.uint8, apart_from={"depth": arr, "video": video})
    if out is None:
        out = np.empty(shape, dtype=np.uint8)
    kernels = _kernels()
    if kernels is not None:
        nearest = _scratch_buffer("nearest", np.uint16)
        source = _scratch_buffer("source", np.int32)
        flat_video = video.reshape(-1)  # a view unless video is strided
        kernels.map_rgb_to_depth(
            placed_mm,
            arr,
            t.target_x,
            t.rgb_row,
            t.shift,
            flat_video,
            nearest,
            source,
            out.reshape(-1),
        )
        return out
    index, mm, target = _targets_numpy(placed_mm, arr, t, t.rgb_row)
    nearest = np.full(PIXELS, NOTHING, dtype=np.uint16)
    np.minimum.at(nearest, target, mm)
    seen = mm <= nearest[target]
    out.fill(0)
    out.reshape(-1, 3)[index[seen]] = video.reshape(-1, 3)[target[seen]]
    return out


#: The default registration (``Registration.default()``).
DEFAULT_REGISTRATION = Registration.default()

__all__ = [
    "DEFAULT_REGISTRATION",
    "RegInfo",
    "RegPadInfo",
    "Registration",
    "RegistrationTables",
    "ZeroPlaneInfo",
    "backend",
    "check_frame",
    "map_rgb_to_depth",
    "metres_table",
    "readings_mm",
    "register",
    "tables",
    "to_mm",
]
