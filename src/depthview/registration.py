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
    colours = dv.map_rgb_to_depth(frame.depth, frame.video, reg)  # colour of each depth pixel

Tables are built once per registration (cached). With the ``fast`` extra the per-frame
loops are compiled (numba) and allocate nothing when ``out=`` is given; without it numpy
does the same arithmetic. Where the C code's behaviour is undefined (a target outside the
frame, a millimetre value past its 10000-entry shift table) nothing is written.
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import reprlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ._checks import depth_2d, out_array
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
from .colorize import gather
from .errors import SourceError
from .frame import DepthFormat

if TYPE_CHECKING:
    from .geometry import Intrinsics

DEFAULT_RESOURCE = "kinect-v1-registration.json"
INT32 = (-(2**31), 2**31 - 1)
UINT16 = (0, 65535)


def _number(value: object, kind: str, name: str) -> int | float:
    """``value`` as an int of ``kind`` ("int32", "uint16") or a finite float ("float32",
    rounded as the C field stores it, or "double"); ValueError "expected ..., got ..."
    naming ``name`` otherwise."""
    number: float | None = None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        with contextlib.suppress(OverflowError):  # an int beyond any float
            number = float(value)
    if kind in ("int32", "uint16"):
        lo, hi = INT32 if kind == "int32" else UINT16
        if number is not None and number.is_integer() and lo <= number <= hi:
            return int(number)
        got = reprlib.repr(value)
        raise ValueError(f"expected {name} as an integer in {lo}..{hi} ({kind}), got {got}")
    if number is not None and kind == "float32":
        with np.errstate(over="ignore"):
            number = float(np.float32(number))
    if number is not None and math.isfinite(number):
        return number
    raise ValueError(f"expected {name} as a finite number ({kind}), got {reprlib.repr(value)}")


def _check_fields(obj: object, prefix: str, kind: str) -> None:
    """Validate (and for float32, round) every field of a frozen dataclass in place."""
    for f in fields(obj):  # type: ignore[arg-type]
        value = _number(getattr(obj, f.name), kind, f"{prefix}.{f.name}")
        object.__setattr__(obj, f.name, value)


@dataclass(frozen=True, slots=True)
class RegInfo:
    """libfreenect's ``freenect_reg_info``: the polynomial that maps a depth pixel to the
    colour image, as the Kinect reports it (int32 fixed point). The struct's fields the
    mapping does not use (``dx_center``, ``rollout_*``, ``back_comp*``) are left out, as
    device.json leaves them out; ``dx_beta_*``/``dy_beta_*`` are kept for the file."""

    ax: int
    bx: int
    cx: int
    dx: int
    ay: int
    by: int
    cy: int
    dy: int
    dx_start: int
    dy_start: int
    dx_beta_start: int
    dy_beta_start: int
    dx_beta_inc: int
    dy_beta_inc: int
    dxdx_start: int
    dxdy_start: int
    dydx_start: int
    dydy_start: int
    dxdxdx_start: int
    dydxdx_start: int
    dxdxdy_start: int
    dydxdy_start: int
    dydydx_start: int
    dydydy_start: int

    def __post_init__(self) -> None:
        _check_fields(self, "reg_info", "int32")


@dataclass(frozen=True, slots=True)
class RegPadInfo:
    """libfreenect's ``freenect_reg_pad_info`` (uint16 lines; 0 on every Kinect seen)."""

    start_lines: int = 0
    end_lines: int = 0
    cropping_lines: int = 0

    def __post_init__(self) -> None:
        _check_fields(self, "reg_pad_info", "uint16")


@dataclass(frozen=True, slots=True)
class ZeroPlaneInfo:
    """libfreenect's ``freenect_zero_plane_info`` (C floats: values are rounded to float32).

    ``dcmos_emitter_dist`` and ``dcmos_rcmos_dist``: IR camera to IR projector and to colour
    camera, cm; ``reference_distance``: the zero plane's distance, mm; ``reference_pixel_size``:
    one pixel of the 1280-wide sensor on that plane, mm. device.json spells the first two
    ``dcmos_emitter_distance`` and ``dcmos_rcmos_distance``.
    """

    dcmos_emitter_dist: float
    dcmos_rcmos_dist: float
    reference_distance: float
    reference_pixel_size: float

    def __post_init__(self) -> None:
        _check_fields(self, "zero_plane_info", "float32")
        for name in ("reference_distance", "reference_pixel_size"):
            if not getattr(self, name) > 0:
                raise ValueError(f"expected zero_plane_info.{name} > 0, got {getattr(self, name)}")


