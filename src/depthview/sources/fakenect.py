"""Replay a libfreenect (fakenect) recording folder: ``dv.open("path/to/recording")``.

Opening reads INDEX.txt only; frame files are read lazily, one ``pread`` into a fresh
array each, so a long recording opens instantly and seeking is free. Every file name is
checked to stay inside the folder (the parser allows plain names only; symlinks are
resolved before reading), and every file is opened by ``open_regular``: one that is not a
regular file (a named pipe, whose open would wait for a writer for ever) is refused before
it is opened. A broken frame is skipped with a warning naming the file
(``strict=True`` makes it fatal); a recording with nothing usable is a ``SourceError``
naming the file and line.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import BrokenFile, NotMyFormat, SourceError
from ..fakenect_format import (
    DEVICE_JSON,
    EXTENSIONS,
    INDEX_NAME,
    KIND_ACCEL,
    KIND_DEPTH,
    KIND_VIDEO,
    MAX_HEADER,
    IndexEntry,
    check_pnm,
    no_depth_entry,
    parse_index_line,
    parse_pnm_header,
    parse_tilt_state,
)
from ..frame import (
    DEPTH_FPS,
    DepthFormat,
    Frame,
    Record,
    Stamp,
    Stream,
    TiltState,
    VideoFormat,
)
from ..outputs import file_kind
from ..registration import Registration, register, to_mm
from .base import (
    LoopClock,
    Pacer,
    Source,
    check_options,
    loop_shift,
    measured_fps,
    say_skipped,
)

#: Largest INDEX.txt we accept (about 3 million lines); anything bigger is not an index.
MAX_INDEX_BYTES = 128 * 1024 * 1024
OPTIONS = ("realtime", "loop", "strict", "depth_format")
#: Formats a recording's files hold (fakenect records raw 11-bit; 10-bit read as such) ...
RECORDED_FORMATS = (DepthFormat.RAW_11BIT, DepthFormat.RAW_10BIT)
#: ... and formats made from raw 11-bit on replay, as libfreenect's fakenect does.
CONVERTED_FORMATS = (DepthFormat.MM, DepthFormat.REGISTERED)


@dataclass(frozen=True, slots=True)
class IndexedFrame:
    """A depth entry, the video and accel entries shown with it (indices into entries, -1
    when none), and ``span``: the entries this frame accounts for, in arrival order (from
    after the previous depth entry through this one; the last frame also takes the records
    after it), so replaying every frame's span gives back every entry exactly once."""

    depth: int
    video: int
    accel: int
    span: range


class RecordingIndex:
    """INDEX.txt parsed: every usable entry with its line number, and the depth frames."""

    def __init__(self, folder: Path, *, strict: bool = False) -> None:
        self.folder = folder
        self.index_path = folder / INDEX_NAME
        self.entries: list[IndexEntry] = []
        self.lines: list[int] = []
        self.bad_lines: list[tuple[int, str]] = []
        fd = open_regular(self.index_path, str(self.index_path))
        try:
            with open(fd, "rb") as fh:
                data = fh.read(MAX_INDEX_BYTES + 1)
        except OSError as exc:
            raise SourceError(f"{self.index_path}: cannot read ({exc.strerror})") from None
        if len(data) > MAX_INDEX_BYTES:
            raise SourceError(
                f"{self.index_path}: expected an index of file names, got over "
                f"{MAX_INDEX_BYTES} bytes"
            )
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            where = f"{self.index_path} line {number}"
            try:
                entry = parse_index_line(raw, where)
            except SourceError as exc:
                if strict:
                    raise
                self.bad_lines.append((number, str(exc)))
                continue
            self.entries.append(entry)
            self.lines.append(number)
        self.frames: list[IndexedFrame] = []
        #: Each entry's place among the entries of its kind (the records' ``seq``).
        self.seq: list[int] = []
        counts = dict.fromkeys(EXTENSIONS, 0)
        video = accel = -1
        start = 0
        for i, entry in enumerate(self.entries):
            self.seq.append(counts[entry.kind])
            counts[entry.kind] += 1
            if entry.kind == KIND_VIDEO:
                video = i
            elif entry.kind == KIND_ACCEL:
                accel = i
            else:
                # A frame shows the latest image listed before it, never a later one: frames
                # before the first image (libfreenect writes its first d- a few ms before
                # its first r-) have none, so an export labels no frame with an image taken
                # after it and a recording made from that export stays in time order.
                self.frames.append(IndexedFrame(i, video, accel, range(start, i + 1)))
                start = i + 1
        if self.frames and start < len(self.entries):
            last = self.frames[-1]
            self.frames[-1] = IndexedFrame(
                last.depth, last.video, last.accel, range(last.span.start, len(self.entries))
            )
        if not self.frames:
            raise SourceError(no_depth_entry(self.index_path, len(self.entries), self.bad_lines))
        if self.bad_lines:
            number, message = self.bad_lines[0]
            warnings.warn(
                f"{self.index_path}: skipped {len(self.bad_lines)} unreadable line(s), "
                f"first at line {number}: {message}",
                stacklevel=3,
            )

    def where(self, entry_index: int) -> str:
        """``rec/d-....pgm (INDEX.txt line 7)`` for messages."""
        return (
            f"{self.folder / self.entries[entry_index].name} "
            f"({INDEX_NAME} line {self.lines[entry_index]})"
        )


