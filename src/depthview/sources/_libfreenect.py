"""The only module that loads libfreenect (via ctypes): library lookup, C types, prototypes.

Which library: ``$DEPTHVIEW_LIBFREENECT`` (a path; tests point it at Debian's fakenect) or
the system's ``libfreenect.so.0.5`` / ``libfreenect.dylib``. Calls a build lacks (fakenect
has no flags, IR brightness or device attributes) are left as None so the device layer
can refuse them with ``UnsupportedControl`` instead of crashing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .. import registration as params
from ..errors import SourceError

ENV_LIBRARY = "DEPTHVIEW_LIBFREENECT"
INSTALL_HINT = (
    "install libfreenect: `sudo apt install libfreenect0.5` on Debian/Ubuntu, "
    "`brew install libfreenect` on macOS (or set DEPTHVIEW_LIBFREENECT=/path/to/libfreenect.so)"
)

RESOLUTION_MEDIUM = 1
DEVICE_MOTOR = 0x01
DEVICE_CAMERA = 0x02

#: libfreenect's ``freenect_flag`` values, keyed by ``base.CAMERA_FLAGS`` names.
FLAGS = {
    "auto_exposure": 1 << 14,
    "auto_white_balance": 1 << 1,
    "raw_color": 1 << 4,
    "mirror_depth": 1 << 16,
    "mirror_video": 1 << 17,
    "near_mode": 1 << 18,
}


class FrameMode(ctypes.Structure):
    """``freenect_frame_mode`` (format is a union of video/depth format, both int32)."""

    _fields_ = [
        ("reserved", ctypes.c_uint32),
        ("resolution", ctypes.c_int32),
        ("format", ctypes.c_int32),
        ("bytes", ctypes.c_int32),
        ("width", ctypes.c_int16),
        ("height", ctypes.c_int16),
        ("data_bits_per_pixel", ctypes.c_int8),
        ("padding_bits_per_pixel", ctypes.c_int8),
        ("framerate", ctypes.c_int8),
        ("is_valid", ctypes.c_int8),
    ]


class RawTiltState(ctypes.Structure):
    """``freenect_raw_tilt_state``."""

    _fields_ = [
        ("accelerometer_x", ctypes.c_int16),
        ("accelerometer_y", ctypes.c_int16),
        ("accelerometer_z", ctypes.c_int16),
        ("tilt_angle", ctypes.c_int8),
        ("tilt_status", ctypes.c_int32),
    ]


class DeviceAttributes(ctypes.Structure):
    """``struct freenect_device_attributes`` (a linked list)."""


DeviceAttributes._fields_ = [
    ("next", ctypes.POINTER(DeviceAttributes)),
    ("camera_serial", ctypes.c_char_p),
]


class RegInfo(ctypes.Structure):
    """``freenect_reg_info`` (int32 fields in the Kinect's wire order)."""

    _fields_ = [
        (name, ctypes.c_int32)
        for name in (
            "dx_center",
            "ax",
            "bx",
            "cx",
            "dx",
            "dx_start",
            "ay",
            "by",
            "cy",
            "dy",
            "dy_start",
            "dx_beta_start",
            "dy_beta_start",
            "rollout_blank",
            "rollout_size",
            "dx_beta_inc",
            "dy_beta_inc",
            "dxdx_start",
            "dxdy_start",
            "dydx_start",
            "dydy_start",
            "dxdxdx_start",
            "dydxdx_start",
            "dxdxdy_start",
            "dydxdy_start",
            "back_comp1",
            "dydydx_start",
            "back_comp2",
            "dydydy_start",
        )
    ]


class RegPadInfo(ctypes.Structure):
    """``freenect_reg_pad_info``."""

    _fields_ = [(n, ctypes.c_uint16) for n in ("start_lines", "end_lines", "cropping_lines")]


class ZeroPlaneInfo(ctypes.Structure):
    """``freenect_zero_plane_info``."""

    _fields_ = [
        (n, ctypes.c_float)
        for n in (
            "dcmos_emitter_dist",
            "dcmos_rcmos_dist",
            "reference_distance",
            "reference_pixel_size",
        )
    ]


class RegistrationStruct(ctypes.Structure):
    """``freenect_registration``: the parameters, then libfreenect's three tables (malloc'd
    by ``freenect_copy_registration``, freed by ``freenect_destroy_registration``)."""

    _fields_ = [
        ("reg_info", RegInfo),
        ("reg_pad_info", RegPadInfo),
        ("zero_plane_info", ZeroPlaneInfo),
        ("const_shift", ctypes.c_double),
        ("raw_to_mm_shift", ctypes.POINTER(ctypes.c_uint16)),
        ("depth_to_rgb_shift", ctypes.POINTER(ctypes.c_int32)),
        ("registration_table", ctypes.POINTER(ctypes.c_int32 * 2)),
    ]


class Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


#: ``void (*)(freenect_device *dev, void *data, uint32_t timestamp)``, depth and video alike.
FrameCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32)
#: ``void (*)(freenect_context *ctx, freenect_loglevel level, const char *msg)``.
LogCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
#: ``freenect_loglevel``: fatal only, and errors too.
LOG_FATAL = 0
LOG_ERROR = 1

