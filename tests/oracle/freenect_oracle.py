"""libfreenect's own registration code, built at test time and called through ctypes.

The oracle for depthview's registration: ``src/registration.c`` from the source of Debian's
libfreenect (``scripts/libfreenect_source.sh`` fetches it with apt into ``.cache/``, which
git ignores), compiled with ``registration_harness.c`` (depthview's own) into a shared
library cached under ``.cache/libfreenect-oracle/``. Used by the tests and the benchmark.
Nothing here falls back or skips: when the oracle cannot be built, ``OracleUnavailable``
says what is missing and how to get it.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from _helpers_kinect_mm import CEILING_MM, past_uint16

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
SOURCE = CACHE / "libfreenect-src"
HARNESS = Path(__file__).with_name("registration_harness.c")
FETCH = ROOT / "scripts" / "libfreenect_source.sh"
# libfreenect's own CMake flags (-Wall -O2), as Debian builds it.
CFLAGS = ("-O2", "-Wall", "-fPIC", "-shared")
HEIGHT, WIDTH = 480, 640
PIXELS = HEIGHT * WIDTH

_u16p = ctypes.POINTER(ctypes.c_uint16)
_u8p = ctypes.POINTER(ctypes.c_uint8)
_i32p = ctypes.POINTER(ctypes.c_int32)
_f64p = ctypes.POINTER(ctypes.c_double)


class OracleUnavailable(RuntimeError):
    """libfreenect's source or a C compiler is missing; the message says how to fix it."""


