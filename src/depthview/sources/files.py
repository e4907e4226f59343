"""Depth frames from plain files, with the units decided from evidence and said in
``units_note``:

- a folder of 16-bit depth PNGs in any layout ``file_layouts`` knows (TUM RGB-D, ICL-NUIM,
  Redwood, Open3D's samples, 7-Scenes, SUN3D, depthview's own ``export --format png16``),
  colour images paired;
- one depth PNG; one PGM: a fakenect ``d-*.pgm`` or NYU Depth v2 raw PGM (little-endian
  11-bit) or a standard big-endian one (OpenCV, Pillow), told apart by its values
  (``pgm_byte_order``);
- a ``.npy`` (H,W) or (N,H,W) integer array; a ``.npz`` with ``depth`` (or ``arr_0``, saved
  positionally) and colour named ``video``, ``rgb``, ``color``, ``colour``, ``image`` (or
  ``arr_1``): RGB, or IR as export keeps it (``video_format``).

Units, first that applies: the user's ``depth_format=`` or ``depth_scale=`` (units per
metre); depthview's own marker (a PNG text chunk, a ``.npz``'s ``depth_format``); the
layout's evidence; else millimetres for PNGs, raw 11-bit disparity for a fakenect PGM, and
for a standard PGM or an array raw 11-bit disparity while the values fit it (as libfreenect
gives them), else millimetres. Kinds are told by content (magic bytes).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import BrokenFile, LeftOut, NotMyFormat, SourceError
from ..fakenect_format import MAX_HEADER, parse_pnm_header
from ..frame import (
    DEPTH_FPS,
    IR_10BIT_MAX,
    VIDEO_ARRAYS,
    DepthFormat,
    Frame,
    Stamp,
    Stream,
    VideoFormat,
    video_format_of,
)
from ..geometry import KINECT_V1_DEPTH, Intrinsics
from ..registration import Registration
from . import depth_png, numpy_files
from .base import (
    LoopClock,
    Pacer,
    Source,
    check_options,
    loop_shift,
    measured_fps,
    say_skipped,
)
from .depth_units import FILE_FORMATS, DepthUnits, from_options
from .fakenect import open_regular, read_pnm
from .file_layouts import Evidence, FileLayout, scan_folder, single_png_evidence
from .npz_times import (
    CONVERT_LAYOUT,
    READ_KEYS,
    VIDEO_ALIGNED,
    NpzTimes,
    archive_layout,
    read_times,
)

OPTIONS = ("realtime", "loop", "strict", "depth_format", "depth_scale", "fps")
DEPTH_KEYS = ("depth", "arr_0")
COLOUR_KEYS = ("video", "rgb", "color", "colour", "image")
#: Nonzero pixels all multiples of 8 in a frame this full: SUN3D's rotated millimetres.
SUN3D_MIN_PIXELS = 64

Loader = Callable[[int], tuple[npt.NDArray[np.uint16], npt.NDArray[Any] | None]]


class ArraySource(Source):
    """Frames from a loader by index (files read lazily, or arrays in memory), seekable."""

    def __init__(
        self,
        name: str,
        length: int,
        load: Loader,
        units: DepthUnits,
        *,
        has_video: bool,
        video_format: VideoFormat = VideoFormat.RGB,
        intrinsics: Intrinsics,
        units_note: str,
        loop: bool = False,
        strict: bool = False,
        realtime: bool = False,
        fps: float = 30.0,
        times: Sequence[tuple[float, float | None]] | None = None,
        files: Sequence[Path] | None = None,
        stamps: NpzTimes | None = None,
        colour_seq: Sequence[int | None] | None = None,
        no_times: str = "records no frame times",
    ) -> None:
        self.name = name
        self._times = times
        #: Each frame's colour record (its place in the colour stream; None: no colour),
        #: and the first frame that shows each: an image serving two depth frames is one
        #: record, at one time. None: a frame's colour is its own record (arrays).
        self._colour_seq = colour_seq
        self._first_shown: dict[int, int] = {}
        for i, seq in enumerate(colour_seq or ()):
            if seq is not None:
                self._first_shown.setdefault(seq, i)
        #: The last colour and accelerometer record handed out since a seek (``_once``).
        self._handed: dict[Stream, Stamp] = {}
        #: An archive's own times, device times and accelerometer (``npz_times``).
        self._stamps = stamps
        #: Each frame's depth file (None: frames from arrays), and whether the times are
        #: the dataset's own (else index / fps): ``convert`` keeps the names when not.
        self.frame_files = files
        self.own_times = times is not None or stamps is not None
        self.times_from_start = not self.own_times
        self._length = length
        self._load = load
        self._said_broken: set[str] = set()  # each broken frame said once (``say_skipped``)
        self.units = units
        self.depth_format = units.format
        self.has_video = has_video
        #: What the files hold: RGB, or a .npz export's IR (its ``video_format``).
        self.video_format = video_format
        self.video_formats = (video_format,) if has_video else ()
        self.intrinsics = intrinsics
        self.units_note = units_note
        self.units_guess = units.guess
        self.loop = loop
        #: A broken file ends the reading (``BrokenFile``) rather than being skipped.
        self.strict = bool(strict)
        #: The archive's or dataset's own rate where it has times, else the one given (0:
        #: read as fast as it can, timed at the Kinect's rate: trial AB, every time was 0).
        rate = fps or DEPTH_FPS
        self.fps: float = rate
        own = stamps.timestamp.tolist() if stamps is not None else [t for t, _ in times or ()]
        if self.own_times:
            measured = measured_fps(own)
            self.fps = measured or rate
            if measured is None and length > 1:  # every step back or still: said, not silent
                self.times_guess = (
                    f"{name}'s frame times never go forward: its rate is taken as {rate:g} frames/s"
                )
        if not self.own_times and (length > 1 or loop):  # one frame read once: no clock
            self.times_guess = (
                f"{name} {no_times}: each frame's time is its position / {rate:g} frames/s"
            )
        self._pacer = Pacer() if realtime and fps else None
        self._position = 0
        #: A looping replay's passes; each continues the clock.
        self._loop = LoopClock(self._loop_shift)
        self._closed = False

    def own_frame_times(self) -> list[float] | None:
        """Each frame's time as the source records it (TUM's lists, SUN3D's names, an
        archive's ``timestamp``), first pass; None when it records none (index / fps)."""
        if self._stamps is not None:
            return [float(t) for t in self._stamps.timestamp]
        if self._times is not None:
            return [t for t, _ in self._times]
        return None

    @property
    def seekable(self) -> bool:
        return True

    @property
    def length(self) -> int:
        return self._length

    def seek(self, index: int) -> None:
        self._position = self._seek_index(index)
        self._handed.clear()  # the first frame read brings its colour record again
        if self._pacer is not None:
            self._pacer.reset()

    @property
    def position(self) -> int:
        return self._position

    def set_video_format(self, fmt: VideoFormat) -> None:
        """Files hold one video format; asking for it again is harmless."""
        self._check_video_format(fmt)

    def close(self) -> None:
        self._closed = True

    def _loop_shift(self) -> tuple[float, int]:
        """One pass's shift from the times this source gives its frames."""
        fps = self.fps
        stamps = self._stamps
        if stamps is not None:  # an archive's own: every stream's host times, device clock
            others = [stamps.video_timestamp, stamps.accel_timestamp]
            device = stamps.device_timestamp
            ends = None
            if device is not None and int(device[0]) >= 0 and int(device[-1]) >= 0:
                ends = (int(device[0]), int(device[-1]))
            return loop_shift(
                stamps.timestamp.tolist(),
                [float(t) for column in others if column is not None for t in column],
                ends,
                fps,
            )
        if self._times is not None:  # the dataset's own (TUM's lists)
            return loop_shift(
                [t for t, _ in self._times],
                [v for _, v in self._times if v is not None],
                fps=fps,
            )
        return loop_shift([i / fps for i in range(self._length)], fps=fps)

    def read(self) -> Frame:
        if self._closed:
            raise SourceError(f"{self.name}: read after close")
        skipped: list[str] = []  # a folder's broken files: said once a readable frame is read
        while True:
            if self._position >= self._length:
                if not self.loop:
                    say_skipped(skipped, self._said_broken)
                    raise StopIteration
                self._position = 0
                self._loop.passes += 1  # its clock goes on: paced on across the seam
            i = self._position
            self._position += 1
            try:
                depth, video = self._load(i)
                break
            except BrokenFile as exc:  # the frames around it are fine: skipped, said
                if self.strict:
                    raise
                skipped.append(str(exc))
                if len(skipped) >= self._length:  # one line, not a warning per frame
                    raise SourceError(
                        f"{self.name}: expected at least one readable depth frame, got "
                        f"{len(skipped)} broken ones; first: {skipped[0]}"
                    ) from None
        say_skipped(skipped, self._said_broken)
        frame = self._once(self._frame(i, depth, video).shifted(*self._loop.offset()))
        if self._pacer is not None:  # each pass continues the clock, so pacing goes on
            self._pacer.wait(frame.timestamp)
        return frame

    def _once(self, frame: Frame) -> Frame:
        """The frame with its ``records``: its colour and accelerometer records only when
        they are not the ones the frame before brought (one colour image serving two depth
        frames arrived once), then its depth, so that a writer of records (``.mcap``,
        ``.rrd``, ``record``) writes each record once, at its own time."""
        records = []
        for record in frame.own_records():
            if record.stream is not Stream.DEPTH:
                if self._handed.get(record.stream) == record.stamp:
                    continue
                self._handed[record.stream] = record.stamp
            records.append(record)
        return replace(frame, records=tuple(records))

    def _frame(
        self, i: int, depth: npt.NDArray[np.uint16], video: npt.NDArray[Any] | None
    ) -> Frame:
        """Frame ``i`` at its first pass's times."""
        if self._stamps is not None:  # an archive's own (export's or convert's npz read back)
            fields = self._stamps.fields(i, video is not None)
            if not fields.pop("video_valid", True):
                video = None
                fields.pop("video_stamp")
            return Frame(
                depth=depth,
                video=video,
                depth_format=self.depth_format,
                video_format=None if video is None else self.video_format,
                index=i,
                **fields,
            )
        seq = i if self._colour_seq is None else self._colour_seq[i]
        first = i if seq is None else self._first_shown.get(seq, i)
        t, video_t = self._time(i), self._time(first)  # a record's time: when first shown
        if self._times is not None:  # the dataset's own times (TUM's lists, SUN3D's names)
            video_time = self._times[i][1]
            video_t = video_t if video_time is None else video_time
        return Frame(
            depth=depth,
            video=video,
            depth_format=self.depth_format,
            video_format=None if video is None else self.video_format,
            timestamp=t,
            index=i,
            video_stamp=None if video is None else Stamp(i if seq is None else seq, video_t),
        )

    def _time(self, i: int) -> float:
        """Frame ``i``'s time (first pass): the dataset's own, else its position / fps."""
        if self._times is not None:
            return self._times[i][0]
        return i / self.fps


