"""Export frames to files other programs read: colourised or 16-bit PNGs, MP4 video, PLY
point clouds, and ``.npz`` of raw frames.

Folders of files (png, png16, ply) get one file per frame named by frame index
(``frame-000042.png``); mp4 and npz are single files. Nothing is overwritten unless asked.
Pillow (extra ``png``) and imageio + imageio-ffmpeg (extra ``video``) are imported only
when their format is used, with a message naming the extra when they are missing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .colorize import colorize
from .errors import ExportError
from .frame import Frame
from .geometry import KINECT_V1_DEPTH, Intrinsics, ply_bytes, point_cloud, video_as_rgb
from .palettes import PALETTES
from .sources.base import Source
from .sources.depth_png import save_depth as save_depth_png

FORMATS = ("png", "png16", "mp4", "ply", "npz")
LAYOUTS = ("depth", "side-by-side")
_FOLDER_FORMATS = {"png": "png", "png16": "png", "ply": "ply"}


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """Where the export went and how many frames it holds."""

    path: Path
    frames: int
    files: int

    def __str__(self) -> str:
        return f"exported {self.frames} frames ({self.files} files) to {self.path}"


def parse_range(text: str) -> tuple[int, int | None]:
    """``"10:200"`` -> (10, 200), ``"10:"`` -> (10, None), ``":50"`` or ``"50"`` -> (0, 50)."""
    start_text, sep, stop_text = text.partition(":")
    if not sep:
        start_text, stop_text = "", start_text
    try:
        start = int(start_text) if start_text.strip() else 0
        stop = int(stop_text) if stop_text.strip() else None
    except ValueError:
        raise ExportError(f"--frames: expected START:END frame numbers, got {text!r}") from None
    if start < 0 or (stop is not None and stop <= start):
        raise ExportError(f"--frames: expected 0 <= START < END, got {text!r}")
    return start, stop


def _require(module: str, extra: str, fmt: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ExportError(
            f"--format {fmt} needs {module.split('.')[0]}: pip install 'depthview[{extra}]'"
        ) from None


def depth_image(
    frame: Frame,
    layout: str = "depth",
    palette: str = "glview",
    near: float | None = None,
    far: float | None = None,
) -> npt.NDArray[np.uint8]:
    """The picture of a frame: colourised depth, or depth left and video right (as glview's
    1280x480 window; IR as grey, black when the frame has no video)."""
    rgb = colorize(frame.depth, palette, near=near, far=far, depth_format=frame.depth_format)
    if layout == "depth":
        return rgb
    right = np.zeros_like(rgb)
    if frame.video is not None:
        video = video_as_rgb(frame.video, frame.video.shape[:2])
        h, w = min(video.shape[0], rgb.shape[0]), min(video.shape[1], rgb.shape[1])
        right[:h, :w] = video[:h, :w]
    return np.concatenate([rgb, right], axis=1)


def _check_target(out: Path, fmt: str, overwrite: bool) -> None:
    if fmt in _FOLDER_FORMATS:
        if out.exists() and not out.is_dir():
            raise ExportError(f"{out}: expected a folder for --format {fmt}, got a file")
        if out.is_dir() and any(out.iterdir()) and not overwrite:
            raise ExportError(f"{out}: exists and is not empty; use --overwrite")
    elif out.exists() and not overwrite:
        raise ExportError(f"{out}: exists; use --overwrite")


def _selected(
    source: Source | list[Frame], start: int, stop: int | None, every: int
) -> Iterator[Frame]:
    it = iter(source)
    if isinstance(source, Source) and source.seekable and start:
        source.seek(start)
        i = start
    else:
        i = 0
    for frame in it:
        if stop is not None and i >= stop:
            return
        if i >= start and (i - start) % every == 0:
            yield frame
        i += 1


def _total(source: Source | list[Frame], start: int, stop: int | None, every: int) -> int | None:
    try:
        n = len(source)
    except TypeError:
        n = None
    end = stop if n is None else (n if stop is None else min(n, stop))
    if end is None:
        return None
    return max(0, (end - start + every - 1) // every)


def export(
    source: Source | list[Frame],
    out: str | os.PathLike[str],
    *,
    format: str = "png",
    layout: str = "depth",
    palette: str = "glview",
    near: float | None = None,
    far: float | None = None,
    start: int = 0,
    stop: int | None = None,
    every: int = 1,
    overwrite: bool = False,
    fps: float | None = None,
    intrinsics: Intrinsics = KINECT_V1_DEPTH,
    progress: bool = False,
) -> ExportSummary:
    """Export frames ``start:stop:every`` of a source to ``out`` (see the module docstring)."""
    out = Path(out)
    if format not in FORMATS:
        raise ExportError(f"--format: expected one of {', '.join(FORMATS)}, got {format!r}")
    if layout not in LAYOUTS:
        raise ExportError(f"--layout: expected one of {', '.join(LAYOUTS)}, got {layout!r}")
    if palette not in PALETTES:
        raise ExportError(f"--palette: expected one of {', '.join(PALETTES)}, got {palette!r}")
    if every < 1:
        raise ExportError(f"--every: expected a positive step, got {every}")
    if start < 0 or (stop is not None and stop <= start):
        raise ExportError(f"--frames: expected 0 <= START < END, got {start}:{stop}")
    if layout != "depth" and format in ("png16", "ply", "npz"):
        raise ExportError(f"--layout {layout}: only png and mp4 have layouts, not {format}")
    total = _total(source, start, stop, every)
    if total is None:
        raise ExportError("--frames: expected START:END for a source without an end")
    _check_target(out, format, overwrite)
    frames_iter = _selected(source, start, stop, every)
    from tqdm import tqdm

    bar = tqdm(
        frames_iter,
        total=total,
        unit="frame",
        file=sys.stderr,
        disable=not progress,
        desc=f"export {format}",
    )
    rate = fps or (source.fps if isinstance(source, Source) else None) or 30.0
    try:
        if format in _FOLDER_FORMATS:
            return _export_files(bar, out, format, layout, palette, near, far, intrinsics)
        if format == "mp4":
            return _export_mp4(bar, out, layout, palette, near, far, rate)
        return _export_npz(bar, out)
    except ValueError as exc:  # colour range, palette/format mismatch
        raise ExportError(str(exc)) from None
    except OSError as exc:
        raise ExportError(f"{out}: cannot write ({exc.strerror or exc})") from None
    finally:
        bar.close()


def _export_files(
    frames: Any,
    out: Path,
    fmt: str,
    layout: str,
    palette: str,
    near: float | None,
    far: float | None,
    intrinsics: Intrinsics,
) -> ExportSummary:
    image_mod: Any = _require("PIL.Image", "png", fmt) if fmt != "ply" else None
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for frame in frames:
        path = out / f"frame-{frame.index:06d}.{_FOLDER_FORMATS[fmt]}"
        if fmt == "ply":
            video = frame.video
            usable = video is not None and video.shape[:2] == frame.depth.shape
            cloud = point_cloud(
                frame.depth,
                depth_format=frame.depth_format,
                intrinsics=intrinsics,
                video=video if usable else None,
            )
            path.write_bytes(ply_bytes(cloud.points, cloud.colors))
        elif fmt == "png16":
            save_depth_png(path, frame.depth, frame.depth_format)  # says its units
        else:
            image_mod.fromarray(depth_image(frame, layout, palette, near, far)).save(path)
        count += 1
    return ExportSummary(out, count, count)


def _export_mp4(
    frames: Any,
    out: Path,
    layout: str,
    palette: str,
    near: float | None,
    far: float | None,
    fps: float,
) -> ExportSummary:
    imageio = _require("imageio.v2", "video", "mp4")
    _require("imageio_ffmpeg", "video", "mp4")
    count = 0
    writer = imageio.get_writer(
        out,
        format="FFMPEG",
        mode="I",
        fps=fps,
        codec="libx264",
        macro_block_size=16,
        ffmpeg_log_level="error",
    )
    try:
        for frame in frames:
            writer.append_data(depth_image(frame, layout, palette, near, far))
            count += 1
    finally:
        writer.close()
    return ExportSummary(out, count, 1)


def _export_npz(frames: Any, out: Path) -> ExportSummary:
    depth, video, times, index = [], [], [], []
    fmt = None
    for frame in frames:
        depth.append(frame.depth)
        if frame.video is not None:
            video.append(frame.video)
        times.append(frame.timestamp)
        index.append(frame.index)
        fmt = frame.depth_format
    arrays: dict[str, npt.NDArray[Any]] = {
        "depth": np.array(depth, dtype=np.uint16).reshape(-1, *(depth[0].shape if depth else ())),
        "timestamp": np.array(times, dtype=np.float64),
        "index": np.array(index, dtype=np.int64),
        "depth_format": np.array(int(fmt) if fmt is not None else 0),
    }
    if video and len(video) == len(depth):
        arrays["video"] = np.array(video)
    with open(out, "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]
    return ExportSummary(out, len(depth), 1)


__all__ = ["FORMATS", "LAYOUTS", "ExportSummary", "depth_image", "export", "parse_range"]
