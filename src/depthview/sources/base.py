"""What every source is, written once. Every backend (demo, sample, kinect, fakenect, files)
keeps this contract, and the tests check each one against it:

- ``read()`` returns the next ``Frame`` and raises ``StopIteration`` at the end of a finite
  source (``SourceError`` when it fails, ``SourceTimeout`` when a live stream goes quiet);
  iterating a source calls ``read``. Each frame's ``records`` hold every record that arrived
  since the previous frame, so writers can write each record once with its own times.
- ``close()`` releases the device or files and is safe to call twice; ``read`` after it
  raises ``SourceError``. A source is a context manager that closes itself.
- Opening with an option the backend does not know raises ``SourceError`` naming it (see
  ``check_options``), never ``TypeError``.
- ``length`` is the number of frames, or None for a live or endless source (``len()`` of
  such a source is a ``TypeError``, as for any unsized Python object). ``seek(i)`` on a
  seekable source makes the next ``read`` return frame ``i`` (negative counts from the end);
  an index out of range raises ``SourceError``; a source that cannot seek raises
  ``UnsupportedControl``.
- ``video_formats`` lists the video formats ``set_video_format`` accepts (empty when the
  source has no video); ``has_video`` says whether frames carry video (None: not known yet).
- ``intrinsics`` are the depth camera's pinhole intrinsics (what point clouds use) and
  ``units_note`` says in one line what the depth values count and where the intrinsics
  come from, and why (``depthview info`` shows it, so a wrong guess can be seen).
- Controls a source cannot perform (tilt, LED, flags, ...) raise ``UnsupportedControl``,
  never pass silently.
"""

from __future__ import annotations

import abc
import difflib
import itertools
import math
import statistics
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from .._checks import FPS_OR_AS_FAST, flag
from ..errors import SourceError, UnsupportedControl
from ..frame import DEPTH_FPS, DEVICE_CLOCK_HZ, DepthFormat, Frame, LedMode, VideoFormat
from ..geometry import KINECT_V1_DEPTH, Intrinsics
from ..registration import Registration

#: Camera flags a live Kinect may support (libfreenect's ``freenect_flag`` names, lower case).
CAMERA_FLAGS = (
    "auto_exposure",
    "auto_white_balance",
    "raw_color",
    "mirror_depth",
    "mirror_video",
    "near_mode",
)


def nearest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'demo'?"`` when a close choice exists, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_options(what: str, options: dict[str, Any], allowed: Iterable[str]) -> None:
    """Refuse options a backend does not know, naming them (and the nearest known one)."""
    known = tuple(allowed)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise SourceError(
            f"{what}: expected options {', '.join(known) or '(none)'}, got "
            f"{', '.join(unknown)}{nearest(unknown[0], known)}"
        )
    for name in FLAG_OPTIONS & set(options):
        try:
            flag(name, options[name])
        except TypeError as exc:
            raise SourceError(f"{what}: {exc}") from None
    for name in COUNT_OPTIONS & set(options):
        value = options[name]
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0
        ):
            raise SourceError(f"{what}: expected {name} >= 0, a whole number, got {value!r}")
    if "fps" in options and options["fps"] is not None:
        fps = options["fps"]
        if isinstance(fps, bool) or not isinstance(fps, (int, float, np.number)):
            raise SourceError(f"{what}: expected fps as a number >= 0, got {fps!r}")
        try:
            FPS_OR_AS_FAST.check(fps)
        except ValueError as exc:
            raise SourceError(f"{what}: fps: {exc}") from None


#: Options that are on or off, and options that count, checked for every backend.
FLAG_OPTIONS = frozenset({"realtime", "loop", "strict"})
COUNT_OPTIONS = frozenset({"frames", "seed"})


