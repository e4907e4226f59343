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

from ..camera_models import StereoCalibration
from ..errors import DepthviewError, SourceError
from ..fakenect_format import KIND_ACCEL, KIND_DEPTH, KIND_VIDEO
from ..filters import FilterSpec
from ..filters.frames import to_shape
from ..frame import DepthFormat, Stream, TiltState
from ..outputs import partial_path as temporary_name
from ..outputs import sha256_file, write_atomic
from ..writers import mcap, rrd
from ..writers.base import Row
from ..writers.npz import NpzWriter
from ..writers.sinkfile import SinkWriter
from ..writers.tum import TumWriter, tum_lists
from .frames import Aligner, DepthStep, colour_camera, process_pair
from .pairing import StreamingPairer, nearest
from .scenes import Recording, Scene

#: Depth frames per unit of a long recording (TUM output only; one file is one unit).
CHUNK_FRAMES = 1000
#: Skipped frames listed one by one in the manifest (beyond this, only counted).
SKIPPED_LISTED = 50
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
    dropped: int = 0  # pairs with no colour frame within max_dt
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    files: dict[str, str] = field(default_factory=dict)  # name -> sha256
    cpu_seconds: float = 0.0  # the unit's process CPU time (not in the manifest)


def partial_path(out: Path, scene: Scene, fmt: str) -> Path:
    """Where a scene is written until complete (hidden, beside the final name)."""
    return temporary_name(final_path(out, scene, fmt))


def final_path(out: Path, scene: Scene, fmt: str) -> Path:
    return out / (scene.name + FILE_FORMATS.get(fmt, ""))


# -- planning --------------------------------------------------------------------------------
def depth_count(scene: Scene) -> int | None:
    """How many depth frames a scene has (from its index; None when only reading tells)."""
    if scene.kind == "source":
        from .. import sources

        with sources.open(scene.path) as src:
            return src.length
    with Recording(scene) as rec:
        entries, _ = rec.index()
    return sum(1 for e in entries if e.kind == KIND_DEPTH)


def plan(scene: Scene, settings: Settings, chunk_frames: int = CHUNK_FRAMES) -> list[Unit]:
    """The units of one scene: chunks of ``chunk_frames`` depth frames for a recording
    written as TUM, else the whole scene (a file is written by one unit)."""
    if settings.format in FILE_FORMATS:
        return [Unit(scene, settings)]
    count = depth_count(scene)
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


def _accel_mks(state: Any) -> tuple[float, float, float] | None:
    return state.accel_mks if isinstance(state, TiltState) else None


@dataclass(frozen=True)
class _Item:
    """One pair to convert, its files read only when it is converted."""

    where: str
    depth_time: float
    depth: Callable[[], npt.NDArray[np.uint16]]
    depth_format: DepthFormat
    rgb_time: float
    rgb: Callable[[], Any]
    accel_time: float | None
    accel: Callable[[], Any] | None
    aligner: Aligner


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
        writer = (rrd if fmt == "rrd" else mcap).pair_writer(partial, str(final))
    else:
        writer = TumWriter(partial)
    step = unit_step(unit.settings)
    try:
        items = (
            _source_items(unit, result)
            if unit.scene.kind == "source"
            else _recording_items(unit, result)
        )
        for item in items:
            try:
                rgb = item.rgb()
                if not (isinstance(rgb, np.ndarray) and rgb.ndim == 3 and rgb.dtype == np.uint8):
                    raise ValueError(f"expected RGB colour (H, W, 3) uint8, got {_shape(rgb)}")
                mm, colour = process_pair(item.depth(), item.depth_format, rgb, item.aligner, step)
            except (SourceError, ValueError) as exc:
                result.skipped.append((item.where, str(exc)))
                continue
            accel = None
            if item.accel is not None:
                try:
                    accel = _accel_mks(item.accel())
                except SourceError as exc:  # the pair stands without it
                    result.skipped.append((item.where, f"accelerometer record: {exc}"))
            if isinstance(writer, SinkWriter) and writer.camera is None:
                writer.set_camera(colour_camera(item.aligner, mm.shape[1], mm.shape[0]))
            result.rows.append(
                writer.write(item.depth_time, mm, item.rgb_time, colour, item.accel_time, accel)
            )
            if on_frame is not None:
                on_frame()
        if isinstance(writer, TumWriter):
            result.files = writer.files
        else:
            writer.finish()
            result.files[final.name] = sha256_file(partial)
        result.cpu_seconds = time.process_time() - cpu_start
    except BaseException:
        if not isinstance(writer, TumWriter):
            writer.abandon()
        raise
    return result


def _const(value: Any) -> Any:
    return value


def _shape(value: object) -> object:
    return (value.shape, value.dtype) if isinstance(value, np.ndarray) else type(value).__name__


