"""The viewer loop, and only the loop: pygame events become actions (``actions``), their
effects are carried out (``effects``), each new frame is drawn (``render``) with its
overlays (``overlays``) and shown (``present``); where the pointer is comes from
``pointing``, the ``--stats`` figures from ``stats``.

The loop draws when a frame arrives (no faster than ``MAX_FPS``) or when the user changed
something, and otherwise sleeps until one of those happens, so a window that keeps up
shows every frame the source delivers. ``Viewer.step()`` does one round, so tests drive
the viewer event by event.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygame

from ..benchmarking import system_info
from ..errors import DepthviewError, cli_words
from ..frame import DepthFormat, Frame
from ..geometry import KINECT_V1_DEPTH
from ..outputs import why_not_written
from ..palettes import canonical_name
from ..sources.base import Source
from . import actions, keys, layout, overlays
from .actions import Effect, Facts
from .effects import EffectRunner
from .layout import Layout
from .pointing import Pointing
from .present import Presenter
from .reader import FrameReader
from .render import Renderer
from .state import ViewState, wrap_yaw
from .stats import FrameRate, Stats
from .view3d import scene_centre

Surface = Any  # pygame.Surface

MESSAGE_SECONDS = 3.0
RATE_SECONDS = 0.5  # how often the measured frame rates are updated
HUD_HZ = 4  # how often figures that change every frame (position, accel, probe) are updated
MAX_FPS = 120.0  # the cap on drawing: a faster source has frames dropped (and counted)
CLICK_SLOP = 3  # pixels a press may move and still be a click, not a drag
DOUBLE_CLICK_SECONDS = 0.4


@dataclass
class ViewerOptions:
    """What the command line can set."""

    palette: str = "glview"
    near: float | None = None
    far: float | None = None
    layout: Layout = Layout.BOTH
    size: tuple[int, int] | None = None
    fullscreen: bool = False
    mirror: bool = False
    hud: bool = True
    frames: int | None = None
    screenshot: Path | None = None
    snapshot_dir: Path = field(default_factory=Path.cwd)
    title: str = "depthview"
    orbit: tuple[float, float] = (0.0, 0.0)  # the 3D view's yaw and pitch at the start
    filters: str | None = None  # a --filter spec to start with (the F and P keys change it)


class Viewer:
    """One window on one source. ``step()`` handles events and draws; ``run()`` loops."""

    def __init__(self, source: Source, options: ViewerOptions | None = None) -> None:
        self.options = opts = options or ViewerOptions()
        self.source = source
        palette = canonical_name(opts.palette)
        if palette == "glview" and (opts.near is not None or opts.far is not None):
            palette = "turbo"  # a range only means something for a metric palette
        self.state = ViewState(
            palette=palette,
            near=opts.near,
            far=opts.far,
            layout=opts.layout,
            hud=opts.hud,
            user_sized=opts.size is not None,
            video_format=source.video_formats[0] if source.video_formats else None,
        )
        self.state.camera.yaw, self.state.camera.pitch = wrap_yaw(opts.orbit[0]), opts.orbit[1]
        self.frame: Frame | None = None
        self.stats = Stats()
        self.failed: BaseException | None = None  # the source's failure, once reported
        self.interrupted = False  # Ctrl-C ended it
        self._dirty = True
        self._last_draw = 0.0
        self._rates_at = time.perf_counter()
        self._rates: tuple[float | None, float | None] = (None, None)
        self._shown_rate = FrameRate()  # frames shown, for the HUD (``stats``)
        self._press: tuple[int, int, str | None] | None = None  # where a button went down
        self._last_click = (0.0, (0, 0))  # when and where the 3D view was last clicked
        self._before_click: tuple[Any, list[Any]] = (None, [])  # the pin and measure then
        self._dragged = False
        self._placed: list[overlays.Placed] = []
        self._plan_key: object = None
        self._events = 0  # counts events and effects, so overlays know to plan again

        native = layout.native_size(opts.layout)
        requested = opts.size or native
        self.presenter = Presenter(requested, opts.fullscreen, opts.title)
        own = None if source.intrinsics == KINECT_V1_DEPTH else source.intrinsics
        self.renderer = Renderer(
            self.presenter.picture, self.state, source.registration, source.video_aligned, own
        )
        self.renderer.gl_context = self.presenter.gl_context
        self.renderer.gl_error = None if self.presenter.headless else self.presenter.gl_error
        self.pointing = Pointing(self.renderer, self.state)
        self.overlays = overlays.Overlays()
        self.reader = FrameReader(source)
        self.effects = EffectRunner(
            self.state,
            source,
            self.reader,
            self.presenter,
            self.renderer,
            opts.snapshot_dir,
            self.say,
            lambda: self.frame,
            requested,
            self._show_again,
        )
        if opts.mirror:
            self._run_action(actions.mirror, 0)
        if self.state.layout.is_3d:
            self.renderer.ensure_cloud()
        if opts.filters:  # depth filters (issue 16): on from the start, first of the presets
            self.state.filter_specs = (opts.filters, *self.state.filter_specs)
            self.state.filters_on = True
            if self.state.palette == "glview":  # filtered depth is millimetres: colour them
                self.state.palette = "turbo"  # from the first frame (warmed up below)
            self.effects.apply(actions.SetFilters(opts.filters))
        # Load the compiled lookup, the font and the colour table before the first frame
        # arrives, so the first frames are not kept waiting (and dropped) meanwhile.
        self.renderer.warm_up(self.state)
        self.draw()
        # The first frame's draw loads (or compiles) the loops for this source's frames:
        # the reader waits for it rather than overflowing its queue meanwhile.
        self.reader.start(hold_first=True)

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> dict[str, object]:
        """Loop until quit; close the window and the source; return the ``--stats`` figures."""
        drawing: dict[str, str] = {}
        try:
            while not self.state.quit:
                if not self.step():
                    wait = self._last_draw + 1.0 / MAX_FPS - time.perf_counter()
                    if wait > 0:  # a frame may be pending, but is not due: no spinning
                        time.sleep(wait)
                    else:
                        self.reader.wait(0.01)
        except KeyboardInterrupt:  # the window closes as on q; the command says it (130)
            self.state.quit = True
            self.interrupted = True
        finally:
            drawing = self.drawing()
            try:
                # A run whose source failed (exit 2) saves no screenshot: a picture of no
                # frame must not appear, nor replace an earlier one given with --overwrite.
                shot = self.options.screenshot
                if shot is not None and self.failed is None and pygame.display.get_init():
                    self.save_window(shot)
            finally:
                self.close()
        return {**self.stats.as_dict(self.reader.dropped), **drawing}

    def drawing(self) -> dict[str, str]:
        """What draws and on what machine, for ``--stats``: which draws the 3D view's points
        ("cpu", "gpu"; "none" when it cannot or without a 3D layout), the OpenGL renderer,
        the CPU model and its vector extensions (``benchmarking.system_info``)."""
        cloud = self.renderer.cloud
        points = cloud.points if cloud is not None and cloud.ok else "none"
        return {"points": points, **system_info(self._gl_name() or "none")}

    def _gl_name(self) -> str:
        """The OpenGL renderer's name: the window's, else the 3D view's own context's."""
        cloud = self.renderer.cloud
        return self.presenter.gl_renderer or ("" if cloud is None else cloud.renderer)

    def close(self) -> None:
        """Close any recording (said as ``R`` says it: a recording no frame reached is
        removed), then stop the reader (closing the source) and the window."""
        if self.state.recording is not None:
            self.effects.apply(actions.StopRecording())
        self.reader.stop()
        self.state.recording = None
        if self.renderer.cloud is not None:
            self.renderer.cloud.release()
        self.presenter.close()

    def step(self) -> bool:
        """Handle pending events, take the next frame when it is due, draw when anything
        changed. Returns True when something was drawn."""
        for event in pygame.event.get():
            self.handle_event(event)
        if self.presenter.lost and not self.state.quit:  # another X client destroyed it
            self.state.quit = True
            print("depthview: the window was destroyed by another X client", file=sys.stderr)
        if self.state.quit:
            return False
        now = time.perf_counter()
        self._check_failure()
        if self.state.quit:
            return False
        if self.reader.filter_error is not None and self.state.filters_on:  # depth filters
            self.state.filters_on = False
            self.say(f"filters off: {self.reader.filter_error}")
        if self.reader.record_error is not None and self.state.recording is not None:
            self.effects.apply(actions.StopRecording())  # the REC line goes; says why
            self._dirty = True
        new = None
        if now - self._last_draw >= 1.0 / MAX_FPS:
            new = self.reader.next_frame()
        if new is not None:
            self.frame = new
            target = self.state.seek_target  # reached, or passed where a frame was broken
            if target is not None and (
                new.index <= target if self.state.seek_back else new.index >= target
            ):
                self.state.seek_target = None
            self._dirty = True
        if self._dirty:
            self._check_palette()
            self._centre_view()
        if now - self._rates_at >= RATE_SECONDS:
            self._update_rates(now)
        if self.state.message and now > self.state.message_until:
            self.state.message = ""
            self._dirty = True
            self._events += 1
        if not self._dirty:
            if self.options.frames is not None and self.reader.ended and not self.reader.pending:
                self.state.quit = True
            return False
        cpu = time.thread_time()
        self.draw()
        self.presenter.show()
        self.stats.cpu_ms.append((time.thread_time() - cpu) * 1000.0)
        self._dirty = False
        self._last_draw = now
        if new is not None:
            if self.stats.frames_shown == 0:  # rates count from the first frame
                self.reader.first_shown()
            shown = time.perf_counter()
            self._shown_rate.add(shown)
            self.stats.shown(new.index, shown, self.reader.arrived)
            if self.options.frames is not None and self.stats.frames_shown >= self.options.frames:
                self.state.quit = True
        return True

    def _check_palette(self) -> None:
        """glview colours raw values only: on millimetres (the source's, or registered depth
        in the overlay) switch to turbo and say why."""
        if self.state.palette != "glview" or self.frame is None:
            return
        _, fmt = self.renderer.depth_shown(self.state, self.frame)
        if fmt.is_raw:
            return
        self.state.palette = "turbo"
        # its units in words, as info and R say them (trial AQ D6: TUM's fifths of a
        # millimetre were said as "millimetres")
        if fmt is DepthFormat.REGISTERED:
            self.say("glview maps raw values; registered depth is millimetres: using turbo")
        else:
            self.say(f"glview maps raw values; this source gives {fmt.unit_name}: using turbo")

    def _centre_view(self) -> None:
        """Orbit about the scene: at the start and after a reset, the 3D view's centre
        moves to the depth of the median of the frame's valid points, on the Kinect's
        axis, so the eye stays at the Kinect and the reset view is still the depth image
        pixel for pixel."""
        cam, frame = self.state.camera, self.frame
        if cam.centred or frame is None or not self.state.layout.is_3d:
            return
        geometry = self.renderer.geometry(frame.depth_format, frame.depth.shape)
        centre = scene_centre(self.renderer.cloud_depth(self.state, frame), geometry)
        if centre is not None:
            cam.pivot, cam.distance = (0.0, 0.0, centre[2]), centre[2]
        cam.centred = True

    def _check_failure(self) -> None:
        """Report a failed source once, on stderr too; with ``--frames``, stop at once."""
        error = self.reader.error
        if error is None or error is self.failed:
            return
        self.failed = error
        self._dirty = True
        sys.stderr.write(f"depthview: error: source failed: {cli_words(str(error))}\n")
        sys.stderr.flush()
        if self.options.frames is not None:
            self.state.quit = True

    def _update_rates(self, now: float) -> None:
        """The HUD's rates: frames shown and read, each its intervals over their span."""
        if self.stats.frames_shown > 0:
            self._rates = (self._shown_rate.rate(now), self.reader.read_rate(now))
            self._dirty = self._dirty or not self.state.paused
        self._rates_at = now

    # -- drawing --------------------------------------------------------------------------
    def draw(self) -> None:
        """The panels, then the overlays planned for this window."""
        self.renderer.draw(self.state, self.frame)
        # The overlays are planned again when the user did something, the window changed,
        # another frame is shown (the HUD names it), or a few times a second (rates).
        index = None if self.frame is None else self.frame.index
        key = (self._events, self.display.get_size(), index, int(time.perf_counter() * HUD_HZ))
        if key != self._plan_key or self.state.paused:
            self._plan_key = key
            info = self.info()
            self._placed = self.overlays.plan(
                self.state,
                info,
                self.renderer.window_rects(),
                self.display,
                self.renderer.equalizer,
            )
        overlays.draw(self.display, self._placed)

    def info(self) -> overlays.Info:
        """What the overlays need to know beyond the state."""
        frame, source = self.frame, self.source
        position = ""
        if source.seekable and frame is not None:
            length = source.length
            position = f"frame {frame.index + 1}" + (f"/{length}" if length else "")
        tilt_accel = ""
        if frame is not None and (frame.tilt_deg is not None or frame.accel is not None):
            parts = []
            if frame.tilt_deg is not None:
                parts.append(f"tilt {frame.tilt_deg:+.1f} deg")
            if frame.accel is not None:
                parts.append("accel " + " ".join(f"{a:+.2f}" for a in frame.accel) + " m/s2")
            tilt_accel = "  ".join(parts)
        cloud = self.renderer.cloud
        return overlays.Info(
            source=source.name,
            position=position,
            display_fps=self._rates[0],
            source_fps=self._rates[1],
            dropped=self.reader.dropped,
            ended=self.reader.ended,
            error=None if self.reader.error is None else cli_words(str(self.reader.error)),
            record_error=None
            if self.reader.record_error is None
            else str(self.reader.record_error),
            probe=tuple(self.pointing.probe_lines(frame)),
            depth_format=None if frame is None else frame.depth_format,
            has_video=frame is None or frame.video is not None,
            cloud_error=None if cloud is None or cloud.ok else cloud.error,
            marks=tuple(self.pointing.marks(frame)),
            measure_line=self.pointing.measure_line(frame),
            tilt_accel=tilt_accel,
            registration=self.renderer.alignment(self.state, frame).note(self.renderer.layout),
            units_guess=source.units_guess,
            points=self._points_note(),
        )

    def _points_note(self) -> str:
        """The HUD's line on which draws the 3D view's points ("" outside the 3D layouts)."""
        cloud = self.renderer.cloud
        if cloud is None or not cloud.ok or not self.state.layout.is_3d:
            return ""
        where = "CPU" if cloud.points == "cpu" else "GPU"
        gl = self._gl_name()
        return f"3D points on the {where}" + (f" (GL {gl})" if gl else " (no OpenGL)")

    def mouse_pixel(self) -> tuple[int, int] | None:
        """The depth panel pixel under the pointer, as shown (mirrored when the viewer flips)."""
        return self.pointing.mouse_pixel()

    def facts(self, at: tuple[int, int] | None = None, drag: tuple[int, int] = (0, 0)) -> Facts:
        """What actions may need to know now; ``at`` a window point to resolve to a depth
        pixel and its point in metres (through the 3D view's pick in the 3D panel)."""
        frame, source = self.frame, self.source
        pixel: tuple[int, int] | None = None
        point = None
        r = self.renderer
        if at is not None and frame is not None:
            pixel, point = self.pointing.resolve(frame, at)
        shown_format = None if frame is None else r.depth_shown(self.state, frame)[1]
        return Facts(
            source_name=source.name,
            video_formats=tuple(source.video_formats),
            seekable=source.seekable,
            length=source.length,
            frame_index=None if frame is None else frame.index,
            depth_is_raw=shown_format is None or shown_format.is_raw,
            has_accel=frame is not None and frame.accel is not None,
            unregistered=r.alignment(self.state, frame, on=True).reason,
            depth_pixel=pixel,
            point=point,
            drag=drag,
        )

    # -- events ---------------------------------------------------------------------------
    def handle_event(self, event: Any) -> None:
        """Turn one pygame event into actions."""
        self._dirty = True
        self._events += 1
        state = self.state
        if event.type == pygame.QUIT:
            state.quit = True
        elif event.type == pygame.KEYDOWN:
            binding = keys.lookup(getattr(event, "unicode", ""), pygame.key.name(event.key))
            if binding is not None:
                at = state.mouse if binding.action is actions.pin else None
                self.apply(binding.action(state, self.facts(at), binding.arg))
        elif event.type == pygame.WINDOWLEAVE:
            state.mouse = None  # no probe for a pointer that left the window
        elif event.type == pygame.MOUSEMOTION:
            state.mouse = (int(event.pos[0]), int(event.pos[1]))
            self._drag(event)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button in (1, 3):
            pos = (int(event.pos[0]), int(event.pos[1]))
            state.mouse = pos
            self._press = (*pos, self.pointing.panel_at(pos))
            self._dragged = False
            if event.button == 1 and self._press[2] == "depth":
                self._click(pos)
        elif event.type == pygame.MOUSEBUTTONUP and event.button in (1, 3):
            press, self._press = self._press, None
            if (
                press is not None
                and press[2] == "cloud"
                and event.button == 1
                and not self._dragged
            ):
                self._cloud_click((press[0], press[1]))
        elif event.type == pygame.MOUSEWHEEL:
            if state.layout.is_3d:
                self._run_action(actions.zoom, int(event.y))
        elif event.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
            self.presenter.sync()
            if self.presenter.window_size() != self.effects.requested_size:
                state.user_sized = True  # the user's doing, not a layout change's
            self.renderer.configure(state.layout, self.presenter.picture)

    def _click(self, pos: tuple[int, int]) -> None:
        self.apply(actions.click(self.state, self.facts(pos), 0))

    def _cloud_click(self, pos: tuple[int, int]) -> None:
        """A click in the 3D view; a second one soon after at the same place (a double
        click) makes the point under it the centre the view orbits about."""
        now = time.perf_counter()
        then, where = self._last_click
        double = now - then <= DOUBLE_CLICK_SECONDS and (
            abs(pos[0] - where[0]) + abs(pos[1] - where[1]) <= CLICK_SLOP
        )
        self._last_click = (0.0 if double else now, pos)
        if not double:
            # What the first click of a double click pins or measures is taken back then.
            self._before_click = (self.state.pinned, list(self.state.measure))
            self._click(pos)
            return
        self.state.pinned, self.state.measure[:] = self._before_click
        centre = None if self.frame is None else self.pointing.centre_at(self.frame, pos)
        facts = dataclasses.replace(self.facts(), point=centre)
        self.apply(actions.centre_view(self.state, facts, 0))

    def _drag(self, event: Any) -> None:
        press = self._press
        if press is None or press[2] != "cloud":
            return
        dx, dy = int(event.rel[0]), int(event.rel[1])
        if abs(event.pos[0] - press[0]) + abs(event.pos[1] - press[1]) > CLICK_SLOP:
            self._dragged = True
        if not self._dragged:
            return
        buttons = getattr(event, "buttons", (0, 0, 0))
        shift = bool(pygame.key.get_mods() & pygame.KMOD_SHIFT)
        action = actions.pan if (len(buttons) > 2 and buttons[2]) or shift else actions.orbit
        self.apply(action(self.state, self.facts(drag=(dx, dy)), 0))

    def _run_action(self, action: actions.Action, arg: int) -> None:
        self.apply(action(self.state, self.facts(), arg))

    # -- effects --------------------------------------------------------------------------
    def say(self, message: str) -> None:
        """Show a short message in the window for a few seconds."""
        self.state.message = message
        self.state.message_until = time.perf_counter() + MESSAGE_SECONDS
        self._dirty = True
        self._events += 1

    def _show_again(self, frame: Frame) -> None:
        """Show ``frame`` in place of the frame shown (the same frame filtered again), as
        the next draw; not a new frame: the rates, ``--stats`` and ``--frames`` leave it out."""
        self.frame = frame
        self._dirty = True
        self._events += 1

    def apply(self, effects: list[Effect]) -> None:
        """Carry out what an action asked for (``effects``)."""
        self._events += 1
        for effect in effects:
            self.effects.apply(effect)

    def snapshot(self) -> list[Path]:
        """Save the window as PNG and the depth as 16-bit PNG and ``-depth.npz``."""
        return self.effects.snapshot(self.frame)

    def save_window(self, path: Path) -> None:
        """Save the picture the window shows now (the one ``present`` puts on screen)."""
        self.presenter.save(path)

    @property
    def snapshots(self) -> list[Path]:
        """Files the snapshots of this window saved."""
        return self.effects.snapshots

    @property
    def display(self) -> Surface:
        """The picture the viewer draws and the window shows."""
        return self.renderer.display

    @property
    def placed(self) -> list[overlays.Placed]:
        """The overlays of the last frame drawn, where they went (for tests)."""
        return self._placed


