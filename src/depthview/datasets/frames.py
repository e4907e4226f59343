"""One pair of frames turned into what a dataset holds: depth in millimetres on the colour
image's pixels, and the colour image it lines up with.

The camera model is chosen once per scene (``Aligner``): libfreenect's registration (the
recording's ``device.json``, else the default), a ``StereoCalibration`` (``stereo.align``),
or NYU's toolbox (``nyu_toolbox``). ``process_pair`` runs it and then the optional
depth->depth ``step`` (a filter on the aligned millimetres: same shape, uint16), the one
place such a step goes. The arrays returned are per-thread buffers, reused by the next
pair: write them (or copy them) before converting the next.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import nyu_toolbox, stereo
from ..camera_models import Intrinsics, Registration, StereoCalibration
from ..frame import DepthFormat
from ..registration import register, to_mm
from ..units import to_metres

#: A depth->depth step on the aligned depth (millimetres, uint16, 0 = no reading).
DepthStep = Callable[[npt.NDArray[np.uint16]], npt.NDArray[np.uint16]]


_scratch = threading.local()


def buffer(name: str, shape: tuple[int, ...], dtype: type[np.generic]) -> npt.NDArray[Any]:
    """A per-thread array reused frame after frame: converting allocates (and so page-faults)
    almost nothing per frame, which matters most in Dask workers, whose allocator returns
    freed memory to the system at once (``MALLOC_TRIM_THRESHOLD_``)."""
    buffers: dict[tuple[str, tuple[int, ...], Any], npt.NDArray[Any]] | None = getattr(
        _scratch, "buffers", None
    )
    if buffers is None:
        buffers = _scratch.buffers = {}
    key = (name, shape, np.dtype(dtype))
    if key not in buffers:
        buffers[key] = np.empty(shape, dtype=dtype)
    return buffers[key]


def metres_to_mm(
    metres: npt.NDArray[np.floating], out: npt.NDArray[np.uint16] | None = None
) -> npt.NDArray[np.uint16]:
    """Metres to whole millimetres, 0 where there is no reading (NaN, 0, beyond 65.535 m)."""
    kernels = stereo._kernels()
    if (
        out is not None
        and kernels is not None
        and metres.dtype == np.float32
        and metres.flags.c_contiguous
        and out.flags.c_contiguous
    ):
        kernels.to_mm(metres.reshape(-1), out.reshape(-1))
        return out
    with np.errstate(invalid="ignore"):
        mm = np.rint(np.nan_to_num(metres, nan=0.0) * 1000.0)
    mm[(mm < 0) | (mm > 65535)] = 0
    if out is None:
        result: npt.NDArray[np.uint16] = mm.astype(np.uint16)
        return result
    out[...] = mm
    return out


@dataclass(frozen=True)
class Aligner:
    """How a scene's depth is put on its colour image: ``model`` is "libfreenect" (with
    ``registration``), "stereo" (with ``calibration``) or "nyu" (NYU's toolbox, with
    ``calibration``)."""

    model: str
    registration: Registration | None = None
    calibration: StereoCalibration | None = None

    def describe(self) -> str:
        return {"libfreenect": "libfreenect registration", "stereo": "stereo calibration"}.get(
            self.model, "NYU toolbox"
        )


def align_pair(
    depth: npt.NDArray[np.uint16],
    depth_format: DepthFormat,
    rgb: npt.NDArray[np.uint8],
    aligner: Aligner,
) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint8]]:
    """(aligned depth in mm, colour) for one pair."""
    if aligner.model == "nyu":
        if depth_format not in (DepthFormat.RAW_11BIT, DepthFormat.RAW_11BIT_NYU):
            raise ValueError(
                f"expected raw 11-bit depth for NYU's toolbox, got {depth_format.name}"
            )
        metres, colour = nyu_toolbox.project_depth_map(
            depth,
            rgb,
            aligner.calibration,
            out=buffer("metres", depth.shape, np.float32),
            colour_out=buffer("colour", rgb.shape, np.uint8),
        )
        assert colour is not None
        return metres_to_mm(metres, buffer("mm", depth.shape, np.uint16)), colour
    if aligner.model == "stereo":
        c = aligner.calibration
        assert c is not None
        z = to_metres(depth, depth_format, out=buffer("z", depth.shape, np.float32))
        metres = stereo.align(z, c, out=buffer("metres", depth.shape, np.float32))
        colour = stereo.undistort_image(
            rgb, c.colour, c.colour_distortion, out=buffer("colour", rgb.shape, np.uint8)
        )
        return metres_to_mm(metres, buffer("mm", depth.shape, np.uint16)), colour
    if depth_format is DepthFormat.RAW_11BIT:
        mm = buffer("mm", depth.shape, np.uint16)
        return register(depth, aligner.registration, depth_format=depth_format, out=mm), rgb
    if depth_format.is_metric:
        # Already millimetres-like and, for datasets that store it, already registered.
        return metres_to_mm(to_metres(depth, depth_format)), rgb
    raise ValueError(
        f"expected raw 11-bit or metric depth for libfreenect's registration, got "
        f"{depth_format.name}"
    )


#: The manifest's ``alignment`` of depth-only output.
DEPTH_ONLY = "not aligned: depth-only output (the depth camera's own image)"


def depth_only_mm(
    depth: npt.NDArray[np.uint16],
    depth_format: DepthFormat,
    registration: Registration | None,
    step: DepthStep | None = None,
) -> npt.NDArray[np.uint16]:
    """Depth-only output: the frame in millimetres in the depth camera's own image (raw
    disparity through libfreenect's table for ``registration``), then ``step``."""
    if depth_format is DepthFormat.RAW_11BIT:
        mm = to_mm(np.ascontiguousarray(depth), registration, depth_format=depth_format)
    elif depth_format.is_metric:
        mm = metres_to_mm(to_metres(depth, depth_format))
    else:
        raise ValueError(f"expected raw 11-bit or metric depth, got {depth_format.name}")
    if step is not None:
        mm = step(mm)
    return mm


