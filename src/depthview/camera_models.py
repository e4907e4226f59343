"""The camera models, in one bottom module that the computations import.

Three ways of saying where a depth pixel is in space and in the colour image:

- ``Intrinsics``: a pinhole camera (fx, fy, cx, cy), the depth camera's by default;
- ``Registration``: one Kinect's factory parameters as libfreenect reads them over USB and
  ``fakenect-record`` saves them in ``device.json`` (``registration`` builds its tables);
- ``StereoCalibration`` (``stereo_calibration``): both cameras' intrinsics and distortion, and
  the rotation and translation between them, as OpenCV, ROS and RGBDemo calibrate them.

Data and validation only: no arrays beyond parameters, no tables, no frames. ``geometry``,
``registration``, ``_registration_tables`` and ``stereo`` import this module and never each
other in a circle.
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._checks import is_number
from .errors import SourceError

#: libfreenect registers the 640x480 depth mode only.
WIDTH = 640
HEIGHT = 480


#: The largest focal length or principal point (pixels) an ``Intrinsics`` takes.
MAX_PIXELS = 100_000
#: The smallest focal length (pixels) a registration's zero plane may give: about 180
#: degrees across 640 pixels (a Kinect's is about 576).
MIN_FOCAL = 1.0
#: Raw disparity values a Kinect gives (11 bits: 0..2047, 2047 no reading).
RAW_VALUES = 2048


@dataclass(frozen=True, slots=True)
class Intrinsics:
    """Pinhole intrinsics in pixels. Defaults are the Kinect v1 depth camera's commonly
    used calibration (Burrus); pass your own from a calibration for better accuracy."""

    fx: float = 594.21
    fy: float = 591.04
    cx: float = 339.5
    cy: float = 242.7

    def __post_init__(self) -> None:
        # A camera's pixels: a focal length past MAX_PIXELS (1e308 put every point on the
        # optical axis) or a centre that far off is no camera, refused rather than used.
        for name in ("fx", "fy", "cx", "cy"):
            if not is_number(getattr(self, name)):  # '500', True, 500j (trial AL D5)
                raise TypeError(f"expected {name} as a number, got {getattr(self, name)!r}")
        for name in ("fx", "fy"):
            value = getattr(self, name)
            if not (np.isfinite(value) and 0 < value <= MAX_PIXELS):
                raise ValueError(f"expected {name} > 0 and <= {MAX_PIXELS} pixels, got {value}")
        for name in ("cx", "cy"):
            value = getattr(self, name)
            if not (np.isfinite(value) and abs(value) <= MAX_PIXELS):
                raise ValueError(
                    f"expected a finite {name} within {MAX_PIXELS} pixels, got {value}"
                )

    def for_size(
        self, width: int, height: int, *, calibrated: tuple[int, int] = (640, 480)
    ) -> Intrinsics:
        """These intrinsics, calibrated for ``calibrated`` (width, height) images (the
        Kinect's 640x480), for images of ``width`` x ``height``: every value scaled by the
        size ratio, as when the whole picture is resized. The one place a depth size turns
        the Kinect's calibration into a camera model (info, point clouds, sinks, viewer)."""
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"expected {name} as a whole number >= 1, got {value!r}")
        if (width, height) == calibrated:
            return self
        sx, sy = width / calibrated[0], height / calibrated[1]
        return Intrinsics(self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy)


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
        for name in ("reference_distance", "reference_pixel_size", "dcmos_emitter_dist"):
            if not getattr(self, name) > 0:  # (a baseline of 0 or -7.5: no or wrong depths)
                raise ValueError(f"expected zero_plane_info.{name} > 0, got {getattr(self, name)}")
        # They give the depth camera's focal length (``Registration.depth_intrinsics``):
        # checked here, where device.json and a device's parameters enter, so that a pixel
        # size of 1e-30 (fx 6e31) is this line rather than a traceback from Intrinsics, and a
        # distance of 1e-30 (fx 5e-30, every point 1e29 m away) is refused too.
        distance, size = self.reference_distance, self.reference_pixel_size
        focal = distance / (2.0 * size)
        if focal > MAX_PIXELS:
            name, least, given = "reference_pixel_size", distance / (2.0 * MAX_PIXELS), distance
        elif focal < MIN_FOCAL:
            name, least, given = "reference_distance", 2.0 * size * MIN_FOCAL, size
        else:
            return
        other = "reference_distance" if name == "reference_pixel_size" else "reference_pixel_size"
        raise ValueError(
            f"expected zero_plane_info.{name} >= {least:.3g} with {other} {given:g}, got "
            f"{getattr(self, name):g}: a focal length reference_distance / (2 * "
            f"reference_pixel_size) of {focal:.3g} pixels, not {MIN_FOCAL:g} to {MAX_PIXELS}"
        )


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
        if not 0 < self.const_shift < RAW_VALUES - 1:  # (trial V: 1e308 made every reading 0)
            raise ValueError(
                f"expected const_shift within 0..{RAW_VALUES - 1} (an offset of raw disparity; a "
                f"Kinect's is about 200), got {self.const_shift:g}"
            )

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
        return cls.from_json_text(_read_text(path, "registration"), str(path))

    @classmethod
    def from_json_text(cls, text: str | bytes, where: str) -> Registration:
        """device.json's text, from a file or a zip's member; ``SourceError`` naming
        ``where`` for text that is not a JSON object of the layout."""
        layout = _json(text, where)
        if not isinstance(layout, dict):
            raise SourceError(f"{where}: expected a JSON object, got {type(layout).__name__}")
        return cls.from_dict(layout, where=where)

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


