"""Which files of a folder are depth frames, which colour image goes with each, and what
the folder says about units and intrinsics. Names and small text files only: no pixel is
read here, and opening takes time linear in the number of files.

Layouts recognised (TUM RGB-D, ICL-NUIM, Redwood, Open3D's samples, 7-Scenes, SUN3D):

- ``depth/`` beside ``rgb/``, ``color/``, ``colour/`` or ``image/``: pairs from an
  association file (``associations.txt``: ``time rgb/x.png time depth/y.png`` lines), else
  equal file stems, else nearest timestamps (numeric names, TUM's and SUN3D's). TUM's
  ``depth.txt`` and ``rgb.txt`` (``time file`` lines), where present, are the frames and
  their times, as TUM's own tools read them: a file they do not list is no frame.
- A flat folder: PNGs whose names contain ``depth`` (colour: the same name with ``color``,
  ``colour``, ``rgb`` or ``image``, as PNG or JPEG; 7-Scenes' ``frame-000000.depth.png`` and
  ``frame-000000.color.jpg``), else every 16-bit PNG.

Hidden files (names starting with ``.``: macOS's ``._*`` AppleDouble files beside every
file copied from a Mac) are never frames, in any layout.

Evidence of units: TUM's ``rgb.txt``/``depth.txt`` lists or an association file mean TUM's
metres x 5000; 7-Scenes names mean millimetres; SUN3D's ``image/`` + ``intrinsics.txt`` mean
millimetres rotated by 3 bits. The camera: a 3x3 matrix in SUN3D's ``intrinsics.txt`` or,
beside 7-Scenes names, ``camera-intrinsics.txt`` (the same text: tsdf-fusion's data),
7-Scenes' published calibration without one. No file named here may lie outside the folder
opened.
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import re
import statistics
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..camera_file import CAMERA_FILE, parse_camera_text
from ..errors import NotMyFormat, SourceError
from ..frame import DepthFormat
from ..geometry import Intrinsics
from . import depth_png
from .base import warn_own_times
from .depth_units import DepthUnits

COLOUR_FOLDERS = ("rgb", "color", "colour", "image")
COLOUR_WORDS = ("color", "colour", "rgb", "image")
COLOUR_EXTENSIONS = (".png", ".jpg", ".jpeg")
ASSOCIATION_FILES = ("associations.txt", "association.txt", "associate.txt", "assoc.txt")
TUM_LISTS = ("depth.txt", "rgb.txt")
#: Largest text file (association list, intrinsics) read; bigger is not one.
MAX_TEXT_BYTES = 64 * 1024 * 1024
SEVEN_SCENES_NAME = re.compile(r"frame-\d+\.depth\.png", re.IGNORECASE)
#: A 7-Scenes-layout folder's own camera: a 3x3 matrix as in SUN3D's ``intrinsics.txt``.
SEVEN_SCENES_CAMERA = "camera-intrinsics.txt"

#: Published calibrations (colour camera; their depth is registered to it).
TUM_INTRINSICS = {
    "freiburg1": Intrinsics(517.3, 516.5, 318.6, 255.3),
    "freiburg2": Intrinsics(520.9, 521.0, 325.1, 249.7),
    "freiburg3": Intrinsics(535.4, 539.2, 320.1, 247.6),
}
SEVEN_SCENES_INTRINSICS = Intrinsics(585.0, 585.0, 320.0, 240.0)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a folder says about its units and camera, each with its reason (None: silent)."""

    units: DepthUnits | None = None
    intrinsics: Intrinsics | None = None
    intrinsics_note: str = ""


@dataclass(frozen=True, slots=True)
class FileLayout:
    """Depth files in frame order, the colour file paired with each, and the evidence."""

    kind: str
    depth: list[Path]
    colour: list[Path | None]
    evidence: Evidence
    pairing: str  # how colour was paired, for ``info``
    #: Each depth file's time and its colour file's (seconds), when the layout records them
    #: (TUM's lists and association files); None: frames are timed by index and fps.
    times: list[tuple[float, float | None]] | None = None
    #: The colour pixels line up with the depth pixels: ``depth/`` beside a colour folder is
    #: the layout of datasets whose depth is registered to colour (TUM RGB-D, ICL-NUIM,
    #: Redwood, SUN3D, convert's output); 7-Scenes' and other flat folders' are not.
    video_aligned: bool = False
    #: The colour stream: every colour file of the layout (its colour folder's, or those
    #: paired by name), in name order, which is time order where names are times. A colour
    #: record's ``seq`` is its place here, so an image that serves two depth frames is one
    #: record, and one never paired still counts.
    colour_files: tuple[Path, ...] = ()


