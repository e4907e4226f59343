"""Write recordings in libfreenect's fakenect format, which any libfreenect program can
replay through fakenect (``FAKENECT_PATH=folder``) and ``dv.open(folder)`` reads back.

Every record a frame brings (``Frame.own_records()``: the video frames, tilt states and the
depth frame that arrived since the previous frame, in arrival order) is written once, under
its own host time and device timestamp: ``r-<unix time>-<device ts>.ppm`` (RGB, left out
with ``depth_only``), ``a-....dump`` (the 12-byte tilt state), ``d-....pgm`` (raw 11-bit
depth, uint16 little-endian). Re-recording a recording gives it back byte for byte, also
where its times step back (its own order, kept; a new pass is only ``--append``'s). A line
goes into
INDEX.txt only after its file is completely written, and INDEX.txt is flushed after every
frame, so whatever stops the recording (Ctrl-C, a full disk, a crash) leaves an index that
names only complete files. Writing happens on a thread behind a bounded queue so a viewer
never waits on the disk; frames that do not fit are dropped and counted, never silently.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import itertools
import math
import os
import queue
import stat
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np

from ._checks import COUNT, DURATION, FRAMES, argument, flag, whole
from .errors import RecordingError, SourceError, ValuesPastFormat
from .fakenect_format import (
    DEPTH_HEADER,
    DEVICE_JSON,
    INDEX_NAME,
    VIDEO_HEADER,
    entry_name,
    pack_tilt_state,
    parse_index_line,
)
from .frame import (
    DEPTH_HEIGHT,
    DEPTH_WIDTH,
    DEVICE_CLOCK_HZ,
    MAX_SECONDS,
    DepthFormat,
    Frame,
    Record,
    Stream,
    TiltState,
    VideoFormat,
    check_fields,
    tilt_state_clamped,
)
from .outputs import (
    FolderOutput,
    check_output,
    claimed,
    file_kind,
    kind_of,
    other_output,
    own_file,
    refuse_appending_through_link,
    refuse_dangling_link,
    refuse_link,
    why_not_written,
)
from .registration import Registration
from .soft_stop import until_stopped
from .sources.base import Source
from .writers.base import is_frame_file

Mode = Literal["new", "append", "overwrite"]
#: What a non-empty folder's refusal advises, in the library's words (the command line
#: says ``--append or --overwrite`` instead: ``cli.record``).
MODE_ADVICE = "use mode='append' or mode='overwrite'"
MODES = ("new", "append", "overwrite")
#: Where frames a recording cannot hold (millimetres, other sizes) go instead.
SAVE_ELSEWHERE = "'depthview export SOURCE OUT.npz' (or --format png16)"
#: The Kinect's frame clock (``frame.DEVICE_CLOCK_HZ``), used when a frame has no device time.
_DEVICE_CLOCK_HZ = DEVICE_CLOCK_HZ
_STOP = object()


@dataclass(frozen=True, slots=True)
class RecordingSummary:
    """What a recording holds: indexed frames, their time span, bytes written, drops.
    ``left``: when no frame was recorded, what became of the folder (``record``)."""

    path: Path
    frames: int
    seconds: float
    bytes: int
    dropped: int
    left: str = ""

    def __str__(self) -> str:
        if self.left:
            return f"nothing recorded: {self.left}"
        mb = self.bytes / 1e6
        return (
            f"recorded {self.frames} frames, {self.seconds:.2f} s, {mb:.1f} MB to {self.path}"
            f" ({self.dropped} dropped)"
        )


def check_replayable(frame: Frame, depth_only: bool) -> None:
    """Refuse records fakenect cannot replay: it copies 640x480 raw 11-bit depth and RGB."""
    shape: tuple[int, ...]
    fmt: DepthFormat | VideoFormat
    for record in frame.own_records():
        if record.stream is Stream.DEPTH:
            shape, fmt, what = (DEPTH_HEIGHT, DEPTH_WIDTH), DepthFormat.RAW_11BIT, "depth"
        elif record.stream is Stream.VIDEO and not depth_only:
            shape, fmt, what = (DEPTH_HEIGHT, DEPTH_WIDTH, 3), VideoFormat.RGB, "video"
        else:
            continue
        instead = f"save them with {SAVE_ELSEWHERE}"
        if record.format is not None and record.format is not fmt:
            hint = (
                f"a recording cannot hold millimetres: {instead} instead"
                if what == "depth"
                else "use --depth-only to record depth alone"
            )
            raise RecordingError(
                f"fakenect recordings hold raw 11-bit depth and RGB video: expected {what} in "
                f"{fmt.name}, got {record.format.name}; {hint}"
            )
        hint = (
            f"a recording cannot hold frames of another size: {instead} instead"
            if what == "depth"
            else "use --depth-only to record depth alone"
        )
        data = record.data
        assert isinstance(data, np.ndarray)
        dtype = np.uint16 if what == "depth" else np.uint8
        if data.shape != shape or data.dtype != dtype:
            raise RecordingError(
                f"fakenect replays 640x480 frames: expected {what} of shape {shape} "
                f"{np.dtype(dtype)}, got {data.shape} {data.dtype}; {hint}"
            )
        top = DepthFormat.RAW_11BIT.max_value  # (trial AN D2: a replay took it for broken)
        if what == "depth" and (got := int(data.max())) > top:
            raise RecordingError(
                f"fakenect recordings hold raw 11-bit depth: expected values 0..{top} in frame "
                f"{frame.index}, got up to {got}; {instead} instead"
            )


def _tilt_alone(frame: Frame) -> bool:
    """A tilt without an accelerometer reading: a fakenect record always holds counts,
    and counts made up read back as a reading of 0 m/s^2 (trial AR D7), so the recording
    leaves the tilt out (``Frame.own_records`` makes no record of it)."""
    tilt = frame.tilt_deg
    return (
        frame.accel is None
        and tilt is not None
        and math.isfinite(tilt)
        and not any(r.stream is Stream.ACCEL for r in frame.own_records())
    )


def _held(frame: Frame) -> Frame:
    """``frame`` with copies of its arrays, each array once: the writer writes it later, on
    its own thread, and a caller may refill its buffers meanwhile (as ``out=`` invites;
    trial AR D2: a generator reusing one buffer recorded 20 copies of its last frame)."""
    copies: dict[int, Any] = {}

    def own(a: Any) -> Any:
        if not isinstance(a, np.ndarray):
            return a
        if id(a) not in copies:
            copies[id(a)] = a.copy()
        return copies[id(a)]

    records = tuple(replace(r, data=own(r.data)) for r in frame.records)
    return replace(frame, depth=own(frame.depth), video=own(frame.video), records=records)


def _check_times(frame: Frame) -> None:
    """A record's time names its file (seconds since 1970, or since the start for a source
    counting from its start): a negative or endless one cannot, and made up it would be
    wrong (trial V: a .npz's -1.0 s became the wall clock). Refused in one line."""
    for record in frame.own_records():
        t = record.stamp.host_time
        if not (np.isfinite(t) and 0 <= t <= MAX_SECONDS):
            raise RecordingError(
                f"expected finite frame times 0 .. {MAX_SECONDS:.0f} s, got {t:g} s "
                f"({record.stream.name.lower()} record of "
                f"frame {frame.index}): fakenect names each file by its time; save them with "
                f"{SAVE_ELSEWHERE}, which keeps them as they are"
            )


def refuse_depth_format(depth_format: DepthFormat, said: str | None = None) -> None:
    """``record --depth-format``: a recording holds raw 11-bit depth and nothing else, so a
    command that asks for another format is refused in one line rather than recording the
    raw depth under the user's eyes (a recording replayed with ``depth_format="mm"`` gives
    its raw records, which is what ``dv.record`` of it copies, with its registration)."""
    if depth_format is not DepthFormat.RAW_11BIT:
        said = said or depth_format.name.lower()  # in the user's words
        raise RecordingError(
            f"--depth-format {said}: a recording cannot hold "
            f"{depth_format.unit_name}, fakenect recordings hold raw 11-bit depth; record "
            "that (leave --depth-format out for a Kinect, a recording or a raw array; say "
            "--depth-format 11bit for an image of raw disparity: a 16-bit PNG reads as "
            f"millimetres), or save {depth_format.unit_name} with {SAVE_ELSEWHERE}"
        )


def refuse_intrinsics() -> None:
    """``record --intrinsics``: a fakenect recording has no place for a camera model (its
    replay takes the intrinsics from ``device.json``, else the Kinect's defaults), so the
    option would be dropped under the user's eyes: refused in one line before anything is
    written, saying where intrinsics do go."""
    raise RecordingError(
        "--intrinsics: a fakenect recording cannot keep intrinsics (its replay takes them "
        f"from its {DEVICE_JSON}, else the Kinect v1's defaults); leave --intrinsics out and "
        "give it when reading the recording (view, export, stream, scan, info), or keep "
        "them with the frames: 'depthview export SOURCE OUT.npz --intrinsics FX,FY,CX,CY'"
    )


def intrinsics_not_kept(source: Source, out: str | os.PathLike[str]) -> str:
    """One line when ``source``'s own intrinsics (a ``.npz``'s ``intrinsics`` array, a
    dataset's calibration) are not what the recording at ``out`` replays with, else "":
    the recording cannot hold them, so what is lost is said."""
    from .sources.fakenect import RecordingSource

    try:
        with RecordingSource(Path(out), realtime=False) as replay:
            kept = replay.intrinsics
    except SourceError:
        return ""  # nothing replayable was written: nothing to compare
    own = source.intrinsics
    mine, theirs = (own.fx, own.fy, own.cx, own.cy), (kept.fx, kept.fy, kept.cx, kept.cy)
    if np.allclose(mine, theirs, rtol=1e-6, atol=1e-6):
        return ""
    return (
        f"{out}: the source's intrinsics ({', '.join(f'{v:g}' for v in mine)}) are not kept: "
        "a fakenect recording cannot hold them, its replay uses "
        f"{', '.join(f'{v:g}' for v in theirs)}; give --intrinsics when reading it"
    )


def _write_all(fd: int, chunks: list[bytes | memoryview]) -> int:
    """Write every byte (os.writev may write less than asked); return the count."""
    total = sum(len(c) for c in chunks)
    done = os.writev(fd, chunks)
    if done < total:
        rest = b"".join(bytes(c) for c in chunks)[done:]
        while rest:
            n = os.write(fd, rest)
            if n <= 0:
                raise OSError(errno.ENOSPC, "short write")
            rest = rest[n:]
    return total


class RecordingWriter:
    """Writes frames to a fakenect recording folder on its own thread.

    ``mode``: ``"new"`` (the folder must not exist or be empty), ``"append"`` (add to an
    existing recording), ``"overwrite"`` (replace the recording files that are there when
    this run ends; other files stay; a run that fails or keeps no frame leaves them as they
    were; an ``out`` that is a symbolic link is refused).
    ``on_full``: what ``write`` does when the queue is full: ``"drop"`` (count and go on, for
    a live display) or ``"block"`` (wait, for recordings and finite sources). A write error
    (disk full, unwritable) stops the writer; the next ``write`` or ``close`` raises
    ``RecordingError``, and INDEX.txt still names only complete files. Appending checks
    the source against the recording: the same ``registration`` and, unless ``colour`` is
    None (not known), colour in both or in neither. ``times_from_start`` (the source's
    ``Source.times_from_start``): True places the frames' times, seconds from the source's
    start (the demo), after the wall clock at the recording's start; False keeps them as
    the source's own, small ones too (a ``.npz``'s 10.0, 10.5: fakenect replays by their
    differences), as a caller's own Frames' times are kept (trial AJ D9: a list's 100.0
    became the wall clock).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mode: Mode = "new",
        depth_only: bool = False,
        queue_size: int = 32,
        on_full: Literal["drop", "block"] = "drop",
        fsync: bool = False,
        registration: Registration | None = None,
        colour: bool | None = None,
        times_from_start: bool = False,
    ) -> None:
        # checked before anything is made (trial AJ D11: queue_size=0 and on_full="x" were
        # taken, and a folder made at once)
        for name, value in (
            ("depth_only", depth_only),
            ("fsync", fsync),
            ("times_from_start", times_from_start),
        ):
            flag(name, value)
        if colour is not None:
            flag("colour", colour)
        if registration is not None and not isinstance(registration, Registration):
            raise TypeError(  # 'x' was AttributeError 'to_json' (trial AL D5)
                f"expected registration as a Registration, got {type(registration).__name__}"
            )
        if mode not in MODES:
            raise ValueError(f"expected mode 'new', 'append' or 'overwrite', got {mode!r}")
        queue_size = whole("queue_size", queue_size, COUNT)
        if on_full not in ("drop", "block"):
            raise ValueError(f"expected on_full 'drop' or 'block', got {on_full!r}")
        self.path = Path(path)
        #: A new recording no frame reaches is none: ``close`` removes what this made.
        self._new = mode == "new"
        self._made = not os.path.lexists(self.path)
        #: ``--overwrite``: the one rule (``outputs.FolderOutput``): this run writes into a
        #: hidden folder inside, moved into place when it ends (a Ctrl-C keeps what was made);
        #: a run that fails leaves the earlier recording as it was.
        self._output: FolderOutput | None = None
        self._failed_run = False
        refuse_dangling_link(self.path, RecordingError)
        self._check_folder(path)
        if mode != "new":
            other = other_output(self.path, {"an export's frames": is_frame_file})
            if other is not None:
                raise RecordingError(
                    f"{path}: holds {other}, not a recording: --{mode} would mix a recording "
                    "into it; record into another folder"
                )
        if mode == "overwrite":
            refuse_link(self.path, RecordingError)  # not another folder's recording
            self._output = FolderOutput(self.path, is_recording_file)
            try:
                self.path = self._output.files()
            except OSError as exc:
                raise RecordingError(
                    f"{path}: cannot record there ({exc.strerror or exc})"
                ) from None
            mode = "new"
        self.depth_only = depth_only
        self.on_full = on_full
        self.fsync = fsync
        self.frames = 0
        self.bytes = 0
        self.dropped = 0
        #: Records given a later time than their own (``_free_name``), and the first: (own
        #: time, time written).
        self.moved = 0
        self.first_moved: tuple[float, float] | None = None
        self._first_time: float | None = None
        #: Where ticks made from host times count from: the first record's time, kept when a
        #: later time steps back before it (ticks wrap, as the Kinect's clock does; trial Y)
        self._tick_origin: float | None = None
        self._last_time = 0.0
        #: Each stream's latest host time written (where a new pass starts after).
        self._last_times: dict[Stream, float] = {}
        #: Added to every host time: 0 until a new pass starts (see ``_continue_clock``).
        self._offset = 0.0
        #: The depth stream's latest frame interval (the seam's width), 30 fps until known.
        self._interval = 1 / 30
        self._previous_depth: float | None = None
        #: Added to every device timestamp (modulo 2^32): 0 until a pass starts (as above).
        self._device_offset = 0
        self._last_device: int | None = None
        #: Appending: the first frame starts a pass after the recording's last, whatever
        #: clock the source keeps (a 2017 recording, the demo's seconds since its start).
        self._seam_pending = False
        self._device_seam = False
        self._start_wall = time.time()
        #: Added to times counted from the source's start (``_raw_time``), set by the first.
        self._origin: float | None = None
        self._times_from_start = times_from_start
        self._error: RecordingError | None = None
        self._closed = False
        #: A reading past what a record holds was said (``tilt_state_clamped``).
        self._clamped_said = False
        #: A tilt without an accelerometer reading was said left out (``_tilt_alone``).
        self._tilt_alone_said = False
        self._index_fd = self._prepare(mode, registration, colour)
        if registration is not None:
            self._write_device_json(registration)
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, queue_size))
        self._thread = threading.Thread(target=self._run, name="depthview-recorder", daemon=True)
        self._thread.start()

    # -- folder -------------------------------------------------------------------------
    def _check_folder(self, given: str | os.PathLike[str]) -> None:
        """A file (a pipe ...) where the folder goes is said as such, not as mkdir's "File
        exists"; a path that cannot be looked at is said where it is made (``_prepare``)."""
        try:
            if not self.path.exists() or self.path.is_dir():
                return
            kind = kind_of(self.path)
        except OSError:
            return
        raise RecordingError(f"{given}: expected a folder to record into, got {kind}")

    def _shown(self, path: Path) -> Path:
        """The user's name for a path this writer writes (under ``--overwrite`` its files
        are staged in a hidden folder: errors name where they were going)."""
        return path if self._output is None else self._output.shown(path)

    def _fail(self, what: str, exc: OSError) -> RecordingError:
        """The error that stops the writer: what failed, why, and what is kept (a
        recording no frame reached is not a valid one: the caller removes it)."""
        reason = why_not_written(exc)
        if self._output is not None:
            return RecordingError(f"{what}: {reason}; {self._output.out} stays as it was")
        if self.frames == 0:
            return RecordingError(f"{what}: {reason}")
        return RecordingError(f"{what}: {reason}; the recording so far stays valid")

    def _prepare(self, mode: Mode, registration: Registration | None, colour: bool | None) -> int:
        folder = self.path
        index = folder / INDEX_NAME
        try:
            folder.mkdir(parents=True, exist_ok=True)
            existing = list(folder.iterdir())
            if index.exists() and not index.is_file():  # a named pipe's open waits for ever
                kind = file_kind(index.stat().st_mode)
                raise RecordingError(f"{index}: expected a regular file, got {kind}")
            if existing and mode == "new":
                raise RecordingError(
                    f"{folder}: expected an empty or new folder, got {len(existing)} entries; "
                    f"{MODE_ADVICE}"
                )
            if mode == "append" and existing and not index.is_file():
                raise RecordingError(
                    f"{folder}: expected a recording to append to (its {INDEX_NAME}), got a "
                    "folder of other files; record into a new folder"
                )
            if mode == "append":
                self._check_registration(registration)
                self._check_colour(colour)
                refuse_appending_through_link(index, RecordingError)
                own_file(index)  # not another folder's too (a hard-linked copy)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NONBLOCK  # never waits
            fd = os.open(index, flags, 0o644)
            os.set_blocking(fd, True)
        except RecordingError:
            raise
        except OSError as exc:
            where = self._shown(Path(os.fsdecode(exc.filename)) if exc.filename else folder)
            raise RecordingError(f"{where}: cannot record there ({exc.strerror or exc})") from None
        if mode == "append":
            self._continue_index(fd, index)
            self._seam_pending = bool(self._last_times)
        return fd

    def _check_registration(self, registration: Registration | None) -> None:
        """One registration reads every frame of a recording (its device.json, else the
        default): appending frames of a source with another (or with one where the
        recording has none) would read either them or the earlier ones otherwise, so it is
        refused before anything is written."""
        from .sources.fakenect import read_registration

        index = self.path / INDEX_NAME
        if not index.is_file() or index.stat().st_size == 0:
            return  # no earlier frame to read otherwise
        try:
            theirs = read_registration(self.path)
        except SourceError as exc:
            raise RecordingError(f"cannot append: {exc}") from None
        # None against one is a difference too: a device.json written beside earlier frames
        # changes how they read (their millimetres and their camera model).
        if registration != theirs:
            kept = f"its {DEVICE_JSON}" if theirs is not None else f"no {DEVICE_JSON}"
            raise RecordingError(
                f"{self.path}: cannot append: the source's registration differs from the "
                f"recording's ({kept}), so one of them would read in other millimetres; "
                "record into a new folder"
            )

    def _check_colour(self, colour: bool | None) -> None:
        """A replay shows each depth frame beside the latest colour image before it (the
        INDEX pairs nothing): appended frames without colour onto a recording with it would
        show its last image as theirs, and frames with colour onto one of depth alone would
        give its last depth frame an image taken after it. Refused before anything is
        written. A recording of one depth frame and no image may be one cut before its
        first image (libfreenect writes a frame's depth first): colour may follow it.
        ``colour`` None (frames of unknown streams) is not checked."""
        index = self.path / INDEX_NAME
        if colour is None or not index.is_file():
            return
        counts: collections.Counter[Stream] = collections.Counter()
        for line in index.read_bytes().splitlines():
            with contextlib.suppress(SourceError):
                counts[Stream(parse_index_line(line).kind)] += 1
        depth, video = counts[Stream.DEPTH], counts[Stream.VIDEO]
        if colour and depth > 1 and not video:
            raise RecordingError(
                f"{self.path}: cannot append: the recording holds depth alone and the source "
                "has colour, which would show beside the earlier frames; add --depth-only, "
                "or record into a new folder"
            )
        if not colour and depth and video:
            raise RecordingError(
                f"{self.path}: cannot append: the recording has colour and this run's frames "
                "have none (--depth-only, or a source without colour), so they would show "
                "its last image as theirs; record into a new folder"
            )

    def _continue_index(self, fd: int, index: Path) -> None:
        """End a complete last line that has no newline (an editor's or a script's: readers
        read it, so it is a record) and cut a half-written one; then continue each stream's
        times after its last."""
        data = index.read_bytes()
        if data and not data.endswith(b"\n"):
            tail = data[data.rfind(b"\n") + 1 :]
            try:
                parse_index_line(tail)
            except SourceError:  # a fragment of a name: no record
                os.ftruncate(fd, data.rfind(b"\n") + 1)
                data = data[: data.rfind(b"\n") + 1]
            else:
                try:
                    _write_all(fd, [b"\n"])
                except OSError as exc:
                    why = exc.strerror or exc
                    raise RecordingError(f"{self._shown(index)}: cannot append ({why})") from None
                data += b"\n"
        depth_times = []
        for line in data.splitlines():
            with contextlib.suppress(SourceError):
                entry = parse_index_line(line)
                stream = Stream(entry.kind)
                self._last_times[stream] = max(self._last_times.get(stream, 0.0), entry.unix_time)
                if stream is Stream.DEPTH:
                    depth_times.append(entry.unix_time)
                    self._last_device = entry.device_timestamp
        # The frame interval: the lower median of the latest depth gaps, so that the wider
        # gaps of earlier seams (after a pass's last colour) do not count.
        gaps = sorted(b - a for a, b in itertools.pairwise(depth_times[-65:]) if b > a)
        if gaps:
            self._interval = gaps[(len(gaps) - 1) // 2]

    def _write_device_json(self, registration: Registration) -> None:
        """The device's registration as libfreenect's recorder saves it, so libfreenect's
        fakenect (>= 0.6) and depthview replay registered and millimetre depth from it."""
        target = self.path / DEVICE_JSON
        if target.exists():  # appending: the recording's own stays
            return
        self.bytes += self._write_file(DEVICE_JSON, [registration.to_json().encode("ascii")])

    # -- writing ------------------------------------------------------------------------
    def check(self, frame: Frame) -> None:
        """Refuse, before any of it is written, a frame this recording cannot take: not a
        Frame, one fakenect cannot replay or whose times no file name holds; the writer's
        own failure once it has failed."""
        if not isinstance(frame, Frame):
            raise TypeError(f"expected a Frame, got {type(frame).__name__}")
        if self._error is not None:
            raise self._error
        if self._closed:
            raise RecordingError(f"{self._shown(self.path)}: the recording is closed")
        try:
            check_fields(frame)  # as every writer checks them (trial AR D9: fields unnamed)
            frame.own_records()  # its accelerometer's counts: a NaN reading has none
        except ValueError as exc:  # (trial AJ D7)
            raise RecordingError(f"frame {frame.index}: {exc}") from None
        check_replayable(frame, self.depth_only)
        _check_times(frame)

    def write(self, frame: Frame) -> bool:
        """Queue a frame; False when it was dropped (queue full). Raises the writer's
        ``RecordingError`` once it has failed, and refuses frames fakenect cannot replay."""
        self.check(frame)
        if not self._clamped_said:
            clamped = tilt_state_clamped(frame)
            if clamped:  # said once a run, not for each frame
                self._clamped_said = True
                warnings.warn(f"frame {frame.index}: {clamped}", stacklevel=2)
        if not self._tilt_alone_said and _tilt_alone(frame):
            self._tilt_alone_said = True  # once a run
            warnings.warn(
                f"frame {frame.index}: tilt_deg {frame.tilt_deg:g} without an accelerometer "
                f"reading: a recording holds the tilt only in an accelerometer record, so "
                f"it is left out (export keeps it)",
                stacklevel=2,
            )
        try:
            self._queue.put(_held(frame), block=self.on_full == "block")
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is not None:
                continue  # drain without writing after a failure
            assert isinstance(item, Frame)
            try:
                self._write_frame(item)
            except RecordingError as exc:
                self._error = exc

    def _raw_time(self, t: float) -> float:
        """A record's host time for its file name: the source's own as it is; times since
        the start (as the demo gives them) placed so that the first record written is at the
        wall clock when the recording started, the others their own time after it (``R`` in
        the viewer, pressed well into the source: not that far in the future, trial W;
        negative and endless times are refused before: ``_check_times``)."""
        if not self._times_from_start:
            return t
        if self._origin is None:
            self._origin = self._start_wall - t
        return self._origin + t

    def _continue_clock(self, raw: list[tuple[Stream, float, int | None]]) -> None:
        """The first frame appended (``--append``) starts a new pass: every stream is offset
        alike so that the pass begins one frame interval after the latest time written, and
        the order within it stays as recorded. Nothing else moves times: a step back in the
        frames' own times is the source's, kept as it is (a looping replay continues its own
        clock; the viewer records forward only)."""
        if not self._seam_pending:
            return
        self._seam_pending = False
        if not self._last_times or not raw:
            return  # nothing written before it: its own times
        latest = max(self._last_times.values())
        self._offset = latest + self._interval - min(t for _, t, _ in raw)
        self._previous_depth = None  # no interval across the seam
        self._device_seam = True  # the device clock continues too (``_device_time``)

    def _device_time(self, stream: Stream, ts: int) -> int:
        """A record's device timestamp on the continued device clock: at a seam, every
        stream is offset alike so that the pass's first depth frame is one frame interval
        after the last one written; modulo 2^32, as the Kinect's clock wraps."""
        if self._device_seam and self._last_device is not None:
            step = round(self._interval * _DEVICE_CLOCK_HZ)
            self._device_offset = (self._last_device + step - ts) & 0xFFFFFFFF
        self._device_seam = False
        out = (ts + self._device_offset) & 0xFFFFFFFF
        if stream is Stream.DEPTH:
            self._last_device = out
        return out

    def _unix_time(self, stream: Stream, raw: float) -> float:
        """The file-name time of a record: its own host time (on the continued clock after
        a new pass), as it is, also where it steps back (the source's own order)."""
        t = round(raw + self._offset, 6)
        self._last_times[stream] = max(t, self._last_times.get(stream, t))
        if stream is Stream.DEPTH:
            if self._previous_depth is not None and t > self._previous_depth:
                self._interval = t - self._previous_depth
            self._previous_depth = t
        self._first_time = t if self._first_time is None else min(self._first_time, t)
        self._last_time = max(self._last_time, t)
        return t

    def _write_frame(self, frame: Frame) -> None:
        lines = []
        depth_records = 0
        size = 0
        records = [
            record
            for record in frame.own_records()
            if not (record.stream is Stream.VIDEO and self.depth_only)
        ]
        raw = [
            (r.stream, self._raw_time(r.stamp.host_time), r.stamp.device_timestamp) for r in records
        ]
        self._continue_clock(raw)
        try:
            for record, (_, raw_time, own) in zip(records, raw, strict=True):
                t = self._unix_time(record.stream, raw_time)
                given = own
                if given is None:  # a source without a device clock: one from the host times
                    if self._tick_origin is None:
                        self._tick_origin = t
                    given = round((t - self._tick_origin) * _DEVICE_CLOCK_HZ) & 0xFFFFFFFF
                ts = self._device_time(record.stream, given)  # continued across a seam
                chunks = _file_chunks(record)
                name = self._free_name(record.stream, t, ts, chunks)
                if name is None:  # the record again (a repeated INDEX.txt line): indexed again
                    name = entry_name(record.stream.value, t, ts)
                else:
                    size += self._write_file(name, chunks)
                lines.append(name + "\n")
                depth_records += record.stream is Stream.DEPTH
            self._append_index("".join(lines).encode("ascii"))
            self.bytes += size
        except RecordingError:  # this frame's files are never indexed: none are left
            for line in lines:
                with contextlib.suppress(OSError):
                    (self.path / line.strip()).unlink()
            raise
        # Depth frames written: a live frame also carries those the reader had no time for.
        self.frames += depth_records

    def _free_name(
        self, stream: Stream, t: float, ts: int, chunks: list[bytes | memoryview]
    ) -> str | None:
        """The name a record is written under: its own (``entry_name``), or None when a file
        of that name holds the same bytes (the same record again: a source whose INDEX.txt
        names one file twice is copied so). Another record of the same name (frames built
        by hand at one time) is moved 1 microsecond on until its name is free, so that no
        record replaces another; each so moved is counted (``moved``) and said at the end."""
        own = t
        while True:
            name = entry_name(stream.value, t, ts)
            target = self.path / name
            if not os.path.lexists(target):
                if t != own:
                    self.moved += 1
                    self.first_moved = self.first_moved or (own, t)
                return name
            with contextlib.suppress(OSError):  # only a regular file of the same size is read
                st = os.lstat(target)
                size = sum(len(c) for c in chunks)
                if (
                    stat.S_ISREG(st.st_mode)
                    and st.st_size == size
                    and target.read_bytes() == b"".join(chunks)
                ):
                    return None
            t = round(t + 1e-6, 6)
            self._last_times[stream] = max(t, self._last_times[stream])
            self._last_time = max(self._last_time, t)

    def _write_file(self, name: str, chunks: list[bytes | memoryview]) -> int:
        target = self.path / name
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as exc:
            raise self._fail(f"{self._shown(target)}: cannot create", exc) from None
        try:
            n = _write_all(fd, chunks)
            if self.fsync:
                os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                target.unlink()  # a partial file is never indexed; don't leave it either
            raise self._fail(f"{self._shown(target)}: cannot write", exc) from None
        os.close(fd)
        return n

    def _append_index(self, data: bytes) -> None:
        size = os.fstat(self._index_fd).st_size
        try:
            _write_all(self._index_fd, [data])
            if self.fsync:
                os.fsync(self._index_fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._index_fd, size)  # no half line
            raise self._fail(f"{self._shown(self.path / INDEX_NAME)}: cannot append", exc) from None
        self.bytes += len(data)

    # -- ending -------------------------------------------------------------------------
    @property
    def replacing(self) -> bool:
        """Whether this run replaces an earlier recording when it ends (``--overwrite``)."""
        return self._output is not None

    def failed(self) -> None:
        """The run failed: ``close`` keeps the earlier recording (``--overwrite``) rather
        than moving this run's frames into place."""
        self._failed_run = True

    @property
    def error(self) -> RecordingError | None:
        """The failure that stopped the writer, if any."""
        return self._error

    def summary(self) -> RecordingSummary:
        """Frames indexed so far, their time span, bytes written and frames dropped."""
        span = 0.0 if self._first_time is None else self._last_time - self._first_time
        where = self.path if self._output is None else self._output.out
        left = ""
        if self._closed and self._new and self._output is None and not self.frames:
            left = f"{where} {'was not made' if self._made else 'stays as it was'}"
        return RecordingSummary(where, self.frames, span, self.bytes, self.dropped, left)

    def close(self) -> RecordingSummary:
        """Write what is queued, close INDEX.txt and return the summary; raises the writer's
        ``RecordingError`` if it failed. Safe to call twice."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join()
            os.close(self._index_fd)
            if self._new and self._output is None and self.frames == 0:
                remove_empty_recording(self.path, self._made)  # as record: no recording
            if self._output is not None:
                # a run that failed or kept no frame replaces nothing: the earlier stays
                if self._error is not None or self._failed_run or self.frames == 0:
                    self._output.abandon()
                else:
                    self._commit(self._output)
        if self._error is not None:
            raise self._error
        return self.summary()

    def _commit(self, output: FolderOutput) -> None:
        """``--overwrite``: this run's recording into place; where that cannot be (a folder
        where a file goes), the earlier one stays and the error names the user's path."""
        try:
            output.commit()
        except OSError as exc:
            output.abandon()
            where = output.shown(Path(os.fsdecode(exc.filename))) if exc.filename else output.out
            self._error = RecordingError(
                f"{where}: cannot replace it ({exc.strerror or exc}); {output.out} stays as it was"
            )

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:  # a Ctrl-C keeps what was made; any other failure replaces nothing
            self._failed_run = not issubclass(exc_type, KeyboardInterrupt)
            with contextlib.suppress(RecordingError):
                self.close()


def remove_empty_recording(out: Path, made: bool) -> None:
    """A new recording no frame reached: its INDEX.txt (empty) and device.json go, and the
    folder when this run made it, so that the same command can run again."""
    for name in (INDEX_NAME, DEVICE_JSON):
        with contextlib.suppress(OSError):
            (out / name).unlink()
    if made:
        with contextlib.suppress(OSError):
            out.rmdir()  # only when empty: nothing but what this run wrote


def is_recording_file(path: Path) -> bool:
    """What a recording consists of (what ``--overwrite`` replaces): INDEX.txt,
    device.json and the record files INDEX.txt lines name."""
    return path.name in (INDEX_NAME, DEVICE_JSON) or _is_entry_name(path.name)


def _file_chunks(record: Record) -> list[bytes | memoryview]:
    """What a record's file holds: header and pixels, or the 12 tilt-state bytes."""
    if isinstance(record.data, TiltState):
        return [pack_tilt_state(record.data)]
    if record.stream is Stream.DEPTH:
        depth = np.ascontiguousarray(record.data, dtype="<u2")
        return [DEPTH_HEADER, depth.data.cast("B")]
    video = np.ascontiguousarray(record.data, dtype=np.uint8)
    return [VIDEO_HEADER, video.data.cast("B")]


def _is_entry_name(name: str) -> bool:
    try:
        parse_index_line(name)
    except SourceError:
        return False
    return True


def record(
    source_or_frames: Source | Iterable[Frame],
    out: str | os.PathLike[str],
    *,
    frames: int | None = None,
    seconds: float | None = None,
    depth_only: bool = False,
    mode: Mode = "new",
    stop: threading.Event | None = None,
    fsync: bool = False,
    registration: Registration | None = None,
    progress: bool = False,
    accepted: Callable[[], None] | None = None,
) -> RecordingSummary:
    """Record frames from a source (or any iterable of ``Frame``) into a fakenect folder.

    Ends after ``frames`` frames, ``seconds`` of the source's own clock (frames stamped
    less than ``seconds`` after the first; a live source's also ends after that much wall
    time: a recording replays faster than real time), at the end of the source, when
    ``stop`` is set, or on Ctrl-C; each way the recording is complete and valid, and one
    that kept no frame is none (a new one removed, an earlier one kept; the summary says
    "nothing recorded"). The
    registration (``registration``, else the source's own) is saved as ``device.json``.
    With ``progress``, a bar on stderr counts frames and megabytes (as ``export`` and
    ``convert`` show theirs). Raises ``RecordingError`` when the folder cannot be written
    (the frames indexed before the failure stay replayable); a source that fails (a Kinect
    unplugged) has every frame it delivered written first, then its ``SourceError`` is
    raised saying what was kept. ``accepted`` is called once every check has passed, the
    folder is ready and the first frame is one a recording can hold (the command line says
    its warnings there, so that a refusal is the only line).
    """
    for name, value in (("depth_only", depth_only), ("fsync", fsync), ("progress", progress)):
        flag(name, value)
    # the command line's own checks of --frames and --seconds (trial AL D3, D5)
    frames = None if frames is None else whole("frames", frames, FRAMES)
    seconds = None if seconds is None else argument("seconds", seconds, DURATION)
    if registration is not None and not isinstance(registration, Registration):
        raise TypeError(
            f"expected registration as a Registration, got {type(registration).__name__}"
        )
    if not os.fspath(out).strip():
        raise RecordingError(f"OUT: expected a folder name, got {os.fspath(out)!r}")
    live = False
    colour: bool | None = None  # frames of unknown streams (an iterable): not checked
    # A caller's own Frames keep their own times, small ones too (100.0: as export and the
    # record of the same .npz keep them; trial AJ D9), not the wall clock of the run.
    from_start = False
    if isinstance(source_or_frames, Source):
        from_start = source_or_frames.times_from_start
        check_output(out, source_or_frames.inputs, RecordingError, "output folder")
        live = not source_or_frames.seekable
        registration = registration or source_or_frames.registration
        if source_or_frames.has_video is not None:
            colour = source_or_frames.has_video and not depth_only
    made = not os.path.exists(out)  # False, not an error, where it cannot be looked at
    with claimed(out, RecordingError):  # one run writes a recording at a time
        return _record_into(
            source_or_frames,
            out,
            made=made,
            live=live,
            frames=frames,
            seconds=seconds,
            depth_only=depth_only,
            mode=mode,
            stop=stop,
            fsync=fsync,
            registration=registration,
            colour=colour,
            times_from_start=from_start,
            progress=progress,
            accepted=accepted,
        )


def _record_into(
    source_or_frames: Source | Iterable[Frame],
    out: str | os.PathLike[str],
    *,
    made: bool,
    live: bool,
    frames: int | None,
    seconds: float | None,
    depth_only: bool,
    mode: Mode,
    stop: threading.Event | None,
    fsync: bool,
    registration: Registration | None,
    colour: bool | None,
    times_from_start: bool,
    progress: bool,
    accepted: Callable[[], None] | None,
) -> RecordingSummary:
    """``record`` once its checks have passed and ``out`` is held (see there)."""
    writer = RecordingWriter(
        out,
        mode=mode,
        depth_only=depth_only,
        on_full="drop" if live else "block",
        fsync=fsync,
        registration=registration,
        colour=colour,
        times_from_start=times_from_start,
    )
    start = time.monotonic()
    first: float | None = None
    bar: Any = None
    # A stop (Ctrl-C, SIGTERM, ``stop``) while the source keeps the next frame (a Kinect gone
    # quiet, a read blocked) ends the wait: the frames before it are kept.
    chosen = until_stopped(source_or_frames, stop.is_set if stop is not None else lambda: False)
    try:
        for count, frame in enumerate([] if frames == 0 else chosen, start=1):
            if seconds is not None:
                first = frame.timestamp if first is None else first
                if frame.timestamp - first >= seconds:
                    break
                if live and time.monotonic() - start >= seconds:
                    break
            if stop is not None and stop.is_set():
                break
            if count == 1:  # the first frame is one a recording can hold: the run goes ahead
                writer.check(frame)
                if accepted is not None:
                    _accepted_or_nothing(accepted, writer)
                bar = _progress_bar(source_or_frames, frames, progress)
            writer.write(frame)
            if bar is not None:
                bar.set_postfix_str(f"{writer.bytes / 1e6:.0f} MB", refresh=False)
                bar.update(1)
            if frames is not None and count >= frames:
                break
    except KeyboardInterrupt:
        pass
    except RecordingError as exc:
        writer.failed()
        with contextlib.suppress(RecordingError):
            writer.close()
        refused = writer.error is None  # a frame fakenect cannot replay, not a failed write
        if not refused:
            _refuse_empty(writer, Path(out), made, mode)
        elif not writer.frames:  # refused before any record: a new one leaves nothing
            if mode == "new":
                remove_empty_recording(Path(out), made)
        else:  # said, as a full disk says it: not a shorter recording left unseen
            left = (
                f"{out} stays as it was"
                if writer.replacing
                else f"the recording keeps the frames before it: {writer.summary()}"
            )
            raise RecordingError(f"{exc}; {left}") from None
        raise
    except SourceError as exc:
        if isinstance(exc, ValuesPastFormat):  # advice a recording can follow
            exc = SourceError(
                f"{exc.found}: no raw disparity, and a fakenect recording holds nothing else; "
                f"save them with {SAVE_ELSEWHERE} instead"
            )
        if stop is not None and stop.is_set():  # asked to stop while the source waited (a
            return _closed(writer, Path(out), made, mode)  # Kinect's timeout): ends as asked
        if writer.replacing:  # --overwrite: a failed run replaces nothing
            writer.failed()
            writer.close()
            raise type(exc)(f"{exc}; {out} stays as it was") from None
        kept = writer.close()  # every frame received is written before the error is told
        if mode == "new" and not kept.frames:
            # nothing arrived: no empty recording is left to refuse the next run
            remove_empty_recording(Path(out), made)
            raise type(exc)(f"{exc}; nothing was recorded") from None
        raise type(exc)(f"{exc}; the recording keeps what arrived: {kept}") from None
    finally:
        if bar is not None:
            bar.close()
    return _closed(writer, Path(out), made, mode)


def _accepted_or_nothing(accepted: Callable[[], None], writer: RecordingWriter) -> None:
    """The caller's ``accepted``, before any frame is written: when it fails (the command's
    warning line could not be written: trial AL D9), the run ends having recorded nothing:
    the writer's close removes a new recording no frame reached, and leaves an earlier one
    as it was (a failed run), no partial folder left."""
    try:
        accepted()
    except Exception:
        writer.failed()
        with contextlib.suppress(RecordingError):
            writer.close()
        raise


def _closed(writer: RecordingWriter, out: Path, made: bool, mode: Mode) -> RecordingSummary:
    """Close a recording that ended as asked (its end, --frames, --seconds, Ctrl-C). One
    that kept no frame is no recording: a new one is removed (its folder too when this run
    made it), an earlier one (--overwrite, --append) stays as it was, and the summary says
    "nothing recorded"."""
    try:
        summary = writer.close()
    except RecordingError:  # the last frames' write failed
        _refuse_empty(writer, out, made, mode)
        raise
    if writer.first_moved is not None:  # a source's own times, changed: said (trial X)
        own, written = writer.first_moved
        warnings.warn(
            f"{writer.moved} record(s) written 1 microsecond or more after their own time "
            f"(first: {own:.9g} s as {written:.6f} s): a fakenect file is named by its time "
            "to the microsecond, and two records cannot share a name",
            stacklevel=3,
        )
    if summary.frames:
        return summary
    if mode == "new":
        remove_empty_recording(out, made)
    return replace(summary, left=f"{out} {'was not made' if made else 'stays as it was'}")


def _refuse_empty(writer: RecordingWriter, out: Path, made: bool, mode: Mode) -> None:
    """A new recording whose writer failed before any frame is no recording: removed, and
    the writer's error raised again saying nothing was recorded (else nothing happens)."""
    if mode == "new" and writer.frames == 0 and writer.error is not None:
        remove_empty_recording(out, made)
        raise RecordingError(f"{writer.error}; nothing was recorded") from None


def _progress_bar(
    source_or_frames: Source | Iterable[Frame], frames: int | None, show: bool
) -> Any:
    """A tqdm bar over the frames to record (their number when known), or None."""
    if not show:
        return None
    from tqdm import tqdm

    length = source_or_frames.length if isinstance(source_or_frames, Source) else None
    loops = bool(getattr(source_or_frames, "loop", False))
    total = frames if frames is not None else (None if loops else length)
    return tqdm(total=total, unit="frame", file=sys.stderr, desc="record", dynamic_ncols=True)


__all__ = [
    "MODES",
    "RecordingSummary",
    "RecordingWriter",
    "check_replayable",
    "is_recording_file",
    "record",
    "remove_empty_recording",
]
