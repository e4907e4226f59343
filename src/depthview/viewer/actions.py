"""One function per user action: the state and what is known about the source in, the
state changed in place, and the effects that the loop must carry out returned.

Each action only changes ``ViewState`` and names effects; the loop (``app``) applies them to
the source, the reader, the disk or the window, and confirms source settings in the state
once the source has accepted them. So every action is tested without a window, and the key
table (``keys``) refers to these functions themselves, so a misspelt name fails the type
check. A new action is a function here with the ``Action`` signature, a key in ``keys``
(or a reason in ``keys.NOT_ON_KEYS``), and, if it needs the outside world, an effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..colorize import resolve_range
from ..frame import TILT_MAX_DEG, TILT_MIN_DEG, LedMode, VideoFormat
from ..palettes import PALETTES
from .layout import Layout
from .state import (
    MIN_DISTANCE,
    POINT_SIZES,
    Camera3D,
    MeasurePoint,
    ViewState,
)

RANGE_STEP = 0.1  # metres per [ ] { } press
LED_MODES = {
    0: LedMode.OFF,
    1: LedMode.GREEN,
    2: LedMode.RED,
    3: LedMode.YELLOW,
    4: LedMode.BLINK_GREEN,
    5: LedMode.BLINK_GREEN,
    6: LedMode.BLINK_RED_YELLOW,
}
#: Flags toggled by ``e``, ``b``, ``r``, ``n`` (the key's argument indexes this).
FLAGS = ("auto_exposure", "auto_white_balance", "raw_color", "near_mode")


@dataclass(frozen=True, slots=True)
class Facts:
    """What actions may need to know beyond the state: the source and the shown frame."""

    source_name: str = "source"
    video_formats: tuple[VideoFormat, ...] = ()
    seekable: bool = False
    length: int | None = None
    frame_index: int | None = None
    depth_is_raw: bool = True
    has_accel: bool = False
    #: Why registration could not line depth up with colour now, were it on ("" = it can).
    unregistered: str = ""
    #: Under the pointer: the depth pixel and its point in metres (None: no reading there).
    depth_pixel: tuple[int, int] | None = None
    point: tuple[float, float, float] | None = None
    #: The pointer's movement (pixels) for drags in the 3D view.
    drag: tuple[int, int] = (0, 0)


# -- effects: what the loop carries out ----------------------------------------------------
@dataclass(frozen=True, slots=True)
class Say:
    """Show a short message in the window."""

    text: str


@dataclass(frozen=True, slots=True)
class SetTilt:
    degrees: float


@dataclass(frozen=True, slots=True)
class SetLed:
    mode: LedMode


@dataclass(frozen=True, slots=True)
class SetVideoFormat:
    """On success the state's ``video_format`` becomes ``fmt``."""

    fmt: VideoFormat


@dataclass(frozen=True, slots=True)
class SetFlag:
    """On success the state's ``flags[name]`` becomes ``on``."""

    name: str
    on: bool


@dataclass(frozen=True, slots=True)
class AdjustIrBrightness:
    """Change the IR projector brightness by ``delta`` from what the source reports."""

    delta: int


@dataclass(frozen=True, slots=True)
class MirrorSource:
    """Ask the source to mirror; when it cannot, the viewer flips the picture itself."""

    on: bool


@dataclass(frozen=True, slots=True)
class SetFilters:
    """Run the ``--filter`` spec on every frame from now on (the reader's thread), or none."""

    spec: str | None


@dataclass(frozen=True, slots=True)
class Pause:
    paused: bool


