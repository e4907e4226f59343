"""Collections of recordings into aligned datasets: ``dv.convert`` and ``depthview convert``.

::

    dv.convert(["nyu/bedrooms_part1.zip"], "out", calibration="nyu", workers=2)

Each scene (``scenes``) becomes one folder of the output named as its input (TUM RGB-D's
layout) or one ``.npz``, ``.rrd`` or ``.mcap`` (``depthview.writers``); depth frames are paired with
the nearest colour frame and accelerometer record by their own times (``pairing``), aligned
by a camera model (``frames``), and written by units of work (``job``) that run where
``engine`` says. The output's ``manifest.jsonl`` has one line per scene. A scene is
written under a hidden temporary name and renamed when complete; a rerun skips complete
scenes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..camera_models import StereoCalibration
from ..errors import DepthviewError, ExportError
from ..filters import FilterSpec, parse_filter_spec
from ..filters.base import kernels as filter_kernels
from ..frame import DepthFormat
from ..outputs import check_output, check_target
from ..writers.sinkfile import require_sink
from . import engine
from .frames import DepthStep
from .job import (
    CHUNK_FRAMES,
    FORMATS,
    Settings,
    Unit,
    UnitResult,
    clear_partial,
    commit_scene,
    final_path,
    finish_scene,
    plan,
)
from .pairing import check_max_dt
from .scenes import Scene, find_scenes

MANIFEST = "manifest.jsonl"
CALIBRATIONS = ("libfreenect", "nyu")


@dataclass
class ConvertSummary:
    """What a run did: scenes converted, skipped (complete already) and failed (with the
    reason), frame and pair counts, and where it ran."""

    out: Path
    engine: str
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    frames: int = 0
    pairs_kept: int = 0
    pairs_dropped: int = 0
    bad_frames: int = 0
    #: CPU seconds the units took (all workers together): frames / cpu_seconds is the
    #: rate per core, whatever else shares the machine.
    cpu_seconds: float = 0.0


def calibration_of(value: str | os.PathLike[str] | StereoCalibration) -> str | StereoCalibration:
    """ "libfreenect", "nyu", a StereoCalibration, or one read from a YAML/JSON file."""
    if isinstance(value, StereoCalibration):
        return value
    text = os.fspath(value)
    if text in CALIBRATIONS:
        return text
    if not Path(text).is_file():
        raise DepthviewError(
            f"--calibration: expected {', '.join(CALIBRATIONS)} or a calibration file "
            f"(.yaml, .yml, .json), got {text!r}"
        )
    return StereoCalibration.from_file(text)


def read_manifest(out: Path) -> dict[str, dict[str, Any]]:
    """The manifest's lines by scene (a line that does not parse is left out)."""
    path = out / MANIFEST
    lines: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return lines
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            line = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(line, dict) and isinstance(line.get("scene"), str):
            lines[line["scene"]] = line
    return lines


