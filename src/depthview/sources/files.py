"""Depth frames from plain files: a folder of TUM RGB-D style 16-bit depth PNGs (metres =
value / 5000, 0 = no reading; converted to millimetres), a ``.npy`` (H,W) or (N,H,W) uint16
array, or a ``.npz`` with ``depth`` and optional ``video``. Kinds are told by content
(magic bytes), not by name alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import NotMyFormat, SourceError
from ..frame import DepthFormat, Frame, Stamp, VideoFormat
from .base import Pacer, Source, check_options

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
TUM_SCALE = 5000.0  # TUM depth PNG units per metre
OPTIONS = ("realtime", "loop", "depth_format", "fps")


def _magic(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(8)
    except OSError:
        return b""


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise SourceError("reading PNG frames needs Pillow: pip install 'depthview[png]'") from None
    return Image


class ArraySource(Source):
    """Frames held as a (N,H,W) depth stack with optional per-frame video, seekable."""

    def __init__(
        self,
        name: str,
        depth_files: list[Path] | npt.NDArray[np.uint16],
        video_files: list[Path | None] | npt.NDArray[np.uint8] | None,
        depth_format: DepthFormat,
        *,
        loop: bool = False,
        realtime: bool = False,
        fps: float = 30.0,
    ) -> None:
        self.name = name
        self._depth = depth_files
        self._video = video_files
        self.has_video = video_files is not None and any(v is not None for v in video_files)
        self.video_formats = (VideoFormat.RGB,) if self.has_video else ()
        self.depth_format = depth_format
        self.loop = loop
        self.fps = fps
        self._pacer = Pacer() if realtime and fps else None
        self._position = 0
        self._closed = False

    @property
    def seekable(self) -> bool:
        return True

    @property
    def length(self) -> int:
        return len(self._depth)

    def seek(self, index: int) -> None:
        self._position = self._seek_index(index)
        if self._pacer is not None:
            self._pacer.reset()

    @property
    def position(self) -> int:
        return self._position

    def set_video_format(self, fmt: VideoFormat) -> None:
        """Files hold RGB only; asking for it again is harmless."""
        self._check_video_format(fmt)

    def close(self) -> None:
        self._closed = True

    def read(self) -> Frame:
        if self._closed:
            raise SourceError(f"{self.name}: read after close")
        if self._position >= len(self):
            if not self.loop:
                raise StopIteration
            self._position = 0
            if self._pacer is not None:
                self._pacer.reset()
        i = self._position
        self._position += 1
        depth, video = self._load(i)
        t = i / self.fps if self.fps else 0.0
        if self._pacer is not None:
            self._pacer.wait(t)
        return Frame(
            depth=depth,
            video=video,
            depth_format=self.depth_format,
            video_format=None if video is None else VideoFormat.RGB,
            timestamp=t,
            index=i,
            video_stamp=None if video is None else Stamp(i, t),
        )

    def _load(self, i: int) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint8] | None]:
        if isinstance(self._depth, np.ndarray):
            depth = np.array(self._depth[i], dtype=np.uint16)
            video = None
            if isinstance(self._video, np.ndarray):
                video = np.array(self._video[i], dtype=np.uint8)
            return depth, video
        return _read_tum_depth(self._depth[i]), self._read_video(i)

    def _read_video(self, i: int) -> npt.NDArray[np.uint8] | None:
        if not isinstance(self._video, list) or self._video[i] is None:
            return None
        path = self._video[i]
        assert path is not None
        image = _pil()
        try:
            with image.open(path) as im:
                return np.asarray(im.convert("RGB"), dtype=np.uint8)
        except (OSError, ValueError) as exc:
            raise SourceError(f"{path}: expected an RGB image, got {exc}") from None


def _read_tum_depth(path: Path) -> npt.NDArray[np.uint16]:
    """A TUM depth PNG (value/5000 metres) as millimetres, 0 = no reading."""
    image = _pil()
    try:
        with image.open(path) as im:
            arr = np.asarray(im)
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: expected a 16-bit depth PNG, got {exc}") from None
    if arr.ndim != 2 or arr.dtype.kind not in "iu" or arr.dtype.itemsize < 2:
        raise SourceError(
            f"{path}: expected a 16-bit single-channel depth PNG, got {arr.dtype} {arr.shape}"
        )
    mm = np.rint(arr.astype(np.float64) * (1000.0 / TUM_SCALE))
    return np.clip(mm, 0, 65535).astype(np.uint16)


def _is_depth_png(path: Path) -> bool:
    return path.name.lower().endswith(".png") and "depth" in path.name.lower()


def _open_png_folder(folder: Path, options: dict[str, Any]) -> ArraySource:
    pngs = sorted(p for p in folder.iterdir() if p.is_file() and _magic(p) == PNG_MAGIC)
    if not pngs:
        raise NotMyFormat(f"{folder}: expected INDEX.txt or PNG files")
    depth = [p for p in pngs if _is_depth_png(p)]
    if not depth:  # no naming hint: every 16-bit PNG is depth
        image = _pil()
        depth = [p for p in pngs if image.open(p).mode in ("I;16", "I;16B", "I;16L", "I")]
    if not depth:
        raise SourceError(f"{folder}: expected 16-bit depth PNGs, got only 8-bit images")
    video: list[Path | None] = []
    for d in depth:
        lower = d.name.lower()
        cands = [
            p
            for p in pngs
            if p not in depth
            and p.name.lower() in (lower.replace("depth", "color"), lower.replace("depth", "rgb"))
        ]
        video.append(cands[0] if cands else None)
    fmt = DepthFormat.parse(options.pop("depth_format", DepthFormat.MM))
    return ArraySource(str(folder), depth, video, fmt, **options)


def _open_array(path: Path, kind: bytes, options: dict[str, Any]) -> ArraySource:
    try:
        if kind == NPY_MAGIC:
            depth = np.load(path, allow_pickle=False)
            video = None
        else:
            with np.load(path, allow_pickle=False) as z:
                if "depth" not in z:
                    raise SourceError(
                        f"{path}: expected a 'depth' array in the .npz, got {sorted(z.files)}"
                    )
                depth = z["depth"]
                video = z.get("video", None)
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: expected a numpy .npy/.npz file, got {exc}") from None
    if depth.ndim == 2:
        depth = depth[None]
        video = None if video is None else video[None]
    if depth.ndim != 3 or depth.dtype.kind not in "ui" or depth.shape[0] == 0:
        raise SourceError(
            f"{path}: expected a (H,W) or (N,H,W) integer depth array, got {depth.dtype} "
            f"{depth.shape}"
        )
    if video is not None and (video.shape[:3] != depth.shape or video.dtype != np.uint8):
        raise SourceError(
            f"{path}: expected video of shape {(*depth.shape, 3)} uint8, got "
            f"{video.dtype} {video.shape}"
        )
    fmt = DepthFormat.parse(options.pop("depth_format", DepthFormat.RAW_11BIT))
    if depth.size and (int(depth.min()) < 0 or int(depth.max()) > fmt.max_value):
        raise SourceError(
            f"{path}: expected {fmt.name} values 0..{fmt.max_value}, got "
            f"{int(depth.min())}..{int(depth.max())}"
        )
    return ArraySource(str(path), depth.astype(np.uint16, copy=False), video, fmt, **options)


def open_source(uri: str, **options: Any) -> ArraySource:
    """A PNG folder or a single PNG, ``.npy`` or ``.npz``; ``NotMyFormat`` otherwise."""
    path = Path(uri).expanduser()
    if path.is_dir():
        kind = b"dir"
    elif path.is_file():
        kind = _magic(path)
    else:
        raise NotMyFormat(f"{uri}: no such file or folder")
    check_options(uri, options, OPTIONS)
    try:
        if kind == b"dir":
            return _open_png_folder(path, options)
        if kind.startswith(NPY_MAGIC):
            return _open_array(path, NPY_MAGIC, options)
        if kind.startswith(ZIP_MAGIC):
            return _open_array(path, ZIP_MAGIC, options)
        if kind == PNG_MAGIC:
            fmt = DepthFormat.parse(options.pop("depth_format", DepthFormat.MM))
            return ArraySource(str(path), [path], [None], fmt, **options)
    except ValueError as exc:
        raise SourceError(f"{uri}: {exc}") from None
    raise NotMyFormat(f"{uri}: expected PNG, .npy or .npz content, got {kind!r}")