def check_writable(path: Path, option: str) -> None:
    """Refuse, before any window opens, a file path that cannot be written."""
    folder = path.parent if str(path.parent) else Path(".")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise DepthviewError(f"{option} {path}: expected a writable folder, got {existing}")
    if path.is_dir():
        raise DepthviewError(f"{option} {path}: expected a file name, got a folder")


def run_viewer(source: Source, options: ViewerOptions | None = None) -> dict[str, object]:
    """Open a window on ``source`` and run until the user quits; returns the stats. A source
    that failed while the window was open raises ``ViewerFailed`` after the window closes
    (the message was already shown in the window and on stderr)."""
    options = options or ViewerOptions()
    if options.screenshot is not None:
        check_writable(options.screenshot, "--screenshot")
    viewer = Viewer(source, options)
    try:
        stats = viewer.run()
    except OSError as exc:  # the screenshot could not be saved after all
        where = f"{exc.filename}: " if exc.filename else ""
        raise DepthviewError(f"{where}{why_not_written(exc)}") from None
    if viewer.failed is not None:
        raise ViewerFailed(str(viewer.failed), stats)
    if viewer.interrupted:
        stats["interrupted"] = True
    return stats


class ViewerFailed(DepthviewError):
    """The source failed while the viewer ran; ``stats`` are the figures up to then."""

    def __init__(self, message: str, stats: dict[str, object]) -> None:
        super().__init__(message)
        self.stats = stats