# -- units -------------------------------------------------------------------------------
def _intrinsics(evidence: Evidence, size: tuple[int, int]) -> tuple[Intrinsics, str]:
    """A dataset's own calibration, else the Kinect's for the depth's (width, height)."""
    if evidence.intrinsics is not None and evidence.intrinsics is not KINECT_V1_DEPTH:
        return evidence.intrinsics, evidence.intrinsics_note
    why = evidence.intrinsics_note or "no calibration found beside the files"
    if size != (640, 480):
        why += f"; scaled from 640x480 to the depth's {size[0]}x{size[1]}"
    return KINECT_V1_DEPTH.for_size(*size), f"Kinect v1 defaults ({why})"


def _note(units: DepthUnits, layout: str, intrinsics_note: str) -> str:
    """``units_note``: units and why; the layout; intrinsics and why."""
    return f"{units.note}; {layout}; intrinsics: {intrinsics_note}"


def _png_units(user: DepthUnits | None, first: Path, evidence: Evidence) -> tuple[DepthUnits, bool]:
    """The units of a PNG source and whether they are only the default (no evidence)."""
    marked = depth_png.marker_format(depth_png.read_header(first), str(first))
    if marked is not None:
        _refuse_relabelling(user, marked, f"{first}: depthview's marker says")
        return DepthUnits.of(marked, f"depthview's marker in {first.name}"), False
    if user is not None:
        return user, False
    if evidence.units is not None:
        return evidence.units, False
    return (
        DepthUnits.of(
            DepthFormat.MM,
            "no evidence of units: the default; say depth_format= or depth_scale=",
            guessed=True,
        ),
        True,
    )


