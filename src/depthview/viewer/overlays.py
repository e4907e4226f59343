"""What is drawn over the panels: HUD, help, messages, colour bar, probe and measuring
marks, and the labels of empty panels, as small drawers placed by one planner.

``plan()`` decides where every overlay goes for the window's size and returns them as
``Placed`` items (a name, a rectangle in window pixels, a draw function); ``draw()`` draws
them. The planner keeps its promises, which ``tests/test_viewer_overlays.py`` checks at many
sizes: text boxes and the colour bar never overlap, each stays inside the window, the colour
bar and its labels inside the depth panel, and the help replaces the HUD and reflows into
columns (or shrinks) to fit. The HUD lies on the picture, or over the window where the
picture is too narrow or short to hold it whole. Marks (probe crosses, measuring points)
sit on the picture and are exempt. Text is DejaVu Sans Mono, shipped in ``viewer/fonts``,
sized by the window; a character it has no glyph for is written as its escape.

A new overlay is a drawer here: compute its rectangle in ``plan`` against those already
placed, and append a ``Placed``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pygame

from ..colorize import Equalizer, colorize_packed, resolve_range
from ..filters import PRESETS
from ..frame import DepthFormat
from ..palettes import palette_samples
from ..units import from_metres
from . import keys
from .layout import Layout, Rect
from .present import byte_order
from .state import ViewState

Surface = Any  # pygame.Surface
RGB = tuple[int, int, int]

FONT_PATH = Path(__file__).with_name("fonts") / "DejaVuSansMono.ttf"
TEXT: RGB = (255, 255, 255)
WARN: RGB = (255, 200, 80)
ERROR: RGB = (255, 90, 90)
BACKDROP = (0, 0, 0, 160)
MARGIN = 4
PAD = 3
BAR_WIDTH = 12
ELLIPSIS = "\u2026"


def font_size(window: tuple[int, int]) -> int:
    """Text size in pixels for a window: 10 in a 320x240 window, up to 16 in large ones."""
    return int(min(16, max(10, min(window[1] // 30, window[0] // 40))))


class Text:
    """The shipped monospace font at any size, and rendered strings cached by content."""

    def __init__(self, limit: int = 512) -> None:
        self._fonts: dict[int, Any] = {}
        self._cache: dict[tuple[str, RGB, int], Surface] = {}
        self._limit = limit
        self.renders = 0
        self._glyphs: Any = None  # the font through pygame.freetype: which glyphs it has
        self._has: dict[str, bool] = {}

    def font(self, size: int) -> Any:
        """The font at ``size`` pixels."""
        font = self._fonts.get(size)
        if font is None:
            font = self._fonts[size] = pygame.font.Font(str(FONT_PATH), size)
        return font

    def line_height(self, size: int) -> int:
        """Pixels from one line to the next."""
        return int(self.font(size).get_linesize())

    def char_width(self, size: int) -> int:
        """Advance of one character (the font is monospaced)."""
        return int(self.font(size).size("M")[0])

    def printable(self, text: str) -> str:
        """``text`` with each character the font has no glyph for (CJK, control characters)
        written as its Python escape (``\\u6570``): drawn, it would be an empty box, and a
        source named so could not be told from another (trial P)."""
        if text.isascii() and text.isprintable():
            return text
        if self._glyphs is None:
            import pygame.freetype

            pygame.freetype.init()
            self._glyphs = pygame.freetype.Font(str(FONT_PATH), 12)
        out = []
        for char in text:
            has = self._has.get(char)
            if has is None:
                has = char.isprintable() and self._glyphs.get_metrics(char)[0] is not None
                self._has[char] = has
            out.append(char if has else char.encode("unicode_escape").decode("ascii"))
        return "".join(out)

    def render(self, text: str, colour: RGB, size: int) -> Surface:
        """The surface for ``text``, rendered once."""
        key = (text, colour, size)
        surf = self._cache.get(key)
        if surf is None:
            if len(self._cache) >= self._limit:
                self._cache.clear()
            surf = self._cache[key] = self.font(size).render(text, True, colour)
            self.renders += 1
        return surf

    def fit(self, text: str, width: int, size: int) -> str:
        """``text`` cut with an ellipsis to fit ``width`` pixels."""
        room = max(0, width // self.char_width(size))
        if len(text) <= room:
            return text
        return text[: max(0, room - 1)] + ELLIPSIS if room > 0 else ""

    def wrap(self, text: str, width: int, size: int, max_lines: int = 3) -> list[str]:
        """``text`` broken at spaces into lines of at most ``width`` pixels (a word longer
        than a line, such as a path, is broken where the line ends)."""
        room = max(1, width // self.char_width(size))
        lines: list[str] = []
        line = ""
        words = [w[i : i + room] for w in text.split(" ") for i in range(0, max(1, len(w)), room)]
        for word in words:
            candidate = f"{line} {word}" if line else word
            if len(candidate) <= room:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word
        lines.append(line)
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            lines[-1] = lines[-1] + ELLIPSIS
        return [self.fit(s, width, size) for s in lines]


@dataclass(frozen=True)
class Info:
    """What the loop knows beyond the state, for the overlays."""

    source: str = ""
    position: str = ""
    display_fps: float | None = None
    source_fps: float | None = None
    dropped: int = 0
    ended: bool = False
    error: str | None = None
    record_error: str | None = None
    probe: tuple[str, ...] = ()
    depth_format: DepthFormat | None = None
    has_video: bool = True
    cloud_error: str | None = None
    #: Where the measured points fall in the window, and the probe and pin marks.
    marks: tuple[tuple[int, int, RGB], ...] = ()
    measure_line: tuple[tuple[int, int], tuple[int, int]] | None = None
    tilt_accel: str = ""
    #: What the registration does in this layout, or why it does not ("": nothing to say).
    registration: str = ""
    #: The source's ``units_guess``: said on the HUD, as the numbers shown depend on it.
    units_guess: str = ""
    #: Which draws the 3D view's points, e.g. "3D on the CPU (llvmpipe ...)" ("": no 3D).
    points: str = ""


@dataclass(frozen=True)
class Placed:
    """One overlay: its name, where it goes, and how to draw it. ``solid`` ones never
    overlap each other."""

    name: str
    rect: Rect
    draw: Callable[[Surface], None]
    solid: bool = True
    panel: str | None = None  # the panel it must stay inside, if any
    text: tuple[str, ...] = ()  # the lines a text box shows, as drawn


@dataclass
class Overlays:
    """The planner and its caches (text, colour bar, help), one per window."""

    text: Text = field(default_factory=Text)
    _backdrop: Surface = None
    _bar_key: tuple[object, ...] | None = None
    _bar: Surface = None
    _bar_labels: list[tuple[float, str]] = field(default_factory=list)
    _help_key: tuple[object, ...] | None = None
    _help: Surface = None

    # -- pieces ---------------------------------------------------------------------------
    def backdrop(self, size: tuple[int, int]) -> Surface:
        """A translucent black rectangle at least ``size``, made once per window size."""
        have = self._backdrop
        if have is None or have.get_width() < size[0] or have.get_height() < size[1]:
            self._backdrop = pygame.Surface(size, pygame.SRCALPHA)
            self._backdrop.fill(BACKDROP)
        return self._backdrop

    def _text_box(
        self, lines: list[tuple[str, RGB]], pos: tuple[int, int], size: int
    ) -> tuple[Rect, Callable[[Surface], None]]:
        surfaces = [self.text.render(s, c, size) for s, c in lines]
        step = self.text.line_height(size)
        w = max((s.get_width() for s in surfaces), default=0) + 2 * PAD
        h = step * len(surfaces) + 2 * PAD
        rect = Rect(pos[0], pos[1], w, h)

        def draw(target: Surface) -> None:
            target.blit(self.backdrop(target.get_size()), rect.topleft, (0, 0, w, h))
            for i, surf in enumerate(surfaces):
                target.blit(surf, (rect.x + PAD, rect.y + PAD + i * step))

        return rect, draw

    # -- the plan -------------------------------------------------------------------------
    def plan(
        self,
        state: ViewState,
        info: Info,
        panels: dict[str, Rect],
        display: Surface,
        equalizer: Equalizer | None = None,
    ) -> list[Placed]:
        """Every overlay for the window ``display``, placed."""
        window = display.get_size()
        size = font_size(window)
        placed: list[Placed] = []
        if not state.hud and not state.help:
            if info.error:  # a failure always shows
                placed.append(self._messages(info, state, window, size, None, now_only=True))
            return [p for p in placed if p.rect.w > 0]
        bar = None
        if not state.help and "depth" in panels and state.palette != "glview":
            bar = self._colour_bar(state, info, panels["depth"], size, display, equalizer)
            if bar is not None:
                placed.extend(bar)
        bar_rect = bar[0].rect if bar else None
        msgs = self._messages(info, state, window, size, bar_rect)
        if msgs.rect.h > 0:
            placed.append(msgs)
        top_limit = (msgs.rect.y if msgs.rect.h > 0 else window[1] - MARGIN) - MARGIN
        if state.help:
            box = Rect(MARGIN, MARGIN, window[0] - 2 * MARGIN, top_limit - MARGIN)
            placed.append(self._help_box(box))
            return placed
        # The HUD sits on the picture (a letterboxed window has bars beside it), and a line
        # too long for it goes on over the next rather than being cut. A picture too narrow
        # or too short to hold it whole (a 240x640 or a 4000x3 array in a 640x480 window)
        # has it over the window instead: nothing of it is lost, the units guess above all.
        whole_window = Rect(0, 0, *window)
        picture = _bounds(panels.values()) or whole_window
        hud, whole = self._hud(state, info, picture, top_limit, bar_rect, size)
        if not whole and picture != whole_window:
            hud, _ = self._hud(state, info, whole_window, top_limit, bar_rect, size)
        if hud is not None:
            placed.append(hud)
        for name, text in (
            ("no-video", f"{info.source}: no video in this source" if not info.has_video else ""),
            ("no-3d", info.cloud_error or ""),
        ):
            panel = panels.get("video" if name == "no-video" else "cloud")
            if text and panel is not None:
                label = self._label(text, panel, size, [p.rect for p in placed if p.solid])
                if label is not None:
                    placed.append(Placed(name, label[0], label[1], panel=name))
        placed.extend(self._marks(info, panels))
        return placed

    def _hud(
        self,
        state: ViewState,
        info: Info,
        area: Rect,
        top_limit: int,
        bar: Rect | None,
        size: int,
    ) -> tuple[Placed | None, bool]:
        """The HUD at ``area``'s top-left corner, its lines wrapped to ``area``'s width (left
        of the colour bar ``bar`` where they would meet it) and above ``top_limit``; and
        whether every character meant is drawn (nothing cut, no line lost at the bottom)."""
        step = self.text.line_height(size)
        x0, y0 = area.x + MARGIN, area.y + MARGIN
        bottom = min(top_limit, area.bottom - MARGIN)
        max_lines = max(0, (bottom - y0 - 2 * PAD) // step)
        width = area.w - 2 * MARGIN - 2 * PAD
        natural = Rect(x0, y0, width + 2 * PAD, max_lines * step + 2 * PAD)
        if bar is not None and natural.intersects(bar):
            width = bar.x - x0 - MARGIN - 2 * PAD
        meant = [(self.text.printable(s), c) for s, c in self.hud_lines(state, info)]
        if meant and width > 0:  # the first line: the source and where in it
            meant[0] = (self._title(info, width, size), meant[0][1])
        wrapped = [
            (part, c)
            for s, c in meant
            for part in (self.text.wrap(s, width, size) if width > 0 else [])
        ]
        lines = [(s, c) for s, c in wrapped[:max_lines] if s]
        whole = _letters(s for s, _ in lines) == _letters(s for s, _ in meant)
        if not lines:
            return None, whole
        rect, draw = self._text_box(lines, (x0, y0), size)
        return Placed("hud", rect, draw, text=tuple(s for s, _ in lines)), whole

    def _title(self, info: Info, width: int, size: int) -> str:
        """The HUD's first line, the source and its position, in at most two lines of
        ``width``: a name too long for them is shortened from its start (trial U: a long
        path lost the frame counter), so the position and the name's end (the recording's
        own folder) stay."""
        source = self.text.printable(info.source)
        room = 2 * max(1, width // self.text.char_width(size)) - len(info.position) - 4
        if len(source) > room:  # (the 4: the two spaces before the position, a wrap's)
            source = ELLIPSIS + source[len(source) - max(1, room - 1) :]
        return f"{source}  {info.position}".rstrip()

    def hud_lines(self, state: ViewState, info: Info) -> list[tuple[str, RGB]]:
        """The HUD's text, top to bottom, most important first."""
        lines: list[tuple[str, RGB]] = [(f"{info.source}  {info.position}".rstrip(), TEXT)]
        shown = "--" if info.display_fps is None else f"{info.display_fps:.1f}"
        read = "--" if info.source_fps is None else f"{info.source_fps:.1f}"
        lines.append((f"fps {shown} shown {read} read  dropped {info.dropped}", TEXT))
        lines.append((f"palette {state.palette}  {range_text(state)}", TEXT))
        if info.units_guess:
            lines.append((info.units_guess, WARN))
        lines.extend((s, TEXT) for s in filter_lines(state))
        if info.registration:
            lines.append((info.registration, TEXT))
        if info.points:
            lines.append((info.points, TEXT))
        lines.extend((s, TEXT) for s in info.probe)
        if state.measuring or state.measure:
            d = state.distance()
            if d is not None:
                lines.append((f"distance {d:.3f} m", WARN))
            else:
                lines.append((f"measuring: click point {len(state.measure) + 1} of 2", WARN))
        flags = [
            s
            for s, on in (
                ("PAUSED", state.paused),
                ("mirror", state.mirror),
                ("upright", state.rotate),
                ("end of source", info.ended),
            )
            if on
        ]
        if flags:
            lines.append(("  ".join(flags), WARN))
        if state.recording is not None:
            lines.append((f"REC {state.recording}", ERROR))
        if info.tilt_accel:
            lines.append((info.tilt_accel, TEXT))
        if state.layout.is_3d:
            cam = state.camera
            lines.append(
                (f"3D yaw {cam.yaw:+.0f} pitch {cam.pitch:+.0f} at {cam.distance:.2f} m", TEXT)
            )
        return lines

    def _messages(
        self,
        info: Info,
        state: ViewState,
        window: tuple[int, int],
        size: int,
        bar: Rect | None,
        now_only: bool = False,
    ) -> Placed:
        """The bottom-left box: the latest message and any failure, wrapped to fit."""
        width = window[0] - 2 * MARGIN - 2 * PAD
        if bar is not None:
            width = min(width, bar.x - 2 * MARGIN - 2 * PAD)
        texts = []
        if state.message and not now_only:
            texts.append((state.message, WARN))
        if info.record_error and not now_only:
            texts.append((f"recording stopped: {info.record_error}", ERROR))
        if info.error:
            texts.append((f"source failed: {info.error}", ERROR))
        step = self.text.line_height(size)
        room = max(0, (window[1] // 2 - 2 * PAD) // step)
        lines = [
            (s, c)
            for t, c in texts
            for s in self.text.wrap(self.text.printable(t), width, size, max(1, room))
        ]
        lines = lines[-room:] if room else []
        if not lines or width <= 0:
            return Placed("messages", Rect(MARGIN, window[1] - MARGIN, 0, 0), lambda _: None)
        h = step * len(lines) + 2 * PAD
        rect, draw = self._text_box(lines, (MARGIN, window[1] - MARGIN - h), size)
        return Placed("messages", rect, draw, text=tuple(s for s, _ in lines))

    def _label(
        self, text: str, panel: Rect, size: int, taken: list[Rect]
    ) -> tuple[Rect, Callable[[Surface], None]] | None:
        """A text box centred in ``panel``, or lower, clear of ``taken``; None if no room."""
        width = panel.w - 2 * MARGIN - 2 * PAD
        lines = [(s, WARN) for s in self.text.wrap(self.text.printable(text), width, size)]
        lines = [(s, c) for s, c in lines if s]
        if not lines or panel.w <= 2 * MARGIN + 2 * PAD:
            return None
        probe_rect, _ = self._text_box(lines, (0, 0), size)
        w, h = probe_rect.w, probe_rect.h
        x = panel.x + (panel.w - w) // 2
        tops = [panel.y + (panel.h - h) // 2]
        tops += sorted(r.bottom + MARGIN for r in taken)
        for y in tops:
            rect = Rect(x, y, w, h)
            if rect.inside(panel) and not any(rect.intersects(t) for t in taken):
                return self._text_box(lines, (x, y), size)
        return None

    def _colour_bar(
        self,
        state: ViewState,
        info: Info,
        panel: Rect,
        size: int,
        display: Surface,
        equalizer: Equalizer | None,
    ) -> list[Placed] | None:
        """The palette from near (top) to far (bottom) at the right of the depth panel, its
        labels to its left, inside the panel; None when the panel is too small for it."""
        fmt = info.depth_format or DepthFormat.RAW_11BIT
        step = self.text.line_height(size)
        height = int(min(256, max(3 * step, panel.h * 0.6)))
        if height + 2 * MARGIN > panel.h:
            return None
        equalised = state.near is None and state.far is None
        self._update_bar(state, fmt, height, equalised, display, equalizer)
        labels = self._bar_labels
        count = max(2, min(len(labels), height // step + 1))
        chosen = [labels[round(i * (len(labels) - 1) / (count - 1))] for i in range(count)]
        label_w = max(self.text.render(t, TEXT, size).get_width() for _, t in chosen)
        box_w = label_w + PAD + BAR_WIDTH
        x = panel.right - MARGIN - box_w
        y = panel.y + (panel.h - height) // 2
        if x < panel.x + MARGIN:
            return None
        top = y - step // 2
        rect = Rect(x - PAD, top, box_w + PAD, height + step)
        if not rect.inside(panel):
            return None
        bar_surf = self._bar

        def draw(target: Surface) -> None:
            target.blit(self.backdrop(target.get_size()), rect.topleft, (0, 0, rect.w, rect.h))
            target.blit(bar_surf, (x + label_w + PAD, y))
            for frac, label in chosen:
                surf = self.text.render(label, TEXT, size)
                ly = y + round(frac * (height - 1)) - surf.get_height() // 2
                target.blit(surf, (x + label_w - surf.get_width(), ly))

        return [Placed("colour-bar", rect, draw, panel="depth")]

    def _update_bar(
        self,
        state: ViewState,
        fmt: DepthFormat,
        height: int,
        equalised: bool,
        display: Surface,
        equalizer: Equalizer | None,
    ) -> None:
        """(Re)build the bar surface and its labels when what they show changed."""
        labels: list[tuple[float, str]] = [(0.0, "near"), (1.0, "far")]
        if equalised:  # the distances the equalised palette stands for now
            at = [
                (f, None if equalizer is None else equalizer.metres_at(1.0 - f))
                for f in (0.0, 0.25, 0.5, 0.75, 1.0)
            ]
            if all(m is not None for _, m in at):
                labels = [(f, f"{m:.2f} m") for f, m in at]
        else:
            lo, hi = resolve_range(state.near, state.far)
            labels = [(i / 4, f"{lo + i * (hi - lo) / 4:.2f} m") for i in range(5)]
        key = (state.palette, state.near, state.far, fmt, height, equalised, display.get_masks())
        self._bar_labels = labels
        if key == self._bar_key:
            return
        self._bar_key = key
        surf = pygame.Surface((BAR_WIDTH, height), 0, display)
        if equalised:  # the palette itself, near (position 1) at the top
            idx = np.rint(np.linspace(1.0, 0.0, height) * (len(palette_samples(state.palette)) - 1))
            column = palette_samples(state.palette)[idx.astype(np.intp)]
            rgb = np.ascontiguousarray(np.repeat(column[None, :, :], BAR_WIDTH, axis=0))
            pygame.surfarray.blit_array(surf, rgb)
        else:
            lo, hi = resolve_range(state.near, state.far)
            ramp = from_metres(np.linspace(lo, hi, height), fmt).reshape(height, 1)
            column32 = colorize_packed(
                np.ascontiguousarray(ramp),
                state.palette,
                order=byte_order(display),
                near=lo,
                far=hi,
                depth_format=fmt,
            )
            pygame.surfarray.blit_array(surf, np.repeat(column32, BAR_WIDTH, axis=1).T)
        self._bar = surf

    def _help_box(self, box: Rect) -> Placed:
        """The key help reflowed into columns at the largest size that fits ``box``, or
        shrunk to it when even the smallest does not."""
        key = (box.w, box.h)
        if key != self._help_key:
            self._help_key = key
            self._help = self._render_help(box)
        surf = self._help
        rect = Rect(box.x, box.y, surf.get_width(), surf.get_height())

        def draw(target: Surface) -> None:
            target.blit(surf, rect.topleft)

        return Placed("help", rect, draw)

    def _render_help(self, box: Rect) -> Surface:
        entries = keys.help_lines()
        key_w = max(len(k) for k, _ in entries)
        lines = [f"{k:>{key_w}}  {t}" for k, t in entries]
        chars = max(len(s) for s in lines)
        gap = 2
        chosen = None
        for size in range(16, 7, -1):
            cw, lh = self.text.char_width(size), self.text.line_height(size)
            for cols in range(1, 5):
                rows = math.ceil(len(lines) / cols)
                w = (cols * chars + (cols - 1) * gap) * cw + 2 * PAD
                h = rows * lh + 2 * PAD
                if w <= box.w and h <= box.h:
                    chosen = (size, cols)
                    break
            if chosen:
                break
        size, cols = chosen or (8, max(1, min(4, box.w // max(1, chars * 5))))
        cw, lh = self.text.char_width(size), self.text.line_height(size)
        rows = math.ceil(len(lines) / cols)
        w = (cols * chars + (cols - 1) * gap) * cw + 2 * PAD
        h = rows * lh + 2 * PAD
        surf = pygame.Surface((w, h), pygame.SRCALPHA)
        surf.fill(BACKDROP)
        for i, line in enumerate(lines):
            c, r = divmod(i, rows)
            colour = WARN if line.strip().startswith(("drag", "r-drag", "wheel")) else TEXT
            surf.blit(
                self.text.render(line, colour, size),
                (PAD + c * (chars + gap) * cw, PAD + r * lh),
            )
        if w > box.w or h > box.h:  # even the smallest size does not fit: shrink
            k = min(box.w / w, box.h / h)
            surf = pygame.transform.smoothscale(surf, (max(1, int(w * k)), max(1, int(h * k))))
        return surf

    def _marks(self, info: Info, panels: dict[str, Rect]) -> list[Placed]:
        """Crosses for the probe, the pin and measured points; a line between measured
        points. They sit on the picture, so they may lie under text."""
        out: list[Placed] = []
        for x, y, colour in info.marks:
            rect = Rect(x - 6, y - 6, 13, 13)

            def draw(target: Surface, x: int = x, y: int = y, colour: RGB = colour) -> None:
                pygame.draw.line(target, colour, (x - 6, y), (x + 6, y))
                pygame.draw.line(target, colour, (x, y - 6), (x, y + 6))

            out.append(Placed("mark", rect, draw, solid=False))
        if info.measure_line is not None:
            (x0, y0), (x1, y1) = info.measure_line
            rect = Rect(min(x0, x1), min(y0, y1), abs(x1 - x0) + 1, abs(y1 - y0) + 1)

            def line(target: Surface) -> None:
                pygame.draw.line(target, WARN, (x0, y0), (x1, y1), 2)

            out.append(Placed("measure-line", rect, line, solid=False))
        return out


def _bounds(rects: Iterable[Rect]) -> Rect | None:
    """The smallest rectangle holding ``rects`` (the picture: every panel), None if none."""
    rs = list(rects)
    if not rs:
        return None
    x, y = min(r.x for r in rs), min(r.y for r in rs)
    return Rect(x, y, max(r.right for r in rs) - x, max(r.bottom for r in rs) - y)


def _letters(lines: Iterable[str]) -> str:
    """The characters of ``lines`` without spaces: equal for a text and its wrapped lines
    unless wrapping cut something."""
    return "".join(lines).replace(" ", "")


def filter_lines(state: ViewState) -> list[str]:
    """What the depth filters do now, for the HUD ("" when off and not asked about)."""
    lines = []
    if state.filters_on:
        spec = state.filter_spec
        steps = PRESETS.get(spec)
        lines.append(f"filters {spec}: {steps.replace(',', ' ')}" if steps else f"filters {spec}")
    if state.layout is Layout.SPLIT:
        after = "filtered" if state.filters_on else "filters off"
        lines.append(f"left: raw depth  right: {after}")
    return lines


def range_text(state: ViewState) -> str:
    """``"raw disparity (glview)"``, ``"auto (equalised)"`` or ``"0.50-4.50 m"``."""
    if state.palette == "glview":
        return "raw disparity (glview)"
    if state.near is None and state.far is None:
        return "auto (equalised)"
    lo, hi = resolve_range(state.near, state.far)
    return f"{lo:.2f}-{hi:.2f} m"


def draw(target: Surface, placed: list[Placed]) -> None:
    """Draw the planned overlays, marks first so text stays readable over them."""
    for item in sorted(placed, key=lambda p: p.solid):
        item.draw(target)
