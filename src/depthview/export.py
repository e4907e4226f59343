"""Export frames to files other programs read: colourised or 16-bit PNGs, MP4 video, PLY
point clouds, ``.npz`` of raw frames, and Rerun (``.rrd``) and Foxglove (``.mcap``)
recordings.

The output's name chooses the format (``FORMATS``): a file ending in ``.mp4``, ``.npz``,
``.rrd``, ``.mcap`` or ``.ply`` (one point cloud: the first selected frame), or a folder,
which holds one file per frame named by frame index (``frame-000042.png``): colourised PNG
by default, ``png16`` raw 16-bit PNG or ``ply`` with ``--format``. A ``--format`` that
contradicts the name is refused.

Everything is checked before anything is written, and nothing is left half-written: each
file is written under a temporary name and renamed when complete, an output folder is made
only when the first frame is ready (and removed again if nothing went into it), and an MP4
interrupted by Ctrl-C is finished as a shorter, playable video (or removed when empty).
Pillow (extra ``png``) and PyAV (extra ``video``) are imported only when their format is
used, with a message naming the extra when they are missing.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .colorize import Equalizer, colorize
from .errors import ExportError
from .filters import Chain, FilterSpec, filter_frames
from .filters.base import kernels as filter_kernels
from .frame import DepthFormat, Frame
from .geometry import Intrinsics, ply_bytes, point_cloud, video_as_rgb
from .outputs import check_output
from .palettes import PALETTES
from .registration import Registration, register
from .sources.base import Source, nearest
from .sources.depth_png import save_depth as save_depth_png

if TYPE_CHECKING:
    from .sinks import Sink

#: Pictures a frame can be exported as, with the viewer's names for them.
LAYOUTS = ("depth", "both", "video", "overlay")
#: What an MP4 can hold: frames per second, and pixels a side (libx264's limit).
MP4_FPS = (0.01, 1000.0)
MP4_MAX_SIDE = 16384
#: The ``overlay`` layout's blend of depth colours over the video (the viewer's default).
OVERLAY_OPACITY = 0.5


@dataclass(frozen=True)
class Settings:
    """How frames become files: the picture (layout, palette, range) and the geometry."""

    layout: str = "depth"
    palette: str | None = None  # None: glview for raw depth, turbo for millimetres
    near: float | None = None
    far: float | None = None
    fps: float | None = None
    #: None: the Kinect's, for each frame's size (``Intrinsics.for_size``).
    intrinsics: Intrinsics | None = None
    #: With a registration (``--registered``): depth aligned to the colour image in png16 and
    #: npz, and libfreenect's point clouds coloured from the colour pixels they fall on.
    registration: Registration | None = None
    #: The source's own registration (None: it has none), for millimetres in .rrd/.mcap.
    source_registration: Registration | None = None
    #: Histogram equalisation that follows the stream (metric palettes without a range), so
    #: a video does not flicker; None equalises each frame on its own.
    equalizer: Equalizer | None = None


#: ``write(frames, target, settings) -> frames written``; ``target`` is a folder or a file.
Writer = Callable[[Iterable[Frame], Path, Settings], int]


@dataclass(frozen=True)
class ExportFormat:
    """One output format: its name, the file suffix that selects it (None for folder formats),
    whether pictures (layouts, palettes) apply, the extra it needs, and its writer."""

    name: str
    suffix: str | None
    pictures: bool
    extra: tuple[str, str] | None  # (module to import, extra that installs it)
    write: Writer
    description: str

    @property
    def is_folder(self) -> bool:
        return self.suffix is None


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """Where the export went, how many frames it holds, and whether it was cut short."""

    path: Path
    frames: int
    files: int
    interrupted: bool = False

    def __str__(self) -> str:
        what = "interrupted: exported" if self.interrupted else "exported"
        return f"{what} {self.frames} frames ({self.files} files) to {self.path}"


# -- the pictures -------------------------------------------------------------------------
def resolve_palette(palette: str | None, frame: Frame) -> str:
    """The palette to use: the one asked for, else glview for raw depth and turbo for mm."""
    if palette is not None:
        return palette
    return "glview" if frame.depth_format.is_raw else "turbo"


def depth_image(frame: Frame, settings: Settings = Settings()) -> npt.NDArray[np.uint8]:
    """The picture of a frame in a layout: colourised depth, depth beside the video (as
    glview's window), the video alone, or depth blended over the video. IR shows as grey;
    a frame without video gets black where its video would be."""
    palette = resolve_palette(settings.palette, frame)
    rgb = colorize(
        frame.depth,
        palette,
        near=settings.near,
        far=settings.far,
        depth_format=frame.depth_format,
        equalizer=settings.equalizer,
    )
    if settings.layout == "depth":
        return rgb
    video = np.zeros_like(rgb)
    if frame.video is not None:
        picture = video_as_rgb(frame.video, frame.video.shape[:2])
        h, w = min(picture.shape[0], rgb.shape[0]), min(picture.shape[1], rgb.shape[1])
        video[:h, :w] = picture[:h, :w]
    if settings.layout == "both":
        return np.concatenate([rgb, video], axis=1)
    if settings.layout == "video":
        return video
    blend = rgb * OVERLAY_OPACITY + video * (1.0 - OVERLAY_OPACITY)
    return np.rint(blend).astype(np.uint8)


# -- writing files safely -------------------------------------------------------------------
def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary name beside ``path``; rename it to ``path`` only when complete."""
    tmp = _partial(path)
    try:
        yield tmp
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.replace(tmp, path)


def _require(module: str, extra: str, fmt: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ExportError(
            f"--format {fmt} needs {module.split('.')[0]}: pip install 'depthview[{extra}]'"
        ) from None


def _frame_name(frame: Frame, suffix: str) -> str:
    return f"frame-{frame.index:06d}.{suffix}"


def _write_pngs(frames: Iterable[Frame], folder: Path, settings: Settings) -> int:
    image = _require("PIL.Image", "png", "png")
    count = 0
    for frame in frames:
        with _atomic(folder / _frame_name(frame, "png")) as tmp:
            image.fromarray(depth_image(frame, settings)).save(tmp, format="PNG")
        count += 1
    return count


def _registered(frame: Frame, registration: Registration) -> npt.NDArray[np.uint16]:
    """The frame's depth in millimetres aligned to its colour image."""
    if frame.depth_format is DepthFormat.REGISTERED:
        return frame.depth
    if frame.depth_format is not DepthFormat.RAW_11BIT:
        raise ExportError(
            f"--registered: expected raw 11-bit depth to align, got {frame.depth_format.name}"
        )
    try:
        return register(frame.depth, registration)
    except ValueError as exc:
        raise ExportError(f"--registered: {exc}") from None


def _write_png16(frames: Iterable[Frame], folder: Path, settings: Settings) -> int:
    _require("PIL.Image", "png", "png16")
    count = 0
    for frame in frames:
        depth, fmt = frame.depth, frame.depth_format
        if settings.registration is not None:
            depth, fmt = _registered(frame, settings.registration), DepthFormat.REGISTERED
        with _atomic(folder / _frame_name(frame, "png")) as tmp:
            save_depth_png(tmp, depth, fmt)  # a PNG that says its units
        count += 1
    return count


def _cloud_bytes(frame: Frame, settings: Settings) -> bytes:
    video = frame.video
    usable = video is not None and video.shape[:2] == frame.depth.shape
    reg = settings.registration
    if reg is not None and frame.depth.shape != (480, 640):
        raise ExportError(
            f"--registered: expected the Kinect's 640x480 depth, got "
            f"{frame.depth.shape[1]}x{frame.depth.shape[0]} at frame {frame.index}"
        )
    cloud = point_cloud(
        frame.depth,
        depth_format=frame.depth_format,
        intrinsics=None if reg is not None else settings.intrinsics,
        video=video if usable else None,
        registration=reg,
    )
    return ply_bytes(cloud.points, cloud.colors)


def _write_ply_folder(frames: Iterable[Frame], folder: Path, settings: Settings) -> int:
    count = 0
    for frame in frames:
        with _atomic(folder / _frame_name(frame, "ply")) as tmp:
            tmp.write_bytes(_cloud_bytes(frame, settings))
        count += 1
    return count


def _write_ply_file(frames: Iterable[Frame], path: Path, settings: Settings) -> int:
    """One point cloud: the first frame (a PLY file holds one cloud)."""
    for frame in frames:
        with _atomic(path) as tmp:
            tmp.write_bytes(_cloud_bytes(frame, settings))
        return 1
    return 0


def _write_mp4(frames: Iterable[Frame], path: Path, settings: Settings) -> int:
    """H.264 through PyAV, in this process: on Ctrl-C the encoder is flushed and the file
    closed, so what was encoded stays a playable video; on a failure (a full disk) the
    temporary file is removed."""
    av = _require("av", "video", "mp4")
    rate = Fraction(settings.fps or 30.0).limit_denominator(1001)
    tmp = _partial(path)
    try:
        container = av.open(str(tmp), mode="w", format="mp4")
    except (OSError, av.FFmpegError) as exc:
        raise ExportError(f"{path}: cannot write ({_av_reason(exc)})") from None
    count = 0
    complete = False
    try:
        stream: Any = None
        try:
            for frame in frames:
                picture = depth_image(frame, settings)
                if stream is None:
                    stream = _mp4_stream(container, rate, picture.shape, path)
                picture = np.ascontiguousarray(picture[: stream.height, : stream.width])
                for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                    container.mux(packet)
                count += 1
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: finish what was encoded (the first one ends the frames)
        if stream is not None:
            for packet in stream.encode():  # flush
                container.mux(packet)
        container.close()
        complete = True
    except (OSError, av.FFmpegError) as exc:
        raise ExportError(f"{path}: cannot write ({_av_reason(exc)})") from None
    finally:
        if not complete:
            with contextlib.suppress(Exception):
                container.close()
            with contextlib.suppress(OSError):
                tmp.unlink()
    if count:
        os.replace(tmp, path)
    else:
        tmp.unlink()
    return count


def _mp4_stream(container: Any, rate: Fraction, shape: tuple[int, ...], path: Path) -> Any:
    """An H.264 stream for pictures of ``shape`` (cut to even sizes, as yuv420p needs)."""
    height, width = shape[0] - shape[0] % 2, shape[1] - shape[1] % 2
    if not (2 <= width <= MP4_MAX_SIDE and 2 <= height <= MP4_MAX_SIDE):
        raise ExportError(
            f"{path}: expected pictures of 2x2 to {MP4_MAX_SIDE}x{MP4_MAX_SIDE} pixels for "
            f"H.264, got {shape[1]}x{shape[0]}"
        )
    stream = container.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    return stream


def _av_reason(exc: BaseException) -> str:
    """FFmpeg's error as words ("No space left on device"), not "returned 22"."""
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC:
        return "disk full"
    words = getattr(exc, "strerror", None) or (os.strerror(code) if code else str(exc))
    return " ".join(str(words).split())


def _write_npz(frames: Iterable[Frame], path: Path, settings: Settings) -> int:
    """Raw frames with each stream's own times: depth, and video and accelerometer readings
    with the record (``seq``) and the host and device times of each. A stream some frames
    lack is kept for the frames that have it: ``video_valid`` marks the frames with video
    (zeros elsewhere), accelerometer rows and the times of a missing record are NaN, its
    ``seq`` and device time -1."""
    rows = list(frames)
    if not rows:
        return 0
    depth_format = rows[0].depth_format
    arrays: dict[str, npt.NDArray[Any]] = {
        "depth": np.stack([f.depth for f in rows]).astype(np.uint16, copy=False),
        "depth_format": np.array(int(depth_format)),
        "index": np.array([f.index for f in rows], dtype=np.int64),
        "timestamp": np.array([f.timestamp for f in rows], dtype=np.float64),
        "device_timestamp": _stamps([f.device_timestamp for f in rows]),
    }
    if settings.registration is not None:
        arrays["registered"] = np.stack([_registered(f, settings.registration) for f in rows])
    arrays.update(_npz_video(rows, path))
    if any(f.accel is not None for f in rows):
        nan3 = (math.nan, math.nan, math.nan)
        arrays["accel"] = np.array(
            [nan3 if f.accel is None else f.accel for f in rows], dtype=np.float64
        )
        arrays["accel_timestamp"] = np.array(
            [
                math.nan
                if f.accel is None
                else f.accel_stamp.host_time
                if f.accel_stamp
                else f.timestamp
                for f in rows
            ],
            dtype=np.float64,
        )
    with _atomic(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]
    return len(rows)


def _npz_video(rows: list[Frame], path: Path) -> dict[str, npt.NDArray[Any]]:
    """The video of the frames that have it, zeros and ``video_valid`` False for the rest."""
    first = next((f.video for f in rows if f.video is not None), None)
    if first is None:
        return {}
    for f in rows:
        if f.video is not None and (f.video.shape != first.shape or f.video.dtype != first.dtype):
            raise ExportError(
                f"{path}: expected every video frame {first.dtype} {first.shape} as the first, "
                f"got {f.video.dtype} {f.video.shape} at frame {f.index}"
            )
    video = np.zeros((len(rows), *first.shape), first.dtype)
    for i, f in enumerate(rows):
        if f.video is not None:
            video[i] = f.video
    stamps = [f.video_stamp if f.video is not None else None for f in rows]
    return {
        "video": video,
        "video_valid": np.array([f.video is not None for f in rows]),
        "video_seq": _stamps([s.seq if s else None for s in stamps]),
        "video_timestamp": np.array(
            [
                math.nan if f.video is None else s.host_time if s else f.timestamp
                for f, s in zip(rows, stamps, strict=True)
            ],
            dtype=np.float64,
        ),
        "video_device_timestamp": _stamps([s.device_timestamp if s else None for s in stamps]),
    }


def _write_rrd(frames: Iterable[Frame], path: Path, settings: Settings) -> int:
    """A Rerun recording (``depthview.sinks.rerun``), each record at its own time."""
    from .sinks.rerun import RerunSink

    with _atomic(path) as tmp:
        sink = RerunSink(tmp)
        sink.where = str(path)  # messages name the output, not its temporary name
        return _send_all(sink, frames, settings)


def _write_mcap(frames: Iterable[Frame], path: Path, settings: Settings) -> int:
    """An MCAP file in Foxglove's schemas (``depthview.sinks.foxglove``)."""
    from .sinks.foxglove import FoxgloveSink

    with _atomic(path) as tmp:
        sink = FoxgloveSink(tmp)
        sink.where = str(path)  # messages name the output, not its temporary name
        return _send_all(sink, frames, settings)


def _send_all(sink: Sink, frames: Iterable[Frame], settings: Settings) -> int:
    count = 0
    sink.set_camera(settings.intrinsics, registration=settings.source_registration)
    with sink:
        for frame in frames:
            sink.log(frame)
            count += 1
    return count


def _stamps(values: list[int | None]) -> npt.NDArray[np.int64]:
    """Integers with -1 where a frame has none."""
    return np.array([-1 if v is None else v for v in values], dtype=np.int64)


#: Every format, by name. Folder formats first: the first is the default for a folder.
FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("png", None, True, ("PIL.Image", "png"), _write_pngs, "colourised PNGs"),
        ExportFormat(
            "png16", None, False, ("PIL.Image", "png"), _write_png16, "raw 16-bit depth PNGs"
        ),
        ExportFormat("ply", None, False, None, _write_ply_folder, "a PLY point cloud a frame"),
        ExportFormat("mp4", ".mp4", True, ("av", "video"), _write_mp4, "H.264 video"),
        ExportFormat("npz", ".npz", False, None, _write_npz, "raw frames for numpy"),
        ExportFormat("rrd", ".rrd", False, ("rerun", "rerun"), _write_rrd, "Rerun recording"),
        ExportFormat(
            "mcap", ".mcap", False, ("foxglove", "foxglove"), _write_mcap, "Foxglove/ROS 2 MCAP"
        ),
    )
}
#: Single-file formats by the suffix that selects them; ``.ply`` is one point cloud.
SUFFIXES: dict[str, ExportFormat] = {
    **{f.suffix: f for f in FORMATS.values() if f.suffix is not None},
    ".ply": ExportFormat("ply", ".ply", False, None, _write_ply_file, "one PLY point cloud"),
}