#: Names of image files: a folder's entry so named that is no regular file (a named pipe,
#: a link to nothing, a folder) is a frame that does not read, said where it is read.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".pgm", ".ppm")


def _files(folder: Path, root: str) -> dict[str, Path]:
    """The files in ``folder`` by lower-case name; hidden files (``.*``: macOS's ``._*``
    AppleDouble files, editors' swap files) and links leading outside ``root`` left out,
    those named like images with a warning. An entry named like an image that is no regular
    file is kept: reading it says what it is, and the frames after it keep their places
    (trial X: both were dropped unsaid)."""
    out: dict[str, Path] = {}
    left_out: list[str] = []
    try:
        with os.scandir(folder) as listing:  # closed also when Ctrl-C comes mid-listing
            entries = list(listing)
    except OSError as exc:
        raise SourceError(f"{folder}: cannot list ({exc.strerror or exc})") from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if not entry.is_file() and not entry.name.lower().endswith(IMAGE_SUFFIXES):
                continue  # (a folder, a named pipe, a link to nothing: only so named)
            real = os.path.realpath(entry.path)
            if entry.is_symlink() and os.path.exists(real) and not _inside(real, root):
                if entry.name.lower().endswith(IMAGE_SUFFIXES):
                    left_out.append(f"{entry.path} (a link to {real})")
                continue
        except OSError:
            continue
        out[entry.name.lower()] = Path(entry.path)
    if left_out and out:  # with nothing else, the refusal says why (``_linked_out``)
        more = f" and {len(left_out) - 1} more" if len(left_out) > 1 else ""
        warnings.warn(
            f"{left_out[0]}{more}: left out, outside {root} (links out of the folder are "
            "not followed)",
            stacklevel=2,
        )
    return out


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def _linked_out(
    folder: Path, opened: Path, root: str, suffixes: tuple[str, ...], folders: tuple[str, ...] = ()
) -> SourceError | None:
    """Why ``folder`` seems to hold no ``suffixes`` file (nor a ``folders`` folder), when it
    holds links to such outside the folder ``opened`` (real path ``root``), which ``_files``
    and the layouts leave out: the first, said as a recording says it. Looked for only when
    the folder is about to be refused, so that the refusal says the reason rather than
    "not a source"."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        return None
    for entry in entries:
        name = entry.name.lower()
        try:
            if not entry.is_symlink():
                continue
            wanted = (entry.is_file() and name.endswith(suffixes)) or (
                entry.is_dir() and name in folders
            )
            real = os.path.realpath(entry.path)
        except OSError:
            continue
        if wanted and not _inside(real, root):
            kind = "folder" if name in folders else "file"
            return SourceError(
                f"{entry.path}: expected a {kind} inside {opened}, got a link to {real} (links "
                "out of the folder are not followed)"
            )
    return None


def read_text(path: Path, root: str) -> str:
    """A small text file inside ``root`` (``SourceError`` naming it otherwise)."""
    real = os.path.realpath(path)
    if not _inside(real, root):
        raise SourceError(f"{path}: expected a file inside {root}, got a link to {real}")
    try:
        with open(real, "rb") as fh:
            data = fh.read(MAX_TEXT_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_TEXT_BYTES:
        raise SourceError(f"{path}: expected a text file under {MAX_TEXT_BYTES} bytes")
    return data.decode("utf-8", errors="replace")


# -- evidence ----------------------------------------------------------------------------
def _tum_units(names: dict[str, Path]) -> DepthUnits | None:
    found = [n for n in (*TUM_LISTS, *ASSOCIATION_FILES) if n in names]
    if not found:
        return None
    return DepthUnits.of(DepthFormat.TUM, f"TUM RGB-D's {found[0]} in the folder")


def _camera_file_units(scale: float, where: str) -> DepthUnits:
    """The units a camera file's ``DepthMapFactor`` (values per metre) says: TUM's 5000,
    millimetres' 1000, else millimetres converted from that scale."""
    why = f"{where}'s DepthMapFactor: {scale:g}"
    if scale == DepthFormat.TUM.units_per_metre:
        return DepthUnits.of(DepthFormat.TUM, why)
    if scale == DepthFormat.MM.units_per_metre:
        return DepthUnits.of(DepthFormat.MM, why)
    return DepthUnits(DepthFormat.MM, f"millimetres, from {scale:g} per metre ({why})", scale)


