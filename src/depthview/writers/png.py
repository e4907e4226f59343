"""PNG pictures: convert's colour frames and export's colourised depth (``pictures``)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..frame import Frame
from ..outputs import write_atomic
from .base import Settings, frame_name, require
from .pictures import depth_image

#: zlib level of every PNG depthview writes: 1 is several times faster than Pillow's
#: default 6 and the files are about 10 % larger; PNGs are lossless either way.
LEVEL = 1


def encode(image: npt.NDArray[Any], text: dict[str, str] | None = None) -> bytes:
    """A PNG of ``image`` (8-bit RGB, or 16-bit grey for uint16), with ``text`` chunks."""
    from PIL import Image, PngImagePlugin

    info = None
    if text:
        info = PngImagePlugin.PngInfo()
        for key, value in text.items():
            info.add_text(key, value)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(
        buf, format="PNG", pnginfo=info, compress_level=LEVEL
    )
    return buf.getvalue()


def write_frames(frames: Iterable[Frame], folder: Path, settings: Settings) -> int:
    """Export's ``png`` format: one colourised picture a frame."""
    require("PIL.Image", "png", "png")
    count = 0
    for frame in frames:
        write_atomic(folder / frame_name(frame, "png"), encode(depth_image(frame, settings)))
        count += 1
    return count


__all__ = ["LEVEL", "encode", "write_frames"]