def loop_shift(
    depth_times: Sequence[float],
    other_times: Iterable[float] = (),
    device: tuple[int, int] | None = None,
    fps: float = DEPTH_FPS,
) -> tuple[float, int]:
    """How much later each pass of a looping replay is than the one before (host seconds,
    device ticks modulo 2^32), so that the clock continues: a pass starts one depth frame
    interval after the last record of the pass before, every stream (``other_times``:
    colour, accelerometer; NaN for none) shifted alike. ``depth_times`` are the depth
    frames' host times in order; ``device`` the first and last depth frames' device times
    (None: not known, the host span is used); the interval is the depth frames' mean, else
    ``1 / fps``. Every looping source offsets pass ``k`` by ``k`` times this. Depth times
    that step back (a host clock set back mid-recording) put the next pass one interval
    after the last depth frame played, not after the latest time: the span from the
    earliest to the latest held the replay still for that much at the seam (trial AA)."""
    n = len(depth_times)
    interval = (depth_times[-1] - depth_times[0]) / (n - 1) if n > 1 else 0.0
    if not interval > 0:
        interval = 1 / fps
    steps = [b - a for a, b in itertools.pairwise(depth_times)]
    if any(step < 0 for step in steps):
        forward = [step for step in steps if step > 0]
        interval = statistics.median(forward) if forward else 1 / fps
        span = depth_times[-1] - depth_times[0] + interval
    else:
        times = [t for t in (*depth_times, *other_times) if math.isfinite(t)]
        span = max(times) - min(times) + interval
    if device is None:
        return span, round(span * DEVICE_CLOCK_HZ) & 0xFFFFFFFF
    ticks = ((device[1] - device[0]) & 0xFFFFFFFF) + round(interval * DEVICE_CLOCK_HZ)
    return span, ticks & 0xFFFFFFFF


#: A step between two frames longer than this many median intervals is a gap (frames
#: dropped, a pause), not the rate (``measured_fps``).
GAP_INTERVALS = 1.75


def say_skipped(skipped: list[str], said: set[str]) -> None:
    """A warning for each broken frame a source's ``read`` skipped on the way to a readable
    one (or to its end), emptying the list; each once per source (``said``: what it said
    before), not again on every pass of a loop (trial AA)."""
    for why in skipped:
        if why not in said:
            said.add(why)
            warnings.warn(f"skipped broken frame: {why}", stacklevel=3)
    skipped.clear()


def measured_fps(times: Iterable[float]) -> float | None:
    """The frame rate a source's own frame times show (what ``Source.fps`` is for every
    source with times: a recording, a ``.npz`` with ``timestamp``, a dataset's lists):
    frames over the time they span, leaving out steps that do not go forward and gaps of
    more than 1.75 median intervals (a dropped frame is two, a pause more), so that
    host-time jitter averages out (a Kinect's host times step 32 and 48 ms for its 33.4)
    and a gap does not slow the rest. None without two frames a positive interval apart
    (the caller's nominal rate then)."""
    t = np.asarray(list(times), dtype=np.float64)
    gaps = np.diff(t[np.isfinite(t)])
    gaps = gaps[gaps > 0]
    if not gaps.size:
        return None
    kept = gaps[gaps <= GAP_INTERVALS * float(np.median(gaps))]
    return float(kept.size / kept.sum())


def warn_own_times(where: str, times: Sequence[float], holder: str) -> None:
    """The one check of a source's own frame times (a ``.npz``'s ``timestamp``, TUM's
    lists): steps that do not go forward are kept as ``holder`` holds them, as a recording's
    own are read (``info`` counts them as ``times_not_increasing``), and said in a warning
    naming ``where``, so the rate (``measured_fps``) and intervals are not taken unsaid;
    gaps longer than ``LONG_GAP_S`` are said too."""
    t = np.asarray(times, dtype=np.float64)
    back = np.flatnonzero(np.diff(t) <= 0)
    if back.size:
        i = int(back[0])
        warnings.warn(
            f"{where}: {back.size} frame time(s) do not increase (first {t[i]:.6f} then "
            f"{t[i + 1]:.6f} at frames {i}, {i + 1}): kept as {holder} holds them, as a "
            "recording's own",
            stacklevel=3,
        )
    steps = np.diff(t)
    long = np.flatnonzero(steps > LONG_GAP_S)
    if long.size:  # a replay holds the frame before it that long: said, not a hang (trial AC)
        i = int(long[np.argmax(steps[long])])
        warnings.warn(
            f"{where}: {long.size} gap(s) of more than {LONG_GAP_S:g} s between frame times "
            f"(the longest {steps[i]:.0f} s, after frame {i}): a replay at their pace holds "
            "the frame before a gap as long (--fps 0 in the viewer plays without pauses)",
            stacklevel=3,
        )