def _tum_evidence(units: DepthUnits, folder: Path) -> Evidence:
    """TUM units, and the camera of the scene's own camera file (``convert`` writes one),
    else the calibration of the freiburg sensor the folder's name says. The camera file's
    ``DepthMapFactor`` says the units where there is one (trial AB: ``convert --tum-scale
    1000`` wrote 1000, and PNGs without depthview's marker were read at 5000)."""
    camera = folder / CAMERA_FILE
    if camera.is_file():
        real_root = os.path.realpath(folder)
        scene = parse_camera_text(read_text(camera, real_root), str(camera))
        units = _camera_file_units(scene.depth_scale, f"the scene's {CAMERA_FILE}")
        return Evidence(units, scene.intrinsics, f"the scene's {CAMERA_FILE}")
    name = folder.resolve().name.lower()
    for key, value in TUM_INTRINSICS.items():
        if key in name:
            return Evidence(units, value, f"TUM's published {key} calibration")
    return Evidence(units)


def parse_intrinsics_matrix(text: str, where: str) -> Intrinsics:
    """A 3x3 camera matrix as text (SUN3D's ``intrinsics.txt``: ``fx 0 cx / 0 fy cy / 0 0 1``)."""
    try:
        values = [float(v) for v in text.split()]
    except ValueError:
        values = []
    if len(values) != 9:
        raise SourceError(f"{where}: expected a 3x3 camera matrix (9 numbers), got {text[:60]!r}")
    try:
        return Intrinsics(values[0], values[4], values[2], values[5])
    except ValueError as exc:
        raise SourceError(f"{where}: {exc}") from None


def _sun3d_evidence(root: Path, names: dict[str, Path], real_root: str) -> Evidence:
    path = names["intrinsics.txt"]
    intrinsics = parse_intrinsics_matrix(read_text(path, real_root), str(path))
    units = DepthUnits(
        DepthFormat.MM,
        "millimetres rotated by 3 bits (SUN3D layout: image/, depth/, intrinsics.txt)",
        sun3d=True,
    )
    return Evidence(units, intrinsics, f"{path.name} beside depth/")


# -- pairing -----------------------------------------------------------------------------
def _stamp(stem: str) -> float | None:
    """A frame's time from its name: TUM's ``1305031102.160407``, SUN3D's ``0000001-000033``."""
    for part in (stem, stem.rpartition("-")[2]):
        try:
            return float(part)
        except ValueError:
            continue
    return None


_DIGITS = re.compile(r"(\d+)")


def frame_order(path: Path) -> tuple[Any, ...]:
    """A file's place among a folder's frames, so that frame i is the i-th taken: a name
    that is a number (TUM's times, ``10.png``) by its value; others with their runs of
    digits as numbers (``frame2`` before ``frame10``, as capture scripts number frames
    without leading zeros: trial V), the rest as text."""
    value = _number(path.stem)
    if value is not None:
        return (0, value, path.name)
    return (1, tuple(int(p) if i % 2 else p for i, p in enumerate(_DIGITS.split(path.name))))


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def pair_nearest(
    depth: list[Path],
    colour: list[Path],
    depth_times: list[float | None] | None = None,
    colour_times: list[float | None] | None = None,
) -> list[Path | None] | None:
    """Each depth file's colour file nearest in time (within one depth frame interval), or
    None when there are no times: the ones given (TUM's lists), else the names'. Sorting
    and bisection: n log n."""
    if depth_times is None:
        depth_times = [_stamp(p.stem) for p in depth]
    if colour_times is None:
        colour_times = [_stamp(p.stem) for p in colour]
    if not depth or None in depth_times or None in colour_times or not colour:
        return None
    d = [t for t in depth_times if t is not None]
    ordered = sorted(zip((t for t in colour_times if t is not None), colour, strict=True))
    times = [t for t, _ in ordered]
    limit = _pairing_limit(d)
    out: list[Path | None] = []
    for t in d:
        k = bisect.bisect_left(times, t)
        best = min((j for j in (k - 1, k) if 0 <= j < len(times)), key=lambda j: abs(times[j] - t))
        out.append(ordered[best][1] if abs(times[best] - t) <= limit else None)
    return out