# -- a general stereo calibration ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Distortion:
    """OpenCV's (and Bouguet's) radial-tangential lens distortion ``k1 k2 p1 p2 k3``: a
    normalised point (x, y) at r^2 = x^2 + y^2 is seen at
    ``x (1 + k1 r^2 + k2 r^4 + k3 r^6) + 2 p1 x y + p2 (r^2 + 2 x^2)`` (and y alike)."""

    k1: float = 0.0
    k2: float = 0.0
    p1: float = 0.0
    p2: float = 0.0
    k3: float = 0.0

    def __post_init__(self) -> None:
        _check_fields(self, "distortion", "double")

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        """OpenCV's order, ``distCoeffs`` as ``cv2.undistortPoints`` takes it."""
        return (self.k1, self.k2, self.p1, self.p2, self.k3)

    @property
    def is_zero(self) -> bool:
        return not any(self.as_tuple())


IDENTITY = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def _intrinsics_matrix(k: Intrinsics) -> list[list[float]]:
    return [[k.fx, 0.0, k.cx], [0.0, k.fy, k.cy], [0.0, 0.0, 1.0]]


@dataclass(frozen=True, slots=True)
class StereoCalibration:
    """Both Kinect cameras calibrated as a stereo pair: each camera's ``Intrinsics`` and
    ``Distortion``, and the ``rotation`` (3x3, row-major) and ``translation`` (metres) that
    take a point from the depth camera's frame to the colour camera's:
    ``p_colour = rotation @ p_depth + translation`` (OpenCV's ``stereoCalibrate`` R, T with
    the depth camera first). ``width`` x ``height`` is both images' size.

    Read one with ``from_file`` (OpenCV ``FileStorage`` YAML, ROS-style YAML, JSON), or take
    ``StereoCalibration.nyu()``, the calibration NYU Depth V2 was aligned with.
    """

    depth: Intrinsics
    colour: Intrinsics
    depth_distortion: Distortion = Distortion()
    colour_distortion: Distortion = Distortion()
    rotation: tuple[tuple[float, float, float], ...] = (
        (1.0, 0.0, 0.0),
        (0.0, 1.0, 0.0),
        (0.0, 0.0, 1.0),
    )
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    width: int = WIDTH
    height: int = HEIGHT

    def __post_init__(self) -> None:
        for name, kind in (
            ("depth", Intrinsics),
            ("colour", Intrinsics),
            ("depth_distortion", Distortion),
            ("colour_distortion", Distortion),
        ):
            if not isinstance(getattr(self, name), kind):
                got = type(getattr(self, name)).__name__
                raise TypeError(f"expected {name} as a {kind.__name__}, got {got}")
        rot = np.asarray(self.rotation, dtype=np.float64)
        if rot.shape != (3, 3) or not np.isfinite(rot).all():
            bad = rot.shape if rot.shape != (3, 3) else f"non-finite values {rot.tolist()}"
            raise ValueError(f"expected rotation as a finite 3x3 matrix, got {bad}")
        if not np.allclose(rot @ rot.T, np.eye(3), atol=1e-4) or np.linalg.det(rot) < 0:
            raise ValueError(
                f"expected rotation as a rotation matrix (R R' = I, det 1), got det "
                f"{np.linalg.det(rot):.6g}"
            )
        trans = np.asarray(self.translation, dtype=np.float64)
        if trans.shape != (3,) or not np.isfinite(trans).all():
            bad = trans.shape if trans.shape != (3,) else f"non-finite values {trans.tolist()}"
            raise ValueError(f"expected translation as 3 finite metres, got {bad}")
        object.__setattr__(self, "rotation", tuple(tuple(float(v) for v in r) for r in rot))
        object.__setattr__(self, "translation", tuple(float(v) for v in trans))
        for name in ("width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"expected {name} as a positive integer, got {value!r}")

    @property
    def rotation_matrix(self) -> npt.NDArray[np.float64]:
        return np.array(self.rotation, dtype=np.float64)

    @property
    def translation_vector(self) -> npt.NDArray[np.float64]:
        return np.array(self.translation, dtype=np.float64)

    @classmethod
    def nyu(cls) -> StereoCalibration:
        """NYU Depth V2's calibration (the toolbox's ``camera_params.m``, from RGBDemo), moved
        as its ``project_depth_map.m`` moves points: ``R = inv(R0')`` and the translation
        applied as ``(t_x, t_z, t_y)``. That R is a reflection (``R0`` is negated, det -1),
        which the toolbox's perspective division cancels; the same projection with a proper
        rotation is ``-R`` and ``-(t_x, t_z, t_y)``, which is what this holds."""
        return _nyu()

    # -- files ----------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """The JSON layout ``from_dict`` reads (OpenCV's names: K, D, R, T)."""
        return {
            "width": self.width,
            "height": self.height,
            "depth": {
                "camera_matrix": _intrinsics_matrix(self.depth),
                "distortion_coefficients": list(self.depth_distortion.as_tuple()),
            },
            "colour": {
                "camera_matrix": _intrinsics_matrix(self.colour),
                "distortion_coefficients": list(self.colour_distortion.as_tuple()),
            },
            "R": [list(r) for r in self.rotation],
            "T": list(self.translation),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    @classmethod
    def from_dict(
        cls, layout: Mapping[str, Any], *, where: str = "calibration"
    ) -> StereoCalibration:
        """From a mapping in any of the layouts ``from_file`` reads; ``SourceError`` naming
        ``where`` and the key for a missing or bad value."""
        try:
            return _from_layout(layout, where)
        except (ValueError, TypeError) as exc:
            raise SourceError(f"{where}: {exc}") from None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> StereoCalibration:
        """Read a ``.json``, or a ``.yaml``/``.yml`` (OpenCV ``FileStorage`` with
        ``!!opencv-matrix`` nodes, or ROS-style ``{rows, cols, data}`` matrices; needs
        PyYAML, ``pip install 'depthview[yaml]'``). Keys, case-insensitive: the depth camera
        as ``depth`` / ``K1``, ``D1`` / ``cameraMatrix1``, ``distCoeffs1``; the colour camera
        as ``colour`` / ``color`` / ``rgb`` / ``K2``, ``D2`` / ``cameraMatrix2``,
        ``distCoeffs2``; ``R``, ``T`` (metres); optional ``width``, ``height``."""
        where = str(path)
        text = _read_text(path, "calibration")
        yaml = Path(path).suffix.lower() in (".yaml", ".yml")
        layout = _read_yaml(text, where) if yaml else _json(text, where)
        if not isinstance(layout, Mapping):
            raise SourceError(f"{where}: expected a mapping of keys, got {type(layout).__name__}")
        return cls.from_dict(layout, where=where)


def _read_text(path: str | os.PathLike[str], what: str) -> str:
    """A UTF-8 file's text; ``SourceError`` naming it and ``what`` it holds when unreadable."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise SourceError(f"{path}: cannot read the {what}: {reason}") from None


def _json(text: str | bytes, where: str) -> Any:
    """Parsed JSON; ``SourceError`` naming ``where`` and the line and column at fault."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{where}: expected JSON, got {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{where}: expected JSON in UTF-8, got {exc.reason}") from None


def _read_yaml(text: str, where: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise SourceError(
            f"{where}: reading YAML needs PyYAML: pip install 'depthview[yaml]'"
        ) from None

    class Loader(yaml.SafeLoader):  # type: ignore[misc]
        """SafeLoader that also reads OpenCV's ``%YAML:1.0`` files and ``!!opencv-matrix``."""

    def opencv_matrix(loader: Any, node: Any) -> Any:
        return loader.construct_mapping(node, deep=True)

    Loader.add_constructor("tag:yaml.org,2002:opencv-matrix", opencv_matrix)
    lines = text.splitlines()
    if lines and lines[0].startswith("%YAML:"):
        lines = lines[1:]  # OpenCV writes "%YAML:1.0", which YAML 1.1 parsers refuse
    try:
        return yaml.load("\n".join(lines), Loader=Loader)  # a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise SourceError(
            f"{where}: expected YAML, got {getattr(exc, 'problem', exc)}{at}"
        ) from None


def _lower_keys(layout: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in layout.items()}


def _matrix(value: Any, name: str) -> npt.NDArray[np.float64]:
    """A number list, nested lists, or an OpenCV/ROS ``{rows, cols, data}`` mapping."""
    if isinstance(value, Mapping):
        keys = _lower_keys(value)
        if "data" not in keys:
            raise ValueError(f"expected {name} with a data list, got keys {sorted(keys)}")
        data = np.asarray(keys["data"], dtype=np.float64).ravel()
        rows, cols = keys.get("rows"), keys.get("cols")
        if isinstance(rows, int) and isinstance(cols, int):
            if rows * cols != data.size:
                raise ValueError(f"expected {name} of {rows}x{cols} values, got {data.size}")
            return data.reshape(rows, cols)
        return data
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"expected {name} as numbers, got {reprlib.repr(value)}") from None
    if not np.isfinite(array).all():
        raise ValueError(f"expected {name} as finite numbers, got {reprlib.repr(value)}")
    return array