@dataclass(frozen=True, slots=True)
class Seek:
    """Read frame ``index`` next (``None``: read the next frame once, while paused)."""

    index: int | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Save the window and the raw depth."""


@dataclass(frozen=True, slots=True)
class StartRecording:
    pass


@dataclass(frozen=True, slots=True)
class StopRecording:
    pass


@dataclass(frozen=True, slots=True)
class Relayout:
    """The layout changed: size the window for it unless the user sized it."""


@dataclass(frozen=True, slots=True)
class ToggleFullscreen:
    pass


Effect = (
    Say
    | SetTilt
    | SetLed
    | SetVideoFormat
    | SetFlag
    | AdjustIrBrightness
    | MirrorSource
    | SetFilters
    | Pause
    | Seek
    | Snapshot
    | StartRecording
    | StopRecording
    | Relayout
    | ToggleFullscreen
)
Effects = list[Effect]
Action = Callable[[ViewState, Facts, int], Effects]


def _unsupported(facts: Facts, what: str) -> Effects:
    return [Say(f"unsupported: {facts.source_name} cannot {what}")]


# -- the device ----------------------------------------------------------------------------
def tilt(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Tilt the motor by ``arg`` degrees (clamped to the motor's range)."""
    state.tilt = min(TILT_MAX_DEG, max(TILT_MIN_DEG, state.tilt + arg))
    return [SetTilt(state.tilt)]


