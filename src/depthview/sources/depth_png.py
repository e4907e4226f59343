"""16-bit depth PNGs: what a file's header says (size, bit depth, depthview's units marker)
read without decoding it, and the pixels read with Pillow (``writers.png16`` writes them).

depthview writes the depth format into every 16-bit PNG it exports (a ``tEXt`` chunk
``depthview.depth_format`` holding e.g. ``RAW_11BIT``), so a folder it wrote opens as what it
holds instead of being guessed at; and, when it knows them, the camera's intrinsics (a second
chunk ``depthview.intrinsics``: ``fx fy cx cy`` in pixels), so one PNG read back alone gives
the same points as its source (a viewer snapshot has no ``camera.yaml`` beside it). Header
reading is a bounded chunk walk that stops at the first image data: cheap enough to run on
every file of a large folder.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..camera_models import Intrinsics
from ..errors import BrokenFile, SourceError
from ..frame import DepthFormat
from .fakenect import open_regular

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: The text chunk keyword of depthview's units marker.
MARKER_KEY = "depthview.depth_format"
#: The text chunk keyword of the camera's intrinsics (``fx fy cx cy``, pixels).
INTRINSICS_KEY = "depthview.intrinsics"
#: How far into a file the header walk looks for IHDR and text chunks.
MAX_HEADER_BYTES = 256 * 1024
_CHUNK = struct.Struct(">I4s")


@dataclass(frozen=True, slots=True)
class PngHeader:
    """What a PNG's chunks before its image data say."""

    width: int
    height: int
    bit_depth: int
    colour_type: int  # 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
    marker: str | None  # depthview's depth format name, when it wrote the file
    camera: str | None = None  # depthview's intrinsics text, when it wrote them

    @property
    def is_depth(self) -> bool:
        """16-bit single channel: how depth PNGs are stored."""
        return self.bit_depth == 16 and self.colour_type == 0

    def __str__(self) -> str:
        """As a person says it: ``16-bit RGB 640x480``."""
        kind = COLOUR_TYPES.get(self.colour_type, f"colour type {self.colour_type}")
        return f"{self.bit_depth}-bit {kind} {self.width}x{self.height}"


#: PNG colour types by number, in words.
COLOUR_TYPES = {0: "grey", 2: "RGB", 3: "palette", 4: "grey+alpha", 6: "RGBA"}


def read_header(path: str | os.PathLike[str]) -> PngHeader:
    """The PNG header of ``path`` (``SourceError`` naming the file when it is not a PNG)."""
    try:  # (a named pipe is refused, not waited on: ``open_regular``)
        with open(open_regular(path, str(path)), "rb") as fh:
            data = fh.read(MAX_HEADER_BYTES)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return parse_header(data, str(path))


def parse_header(data: bytes, where: str = "PNG") -> PngHeader:
    """Parse the chunks of a PNG's first bytes up to its first ``IDAT``."""
    if not data.startswith(PNG_MAGIC):
        raise SourceError(f"{where}: expected a PNG file, got {data[:8]!r}")
    offset = len(PNG_MAGIC)
    ihdr: tuple[int, int, int, int] | None = None
    marker = camera = None
    while offset + _CHUNK.size <= len(data):
        length, kind = _CHUNK.unpack_from(data, offset)
        body = data[offset + _CHUNK.size : offset + _CHUNK.size + length]
        if kind == b"IHDR":
            if length != 13 or len(body) != 13:
                raise SourceError(f"{where}: expected a 13-byte IHDR chunk, got {len(body)} bytes")
            width, height, bit_depth, colour_type = struct.unpack_from(">IIBB", body)
            ihdr = (width, height, bit_depth, colour_type)
        elif kind == b"tEXt" and len(body) == length:
            key, _, value = body.partition(b"\0")
            if key.decode("latin-1") == MARKER_KEY:
                marker = value.decode("latin-1")
            elif key.decode("latin-1") == INTRINSICS_KEY:
                camera = value.decode("latin-1")
        elif kind == b"IDAT":
            break
        elif ihdr is None:
            break  # IHDR must come first
        offset += _CHUNK.size + length + 4  # + CRC
    if ihdr is None:
        raise SourceError(f"{where}: expected a PNG with an IHDR chunk first, got none")
    width, height, bit_depth, colour_type = ihdr
    if not (0 < width <= 1 << 16 and 0 < height <= 1 << 16):
        raise SourceError(
            f"{where}: expected an image size up to 65536x65536, got {width}x{height}"
        )
    return PngHeader(width, height, bit_depth, colour_type, marker, camera)