def alignment_label(
    aligner: Aligner, depth_format: DepthFormat, written_per_metre: float | None = None
) -> str:
    """What ``align_pair`` does to depth of ``depth_format``, as the manifest says it: depth
    that arrives in millimetres (7-Scenes, TUM, Open3D's folders) is written as it came
    unless a calibration is given, and is labelled so; or, where the output counts other
    units (``written_per_metre``), scaled to them (trial AD: 7-Scenes' millimetres written
    as TUM's fifths were said "as it came")."""
    if aligner.model == "nyu":
        return "aligned by NYU's toolbox"
    if aligner.model == "stereo":
        return "aligned by the stereo calibration"
    if depth_format.is_metric:
        came = depth_format.units_per_metre
        if written_per_metre is not None and came is not None and written_per_metre != came:
            return (
                f"not aligned: no calibration (depth scaled from {came:g} to "
                f"{written_per_metre:g} per metre)"
            )
        return "not aligned: no calibration (depth written as it came)"
    which = "device.json" if aligner.registration is not None else "Kinect v1 defaults"
    return f"aligned by libfreenect's registration ({which})"


def colour_camera(
    aligner: Aligner, width: int, height: int, own: Intrinsics | None = None
) -> Intrinsics:
    """The pinhole model of depth aligned by ``aligner`` to a ``width`` x ``height`` colour
    image: aligned depth lives in the colour image, so it is the colour camera's. A stereo
    calibration (NYU's too) has its own colour intrinsics. libfreenect's registration
    carries none for the colour camera: its registered depth is laid out on the colour grid
    with the depth camera's reference focal length and the image centre
    (``freenect_camera_to_world``), which is what depthview's point clouds already use for
    REGISTERED depth (``Registration.depth_intrinsics``), so it is that. Depth that came in
    millimetres and was not aligned (``alignment_label``) keeps its source's camera ``own``."""
    c = aligner.calibration
    if c is not None:
        return c.colour.for_size(width, height, calibrated=(c.width, c.height))
    if own is not None and aligner.model == "libfreenect":
        return own
    reg = aligner.registration or Registration.default()
    return reg.depth_intrinsics().for_size(width, height)


def process_pair(
    depth: npt.NDArray[np.uint16],
    depth_format: DepthFormat,
    rgb: npt.NDArray[np.uint8],
    aligner: Aligner,
    step: DepthStep | None = None,
) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint8]]:
    """Align one pair, then run ``step`` (if any) on the aligned millimetres."""
    mm, colour = align_pair(depth, depth_format, rgb, aligner)
    if step is not None:
        out = step(mm)
        if not isinstance(out, np.ndarray) or out.shape != mm.shape or out.dtype != np.uint16:
            got = (out.shape, out.dtype) if isinstance(out, np.ndarray) else type(out).__name__
            raise ValueError(f"expected the depth step to return {mm.shape} uint16, got {got}")
        mm = out
    return mm, colour


__all__ = [
    "DEPTH_ONLY",
    "Aligner",
    "DepthStep",
    "align_pair",
    "alignment_label",
    "colour_camera",
    "depth_only_mm",
    "metres_to_mm",
    "process_pair",
]