K_KEYS = ("camera_matrix", "k", "cameramatrix", "intrinsics")
D_KEYS = ("distortion_coefficients", "d", "distcoeffs", "distortion")


def _camera(layout: Mapping[str, Any], names: tuple[str, ...], label: str) -> tuple[Any, Any]:
    """(camera matrix, distortion) of one camera from the first layout that has it."""
    keys = _lower_keys(layout)
    nested_names, k_names, d_names = names[0:3], names[3:5], names[5:7]
    for nested in nested_names:
        if isinstance(keys.get(nested), Mapping):
            inner = _lower_keys(keys[nested])
            k = next((inner[n] for n in K_KEYS if n in inner), None)
            d: Any = next((inner[n] for n in D_KEYS if n in inner), [])
            if k is None:
                raise ValueError(f"expected {nested}.camera_matrix, got none")
            return k, d
    for k_name, d_name in zip(k_names, d_names, strict=True):
        if k_name in keys:
            return keys[k_name], keys.get(d_name, [])
    raise ValueError(f"expected the {label} camera as {' or '.join(names[:5])}, got none")


def _intrinsics_of(value: Any, name: str) -> Intrinsics:
    if isinstance(value, Mapping) and {"fx", "fy", "cx", "cy"} <= set(_lower_keys(value)):
        keys = _lower_keys(value)
        return Intrinsics(*(float(keys[n]) for n in ("fx", "fy", "cx", "cy")))
    k = _matrix(value, name)
    if k.size == 9:
        k = k.reshape(3, 3)
        return Intrinsics(
            fx=float(k[0, 0]), fy=float(k[1, 1]), cx=float(k[0, 2]), cy=float(k[1, 2])
        )
    if k.size == 4:
        fx, fy, cx, cy = (float(v) for v in k.ravel())
        return Intrinsics(fx=fx, fy=fy, cx=cx, cy=cy)
    raise ValueError(f"expected {name} as a 3x3 camera matrix or fx fy cx cy, got {k.size} values")