def marker_format(header: PngHeader, where: str) -> DepthFormat | None:
    """The depth format depthview's marker names, None without a marker."""
    if header.marker is None:
        return None
    try:
        return DepthFormat[header.marker]
    except KeyError:
        names = ", ".join(f.name for f in DepthFormat)
        raise SourceError(
            f"{where}: expected a {MARKER_KEY} marker of {names}, got {header.marker[:40]!r}"
        ) from None


def intrinsics_text(intrinsics: Intrinsics) -> str:
    """The ``depthview.intrinsics`` chunk's text: ``fx fy cx cy``, each exact (``repr``)."""
    return " ".join(
        repr(float(v)) for v in (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy)
    )


def marker_intrinsics(header: PngHeader, where: str) -> Intrinsics | None:
    """The camera depthview wrote into the PNG, None without that chunk."""
    if header.camera is None:
        return None
    try:
        fx, fy, cx, cy = (float(v) for v in header.camera.split())
        return Intrinsics(fx, fy, cx, cy)
    except ValueError:
        raise SourceError(
            f"{where}: expected a {INTRINSICS_KEY} chunk of four numbers fx fy cx cy (pixels), "
            f"got {header.camera[:60]!r}"
        ) from None


def pillow() -> Any:
    """Pillow's ``Image`` module, or a ``SourceError`` naming the extra to install."""
    try:
        from PIL import Image
    except ImportError:
        raise SourceError("reading PNG frames needs Pillow: pip install 'depthview[png]'") from None
    return Image


def _decode_errors(image: Any) -> tuple[type[BaseException], ...]:
    """What Pillow raises on a broken or hostile file (its decoders use all of these)."""
    return (
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        struct.error,
        zlib.error,
        image.DecompressionBombError,
    )


def read_depth(
    path: str | os.PathLike[str], expected: DepthFormat | None = None
) -> npt.NDArray[np.uint16]:
    """The stored values of a 16-bit single-channel PNG, as they are (no units applied).
    ``expected``: the units a folder's frames are read in; a frame whose own marker names
    others is a ``BrokenFile`` (its values would be read 5 times off: trial AB)."""
    image = pillow()
    header = read_header(path)  # (no regular file: ``BrokenFile``, from ``open_regular``)
    if not header.is_depth:  # say what it is (Pillow reads 16-bit RGB as 8-bit)
        raise SourceError(f"{path}: expected a 16-bit grey depth PNG, got a {header} PNG")
    marked = None if expected is None else marker_format(header, str(path))
    if expected is not None and marked is not None and marked is not expected:
        raise BrokenFile(
            f"{path}: expected depth in {expected.unit_name} as the folder's, got depthview's "
            f"marker for {marked.unit_name}",
            str(path),
        )
    # The file is opened here, not by Pillow: Pillow leaves a file it opened unclosed when
    # Ctrl-C lands inside ``Image.open`` (a ResourceWarning on the way out).
    with open(open_regular(path, str(path)), "rb") as fh:
        try:
            with image.open(fh, formats=["PNG"]) as im:
                arr = np.asarray(im)
        except _decode_errors(image) as exc:
            raise BrokenFile(
                f"{path}: expected a 16-bit depth PNG, got {_named(exc, fh, path)}", str(path)
            ) from None
    if arr.ndim != 2 or arr.dtype.kind not in "iu" or arr.dtype.itemsize < 2:
        raise SourceError(
            f"{path}: expected a 16-bit single-channel depth PNG, got {arr.dtype} {arr.shape}"
        )
    return arr.astype(np.uint16, copy=False)


def read_colour(path: str | os.PathLike[str]) -> npt.NDArray[np.uint8]:
    """A colour image (PNG, JPEG) as (H, W, 3) uint8 RGB."""
    image = pillow()
    # opened here, as in ``read_depth`` (no regular file: ``BrokenFile``, not waited on)
    with open(open_regular(path, str(path)), "rb") as fh:
        try:
            with image.open(fh) as im:
                # convert() copies even an RGB image (a third of a JPEG's read): only
                # other modes are converted.
                rgb = im if im.mode == "RGB" else im.convert("RGB")
                return np.asarray(rgb, dtype=np.uint8)
        except _decode_errors(image) as exc:
            raise BrokenFile(
                f"{path}: expected an RGB image, got {_named(exc, fh, path)}", str(path)
            ) from None


def _named(exc: BaseException, fh: Any, path: str | os.PathLike[str]) -> str:
    """Pillow's message with the file's name where it shows the file object."""
    return str(exc).replace(repr(fh), repr(os.fspath(path)))


__all__ = [
    "INTRINSICS_KEY",
    "MARKER_KEY",
    "PNG_MAGIC",
    "PngHeader",
    "intrinsics_text",
    "marker_format",
    "marker_intrinsics",
    "parse_header",
    "read_colour",
    "read_depth",
    "read_header",
]