#: device.json's keys for ZeroPlaneInfo's fields (fakenect's spelling).
ZERO_PLANE_JSON = {
    "dcmos_emitter_dist": "dcmos_emitter_distance",
    "dcmos_rcmos_dist": "dcmos_rcmos_distance",
    "reference_distance": "reference_distance",
    "reference_pixel_size": "reference_pixel_size",
}


@dataclass(frozen=True, slots=True)
class Registration:
    """One Kinect's registration parameters (libfreenect's ``freenect_registration`` without
    its tables). Frozen and hashable: tables are cached per registration."""

    reg_info: RegInfo
    reg_pad_info: RegPadInfo
    zero_plane_info: ZeroPlaneInfo
    const_shift: float

    def __post_init__(self) -> None:
        for name, kind in (
            ("reg_info", RegInfo),
            ("reg_pad_info", RegPadInfo),
            ("zero_plane_info", ZeroPlaneInfo),
        ):
            if not isinstance(getattr(self, name), kind):
                got = type(getattr(self, name)).__name__
                raise TypeError(f"expected {name} as a {kind.__name__}, got {got}")
        object.__setattr__(self, "const_shift", _number(self.const_shift, "double", "const_shift"))

    # -- device.json ----------------------------------------------------------------------
    @classmethod
    def from_dict(cls, layout: Mapping[str, Any], *, where: str = "registration") -> Registration:
        """From device.json's layout (``pad_info`` and ``zero_plane_info`` inside
        ``reg_info``); ``SourceError`` naming ``where`` and the missing or invalid key."""

        def get(path: str, kind: str) -> int | float:
            node: Any = layout
            for part in path.split("."):
                if not isinstance(node, Mapping):
                    raise SourceError(
                        f"{where}: expected an object holding {path}, got {type(node).__name__}"
                    )
                if part not in node:
                    raise SourceError(f"{where}: expected key {path}, got none")
                node = node[part]
            try:
                return _number(node, kind, path)
            except ValueError as exc:
                raise SourceError(f"{where}: {exc}") from None

        reg = {f.name: get(f"reg_info.{f.name}", "int32") for f in fields(RegInfo)}
        pad = {f.name: get(f"reg_info.pad_info.{f.name}", "uint16") for f in fields(RegPadInfo)}
        zero = {
            name: get(f"reg_info.zero_plane_info.{key}", "float32")
            for name, key in ZERO_PLANE_JSON.items()
        }
        try:
            return cls(
                RegInfo(**reg),  # type: ignore[arg-type]
                RegPadInfo(**pad),  # type: ignore[arg-type]
                ZeroPlaneInfo(**zero),
                get("const_shift", "double"),
            )
        except ValueError as exc:
            raise SourceError(f"{where}: {exc}") from None

    def as_dict(self) -> dict[str, Any]:
        """device.json's layout, as libfreenect's fakenect-record writes it."""
        reg: dict[str, Any] = {f.name: getattr(self.reg_info, f.name) for f in fields(RegInfo)}
        reg["pad_info"] = {f.name: getattr(self.reg_pad_info, f.name) for f in fields(RegPadInfo)}
        reg["zero_plane_info"] = {
            key: getattr(self.zero_plane_info, name) for name, key in ZERO_PLANE_JSON.items()
        }
        return {"reg_info": reg, "const_shift": self.const_shift}

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Registration:
        """Read a device.json (libfreenect >= 0.6's layout); ``SourceError`` naming the file
        and the missing or invalid key for a bad one."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise SourceError(f"{path}: cannot read the registration: {reason}") from None
        try:
            layout = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"{path}: expected JSON, got {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        if not isinstance(layout, dict):
            raise SourceError(f"{path}: expected a JSON object, got {type(layout).__name__}")
        return cls.from_dict(layout, where=str(path))

    def to_json(self) -> str:
        """device.json text in libfreenect's layout, which fakenect (libfreenect >= 0.6) reads
        back to replay registered and millimetre depth; written as its recorder writes it
        (whole numbers without a decimal point, no newline at the end), so a recording's
        device.json read and written again is the same file."""
        return json.dumps(_whole_numbers_as_ints(self.as_dict()), indent=4)

    @classmethod
    def default(cls) -> Registration:
        """One real Kinect v1's factory parameters (December 2017, from OpenISS's
        fakenect test recording; see ``depthview/data/ATTRIBUTION.md``), for sources that
        carry none. Another Kinect's differ by a few pixels of alignment."""
        return _default()

    # -- geometry -------------------------------------------------------------------------
    def depth_intrinsics(self) -> Intrinsics:
        """Pinhole intrinsics of the 640x480 depth image as ``freenect_camera_to_world`` uses
        them: focal length reference_distance / (2 * reference_pixel_size) pixels, centre
        (320, 240)."""
        from .geometry import Intrinsics

        zp = self.zero_plane_info
        focal = zp.reference_distance / (2.0 * zp.reference_pixel_size)
        return Intrinsics(fx=focal, fy=focal, cx=WIDTH / 2, cy=HEIGHT / 2)