#: A step between a source's own frame times longer than this is said (``warn_own_times``).
LONG_GAP_S = 60.0


class LoopClock:
    """A looping replay's passes and how much later each is, so that its clock continues:
    ``offset()`` is 0 on the first pass, then ``passes`` times one pass's shift
    (``loop_shift``), which ``find_shift`` gives when it is first needed."""

    def __init__(self, find_shift: Callable[[], tuple[float, int]]) -> None:
        self.passes = 0
        self._find_shift = find_shift
        self._shift: tuple[float, int] | None = None

    def offset(self) -> tuple[float, int]:
        """How much later this pass is: host seconds and device ticks (modulo 2^32)."""
        if self.passes == 0:
            return 0.0, 0
        if self._shift is None:
            self._shift = self._find_shift()
        seconds, ticks = self._shift
        return self.passes * seconds, (self.passes * ticks) & 0xFFFFFFFF


class Pacer:
    """Releases frames at the pace they were recorded: frame times (seconds, any origin)
    are mapped onto the wall clock from the first frame after a ``reset``. A consumer that
    falls far behind (paused, slow) is re-anchored instead of raced to catch up."""

    #: Lateness (seconds) after which pacing restarts from the current frame.
    MAX_LAG = 1.0

    def __init__(self) -> None:
        self._anchor: tuple[float, float] | None = None  # (frame time, wall time)

    def reset(self, frame_time: float | None = None) -> None:
        """Start pacing afresh from the next frame (after a seek, a loop, a pause), or from
        ``frame_time`` as of now (a frame just handed on)."""
        self._anchor = None if frame_time is None else (frame_time, time.perf_counter())

    def wait(self, frame_time: float) -> None:
        """Sleep until ``frame_time`` is due."""
        now = time.perf_counter()
        if self._anchor is None:
            self._anchor = (frame_time, now)
            return
        due = self._anchor[1] + (frame_time - self._anchor[0])
        if due > now:
            time.sleep(due - now)
        elif now - due > self.MAX_LAG or frame_time < self._anchor[0]:
            self._anchor = (frame_time, now)


