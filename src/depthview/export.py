"""Export frames to files other programs read: colourised or 16-bit PNGs, MP4 video, PLY
point clouds, ``.npz`` of raw frames, and Rerun (``.rrd``) and Foxglove (``.mcap``)
recordings.

The output's name chooses the format (``FORMATS``): a file ending in ``.mp4``, ``.npz``,
``.rrd``, ``.mcap`` or ``.ply`` (one point cloud: the first selected frame), or a folder,
which holds one file per frame named by frame index (``frame-000042.png``): colourised PNG
by default, ``png16`` 16-bit PNG in millimetres or ``ply`` with ``--format``. A ``--format`` that
contradicts the name is refused.

Everything is checked before anything is written, and nothing is left half-written: each
file is written under a temporary name and renamed when complete, an output folder is made
only when the first frame is ready (and removed again if nothing went into it), and an MP4
interrupted by Ctrl-C is finished as a shorter, playable video (or removed when empty).
A folder's frames are written into a hidden folder inside it and moved into place when
the run ends (``outputs.FolderOutput``): ``--overwrite`` replaces the frames of an earlier
export (``frame-*.png``, ``frame-*.ply``) and leaves every other file alone, and a run that
fails leaves the folder as it was.
Pillow (extra ``png``) and PyAV (extra ``video``) are imported only when their format is
used, with a message naming the extra when they are missing.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._checks import COUNT, FPS, FRAME_INDEX, FRAMES, argument, flag, whole
from .camera_file import CAMERA_FILE
from .colorize import Equalizer
from .errors import DepthviewError, ExportError
from .filters import Chain, FilterSpec, filter_frames, filters_argument
from .filters.base import kernels as filter_kernels
from .frame import DepthFormat, Frame
from .geometry import Intrinsics, colour_lines_up
from .outputs import FolderOutput, check_output, check_target, claimed, other_output, overlap
from .palettes import PALETTES, ranged_palette
from .recording import is_recording_file
from .registration import Registration
from .soft_stop import stop_on_signal, until_stopped
from .sources.base import Source, nearest
from .writers import mp4, npz, ply, png, png16
from .writers.base import FrameWriter, Settings, checked_frames, is_frame_file, require
from .writers.pictures import LAYOUTS, depth_image
from .writers.sinkfile import MCAP, RRD

#: What an MP4 can hold: frames per second (``writers.mp4``).
MP4_FPS = mp4.FPS


@dataclass(frozen=True)
class ExportFormat:
    """One output format: its name, the file suffix that selects it (None for folder formats),
    whether pictures (layouts, palettes) apply, the extra it needs, and its writer."""

    name: str
    suffix: str | None
    pictures: bool
    extra: tuple[str, str] | None  # (module to import, extra that installs it)
    write: FrameWriter
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
    #: Ctrl-C of an ``--overwrite`` over an earlier export: that export was kept whole and
    #: this run's frames were dropped (``frames`` is what had been written).
    kept_earlier: bool = False

    def __str__(self) -> str:
        if self.kept_earlier:
            return (
                f"interrupted after {self.frames} frames: {self.path} keeps the earlier export "
                "as it was (an --overwrite replaces it only when the run ends)"
            )
        what = "interrupted: " if self.interrupted else ""
        if not self.frames:  # every format then leaves no file (as record says it)
            return f"{what}nothing exported: {self.path} was not made"
        return f"{what}exported {self.frames} frames ({self.files} files) to {self.path}"


#: Every format, by name. Folder formats first: the first is the default for a folder.
FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("png", None, True, ("PIL.Image", "png"), png.write_frames, "colourised PNGs"),
        ExportFormat(
            "png16", None, False, ("PIL.Image", "png"), png16.write_frames, "16-bit depth PNGs, mm"
        ),
        ExportFormat("ply", None, False, None, ply.write_frames, "a PLY point cloud a frame"),
        ExportFormat("mp4", ".mp4", True, ("av", "video"), mp4.write, "H.264 video"),
        ExportFormat("npz", ".npz", False, None, npz.write_frames, "raw frames for numpy"),
        ExportFormat("rrd", ".rrd", False, ("rerun", "rerun"), RRD.write, "Rerun recording"),
        ExportFormat(
            "mcap", ".mcap", False, ("foxglove", "foxglove"), MCAP.write, "Foxglove/ROS 2 MCAP"
        ),
    )
}
#: Single-file formats by the suffix that selects them; ``.ply`` is one point cloud.
SUFFIXES: dict[str, ExportFormat] = {
    **{f.suffix: f for f in FORMATS.values() if f.suffix is not None},
    ".ply": ExportFormat("ply", ".ply", False, None, ply.write_file, "one PLY point cloud"),
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
    alone = SUFFIXES.get(out.name.lower())  # ".npz": Path takes it for a name with no suffix
    if alone is not None and format in (None, alone.name):
        raise ExportError(
            f"{out}: expected a name before {out.name} (such as depth{out.name}), got the "
            "suffix alone"
        )
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


def _selected(
    source: Source | Iterable[Frame], start: int, stop: int | None, every: int, limit: int | None
) -> Iterator[Frame]:
    """Frames ``start:stop:every`` (at most ``limit``), seeking when the source can. A
    seekable source's frames are counted by their own number (``Frame.index``), so that a
    broken frame it skips is not replaced by the next one in the range or the rhythm."""
    numbered = isinstance(source, Source) and source.seekable
    # from ``start`` whatever was read before (trial AL D8: a source read to its end
    # exported nothing, said as no frame chosen)
    if isinstance(source, Source) and numbered and source.position != start:
        source.seek(start)
    i = start if numbered else 0
    taken = 0
    for frame in source:
        if not isinstance(frame, Frame):  # said before anything is written, not mid-writer
            raise ExportError(f"expected Frames (or a Source), got {type(frame).__name__}")
        if numbered:
            i = frame.index
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
    filters: str | FilterSpec | Chain | None = None,
    accepted: Callable[[], None] | None = None,
) -> ExportSummary:
    """Export frames ``start:stop:every`` (at most ``frames`` of them) of a source to
    ``out``; the format follows ``out``'s name (see the module docstring). ``registered``
    aligns depth to the colour image (png16, npz) and colours point clouds from the colour
    pixels they fall on (ply), with the source's registration or the default one. PLY
    clouds use ``intrinsics``, else the source's own (``Source.intrinsics``). ``filters``
    (a ``--filter`` spec or a Chain) runs on each exported frame's depth in millimetres.
    ``accepted`` is called once every check has passed, before anything is read or written
    (the command line says its warnings there, so that a refusal is the only line)."""
    for name, value in (
        ("overwrite", overwrite),
        ("registered", registered),
        ("progress", progress),
    ):
        flag(name, value)
    if not os.fspath(out).strip():
        raise ExportError(f"OUT: expected a file or folder name, got {os.fspath(out)!r}")
    if not isinstance(source, (Source, Iterable)) or isinstance(source, (str, bytes)):
        raise ExportError(
            f"expected a Source (dv.open(...)) or Frames, got {type(source).__name__}"
        )
    out = Path(out)
    if isinstance(source, Source):
        check_output(out, source.inputs, ExportError)
    fmt = choose_format(out, format)
    _one_of("--layout", layout, LAYOUTS)
    if palette is not None:
        _one_of("--palette", palette, PALETTES)
    # the command line's own checks of --every, --frames and --fps (trial AL D3, D5)
    every = whole("every", every, COUNT)
    frames = None if frames is None else whole("frames", frames, FRAMES)
    start = whole("start", start, FRAME_INDEX)
    stop = None if stop is None else whole("stop", stop, FRAME_INDEX)
    if stop is not None and stop <= start:
        raise ExportError(f"--range: expected 0 <= START < END, got {start}:{stop}")
    fps = None if fps is None else argument("fps", fps, FPS)
    try:
        palette = ranged_palette(palette, near, far)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    if near is not None and far is not None and not near < far:
        raise ExportError(f"--near {near} must be less than --far {far}")
    if registered and fmt.name not in ("png16", "ply", "npz"):
        raise ExportError(f"--registered: applies to png16, ply and npz, not {fmt.name}")
    own_times = isinstance(source, Source) and not source.times_from_start
    if fps is not None and fmt.name != "mp4" and own_times:  # --fps would change nothing
        raise ExportError(
            f"--fps: {getattr(source, 'name', 'the source')} records its own frame times, "
            f"and --format {fmt.name} has no rate of its own (--fps sets an MP4's rate, and "
            "the times of a source that records none)"
        )
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
    try:  # a spec string as convert(filters=...) takes it (trial AL D6)
        filters = filters_argument(filters)
    except ValueError as exc:
        raise ExportError(f"--filter: {exc}") from None
    if filters is not None and registered:
        raise ExportError("--filter and --registered: filter depth or align it, not both")
    given = getattr(source, "depth_format", None)  # what a source says it gives, if it does
    aligns = (DepthFormat.RAW_11BIT, DepthFormat.REGISTERED)
    if registered and isinstance(given, DepthFormat) and given not in aligns:
        raise ExportError(  # said before anything else, not at the first frame
            f"--registered: expected raw 11-bit depth to align, got {given.unit_name}"
        )
    # Said once every refusal has passed (a refused run says one line, nothing else).
    notes: list[str] = []
    if registered and fmt.name == "ply" and isinstance(source, Source) and not source.has_video:
        # said, not silently a cloud like one without --registered
        notes.append(
            f"--registered: {source.name} has no colour image: the points are not coloured"
        )
    if isinstance(source, Source) and source.has_video:
        unaligned = given if isinstance(given, DepthFormat) and given not in aligns else None
        # registered depth lines up with the colour image (trial AB: it was said not to)
        lined_up = colour_lines_up(source.video_aligned, given)
        left_out = _colour_left_out(fmt, registered, lined_up, unaligned)
        if left_out:
            notes.append(f"{out}: {source.name}'s colour images are not kept: {left_out}")
        if layout == "overlay" and not lined_up:  # said, as a cloud's colours are (trial AB)
            how = (
                "--depth-format registered lines them up"
                if given is DepthFormat.RAW_11BIT
                else "nothing here aligns them"
            )
            notes.append(
                f"{out}: --layout overlay blends {source.name}'s depth over its colour images "
                f"pixel for pixel, and they do not line up ({how})"
            )
    if every > 1 and fmt.name in ("rrd", "mcap"):  # files that keep every record otherwise
        notes.append(
            f"{out}: --every {every} keeps one frame in {every} with its own records: the "
            "colour images and accelerometer readings that came with the others are left out"
        )
    if fmt.suffix == ".ply":
        if frames is not None and frames > 1:
            raise ExportError(
                f"--frames {frames}: a .ply file holds one point cloud; use --frames 1 "
                "(and --range START: to choose the frame)"
            )
        if stop is not None and len(range(start, stop, every)) > 1:
            raise ExportError(
                f"--range {start}:{stop}: selects {len(range(start, stop, every))} frames and a "
                f".ply file holds one point cloud; use --range {start}:{start + 1}, or "
                "--format ply for a folder of them"
            )
        if every > 1:
            raise ExportError(
                f"--every {every}: a .ply file holds one point cloud; --format ply writes a "
                "folder of one a frame"
            )
        many = source.length if isinstance(source, Source) else None
        if frames is None and stop is None and (many is None or many - start > 1):
            # the others are said to be left out, not left out unseen (trial AB)
            notes.append(
                f"{out}: a .ply file holds one point cloud: frame {start} only (--range "
                "START: chooses another; --format ply writes a folder of one a frame)"
            )
        frames = 1  # one point cloud a file
    length = source.length if isinstance(source, Source) else None
    if isinstance(source, list):
        length = len(source)
    if length == 0 and not isinstance(source, Source):  # no --range was given (trial AL D7)
        raise ExportError(f"nothing to export: no frames were given; {out} was not written")
    if length is not None and start >= length:  # said before the progress bar
        raise ExportError(
            f"{getattr(source, 'name', 'the source')}: --range: expected a frame index "
            f"0..{length - 1}, got {start}"
        )
    if length is not None and stop is not None and stop > length:
        raise ExportError(
            f"--range {start}:{stop}: END is past the last frame; expected a frame index "
            f"0..{length - 1} (at most --range {start}:{length})"
        )
    total = _total(length, start, stop, every, frames)
    if total is None:
        # frames= and stop= are --frames and --range on the command line (errors.cli_words)
        unknown = (  # (trial AL D8: a generator of 10 frames was called a live source)
            "a live source"
            if isinstance(source, Source)
            else "frames of no known number (a generator): give frames= (at most), or a list"
        )
        raise ExportError(f"frames=: expected a number of frames (or stop=) for {unknown}")
    if fmt.extra is not None:
        require(*fmt.extra, fmt.name)
    what = f"--format {fmt.name}"
    check_target(out, folder=fmt.is_folder, overwrite=overwrite, what=what, error=ExportError)
    theirs = out / CAMERA_FILE  # a user's own (ORB-SLAM settings): never replaced
    if fmt.name == "png16" and theirs.is_file() and not is_frame_file(theirs):
        raise ExportError(
            f"{theirs}: not written by depthview, and --format png16 writes its camera file "
            "there; move it, or export into another folder"
        )
    other = other_output(out, {"a recording": is_recording_file}) if fmt.is_folder else None
    if other is not None:
        raise ExportError(
            f"{out}: holds {other}, not an export: --overwrite would mix {fmt.name} frames "
            "into it; export into another folder"
        )
    # An MP4 plays in the source's time (its rate measured from its own frame times, where
    # it has them: ``Source.fps``): every Nth frame of it at 1/N of its rate.
    own_rate = (source.fps if isinstance(source, Source) else None) or 30.0
    rate = fps or min(MP4_FPS[1], max(MP4_FPS[0], own_rate / every))
    if intrinsics is None:
        intrinsics = source.intrinsics if isinstance(source, Source) else None
    own = source.registration if isinstance(source, Source) else None
    registration = (own or Registration.default()) if registered else None
    aligned = isinstance(source, Source) and source.video_aligned
    # Times that are a guess (they never go forward) are not the MP4's clock: its rate is.
    guessed = isinstance(source, Source) and bool(source.times_guess)
    settings = Settings(
        layout,
        palette,
        near,
        far,
        rate,
        intrinsics,
        registration,
        own,
        aligned,
        Equalizer(),
        timed=fps is None and not guessed,
    )
    folder = FolderOutput(out, is_frame_file) if fmt.is_folder else None
    with claimed(out, ExportError):  # one run writes an output at a time
        try:
            for note in notes:
                warnings.warn(note, stacklevel=2)
            if accepted is not None:
                accepted()
            return _write(
                source,
                out,
                fmt,
                folder,
                settings,
                checked_frames(_selected(source, start, stop, every, frames)),
                total,
                filters,
                progress,
            )
        except BaseException:  # failed before the writer's own clean-up: a folder this run
            # made, and nothing in it, goes
            if folder is not None:
                folder.abandon()
            raise


def _colour_left_out(
    fmt: ExportFormat, registered: bool, aligned: bool, unaligned: DepthFormat | None
) -> str:
    """Why ``fmt`` leaves a source's colour out, or "" when it keeps it (or shows it as the
    pictures' layout asks): said, so a later step from the export does not lose it unseen.
    A cloud takes colour pixel for pixel only where colour lines up with depth, else through
    ``--registered``, advised only where it can align the depth (``unaligned``: the depth's
    format when it cannot, metric depth, which ``--registered`` refuses)."""
    if fmt.name == "png16":
        return "png16 holds depth only (a .npz, .mcap or .rrd export keeps them)"
    if fmt.name == "ply" and not registered and not aligned:
        if unaligned is not None:
            return (
                "its colour does not line up with its depth, and --registered aligns only raw "
                f"11-bit depth, not {unaligned.unit_name}: the points cannot be coloured"
            )
        return (
            "its colour does not line up with its depth, so the points are coloured only "
            "with --registered"
        )
    return ""


def _write(
    source: Source | Iterable[Frame],
    out: Path,
    fmt: ExportFormat,
    folder: FolderOutput | None,
    settings: Settings,
    chosen: Iterator[Frame],
    total: int,
    filters: FilterSpec | Chain | None,
    progress: bool,
) -> ExportSummary:
    """Write the chosen frames (every check passed, ``out`` held): into a hidden staging
    folder or beside ``out``, moved into place when complete. None to write (a range of
    broken frames) is refused before any file is made, rather than an empty output."""
    try:
        first = next(chosen, None)
    except OSError as exc:
        raise _failed(exc, source, out, folder) from None
    if first is None:
        raise ExportError(
            f"{getattr(source, 'name', 'the source')}: nothing to export: no readable frame "
            f"among those chosen (--range, --every, --frames); {out} was not written"
        )
    chosen = itertools.chain((first,), chosen)
    own = settings.source_registration
    from tqdm import tqdm

    bar = tqdm(
        total=total, unit="frame", file=sys.stderr, disable=not progress, desc=f"export {fmt.name}"
    )
    chain = filters(own) if isinstance(filters, FilterSpec) else filters
    if chain is not None:  # no history of an earlier run: one call, one file (trial AJ D15)
        chain.reset()
    if chain is not None and len(chain):
        filter_kernels()  # a missing extra is reported before anything is written
        chosen = filter_frames(chosen, chain, own)
    selected = _Stoppable(chosen, bar, None if folder is None else folder.files)
    # Ctrl-C keeps what was made, but never at the cost of an earlier export: over one, this
    # run is written apart and replaces it only when it ends (kept_earlier otherwise).
    earlier = out.is_file() if folder is None else folder.has_earlier()
    replacing = earlier and folder is None
    target = out.with_name(f".{out.stem}.replacing{out.suffix}") if replacing else out
    written = target if folder is None else folder.staging
    kept_earlier = False
    note = ""
    with _named_as(out, target):  # errors name OUT, not the hidden name
        try:
            try:
                with stop_on_signal(selected.stop):
                    count = fmt.write(selected, written, settings)
                blank, note = _colour_missing(source, out, settings, count, selected, earlier)
                if blank is not None:  # pictures of nothing: not an export that looks good
                    if folder is None:
                        target.unlink(missing_ok=True)  # this run's file (beside an earlier one)
                    raise blank
                kept_earlier = earlier and selected.stopped
                if folder is not None and kept_earlier:
                    folder.abandon()
                elif folder is not None:
                    folder.commit()
                elif kept_earlier:
                    target.unlink(missing_ok=True)
                elif target != out and target.exists():
                    os.replace(target, out)
            except BaseException:
                if folder is not None:
                    folder.abandon()
                elif target != out:
                    with contextlib.suppress(OSError):
                        target.unlink()
                raise
        except ValueError as exc:  # colour range, palette/format mismatch
            raise ExportError(str(exc)) from None
        except OSError as exc:
            raise _failed(exc, source, out, folder) from None
        finally:
            bar.close()
    if note:  # said once the progress bar is done
        warnings.warn(note, stacklevel=3)
    files = count if fmt.is_folder else int(count > 0)
    return ExportSummary(out, count, files, selected.stopped, kept_earlier)


@contextlib.contextmanager
def _named_as(out: Path, target: Path) -> Iterator[None]:
    """A file export over an earlier one is written under a hidden name (``target``) and
    replaces OUT only when complete: its errors (a bad frame, a full disk, in every
    format's writer) name OUT, the file the user asked for, and say the earlier one stays,
    rather than a file the user never named and that is gone afterwards."""
    try:
        yield
    except DepthviewError as exc:
        if target == out:
            raise
        said = str(exc).replace(str(target), str(out))
        if not said.endswith(f"{out} stays as it was"):  # said already by the error itself
            said = f"{said}; the earlier {out.name} is kept as it was"
        raise type(exc)(said) from None


def _colour_missing(
    source: Source | Iterable[Frame],
    out: Path,
    settings: Settings,
    count: int,
    selected: _Stoppable,
    earlier: bool,
) -> tuple[ExportError | None, str]:
    """A layout that shows colour (``video``, ``both``, ``overlay``) of frames none of which
    had a colour image (every one broken, each said as it was skipped) draws black where
    the colour goes: the error that refuses the output then, as a source without colour is
    refused before. A run the user stopped keeps what it made, with a warning (the note
    returned) instead. Some frames without colour (a ``.npz``'s ``video_valid`` False, a
    recording's frames before its first image) are a note too, as the export goes ahead."""
    if settings.layout == "depth" or not count:
        return None, ""
    if selected.coloured:
        blank = count - min(selected.coloured, count)
        if not blank:
            return None, ""
        return None, (
            f"--layout {settings.layout}: {blank} of the {count} frames exported had no "
            f"colour image (the first: frame {selected.first_blank}), black where it goes"
        )
    name = getattr(source, "name", "the source")
    what = (
        f"--layout {settings.layout}: expected colour images to show, got no readable one "
        f"in the {count} frames of {name} exported"
    )
    if selected.stopped:
        return None, f"{what}: the colour picture is black"
    kept = "stays as it was" if earlier else "was not written"
    return ExportError(f"{what}; {out} {kept}"), ""


def _failed(
    exc: OSError, source: Source | Iterable[Frame], out: Path, folder: FolderOutput | None
) -> ExportError:
    """An OSError while exporting in one line: an input that cannot be read (a colour image
    of mode 000: not the output's fault), else the output that cannot be written."""
    named = None if exc.filename is None else Path(os.fsdecode(exc.filename))
    inputs = source.inputs if isinstance(source, Source) else ()
    if named is not None and overlap(named, inputs, contains=False) is not None:
        return ExportError(f"{named}: cannot read ({exc.strerror or exc})")
    where = out
    if folder is not None and named is not None:
        where = folder.shown(named)  # the user's name for it
    return ExportError(f"{where}: cannot write ({exc.strerror or exc})")


class _Stoppable:
    """The frames to write. Ctrl-C or SIGTERM ends them after the frame being written, so
    the writer finishes its file normally; ``make_folder`` (a folder output's) is called
    when the first frame is ready."""

    def __init__(
        self, frames: Iterator[Frame], bar: Any, make_folder: Callable[[], object] | None
    ) -> None:
        self._frames, self._bar, self._make_folder = frames, bar, make_folder
        self.stopped = False
        #: Frames handed to the writer with a colour image, and the first without one.
        self.coloured = 0
        self.first_blank: int | None = None

    def stop(self, signum: int) -> None:
        """Ctrl-C or SIGTERM: end after the frame being written (``soft_stop``)."""
        self.stopped = True

    def __iter__(self) -> Iterator[Frame]:
        taken = 0
        for frame in until_stopped(self._frames, lambda: self.stopped):
            if taken:
                self._bar.update(1)  # the writer is done with the previous frame
            if self.stopped:
                return
            if self._make_folder is not None and not taken:
                self._make_folder()
            taken += 1
            self.coloured += frame.video is not None
            if frame.video is None and self.first_blank is None:
                self.first_blank = frame.index
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