def _one_of(option: str, value: str, choices: Iterable[str]) -> None:
    names = list(choices)
    if value not in names:
        raise ExportError(
            f"{option}: expected one of {', '.join(names)}, got {value!r}{nearest(value, names)}"
        )


def choose_format(out: Path, format: str | None) -> ExportFormat:
    """The format ``out``'s name selects, checked against an explicit ``--format``."""
    if format is not None:
        _one_of("--format", format, FORMATS)
    suffix = out.suffix.lower()
    by_name = SUFFIXES.get(suffix)
    if by_name is not None:
        if format is not None and format != by_name.name:
            raise ExportError(
                f"{out}: a {suffix} name means --format {by_name.name}, got --format {format}"
            )
        return by_name
    chosen = FORMATS[format or "png"]
    if not chosen.is_folder:
        raise ExportError(
            f"{out}: --format {chosen.name} writes one file: expected a name ending in "
            f"{chosen.suffix}, got {out.name!r}"
        )
    if suffix and format is None and not out.is_dir():
        known = ", ".join(sorted(SUFFIXES))
        raise ExportError(
            f"{out}: expected a name ending in {known}, or a folder (png, png16, ply), got "
            f"{suffix}; for a folder with a dot in its name give --format"
        )
    return chosen


def parse_range(text: str) -> tuple[int, int | None]:
    """``"10:200"`` -> (10, 200), ``"10:"`` -> (10, None), ``":50"`` -> (0, 50)."""
    start_text, sep, stop_text = text.partition(":")
    try:
        if not sep:
            raise ValueError
        start = int(start_text) if start_text.strip() else 0
        stop = int(stop_text) if stop_text.strip() else None
    except ValueError:
        raise ExportError(f"--range: expected START:END frame numbers, got {text!r}") from None
    if start < 0 or (stop is not None and stop <= start):
        raise ExportError(f"--range: expected 0 <= START < END, got {text!r}")
    return start, stop


