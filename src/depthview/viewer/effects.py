"""What the viewer's actions ask of the world outside ``ViewState``: the source's controls,
the reader (pause, seek, recording), the disk (snapshots, recordings) and the window
(relayout, fullscreen). ``actions`` says what should happen as effect values; this module
alone makes it happen, so the loop (``app``) only hands them over.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pygame

from ..errors import DepthviewError, UnsupportedControl
from ..frame import DepthFormat, Frame, VideoFormat
from ..geometry import Intrinsics
from ..outputs import why_not_written, write_atomic
from ..registration import Registration
from ..sources.base import Source
from . import actions, layout
from .actions import Effect
from .present import Presenter
from .reader import FrameReader
from .render import Renderer
from .state import ViewState


class EffectRunner:
    """Carries out effects for one window on one source; ``say`` shows a message."""

    def __init__(
        self,
        state: ViewState,
        source: Source,
        reader: FrameReader,
        presenter: Presenter,
        renderer: Renderer,
        snapshot_dir: Path,
        say: Callable[[str], None],
        frame: Callable[[], Frame | None],
        requested_size: tuple[int, int],
        show: Callable[[Frame], None],
    ) -> None:
        self.state = state
        self.source = source
        self.reader = reader
        self.presenter = presenter
        self.renderer = renderer
        self.snapshot_dir = snapshot_dir
        self.say = say
        self.frame = frame
        #: Puts another version of the frame shown on the screen (filtered again).
        self.show = show
        #: The window size the viewer last asked for (a size that differs is the user's).
        self.requested_size = requested_size
        self.snapshots: list[Path] = []
        self._writer: Any = None  # the recording being written (``R``), if any

    def _control(self, call: Any, *args: Any) -> bool:
        """Run a source control; say so in the window when the source cannot do it."""
        try:
            call(*args)
        except UnsupportedControl as exc:
            self.say(f"unsupported: {exc}")
            return False
        except DepthviewError as exc:
            self.say(f"failed: {exc}")
            return False
        return True

    def apply(self, effect: Effect) -> None:
        """Carry out one effect."""
        state, source = self.state, self.source
        match effect:
            case actions.Say(text):
                self.say(text)
            case actions.SetTilt(degrees):
                self._control(source.set_tilt, degrees)
            case actions.SetLed(mode):
                self._control(source.set_led, mode)
            case actions.SetVideoFormat(fmt):
                if self._control(source.set_video_format, fmt):
                    state.video_format = fmt
                    self.say(f"video format {fmt.name}")
            case actions.SetFlag(name, on):
                if self._control(source.set_flag, name, on):
                    state.flags[name] = on
                    self.say(f"{name.replace('_', ' ')} {'on' if on else 'off'}")
            case actions.AdjustIrBrightness(delta):
                if state.ir_brightness is None:
                    try:
                        state.ir_brightness = source.get_ir_brightness()
                    except DepthviewError:
                        state.ir_brightness = 25
                value = min(50, max(1, state.ir_brightness + delta))
                if self._control(source.set_ir_brightness, value):
                    state.ir_brightness = value
                    self.say(f"IR brightness {value}")
            case actions.MirrorSource(on):
                try:
                    source.set_flag("mirror_depth", on)
                    source.set_flag("mirror_video", on)
                    state.flip = False
                except DepthviewError:
                    state.flip = on  # the source cannot: flip the picture here
            case actions.SetFilters(spec):  # depth filters, run on the reader's thread
                try:
                    self.reader.use_filters(spec)
                except DepthviewError as exc:
                    state.filters_on = False
                    self.say(f"filters off: {exc}")
                else:
                    self._refilter_shown()
            case actions.Pause(paused):
                self.reader.set_paused(paused)
            case actions.Seek(index):
                self.reader.discard_pending()
                if index is None:
                    self.reader.request("one")
                else:
                    self.reader.request("seek", index)
            case actions.Snapshot():
                try:
                    paths = self.snapshot(self.frame())
                except SnapshotFailed as exc:
                    self.say(f"snapshot failed: {exc.path.name}: {exc.why}; nothing saved")
                    print(f"depthview: warning: snapshot failed: {exc}", file=sys.stderr)
                    return
                self.say(f"saved {paths[0].name}")
                print("snapshot: " + " ".join(str(p) for p in paths), flush=True)
            case actions.StartRecording():
                self._start_recording()
            case actions.StopRecording():
                self._stop_recording()
            case actions.Relayout():
                if not state.user_sized and not self.presenter.fullscreen:
                    size = layout.native_size(state.layout, self.renderer.panel)
                    self.requested_size = size
                    self.presenter.set_size(size)
                self.renderer.configure(state.layout, self.presenter.picture)
                if state.layout.is_3d:
                    self.renderer.ensure_cloud()
            case actions.ToggleFullscreen():
                try:
                    self.presenter.toggle_fullscreen()
                except pygame.error as exc:
                    self.say(f"unsupported: fullscreen: {exc}")
                self.renderer.configure(state.layout, self.presenter.picture)

    def _refilter_shown(self) -> None:
        """While no next frame comes to show them (paused, the source ended or failed), new
        filters are applied to the frame on screen at once, so its picture, probe and
        snapshot are what the HUD says; frames read before the change are dropped."""
        reader, frame = self.reader, self.frame()
        if frame is None or not (self.state.paused or reader.ended or reader.error is not None):
            return
        reader.discard_pending()
        self.show(reader.refilter(frame))

    def _start_recording(self) -> None:
        from ..recording import RecordingWriter

        path = _new_recording_folder(self.snapshot_dir)
        frame = self.frame()
        # A recording holds RGB video: with IR on, the depth is recorded alone (and said).
        video = None if frame is None or frame.video is None else frame.video_format
        ir = video not in (None, VideoFormat.RGB)
        refused = None if frame is None else _not_recordable(frame, ir)
        if refused is not None:  # said before any folder is made
            self.say(refused)
            return
        try:
            writer = RecordingWriter(
                path,
                on_full="block",
                registration=self.source.registration,
                depth_only=ir,
                times_from_start=self.source.times_from_start,
            )
        except (DepthviewError, OSError) as exc:
            self.say(f"cannot record: {exc}")
            return
        self._writer = writer
        self.reader.set_recorder(writer)
        self.state.recording = path
        if ir:
            self.say("recording depth only: a recording holds RGB video, not IR")
        print(f"recording: {path}", flush=True)

    def _stop_recording(self) -> None:
        """Close the recording and say what it holds: never an empty one as saved (an
        empty folder is removed), and why it stopped early if the writer refused a frame."""
        from ..recording import intrinsics_not_kept, remove_empty_recording

        path, writer = self.state.recording, self._writer
        self.state.recording, self._writer = None, None
        error = self.reader.record_error
        self.reader.set_recorder(None)
        if path is None or writer is None:
            return
        try:
            kept = writer.close().frames
        except DepthviewError as exc:  # the writer's error again, or one closing it
            if writer.frames == 0 and not writer.replacing:  # no frame: no recording
                remove_empty_recording(path, made=True)
                self.say(f"nothing recorded: {exc}")
                print(f"recording: nothing recorded: {exc}", flush=True)
                return
            what = "stopped" if error is not None else "failed"
            self.say(f"recording {what}: {exc}")
            print(f"recording {what}: {exc}", flush=True)
            return
        why = f": {error}" if error is not None else ""
        if kept == 0:
            remove_empty_recording(path, made=True)
            self.say(f"nothing recorded{why}")
            print(f"recording: nothing recorded{why}", flush=True)
            return
        # A recording cannot hold a source's own camera model: said, as ``record`` says it.
        lost = intrinsics_not_kept(self.source, path)
        note = "; the source's intrinsics are not kept (see the terminal)" if lost else ""
        # Started with IR on, it holds depth alone: said again where it ends, not only at R.
        if writer.depth_only:
            note = f"; depth only, the IR video is not kept{note}"
        if error is not None:
            self.say(f"recording stopped early{why}; {path} keeps {kept} frames{note}")
            print(f"recording stopped early{why}: {path} keeps {kept} frames", flush=True)
        else:  # the terminal tells the end from the start (trial AE), as the HUD does
            self.say(f"recording saved to {path} ({kept} frames){note}")
            print(f"recording saved: {path} ({kept} frames)", flush=True)
        if writer.depth_only:
            print(
                f"depthview: warning: {path}: depth only: a recording holds RGB video, so the "
                "IR video shown was not kept",
                file=sys.stderr,
                flush=True,
            )
        if lost:
            print(f"depthview: warning: {lost}", file=sys.stderr, flush=True)

    # -- files ----------------------------------------------------------------------------
    def snapshot(self, frame: Frame | None) -> list[Path]:
        """Save the window as PNG, ``frame``'s depth as ``-depth.npz`` (as the frame holds
        it, with its ``depth_format``, so reading it back gives the same distances: raw,
        filtered millimetres, TUM or registered alike) and as a 16-bit PNG (with Pillow:
        millimetres with the units marker, ``writers.png16``). Each file is written under a
        temporary name and renamed when complete; a snapshot that fails removes the files it
        wrote and raises ``SnapshotFailed`` naming the file and why ("disk full")."""
        folder = self.snapshot_dir
        now = time.time()
        stem = (
            time.strftime("depthview-%Y%m%d-%H%M%S", time.localtime(now))
            + f"-{int(now * 1e6) % 1_000_000:06d}"
        )
        jobs: list[tuple[Path, Callable[[Path], object]]] = [
            (folder / f"{stem}.png", self.presenter.save)
        ]
        if frame is not None:
            registration, camera = self.source.registration, self.source.intrinsics
            jobs.append(
                (
                    folder / f"{stem}-depth.npz",
                    lambda p: _write_depth_npz(p, frame, registration, camera),
                )
            )
            try:
                import PIL  # noqa: F401
            except ImportError:
                pass
            else:
                jobs.append(
                    (
                        folder / f"{stem}-depth.png",
                        lambda p: _write_png16(p, frame, registration, camera),
                    )
                )
        written: list[Path] = []
        for path, write in jobs:
            try:
                if not written:
                    folder.mkdir(parents=True, exist_ok=True)
                write(path)
            except (OSError, DepthviewError) as exc:
                for done in written:
                    with contextlib.suppress(OSError):
                        done.unlink()
                raise SnapshotFailed(path, exc) from None
            written.append(path)
        self.snapshots.extend(written)
        return written


def _new_recording_folder(folder: Path) -> Path:
    """A folder for a new recording that does not exist yet: named by the second, with
    ``-2``, ``-3`` ... when a recording of that second is there already (``R`` twice in a
    second), so that ``R`` is never refused for a name the viewer chose."""
    stem = time.strftime("depthview-%Y%m%d-%H%M%S")
    path, n = folder / stem, 1
    while path.exists() or path.is_symlink():
        n += 1
        path = folder / f"{stem}-{n}"
    return path


def _not_recordable(frame: Frame, depth_only: bool) -> str | None:
    """Why a recording cannot hold the source's frames (the reader records them unfiltered),
    in a line that fits the window; None when it can."""
    from ..recording import check_replayable

    raw = frame.meta.get("unfiltered", frame)
    assert isinstance(raw, Frame)
    try:
        check_replayable(raw, depth_only)
    except DepthviewError:
        pass
    else:
        return None
    if raw.depth_format is not DepthFormat.RAW_11BIT:
        what = raw.depth_format.unit_name
    elif raw.depth.shape != (480, 640):
        what = f"{raw.depth.shape[-1]}x{raw.depth.shape[-2]} depth"
    else:
        what = "colour of another size"
    return (
        "cannot record: a recording holds 640x480 raw 11-bit depth and RGB, this source "
        f"gives {what}; save it with depthview export"
    )


class SnapshotFailed(Exception):
    """A snapshot that could not be written (nothing of it is kept)."""

    def __init__(self, path: Path, exc: OSError | DepthviewError) -> None:
        why = why_not_written(exc) if isinstance(exc, OSError) else str(exc)
        super().__init__(f"{path}: {why}; nothing saved")
        self.path, self.why = path, why


def _write_depth_npz(
    path: Path, frame: Frame, registration: Registration | None, camera: Intrinsics
) -> None:
    """The frame's depth as it holds it, with its ``depth_format`` number and the source's
    ``intrinsics`` (for this frame's size: a decimated frame sees what the source's does),
    as the ``.npz`` export keeps them and its reader honours, written atomically; a format
    no file holds (NYU's fit of raw disparity) as the millimetres it measures."""
    from ..sources.depth_units import FILE_FORMATS
    from ..writers.base import metric_depth

    depth, fmt = frame.depth, frame.depth_format
    if fmt not in FILE_FORMATS:
        depth, fmt = metric_depth(depth, fmt, registration)
    k = _frame_camera(frame, camera)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        depth=depth,
        depth_format=np.array(int(fmt)),
        intrinsics=np.array([k.fx, k.fy, k.cx, k.cy], dtype=np.float64),
    )
    write_atomic(path, buffer.getvalue())


def _frame_camera(frame: Frame, camera: Intrinsics) -> Intrinsics:
    """The source's ``camera`` for this frame's size (a decimated frame sees what the
    source's does)."""
    unfiltered = frame.meta.get("unfiltered")
    source_h, source_w = (unfiltered if isinstance(unfiltered, Frame) else frame).depth.shape
    h, w = frame.depth.shape
    return camera.for_size(w, h, calibrated=(source_w, source_h))


def _write_png16(
    path: Path, frame: Frame, registration: Registration | None, camera: Intrinsics
) -> None:
    """The millimetres as ``export --format png16`` writes them, with the camera in the PNG
    (no ``camera.yaml`` beside a snapshot), so it reads back alone with the same points."""
    from ..writers import png16
    from ..writers.base import metric_depth

    depth, fmt = metric_depth(frame.depth, frame.depth_format, registration)
    png16.write(path, depth, fmt, _frame_camera(frame, camera))