_vp = ctypes.c_void_p
_PROTOTYPES: dict[str, tuple[Any, list[Any]]] = {
    "freenect_init": (ctypes.c_int, [ctypes.POINTER(_vp), _vp]),
    "freenect_shutdown": (ctypes.c_int, [_vp]),
    "freenect_select_subdevices": (None, [_vp, ctypes.c_int]),
    "freenect_num_devices": (ctypes.c_int, [_vp]),
    "freenect_open_device": (ctypes.c_int, [_vp, ctypes.POINTER(_vp), ctypes.c_int]),
    "freenect_open_device_by_camera_serial": (
        ctypes.c_int,
        [_vp, ctypes.POINTER(_vp), ctypes.c_char_p],
    ),
    "freenect_close_device": (ctypes.c_int, [_vp]),
    "freenect_find_depth_mode": (FrameMode, [ctypes.c_int, ctypes.c_int]),
    "freenect_find_video_mode": (FrameMode, [ctypes.c_int, ctypes.c_int]),
    "freenect_set_depth_mode": (ctypes.c_int, [_vp, FrameMode]),
    "freenect_set_video_mode": (ctypes.c_int, [_vp, FrameMode]),
    "freenect_set_depth_callback": (None, [_vp, FrameCallback]),
    "freenect_set_video_callback": (None, [_vp, FrameCallback]),
    "freenect_start_depth": (ctypes.c_int, [_vp]),
    "freenect_start_video": (ctypes.c_int, [_vp]),
    "freenect_stop_depth": (ctypes.c_int, [_vp]),
    "freenect_stop_video": (ctypes.c_int, [_vp]),
    "freenect_process_events_timeout": (ctypes.c_int, [_vp, ctypes.POINTER(Timeval)]),
    "freenect_update_tilt_state": (ctypes.c_int, [_vp]),
    "freenect_get_tilt_state": (ctypes.POINTER(RawTiltState), [_vp]),
    "freenect_get_tilt_degs": (ctypes.c_double, [ctypes.POINTER(RawTiltState)]),
    "freenect_get_mks_accel": (
        None,
        [ctypes.POINTER(RawTiltState)] + [ctypes.POINTER(ctypes.c_double)] * 3,
    ),
    "freenect_set_tilt_degs": (ctypes.c_int, [_vp, ctypes.c_double]),
    "freenect_set_led": (ctypes.c_int, [_vp, ctypes.c_int]),
    "freenect_set_log_level": (None, [_vp, ctypes.c_int]),
    "freenect_set_log_callback": (None, [_vp, LogCallback]),
    # Not in every build (fakenect lacks these):
    "freenect_set_flag": (ctypes.c_int, [_vp, ctypes.c_int, ctypes.c_int]),
    "freenect_set_ir_brightness": (ctypes.c_int, [_vp, ctypes.c_uint16]),
    "freenect_get_ir_brightness": (ctypes.c_int, [_vp]),
    "freenect_list_device_attributes": (
        ctypes.c_int,
        [_vp, ctypes.POINTER(ctypes.POINTER(DeviceAttributes))],
    ),
    "freenect_free_device_attributes": (None, [ctypes.POINTER(DeviceAttributes)]),
    "freenect_copy_registration": (RegistrationStruct, [_vp]),
    "freenect_destroy_registration": (ctypes.c_int, [ctypes.POINTER(RegistrationStruct)]),
}
REQUIRED = (
    "freenect_init",
    "freenect_shutdown",
    "freenect_num_devices",
    "freenect_open_device",
    "freenect_close_device",
    "freenect_find_depth_mode",
    "freenect_set_depth_mode",
    "freenect_set_depth_callback",
    "freenect_start_depth",
    "freenect_stop_depth",
    "freenect_process_events_timeout",
)