def _whole_numbers_as_ints(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _whole_numbers_as_ints(v) for k, v in value.items()}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@cache
def _default() -> Registration:
    source = resources.files("depthview") / "data" / DEFAULT_RESOURCE
    return Registration.from_dict(json.loads(source.read_text()), where=str(source))


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
        _KERNELS = None
        if not os.environ.get("DEPTHVIEW_NO_NUMBA"):
            try:
                from . import _registration_numba

                _KERNELS = _registration_numba
            except ImportError:
                pass
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
    out: npt.NDArray[np.uint16] | None = None,
) -> npt.NDArray[np.uint16]:
    """Raw 11-bit depth (any (H, W)) to millimetres exactly as libfreenect's
    FREENECT_DEPTH_MM gives them: its table, 0 for no reading (2047, and values above
    2047, which are not 11-bit), at most 10000 (its ceiling). One table lookup."""
    arr = depth_2d(depth)
    table = tables(registration).mm
    out_array(out, arr.shape, np.uint16)
    if out is None:
        out = np.empty(arr.shape, dtype=np.uint16)
    gather(table, arr, out)
    return out


def register(
    depth: npt.NDArray[np.uint16],
    registration: Registration | None = None,
    *,
    out: npt.NDArray[np.uint16] | None = None,
) -> npt.NDArray[np.uint16]:
    """Raw 11-bit (480, 640) depth to millimetres aligned to the colour image, bit for bit
    libfreenect's FREENECT_DEPTH_REGISTERED: each pixel moves by its table position and a
    depth-dependent shift; where several land on one pixel the nearest wins; pixels nothing
    lands on are 0."""
    arr = check_frame(depth)
    t = tables(registration)
    out_array(out, arr.shape, np.uint16)
    if out is None:
        out = np.empty(arr.shape, dtype=np.uint16)
    flat = out.reshape(-1)
    kernels = _kernels()
    if kernels is not None:
        kernels.register(t.placed_mm, arr, t.target_x, t.registered_row, t.shift, flat)
        return out
    _, mm, target = _targets_numpy(t.placed_mm, arr, t, t.registered_row)
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


def map_rgb_to_depth(
    depth: npt.NDArray[np.uint16],
    video: npt.NDArray[np.uint8],
    registration: Registration | None = None,
    *,
    depth_format: DepthFormat | str | int = DepthFormat.RAW_11BIT,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """The colour of each depth pixel: (480, 640, 3) uint8, libfreenect's
    ``freenect_map_rgb_to_depth`` (the inverse of registration). Each depth pixel takes the
    colour pixel it lands on; pixels with no depth, landing outside the colour image, or
    hidden there behind a nearer one are black (libfreenect leaves those untouched).
    ``depth`` is raw 11-bit, or millimetres (FREENECT_DEPTH_MM) with ``depth_format="mm"``;
    ``video`` is the (480, 640, 3) RGB image."""
    arr = check_frame(depth)
    fmt = DepthFormat.parse(depth_format)
    t = tables(registration)
    if fmt is DepthFormat.RAW_11BIT:
        placed_mm = t.placed_mm
    elif fmt is DepthFormat.MM:
        placed_mm = _placed_mm_of_mm()
    else:
        raise ValueError(
            f"expected depth_format RAW_11BIT or MM (depth in the depth camera's pixels), "
            f"got {fmt.name}"
        )
    shape = (HEIGHT, WIDTH, 3)
    if not isinstance(video, np.ndarray) or video.shape != shape or video.dtype != np.uint8:
        got = (video.shape, video.dtype) if isinstance(video, np.ndarray) else type(video)
        raise ValueError(f"expected video as {shape} uint8 RGB, got {got}")
    out_array(out, shape, np.uint8)
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
    "register",
    "tables",
    "to_mm",
]
