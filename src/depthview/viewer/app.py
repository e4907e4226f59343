"""The viewer loop: a ``Viewer`` whose ``step()`` handles pending events and draws one
frame, so tests drive it event by event and inspect its state.

Depth reaches the screen through ``colorize_packed`` into a preallocated uint32 buffer in
the display surface's own byte order, copied into a persistent surface of the display's
format; video through a persistent surface over a preallocated buffer. Nothing the size of
a frame is allocated per frame unless the window is rotated by the accelerometer."""

from __future__ import annotations

import contextlib
import importlib
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pygame

from ..colorize import colorize_packed, resolve_range
from ..errors import DepthviewError, UnsupportedControl
from ..frame import TILT_MAX_DEG, TILT_MIN_DEG, Frame, LedMode, VideoFormat
from ..palettes import PALETTES, canonical_name
from ..sources.base import Source
from . import keys, layout, probe
from .hud import ERROR, TEXT, WARN, ColourBar, TextCache, byte_order, draw_lines, make_backdrop
from .layout import Layout, Rect
from .reader import FrameReader

Surface = Any  # pygame.Surface

LED_KEYS = {
    0: LedMode.OFF,
    1: LedMode.GREEN,
    2: LedMode.RED,
    3: LedMode.YELLOW,
    4: LedMode.BLINK_GREEN,
    5: LedMode.BLINK_GREEN,
    6: LedMode.BLINK_RED_YELLOW,
}
VIDEO_FORMATS = (VideoFormat.RGB, VideoFormat.YUV_RGB, VideoFormat.IR_8BIT)
RANGE_STEP = 0.1  # metres per [ ] { } press
MESSAGE_SECONDS = 3.0
HUD_REFRESH = 0.25  # seconds between updates of changing figures (fps)


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


@dataclass
class Stats:
    """Figures for ``--stats``."""

    frames_shown: int = 0
    last_index: int | None = None
    cpu_ms: list[float] = field(default_factory=list)
    started: float | None = None
    last: float | None = None

    def as_dict(self, dropped: int) -> dict[str, object]:
        """JSON-ready summary: per-frame CPU median and p95 (ms), display fps, drops."""
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