@dataclass
class Library:
    """A loaded libfreenect: ``fn(name)`` is the prototyped function or None if absent."""

    path: str
    cdll: ctypes.CDLL
    functions: dict[str, Any]
    is_fakenect: bool

    def fn(self, name: str) -> Any:
        return self.functions.get(name)

    def has(self, name: str) -> bool:
        return name in self.functions


def candidates() -> list[str]:
    """Where to look for libfreenect, most specific first."""
    env = os.environ.get(ENV_LIBRARY)
    if env:
        return [env]
    found = ctypes.util.find_library("freenect")
    names = [found] if found else []
    if sys.platform == "darwin":
        names += ["/opt/homebrew/lib/libfreenect.dylib", "/usr/local/lib/libfreenect.dylib"]
    else:
        names += ["libfreenect.so.0.5", "libfreenect.so"]
    return names


_loaded: Library | None = None


def load() -> Library:
    """Load libfreenect once per process; ``SourceError`` saying how to install it if absent."""
    global _loaded
    if _loaded is not None:
        return _loaded
    errors = []
    for name in candidates():
        try:
            cdll = ctypes.CDLL(name)
        except OSError as exc:
            errors.append(f"{name}: {exc}")
            continue
        functions = {}
        for fname, (restype, argtypes) in _PROTOTYPES.items():
            if hasattr(cdll, fname):
                f = getattr(cdll, fname)
                f.restype = restype
                f.argtypes = argtypes
                functions[fname] = f
        missing = [f for f in REQUIRED if f not in functions]
        if missing:
            errors.append(f"{name}: lacks {', '.join(missing)}")
            continue
        is_fake = "fakenect" in str(Path(name)) or not hasattr(cdll, "freenect_set_flag")
        _loaded = Library(name, cdll, functions, is_fake)
        return _loaded
    detail = "; ".join(errors) if errors else "not found"
    if os.environ.get(ENV_LIBRARY):
        raise SourceError(
            f"{ENV_LIBRARY}={os.environ[ENV_LIBRARY]}: expected a libfreenect library, got {detail}"
        )
    raise SourceError(f"libfreenect not found ({detail}); {INSTALL_HINT}")


def check_fakenect_env(lib: Library) -> None:
    """fakenect calls exit(1) when FAKENECT_PATH is unset or lacks INDEX.txt: refuse first."""
    if not lib.is_fakenect or "fakenect" not in lib.path:
        return
    path = os.environ.get("FAKENECT_PATH")
    if not path or not (Path(path) / "INDEX.txt").is_file():
        raise SourceError(
            f"{lib.path} is fakenect: expected FAKENECT_PATH to name a recording folder "
            f"with INDEX.txt, got {path!r}"
        )


def registration_from_struct(reg: RegistrationStruct) -> params.Registration | None:
    """The parameter fields of a ``freenect_registration`` as a ``Registration``; None when
    they are unset (a zero reference distance, as when the device could not be read)."""
    zp = reg.zero_plane_info
    if not zp.reference_distance > 0 or not zp.reference_pixel_size > 0:
        return None

    def same_fields(struct: ctypes.Structure, kind: Any) -> Any:
        return kind(**{f.name: getattr(struct, f.name) for f in fields(kind)})

    return params.Registration(
        same_fields(reg.reg_info, params.RegInfo),
        same_fields(reg.reg_pad_info, params.RegPadInfo),
        same_fields(zp, params.ZeroPlaneInfo),
        reg.const_shift,
    )


def copy_registration(lib: Library, dev: Any) -> params.Registration | None:
    """The open device's registration parameters (``freenect_copy_registration``, whose
    tables are freed at once: depthview builds its own), or None when the library lacks
    the call (fakenect) or the device reported none."""
    copy = lib.fn("freenect_copy_registration")
    if copy is None:
        return None
    reg = copy(dev)
    try:
        return registration_from_struct(reg)
    finally:
        destroy = lib.fn("freenect_destroy_registration")
        if destroy is not None:
            destroy(ctypes.byref(reg))