def _refuse_relabelling(user: DepthUnits | None, marked: DepthFormat, says: str) -> None:
    """The user's units name what unmarked values count; a file depthview marked says it
    itself, so other units would relabel every value (raw disparity as millimetres), not
    convert it: refused in one line. The same units are no contradiction."""
    if user is None or (user.format is marked and user.scale is None and not user.sun3d):
        return
    asked = user.said or f"depth_format='{user.format.name.lower()}'"
    # png16 gives millimetres of raw disparity; TUM's fifths of a millimetre it keeps
    how = " (export --format png16 gives millimetres)" if marked.is_raw else ""
    raise SourceError(
        f"{says} {marked.name}: {asked} would relabel its values, not convert them; leave it "
        f"out{how}"
    )


def _refuse_sun3d_guess(stored: npt.NDArray[np.uint16], where: str) -> None:
    """Defaulted millimetres that are all multiples of 8 are SUN3D's rotated ones: refuse."""
    nonzero = stored[stored != 0]
    if nonzero.size >= SUN3D_MIN_PIXELS and not (nonzero & 7).any():
        raise SourceError(
            f"{where}: expected millimetres, got values that are all multiples of 8, as SUN3D "
            "stores millimetres rotated by 3 bits; say depth_format='sun3d' to read them so, "
            "or depth_format='mm' if they are plain millimetres"
        )