def _recording_items(unit: Unit, result: UnitResult) -> Iterator[_Item]:
    """A fakenect recording (folder or zip): pairs decided from INDEX.txt's times."""
    settings = unit.settings
    depth_format = settings.depth_format or DepthFormat.RAW_11BIT
    with Recording(unit.scene) as rec:
        entries, bad_lines = rec.index()
        if unit.chunk == 0:
            result.skipped += [(f"{rec.where('INDEX.txt')} line {n}", why) for n, why in bad_lines]
        aligner = aligner_for(settings, rec.registration())
        depth = [e for e in entries if e.kind == KIND_DEPTH]
        video = [e for e in entries if e.kind == KIND_VIDEO]
        accel = [e for e in entries if e.kind == KIND_ACCEL]
        depth_times = [e.unix_time for e in depth]
        vi = nearest(depth_times, [e.unix_time for e in video], settings.max_dt)
        ai = nearest(depth_times, [e.unix_time for e in accel], settings.max_dt)
        stop = len(depth) if unit.stop is None else min(unit.stop, len(depth))
        result.frames = max(0, stop - unit.start)
        for k in range(unit.start, stop):
            d = depth[k]
            if vi[k] < 0:
                result.dropped += 1
                continue
            v = video[vi[k]]
            a = accel[ai[k]] if ai[k] >= 0 else None
            yield _Item(
                rec.where(d.name),
                d.unix_time,
                partial(rec.depth, d.name),
                depth_format,
                v.unix_time,
                partial(rec.video, v.name),
                None if a is None else a.unix_time,
                None if a is None else partial(rec.accel, a.name),
                aligner,
            )


def _source_items(unit: Unit, result: UnitResult) -> Iterator[_Item]:
    """Anything ``dv.open`` reads: records paired as they arrive, by their own times."""
    from .. import sources

    settings = unit.settings
    options = {} if settings.depth_format is None else {"depth_format": settings.depth_format}
    with sources.open(unit.scene.path, **options) as src:
        aligner = aligner_for(settings, src.registration)
        pairer: StreamingPairer[tuple[float, Any, DepthFormat, int]] = StreamingPairer(
            settings.max_dt
        )

        def items(decided: Iterator[tuple[Any, Any, Any]]) -> Iterator[_Item]:
            for (t, depth, fmt, index), video, accel in decided:
                if video is None:
                    result.dropped += 1
                    continue
                yield _Item(
                    f"{unit.scene.path} frame {index}",
                    t,
                    partial(_const, depth),
                    fmt,
                    video[0],
                    partial(_const, video[1]),
                    None if accel is None else accel[0],
                    None if accel is None else partial(_const, accel[1]),
                    aligner,
                )

        frames = iter(src)
        failures = 0
        while True:
            # A source skips a broken frame with a warning, or raises for it and goes on
            # with the next: either way it is listed and counted here.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    frame = next(frames, None)
                except SourceError as exc:
                    failures += 1
                    if failures > MAX_FAILURES_IN_A_ROW:
                        raise
                    result.frames += 1
                    result.skipped.append((unit.scene.path, str(exc)))
                    continue
            result.skipped += [(unit.scene.path, str(w.message)) for w in caught]
            if frame is None:
                break
            failures = 0
            result.frames += 1
            for record in frame.own_records():
                t = record.stamp.host_time
                if record.stream is Stream.VIDEO:
                    yield from items(pairer.add_video(t, record.data))
                elif record.stream is Stream.ACCEL:
                    yield from items(pairer.add_accel(t, record.data))
                else:
                    fmt = record.format if isinstance(record.format, DepthFormat) else None
                    entry = (t, record.data, fmt or frame.depth_format, frame.index)
                    yield from items(pairer.add_depth(t, entry))
        yield from items(pairer.finish())


# -- finishing a scene -----------------------------------------------------------------------
def finish_scene(scene: Scene, settings: Settings, results: list[UnitResult]) -> dict[str, Any]:
    """Write the scene's lists, rename it into place; its manifest line (a dict)."""
    out = Path(settings.out)
    partial = partial_path(out, scene, settings.format)
    final = final_path(out, scene, settings.format)
    results = sorted(results, key=lambda r: r.chunk)
    rows = [row for r in results for row in r.rows]
    files: dict[str, str] = {}
    for r in results:
        files.update(r.files)
    if settings.format == "tum":
        for name, data in tum_lists(rows, scene.name).items():
            files[name] = write_atomic(partial / name, data)
    skipped = [s for r in results for s in r.skipped]
    line: dict[str, Any] = {
        "scene": scene.name,
        "source": scene.describe(),
        "output": final.name,
        "format": settings.format,
        "calibration": _calibration_name(settings.calibration),
        "frames": sum(r.frames for r in results),
        "pairs_kept": len(rows),
        "pairs_dropped": sum(r.dropped for r in results),
        "bad_frames": len(skipped),
        "skipped": [{"file": f, "reason": why} for f, why in skipped[:SKIPPED_LISTED]],
        "files": dict(sorted(files.items())),
    }
    if final.exists():
        raise DepthviewError(f"{final}: expected no scene there, got one (remove it to redo)")
    return line


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