class Source(abc.ABC):
    """An iterable of frames. Use as ``with dv.open(uri) as src: for frame in src: ...``."""

    #: Human-readable name for HUDs and messages, e.g. ``"demo"`` or ``"kinect:0 (A00361...)"``.
    name: str = "source"
    #: Frames per second: measured from the source's own frame times where it has them
    #: (``measured_fps``), else nominal (the demo's, a Kinect's 30, the rate frames without
    #: times are timed at); None when unknown. An MP4 export plays at it.
    fps: float | None = None
    #: Whether frames carry video: False for a depth-only recording, None when not known.
    has_video: bool | None = None
    #: Video formats ``set_video_format`` accepts; empty when there is no video to switch.
    video_formats: tuple[VideoFormat, ...] = ()
    #: The depth camera's pinhole intrinsics, what point clouds of its frames use.
    intrinsics: Intrinsics = KINECT_V1_DEPTH
    #: One line: what the depth values count and where the intrinsics come from, and why.
    units_note: str = ""
    #: One line when nothing said what the depth values count and they are the convention's
    #: guess (``DepthUnits.guess``); "" otherwise. ``info``, the HUD and ``export`` show it.
    units_guess: str = ""
    #: One line when the frames' times are not the source's own but made up (a frame's
    #: position / fps: a PNG folder, 7-Scenes); "" otherwise. ``info`` and the commands
    #: that write or send times (``export``, ``record``, ``stream``, ``scan``) show it.
    times_guess: str = ""
    #: Whether frame times count seconds from the source's start (the demo, frames timed by
    #: position / fps) rather than a clock of the source's own: a recording places them
    #: after the wall clock at its start, and keeps a source's own times as they are.
    times_from_start: bool = False
    #: The device's own registration parameters (a live Kinect's, a recording's
    #: device.json), or None: ``dv.register(frame.depth, source.registration)`` then uses
    #: ``Registration.default()``.
    registration: Registration | None = None
    #: True when the video's pixels already line up with the depth pixels (the demo renders
    #: both from the depth camera's viewpoint), so colour needs no registration.
    video_aligned: bool = False
    #: The files and folders this source reads, which no writer may touch
    #: (``depthview.outputs.check_output``); empty for a device or the demo.
    inputs: tuple[Path, ...] = ()

    @abc.abstractmethod
    def read(self) -> Frame:
        """Return the next frame; raise ``StopIteration`` at the end of a finite source."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the device or files. Safe to call twice."""

    def repace(self, frame: Frame) -> None:
        """``frame`` was handed on just now: pace the frames after it from here. A reader
        that read a frame and then waited (a server starting) would otherwise get the
        frames due meanwhile all at once. Sources that pace keep a ``Pacer`` as ``_pacer``."""
        pacer = getattr(self, "_pacer", None)
        if isinstance(pacer, Pacer):
            pacer.reset(frame.timestamp)

    # -- iteration and context management -------------------------------------------------
    def __iter__(self) -> Iterator[Frame]:
        return self

    def __next__(self) -> Frame:
        return self.read()

    def __enter__(self) -> Source:
        return self

    def set_intrinsics(self, intrinsics: Intrinsics, why: str) -> None:
        """Use ``intrinsics`` from now on; ``why`` (e.g. "--intrinsics") goes into the note."""
        self.intrinsics = intrinsics
        units = self.units_note.partition("; intrinsics: ")[0]
        k = intrinsics
        self.units_note = f"{units}; intrinsics: {k.fx:g},{k.fy:g},{k.cx:g},{k.cy:g} ({why})"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- random access (recordings) -------------------------------------------------------
    @property
    def length(self) -> int | None:
        """How many frames the source holds; None for a live or endless source."""
        return None

    def __len__(self) -> int:
        n = self.length
        if n is None:
            raise TypeError(f"{self.name} has no length: it is a live or endless source")
        return n

    @property
    def seekable(self) -> bool:
        """True when ``seek`` works (recordings, frame files, the demo)."""
        return False

    def seek(self, index: int) -> None:
        """Make the next ``read`` return frame ``index``."""
        raise UnsupportedControl(f"{self.name} cannot seek: it is not a recording")

    @property
    def position(self) -> int:
        """Index of the next frame ``read`` returns."""
        raise UnsupportedControl(f"{self.name} has no position: it is not a recording")

    def _seek_index(self, index: int) -> int:
        """``index`` checked against ``length`` (negative counts from the end)."""
        n = self.length
        i = int(index)
        if n is not None and i < 0:
            i += n
        if i < 0 or (n is not None and i >= n):
            span = f"0..{n - 1}" if n is not None else ">= 0"
            raise SourceError(f"{self.name}: expected a frame index {span}, got {index}")
        return i

    # -- device controls ------------------------------------------------------------------
    def _unsupported(self, what: str) -> UnsupportedControl:
        return UnsupportedControl(f"{self.name} cannot {what}")

    def set_tilt(self, degrees: float) -> None:
        """Tilt the motor to ``degrees`` (clamped to -30..+30)."""
        raise self._unsupported("tilt")

    def set_led(self, mode: LedMode) -> None:
        """Set the LED mode."""
        raise self._unsupported("set the LED")

    def set_video_format(self, fmt: VideoFormat) -> None:
        """Switch the video stream's format (one of ``video_formats``)."""
        raise self._unsupported("change the video format")

    def _check_video_format(self, fmt: VideoFormat | int) -> VideoFormat:
        """``fmt`` if this source lists it in ``video_formats``, else ``UnsupportedControl``."""
        fmt = VideoFormat(fmt)
        if fmt not in self.video_formats:
            have = ", ".join(f.name for f in self.video_formats) or "no video formats"
            raise self._unsupported(f"show {fmt.name} video (it has {have})")
        return fmt

    def set_depth_format(self, fmt: DepthFormat) -> None:
        """Switch the depth stream's format."""
        raise self._unsupported("change the depth format")

    def set_flag(self, flag: str, on: bool) -> None:
        """Set a camera flag, one of ``CAMERA_FLAGS``."""
        raise self._unsupported(f"set {flag.replace('_', ' ')}")

    def set_ir_brightness(self, value: int) -> None:
        """Set the IR projector brightness (1..50)."""
        raise self._unsupported("change IR brightness")

    def get_ir_brightness(self) -> int:
        """Read the IR projector brightness."""
        raise self._unsupported("read IR brightness")