def _colour_loader(paths: Sequence[Path | None]) -> Callable[[int], npt.NDArray[np.uint8] | None]:
    """Frame ``i``'s colour image; None when it has none, or (said) when its file is broken:
    the depth frame stands without it, as one whose image is missing."""

    said: set[str] = set()  # each broken image said once, not on every pass of a loop
    first: list[tuple[str, tuple[int, ...]]] = []  # the first image read: its name and shape

    def load(i: int) -> npt.NDArray[np.uint8] | None:
        path = paths[i]
        if path is None:
            return None
        try:
            image = depth_png.read_colour(path)
            if not first:
                first.append((path.name, image.shape))
            name, shape = first[0]
            if image.shape != shape:  # one stream's images are one size (trial AB)
                h, w = shape[:2]
                raise BrokenFile(
                    f"{path}: expected a {w}x{h} colour image like {name}, got "
                    f"{image.shape[1]}x{image.shape[0]}",
                    str(path),
                )
            return image
        except BrokenFile as exc:
            if str(exc) not in said:
                said.add(str(exc))
                text = f"left out broken colour image: {exc}"
                warnings.warn(LeftOut(text, "video", exc.path or str(path)), stacklevel=2)
            return None

    return load


def _file_source(
    name: str,
    depth: Sequence[Path],
    colour: Sequence[Path | None],
    read_stored: Callable[[Path], npt.NDArray[Any]],
    units: DepthUnits,
    evidence: Evidence,
    layout: str,
    options: dict[str, Any],
    size: tuple[int, int],
    times: Sequence[tuple[float, float | None]] | None = None,
    colour_files: Sequence[Path] = (),
) -> ArraySource:
    colour_of = _colour_loader(colour)
    place = {path: seq for seq, path in enumerate(colour_files)}  # the colour stream's

    def load(i: int) -> tuple[npt.NDArray[np.uint16], npt.NDArray[Any] | None]:
        stored = read_stored(depth[i])
        if (stored.shape[1], stored.shape[0]) != size:
            raise SourceError(
                f"{depth[i]}: expected {size[0]}x{size[1]} depth like {depth[0].name} (the "
                f"first frame), got {stored.shape[1]}x{stored.shape[0]}; one source's frames "
                "must all be one size"
            )
        return units.decode(stored, str(depth[i])), colour_of(i)

    intrinsics, why = _intrinsics(evidence, size)
    return ArraySource(
        name,
        len(depth),
        load,
        units,
        has_video=any(c is not None for c in colour),
        intrinsics=intrinsics,
        units_note=_note(units, layout, why),
        times=times,
        files=depth,
        colour_seq=[None if c is None else place[c] for c in colour] if place else None,
        **options,
    )


# -- openers -----------------------------------------------------------------------------
def _open_pngs(
    name: str, layout: FileLayout | None, path: Path, options: dict[str, Any]
) -> ArraySource:
    user = from_options(options)
    depth: list[Path]
    colour: list[Path | None]
    if layout is None:
        depth, colour, evidence = [path], [None], single_png_evidence(path)
        described = "one PNG"
    else:
        depth, colour, evidence = layout.depth, layout.colour, layout.evidence
        described = f"layout: {layout.kind}, colour paired by {layout.pairing}"
    units, defaulted = _png_units(user, depth[0], evidence)
    if defaulted:
        _refuse_sun3d_guess(depth_png.read_depth(depth[0]), str(depth[0]))
    header = depth_png.read_header(depth[0])
    own = depth_png.marker_intrinsics(header, str(depth[0]))
    if own is not None and evidence.intrinsics is None:  # a folder's camera.yaml first
        evidence = replace(evidence, intrinsics=own, intrinsics_note="the PNG's own")
    source = _file_source(
        name,
        depth,
        colour,
        functools.partial(depth_png.read_depth, expected=units.format),
        units,
        evidence,
        described,
        options,
        (header.width, header.height),
        None if layout is None else layout.times,
        () if layout is None else layout.colour_files,
    )
    source.video_aligned = layout is not None and layout.video_aligned and bool(source.has_video)
    return source