def _distortion_of(value: Any, name: str) -> Distortion:
    d = _matrix(value, name).ravel()
    if d.size > 5 and not np.any(d[5:]):
        d = d[:5]
    if d.size not in (0, 4, 5):
        raise ValueError(
            f"expected {name} as k1 k2 p1 p2 [k3] (OpenCV's order), got {d.size} values"
        )
    return Distortion(*(float(v) for v in d))


def _from_layout(layout: Mapping[str, Any], where: str) -> StereoCalibration:
    keys = _lower_keys(layout)
    depth_k, depth_d = _camera(
        layout, ("depth", "ir", "left", "k1", "cameramatrix1", "d1", "distcoeffs1"), "depth"
    )
    colour_k, colour_d = _camera(
        layout, ("colour", "color", "rgb", "k2", "cameramatrix2", "d2", "distcoeffs2"), "colour"
    )
    if "r" not in keys or "t" not in keys:
        raise ValueError("expected R (3x3 rotation) and T (3 metres), depth camera to colour")
    rotation = _matrix(keys["r"], "R")
    if rotation.size != 9:
        raise ValueError(f"expected R as 3x3 values, got {rotation.size}")
    translation = _matrix(keys["t"], "T").ravel()
    return StereoCalibration(
        depth=_intrinsics_of(depth_k, "depth camera_matrix"),
        colour=_intrinsics_of(colour_k, "colour camera_matrix"),
        depth_distortion=_distortion_of(depth_d, "depth distortion_coefficients"),
        colour_distortion=_distortion_of(colour_d, "colour distortion_coefficients"),
        rotation=tuple(tuple(r) for r in rotation.reshape(3, 3).tolist()),  # type: ignore[misc]
        translation=tuple(translation.tolist()),  # type: ignore[arg-type]
        **_image_size(keys),
    )