def level(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Tilt the motor back to level."""
    state.tilt = 0.0
    return [SetTilt(0.0)]


def led(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Set LED mode ``arg`` (glview's numbering)."""
    return [SetLed(LED_MODES[arg])]


#: ``f`` while ``R`` records: a recording holds RGB video or none, from its start (trial R:
#: IR turned on mid-recording ended it, with a hint to an option ``view`` lacks).
SAME_VIDEO = "not while recording: a recording keeps the video it started with (R stops it)"


def video_format(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Switch to the next of the formats the source offers (not while ``R`` records)."""
    formats = facts.video_formats
    if len(formats) < 2:
        have = f"{formats[0].name} only" if formats else "no video"
        return _unsupported(facts, f"change the video format (it has {have})")
    if state.recording is not None:
        return [Say(SAME_VIDEO)]
    current = state.video_format if state.video_format in formats else formats[0]
    return [SetVideoFormat(formats[(formats.index(current) + 1) % len(formats)])]


def flag(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Toggle camera flag ``FLAGS[arg]``."""
    name = FLAGS[arg]
    return [SetFlag(name, not state.flags.get(name, False))]


def ir_brightness(state: ViewState, facts: Facts, arg: int) -> Effects:
    """IR projector brightness up or down by ``arg``."""
    return [AdjustIrBrightness(arg)]


# -- the picture ---------------------------------------------------------------------------
def mirror(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Mirror depth and video left to right."""
    state.mirror = not state.mirror
    state.pinned = None
    return [MirrorSource(state.mirror)]


def rotate(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Turn the picture upright by the accelerometer."""
    state.rotate = not state.rotate
    if state.rotate and not facts.has_accel:
        return [Say("no accelerometer reading: the picture stays upright")]
    return []


def palette(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Next (``arg`` 1) or previous (-1) palette; glview only for raw depth without a range."""
    names = list(PALETTES)
    if not facts.depth_is_raw or state.near is not None or state.far is not None:
        names.remove("glview")
    i = names.index(state.palette) if state.palette in names else (-1 if arg > 0 else 0)
    state.palette = names[(i + arg) % len(names)]
    return []


def _adjust_range(state: ViewState, end: str, arg: int) -> Effects:
    if state.palette == "glview":
        return [Say("glview maps raw values and has no range: press c for a metric palette")]
    lo, hi = resolve_range(state.near, state.far)
    if end == "near":
        lo = min(max(0.0, round(lo + arg * RANGE_STEP, 3)), round(hi - RANGE_STEP, 3))
    else:
        hi = max(round(hi + arg * RANGE_STEP, 3), round(lo + RANGE_STEP, 3))
    state.near, state.far = lo, hi
    return []


def near(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Move the near end of the range by ``arg`` steps of 0.1 m."""
    return _adjust_range(state, "near", arg)


def far(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Move the far end of the range by ``arg`` steps of 0.1 m."""
    return _adjust_range(state, "far", arg)


def auto_range(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Back to no range: the palette spreads over what the frame holds (equalised)."""
    if state.palette == "glview":
        state.palette = "turbo"
    state.near = state.far = None
    return []


def opacity(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Depth over video: opacity by ``arg`` tenths."""
    state.opacity = min(1.0, max(0.0, round(state.opacity + 0.1 * arg, 2)))
    return [Say(f"overlay opacity {state.opacity:.0%}")]


def registered(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Registration on or off: depth lined up with colour in the overlay, points in their
    real colour in 3D (with a source that has its own registration)."""
    state.registered = not state.registered
    if not state.registered:
        return [Say("registration off: plain overlay, palette colours in 3D")]
    if facts.unregistered:
        return [Say(f"registration on, but not used here: {facts.unregistered}")]
    return [Say("registration on: overlay and 3D line depth up with colour")]


def filters(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Depth post-processing on or off (the chosen preset)."""
    state.filters_on = not state.filters_on
    if not state.filters_on:
        return [SetFilters(None), Say("filters off: raw depth")]
    return [SetFilters(state.filter_spec), Say(f"filters on: {state.filter_spec}")]


def next_filters(state: ViewState, facts: Facts, arg: int) -> Effects:
    """The next filter preset, switched on."""
    state.filter_index = (state.filter_index + 1) % len(state.filter_specs)
    state.filters_on = True
    return [SetFilters(state.filter_spec), Say(f"filters on: {state.filter_spec}")]


def split_view(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Depth before and after the filters side by side, or back to the layout before."""
    if state.layout is Layout.SPLIT:
        state.layout = state.before_split or Layout.BOTH
        return [Relayout()]
    state.before_split, state.layout = state.layout, Layout.SPLIT
    if not state.filters_on:
        return [Relayout(), Say("split view: filters are off (F turns them on)")]
    return [Relayout()]


def layout(state: ViewState, facts: Facts, arg: int) -> Effects:
    """The next layout (both, depth, video, overlay, 3d, 3d-video)."""
    state.layout = state.layout.next()
    return [Relayout()]


def hud(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Text overlay on or off."""
    state.hud = not state.hud
    return []


def show_help(state: ViewState, facts: Facts, arg: int) -> Effects:
    """The key help, in place of the HUD while shown."""
    state.help = not state.help
    return []


def fullscreen(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Fullscreen on or off."""
    return [ToggleFullscreen()]


# -- time ----------------------------------------------------------------------------------
def pause(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Pause or resume reading."""
    state.paused = not state.paused
    return [Pause(state.paused)]


#: Said when a step would take a recording (``R``) back in time or repeat a frame.
FORWARD_ONLY = "not while recording: a recording's frames go forward in time (R stops it)"


def step(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Pause and show the frame ``arg`` frames on (or back, on a recording). While ``R``
    records, only on: a frame read again or an earlier one would be recorded after the
    later ones, its time made up to follow them (trial P). A step refused changes nothing:
    the playback (and a recording) goes on (trial Y)."""
    if not facts.seekable:
        if arg > 0:
            state.paused = True
            return [Pause(True), Seek(None)]
        return _unsupported(facts, "step back: it is not a recording")
    # Relative to the last step asked for, so quick presses are not lost.
    current = facts.frame_index if facts.frame_index is not None else -1
    base = state.seek_target if state.seek_target is not None else current
    target = max(0, base + arg)
    if facts.length is not None:
        target = min(target, facts.length - 1)
        if target == base and arg > 0:  # trial R: Right at the end did nothing, said nothing
            state.paused = True
            return [Pause(True), Say(f"frame {target + 1}/{facts.length} is the last frame")]
    if state.recording is not None and target <= base:
        return [Say(FORWARD_ONLY)]
    state.paused = True
    if target == base and arg < 0:
        return [Pause(True), Say(f"frame 1/{facts.length or '?'} is the first frame")]
    state.seek_target, state.seek_back = target, target < base
    return [Pause(True), Seek(target)]


def restart(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Back to the first frame of a recording (not while ``R`` records: see ``step``)."""
    if not facts.seekable:
        return _unsupported(facts, "restart: it is not a recording")
    if state.recording is not None:
        return [Say(FORWARD_ONLY)]
    state.seek_target, state.seek_back = 0, True
    return [Seek(0)]


# -- the disk ------------------------------------------------------------------------------
def snapshot(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Save the window (PNG) and the raw depth (16-bit PNG and .npy)."""
    return [Snapshot()]


def record(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Start or stop recording to a fakenect folder."""
    return [StopRecording() if state.recording is not None else StartRecording()]


def quit_viewer(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Close the window."""
    state.quit = True
    return []


# -- probing and measuring -----------------------------------------------------------------
def pin(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Pin the probe at the depth pixel under the pointer (again, or off the picture: unpin)."""
    point = facts.depth_pixel
    state.pinned = None if state.pinned is not None and point in (None, state.pinned) else point
    return []


def measure_mode(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Measuring on or off: while on, clicks on depth or 3D pick the two ends."""
    state.measuring = not state.measuring
    state.measure.clear()
    if state.measuring:
        return [Say("measuring: click two points in the depth or 3D view")]
    return []


def measure_at(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Take the point under the pointer as the next end of the measurement."""
    if facts.point is None or facts.depth_pixel is None:
        return [Say("no depth reading there to measure from")]
    if len(state.measure) >= 2:
        state.measure.clear()
    state.measure.append(MeasurePoint(facts.depth_pixel, facts.point))
    return []


def click(state: ViewState, facts: Facts, arg: int) -> Effects:
    """A left click on the picture: a measuring point while measuring, else pin the probe."""
    return measure_at(state, facts, arg) if state.measuring else pin(state, facts, arg)


# -- the 3D view ---------------------------------------------------------------------------
def orbit(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Turn the 3D view about its pivot by the pointer's drag (``facts.drag``).

    The cloud turns with the pointer: dragging right by ``dx`` pixels changes the yaw by
    ``-dx * ORBIT_DEG_PER_PIXEL`` degrees, dragging down by ``dy`` the pitch by
    ``+dy * ORBIT_DEG_PER_PIXEL`` (clamped to +-89 degrees)."""
    state.camera.turn(*facts.drag)
    return []


def pan(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Slide the 3D view's pivot with the pointer's drag (``facts.drag``): what lies at the
    pivot's distance follows the pointer (Kinect focal length at 640 px)."""
    dx, dy = facts.drag
    cam = state.camera
    axes = cam.rotation()
    scale = cam.distance / PAN_FOCAL_PX
    moved = np.asarray(cam.pivot) - scale * (dx * axes[:, 0] + dy * axes[:, 1])
    cam.pivot = (float(moved[0]), float(moved[1]), float(moved[2]))
    return []


def zoom(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Move the eye towards the pivot (``arg`` > 0, wheel up) or away, 10 % per notch."""
    state.camera.zoom(arg)
    return []


def centre_view(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Orbit about ``facts.point`` (the point under a double click in the 3D view) from
    now on: the pivot moves there, the eye keeps its distance from it."""
    if facts.point is None:
        return [Say("no point there to centre on")]
    cam = state.camera
    eye = cam.eye()
    cam.pivot = facts.point
    cam.distance = max(MIN_DISTANCE, float(np.linalg.norm(np.asarray(facts.point) - eye)))
    cam.centred = True
    return []


def reset_view(state: ViewState, facts: Facts, arg: int) -> Effects:
    """The 3D view back to the Kinect's own viewpoint."""
    cam = state.camera
    state.camera = Camera3D(point_size=cam.point_size, guides=cam.guides)
    return []


def guides(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Axes and the Kinect's frustum in the 3D view on or off."""
    state.camera.guides = not state.camera.guides
    return []


def point_size(state: ViewState, facts: Facts, arg: int) -> Effects:
    """Larger (``arg`` 1) or smaller (-1) points in the 3D view."""
    sizes = POINT_SIZES
    current = min(range(len(sizes)), key=lambda i: abs(sizes[i] - state.camera.point_size))
    state.camera.point_size = sizes[min(len(sizes) - 1, max(0, current + arg))]
    return [Say(f"point size {state.camera.point_size:g}x a depth pixel")]


#: Pixels per unit of the 3D view's virtual focal length used for panning (the Kinect's).
PAN_FOCAL_PX = 594.21