def read_pgm(path: Path, big_endian: bool = False) -> npt.NDArray[np.uint16]:
    """A 16-bit binary PGM: little-endian as libfreenect's ``record`` writes it (unlike the
    PGM standard; NYU Depth v2's raw dumps are the same), the recording reader's own, or
    ``big_endian`` as the standard (OpenCV, Pillow, Netpbm) writes it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        depth: npt.NDArray[np.uint16] = read_pnm(fd, str(path), "P5", np.uint16, 1)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if big_endian:
        depth.byteswap(inplace=True)
    return depth


def pgm_byte_order(little: npt.NDArray[np.uint16]) -> tuple[bool, str]:
    """Whether a lone PGM is big-endian, from its values read little-endian, and why in a
    few words. The file does not say: the PGM standard is big-endian, libfreenect's d-*.pgm
    little-endian. A copied d- file holds 11-bit disparity, so little-endian is chosen only
    when every value then fits 11 bits and big-endian does not; else the standard's."""
    raw_max = DepthFormat.RAW_11BIT.max_value
    as_little = int(little.max(initial=0))
    as_big = int(little.byteswap().max(initial=0))
    if as_little <= raw_max < as_big:
        return False, (
            "read little-endian as libfreenect writes d-*.pgm (a guess: only so do its "
            f"values fit 11 bits; big-endian, the PGM standard, gives up to {as_big})"
        )
    why = (
        f"little-endian, libfreenect's d-*.pgm, gives up to {as_little}"
        if as_little > raw_max
        else "its values fit 11 bits either way"
    )
    return True, f"read big-endian as the PGM standard says (a guess: {why})"


def _open_pgm(path: Path, options: dict[str, Any]) -> ArraySource:
    little = read_pgm(path)
    big, order = pgm_byte_order(little)
    first = little.byteswap() if big else little
    with open(path, "rb") as fh:  # (read_pgm read it whole: the header is there to read)
        maxval = parse_pnm_header(fh.read(MAX_HEADER), str(path)).maxval
    top = int(first.max(initial=0))
    if top > maxval:  # Netpbm: each sample is 0..maxval (trial AN D4: read as if valid)
        raise SourceError(f"{path}: expected samples 0..{maxval} (its maxval), got up to {top}")
    units = from_options(options) or (
        _units_by_values(first, "as libfreenect gives it")
        if big
        else DepthUnits.of(DepthFormat.RAW_11BIT, "libfreenect's d-*.pgm layout", guessed=True)
    )  # (the file says neither byte order nor units: either way a guess, said, trial AH D2)
    evidence = Evidence(intrinsics_note="a PGM carries no calibration")
    units.decode(first, str(path))  # refuse a file that is not what it claims
    size = (first.shape[1], first.shape[0])

    def read(p: Path) -> npt.NDArray[np.uint16]:
        return read_pgm(p, big)

    return _file_source(
        str(path), [path], [None], read, units, evidence, f"one PGM, {order}", options, size
    )


