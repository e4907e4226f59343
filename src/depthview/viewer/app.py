"""The viewer loop, and only the loop: pygame events become actions (``actions``), their
effects go to the source, the reader, the disk or the window, and each new frame is drawn
(``render``) with its overlays (``overlays``).

The loop draws when a frame arrives (no faster than ``MAX_FPS``) or when the user changed
something, and otherwise sleeps until one of those happens, so a window that keeps up
shows every frame the source delivers. ``Viewer.step()`` does one round, so tests drive
the viewer event by event.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pygame

from ..errors import DepthviewError, UnsupportedControl
from ..frame import DepthFormat, Frame
from ..palettes import canonical_name
from ..sources.base import Source
from . import actions, keys, layout, overlays, probe
from .actions import Effect, Facts
from .layout import Layout
from .reader import FrameReader
from .render import Renderer
from .state import ViewState
from .view3d import Projection, pick, point_at, view_matrix

Surface = Any  # pygame.Surface

MESSAGE_SECONDS = 3.0
RATE_SECONDS = 0.5  # how often the measured frame rates are updated
HUD_HZ = 4  # how often figures that change every frame (position, accel, probe) are updated
MAX_FPS = 120.0  # the cap on drawing: a faster source has frames dropped (and counted)
CLICK_SLOP = 3  # pixels a press may move and still be a click, not a drag
HEADLESS_DRIVERS = ("offscreen", "dummy")


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


@dataclass
class Stats:
    """Figures for ``--stats``."""

    frames_shown: int = 0
    last_index: int | None = None
    cpu_ms: list[float] = field(default_factory=list)
    started: float | None = None
    last: float | None = None

    def as_dict(self, dropped: int) -> dict[str, object]:
        """JSON-ready summary: per-frame CPU of the render loop (median and p95, ms), the
        display rate, and frames the window never showed."""
        cpu = sorted(self.cpu_ms)
        med = statistics.median(cpu) if cpu else 0.0
        p95 = cpu[min(len(cpu) - 1, math.ceil(0.95 * len(cpu)) - 1)] if cpu else 0.0
        span = (self.last or 0.0) - (self.started or 0.0)
        fps = (self.frames_shown - 1) / span if span > 0 and self.frames_shown > 1 else 0.0
        return {
            "frames_shown": self.frames_shown,
            "cpu_ms_median": round(med, 3),
            "cpu_ms_p95": round(p95, 3),
            "display_fps": round(fps, 2),
            "dropped_source_frames": dropped,
            "last_frame_index": self.last_index,
        }


def open_display(size: tuple[int, int], fullscreen: bool, title: str) -> Surface:
    """The window, or ``DepthviewError`` when there is no display to put it on (SDL would
    otherwise quietly draw into memory) unless the user chose a driver (SDL_VIDEODRIVER)."""
    no_display = DepthviewError(
        "no display to open the window on (DISPLAY is not set); run it on a desktop, "
        "or set SDL_VIDEODRIVER=dummy to run without a window"
    )
    chosen = bool(os.environ.get("SDL_VIDEODRIVER"))
    unix_desktop = sys.platform.startswith(("linux", "freebsd"))
    desktop = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if unix_desktop and not chosen and not desktop:
        raise no_display  # before SDL, which would print lines of its own
    try:
        pygame.display.init()
    except pygame.error as exc:
        raise DepthviewError(f"cannot open a window: {exc}") from None
    if pygame.display.get_driver() in HEADLESS_DRIVERS and not chosen:
        pygame.display.quit()
        raise no_display
    pygame.font.init()
    pygame.display.set_caption(title)
    flags = pygame.RESIZABLE | (pygame.FULLSCREEN if fullscreen else 0)
    try:
        return pygame.display.set_mode(size, flags)
    except pygame.error as exc:
        pygame.display.quit()
        raise DepthviewError(f"cannot open a window: {exc}") from None


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
        self.state.camera.yaw, self.state.camera.pitch = opts.orbit
        self.frame: Frame | None = None
        self.stats = Stats()
        self.snapshots: list[Path] = []
        self.failed: BaseException | None = None  # the source's failure, once reported
        self._dirty = True
        self._last_draw = 0.0
        self._rates_at = (time.perf_counter(), 0, 0)
        self._rates: tuple[float | None, float | None] = (None, None)
        self._press: tuple[int, int, str | None] | None = None  # where a button went down
        self._dragged = False
        self._placed: list[overlays.Placed] = []
        self._plan_key: object = None
        self._events = 0  # counts events and effects, so overlays know to plan again

        native = layout.native_size(opts.layout)
        self._requested_size = opts.size or native
        display = open_display(self._requested_size, opts.fullscreen, opts.title)
        self.renderer = Renderer(display, self.state, source.registration, source.video_aligned)
        self.overlays = overlays.Overlays()
        if opts.mirror:
            self._run_action(actions.mirror, 0)
        if self.state.layout.is_3d:
            self.renderer.ensure_cloud()
        self.reader = FrameReader(source)
        if opts.filters:  # depth filters (issue 16): on from the start, first of the presets
            self.state.filter_specs = (opts.filters, *self.state.filter_specs)
            self.state.filters_on = True
            if self.state.palette == "glview":  # filtered depth is millimetres: colour them
                self.state.palette = "turbo"  # from the first frame (warmed up below)
            self._apply(actions.SetFilters(opts.filters))
        # Load the compiled lookup, the font and the colour table before the first frame
        # arrives, so the first frames are not kept waiting (and dropped) meanwhile.
        self.renderer.warm_up(self.state)
        self.draw()
        self.reader.start()

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> dict[str, object]:
        """Loop until quit; close the window and the source; return the ``--stats`` figures."""
        try:
            while not self.state.quit:
                if not self.step():
                    wait = max(0.0, self._last_draw + 1.0 / MAX_FPS - time.perf_counter())
                    self.reader.wait(max(wait, 0.01) if wait > 0 else 0.01)
        except KeyboardInterrupt:
            self.state.quit = True
        finally:
            try:
                if self.options.screenshot is not None and pygame.display.get_init():
                    self.save_window(self.options.screenshot)
            finally:
                self.close()
        return self.stats.as_dict(self.reader.dropped)

    def close(self) -> None:
        """Stop the reader (closing the source and any recording) and the window."""
        self.reader.stop()
        self.state.recording = None
        if self.renderer.cloud is not None:
            self.renderer.cloud.release()
        pygame.display.quit()

    def step(self) -> bool:
        """Handle pending events, take the next frame when it is due, draw when anything
        changed. Returns True when something was drawn."""
        for event in pygame.event.get():
            self.handle_event(event)
        if self.state.quit:
            return False
        now = time.perf_counter()
        self._check_failure()
        if self.state.quit:
            return False
        if self.reader.filter_error is not None and self.state.filters_on:  # depth filters
            self.state.filters_on = False
            self.say(f"filters off: {self.reader.filter_error}")
        new = None
        if now - self._last_draw >= 1.0 / MAX_FPS:
            new = self.reader.next_frame()
        if new is not None:
            self.frame = new
            if new.index == self.state.seek_target:
                self.state.seek_target = None
            self._dirty = True
        if self._dirty:
            self._check_palette()
        if now - self._rates_at[0] >= RATE_SECONDS:
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
        pygame.display.flip()
        self.stats.cpu_ms.append((time.thread_time() - cpu) * 1000.0)
        self._dirty = False
        self._last_draw = now
        if new is not None:
            if self.stats.frames_shown == 0:  # rates count from the first frame
                self._rates_at = (now, 0, self.reader.frames_read - 1)
            self.stats.frames_shown += 1
            self.stats.last_index = new.index
            self.stats.started = self.stats.started or now
            self.stats.last = now
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
        what = "registered depth is" if fmt is DepthFormat.REGISTERED else "this source gives"
        self.say(f"glview maps raw values; {what} millimetres: using turbo")

    def _check_failure(self) -> None:
        """Report a failed source once, on stderr too; with ``--frames``, stop at once."""
        error = self.reader.error
        if error is None or error is self.failed:
            return
        self.failed = error
        self._dirty = True
        sys.stderr.write(f"depthview: error: source failed: {error}\n")
        sys.stderr.flush()
        if self.options.frames is not None:
            self.state.quit = True

    def _update_rates(self, now: float) -> None:
        t0, shown0, read0 = self._rates_at
        if self.stats.frames_shown > 0:
            self._rates = (
                (self.stats.frames_shown - shown0) / (now - t0),
                (self.reader.frames_read - read0) / (now - t0),
            )
            self._dirty = self._dirty or not self.state.paused
        self._rates_at = (now, self.stats.frames_shown, self.reader.frames_read)

    # -- drawing --------------------------------------------------------------------------
    def draw(self) -> None:
        """The panels, then the overlays planned for this window."""
        self.renderer.draw(self.state, self.frame)
        # The overlays are planned again when the user did something, the window changed,
        # or (for the figures that change every frame) a few times a second.
        key = (self._events, self.display.get_size(), int(time.perf_counter() * HUD_HZ))
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
            error=None if self.reader.error is None else str(self.reader.error),
            record_error=None
            if self.reader.record_error is None
            else str(self.reader.record_error),
            probe=tuple(self.probe_lines()),
            depth_format=None if frame is None else frame.depth_format,
            has_video=frame is None or frame.video is not None,
            cloud_error=None if cloud is None or cloud.ok else cloud.error,
            marks=tuple(self._marks()),
            measure_line=self._measure_line(),
            tilt_accel=tilt_accel,
            registration=self.renderer.alignment(self.state, frame).note(self.renderer.layout),
        )

    def probe_lines(self) -> list[str]:
        """``probe ...`` for the depth pixel under the pointer, ``pin ...`` for the pinned one."""
        frame = self.frame
        if frame is None:
            return []
        shown = self.mouse_pixel()
        depth, fmt = self.renderer.depth_shown(self.state, frame)
        geometry = self.renderer.geometry(fmt, depth.shape)
        lines = []
        for label, point in (
            ("probe", None if shown is None else self._source_pixel(shown)),
            ("pin", self.state.pinned),
        ):
            if point is not None:
                reading = probe.read(depth, fmt, *point, geometry, self.renderer.registration)
                if reading is not None:
                    lines.append(f"{label} {reading.text}")
        return lines

    def _pixel_to_window(self, panel: str, x: float, y: float) -> tuple[int, int] | None:
        rect = self.renderer.rects.get(panel)
        if rect is None:
            return None
        return layout.content_to_window(
            (rect.x + x, rect.y + y), self.renderer.view, self.renderer.content
        )

    def _marks(self) -> list[tuple[int, int, overlays.RGB]]:
        out = []
        pinned = self.state.pinned
        for point, colour in (
            (self.mouse_pixel(), overlays.TEXT),
            (None if pinned is None else self._view_pixel(pinned), overlays.WARN),
        ):
            if point is not None:
                at = self._pixel_to_window("depth", point[0] + 0.5, point[1] + 0.5)
                if at is not None:
                    out.append((*at, colour))
        out.extend((*p, overlays.WARN) for p in self._measure_window_points())
        return out

    def _measure_window_points(self) -> list[tuple[int, int]]:
        points = []
        for m in self.state.measure:
            if "depth" in self.renderer.rects:
                x, y = self._view_pixel(m.pixel)
                at = self._pixel_to_window("depth", x + 0.5, y + 0.5)
            else:
                at = self._project_to_cloud(m.xyz)
            if at is not None:
                points.append(at)
        return points

    def _measure_line(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        points = self._measure_window_points()
        return (points[0], points[1]) if len(points) == 2 else None

    def _project_to_cloud(self, xyz: tuple[float, float, float]) -> tuple[int, int] | None:
        eye = view_matrix(self.state.camera) @ np.array([*xyz, 1.0])
        if eye[2] <= 0 or self.frame is None:
            return None
        frame = self.frame
        geometry = self.renderer.geometry(frame.depth_format, frame.depth.shape)
        proj = Projection.for_geometry(self.renderer.panel, geometry)
        return self._pixel_to_window(
            "cloud",
            proj.fx * eye[0] / eye[2] + proj.cx + 0.5,
            proj.fy * eye[1] / eye[2] + proj.cy + 0.5,
        )

    # -- mapping the mouse ----------------------------------------------------------------
    def mouse_pixel(self) -> tuple[int, int] | None:
        """The depth panel pixel under the pointer, as shown (mirrored when the viewer flips)."""
        if self.state.mouse is None:
            return None
        r = self.renderer
        return layout.depth_pixel(self.state.mouse, r.layout, r.view, r.panel)

    def _source_pixel(self, point: tuple[int, int]) -> tuple[int, int]:
        """A depth panel pixel to the frame's own pixel (undoing the viewer's mirror)."""
        return (self.renderer.panel[0] - 1 - point[0], point[1]) if self.state.flip else point

    def _view_pixel(self, pixel: tuple[int, int]) -> tuple[int, int]:
        """A frame pixel to where the depth panel shows it (the inverse of _source_pixel)."""
        return self._source_pixel(pixel)

    def _panel_at(self, pos: tuple[int, int]) -> str | None:
        r = self.renderer
        for name in ("cloud", "depth", "video"):
            if layout.panel_point(pos, name, r.layout, r.view, r.panel) is not None:
                return name
        return None

    def facts(self, at: tuple[int, int] | None = None, drag: tuple[int, int] = (0, 0)) -> Facts:
        """What actions may need to know now; ``at`` a window point to resolve to a depth
        pixel and its point in metres (through the 3D view's pick in the 3D panel)."""
        frame, source = self.frame, self.source
        pixel: tuple[int, int] | None = None
        point = None
        r = self.renderer
        if at is not None and frame is not None:
            in_cloud = layout.panel_point(at, "cloud", r.layout, r.view, r.panel)
            if in_cloud is not None:
                geometry = r.geometry(frame.depth_format, frame.depth.shape)
                picked = pick(frame.depth, geometry, self.state.camera, r.panel, in_cloud)
                if picked is not None:
                    pixel, point = picked
            else:
                shown = layout.depth_pixel(at, r.layout, r.view, r.panel)
                if shown is not None:
                    pixel = self._source_pixel(shown)
                    depth, fmt = r.depth_shown(self.state, frame)
                    point = point_at(depth, r.geometry(fmt, depth.shape), *pixel)
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
        elif event.type == pygame.MOUSEMOTION:
            state.mouse = (int(event.pos[0]), int(event.pos[1]))
            self._drag(event)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button in (1, 3):
            pos = (int(event.pos[0]), int(event.pos[1]))
            state.mouse = pos
            self._press = (*pos, self._panel_at(pos))
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
                self._click((press[0], press[1]))
        elif event.type == pygame.MOUSEWHEEL:
            if state.layout.is_3d:
                self._run_action(actions.zoom, int(event.y))
        elif event.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
            if self.display.get_size() != self._requested_size:
                state.user_sized = True  # the user's doing, not a layout change's
            self.renderer.configure(state.layout)

    def _click(self, pos: tuple[int, int]) -> None:
        self.apply(actions.click(self.state, self.facts(pos), 0))

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

    def apply(self, effects: list[Effect]) -> None:
        """Carry out what an action asked for."""
        self._events += 1
        for effect in effects:
            self._apply(effect)

    def _apply(self, effect: Effect) -> None:
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
                    paths = self.snapshot()
                except OSError as exc:
                    self.say(f"snapshot failed: {exc}")
                    return
                self.say(f"saved {paths[0].name}")
                print("snapshot: " + " ".join(str(p) for p in paths), flush=True)
            case actions.StartRecording():
                self._start_recording()
            case actions.StopRecording():
                self.reader.set_recorder(None)
                self.say(f"recording saved to {state.recording}")
                print(f"recording: {state.recording}", flush=True)
                state.recording = None
            case actions.Relayout():
                if not state.user_sized and not self.options.fullscreen:
                    size = layout.native_size(state.layout, self.renderer.panel)
                    self._requested_size = size
                    pygame.display.set_mode(size, pygame.RESIZABLE)
                self.renderer.configure(state.layout)
                if state.layout.is_3d:
                    self.renderer.ensure_cloud()
            case actions.ToggleFullscreen():
                try:
                    pygame.display.toggle_fullscreen()
                except pygame.error as exc:
                    self.say(f"unsupported: fullscreen: {exc}")
                self.renderer.configure(state.layout)

    def _start_recording(self) -> None:
        from ..recording import RecordingWriter

        path = self.options.snapshot_dir / time.strftime("depthview-%Y%m%d-%H%M%S")
        try:
            writer = RecordingWriter(path, on_full="block", registration=self.source.registration)
        except (DepthviewError, OSError) as exc:
            self.say(f"cannot record: {exc}")
            return
        self.reader.set_recorder(writer)
        self.state.recording = path
        print(f"recording: {path}", flush=True)

    # -- files ----------------------------------------------------------------------------
    def snapshot(self) -> list[Path]:
        """Save the window as PNG and the raw depth as 16-bit PNG (with Pillow) and .npy."""
        folder = self.options.snapshot_dir
        folder.mkdir(parents=True, exist_ok=True)
        now = time.time()
        stem = folder / (
            time.strftime("depthview-%Y%m%d-%H%M%S", time.localtime(now))
            + f"-{int(now * 1e6) % 1_000_000:06d}"
        )
        paths = [stem.with_name(stem.name + ".png")]
        self.save_window(paths[0])
        if self.frame is not None:
            npy = stem.with_name(stem.name + "-depth.npy")
            np.save(npy, self.frame.depth)
            paths.append(npy)
            try:
                from PIL import Image
            except ImportError:
                pass
            else:
                png = stem.with_name(stem.name + "-depth.png")
                Image.fromarray(np.ascontiguousarray(self.frame.depth)).save(png)
                paths.append(png)
        self.snapshots.extend(paths)
        return paths

    def save_window(self, path: Path) -> None:
        """Save what the window shows now (read back from the window's surface)."""
        surface = pygame.display.get_surface()
        if surface is None:
            raise OSError("no window to save")
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            pygame.image.save(surface, str(path))
        except (OSError, pygame.error) as exc:
            raise OSError(f"{path}: cannot save the window ({exc})") from None

    @property
    def display(self) -> Surface:
        """The window's surface."""
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
        raise DepthviewError(str(exc)) from None
    if viewer.failed is not None:
        raise ViewerFailed(str(viewer.failed), stats)
    return stats


class ViewerFailed(DepthviewError):
    """The source failed while the viewer ran; ``stats`` are the figures up to then."""

    def __init__(self, message: str, stats: dict[str, object]) -> None:
        super().__init__(message)
        self.stats = stats