def _check_target(out: Path, fmt: ExportFormat, overwrite: bool) -> None:
    """Refuse an output that exists (unless ``overwrite``), or that cannot be written: a
    file's folder must exist; a folder output is made later, with its parents."""
    if fmt.is_folder:
        if out.exists() and not out.is_dir():
            raise ExportError(f"{out}: expected a folder for --format {fmt.name}, got a file")
        if out.is_dir() and any(out.iterdir()) and not overwrite:
            raise ExportError(f"{out}: exists and is not empty; use --overwrite")
    elif out.is_dir():
        raise ExportError(f"{out}: expected a file name for {fmt.name}, got a folder")
    elif out.exists() and not overwrite:
        raise ExportError(f"{out}: exists; use --overwrite")
    base = out if fmt.is_folder else out.parent
    existing = next(p for p in (base, *base.parents) if p.exists() or p == Path(p.anchor))
    if not fmt.is_folder and existing != base:
        raise ExportError(f"{out}: the folder {base} does not exist")
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ExportError(f"{out}: cannot write into {existing} (not a writable folder)")


def _selected(
    source: Source | Iterable[Frame], start: int, stop: int | None, every: int, limit: int | None
) -> Iterator[Frame]:
    """Frames ``start:stop:every`` (at most ``limit``), seeking when the source can."""
    if isinstance(source, Source) and source.seekable and start:
        source.seek(start)
        i = start
    else:
        i = 0
    taken = 0
    for frame in source:
        if (stop is not None and i >= stop) or (limit is not None and taken >= limit):
            return
        if i >= start and (i - start) % every == 0:
            taken += 1
            yield frame
        i += 1


