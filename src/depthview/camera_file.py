"""The camera file ``convert`` writes into a TUM-layout scene (``camera.yaml``), and
``export --format png16`` into its folder, and ``dv.open`` reads back, so the frames reopen
with the camera they were written with.

It is ORB-SLAM's settings form (``%YAML:1.0``, ``Camera.fx`` ... ``DepthMapFactor``), which
OpenCV's ``FileStorage`` and any YAML reader parse and ORB-SLAM and Open3D users copy
numbers from: the colour camera's pinhole intrinsics (aligned depth lives in the colour
image), the image size, and the depth PNGs' values per metre. Text only: no files here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .camera_models import Intrinsics
from .errors import SourceError

#: The camera file's name in a scene.
CAMERA_FILE = "camera.yaml"
_KEYS = ("Camera.fx", "Camera.fy", "Camera.cx", "Camera.cy")


@dataclass(frozen=True, slots=True)
class SceneCamera:
    """What the camera file holds."""

    intrinsics: Intrinsics
    width: int
    height: int
    depth_scale: float  # depth PNG values per metre (TUM: 5000)
    #: Whose camera it is, said in the file's comment (the depth was aligned to the colour
    #: image, or was written as it came).
    whose: str = "the colour camera of this scene (its depth is aligned to it)"
    #: The command that wrote the file, said in its comment.
    writer: str = "convert"


def camera_text(camera: SceneCamera) -> str:
    """The camera file's text."""
    k = camera.intrinsics
    return (
        "%YAML:1.0\n"
        f"# depthview {camera.writer}: {camera.whose},\n"
        "# in ORB-SLAM's settings form; DepthMapFactor is the depth PNGs' values per metre.\n"
        f"Camera.fx: {k.fx:.6f}\nCamera.fy: {k.fy:.6f}\n"
        f"Camera.cx: {k.cx:.6f}\nCamera.cy: {k.cy:.6f}\n"
        "Camera.k1: 0.0\nCamera.k2: 0.0\nCamera.p1: 0.0\nCamera.p2: 0.0\n"
        f"Camera.width: {camera.width}\nCamera.height: {camera.height}\n"
        f"DepthMapFactor: {camera.depth_scale:.1f}\n"
    )


def written_by_depthview(path: Path) -> bool:
    """Whether the camera file at ``path`` is one depthview wrote (``camera_text``'s
    comment), which a later export may replace; False for a user's own or one unreadable."""
    try:
        with open(path, "rb") as file:
            head = file.read(256).split(b"\n")
    except OSError:
        return False
    return len(head) > 1 and head[1].startswith(b"# depthview ")


def parse_camera_text(text: str, where: str) -> SceneCamera:
    """A camera file's contents; ``SourceError`` naming ``where`` and the line at fault."""
    values: dict[str, float] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("%"):
            continue
        key, sep, value = line.partition(":")
        try:
            parsed = float(value)
        except ValueError:
            parsed = math.nan
        if not sep or not math.isfinite(parsed):
            raise SourceError(f"{where} line {number}: expected 'key: number', got {line[:60]!r}")
        values[key.strip()] = parsed
    missing = [
        k for k in (*_KEYS, "Camera.width", "Camera.height", "DepthMapFactor") if k not in values
    ]
    if missing:
        raise SourceError(f"{where}: expected {', '.join(missing)}, got none")
    try:
        intrinsics = Intrinsics(*(values[k] for k in _KEYS))
    except ValueError as exc:
        raise SourceError(f"{where}: {exc}") from None
    width, height, scale = values["Camera.width"], values["Camera.height"], values["DepthMapFactor"]
    if not (width.is_integer() and height.is_integer() and width >= 1 and height >= 1):
        raise SourceError(f"{where}: expected a whole image size, got {width} x {height}")
    if not scale > 0:
        raise SourceError(f"{where}: expected DepthMapFactor > 0, got {scale}")
    return SceneCamera(intrinsics, int(width), int(height), scale)


__all__ = ["CAMERA_FILE", "SceneCamera", "camera_text", "parse_camera_text"]