def _npz_arrays(
    path: Path,
) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None, str, dict[str, npt.NDArray[Any]]]:
    """Depth, colour (or None), the colour's key, and the archive's other arrays depthview
    reads: ``depth_format``, ``video_format``, ``video_aligned``, ``intrinsics``,
    ``registration`` and the
    per-frame times of either layout (``npz_times.READ_KEYS``)."""
    names = numpy_files.npz_names(path)
    depth_key = next((k for k in DEPTH_KEYS if k in names), None)
    if depth_key is None and not names:
        recordings = numpy_files.zip_recordings(path)
        if recordings:
            raise SourceError(
                f"{path}: a zip of {recordings} recording(s) (INDEX.txt inside), not a .npz: "
                f"'depthview convert {path} OUT' reads it in place; unzip it to view one"
            )
        raise SourceError(
            f"{path}: a zip without arrays, not a .npz (a zipped folder is not a SOURCE): "
            "unzip it and give the folder"
        )
    if depth_key is None:
        raise SourceError(
            f"{path}: expected a 'depth' (or positional 'arr_0') array in the .npz, got "
            f"{sorted(names)}"
        )
    colour_keys = COLOUR_KEYS + (("arr_1",) if depth_key == "arr_0" else ())
    colour_key = next((k for k in colour_keys if k in names), "")
    arrays = numpy_files.load_npz(
        path,
        {
            depth_key,
            colour_key,
            "depth_format",
            NPZ_VIDEO_FORMAT,
            NPZ_CAMERA,
            NPZ_REGISTRATION,
            VIDEO_ALIGNED,
            *READ_KEYS,
        },
    )
    return arrays[depth_key], arrays.get(colour_key), colour_key, arrays


#: The .npz array that holds the device's registration (device.json's text), as export keeps
#: a recording's: its raw depth then reads in the same millimetres as the recording.
NPZ_REGISTRATION = "registration"


def _npz_registration(path: Path, value: npt.NDArray[Any] | None) -> Registration | None:
    if value is None:
        return None
    if value.ndim != 0 or value.dtype.kind != "U":
        raise SourceError(
            f"{path}: expected {NPZ_REGISTRATION} as device.json's text, got {value.dtype} "
            f"{value.shape}"
        )
    return Registration.from_json_text(str(value.item()), f"{path}: {NPZ_REGISTRATION}")


#: The .npz array that holds its depth's camera: fx, fy, cx, cy (convert writes it).
NPZ_CAMERA = "intrinsics"


def _npz_camera(path: Path, values: Any) -> Evidence:
    """What a .npz says about its camera: its ``intrinsics`` array, else nothing."""
    if values is None:
        return Evidence(intrinsics_note="an array file carries no calibration")
    flat = np.asarray(values, dtype=np.float64).ravel() if values.dtype.kind in "uif" else None
    if flat is None or flat.shape != (4,):
        raise SourceError(
            f"{path}: expected {NPZ_CAMERA} as 4 numbers (fx, fy, cx, cy), got {values.dtype} "
            f"{values.shape}"
        )
    try:
        camera = Intrinsics(*(float(v) for v in flat))
    except ValueError as exc:
        raise SourceError(f"{path}: {NPZ_CAMERA}: {exc}") from None
    return Evidence(intrinsics=camera, intrinsics_note=f"the .npz's {NPZ_CAMERA} array")


def _marked_format(path: Path, marker: npt.NDArray[Any]) -> DepthFormat:
    """The format a ``.npz``'s ``depth_format`` array names: depthview writes a DepthFormat
    number; a name (``"mm"``) does too. One a file cannot hold (packed) or a fraction is
    refused, never truncated into another."""
    value = marker.item() if marker.ndim == 0 else None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    fmt = None
    if isinstance(value, int | str) and not isinstance(value, bool):
        with contextlib.suppress(ValueError):
            fmt = DepthFormat.parse(value)
    if fmt not in FILE_FORMATS:
        names = ", ".join(f"{f.name} ({int(f)})" for f in FILE_FORMATS)
        got = repr(value) if marker.ndim == 0 else f"an array of shape {marker.shape}"
        raise SourceError(f"{path}: its depth_format array: expected one of {names}, got {got}")
    return fmt


def _array_units(
    path: Path, user: DepthUnits | None, depth: npt.NDArray[Any], marker: Any
) -> DepthUnits:
    if marker is not None:
        marked = _marked_format(path, marker)
        _refuse_relabelling(user, marked, f"{path}: its depth_format array says")
        return DepthUnits.of(marked, "the .npz's depth_format array")
    if user is not None:
        return user
    return _units_by_values(depth, "as freenect.sync_get_depth() gives them")


def _units_by_values(depth: npt.NDArray[Any], whose: str) -> DepthUnits:
    """Nothing said what the values count (an array, a standard PGM): raw 11-bit disparity
    while they fit it (``whose`` convention that is), else millimetres; a guess either way."""
    top = int(depth.max(initial=0)) if depth.dtype.kind in "ui" else 0
    if top > DepthFormat.RAW_11BIT.max_value:
        return DepthUnits.of(
            DepthFormat.MM,
            f"values up to {top} are not 11-bit disparity: the default",
            guessed=True,
        )
    return DepthUnits.of(
        DepthFormat.RAW_11BIT, f"values fit 11-bit disparity, {whose}", guessed=True
    )