def parse_associations(
    text: str, root: Path, real_root: str, depth_dir: str, where: str
) -> list[tuple[Path, Path | None, float | None, float | None]]:
    """``time path time path`` lines (either order; the one under ``depth_dir/`` is depth):
    (depth, colour, depth time, colour time), a time None where it is not a number.
    Paths must stay inside the folder."""
    pairs: list[tuple[Path, Path | None, float | None, float | None]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) != 4:
            raise SourceError(
                f"{where} line {number}: expected 'time file time file', got {line[:80]!r}"
            )
        files = [_inside_path(f, root, real_root, f"{where} line {number}") for f in fields[1::2]]
        is_depth = [f.parts[0] == depth_dir if f.parts else False for f in (files[0], files[1])]
        if is_depth.count(True) != 1:
            raise SourceError(
                f"{where} line {number}: expected one file under {depth_dir}/, got {line[:80]!r}"
            )
        d = 0 if is_depth[0] else 1
        times = [_number(fields[0]), _number(fields[2])]
        pairs.append((root / files[d], root / files[1 - d], times[d], times[1 - d]))
    if not pairs:
        raise SourceError(f"{where}: expected association lines 'time file time file', got none")
    return pairs


def _inside_path(name: str, root: Path, real_root: str, where: str) -> Path:
    rel = Path(name)
    if (
        "\0" in name  # no file name holds it (the fuzzer's: realpath's ValueError)
        or rel.is_absolute()
        or ".." in rel.parts
        or not _inside(os.path.realpath(root / rel), real_root)
    ):
        raise SourceError(f"{where}: expected a file inside {root}, got {name[:80]!r}")
    return rel


