"""Collections of recordings into aligned datasets: ``dv.convert`` and ``depthview convert``.

::

    dv.convert(["nyu/bedrooms_part1.zip"], "out", calibration="nyu", workers=2)

Each scene (``scenes``) becomes one folder of the output named as its input (TUM RGB-D's
layout) or one ``.npz``, ``.rrd`` or ``.mcap`` (``depthview.writers``); depth frames are
paired with the nearest usable colour frame (or by TUM's one-to-one rule) and the nearest
accelerometer record by their own times (``pairing``), aligned by a camera model
(``frames``), and written by units of work (``job``) that run where ``engine`` says.

The contract: every readable depth frame is kept or listed as dropped with its reason,
what cannot be read is listed as bad by kind, and the counts reconcile; the output's
``manifest.jsonl`` (``manifest``) has one line per scene and format with the scene's
identity (``identity``: source fingerprint and parameters). A scene is written under a
hidden temporary name and renamed when complete; a rerun reuses a scene whose identity
matches, refuses one that differs (``overwrite`` redoes it), and redoes a killed one.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from .._checks import flag
from ..camera_models import StereoCalibration
from ..errors import DepthviewError, ExportError
from ..filters import FilterSpec, filters_argument
from ..filters.base import kernels as filter_kernels
from ..frame import DepthFormat
from ..outputs import check_output, check_target, claimed, refuse_appending_through_link
from ..writers.sinkfile import require_sink
from ..writers.tum import TUM_SCALES
from . import engine
from .frames import DepthStep
from .identity import FINGERPRINT, PARAMS, differences, fingerprint, params
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
    partial_path,
    plan,
)
from .manifest import MANIFEST, Key, append_line, damage, put_in_order, read_manifest, rewrite
from .pairing import PAIRINGS, check_max_dt
from .scenes import Scene, find_scenes

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
        looks_like_file = Path(text).suffix.lower() in (".yaml", ".yml", ".json")
        raise DepthviewError(
            f"--calibration: {text}: no such file"
            if looks_like_file
            else f"--calibration: expected {', '.join(CALIBRATIONS)} or a calibration file "
            f"(.yaml, .yml, .json), got {text!r}"
        )
    return check_translation(StereoCalibration.from_file(text), text)


def check_depth_format(
    fmt: DepthFormat | None, calibration: str | os.PathLike[str] | StereoCalibration
) -> None:
    """Refuse, before anything is read, raw depth in NYU's fit with libfreenect's
    registration (which reads the recording's own raw 11-bit depth only)."""
    if fmt is DepthFormat.RAW_11BIT_NYU and calibration == "libfreenect":
        raise DepthviewError(
            "--depth-format: nyu (NYU's disparity fit) needs --calibration nyu or a stereo "
            "calibration file, got --calibration libfreenect (the default)"
        )


def check_scene_names(scenes: Sequence[Scene]) -> None:
    """Each scene becomes OUT/<its name> (a folder, or a file of the format's suffix): a
    name that is no plain folder name (``..`` from a zip's ``../`` members, a separator, a
    hidden one, as the staging names are) or that convert keeps for itself (its manifest)
    would write outside OUT or over the manifest (trial X: ``--overwrite`` emptied the
    folder holding OUT). Refused in one line before anything is written."""
    for scene in scenes:
        name = scene.name
        odd = not name or name.startswith(".") or any(c in name for c in "/\\\0")
        if odd or name == MANIFEST:
            raise DepthviewError(
                f"{scene.describe()}: expected a scene name that can be a folder of the "
                f"dataset, got {name!r}; rename the folder it is read from"
            )


def check_scene_depth_format(fmt: DepthFormat | None, scenes: Sequence[Scene]) -> None:
    """Refuse, before anything is read, a ``--depth-format`` the scenes cannot be read in
    (trial V): 10-bit disparity (aligning takes 11-bit or metric depth: every frame would be
    bad), and for a recording anything but its raw 11-bit (or NYU's fit of it), a label
    over raw disparity (convert turns it into millimetres itself)."""
    if fmt is None:
        return
    if fmt is DepthFormat.RAW_10BIT:
        raise DepthviewError(
            "--depth-format 10bit: convert aligns raw 11-bit disparity or metric depth, not "
            "10-bit disparity"
        )
    recorded = next((s for s in scenes if s.kind != "source"), None)
    if recorded is not None and fmt not in (DepthFormat.RAW_11BIT, DepthFormat.RAW_11BIT_NYU):
        raise DepthviewError(
            f"--depth-format {fmt.name.lower()}: {recorded.path} is a recording, whose depth "
            "is raw 11-bit disparity; convert turns it into millimetres itself (aligned by the "
            "registration): leave --depth-format out for recordings"
        )


#: The longest translation between a Kinect's cameras taken as metres (they are about
#: 2.5 cm apart; a translation typed in millimetres is 25).
MAX_TRANSLATION_M = 0.5


def check_translation(c: StereoCalibration, where: str) -> StereoCalibration:
    """Refuse a translation that is not plausibly metres (every depth pixel would land off
    the colour image and the dataset would be empty)."""
    length = sum(v * v for v in c.translation) ** 0.5
    if length > MAX_TRANSLATION_M:
        raise DepthviewError(
            f"--calibration: {where}: expected the translation in metres (a Kinect's cameras "
            f"are about 0.025 m apart), got {length:g} (millimetres?)"
        )
    return c


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
    pairing: str = "nearest",
    tum_scale: float = 5000.0,
    depth_only: bool = False,
    overwrite: bool = False,
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
    run on each aligned frame before ``step``, a fresh chain per scene or chunk;
    ``pairing`` "nearest" (each depth frame the nearest usable colour frame) or "associate"
    (TUM's one-to-one rule); ``tum_scale`` the TUM layout's depth values per metre (5000,
    TUM's, or 1000); ``depth_only`` writes depth frames alone (TUM layout; for recordings
    without colour); ``overwrite`` redoes scenes this run would write that exist already
    with other inputs or parameters (without it such a run is refused)."""
    for name, value in (
        ("depth_only", depth_only),
        ("overwrite", overwrite),
        ("progress", progress),
    ):
        flag(name, value)
    inputs = (
        [os.fspath(sources)]
        if isinstance(sources, str | os.PathLike)
        else [os.fspath(s) for s in sources]
    )
    if not inputs:
        raise DepthviewError("convert: expected at least one source, got none")
    if any(not text.strip() for text in inputs):
        raise DepthviewError("SRC: expected a recording, folder or .zip, got an empty path")
    if format not in FORMATS:
        raise DepthviewError(f"--format: expected one of {', '.join(FORMATS)}, got {format!r}")
    if pairing not in PAIRINGS:
        raise DepthviewError(f"--pairing: expected one of {', '.join(PAIRINGS)}, got {pairing!r}")
    if depth_only and format != "tum":
        raise DepthviewError(
            f"--depth-only: expected --format tum (a folder of depth PNGs), got {format}"
        )
    if tum_scale not in TUM_SCALES:
        raise DepthviewError(
            f"--tum-scale: expected one of {', '.join(f'{s:g}' for s in TUM_SCALES)}, "
            f"got {tum_scale!r}"
        )
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
    check_depth_format(fmt, calibration)
    try:
        filters = cast("FilterSpec | None", filters_argument(filters, chains=False))
    except ValueError as exc:
        raise DepthviewError(f"--filter: {exc}") from None
    if filters:
        filter_kernels()  # a missing extra is one line now, not one per frame later
    require_sink(format)  # the same for rerun-sdk / foxglove-sdk
    engine.check_address(scheduler)
    address = engine.scheduler_address(scheduler)
    if address is not None:  # the workers run in folders of their own (trial AD)
        relative = [p for p in (*inputs, os.fspath(out)) if not os.path.isabs(p)]
        relative = [p for p in relative if p == os.fspath(out) or os.path.exists(p)]
        if relative:
            raise DepthviewError(
                f"{engine.address_option(scheduler)} {address}: the cluster's workers read "
                f"SRC and write OUT from folders of their own: expected absolute paths, got "
                f"{relative[0]}"
            )
    target = Path(out)
    # a dataset folder is added to (complete scenes are kept): never refused for existing
    check_target(
        target, folder=True, overwrite=False, adds=True, what="the dataset", error=ExportError
    )
    check_output(target, inputs, ExportError, "output folder")
    refuse_appending_through_link(target / MANIFEST, ExportError)
    scenes = find_scenes(inputs)
    check_scene_names(scenes)
    check_scene_depth_format(fmt, scenes)
    settings = Settings(
        out=str(target),
        format=format,
        calibration=calibration_of(calibration),
        max_dt=None if limit == float("inf") else limit,
        depth_format=fmt,
        step=step,
        filters=filters or None,
        pairing=pairing,
        tum_scale=float(tum_scale),
        depth_only=depth_only,
    )
    created = not target.exists()
    try:
        target.mkdir(parents=True, exist_ok=True)
        with claimed(target, ExportError):  # one run writes an output at a time
            try:
                return _convert(
                    scenes, settings, workers, scheduler, chunk_frames, overwrite, progress
                )
            finally:
                if created:
                    _remove_if_empty(target)
    except PermissionError as exc:
        raise ExportError(f"{exc.filename or target}: permission denied") from None
    except OSError as exc:
        raise ExportError(
            f"{exc.filename or target}: cannot write ({exc.strerror or exc})"
        ) from None


def _convert(
    scenes: list[Scene],
    settings: Settings,
    workers: int | None,
    scheduler: str | None,
    chunk_frames: int,
    overwrite: bool,
    progress: bool,
) -> ConvertSummary:
    """The run, under the output's lock: decide each scene (reuse, redo, refuse), then
    convert what is to do."""
    target = Path(settings.out)
    workers = engine.capped_workers(workers)
    summary = ConvertSummary(target, engine.describe(workers, scheduler))
    manifest = read_manifest(target)
    wanted = params(settings, chunk_frames)
    identities: dict[str, dict[str, Any]] = {}
    todo: list[Scene] = []
    refused: list[str] = []
    for scene in scenes:
        print_ = fingerprint(scene)
        identities[scene.name] = {FINGERPRINT: print_, PARAMS: wanted}
        key: Key = (scene.name, settings.format)
        final = final_path(target, scene, settings.format)
        if final.exists() or key in manifest:
            what = differences(manifest.get(key, {}), scene, print_, wanted)
            broken = damage(final, manifest[key]) if final.exists() and key in manifest else ""
            if final.exists() and not what and not broken:
                summary.skipped.append(scene.name)
                continue
            if final.exists() and not what:  # same identity, damaged output: redo it
                warnings.warn(f"{final}: redoing the scene: {broken}", stacklevel=2)
                todo.append(scene)
                continue
            if final.exists() and not overwrite:
                refused.append(f"{final.name} ({what})")
                continue
            if not final.exists():  # listed, and gone: said as a damaged one is (trial AD)
                warnings.warn(
                    f"{final}: redoing the scene: it is missing ({MANIFEST} lists it)",
                    stacklevel=2,
                )
        todo.append(scene)
    if refused:
        raise ExportError(
            f"{target}: expected to reuse or write each scene, got {len(refused)} written "
            f"with other inputs or parameters: {'; '.join(refused[:3])}"
            + (" ..." if len(refused) > 3 else "")
            + "; --overwrite redoes them"
        )
    for scene in todo:  # a scene written again through a link would change another folder
        final = final_path(target, scene, settings.format)
        if final.is_symlink():
            raise ExportError(
                f"{final}: is a symbolic link to {os.path.realpath(final)}: a scene is written "
                "again in its own folder of OUT, never through a link (it would change the "
                "folder it points to); remove the link, or convert into another OUT"
            )
    for scene in todo:
        clear_partial(scene, settings)
    units: list[Unit] = []
    for scene in todo:
        try:
            units += plan(scene, settings, chunk_frames)
        except DepthviewError as exc:
            summary.failed.append((scene.name, str(exc)))
    _run(units, settings, summary, manifest, identities, workers, scheduler, progress)
    if manifest:
        put_in_order(target, manifest)
    return summary


def _remove_if_empty(target: Path) -> None:
    """A run that made its output folder and wrote nothing in it leaves nothing behind."""
    names = {p.name for p in target.iterdir()} if target.is_dir() else set()
    if not names:
        shutil.rmtree(target, ignore_errors=True)


def _run(
    units: list[Unit],
    settings: Settings,
    summary: ConvertSummary,
    manifest: dict[Key, dict[str, Any]],
    identities: dict[str, dict[str, Any]],
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

    ran = engine.run(
        units, workers=workers, scheduler=scheduler, on_frame=None if bar is None else on_frame
    )
    try:
        for unit, result in ran:
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
                try:
                    line = finish_scene(
                        scenes[name], settings, results.pop(name), identities.get(name)
                    )
                except DepthviewError as exc:  # no pair: nothing of the scene is kept
                    failed.add(name)
                    summary.failed.append((name, str(exc)))
                    clear_partial(unit.scene, settings)
                    continue
                key = (name, settings.format)
                final = final_path(out, scenes[name], settings.format)
                if final.is_dir():  # files the old run did not write stay (a user's)
                    keep_others(
                        final,
                        partial_path(out, scenes[name], settings.format),
                        manifest.get(key, {}),
                    )
                if final.is_dir():
                    shutil.rmtree(final)
                elif final.exists():
                    final.unlink()
                if key in manifest:  # --overwrite: the old line goes with the old scene, once
                    manifest.pop(key)  # gone (a failure to remove it leaves the line)
                    rewrite(out, manifest)
                append_line(out, line)
                commit_scene(scenes[name], settings)
                manifest[key] = line
                summary.done.append(name)
                summary.frames += line["frames"]
                summary.pairs_kept += line["pairs_kept"]
                summary.pairs_dropped += line["pairs_dropped"]
                summary.bad_frames += line["bad_frames"]
                if bar is not None:
                    bar.set_postfix_str(f"scenes {len(summary.done)}/{len(expected)}")
    finally:
        ran.close()  # its workers stop before their scenes' temporaries are removed
        if bar is not None:
            bar.close()
        for name, scene in scenes.items():  # interrupted or failed: no temporary left behind
            if name not in summary.done:
                clear_partial(scene, settings)


def keep_others(final: Path, partial: Path, old_line: dict[str, Any]) -> None:
    """Move every file of a scene folder that its old manifest line does not list (one a
    user put there) into the scene's new folder, at the same place: ``--overwrite``
    replaces what convert wrote and nothing else. A file of the same name the new run
    wrote wins only over a file of the old run."""
    ours = set(old_line.get("files") or {})
    for path in sorted(final.rglob("*")):
        rel = path.relative_to(final).as_posix()
        if not path.is_file() or rel in ours:
            continue
        target = partial / rel
        if target.exists():
            raise ExportError(
                f"{path}: expected only convert's own files under that name, got one it did "
                "not write; move it away to redo the scene"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)


def _progress(units: list[Unit], show: bool) -> Any:
    if not show:
        return None
    from tqdm import tqdm

    total = sum((u.stop or 0) - u.start for u in units) or None
    bar = tqdm(total=total, unit="frame", desc="convert", dynamic_ncols=True)
    bar.set_postfix_str(f"scenes 0/{len({u.scene.name for u in units})}")
    return bar


__all__ = ["MANIFEST", "ConvertSummary", "calibration_of", "convert", "read_manifest"]
