"""16-bit depth PNGs that say their units: depthview's marker (a ``tEXt`` chunk
``depthview.depth_format``, read by ``sources.depth_png``) names the depth format, so
``dv.open`` reads a folder of them as what it holds. Written by export (``png16``) and by
convert (TUM's ``depth/``).

Export's png16 holds millimetres, as a user of a 16-bit depth PNG expects: raw disparity
becomes millimetres through the source's registration exactly as libfreenect's
FREENECT_DEPTH_MM gives them (``base.metric_depth``; NYU's raw through NYU's fit), marked
``MM``; depth that is metric already keeps its values and marker (``REGISTERED``, and
TUM's fifths of a millimetre, which keep their 0.2 mm)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..camera_file import CAMERA_FILE, SceneCamera, camera_text
from ..camera_models import Intrinsics
from ..frame import DepthFormat, Frame
from ..outputs import write_atomic
from ..sources.depth_png import INTRINSICS_KEY, MARKER_KEY, intrinsics_text
from . import png
from .base import Settings, frame_name, metric_depth, registered_depth, require


def encode(
    depth: npt.NDArray[np.uint16],
    depth_format: DepthFormat,
    intrinsics: Intrinsics | None = None,
) -> bytes:
    """A 16-bit grey PNG of ``depth`` with the units marker, and the camera's ``intrinsics``
    (for this depth's size) when known, so the PNG read back alone gives the same points."""
    text = {MARKER_KEY: DepthFormat(depth_format).name}
    if intrinsics is not None:
        text[INTRINSICS_KEY] = intrinsics_text(intrinsics)
    return png.encode(np.asarray(depth, dtype=np.uint16), text)


def write(
    path: Path,
    depth: npt.NDArray[np.uint16],
    depth_format: DepthFormat,
    intrinsics: Intrinsics | None = None,
) -> str:
    """``path`` written atomically; its sha256."""
    return write_atomic(path, encode(depth, depth_format, intrinsics))


def write_frames(frames: Iterable[Frame], folder: Path, settings: Settings) -> int:
    """Export's ``png16`` format: each frame's depth in millimetres (aligned to the colour
    image with ``--registered``)."""
    require("PIL.Image", "png", "png16")
    count, camera = 0, _camera(settings)[0]  # in each PNG too: one read alone keeps it
    for frame in frames:
        if settings.registration is not None:
            depth, fmt = registered_depth(frame, settings.registration), DepthFormat.REGISTERED
        else:
            depth, fmt = metric_depth(frame.depth, frame.depth_format, settings.source_registration)
        write(folder / frame_name(frame, "png"), depth, fmt, camera)
        if count == 0:
            _write_camera(folder, settings, depth.shape, fmt)
        count += 1
    return count


def _camera(settings: Settings) -> tuple[Intrinsics | None, str]:
    """The frames' camera and whose it is: the depth camera as the source or
    ``--intrinsics`` gave it, or with ``--registered`` libfreenect's model of depth
    registered to the colour image (``Registration.depth_intrinsics``)."""
    if settings.registration is not None:
        return settings.registration.depth_intrinsics(), "the registered image of these frames"
    return settings.intrinsics, "the depth camera of these frames"


def _write_camera(
    folder: Path, settings: Settings, shape: tuple[int, ...], fmt: DepthFormat
) -> None:
    """The camera of the frames beside them (``camera.yaml``, which reading the folder back
    uses), with the frames' values per metre (TUM's 5000 kept as such): the depth camera as
    the source or ``--intrinsics`` gave it, or with ``--registered`` the model libfreenect
    gives depth registered to the colour image (``Registration.depth_intrinsics``, as the
    same depth read with ``depth_format="registered"`` has), so the frames read back give
    the same points as the source."""
    per_metre = fmt.units_per_metre
    assert per_metre is not None  # png16 holds metric depth only (metric_depth)
    intrinsics, whose = _camera(settings)
    how = "libfreenect's model" if settings.registration is not None else "as exported"
    if intrinsics is None:
        return
    camera = SceneCamera(
        intrinsics,
        shape[1],
        shape[0],
        per_metre,
        whose=f"{whose} ({fmt.unit_name}, {how})",
        writer="export",
    )
    write_atomic(folder / CAMERA_FILE, camera_text(camera).encode())


__all__ = ["encode", "write", "write_frames"]
