"""The conversion as plain functions over one unit of work, whatever runs them.

``plan`` splits scenes into units (a scene, or a chunk of a long recording's depth frames);
``run_unit`` converts one unit into the scene's temporary folder and returns what it wrote
(rows, counts, skipped frames, checksums); ``finish_scene`` writes a scene's lists and its
manifest line and renames the folder into place. ``engine`` decides where units run (this
process, local processes, a Dask cluster); nothing here knows.

A unit is idempotent: run twice (a worker died and Dask ran it again) it writes the same
files with the same bytes, each renamed into place only when complete.
"""

from __future__ import annotations

import math
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..camera_file import CAMERA_FILE, SceneCamera, camera_text
from ..camera_models import Intrinsics, StereoCalibration
from ..errors import BrokenFile, DepthviewError, LeftOut, SourceError
from ..fakenect_format import KIND_ACCEL, KIND_DEPTH, KIND_VIDEO, no_depth_entry
from ..filters import FilterSpec
from ..filters.frames import to_shape
from ..frame import DEPTH_HEIGHT, DEPTH_WIDTH, DepthFormat, Stream, TiltState, VideoFormat
from ..outputs import partial_path as temporary_name
from ..outputs import sha256_file, write_atomic
from ..sources.base import Source
from ..writers.base import Pair, Row
from ..writers.npz import NpzWriter
from ..writers.sinkfile import FILES as SINK_FILES
from ..writers.sinkfile import SinkWriter
from ..writers.tum import TumWriter, time_name, tum_lists
from .frames import (
    DEPTH_ONLY,
    Aligner,
    DepthStep,
    alignment_label,
    colour_camera,
    depth_only_mm,
    process_pair,
)
from .pairing import Ranked, StreamingPairer, associate, check_max_dt, nearest
from .scenes import Recording, Scene

#: Depth frames per unit of a long recording (TUM output only; one file is one unit).
CHUNK_FRAMES = 1000
#: Record kinds counted apart in the manifest's ``bad_records`` (a bad depth frame is a
#: bad frame; the others are records that are not frames).
RECORD_KINDS = ("video", "accel", "index", "source")
FORMATS = ("tum", "npz", "rrd", "mcap")
#: Formats written as one file per scene (one unit each), by their suffix.
FILE_FORMATS = {"npz": ".npz", "rrd": ".rrd", "mcap": ".mcap"}
#: Unreadable frames in a row after which a source is taken to be broken, not a frame.
MAX_FAILURES_IN_A_ROW = 100


@dataclass(frozen=True)
class Settings:
    """Everything a unit needs besides its scene (picklable: it travels to workers).
    ``calibration`` is "libfreenect", "nyu" or a ``StereoCalibration``; ``depth_format``
    overrides how a recording's raw depth is read (``RAW_11BIT_NYU`` for NYU's fit)."""

    out: str
    format: str = "tum"
    calibration: str | StereoCalibration = "libfreenect"
    max_dt: float | None = None
    depth_format: DepthFormat | None = None
    step: DepthStep | None = None
    filters: FilterSpec | None = None  # ``--filter``: run on the aligned mm before ``step``
    pairing: str = "nearest"  # ``pairing.PAIRINGS``
    tum_scale: float = 5000.0  # depth PNG values per metre in the TUM layout
    depth_only: bool = False  # depth frames alone, in the depth camera's own image (TUM)


def unit_step(settings: Settings) -> DepthStep | None:
    """The depth step of one unit: a fresh chain of ``settings.filters`` (its temporal
    history starts with the unit: a scene, or a chunk of a long one), then ``step``. A
    chain that decimates is brought back to the frame's size, as everywhere filters run."""
    if not settings.filters:
        return settings.step
    chain, then = settings.filters(), settings.step

    def step(mm: npt.NDArray[np.uint16]) -> npt.NDArray[np.uint16]:
        out = to_shape(chain(mm), mm.shape)
        return out if then is None else then(out)

    return step


@dataclass(frozen=True)
class Unit:
    scene: Scene
    settings: Settings
    start: int = 0
    stop: int | None = None  # depth frames [start, stop) of the scene; None: to the end
    chunk: int = 0
    chunks: int = 1