def _open_array(path: Path, kind: bytes, options: dict[str, Any]) -> ArraySource:
    user = from_options(options)
    colour_key = ""
    extras: dict[str, npt.NDArray[Any]] = {}
    if kind == numpy_files.NPY_MAGIC:
        depth, colour = numpy_files.load_npy(path), None
    else:
        depth, colour, colour_key, extras = _npz_arrays(path)
    marker, camera = extras.get("depth_format"), extras.get(NPZ_CAMERA)
    if depth.ndim in (3, 4) and depth.shape[-1] in (3, 4) and depth.dtype.kind in "uif":
        raise SourceError(
            f"{path}: expected a (H,W) or (N,H,W) depth array, got {depth.dtype} {depth.shape}: "
            "a last axis of 3 or 4 is a colour image, not depth"
        )
    if depth.size == 0:
        raise SourceError(
            f"{path}: expected a (H,W) or (N,H,W) depth array, got an empty one {depth.shape}"
        )
    if depth.ndim not in (2, 3) or depth.dtype.kind not in "ui":
        raise SourceError(  # the file's own shape, before a frames axis is added
            f"{path}: expected a (H,W) or (N,H,W) integer depth array, got {depth.dtype} "
            f"{depth.shape}"
        )
    video_format = VideoFormat.RGB
    if colour is not None:
        named = extras.get(NPZ_VIDEO_FORMAT)
        video_format = _video_format(path, colour, colour_key, depth, named)
    described = (
        "one .npy"
        if kind == numpy_files.NPY_MAGIC
        else f".npz, {'IR' if video_format.is_ir else 'colour'} from {colour_key!r}"
        if colour is not None
        else ".npz without colour"
    )
    if depth.ndim == 2:
        depth = depth[None]
        colour = None if colour is None else colour[None]
    stamps = read_times(path, extras, depth.shape[0])
    no_times = "records no frame times"
    if stamps is None and "timestamp" in extras:  # checked: one finite time, repeated
        same = float(extras["timestamp"].reshape(-1)[0])
        no_times = f"records one time for every frame (timestamp all {same:.6f}), not one each"
    units = _array_units(path, user, depth, marker)
    frames = units.decode(depth, str(path))
    video = colour

    def load(i: int) -> tuple[npt.NDArray[np.uint16], npt.NDArray[Any] | None]:
        return np.array(frames[i]), None if video is None else np.array(video[i])

    intrinsics, why = _intrinsics(_npz_camera(path, camera), (frames.shape[2], frames.shape[1]))
    source = ArraySource(
        str(path),
        len(frames),
        load,
        units,
        has_video=video is not None,
        video_format=video_format,
        intrinsics=intrinsics,
        units_note=_note(units, described, why),
        stamps=stamps,
        no_times=no_times,
        **options,
    )
    source.registration = _npz_registration(path, extras.get(NPZ_REGISTRATION))
    # convert's pairs: depth aligned to the colour image (trial AF: read as unaligned); an
    # export says so in its video_aligned array (trial AM D8), an older one does not
    aligned = archive_layout(extras) == CONVERT_LAYOUT or _npz_aligned(path, extras)
    source.video_aligned = video is not None and aligned
    return source


def _npz_aligned(path: Path, extras: dict[str, npt.NDArray[Any]]) -> bool:
    """An export's ``video_aligned`` array: its colour lines up with its depth pixel for
    pixel (False without the array: an archive written before it was kept)."""
    value = extras.get(VIDEO_ALIGNED)
    if value is None:
        return False
    if value.ndim != 0 or value.dtype.kind != "b":
        raise SourceError(
            f"{path}: its {VIDEO_ALIGNED} array: expected True or False, got {value.dtype} "
            f"{value.shape}"
        )
    return bool(value.item())


#: The .npz array that names its video's format (a VideoFormat number; export writes it).
NPZ_VIDEO_FORMAT = "video_format"