def parse_tum_list(text: str, root: Path, real_root: str, where: str) -> list[tuple[float, Path]]:
    """TUM's ``depth.txt``/``rgb.txt`` as its ``associate.py`` reads them: ``time file`` lines
    (spaces, commas or tabs between; further fields ignored; ``#`` comments), in the list's
    order. Each file must lie inside the folder and be there: one the list names and the
    folder lacks is refused at once naming the line, not met as a broken frame mid-run."""
    listed: list[tuple[float, Path]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.replace(",", " ").split()
        if not fields or fields[0].startswith("#"):
            continue
        at = f"{where} line {number}"
        t = _number(fields[0])
        if len(fields) < 2 or t is None:
            raise SourceError(f"{at}: expected 'time file', got {line[:80]!r}")
        path = root / _inside_path(fields[1], root, real_root, at)
        if not os.path.lexists(path):  # (there but no file: said as what it is when read)
            raise SourceError(
                f"{at}: lists {fields[1][:80]!r}, which is not in {root}; take the line out "
                "to leave that frame out"
            )
        listed.append((t, path))
    if not listed:
        raise SourceError(f"{where}: expected 'time file' lines, got none")
    return listed


def _pairing_limit(depth_times: list[float]) -> float:
    """How far in time a colour image may be from the depth frame it goes with: one depth
    frame interval (the median step), unlimited with one frame."""
    gaps = [b - a for a, b in itertools.pairwise(depth_times) if b > a]
    return statistics.median(gaps) if gaps else float("inf")


def _listed_apart(
    depth_times: list[float],
    colour: list[Path | None],
    colour_files: list[Path],
    colour_times: list[float],
) -> list[tuple[Path, float]]:
    """The colour images paired (by their names) with a depth frame that TUM's lists time
    farther from it than ``_pairing_limit``, each with how far (seconds)."""
    limit = _pairing_limit(depth_times)
    time_of = dict(zip(colour_files, colour_times, strict=True))
    apart = []
    for td, c in zip(depth_times, colour, strict=True):
        if c is not None and abs(time_of[c] - td) > limit:
            apart.append((c, abs(time_of[c] - td)))
    return apart


def _tum_list(
    names: dict[str, Path], name: str, root: Path, real_root: str
) -> list[tuple[float, Path]] | None:
    """The files and times TUM's list ``name`` gives, or None when the folder has none."""
    path = names.get(name)
    if path is None:
        return None
    return parse_tum_list(read_text(path, real_root), root, real_root, str(path))


# -- layouts -----------------------------------------------------------------------------
def _subfolder_layout(root: Path, names: dict[str, Path], real_root: str) -> FileLayout | None:
    with os.scandir(root) as listing:
        folders = {
            e.name.lower(): Path(e.path)
            for e in listing
            if e.is_dir() and _inside(os.path.realpath(e.path), real_root)
        }
    if "depth" not in folders:
        return None
    colour_name = next((c for c in COLOUR_FOLDERS if c in folders), None)
    depth_dir = folders["depth"]
    depth_files = sorted(
        (p for n, p in _files(depth_dir, real_root).items() if n.endswith(".png")), key=frame_order
    )
    colour_files = (
        sorted(
            (
                p
                for n, p in _files(folders[colour_name], real_root).items()
                if n.endswith(COLOUR_EXTENSIONS)
            ),
            key=frame_order,
        )
        if colour_name
        else []
    )
    tum = _tum_units(names)
    kind = subfolders = f"depth/ + {colour_name}/" if colour_name else "depth/"
    evidence = Evidence()
    if tum is not None:
        kind = f"TUM RGB-D ({subfolders})"
        evidence = _tum_evidence(tum, root)
    elif colour_name == "image" and "intrinsics.txt" in names:
        kind = "SUN3D (depth/ + image/)"
        evidence = _sun3d_evidence(root, names, real_root)
    association = next((names[n] for n in ASSOCIATION_FILES if n in names), None)
    if association is not None:
        pairs = parse_associations(
            read_text(association, real_root), root, real_root, depth_dir.name, str(association)
        )
        times: list[tuple[float, float | None]] | None = None
        if all(td is not None for _, _, td, _ in pairs):
            times = [(td, tc) for _, _, td, tc in pairs]  # type: ignore[misc]
            warn_own_times(str(association), [t for t, _ in times], "the list")
        paired = [c for _, c, _, _ in pairs]
        return FileLayout(
            kind,
            [d for d, _, _, _ in pairs],
            paired,
            evidence,
            association.name,
            times,
            video_aligned=True,
            colour_files=_colour_stream(colour_files, paired),
        )
    # TUM's lists, where present, say which files are frames and their times (else the names)
    depth_times: list[float | None] | None = None
    colour_times: list[float | None] | None = None
    depth_list = _tum_list(names, "depth.txt", root, real_root)
    if depth_list is not None:
        depth_times, depth_files = [t for t, _ in depth_list], [p for _, p in depth_list]
    colour_list = _tum_list(names, "rgb.txt", root, real_root)
    if colour_list is not None:
        colour_times, colour_files = [t for t, _ in colour_list], [p for _, p in colour_list]
    lists = [n for n, got in zip(TUM_LISTS, (depth_list, colour_list), strict=True) if got]
    if lists:
        kind = f"TUM RGB-D ({subfolders}, frames as {' and '.join(lists)} list them)"
    if not depth_files:
        raise _linked_out(depth_dir, root, real_root, (".png",)) or SourceError(
            f"{depth_dir}: expected depth PNGs, got none"
        )
    by_stem = {p.stem: p for p in colour_files}
    colour: list[Path | None] = [by_stem.get(p.stem) for p in depth_files]
    pairing = "equal names"
    if depth_list is not None and colour_list is not None and any(colour):
        # both lists time every file: equal names they time apart are no pair (trial AB)
        apart = _listed_apart(
            [t for t, _ in depth_list], colour, colour_files, [t for t, _ in colour_list]
        )
        if apart:
            warnings.warn(
                f"{root}: {len(apart)} colour image(s) named like their depth frame are "
                f"listed farther from it than one frame interval (the first: {apart[0][0].name}"
                f", {apart[0][1]:.3f} s): colour is paired by the times depth.txt and rgb.txt "
                "give, as TUM's tools pair it",
                stacklevel=2,
            )
            colour = [None] * len(depth_files)
    if colour_files and not any(colour):
        nearest = pair_nearest(depth_files, colour_files, depth_times, colour_times)
        colour, pairing = (nearest, "nearest timestamps") if nearest else (colour, "none")
    if colour_files and not any(colour):
        why = (
            "none is within one frame interval of a depth frame's time"
            if pairing == "nearest timestamps"
            else "no name matches a depth file's, and the names give no times"
        )
        warnings.warn(
            f"{root}: none of the {len(colour_files)} colour image(s) goes with a depth frame "
            f"({why}): the frames have no colour",
            stacklevel=2,
        )
    times = None
    if tum is not None:
        times = _tum_times(depth_files, depth_times, colour, colour_files, colour_times)
    if depth_list is not None and times is not None:
        warn_own_times(str(names["depth.txt"]), [t for t, _ in times], "the list")
    elif kind.startswith("SUN3D"):
        times = _sun3d_times(depth_files, colour)
    return FileLayout(
        kind,
        depth_files,
        colour,
        evidence,
        pairing if colour_files else "none",
        times,
        video_aligned=True,
        colour_files=_colour_stream(colour_files, colour),
    )


def _colour_stream(files: list[Path], paired: list[Path | None]) -> tuple[Path, ...]:
    """``FileLayout.colour_files``: a colour folder's files and any other file paired."""
    return tuple(sorted({*files, *(c for c in paired if c is not None)}, key=frame_order))


#: SUN3D names a frame ``<frame number>-<time in microseconds>`` (``0000002-000000033369``).
SUN3D_NAME = re.compile(r"\d+-(\d+)")
SUN3D_TICKS_PER_SECOND = 1e6


def _sun3d_time(path: Path) -> float | None:
    """The time (seconds) in a SUN3D file's name, or None for a name that is not one."""
    found = SUN3D_NAME.fullmatch(path.stem)
    return None if found is None else int(found[1]) / SUN3D_TICKS_PER_SECOND


def _sun3d_times(
    depth: list[Path], colour: list[Path | None]
) -> list[tuple[float, float | None]] | None:
    """The times in SUN3D's names: what its nearest-time pairing trusts, so the frames and
    their colour records carry them too; None when a depth name has none."""
    times: list[tuple[float, float | None]] = []
    for d, c in zip(depth, colour, strict=True):
        td = _sun3d_time(d)
        if td is None:
            return None
        times.append((td, None if c is None else _sun3d_time(c)))
    return times


def _tum_times(
    depth: list[Path],
    depth_times: list[float | None] | None,
    colour: list[Path | None],
    colour_files: list[Path],
    colour_times: list[float | None] | None,
) -> list[tuple[float, float | None]] | None:
    """Each depth frame's time and its colour's: TUM's lists' (``None``: no list), else the
    names' (TUM names every file by its time, ``1305031102.160407.png``); None when a depth
    frame has no time."""
    if depth_times is None:
        depth_times = [_number(p.stem) for p in depth]
    if colour_times is None:
        colour_times = [_number(p.stem) for p in colour_files]
    time_of = dict(zip(colour_files, colour_times, strict=True))
    times: list[tuple[float, float | None]] = []
    for td, c in zip(depth_times, colour, strict=True):
        if td is None:
            return None
        times.append((td, None if c is None else time_of.get(c)))
    return times


def colour_for(depth_name: str, names: dict[str, Path]) -> Path | None:
    """The colour file named like a depth file (``x_depth.png`` -> ``x_color.jpg``, ...);
    None for a name without ``depth``: nothing in it says which file is its colour (and the
    depth file is never its own colour)."""
    lower = depth_name.lower()
    stem, dot, _ = lower.rpartition(".")
    if not dot or "depth" not in stem:
        return None
    for word in COLOUR_WORDS:
        other = stem.replace("depth", word)
        for ext in COLOUR_EXTENSIONS:
            found = names.get(other + ext)
            if found is not None:
                return found
    return None


def flat_units(depth_name: str, names: dict[str, Path], real_root: str) -> Evidence:
    """Evidence from the names in a flat folder: 7-Scenes (with the folder's own
    ``camera-intrinsics.txt`` where it has one), TUM lists beside the files."""
    if SEVEN_SCENES_NAME.fullmatch(depth_name):
        mm = DepthUnits.of(DepthFormat.MM, "7-Scenes names frame-*.depth.png")
        camera = names.get(SEVEN_SCENES_CAMERA)
        if camera is None:
            return Evidence(mm, SEVEN_SCENES_INTRINSICS, "7-Scenes' published calibration")
        intrinsics = parse_intrinsics_matrix(read_text(camera, real_root), str(camera))
        return Evidence(mm, intrinsics, f"{camera.name} beside the frames")
    units = _tum_units(names)
    return Evidence(units) if units is not None else Evidence()


def _flat_layout(root: Path, names: dict[str, Path]) -> FileLayout:
    pngs = sorted(
        ((n, p) for n, p in names.items() if n.endswith(".png")),
        key=lambda np_: frame_order(np_[1]),
    )
    if not pngs:
        raise _linked_out(root, root, os.path.realpath(root), (".png",), ("depth",)) or NotMyFormat(
            f"{root}: expected INDEX.txt, PNG files or depth/ beside rgb/"
        )
    depth = [p for n, p in pngs if "depth" in n]
    hinted = bool(depth)
    if not hinted:  # no naming hint: every 16-bit PNG is depth (a header read each)
        depth = [p for _, p in pngs if _is_depth_png(p)]
    if not depth:
        raise SourceError(f"{root}: expected 16-bit depth PNGs, got only 8-bit images")
    colour = [colour_for(p.name, names) for p in depth]
    _say_holes(root, depth)
    if not hinted:  # a PNG among the frames that is no depth: not dropped unsaid (trial X)
        kept = {*depth, *(c for c in colour if c is not None)}
        left = [p for _, p in pngs if p not in kept]
        if left:
            warnings.warn(
                f"{root}: {len(left)} PNG(s) that are not 16-bit depth left out (the first: "
                f"{left[0].name}, {depth_png.read_header(left[0])})",
                stacklevel=4,
            )
    real_root = os.path.realpath(root)
    evidence = flat_units(depth[0].name, names, real_root)
    camera = names.get(CAMERA_FILE)
    if camera is not None and evidence.intrinsics is None:  # depthview's png16 export
        scene = parse_camera_text(read_text(camera, real_root), str(camera))
        units = evidence.units or _camera_file_units(
            scene.depth_scale, f"the folder's {CAMERA_FILE}"
        )
        evidence = Evidence(units, scene.intrinsics, f"the folder's {CAMERA_FILE}")
    kind = "7-Scenes" if SEVEN_SCENES_NAME.fullmatch(depth[0].name) else "PNG folder"
    return FileLayout(
        kind,
        depth,
        colour,
        evidence,
        "names" if any(colour) else "none",
        colour_files=_colour_stream([], colour),
    )


def _say_holes(root: Path, depth: list[Path]) -> None:
    """Frames numbered in their names with numbers missing between them (an export's
    ``--every 3``, ``--range``, a frame skipped) are read one after another, each timed by
    its place: said, since the names' numbers are not the frames' (trial Z)."""
    numbers = []
    for path in depth:
        found = _DIGITS.findall(path.stem)
        if not found or ("." in path.stem and _number(path.stem) is not None):
            return  # no number, or a time (TUM's 1305031102.160407): no frame number
        numbers.append(int(found[-1]))
    if numbers != sorted(numbers):
        return
    # counted from the steps, not a set of every number between (names of milliseconds)
    missing = sum(max(0, b - a - 1) for a, b in itertools.pairwise(numbers))
    if missing:
        first = next(a + 1 for a, b in itertools.pairwise(numbers) if b > a + 1)
        warnings.warn(
            f"{root}: frames numbered {numbers[0]} to {numbers[-1]} in their names, "
            f"{missing} number(s) missing (the first: {first}): they are read one "
            "after another (frame 0, 1, ...), each timed by its place, not by its number",
            stacklevel=4,
        )


def _is_depth_png(path: Path) -> bool:
    """A PNG of a folder without naming hints: depth when 16-bit grey, and when its header
    does not read (a frame broken or no file: said where it is read, not dropped)."""
    try:
        return depth_png.read_header(path).is_depth
    except SourceError:
        return True


def scan_folder(folder: Path) -> FileLayout:
    """The layout of ``folder`` (``NotMyFormat`` when it holds no PNG depth at all)."""
    real_root = os.path.realpath(folder)
    names = _files(folder, real_root)
    try:
        layout = _subfolder_layout(folder, names, real_root)
    except OSError as exc:
        raise SourceError(f"{folder}: cannot list ({exc.strerror or exc})") from None
    if layout is None:
        layout = _flat_layout(folder, names)
        _say_unpaired(folder, layout, _flat_colour(names, layout.depth))
    elif any(layout.colour):  # (none paired: said already, naming how many)
        _say_unpaired(folder, layout, layout.colour_files)
    return layout


def _say_unpaired(root: Path, layout: FileLayout, candidates: Sequence[Path]) -> None:
    """Colour images of the layout that go with no depth frame (TUM's rgb.txt listing more
    than depth.txt, a colour folder's extra images, 7-Scenes' ``frame-N.color.jpg`` without
    its depth): said once, the first named, as the README promises (trial AN D6: unsaid)."""
    paired = {c for c in layout.colour if c is not None}
    left = [c for c in candidates if c not in paired]
    if left:
        first = left[0].relative_to(root) if left[0].is_relative_to(root) else left[0]
        images = "colour image pairs" if len(left) == 1 else "colour images pair"
        warnings.warn(
            f"{root}: {len(left)} {images} with no depth frame (the first: {first}): left out",
            stacklevel=3,
        )


def _flat_colour(names: dict[str, Path], depth: list[Path]) -> list[Path]:
    """A flat folder's colour images: named like its depth frames with a colour word for
    ``depth`` (``colour_for``'s rule), any number in the name (paired or not)."""
    shapes = {_DIGITS.sub("#", p.stem.lower()) for p in depth if "depth" in p.stem.lower()}
    found = []
    for name, path in names.items():
        stem, dot, ext = name.rpartition(".")
        if not dot or f".{ext}" not in COLOUR_EXTENSIONS or "depth" in stem:
            continue
        if any(
            w in stem and _DIGITS.sub("#", stem.replace(w, "depth")) in shapes for w in COLOUR_WORDS
        ):
            found.append(path)
    return sorted(found, key=frame_order)


def single_png_evidence(path: Path) -> Evidence:
    """What a lone PNG's name and its folder say: 7-Scenes names, or a TUM or SUN3D dataset
    around it (the file in ``depth/``, the lists beside that)."""
    folder = path.parent
    if SEVEN_SCENES_NAME.fullmatch(path.name):
        camera = folder / SEVEN_SCENES_CAMERA
        names = {SEVEN_SCENES_CAMERA: camera} if camera.is_file() else {}
        return flat_units(path.name, names, os.path.realpath(folder))
    if folder.name.lower() != "depth":
        return Evidence()
    root = folder.parent
    real_root = os.path.realpath(root)
    names = {
        n: root / n
        for n in (*TUM_LISTS, *ASSOCIATION_FILES, "intrinsics.txt")
        if (root / n).is_file()
    }
    units = _tum_units(names)
    if units is not None:
        return _tum_evidence(units, root)
    if "intrinsics.txt" in names and (root / "image").is_dir():
        return _sun3d_evidence(root, names, real_root)
    return Evidence()


__all__ = [
    "COLOUR_FOLDERS",
    "Evidence",
    "FileLayout",
    "colour_for",
    "pair_nearest",
    "parse_associations",
    "parse_intrinsics_matrix",
    "scan_folder",
    "single_png_evidence",
]