def _total(
    length: int | None, start: int, stop: int | None, every: int, limit: int | None
) -> int | None:
    end = stop if length is None else (length if stop is None else min(length, stop))
    total = None if end is None else max(0, (end - start + every - 1) // every)
    if limit is not None:
        total = limit if total is None else min(total, limit)
    return total


def export(
    source: Source | Iterable[Frame],
    out: str | os.PathLike[str],
    *,
    format: str | None = None,
    layout: str = "depth",
    palette: str | None = None,
    near: float | None = None,
    far: float | None = None,
    start: int = 0,
    stop: int | None = None,
    every: int = 1,
    frames: int | None = None,
    overwrite: bool = False,
    fps: float | None = None,
    intrinsics: Intrinsics | None = None,
    registered: bool = False,
    progress: bool = False,
    filters: FilterSpec | Chain | None = None,
) -> ExportSummary:
    """Export frames ``start:stop:every`` (at most ``frames`` of them) of a source to
    ``out``; the format follows ``out``'s name (see the module docstring). ``registered``
    aligns depth to the colour image (png16, npz) and colours point clouds from the colour
    pixels they fall on (ply), with the source's registration or the default one. PLY
    clouds use ``intrinsics``, else the source's own (``Source.intrinsics``). ``filters``
    (a ``--filter`` spec or a Chain) runs on each exported frame's depth in millimetres."""
    if not os.fspath(out).strip():
        raise ExportError(f"OUT: expected a file or folder name, got {os.fspath(out)!r}")
    out = Path(out)
    if isinstance(source, Source):
        check_output(out, source.inputs, ExportError)
    fmt = choose_format(out, format)
    _one_of("--layout", layout, LAYOUTS)
    if palette is not None:
        _one_of("--palette", palette, PALETTES)
    if every < 1:
        raise ExportError(f"--every: expected a positive step, got {every}")
    if frames is not None and frames < 1:
        raise ExportError(f"--frames: expected a positive number of frames, got {frames}")
    if start < 0 or (stop is not None and stop <= start):
        raise ExportError(f"--range: expected 0 <= START < END, got {start}:{stop}")
    if fps is not None and not (MP4_FPS[0] <= fps <= MP4_FPS[1]):
        raise ExportError(
            f"--fps: expected frames per second from {MP4_FPS[0]:g} to {MP4_FPS[1]:g}, got {fps}"
        )
    if palette == "glview" and (near is not None or far is not None):
        raise ExportError(
            "--palette glview maps raw values and has no range: --near and --far need a "
            "metric palette such as turbo"
        )
    if near is not None and far is not None and not near < far:
        raise ExportError(f"--near {near} must be less than --far {far}")
    if registered and fmt.name not in ("png16", "ply", "npz"):
        raise ExportError(f"--registered: applies to png16, ply and npz, not {fmt.name}")
    if not fmt.pictures and (
        layout != "depth" or palette is not None or near is not None or far is not None
    ):
        raise ExportError(
            f"--format {fmt.name} holds depth values, not pictures: --layout, --palette, "
            "--near and --far apply to png and mp4"
        )
    if layout != "depth" and isinstance(source, Source) and source.has_video is False:
        raise ExportError(
            f"--layout {layout}: expected a source with video, got {source.name}, which has "
            "depth only; use --layout depth"
        )
    if filters is not None and registered:
        raise ExportError("--filter and --registered: filter depth or align it, not both")
    if fmt.suffix == ".ply":
        frames = 1  # one point cloud a file
    length = source.length if isinstance(source, Source) else None
    if isinstance(source, list):
        length = len(source)
    total = _total(length, start, stop, every, frames)
    if total is None:
        raise ExportError("--frames: expected a number of frames (or --range) for a live source")
    if fmt.extra is not None:
        _require(*fmt.extra, fmt.name)
    _check_target(out, fmt, overwrite)
    rate = fps or (source.fps if isinstance(source, Source) else None) or 30.0
    if intrinsics is None:
        intrinsics = source.intrinsics if isinstance(source, Source) else None
    own = source.registration if isinstance(source, Source) else None
    registration = (own or Registration.default()) if registered else None
    settings = Settings(
        layout, palette, near, far, rate, intrinsics, registration, own, Equalizer()
    )
    from tqdm import tqdm

    made_folder = fmt.is_folder and not out.exists()
    bar = tqdm(
        total=total, unit="frame", file=sys.stderr, disable=not progress, desc=f"export {fmt.name}"
    )
    chosen = _selected(source, start, stop, every, frames)
    chain = filters(own) if isinstance(filters, FilterSpec) else filters
    if chain is not None and len(chain):
        filter_kernels()  # a missing extra is reported before anything is written
        chosen = filter_frames(chosen, chain, own)
    selected = _Stoppable(chosen, bar, out, fmt.is_folder)
    try:
        with selected.stop_on_ctrl_c():
            count = fmt.write(selected, out, settings)
    except ValueError as exc:  # colour range, palette/format mismatch
        raise ExportError(str(exc)) from None
    except OSError as exc:
        raise ExportError(f"{out}: cannot write ({exc.strerror or exc})") from None
    finally:
        bar.close()
        if made_folder and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
    files = count if fmt.is_folder else int(count > 0)
    return ExportSummary(out, count, files, selected.stopped)


class _Stoppable:
    """The frames to write. Ctrl-C ends them after the frame being written, so the writer
    finishes its file normally; the output folder is made when the first frame is ready."""

    def __init__(self, frames: Iterator[Frame], bar: Any, out: Path, folder: bool) -> None:
        self._frames, self._bar, self._out, self._folder = frames, bar, out, folder
        self.stopped = False

    @contextlib.contextmanager
    def stop_on_ctrl_c(self) -> Iterator[None]:
        """While writing, the first Ctrl-C stops after the current frame; a second one
        interrupts at once. Only the main thread can take signals: elsewhere, a no-op."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(signum: int, frame: object) -> None:
            self.stopped = True
            signal.signal(signal.SIGINT, previous)

        previous = signal.signal(signal.SIGINT, stop)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def __iter__(self) -> Iterator[Frame]:
        taken = 0
        for frame in self._frames:
            if taken:
                self._bar.update(1)  # the writer is done with the previous frame
            if self.stopped:
                return
            if self._folder:
                self._out.mkdir(parents=True, exist_ok=True)
            taken += 1
            yield frame
        if taken:
            self._bar.update(1)


__all__ = [
    "FORMATS",
    "LAYOUTS",
    "ExportFormat",
    "ExportSummary",
    "Settings",
    "choose_format",
    "depth_image",
    "export",
    "parse_range",
]