@dataclass
class UnitResult:
    scene: str
    chunk: int
    frames: int = 0  # depth frames in the unit
    rows: list[Row] = field(default_factory=list)
    #: Readable depth frames left out: (file, time, reason).
    dropped: list[tuple[str, float, str]] = field(default_factory=list)
    #: What could not be read: (kind, file, reason); kind "depth" (a bad frame) or one of
    #: ``RECORD_KINDS``.
    bad: list[tuple[str, str, str]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # name -> sha256
    alignments: set[str] = field(default_factory=set)  # what was done to the depth
    over_range: int = 0  # depth pixels beyond the TUM layout's range, written as 0
    camera: SceneCamera | None = None  # the camera of the aligned depth
    #: (depth time, input file) of each kept frame of a source whose times are made up
    #: (index / fps): the link to the input's file names, kept in the manifest.
    input_files: list[tuple[float, str]] = field(default_factory=list)
    synthetic_times: bool = False
    units_guess: str = ""  # the source's word when its units are a guess
    cpu_seconds: float = 0.0  # the unit's process CPU time (not in the manifest)
    #: Accelerometer records not written, counted: those of depth frames not kept (bad,
    #: dropped), and those nearest to no depth frame (each pair keeps the nearest one).
    accel_left_out: int = 0


def partial_path(out: Path, scene: Scene, fmt: str) -> Path:
    """Where a scene is written until complete (hidden, beside the final name)."""
    return temporary_name(final_path(out, scene, fmt))


def final_path(out: Path, scene: Scene, fmt: str) -> Path:
    return out / (scene.name + FILE_FORMATS.get(fmt, ""))


# -- planning --------------------------------------------------------------------------------
def _open_options(settings: Settings) -> dict[str, Any]:
    """What ``dv.open`` is told of a scene: its units (``--depth-format``), and ``strict``,
    so that a broken file is a bad frame of the manifest, not a frame skipped unseen."""
    units = {} if settings.depth_format is None else {"depth_format": settings.depth_format}
    return {"strict": True, **units}


def depth_count(scene: Scene, settings: Settings) -> int | None:
    """How many depth frames a scene has (from its index; None when only reading tells).
    ``DepthviewError``, before anything is written, for a recording that cannot give a
    dataset: no depth frame, or no colour stream. Units that are a guess are said here,
    before the run, as a warning (and in the scene's manifest line)."""
    depth_only = settings.depth_only
    if scene.kind == "source":
        from .. import sources

        with sources.open(scene.path, **_open_options(settings)) as src:
            if src.units_guess:
                warnings.warn(f"{scene.path}: {src.units_guess}", stacklevel=2)
            if not depth_only and src.has_video is False:  # as a recording's (trial AL D11)
                raise _no_colour_stream(scene.path, src.length)
            return src.length
    with Recording(scene) as rec:
        entries, bad_lines = rec.index()
        where = rec.where("INDEX.txt")
    depth = sum(1 for e in entries if e.kind == KIND_DEPTH)
    if depth == 0:
        raise DepthviewError(no_depth_entry(where, len(entries), bad_lines))
    if not depth_only and not any(e.kind == KIND_VIDEO for e in entries):
        raise _no_colour_stream(where, depth)
    return depth


def _no_colour_stream(where: str, depth: int | None) -> DepthviewError:
    """A scene without colour, refused before anything is written, saying the way out."""
    frames = f"{depth} depth frame(s)" if depth is not None else "its depth frames"
    return DepthviewError(
        f"{where}: expected a colour stream to pair {frames} with, got none (--depth-only "
        "writes the depth alone)"
    )


def plan(scene: Scene, settings: Settings, chunk_frames: int = CHUNK_FRAMES) -> list[Unit]:
    """The units of one scene: chunks of ``chunk_frames`` depth frames for a recording
    written as TUM, else the whole scene (a file is written by one unit)."""
    count = depth_count(scene, settings)
    if settings.format in FILE_FORMATS:
        return [Unit(scene, settings)]
    if scene.kind == "source" or not count:
        return [Unit(scene, settings)]
    chunks = max(1, math.ceil(count / chunk_frames))
    return [
        Unit(scene, settings, k * chunk_frames, min(count, (k + 1) * chunk_frames), k, chunks)
        for k in range(chunks)
    ]


# -- running one unit ------------------------------------------------------------------------
def aligner_for(settings: Settings, registration: Any) -> Aligner:
    c = settings.calibration
    if isinstance(c, StereoCalibration):
        return Aligner("stereo", calibration=c)
    if c == "nyu":
        return Aligner("nyu", calibration=StereoCalibration.nyu())
    return Aligner("libfreenect", registration=registration)


def _accel_mks(state: Any) -> tuple[tuple[float, float, float], float | None] | None:
    """A record's reading in m/s^2 and its motor angle in degrees (None while moving)."""
    return (state.accel_mks, state.tilt_deg) if isinstance(state, TiltState) else None


@dataclass(frozen=True)
class _Item:
    """One pair to convert, its files read only when it is converted."""

    where: str
    depth_time: float
    depth: Callable[[], npt.NDArray[np.uint16]]
    depth_format: DepthFormat
    #: The colour frames to try, best first: (time, file, loader).
    colour: Callable[[], Iterator[tuple[float, str, Callable[[], Any]]]]
    no_colour: Callable[[], str]  # why the frame is dropped when none of them is usable
    accel_time: float | None
    accel_where: str
    accel: Callable[[], Any] | None
    aligner: Aligner
    intrinsics: Intrinsics | None = None  # the source's own camera (depth not aligned)
    #: An earlier depth frame of the scene whose time names the same file (TUM names depth
    #: files by time, to the microsecond): this one is dropped, not written over it.
    same_time_as: str = ""


def run_unit(unit: Unit, on_frame: Callable[[], object] | None = None) -> UnitResult:
    """Convert one unit into its scene's temporary folder (TUM) or file (.npz, .rrd, .mcap).
    A frame that cannot be read or aligned is skipped and listed with the reason.
    ``on_frame`` is called after each depth frame written (progress, in process only)."""
    out = Path(unit.settings.out)
    fmt = unit.settings.format
    partial = partial_path(out, unit.scene, fmt)
    result = UnitResult(unit.scene.name, unit.chunk)
    cpu_start = time.process_time()
    final = final_path(out, unit.scene, fmt)
    writer: TumWriter | NpzWriter | SinkWriter
    if fmt == "npz":
        writer = NpzWriter(partial)
    elif fmt in FILE_FORMATS:
        writer = SINK_FILES[fmt].pair_writer(partial, str(final))
    else:
        writer = TumWriter(partial, unit.settings.tum_scale)
    step = unit_step(unit.settings)
    try:
        items = (
            _source_items(unit, result)
            if unit.scene.kind == "source"
            else _recording_items(unit, result)
        )
        bad_colour: dict[str, str] = {}
        named: dict[str, str] = {}  # depth file name -> the input it was written from
        with_accel = written = 0
        bad_before = sum(kind == "accel" for kind, _, _ in result.bad)
        for item in items:
            with_accel += item.accel is not None
            if isinstance(writer, TumWriter):
                earlier = item.same_time_as or named.get(time_name(item.depth_time), "")
                if earlier:
                    result.dropped.append((item.where, item.depth_time, same_time(earlier)))
                    continue
                named[time_name(item.depth_time)] = item.where
            try:
                depth = item.depth()
            except SourceError as exc:
                result.bad.append(("depth", item.where, str(exc)))
                continue
            if unit.settings.depth_only:
                try:
                    mm = depth_only_mm(depth, item.depth_format, item.aligner.registration, step)
                except ValueError as exc:
                    result.bad.append(("depth", item.where, str(exc)))
                    continue
                result.alignments.add(DEPTH_ONLY)
                if result.camera is None:
                    own = item.intrinsics or Intrinsics()
                    result.camera = SceneCamera(
                        own.for_size(mm.shape[1], mm.shape[0]) if item.intrinsics is None else own,
                        mm.shape[1],
                        mm.shape[0],
                        unit.settings.tum_scale,
                        "the depth camera (depth-only output: not aligned to a colour image)",
                    )
                assert isinstance(writer, TumWriter)  # convert allows depth-only for TUM only
                kept = _stored(depth, item.depth_format, step)
                reading = _read_accel(item, result)
                written += reading is not None
                accel, tilt = reading or (None, None)
                pair = Pair(
                    item.depth_time,
                    mm,
                    accel_time=item.accel_time,
                    accel=accel,
                    tilt_deg=tilt,
                    stored=kept,
                )
                result.rows.append(writer.write(pair))
                if on_frame is not None:
                    on_frame()
                continue
            check_calibration_size(item.aligner, depth.shape)
            picked = _usable_colour(item, bad_colour, result)
            if picked is None:  # its candidates, if any, unreadable: said so (trial X)
                tried = next(iter(item.colour()), None) is not None
                why = UNREADABLE_COLOUR if tried else item.no_colour()
                result.dropped.append((item.where, item.depth_time, why))
                continue
            rgb_time, rgb = picked
            check_colour_size(item.aligner, item.depth_format, rgb.shape)
            per_metre = unit.settings.tum_scale if isinstance(writer, TumWriter) else 1000.0
            result.alignments.add(alignment_label(item.aligner, item.depth_format, per_metre))
            try:
                mm, colour = process_pair(depth, item.depth_format, rgb, item.aligner, step)
            except ValueError as exc:
                result.bad.append(("depth", item.where, str(exc)))
                continue
            reading = _read_accel(item, result)
            written += reading is not None
            accel, tilt = reading or (None, None)
            if result.camera is None:
                result.camera = SceneCamera(
                    colour_camera(
                        item.aligner,
                        mm.shape[1],
                        mm.shape[0],
                        item.intrinsics if item.depth_format.is_metric else None,
                    ),
                    mm.shape[1],
                    mm.shape[0],
                    unit.settings.tum_scale,
                    *(
                        ("the camera the input's depth came with (not aligned: no calibration)",)
                        if alignment_label(item.aligner, item.depth_format).startswith("not")
                        else ()
                    ),
                )
            not_aligned = alignment_label(item.aligner, item.depth_format).startswith("not")
            if isinstance(writer, SinkWriter) and writer.camera is None:
                writer.set_camera(result.camera.intrinsics, aligned=not not_aligned)
            elif isinstance(writer, NpzWriter) and writer.camera is None:
                writer.set_camera(result.camera.intrinsics)
            kept = None
            if not_aligned:
                kept = _stored(depth, item.depth_format, step)
            pair = Pair(item.depth_time, mm, rgb_time, colour, item.accel_time, accel, tilt, kept)
            result.rows.append(writer.write(pair))
            if result.synthetic_times:
                result.input_files.append((item.depth_time, item.where))
            if on_frame is not None:
                on_frame()
        unread = sum(kind == "accel" for kind, _, _ in result.bad) - bad_before
        result.accel_left_out += with_accel - written - unread
        if isinstance(writer, TumWriter):
            result.files = writer.files
            result.over_range = writer.over_range
        else:
            writer.finish()
            result.files[final.name] = sha256_file(partial)
        result.cpu_seconds = time.process_time() - cpu_start
    except BaseException:
        if not isinstance(writer, TumWriter):
            writer.abandon()
        raise
    return result


def same_time(earlier: str) -> str:
    """Why a depth frame at the time of an earlier one is dropped, as the manifest says."""
    return (
        f"same time as the depth frame {earlier} (to the microsecond): the TUM layout names "
        "depth files by time, one file per time"
    )


def _const(value: Any) -> Any:
    return value


def _usable_colour(
    item: _Item, bad_colour: dict[str, str], result: UnitResult
) -> tuple[float, npt.NDArray[np.uint8]] | None:
    """The first of the item's colour candidates that reads as RGB; each one that does not
    is counted once as a bad colour record and passed over, here and for later frames."""
    for t, where, load in item.colour():
        if where in bad_colour:
            continue
        try:
            rgb = load()
            if not (isinstance(rgb, np.ndarray) and rgb.ndim == 3 and rgb.dtype == np.uint8):
                raise ValueError(f"expected RGB colour (H, W, 3) uint8, got {_shape(rgb)}")
        except (SourceError, ValueError) as exc:
            bad_colour[where] = str(exc)
            result.bad.append(("video", where, str(exc)))
            continue
        return t, rgb
    return None


def check_calibration_size(aligner: Aligner, shape: tuple[int, ...]) -> None:
    """A stereo calibration made for another image size would put every pixel in the wrong
    place: the scene is refused (``DepthviewError``), not converted frame by frame."""
    c = aligner.calibration
    if aligner.model == "stereo" and c is not None and (c.height, c.width) != tuple(shape[:2]):
        raise DepthviewError(
            f"--calibration: expected a calibration for {shape[1]}x{shape[0]} frames, got one "
            f"for {c.width}x{c.height}"
        )


def check_colour_size(aligner: Aligner, depth_format: DepthFormat, shape: tuple[int, ...]) -> None:
    """Colour of another size than the one the alignment maps depth into would be written
    beside depth that does not line up with it (trial AD: 1280x1024 colour beside depth
    registered to libfreenect's 640x480): the scene is refused (``DepthviewError``)."""
    if depth_format.is_metric and aligner.model == "libfreenect":
        return  # written as it came, not aligned: no size to meet
    c = aligner.calibration
    width, height = (c.width, c.height) if c is not None else (DEPTH_WIDTH, DEPTH_HEIGHT)
    if tuple(shape[:2]) != (height, width):
        by = "the calibration" if c is not None else "libfreenect's registration"
        raise DepthviewError(
            f"expected {width}x{height} colour, the image {by} aligns depth to, got "
            f"{shape[1]}x{shape[0]}"
        )


def _shape(value: object) -> object:
    return (value.shape, value.dtype) if isinstance(value, np.ndarray) else type(value).__name__


def _recording_items(unit: Unit, result: UnitResult) -> Iterator[_Item]:
    """A fakenect recording (folder or zip): pairs decided from INDEX.txt's times."""
    settings = unit.settings
    depth_format = settings.depth_format or DepthFormat.RAW_11BIT
    with Recording(unit.scene) as rec:
        entries, bad_lines = rec.index()
        if unit.chunk == 0:
            result.bad += [
                ("index", f"{rec.where('INDEX.txt')} line {n}", why) for n, why in bad_lines
            ]
        aligner = aligner_for(settings, rec.registration())
        depth = [e for e in entries if e.kind == KIND_DEPTH]
        video = [e for e in entries if e.kind == KIND_VIDEO]
        accel = [e for e in entries if e.kind == KIND_ACCEL]
        depth_times = [e.unix_time for e in depth]
        video_times = [e.unix_time for e in video]
        ranked = Ranked(video_times)
        first_named: dict[str, int] = {}  # over the whole recording: chunks see each other
        for k, t in enumerate(depth_times):
            first_named.setdefault(time_name(t), k)
        matched = None
        if settings.pairing == "associate":  # a frame dropped for its time takes no colour
            firsts = sorted(first_named.values())
            matched = np.full(len(depth_times), -1, np.int64)
            matched[firsts] = associate(
                [depth_times[k] for k in firsts], video_times, settings.max_dt
            )
        ai = nearest(depth_times, [e.unix_time for e in accel], settings.max_dt)
        if unit.chunk == 0:  # a Kinect reads more often than it gives depth: one a pair kept
            result.accel_left_out += len(accel) - len({int(i) for i in ai if i >= 0})
        stop = len(depth) if unit.stop is None else min(unit.stop, len(depth))
        result.frames = max(0, stop - unit.start)

        def candidates(k: int) -> Iterator[tuple[float, str, Callable[[], Any]]]:
            if matched is not None:
                chosen = [int(matched[k])] if matched[k] >= 0 else []
            else:
                chosen = ranked.around(depth_times[k], settings.max_dt)  # type: ignore[assignment]
            for j in chosen:
                v = video[j]
                yield v.unix_time, rec.where(v.name), partial(rec.video, v.name)

        for k in range(unit.start, stop):
            d = depth[k]
            a = accel[ai[k]] if ai[k] >= 0 else None
            yield _Item(
                rec.where(d.name),
                d.unix_time,
                partial(rec.depth, d.name),
                depth_format,
                partial(candidates, k),
                partial(no_colour_reason, ranked, d.unix_time, settings),
                None if a is None else a.unix_time,
                "" if a is None else rec.where(a.name),
                None if a is None else partial(rec.accel, a.name),
                aligner,
                same_time_as=""
                if first_named[time_name(d.unix_time)] == k
                else rec.where(depth[first_named[time_name(d.unix_time)]].name),
            )


#: Why a depth frame whose colour candidates were all unreadable has no pair.
UNREADABLE_COLOUR = "every colour frame within --max-dt is unreadable (listed under bad)"


def no_colour_reason(ranked: Ranked, t: float, settings: Settings) -> str:
    """Why a depth frame at ``t`` has no colour frame, in the words the manifest keeps."""
    if len(ranked.sorted) == 0:
        return "no colour frame: the recording has no colour stream"
    gap = ranked.gap(t)
    limit = check_max_dt(settings.max_dt)
    if settings.pairing == "associate" and gap <= limit:
        return (
            "no colour frame left within --max-dt (associate pairs one to one: the nearest "
            f"ones, {gap * 1000:.1f} ms away, went to closer depth frames)"
        )
    if gap > limit:
        return f"no colour frame within --max-dt {limit:g} s (nearest {gap * 1000:.1f} ms away)"
    return UNREADABLE_COLOUR


def _opened(scene: Scene, settings: Settings) -> Source:
    """The scene's source opened again to be read: what opening it says (units guessed,
    colour paired by times) was said when the scene was planned (``depth_count``), once,
    not again for each unit (trial AD: a TUM folder's pairing warning twice)."""
    from .. import sources

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sources.open(scene.path, **_open_options(settings))


def _source_items(unit: Unit, result: UnitResult) -> Iterator[_Item]:
    """Anything ``dv.open`` reads: records paired by their own times, as they arrive
    ("nearest"), or after a first pass over the times ("associate")."""

    settings = unit.settings
    with _opened(unit.scene, settings) as src:
        result.units_guess = src.units_guess
        aligner = aligner_for(settings, src.registration)
        given = getattr(src, "depth_format", None)  # what the source says it gives
        video = getattr(src, "video_format", None)
        if (
            src.has_video
            and isinstance(video, VideoFormat)
            and video.is_ir
            and not settings.depth_only
        ):
            raise DepthviewError(  # trial AD: said as unreadable colour frames
                f"{unit.scene.path}: its video is IR ({video.name}), not colour: a dataset "
                "pairs depth with colour; --depth-only writes the depth alone"
            )
        raw = (DepthFormat.RAW_11BIT, DepthFormat.RAW_11BIT_NYU)
        if aligner.model == "nyu" and isinstance(given, DepthFormat) and given not in raw:
            raise DepthviewError(  # said once, not as every frame bad (trial AB)
                f"--calibration nyu: NYU's toolbox aligns raw 11-bit disparity, and "
                f"{unit.scene.path} holds {given.unit_name}"
            )
        seen_video = False
        files = getattr(src, "frame_files", None)
        result.synthetic_times = files is not None and not getattr(src, "own_times", True)

        def where(index: int) -> str:
            if files is not None and 0 <= index < len(files):
                return str(files[index])
            return f"{unit.scene.path} frame {index}"

        def item(
            t: float, depth: Any, fmt: DepthFormat, index: int, video: Any, accel: Any
        ) -> _Item:
            def colour() -> Iterator[tuple[float, str, Callable[[], Any]]]:
                if video is not None:
                    yield video[0], f"{unit.scene.path} colour {index}", partial(_const, video[1])

            if not seen_video:
                why = "no colour frame: the source has no colour stream"
            elif settings.pairing == "associate":
                why = "no colour frame left within --max-dt (associate pairs one to one)"
            else:
                why = f"no colour frame within --max-dt {check_max_dt(settings.max_dt):g} s"
            return _Item(
                where(index),
                t,
                partial(_const, depth),
                fmt,
                colour,
                partial(_const, why),
                None if accel is None else accel[0],
                f"{unit.scene.path} frame {index}",
                None if accel is None else partial(_const, accel[1]),
                aligner,
                src.intrinsics,
            )

        if settings.pairing == "associate":
            src_times = UnitResult(unit.scene.name, unit.chunk)  # the first pass counts nothing
            depth_t: list[float] = []
            video_t: list[float] = []
            with _opened(unit.scene, settings) as first:
                for stream, t, _, _, _ in _source_records(first, unit, src_times):
                    if stream is Stream.DEPTH:
                        depth_t.append(t)
                    elif stream is Stream.VIDEO:
                        video_t.append(t)
            match = associate(depth_t, video_t, settings.max_dt)
            wanted = {int(j): k for k, j in enumerate(match) if j >= 0}
            seen_video = bool(video_t)
            held_video: dict[int, tuple[float, Any]] = {}
            held_depth: dict[int, tuple[float, Any, DepthFormat, int, Any]] = {}
            last_accel: tuple[float, Any] | None = None
            nd = nv = 0
            for stream, t, data, fmt, index in _source_records(src, unit, result):
                if stream is Stream.ACCEL:
                    last_accel = (t, data)
                elif stream is Stream.VIDEO:
                    if nv in wanted:
                        k = wanted[nv]
                        if k in held_depth:
                            dt, dd, df, di, da = held_depth.pop(k)
                            yield item(dt, dd, df, di, (t, data), da)
                        else:
                            held_video[nv] = (t, data)
                    nv += 1
                else:
                    j = int(match[nd]) if nd < len(match) else -1
                    if j < 0:
                        yield item(t, data, fmt, index, None, last_accel)
                    elif j in held_video:
                        yield item(t, data, fmt, index, held_video.pop(j), last_accel)
                    else:
                        held_depth[nd] = (t, data, fmt, index, last_accel)
                    nd += 1
            for dt, dd, df, di, da in held_depth.values():  # the source changed between passes
                yield item(dt, dd, df, di, None, da)
            return

        pairer: StreamingPairer[tuple[float, Any, DepthFormat, int]] = StreamingPairer(
            settings.max_dt
        )

        def items(decided: Iterator[tuple[Any, Any, Any]]) -> Iterator[_Item]:
            for (t, depth, fmt, index), video, accel in decided:
                yield item(t, depth, fmt, index, video, accel)

        for stream, t, data, fmt, index in _source_records(src, unit, result):
            if stream is Stream.VIDEO:
                seen_video = True
                yield from items(pairer.add_video(t, data))
            elif stream is Stream.ACCEL:
                yield from items(pairer.add_accel(t, data))
            else:
                yield from items(pairer.add_depth(t, (t, data, fmt, index)))
        yield from items(pairer.finish())


def _read_accel(
    item: _Item, result: UnitResult
) -> tuple[tuple[float, float, float], float | None] | None:
    """The accelerometer record of a kept pair in m/s^2, with its tilt in degrees (None: it
    has none, or it does not read: then in ``bad``, and the pair stands without it)."""
    if item.accel is None:
        return None
    try:
        return _accel_mks(item.accel())
    except SourceError as exc:
        result.bad.append(("accel", item.accel_where, str(exc)))
        return None


def _stored(
    depth: npt.NDArray[np.uint16], depth_format: DepthFormat, step: DepthStep | None
) -> tuple[npt.NDArray[np.uint16], DepthFormat] | None:
    """``Pair.stored``: metric depth no depth step changes, as the source stored it."""
    return (depth, depth_format) if depth_format.is_metric and step is None else None


def _source_records(
    src: Any, unit: Unit, result: UnitResult
) -> Iterator[tuple[Stream, float, Any, DepthFormat, int]]:
    """A source's records in arrival order: (stream, host time, data, depth format, frame
    index). A frame the source cannot read counts as a frame and a bad one; what it skips
    with a warning is a bad record of kind "source". A colour record at the time of the one
    before is that same colour frame again (a dataset whose colour frame serves two depth
    frames delivers it with both): it is one record, so one-to-one pairing sees it once."""
    frames = iter(src)
    failures = 0
    last_video: float | None = None
    while True:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                frame = next(frames, None)
            except SourceError as exc:
                failures += 1
                if failures > MAX_FAILURES_IN_A_ROW:
                    raise
                result.frames += 1
                where = exc.path if isinstance(exc, BrokenFile) and exc.path else None
                result.bad.append(("depth", where or unit.scene.path, str(exc)))
                continue
        for w in caught:  # what it left out (its file and kind when it says them), else its words
            left_out = w.message if isinstance(w.message, LeftOut) else None
            kind, where = (left_out.kind, left_out.path) if left_out else ("source", None)
            result.bad.append((kind, where or unit.scene.path, str(w.message)))
        if frame is None:
            return
        failures = 0
        for record in frame.own_records():
            if record.stream is Stream.VIDEO:
                if record.stamp.host_time == last_video:
                    continue
                last_video = record.stamp.host_time
            result.frames += record.stream is Stream.DEPTH
            fmt = record.format if isinstance(record.format, DepthFormat) else None
            yield (
                record.stream,
                record.stamp.host_time,
                record.data,
                fmt or frame.depth_format,
                frame.index,
            )


# -- finishing a scene -----------------------------------------------------------------------
def finish_scene(
    scene: Scene,
    settings: Settings,
    results: list[UnitResult],
    identity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the scene's lists; its manifest line (a dict) with ``identity`` (source
    fingerprint and parameters) in it. ``DepthviewError`` for a scene that gave no pair
    (nothing of it is kept: the caller clears it), naming why."""
    out = Path(settings.out)
    partial = partial_path(out, scene, settings.format)
    final = final_path(out, scene, settings.format)
    results = sorted(results, key=lambda r: r.chunk)
    rows = [row for r in results for row in r.rows]
    dropped = [d for r in results for d in r.dropped]
    bad = list(dict.fromkeys(b for r in results for b in r.bad))  # a chunk may meet one twice
    frames = sum(r.frames for r in results)
    bad_frames = sum(1 for kind, _, _ in bad if kind == "depth")
    if frames != len(rows) + len(dropped) + bad_frames:
        raise RuntimeError(
            f"{scene.name}: {frames} frames but {len(rows)} kept + {len(dropped)} dropped + "
            f"{bad_frames} bad"
        )
    if not rows:
        raise DepthviewError(no_pairs_reason(frames, dropped, bad))
    files: dict[str, str] = {}
    for r in results:
        files.update(r.files)
    if settings.format == "tum":
        for name, data in tum_lists(rows, scene.name).items():
            files[name] = write_atomic(partial / name, data)
        camera = next((r.camera for r in results if r.camera is not None), None)
        if camera is not None:
            files[CAMERA_FILE] = write_atomic(partial / CAMERA_FILE, camera_text(camera).encode())
    alignments = sorted({a for r in results for a in r.alignments})
    line: dict[str, Any] = {
        "scene": scene.name,
        "source": scene.describe(),
        "output": final.name,
        "format": settings.format,
        "calibration": calibration_label(settings.calibration, alignments),
        "alignment": "; ".join(alignments),
        "pairing": settings.pairing,
        "frames": frames,
        "pairs_kept": len(rows),
        "pairs_dropped": len(dropped),
        "bad_frames": bad_frames,
        "bad_records": {k: sum(1 for kind, _, _ in bad if kind == k) for k in RECORD_KINDS},
        "dropped": [{"file": f, "time": t, "reason": why} for f, t, why in dropped],
        "bad": [{"kind": kind, "file": f, "reason": why} for kind, f, why in bad],
        # the accelerometer records of depth frames not kept (bad or dropped): counted
        "accel_left_out": sum(r.accel_left_out for r in results),
        "files": dict(sorted(files.items())),
        **(identity or {}),
    }
    guess = next((r.units_guess for r in results if r.units_guess), "")
    if guess:
        line["units_guess"] = guess
    if any(r.synthetic_times for r in results):
        line["times"] = "made up (frame index / fps): the input has none; input_files links them"
        line["input_files"] = [[t, f] for r in results for t, f in r.input_files]
    if settings.format == "tum":
        line["depth_scale"] = settings.tum_scale
        line["depth_over_range"] = sum(r.over_range for r in results)
    return line


def no_pairs_reason(
    frames: int, dropped: list[tuple[str, float, str]], bad: list[tuple[str, str, str]]
) -> str:
    """Why a scene gave no pair, in one line."""
    if frames == 0:
        return "expected depth frames, got an empty recording"
    if dropped:
        why = dropped[0][2]
        if why == UNREADABLE_COLOUR:  # no manifest lists them: the first is named here
            why = (
                "every colour frame within --max-dt is unreadable (the first: "
                f"{_first_bad(bad, 'video')})"
            )
        return f"no pair kept of {frames} depth frame(s): {why}"
    return f"every one of {frames} depth frame(s) is bad (first: {_first_bad(bad, 'depth')})"


def _first_bad(bad: list[tuple[str, str, str]], kind: str) -> str:
    """The first bad record of ``kind``: its file and why (the why alone where it names
    the file already)."""
    for k, where, why in bad:
        if k == kind:
            return why if why.startswith(where) else f"{where}: {why}"
    return ""


def calibration_label(c: str | StereoCalibration, alignments: list[str]) -> str:
    """The manifest's ``calibration``: what aligned the depth, "none" when nothing did."""
    if alignments and all(a.startswith("not aligned") for a in alignments):
        return "none"
    return _calibration_name(c)


def commit_scene(scene: Scene, settings: Settings) -> None:
    """Rename a finished scene into place (after its manifest line is written)."""
    out = Path(settings.out)
    partial_path(out, scene, settings.format).rename(final_path(out, scene, settings.format))


def clear_partial(scene: Scene, settings: Settings) -> None:
    """Remove what a killed run left of a scene."""
    out = Path(settings.out)
    partial = partial_path(out, scene, settings.format)
    if partial.is_dir():
        shutil.rmtree(partial)
    else:
        partial.unlink(missing_ok=True)
    for spill in out.glob(f"{partial.name}.*"):
        spill.unlink(missing_ok=True)


def _calibration_name(c: str | StereoCalibration) -> str:
    return "stereo" if isinstance(c, StereoCalibration) else c