def read_pnm(
    fd: int, where: str, magic: str, dtype: type[np.generic], channels: int
) -> npt.NDArray[Any]:
    """The pixels of the PGM/PPM open as ``fd``, as fakenect writes them (16-bit samples
    little-endian, unlike the PGM standard); header and size checked, ``SourceError`` naming
    ``where`` otherwise."""
    size = os.fstat(fd).st_size
    head = os.pread(fd, MAX_HEADER, 0)
    header = parse_pnm_header(head, where)
    itemsize = np.dtype(dtype).itemsize
    check_pnm(header, magic, itemsize, where)
    if size != header.size + header.data_size:
        raise SourceError(
            f"{where}: expected {header.size + header.data_size} bytes "
            f"({header.width}x{header.height}), got {size}"
        )
    shape = (header.height, header.width) + ((channels,) if channels > 1 else ())
    out = np.empty(shape, dtype=dtype)
    got = os.preadv(fd, [out.data.cast("B")], header.size)
    if got != header.data_size:
        raise SourceError(f"{where}: expected {header.data_size} bytes, got {got}")
    if itemsize == 2 and not np.little_endian:
        out.byteswap(inplace=True)
    return out


def open_regular(path: str | os.PathLike[str], where: str) -> int:
    """``path`` open for reading: the one way a recording's (and a folder's) files are
    opened. Anything but a regular file is refused (``BrokenFile`` naming ``where``: a
    frame's file so is a broken frame) before an open that could wait (a named pipe's waits
    for a writer for ever, and SIGTERM cannot end that): looked at first, then opened
    without waiting and looked at again (it may have been swapped). A symbolic link to
    nothing (or a loop of them) is said as one: the name is there, so "no such file" would
    send the user looking for the wrong thing."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISREG(mode):
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        if os.path.islink(path) and exc.errno in (errno.ENOENT, errno.ELOOP):
            got = (
                "a link that loops back on itself"
                if exc.errno == errno.ELOOP
                else f"a link to {os.path.realpath(path)}, which does not exist"
            )
            raise BrokenFile(f"{where}: expected a regular file, got {got}", str(path)) from None
        raise SourceError(f"{where}: cannot read ({exc.strerror})") from None
    if stat.S_ISREG(mode):
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode):
            os.set_blocking(fd, True)
            return fd
        os.close(fd)
    raise BrokenFile(f"{where}: expected a regular file, got {file_kind(mode)}", str(path))


class FileReader:
    """Reads frame files safely: inside the folder, header checked, size exact."""

    def __init__(self, folder: Path) -> None:
        self.root = os.path.realpath(folder)

    def open_inside(self, name: str, where: str) -> int:
        path = os.path.join(self.root, name)
        real = os.path.realpath(path)
        if os.path.dirname(real) != self.root:
            raise SourceError(
                f"{where}: expected a file inside the recording, got a link to {real}"
            )
        return open_regular(path, where)  # (the link, if any, said as one when broken)

    def read_pnm(
        self, name: str, where: str, magic: str, dtype: type[np.generic], channels: int
    ) -> npt.NDArray[Any]:
        fd = self.open_inside(name, where)
        try:
            return read_pnm(fd, where, magic, dtype, channels)
        finally:
            os.close(fd)

    def read_small(self, name: str, where: str, limit: int = 4096) -> bytes:
        fd = self.open_inside(name, where)
        try:
            return os.read(fd, limit)
        finally:
            os.close(fd)


class RecordingSource(Source):
    """A fakenect recording played back in real time (default) or as fast as possible."""

    fps = DEPTH_FPS

    def __init__(
        self,
        folder: Path,
        *,
        realtime: bool = True,
        loop: bool = False,
        strict: bool = False,
        depth_format: DepthFormat | str | int = DepthFormat.RAW_11BIT,
    ) -> None:
        self.folder = folder
        self.name = str(folder)
        self.inputs = (folder,)
        self.loop = bool(loop)
        #: A looping replay's passes; each continues the clock (``_loop_shift``).
        self._loop = LoopClock(self._loop_shift)
        #: Each stream's size (h, w) by file kind, found once (``_first_size``).
        self._sizes: dict[str, tuple[int, int] | None] = {}
        self.strict = bool(strict)
        said = depth_format if isinstance(depth_format, str) else None
        try:
            self.depth_format = DepthFormat.parse(
                "tum" if said is not None and said.strip().lower() == "sun3d" else depth_format
            )
            if self.depth_format not in RECORDED_FORMATS + CONVERTED_FORMATS:
                raise ValueError
        except ValueError:
            got = repr(said) if said is not None else str(depth_format)
            raise SourceError(
                "depth_format: expected a depth format for a fakenect recording (raw 11-bit "
                f"depth): 11bit, 10bit, mm or registered, got {got}; tum and sun3d name the "
                "units of depth image files"
            ) from None
        self.index = RecordingIndex(folder, strict=strict)
        entries = self.index.entries
        self.fps = measured_fps(entries[f.depth].unix_time for f in self.index.frames) or DEPTH_FPS
        self.registration = read_registration(folder)
        self._convert = self.depth_format in CONVERTED_FORMATS
        if self._convert and self.registration is None:
            warnings.warn(
                f"{folder}: no {DEVICE_JSON}: {self.depth_format.name} depth uses the "
                "default registration (another Kinect's factory values)",
                stacklevel=3,
            )
        #: The stored frames' format: what the files hold (raw) and the records carry.
        self.stored_format = DepthFormat.RAW_11BIT if self._convert else self.depth_format
        converted = f", converted with {DEVICE_JSON}" if self._convert and self.registration else ""
        intrinsics = "Kinect v1 defaults (the recording has no calibration)"
        if self.registration is not None:
            self.intrinsics = self.registration.depth_intrinsics()
            intrinsics = f"from {DEVICE_JSON}'s reference distance and pixel size"
        elif self.depth_format is DepthFormat.REGISTERED:  # as its depth was made: png16 alike
            self.intrinsics = Registration.default().depth_intrinsics()
            intrinsics = "libfreenect's model of registered depth, from the default registration"
        self.units_note = (
            f"{self.depth_format.unit_name} (a libfreenect recording: {INDEX_NAME}{converted}); "
            f"intrinsics: {intrinsics}"
        )
        self.has_video = any(item.video >= 0 for item in self.index.frames)
        self.video_formats = (VideoFormat.RGB,) if self.has_video else ()
        self._files = FileReader(folder)
        self._position = 0
        self._pacer = Pacer() if realtime else None
        self.broken: list[str] = []
        self._said_broken: set[str] = set()  # each broken frame said once (``say_skipped``)
        self._closed = False

    # -- random access --------------------------------------------------------------------
    @property
    def seekable(self) -> bool:
        return True

    @property
    def length(self) -> int:
        return len(self.index.frames)

    def seek(self, index: int) -> None:
        """Make the next ``read`` return depth frame ``index`` (negative counts from the end)."""
        self._position = self._seek_index(index)
        if self._pacer is not None:
            self._pacer.reset()

    @property
    def position(self) -> int:
        return self._position

    @property
    def duration(self) -> float:
        """Seconds from the first depth frame to the last."""
        e = self.index.entries
        return e[self.index.frames[-1].depth].unix_time - e[self.index.frames[0].depth].unix_time

    def set_video_format(self, fmt: VideoFormat) -> None:
        """A recording holds RGB only; asking for it again is harmless."""
        self._check_video_format(fmt)

    # -- reading --------------------------------------------------------------------------
    def close(self) -> None:
        self._closed = True

    def read(self) -> Frame:
        if self._closed:
            raise SourceError(f"{self.name}: read after close")
        n = len(self)
        skipped: list[str] = []  # said once a readable frame is found: if none is, the error is
        carried: list[Record] = []  # the other streams' records of the frames skipped
        while True:
            if self._position >= n:
                if not self.loop:
                    raise StopIteration
                self._position = 0
                self._loop.passes += 1  # its clock goes on: paced on across the seam
            try:
                frame = self.frame_at(self._position).shifted(*self._loop.offset())
            except SourceError as exc:
                if self.strict:
                    raise
                self.broken.append(str(exc))
                carried += self._carried(self._position)
                self._position += 1
                skipped.append(str(exc))
                if len(skipped) >= n:  # one line, not a warning per frame before it
                    raise SourceError(
                        f"{self.name}: expected at least one readable depth frame, got "
                        f"{len(skipped)} broken ones; first: {skipped[0]}"
                    ) from None
                if self._position >= n and not self.loop:
                    say_skipped(skipped, self._said_broken)
                continue
            say_skipped(skipped, self._said_broken)
            if carried:
                frame = replace(frame, records=(*carried, *frame.records))
            self._position += 1
            if self._pacer is not None:
                self._pacer.wait(frame.timestamp)
            return frame

    def _span_records(self, i: int, memo: dict[int, Any]) -> list[Record]:
        """The readable records of frame ``i``'s span (those since the frame before) in
        file order; its depth's only when ``memo`` holds it (read)."""
        ix = self.index
        item = ix.frames[i]
        records = []
        for e in item.span:
            kind = ix.entries[e].kind
            if kind == KIND_DEPTH and e not in memo:
                continue
            payload = self._optional(e, memo)
            if payload is not None:
                stream = Stream.DEPTH if kind == KIND_DEPTH else Stream(kind)
                fmt: DepthFormat | VideoFormat | None = None
                if stream is not Stream.ACCEL:
                    fmt = self.stored_format if stream is Stream.DEPTH else VideoFormat.RGB
                records.append(Record(stream, self._stamp(e), payload, fmt))
        return records

    def span_records(self, i: int) -> list[Record]:
        """The readable colour and accelerometer records of frame ``i``'s span, read now
        (a broken frame's too; the broken ones skipped with a warning): what ``info``
        counts."""
        return self._span_records(i, {})

    def _carried(self, i: int) -> list[Record]:
        """The colour and accelerometer records of broken frame ``i``, at this pass's times:
        they arrived, so the next readable frame carries them (its ``records``)."""
        seconds, ticks = self._loop.offset()
        return [
            replace(r, stamp=r.stamp.shifted(seconds, ticks)) for r in self._span_records(i, {})
        ]

    def _first_size(self, kind: str) -> tuple[int, int] | None:
        """The recording's size (h, w) of a stream (``kind``: depth or video): its first
        file whose header reads (None when none does), found once. A file of another size
        is a broken record in every command, as a truncated one is: fakenect replays one
        size, and a recorder or an export keeps one."""
        if kind in self._sizes:
            return self._sizes[kind]
        self._sizes[kind] = None
        for i, entry in enumerate(self.index.entries):
            if entry.kind != kind:
                continue
            try:
                fd = self._files.open_inside(entry.name, self.index.where(i))
            except SourceError:
                continue
            try:
                header = parse_pnm_header(os.pread(fd, MAX_HEADER, 0))
            except (SourceError, OSError):
                continue
            finally:
                os.close(fd)
            self._sizes[kind] = (header.height, header.width)
            break
        return self._sizes[kind]

    def _loop_shift(self) -> tuple[float, int]:
        """One pass's shift: every record's host time and the depth frames' device times."""
        entries, frames = self.index.entries, self.index.frames
        return loop_shift(
            [entries[f.depth].unix_time for f in frames],
            [e.unix_time for e in entries],
            (entries[frames[0].depth].device_timestamp, entries[frames[-1].depth].device_timestamp),
        )

    def _stamp(self, entry_index: int) -> Stamp:
        entry = self.index.entries[entry_index]
        return Stamp(self.index.seq[entry_index], entry.unix_time, entry.device_timestamp)

    def _payload(self, entry_index: int) -> npt.NDArray[Any] | TiltState:
        """The video frame or tilt state an entry's file holds (``SourceError`` if broken)."""
        ix = self.index
        name, where = ix.entries[entry_index].name, ix.where(entry_index)
        if ix.entries[entry_index].kind == KIND_VIDEO:
            video = self._files.read_pnm(name, where, "P6", np.uint8, 3)
            expected = self._first_size(KIND_VIDEO)
            if expected is not None and video.shape[:2] != expected:
                raise SourceError(
                    f"{where}: expected a {expected[1]}x{expected[0]} colour image like the "
                    f"recording's first, got {video.shape[1]}x{video.shape[0]}"
                )
            return video
        return parse_tilt_state(self._files.read_small(name, where), where)

    def _optional(self, entry_index: int, memo: dict[int, Any]) -> Any:
        """An entry's payload, or None (with a warning) when its file is broken."""
        if entry_index not in memo:
            try:
                memo[entry_index] = self._payload(entry_index)
            except SourceError as exc:
                if self.strict:
                    raise
                warnings.warn(f"skipped broken record: {exc}", stacklevel=4)
                memo[entry_index] = None
        return memo[entry_index]

    def frame_at(self, i: int) -> Frame:
        """Depth frame ``i`` with its video, accelerometer reading and records, read now."""
        ix = self.index
        item = ix.frames[i]
        entry = ix.entries[item.depth]
        where = ix.where(item.depth)
        depth = self._files.read_pnm(entry.name, where, "P5", np.uint16, 1)
        expected = self._first_size(KIND_DEPTH)
        if expected is not None and depth.shape != expected:
            # one rule for every command: a frame of another size is a broken frame
            raise SourceError(
                f"{where}: expected a {expected[1]}x{expected[0]} depth frame like the "
                f"recording's first, got {depth.shape[1]}x{depth.shape[0]}"
            )
        limit = self.stored_format.max_value
        if limit < 65535 and int(depth.max(initial=0)) > limit:
            raise SourceError(
                f"{where}: expected {self.stored_format.name} values 0..{limit}, "
                f"got {int(depth.max())}"
            )
        memo: dict[int, Any] = {item.depth: depth}
        records = self._span_records(i, memo)
        video = None if item.video < 0 else self._optional(item.video, memo)
        state = None if item.accel < 0 else self._optional(item.accel, memo)
        if self._convert:  # as libfreenect's fakenect replays DEPTH_MM / DEPTH_REGISTERED
            reg = self.registration
            mm = (
                register(depth, reg, depth_format=DepthFormat.RAW_11BIT)
                if self.depth_format is DepthFormat.REGISTERED
                else None
            )
            depth = mm if mm is not None else to_mm(depth, reg, depth_format=DepthFormat.RAW_11BIT)
        return Frame(
            depth=depth,
            video=video,
            depth_format=self.depth_format,
            video_format=VideoFormat.RGB if video is not None else None,
            timestamp=entry.unix_time,
            index=i,
            accel=None if state is None else state.accel_mks,
            tilt_deg=None if state is None else state.tilt_deg,
            device_timestamp=entry.device_timestamp,
            video_stamp=None if video is None else self._stamp(item.video),
            accel_stamp=None if state is None else self._stamp(item.accel),
            records=tuple(records),
            meta={"file": entry.name, "line": ix.lines[item.depth]},
        )