#: The layouts' names of an image's size: depthview's and JSON's, ROS's and OpenCV's.
_SIZE_KEYS = (("width", "height"), ("image_width", "image_height"))


def _image_size(keys: Mapping[str, Any]) -> dict[str, int]:
    """The one image size a layout gives (``width``/``height``, or ROS's and OpenCV's
    ``image_width``/``image_height``, at the top or in a camera's section), as
    ``StereoCalibration``'s keywords; {} when it gives none. Two sizes are refused: the
    model is of two images of one size (trial AD: a 1280x1024 calibration's sizes in its
    camera sections went unread, and 640x480 frames were aligned with it)."""
    found: dict[tuple[int, int], str] = {}
    sections = [("", keys)]
    sections += [(f"{n}.", _lower_keys(v)) for n, v in keys.items() if isinstance(v, Mapping)]
    for prefix, section in sections:
        for w_key, h_key in _SIZE_KEYS:
            if w_key in section or h_key in section:
                w, h = section.get(w_key), section.get(h_key)
                if not all(isinstance(v, int | float) and float(v).is_integer() for v in (w, h)):
                    raise ValueError(
                        f"expected {prefix}{w_key} and {prefix}{h_key} as whole numbers, got "
                        f"{w!r} and {h!r}"
                    )
                found.setdefault((int(w), int(h)), f"{prefix}{w_key}")  # type: ignore[arg-type]
    if len(found) > 1:
        sizes = " and ".join(f"{w}x{h} ({where})" for (w, h), where in found.items())
        raise ValueError(f"expected one image size for both cameras, got {sizes}")
    if not found:
        return {}
    width, height = next(iter(found))
    return {"width": width, "height": height}


#: NYU Depth V2 toolbox ``camera_params.m`` (RGBDemo's calibration of NYU's Kinect).
NYU_COLOUR = Intrinsics(
    fx=518.85790117450188, fy=519.46961112127485, cx=325.58244941119034, cy=253.73616633400465
)
NYU_COLOUR_DISTORTION = Distortion(
    k1=0.20796615318809061,
    k2=-0.58613825163911781,
    p1=7.2231363135888329e-4,
    p2=1.0479627195765181e-3,
    k3=0.49856986684705107,
)
NYU_DEPTH = Intrinsics(
    fx=582.62448167737955, fy=582.69103270988637, cx=313.04475870804731, cy=238.44389626620386
)
NYU_DEPTH_DISTORTION = Distortion(
    k1=-0.099897236553084481,
    k2=0.39065324602765344,
    p1=1.9290592870229277e-3,
    p2=-1.9422022475975055e-3,
    k3=-0.51031725053400578,
)
#: ``R0`` as camera_params.m lists it (MATLAB fills the 3x3 column by column, then negates).
NYU_R0_VALUES = (
    0.99997798940829263,
    5.0518419386157446e-3,
    4.3011152014118693e-3,
    -5.0359919480810989e-3,
    0.99998051861143999,
    -3.6879781309514218e-3,
    -4.3196624923060242e-3,
    3.6662365748484798e-3,
    0.99998394948385538,
)
NYU_T = (2.5031875059141302e-2, 6.6238747008330102e-4, -2.9342312935846411e-4)  # t_x t_y t_z


@cache
def _nyu() -> StereoCalibration:
    r0 = -np.array(NYU_R0_VALUES, dtype=np.float64).reshape(3, 3, order="F")
    rotation = -np.linalg.inv(r0.T)  # the toolbox's R is -this; see StereoCalibration.nyu
    t_x, t_y, t_z = NYU_T
    return StereoCalibration(
        depth=NYU_DEPTH,
        colour=NYU_COLOUR,
        depth_distortion=NYU_DEPTH_DISTORTION,
        colour_distortion=NYU_COLOUR_DISTORTION,
        rotation=tuple(tuple(r) for r in rotation.tolist()),
        translation=(-t_x, -t_z, -t_y),
    )