def _video_format(
    path: Path,
    colour: npt.NDArray[Any],
    key: str,
    depth: npt.NDArray[Any],
    marker: npt.NDArray[Any] | None,
) -> VideoFormat:
    """The format of a .npz's video (``key``, a frame per depth frame): RGB, or IR as a
    Kinect or the demo gives it, told by how the array is held (``VIDEO_ARRAYS``) and, in an
    export, by its ``video_format`` array; ``SourceError`` when they disagree."""
    said = _marked_video_format(path, marker) if marker is not None else None
    lead = depth.shape[:-2]  # (N,), or () for one frame
    if colour.ndim >= len(lead) + 2 and colour.shape[: len(lead)] == lead:
        held = video_format_of(colour.dtype, colour.shape[len(lead) + 2 :])
        if held is VideoFormat.IR_10BIT and colour.size and int(colour.max()) > IR_10BIT_MAX:
            raise SourceError(  # 16-bit IR would be clipped white and labelled 10-bit (AF D3)
                f"{path}: expected {key!r} as 10-bit IR (uint16 values 0..{IR_10BIT_MAX}, as "
                f"a Kinect gives it), got values up to {int(colour.max())}"
            )
        if held is not None and said in (None, held):
            return held
    n = f"{lead[0]}, " if lead else ""

    def shape(fmt: VideoFormat) -> str:
        dtype, axes = VIDEO_ARRAYS[fmt]
        return f"({n}H, W{''.join(f', {a}' for a in axes)}) {dtype}"

    if said is not None:
        expected = f"{said.name} video of shape {shape(said)}, as its video_format array says"
    else:
        expected = (
            f"colour of shape {shape(VideoFormat.RGB)} or IR of shape "
            f"{shape(VideoFormat.IR_8BIT)} or {shape(VideoFormat.IR_10BIT)}"
        )
    raise SourceError(f"{path}: expected {key!r} as {expected}, got {colour.dtype} {colour.shape}")


def _marked_video_format(path: Path, marker: npt.NDArray[Any]) -> VideoFormat:
    """The format a ``.npz``'s ``video_format`` array names (a VideoFormat number)."""
    value = marker.item() if marker.ndim == 0 and marker.dtype.kind in "iu" else None
    if value not in VIDEO_ARRAYS:
        names = ", ".join(f"{f.name} ({int(f)})" for f in VIDEO_ARRAYS)
        got = repr(marker.item()) if marker.ndim == 0 else f"an array of shape {marker.shape}"
        raise SourceError(f"{path}: its video_format array: expected one of {names}, got {got}")
    return VideoFormat(value)


def _magic(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(8)
    except OSError:
        return b""


def open_source(uri: str, **options: Any) -> ArraySource:
    """A depth folder or file (see the module docstring); ``NotMyFormat`` otherwise."""
    path = Path(os.path.expanduser(uri))  # an unknown ~user stays as typed
    if path.is_dir():
        kind = b"dir"
    elif path.is_file():
        kind = _magic(path)
        if path.stat().st_size == 0:
            raise SourceError(
                f"{uri}: expected a depth file (PNG, PGM, .npy or .npz), got an empty file"
            )
    elif os.path.lexists(path):  # a named pipe, a link to nothing: said as what it is
        open_regular(path, uri)
        raise NotMyFormat(f"{uri}: no such file or folder")  # (open_regular raised)
    else:
        raise NotMyFormat(f"{uri}: no such file or folder")
    check_options(uri, options, OPTIONS)
    source = _open_kind(path, kind, uri, options)
    source.inputs = (path,)
    return source


def _open_kind(path: Path, kind: bytes, uri: str, options: dict[str, Any]) -> ArraySource:
    if kind == b"dir":
        return _open_pngs(str(path), scan_folder(path), path, options)
    if kind.startswith(numpy_files.NPY_MAGIC):
        return _open_array(path, numpy_files.NPY_MAGIC, options)
    if kind.startswith(numpy_files.ZIP_MAGIC):
        return _open_array(path, numpy_files.ZIP_MAGIC, options)
    if kind.startswith(numpy_files.EMPTY_ZIP_MAGIC):  # np.savez() of nothing (trial AI D5)
        raise SourceError(
            f"{uri}: expected a 'depth' (or positional 'arr_0') array in the .npz, got an empty zip"
        )
    if kind == depth_png.PNG_MAGIC:
        return _open_pngs(str(path), None, path, options)
    if re.match(rb"P[1-6][ \t\r\n#]", kind):  # Netpbm: a PGM, or said why not (P2, a PPM)
        return _open_pgm(path, options)
    raise NotMyFormat(f"{uri}: expected PNG, PGM, .npy or .npz content, got {kind!r}")