class Viewer:
    """One window on one source. ``step()`` processes events and draws; ``run()`` loops."""

    def __init__(self, source: Source, options: ViewerOptions | None = None) -> None:
        self.options = opts = options or ViewerOptions()
        self.source = source
        self.palette = canonical_name(opts.palette)
        self.near, self.far = opts.near, opts.far
        if self.palette == "glview" and (self.near is not None or self.far is not None):
            self.palette = "turbo"  # a range only means something for a metric palette
        self.layout = opts.layout
        self.hud = opts.hud
        self.help = False
        self.mirror = False
        self.flip = False  # mirroring done here because the source cannot
        self.rotate = False
        self.opacity = 0.5
        self.tilt = 0.0
        self.video_format_index = 0
        self.flags: dict[str, bool] = {f: False for f in keys.FLAGS}
        self.ir_brightness: int | None = None
        self.message = ""
        self.message_until = 0.0
        self.mouse: tuple[int, int] | None = None
        self.pinned: tuple[int, int] | None = None
        self.recording: Path | None = None
        self.snapshots: list[Path] = []
        self.frame: Frame | None = None
        self.quit = False
        self.stats = Stats()
        self.user_sized = opts.size is not None
        self._dirty = True
        self._wrapped_video: object = None
        self._wrapped: Surface = None
        self._target: int | None = None  # frame a step or restart asked for, until shown
        self._hud_next = 0.0
        self._hud_stale = True
        self._hud_lines: list[tuple[str, tuple[int, int, int]]] = []
        self._fps_mark = (time.perf_counter(), 0, 0)
        self._display_fps = 0.0
        self._source_fps = 0.0
        self._panel = (640, 480)
        self._mirror_buf: npt.NDArray[np.uint16] | None = None

        pygame.display.init()
        pygame.font.init()
        pygame.display.set_caption(opts.title)
        flags = pygame.RESIZABLE | (pygame.FULLSCREEN if opts.fullscreen else 0)
        self.display: Surface = pygame.display.set_mode(
            opts.size or layout.native_size(self.layout, self._panel), flags
        )
        self.text = TextCache(20)
        self.bar = ColourBar()
        self._setup_surfaces()
        if opts.mirror:
            self._toggle_mirror()
        # Build the colour table and load the compiled lookup now, not on the first frame,
        # so the first frames are not dropped while that happens.
        colorize_packed(
            np.zeros((1, 1), np.uint16),
            self.palette,
            order=self.order,
            near=self.near,
            far=self.far,
        )
        self.reader = FrameReader(source)
        self.reader.start()

    # -- buffers --------------------------------------------------------------------------
    def _setup_surfaces(self) -> None:
        """(Re)allocate everything sized by the panel or the window: at start, on resize."""
        w, h = self._panel
        d = self.display
        self.order = byte_order(d)
        self.depth_buf = np.zeros((h, w), dtype=np.uint32)
        self.depth_surf = pygame.Surface((w, h), 0, d)
        self.video_panel = pygame.Surface((w, h), 0, d)
        self.video_panel.fill((0, 0, 0))
        self.canvas = pygame.Surface(layout.native_size(self.layout, self._panel), 0, d)
        self._video_shape: tuple[tuple[int, ...], bool] | None = None
        self._resized()

    def _resized(self) -> None:
        self.display = pygame.display.get_surface()
        self.content = layout.native_size(self.layout, self._panel)
        self.rects = layout.panels(self.layout, self._panel)
        if self.canvas.get_size() != self.content:
            self.canvas = pygame.Surface(self.content, 0, self.display)
        self.view = layout.fit(self.display.get_size(), self.content)
        self.direct = self.view == Rect(0, 0, *self.content)
        self.scaled = (
            None
            if self.direct
            else self.display.subsurface(
                pygame.Rect(self.view.x, self.view.y, self.view.w, self.view.h)
            )
        )
        self.backdrop = make_backdrop(self.display.get_size())
        if byte_order(self.display) != self.order:
            self._setup_surfaces()
        self._dirty = True

    def _video_surface(self, video: npt.NDArray[Any], fmt: VideoFormat | None) -> Surface:
        """A persistent surface over a preallocated buffer holding this frame's video."""
        grey = video.ndim == 2 or (fmt is not None and fmt.is_ir)
        shape = video.shape[:2] + (() if grey else (3,))
        if self._video_shape != (shape, grey):
            self._video_shape = (shape, grey)
            buf: npt.NDArray[np.uint8] = np.zeros(shape, dtype=np.uint8)
            self.video_buf = buf
            size = (shape[1], shape[0])
            if grey:
                self.video_surf = pygame.image.frombuffer(buf.data, size, "P")
                self.video_surf.set_palette([(i, i, i) for i in range(256)])
            else:
                self.video_surf = pygame.image.frombuffer(buf.data, size, "RGB")
        if video.ndim == 3 and grey:
            np.copyto(self.video_buf, video[:, :, 0])
        elif video.dtype == np.uint16:  # IR 10-bit: keep the top 8 of 10 bits for display
            np.right_shift(video, 2, out=self.video_buf, casting="unsafe")
        else:
            np.copyto(self.video_buf, video)
        return self.video_surf

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> dict[str, object]:
        """Loop until quit; close the window and the source; return the ``--stats`` figures."""
        try:
            while not self.quit:
                if not self.step():
                    time.sleep(0.002)
        except KeyboardInterrupt:
            self.quit = True
        finally:
            if self.options.screenshot is not None and pygame.display.get_init():
                self.save_window(self.options.screenshot)
            self.close()
        return self.stats.as_dict(self.reader.dropped)

    def close(self) -> None:
        """Stop the reader (closing the source and any recording) and the window."""
        self.reader.stop()
        self.recording = None
        pygame.display.quit()

    def step(self) -> bool:
        """Handle pending events, take the newest frame, draw if anything changed.

        Returns True when a frame was drawn."""
        for event in pygame.event.get():
            self.handle_event(event)
            self._hud_stale = True
        if self.quit:
            return False
        new = self.reader.latest()
        if new is not None:
            self.frame = new
            if new.index == self._target:
                self._target = None
            if self.reader.paused:  # stepping: show the new position at once
                self._hud_stale = True
            self._dirty = True
        now = time.perf_counter()
        if now >= self._hud_next:
            self._update_rates(now)
            self._hud_next = now + HUD_REFRESH
            self._hud_stale = True
            self._dirty = True
        if self.message and now > self.message_until:
            self.message = ""
            self._dirty = self._hud_stale = True
        if not self._dirty:
            if (
                self.options.frames is not None
                and (self.reader.ended or self.reader.error is not None)
                and self.reader.latest() is None
            ):
                self.quit = True  # --frames N: a source that ended or failed ends the run
            return False
        cpu = time.thread_time()
        self.draw()
        pygame.display.flip()
        self.stats.cpu_ms.append((time.thread_time() - cpu) * 1000.0)
        self._dirty = False
        if new is not None:
            if self.stats.frames_shown == 0:  # rates count from the first frame, not start-up
                self._fps_mark = (now, 0, self.reader.frames_read - 1)
            self.stats.frames_shown += 1
            self.stats.last_index = new.index
            self.stats.started = self.stats.started or now
            self.stats.last = now
            if self.options.frames is not None and self.stats.frames_shown >= self.options.frames:
                self.quit = True
        return True

    def _update_rates(self, now: float) -> None:
        t0, shown0, read0 = self._fps_mark
        if now - t0 >= 0.5:
            self._display_fps = (self.stats.frames_shown - shown0) / (now - t0)
            self._source_fps = (self.reader.frames_read - read0) / (now - t0)
            self._fps_mark = (now, self.stats.frames_shown, self.reader.frames_read)

    # -- drawing --------------------------------------------------------------------------
    def draw(self) -> None:
        """Compose the picture (native size, or scaled into the letterboxed view) and HUD."""
        if not self.direct or self.rotate:
            self.display.fill((0, 0, 0))  # letterbox bars
        target = self.display if self.direct and not self.rotate else self.canvas
        frame = self.frame
        rects = self.rects
        if frame is not None:
            if "video" in rects:
                target.blit(self._video_panel_for(frame), rects["video"].topleft)
            if "depth" in rects:
                self._colour_depth(frame)
                overlay = self.layout is Layout.OVERLAY
                self.depth_surf.set_alpha(round(self.opacity * 255) if overlay else None)
                target.blit(self.depth_surf, rects["depth"].topleft)
        elif target is not self.display:
            target.fill((0, 0, 0))
        if target is self.canvas:
            if self.rotate and frame is not None and frame.accel is not None:
                turned = pygame.transform.rotate(self.canvas, -self._roll(frame.accel))
                fitted = pygame.transform.scale(
                    turned, layout.fit(self.view.size, turned.get_size()).size
                )
                self.display.blit(fitted, fitted.get_rect(center=self._view_center()))
            elif self.scaled is not None:
                pygame.transform.scale(self.canvas, self.view.size, self.scaled)
            else:
                self.display.blit(self.canvas, (0, 0))
        if self.hud:
            self._draw_hud()
        elif self.reader.error is not None:
            draw_lines(
                self.display, self.text, [(self._error_text(), ERROR)], (4, 4), self.backdrop
            )

    def _view_center(self) -> tuple[int, int]:
        return (self.view.x + self.view.w // 2, self.view.y + self.view.h // 2)

    @staticmethod
    def _roll(accel: tuple[float, float, float]) -> float:
        """Camera roll in degrees from gravity; 0 when the Kinect stands level."""
        ax, ay, _ = accel
        return math.degrees(math.atan2(ax, ay) if ay >= 0 else math.atan2(-ax, -ay))

    def _depth_for_display(self, frame: Frame) -> npt.NDArray[np.uint16]:
        if not self.flip:
            return frame.depth
        if self._mirror_buf is None or self._mirror_buf.shape != frame.depth.shape:
            self._mirror_buf = np.empty_like(frame.depth)
        np.copyto(self._mirror_buf, frame.depth[:, ::-1])
        return self._mirror_buf

    def _colour_depth(self, frame: Frame) -> None:
        depth = self._depth_for_display(frame)
        if depth.shape != self.depth_buf.shape:
            self._panel = (depth.shape[1], depth.shape[0])
            self._setup_surfaces()
        if self.palette == "glview" and not frame.depth_format.is_raw:
            self.palette = "turbo"
            self.say("glview maps raw values; this source gives millimetres: using turbo")
        # Colour straight into the persistent surface's pixels when its rows are packed
        # (the usual case); otherwise through the preallocated buffer and one copy.
        view = self.depth_surf.get_view("2")
        pixels = np.asarray(view).T
        direct = pixels.flags.c_contiguous and pixels.dtype == np.uint32
        colorize_packed(
            depth,
            self.palette,
            order=self.order,
            near=self.near,
            far=self.far,
            depth_format=frame.depth_format,
            out=pixels if direct else self.depth_buf,
        )
        if not direct:
            np.copyto(pixels, self.depth_buf, casting="unsafe")
        del pixels, view  # unlock the surface before it is blitted

    def _video_panel_for(self, frame: Frame) -> Surface:
        if frame.video is None:
            self.video_panel.fill((24, 24, 24))
            return self.video_panel
        video = frame.video[:, ::-1] if self.flip else frame.video
        plain_rgb = video.ndim == 3 and video.dtype == np.uint8 and video.shape[2] == 3
        if plain_rgb and video.flags.c_contiguous:
            # Wrap the frame's own pixels: a surface header, no pixel copy.
            if video is not self._wrapped_video:
                self._wrapped_video = video
                self._wrapped = pygame.image.frombuffer(
                    video.data, (video.shape[1], video.shape[0]), "RGB"
                )
            surf = self._wrapped
        else:
            surf = self._video_surface(video, frame.video_format)
        if surf.get_size() == self._panel:
            return surf
        pygame.transform.scale(surf, self._panel, self.video_panel)
        return self.video_panel

    def _error_text(self) -> str:
        return f"source failed: {self.reader.error}"

    def hud_lines(self) -> list[tuple[str, tuple[int, int, int]]]:
        """The HUD's text, top to bottom (inspectable by tests)."""
        lines: list[tuple[str, tuple[int, int, int]]] = []
        frame = self.frame
        where = self.source.name
        if self.source.seekable and frame is not None:
            try:
                where += f"  frame {frame.index + 1}/{len(self.source)}"
            except TypeError:
                where += f"  frame {frame.index + 1}"
        lines.append((where, TEXT))
        measured = self._fps_mark[1] > 0 or self._display_fps > 0  # half a second has passed
        display, read = (
            (f"{self._display_fps:.1f}", f"{self._source_fps:.1f}") if measured else ("--", "--")
        )
        lines.append(
            (f"display {display} fps  source {read} fps  dropped {self.reader.dropped}", TEXT)
        )
        lines.append((f"palette {self.palette}  {self.range_text()}", TEXT))
        if frame is not None and (frame.tilt_deg is not None or frame.accel is not None):
            parts = []
            if frame.tilt_deg is not None:
                parts.append(f"tilt {frame.tilt_deg:+.1f} deg")
            if frame.accel is not None:
                parts.append("accel " + " ".join(f"{a:+.2f}" for a in frame.accel) + " m/s2")
            lines.append(("  ".join(parts), TEXT))
        states = [
            s
            for s, on in (
                ("PAUSED", self.reader.paused),
                ("mirror", self.mirror),
                ("rotate", self.rotate),
            )
            if on
        ]
        if self.reader.ended:
            states.append("end of source")
        if states:
            lines.append(("  ".join(states), WARN))
        if self.recording is not None:
            lines.append((f"REC {self.recording}", ERROR))
        if self.reader.record_error is not None:
            lines.append((f"recording stopped: {self.reader.record_error}", ERROR))
        for label, point in (("probe", self._mouse_pixel()), ("pin", self.pinned)):
            if point is not None and frame is not None:
                reading = probe.read(frame.depth, frame.depth_format, *self._source_pixel(point))
                if reading is not None:
                    lines.append((f"{label} {reading.text}", TEXT))
        if self.message:
            lines.append((self.message, WARN))
        if self.reader.error is not None:
            lines.append((self._error_text(), ERROR))
        return lines

    def range_text(self) -> str:
        """``"raw disparity"``, ``"auto (equalised)"`` or ``"0.50-4.50 m"``."""
        if self.palette == "glview":
            return "raw disparity (glview)"
        if self.near is None and self.far is None:
            return "auto (equalised)"
        lo, hi = resolve_range(self.near, self.far)
        return f"{lo:.2f}-{hi:.2f} m"

    def _draw_hud(self) -> None:
        if self._hud_stale:  # at most a few times a second, or when something changed
            self._hud_lines = self.hud_lines()
            self._hud_stale = False
        draw_lines(self.display, self.text, self._hud_lines, (4, 4), self.backdrop)
        self._draw_probe_marks()
        video_rect = self.rects.get("video")
        if self.frame is not None and self.frame.video is None and video_rect is not None:
            label = self.text.render(f"{self.source.name}: no video in this source", WARN)
            cx, cy = layout.content_to_window(
                (video_rect.x + video_rect.w / 2, video_rect.y + video_rect.h / 2),
                self.view,
                self.content,
            )
            self.display.blit(label, label.get_rect(center=(cx, cy)))
        if self.palette != "glview" and "depth" in self.rects:
            self._draw_colour_bar()
        if self.help:
            lines = [(line, TEXT) for line in keys.help_lines()]
            x = max(4, self.display.get_width() // 2 - 180)
            draw_lines(self.display, self.text, lines, (x, 30), self.backdrop)

    def _draw_probe_marks(self) -> None:
        rect = self.rects.get("depth")
        if rect is None:
            return
        for point, colour in ((self._mouse_pixel(), (255, 255, 255)), (self.pinned, WARN)):
            if point is None:
                continue
            cx, cy = layout.content_to_window(
                (rect.x + point[0] + 0.5, rect.y + point[1] + 0.5), self.view, self.content
            )
            pygame.draw.line(self.display, colour, (cx - 6, cy), (cx + 6, cy))
            pygame.draw.line(self.display, colour, (cx, cy - 6), (cx, cy + 6))

    def _draw_colour_bar(self) -> None:
        frame = self.frame
        if frame is None:
            return
        rect = self.rects["depth"]
        right, top = layout.content_to_window((rect.x + rect.w, rect.y), self.view, self.content)
        x, y = right - self.bar.width - 60, top + 30
        if self.near is None and self.far is None:
            self.bar.update(self.palette, None, None, frame.depth_format, self.display)
            labels = [(0, "near"), (self.bar.height - 1, "far (equalised)")]
        else:
            self.bar.update(self.palette, self.near, self.far, frame.depth_format, self.display)
            labels = self.bar.labels
        self.display.blit(self.bar.surface, (x, y))
        for dy, label in labels:
            surf = self.text.render(label)
            self.display.blit(surf, (x + self.bar.width + 3, y + dy - surf.get_height() // 2))

    # -- mapping the mouse ----------------------------------------------------------------
    def _mouse_pixel(self) -> tuple[int, int] | None:
        if self.mouse is None:
            return None
        return layout.depth_pixel(self.mouse, self.layout, self.view, self._panel)

    def _source_pixel(self, point: tuple[int, int]) -> tuple[int, int]:
        """A depth panel pixel to the frame's own pixel (undoing the viewer's mirror)."""
        return (self._panel[0] - 1 - point[0], point[1]) if self.flip else point

    # -- events and actions ---------------------------------------------------------------
    def handle_event(self, event: Any) -> None:
        """Turn one pygame event into state changes."""
        self._dirty = True
        if event.type == pygame.QUIT:
            self.quit = True
        elif event.type == pygame.KEYDOWN:
            action = keys.lookup(getattr(event, "unicode", ""), pygame.key.name(event.key))
            if action is not None:
                self.act(*action)
        elif event.type == pygame.MOUSEMOTION:
            self.mouse = (int(event.pos[0]), int(event.pos[1]))
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self.mouse = (int(event.pos[0]), int(event.pos[1]))
            self.act("pin", 0)
        elif event.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
            self.user_sized = True
            self._resized()

    def say(self, message: str) -> None:
        """Show a short message in the HUD for a few seconds."""
        self.message = message
        self.message_until = time.perf_counter() + MESSAGE_SECONDS

    def _control(self, call: Any, *args: Any) -> bool:
        """Run a source control; report in the HUD when the source cannot do it."""
        try:
            call(*args)
        except UnsupportedControl as exc:
            self.say(f"unsupported: {exc}")
            return False
        except DepthviewError as exc:
            self.say(f"failed: {exc}")
            return False
        return True

    def act(self, action: str, arg: int = 0) -> None:
        """Carry out one action from the key table."""
        handler = getattr(self, f"_do_{action}")
        handler(arg)

    def _do_quit(self, arg: int) -> None:
        self.quit = True

    def _do_tilt(self, arg: int) -> None:
        self.tilt = min(TILT_MAX_DEG, max(TILT_MIN_DEG, self.tilt + arg))
        self._control(self.source.set_tilt, self.tilt)

    def _do_level(self, arg: int) -> None:
        self.tilt = 0.0
        self._control(self.source.set_tilt, 0.0)

    def _do_led(self, arg: int) -> None:
        self._control(self.source.set_led, LED_KEYS[arg])

    def _do_video_format(self, arg: int) -> None:
        nxt = (self.video_format_index + 1) % len(VIDEO_FORMATS)
        if self._control(self.source.set_video_format, VIDEO_FORMATS[nxt]):
            self.video_format_index = nxt
            self.say(f"video format {VIDEO_FORMATS[nxt].name}")

    def _toggle_mirror(self) -> None:
        self.mirror = not self.mirror
        try:
            self.source.set_flag("mirror_depth", self.mirror)
            self.source.set_flag("mirror_video", self.mirror)
            self.flip = False
        except DepthviewError:
            self.flip = self.mirror  # the source cannot: flip the picture here
        self.pinned = None

    def _do_mirror(self, arg: int) -> None:
        self._toggle_mirror()

    def _do_rotate(self, arg: int) -> None:
        self.rotate = not self.rotate
        if self.rotate and (self.frame is None or self.frame.accel is None):
            self.say("no accelerometer reading: the picture stays upright")

    def _do_flag(self, arg: int) -> None:
        name = keys.FLAGS[arg]
        want = not self.flags[name]
        if self._control(self.source.set_flag, name, want):
            self.flags[name] = want
            self.say(f"{name.replace('_', ' ')} {'on' if want else 'off'}")

    def _do_ir(self, arg: int) -> None:
        if self.ir_brightness is None:
            try:
                self.ir_brightness = self.source.get_ir_brightness()
            except DepthviewError:
                self.ir_brightness = 25
        value = min(50, max(1, self.ir_brightness + arg))
        if self._control(self.source.set_ir_brightness, value):
            self.ir_brightness = value
            self.say(f"IR brightness {value}")

    def _do_palette(self, arg: int) -> None:
        names = list(PALETTES)
        raw = self.frame is None or self.frame.depth_format.is_raw
        if not raw or self.near is not None or self.far is not None:
            names.remove("glview")
        i = names.index(self.palette) if self.palette in names else -1 if arg > 0 else 0
        self.palette = names[(i + arg) % len(names)]

    def _adjust_range(self, end: str, arg: int) -> None:
        if self.palette == "glview":
            self.say("glview maps raw values and has no range: press c for a metric palette")
            return
        lo, hi = resolve_range(self.near, self.far)
        if end == "near":
            lo = min(max(0.0, round(lo + arg * RANGE_STEP, 3)), round(hi - RANGE_STEP, 3))
        else:
            hi = max(round(hi + arg * RANGE_STEP, 3), round(lo + RANGE_STEP, 3))
        self.near, self.far = lo, hi

    def _do_near(self, arg: int) -> None:
        self._adjust_range("near", arg)

    def _do_far(self, arg: int) -> None:
        self._adjust_range("far", arg)

    def _do_auto_range(self, arg: int) -> None:
        if self.palette == "glview":
            self.palette = "turbo"
        self.near = self.far = None

    def _do_pause(self, arg: int) -> None:
        self.reader.set_paused(not self.reader.paused)

    def _do_step(self, arg: int) -> None:
        self.reader.set_paused(True)
        if self.source.seekable:
            # Relative to the last step asked for, so quick presses are not lost.
            current = self.frame.index if self.frame is not None else -1
            base = self._target if self._target is not None else current
            target = max(0, base + arg)
            with contextlib.suppress(TypeError):
                target = min(target, len(self.source) - 1)
            self._target = target
            self.reader.request("seek", target)
        elif arg > 0:
            self.reader.request("one")
        else:
            self.say(f"unsupported: {self.source.name} cannot step back: it is not a recording")

    def _do_restart(self, arg: int) -> None:
        if self.source.seekable:
            self._target = 0
            self.reader.request("seek", 0)
        else:
            self.say(f"unsupported: {self.source.name} cannot restart: it is not a recording")

    def _do_layout(self, arg: int) -> None:
        self.layout = self.layout.next()
        if not self.user_sized and not self.options.fullscreen:
            pygame.display.set_mode(layout.native_size(self.layout, self._panel), pygame.RESIZABLE)
        self._resized()

    def _do_hud(self, arg: int) -> None:
        self.hud = not self.hud

    def _do_help(self, arg: int) -> None:
        self.help = not self.help
        if self.help:
            self.hud = True

    def _do_opacity(self, arg: int) -> None:
        self.opacity = min(1.0, max(0.0, round(self.opacity + 0.1 * arg, 2)))
        self.say(f"overlay opacity {self.opacity:.0%}")

    def _do_pin(self, arg: int) -> None:
        point = self._mouse_pixel()
        self.pinned = None if self.pinned is not None and point in (None, self.pinned) else point

    def _do_fullscreen(self, arg: int) -> None:
        try:
            pygame.display.toggle_fullscreen()
        except pygame.error as exc:
            self.say(f"unsupported: fullscreen: {exc}")
        self._resized()

    def _do_snapshot(self, arg: int) -> None:
        try:
            paths = self.snapshot()
        except OSError as exc:
            self.say(f"snapshot failed: {exc}")
            return
        self.say(f"saved {paths[0].name}")
        print("snapshot: " + " ".join(str(p) for p in paths), flush=True)

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
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        surface = pygame.display.get_surface()
        if surface is None:
            raise OSError("no window to save")
        pygame.image.save(surface, str(path))

    def _do_record(self, arg: int) -> None:
        if self.recording is not None:
            self.reader.set_recorder(None)
            self.say(f"recording saved to {self.recording}")
            print(f"recording: {self.recording}", flush=True)
            self.recording = None
            return
        try:
            recording = importlib.import_module("depthview.recording")
        except ImportError:
            self.say("recording unavailable: depthview.recording is not installed")
            return
        path = self.options.snapshot_dir / time.strftime("depthview-%Y%m%d-%H%M%S")
        try:
            writer = recording.RecordingWriter(path)
        except (DepthviewError, OSError) as exc:
            self.say(f"cannot record: {exc}")
            return
        self.reader.set_recorder(writer)
        self.recording = path
        print(f"recording: {path}", flush=True)


def run_viewer(source: Source, options: ViewerOptions | None = None) -> dict[str, object]:
    """Open a window on ``source`` and run until the user quits; returns the stats."""
    viewer = Viewer(source, options)
    stats = viewer.run()
    error = viewer.reader.error
    if error is not None and options is not None and options.frames is not None:
        if isinstance(error, DepthviewError):
            raise error  # one line and exit 2 from the command line
        sys.stderr.write(f"depthview: source failed: {error}\n")
    return stats