def read_registration(folder: Path) -> Registration | None:
    """The recording's ``device.json`` (libfreenect >= 0.6 writes it), or None without one;
    ``SourceError`` naming the file and key when it is broken."""
    path = folder / DEVICE_JSON
    if not os.path.lexists(path):  # a link to nothing names one that cannot be read: refused
        return None
    fd = FileReader(folder).open_inside(DEVICE_JSON, str(path))
    try:
        with open(fd, "rb") as fh:
            text = fh.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise SourceError(f"{path}: cannot read the registration: {reason}") from None
    return Registration.from_json_text(text, str(path))


def find_folder(uri: str) -> Path | None:
    """The recording folder ``uri`` names (the folder or its INDEX.txt), or None."""
    path = Path(os.path.expanduser(uri))  # an unknown ~user stays as typed
    if path.name == INDEX_NAME and path.is_file():
        return path.parent
    if path.is_dir() and (path / INDEX_NAME).exists():
        return path
    return None


def open_source(uri: str, **options: Any) -> RecordingSource:
    """Open a recording folder; ``NotMyFormat`` when ``uri`` has no INDEX.txt."""
    folder = find_folder(uri)
    if folder is None:
        raise NotMyFormat(f"{uri}: expected a folder with {INDEX_NAME}")
    check_options(uri, options, OPTIONS)
    return RecordingSource(folder, **options)