def source_dir() -> Path:
    """The unpacked libfreenect source, fetched by scripts/libfreenect_source.sh if needed."""
    if not (SOURCE / "src" / "registration.c").is_file():
        proc = subprocess.run(
            ["bash", str(FETCH), str(SOURCE)], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise OracleUnavailable(
                f"cannot fetch libfreenect's source for the registration oracle "
                f"({FETCH.relative_to(ROOT)} exited {proc.returncode}):\n{proc.stderr.strip()}"
            )
    return SOURCE


def _usb_cflags() -> list[str]:
    """libusb's include flags: freenect_internal.h includes <libusb.h>."""
    if shutil.which("pkg-config"):
        proc = subprocess.run(
            ["pkg-config", "--cflags", "libusb-1.0"], capture_output=True, text=True, check=False
        )
        if proc.returncode == 0:
            return proc.stdout.split()
    if Path("/usr/include/libusb-1.0/libusb.h").is_file():
        return ["-I/usr/include/libusb-1.0"]
    raise OracleUnavailable(
        "libusb's headers are missing (libfreenect's internal header includes <libusb.h>): "
        "sudo apt-get install libusb-1.0-0-dev"
    )


def build() -> Path:
    """Compile the oracle once per (harness, registration.c, flags); return the library."""
    src = source_dir()
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise OracleUnavailable(f"no C compiler ({cc}): sudo apt-get install gcc")
    flags = [*CFLAGS, f"-I{src / 'include'}", f"-I{src / 'src'}", *_usb_cflags()]
    sources = [src / "src" / "registration.c", HARNESS]
    digest = hashlib.sha256(" ".join([cc, *flags]).encode())
    for path in sources:
        digest.update(path.read_bytes())
    out = CACHE / "libfreenect-oracle" / f"registration-{digest.hexdigest()[:16]}.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    proc = subprocess.run(
        [cc, *flags, *map(str, sources), "-o", str(tmp), "-lm"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise OracleUnavailable(f"compiling the registration oracle failed:\n{proc.stderr}")
    tmp.replace(out)  # atomic: a concurrent build never sees half a library
    return out


def _flatten(layout: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in layout.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = float(value)
    return flat


def _ptr(array: np.ndarray, kind: Any) -> Any:
    assert array.flags.c_contiguous
    return array.ctypes.data_as(kind)


class Oracle:
    """One libfreenect device's registration, set from a device.json layout."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or build()
        lib = ctypes.CDLL(str(self.path))
        lib.dvh_fields.restype = ctypes.c_char_p
        lib.dvh_device.restype = ctypes.c_void_p
        lib.dvh_registration_layout.argtypes = [ctypes.POINTER(ctypes.c_size_t)]
        lib.dvh_load.argtypes = [_f64p]
        lib.dvh_tables.argtypes = [_u16p, _i32p, _i32p]
        lib.dvh_pack.argtypes = [_u16p, _u8p]
        lib.dvh_depth_mm.argtypes = [_u16p, _u16p]
        lib.dvh_registered.argtypes = [_u16p, _u16p]
        lib.dvh_registered_packed.argtypes = [_u8p, _u16p]
        lib.dvh_map_rgb_to_depth.argtypes = [_u16p, _u8p, _u8p]
        lib.dvh_camera_to_world.argtypes = [ctypes.c_int] * 3 + [_f64p, _f64p]
        self.lib = lib
        self.fields: list[str] = lib.dvh_fields().decode().rstrip(",").split(",")

    def device(self) -> int:
        """The harness's ``freenect_device *``, for the installed libfreenect's calls."""
        return int(self.lib.dvh_device())

    def registration_layout(self) -> dict[str, int]:
        """sizeof(freenect_registration) and its members' offsets, as the C compiler has them."""
        out = (ctypes.c_size_t * 7)()
        self.lib.dvh_registration_layout(out)
        names = ["size", "reg_pad_info", "zero_plane_info", "const_shift"]
        names += ["raw_to_mm_shift", "depth_to_rgb_shift", "registration_table"]
        return dict(zip(names, out, strict=True))

    def load(self, layout: Mapping[str, Any]) -> None:
        """Set the parameters from a parsed device.json, as fakenect does, and build tables."""
        flat = _flatten(layout)
        if set(flat) != set(self.fields):
            raise ValueError(f"expected keys {sorted(self.fields)}, got {sorted(flat)}")
        values = np.array([flat[k] for k in self.fields], dtype=np.float64)
        self.lib.dvh_load(_ptr(values, _f64p))

    def tables(
        self,
    ) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """raw_to_mm_shift (2048), depth_to_rgb_shift (10000), registration_table (480, 640, 2)."""
        raw = np.empty(2048, dtype=np.uint16)
        shift = np.empty(10000, dtype=np.int32)
        table = np.empty((HEIGHT, WIDTH, 2), dtype=np.int32)
        self.lib.dvh_tables(_ptr(raw, _u16p), _ptr(shift, _i32p), _ptr(table, _i32p))
        return raw, shift, table

    @staticmethod
    def _frame(depth: np.ndarray) -> np.ndarray:
        assert depth.shape == (HEIGHT, WIDTH) and depth.dtype == np.uint16
        assert int(depth.max()) <= 2047, "the packed stream carries 11 bits"
        return np.ascontiguousarray(depth)

    def pack(self, depth: np.ndarray) -> npt.NDArray[np.uint8]:
        """The 11-bit packed stream the device sends for this frame."""
        packed = np.empty(PIXELS * 11 // 8, dtype=np.uint8)
        self.lib.dvh_pack(_ptr(self._frame(depth), _u16p), _ptr(packed, _u8p))
        return packed

    def depth_mm(self, depth: np.ndarray) -> npt.NDArray[np.uint16]:
        """FREENECT_DEPTH_MM."""
        out = np.empty((HEIGHT, WIDTH), dtype=np.uint16)
        self.lib.dvh_depth_mm(_ptr(self._frame(depth), _u16p), _ptr(out, _u16p))
        return out

    def registered(self, depth: np.ndarray) -> npt.NDArray[np.uint16]:
        """FREENECT_DEPTH_REGISTERED."""
        out = np.empty((HEIGHT, WIDTH), dtype=np.uint16)
        self.lib.dvh_registered(_ptr(self._frame(depth), _u16p), _ptr(out, _u16p))
        return out

    def registered_packed(self, packed: np.ndarray, out: np.ndarray) -> None:
        """FREENECT_DEPTH_REGISTERED from the packed stream, as the device path runs it."""
        self.lib.dvh_registered_packed(_ptr(packed, _u8p), _ptr(out, _u16p))

    def map_rgb_to_depth(
        self, depth_mm: np.ndarray, rgb: np.ndarray, fill: int = 0, out: np.ndarray | None = None
    ) -> npt.NDArray[np.uint8]:
        """freenect_map_rgb_to_depth into a buffer filled with ``fill`` (it skips occluded
        pixels, leaving what the buffer held), or into ``out`` as it is."""
        assert depth_mm.shape == (HEIGHT, WIDTH) and depth_mm.dtype == np.uint16
        assert int(depth_mm.max()) < 10000, "libfreenect's shift table has 10000 entries"
        assert rgb.shape == (HEIGHT, WIDTH, 3) and rgb.dtype == np.uint8
        if out is None:
            out = np.full((HEIGHT, WIDTH, 3), fill, dtype=np.uint8)
        assert out.shape == (HEIGHT, WIDTH, 3) and out.dtype == np.uint8
        self.lib.dvh_map_rgb_to_depth(
            _ptr(np.ascontiguousarray(depth_mm), _u16p),
            _ptr(np.ascontiguousarray(rgb), _u8p),
            _ptr(out, _u8p),
        )
        return out

    def camera_to_world(self, x: int, y: int, z_mm: int) -> tuple[float, float]:
        """freenect_camera_to_world: (wx, wy) in the unit of ``z_mm``."""
        wx, wy = ctypes.c_double(), ctypes.c_double()
        self.lib.dvh_camera_to_world(x, y, z_mm, ctypes.byref(wx), ctypes.byref(wy))
        return wx.value, wy.value


class HeldOracle(Oracle):
    """libfreenect's C with depthview's one documented difference: raw values whose
    millimetres the C's ``uint16_t`` cannot hold (undefined in C; x86 wraps them, raw 1090 to
    6351 mm) are at the 10 m ceiling (``_helpers_kinect_mm.past_uint16``, computed from the
    layout in Python). ``c_tables`` gives the C's own tables."""

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path)
        self._past = past_uint16()

    def load(self, layout: Mapping[str, Any]) -> None:
        super().load(layout)
        self._past = past_uint16(dict(layout))

    def c_tables(
        self,
    ) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        return super().tables()

    def tables(
        self,
    ) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        raw, shift, table = super().tables()
        raw[self._past] = CEILING_MM
        return raw, shift, table

    def _past_at(self, depth: np.ndarray) -> npt.NDArray[np.bool_]:
        return self._past[np.minimum(depth, 2047)]

    def depth_mm(self, depth: np.ndarray) -> npt.NDArray[np.uint16]:
        out = super().depth_mm(depth)
        out[self._past_at(depth)] = CEILING_MM  # the C's DEPTH_MM clamps at it
        return out

    def registered(self, depth: np.ndarray) -> npt.NDArray[np.uint16]:
        # the C places no pixel at or past the ceiling, nor one without a reading
        held = np.where(self._past_at(depth), 2047, depth).astype(np.uint16)
        return super().registered(held)