def _append(out: Path, line: dict[str, Any]) -> None:
    with open(out / MANIFEST, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _rewrite(out: Path, lines: dict[str, dict[str, Any]]) -> None:
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(
        "".join(json.dumps(lines[k], sort_keys=True) + "\n" for k in sorted(lines)),
        encoding="utf-8",
    )
    os.replace(tmp, out / MANIFEST)


def convert(
    sources: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    format: str = "tum",
    calibration: str | os.PathLike[str] | StereoCalibration = "libfreenect",
    max_dt: float | None = None,
    depth_format: DepthFormat | str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_frames: int = CHUNK_FRAMES,
    step: DepthStep | None = None,
    filters: str | FilterSpec | None = None,
    progress: bool = False,
) -> ConvertSummary:
    """Convert recordings (folders, folders of them, zips of them, anything ``dv.open``
    reads) into aligned datasets under ``out``, one scene each; see the module's help.

    ``format`` "tum", "npz", "rrd" (Rerun) or "mcap" (Foxglove); ``calibration``
    "libfreenect" (a recording's device.json, else the default), "nyu" (NYU's toolbox), a
    ``StereoCalibration`` or a file of one;
    ``max_dt`` drops pairs farther apart (seconds); ``workers`` local processes or
    ``scheduler`` a Dask scheduler's address (``DASK_SCHEDULER_ADDRESS`` too); ``step`` a
    depth->depth function run on each aligned frame (millimetres, uint16; picklable for
    Dask); ``filters`` a ``--filter`` spec (librealsense's filters, ``depthview.filters``)
    run on each aligned frame before ``step``, a fresh chain per scene or chunk."""
    inputs = (
        [os.fspath(sources)]
        if isinstance(sources, str | os.PathLike)
        else [os.fspath(s) for s in sources]
    )
    if not inputs:
        raise DepthviewError("convert: expected at least one source, got none")
    if format not in FORMATS:
        raise DepthviewError(f"--format: expected one of {', '.join(FORMATS)}, got {format!r}")
    try:
        limit = check_max_dt(max_dt)
    except ValueError as exc:
        raise DepthviewError(f"--max-dt: {exc}") from None
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise DepthviewError(f"--workers: expected a whole number >= 1, got {workers!r}")
    if not isinstance(chunk_frames, int) or chunk_frames < 1:
        raise DepthviewError(f"chunk_frames: expected a whole number >= 1, got {chunk_frames!r}")
    fmt = None if depth_format is None else DepthFormat.parse(depth_format)
    if isinstance(filters, str):
        try:
            filters = parse_filter_spec(filters)
        except ValueError as exc:
            raise DepthviewError(f"--filter: {exc}") from None
    if filters:
        filter_kernels()  # a missing extra is one line now, not one per frame later
    require_sink(format)  # the same for rerun-sdk / foxglove-sdk
    target = Path(out)
    # a dataset folder is added to (complete scenes are kept): never refused for existing
    check_target(target, folder=True, overwrite=True, what="the dataset", error=ExportError)
    check_output(target, inputs, ExportError, "output folder")
    scenes = find_scenes(inputs)
    settings = Settings(
        out=str(target),
        format=format,
        calibration=calibration_of(calibration),
        max_dt=None if limit == float("inf") else limit,
        depth_format=fmt,
        step=step,
        filters=filters or None,
    )
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{target}: cannot create the folder ({exc.strerror or exc})") from None
    summary = ConvertSummary(target, engine.describe(workers, scheduler))
    manifest = read_manifest(target)
    todo: list[Scene] = []
    for scene in scenes:
        if final_path(target, scene, format).exists():
            summary.skipped.append(scene.name)
        else:
            clear_partial(scene, settings)
            manifest.pop(scene.name, None)
            todo.append(scene)
    units: list[Unit] = []
    for scene in todo:
        try:
            units += plan(scene, settings, chunk_frames)
        except DepthviewError as exc:
            summary.failed.append((scene.name, str(exc)))
    _run(units, settings, summary, manifest, workers, scheduler, progress)
    _rewrite(target, manifest)
    return summary


def _run(
    units: list[Unit],
    settings: Settings,
    summary: ConvertSummary,
    manifest: dict[str, dict[str, Any]],
    workers: int | None,
    scheduler: str | None,
    progress: bool,
) -> None:
    out = Path(settings.out)
    expected = {u.scene.name: u.chunks for u in units}
    scenes = {u.scene.name: u.scene for u in units}
    results: dict[str, list[UnitResult]] = {name: [] for name in expected}
    failed: set[str] = set()
    bar = _progress(units, progress)
    per_frame: list[int] = []  # frames the bar was told of one by one, per unit so far

    def on_frame() -> None:
        per_frame.append(1)
        bar.update(1)

    try:
        for unit, result in engine.run(
            units,
            workers=workers,
            scheduler=scheduler,
            on_frame=None if bar is None else on_frame,
        ):
            name = unit.scene.name
            told = len(per_frame)
            per_frame.clear()
            if isinstance(result, DepthviewError):
                if name not in failed:
                    failed.add(name)
                    summary.failed.append((name, str(result)))
                    clear_partial(unit.scene, settings)
                continue
            if name in failed:
                continue
            results[name].append(result)
            summary.cpu_seconds += result.cpu_seconds
            if bar is not None:
                bar.update(max(0, result.frames - told))  # the frames it was not told of
            if len(results[name]) == expected[name]:
                line = finish_scene(scenes[name], settings, results.pop(name))
                _append(out, line)
                commit_scene(scenes[name], settings)
                manifest[name] = line
                summary.done.append(name)
                summary.frames += line["frames"]
                summary.pairs_kept += line["pairs_kept"]
                summary.pairs_dropped += line["pairs_dropped"]
                summary.bad_frames += line["bad_frames"]
                if bar is not None:
                    bar.set_postfix_str(f"scenes {len(summary.done)}/{len(expected)}")
    finally:
        if bar is not None:
            bar.close()


def _progress(units: list[Unit], show: bool) -> Any:
    if not show:
        return None
    from tqdm import tqdm

    total = sum((u.stop or 0) - u.start for u in units) or None
    bar = tqdm(total=total, unit="frame", desc="convert", dynamic_ncols=True)
    bar.set_postfix_str(f"scenes 0/{len({u.scene.name for u in units})}")
    return bar


__all__ = ["MANIFEST", "ConvertSummary", "calibration_of", "convert", "read_manifest"]
