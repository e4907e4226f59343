"""Text overlay, help overlay and colour bar, drawn over the picture at window resolution.

Text is rendered with pygame's built-in font and cached by string, so a HUD whose text
has not changed costs a blit, not a render. The colour bar's colours come from
``colorize_packed`` on a ramp of depth values: the viewer computes no colours itself."""

from __future__ import annotations

from typing import Any

import numpy as np
import pygame

from ..colorize import colorize_packed, resolve_range
from ..frame import DepthFormat
from ..units import from_metres

Surface = Any  # pygame.Surface (pygame ships no type information mypy --strict accepts)

TEXT = (255, 255, 255)
WARN = (255, 200, 80)
ERROR = (255, 90, 90)
BACKDROP = (0, 0, 0, 150)


class TextCache:
    """Rendered text surfaces keyed by (string, colour); small and bounded."""

    def __init__(self, size: int = 20, limit: int = 256) -> None:
        self.font = pygame.font.Font(None, size)
        self.line_height = self.font.get_linesize()
        self._cache: dict[tuple[str, tuple[int, int, int]], Surface] = {}
        self._limit = limit
        self.renders = 0

    def render(self, text: str, color: tuple[int, int, int] = TEXT) -> Surface:
        """The surface for ``text``, rendered once."""
        key = (text, color)
        surf = self._cache.get(key)
        if surf is None:
            if len(self._cache) >= self._limit:
                self._cache.clear()
            surf = self._cache[key] = self.font.render(text, True, color)
            self.renders += 1
        return surf


def draw_lines(
    target: Surface,
    text: TextCache,
    lines: list[tuple[str, tuple[int, int, int]]],
    pos: tuple[int, int],
    backdrop: Surface | None = None,
) -> None:
    """Draw lines of text top-down from ``pos`` on a translucent backdrop."""
    if not lines:
        return
    surfaces = [text.render(s, c) for s, c in lines]
    width = max(s.get_width() for s in surfaces) + 8
    height = text.line_height * len(surfaces) + 6
    if backdrop is not None:
        area = pygame.Rect(
            0, 0, min(width, backdrop.get_width()), min(height, backdrop.get_height())
        )
        target.blit(backdrop, pos, area)
    x, y = pos
    for i, surf in enumerate(surfaces):
        target.blit(surf, (x + 4, y + 3 + i * text.line_height))


def make_backdrop(size: tuple[int, int]) -> Surface:
    """A translucent black rectangle to put behind text (made once per window size)."""
    surf = pygame.Surface(size, pygame.SRCALPHA)
    surf.fill(BACKDROP)
    return surf


class ColourBar:
    """A vertical bar of the palette from near (top) to far (bottom), with metre labels.

    Rebuilt only when the palette, range or format changes."""

    def __init__(self, height: int = 256, width: int = 16) -> None:
        self.height = height
        self.width = width
        self._key: tuple[object, ...] | None = None
        self.surface: Surface | None = None
        self.labels: list[tuple[int, str]] = []

    def update(
        self,
        palette: str,
        near: float | None,
        far: float | None,
        depth_format: DepthFormat,
        like: Surface,
    ) -> None:
        """(Re)build the bar for this palette and range in the pixel format of ``like``."""
        key = (palette, near, far, depth_format, like.get_masks())
        if key == self._key:
            return
        self._key = key
        lo, hi = resolve_range(near, far)
        metres = np.linspace(lo, hi, self.height)
        ramp = from_metres(metres, depth_format).reshape(self.height, 1)
        column = colorize_packed(
            np.ascontiguousarray(ramp),
            palette,
            order=byte_order(like),
            near=lo,
            far=hi,
            depth_format=depth_format,
        )
        pixels = np.ascontiguousarray(np.repeat(column, self.width, axis=1))
        surf = pygame.Surface((self.width, self.height), 0, like)
        pygame.surfarray.blit_array(surf, pixels.T)
        self.surface = surf
        steps = 5
        self.labels = []
        for i in range(steps):
            dy = round(i * (self.height - 1) / (steps - 1))
            self.labels.append((dy, f"{lo + i * (hi - lo) / (steps - 1):.2f} m"))


def byte_order(surface: Surface) -> str:
    """The byte order (e.g. ``"BGRX"``) of a 32-bit surface's pixels in memory, from its
    masks, for ``colorize_packed(order=...)``."""
    masks = surface.get_masks()
    names = "RGBA"
    order = []
    for byte in range(4):
        bits = 0xFF << (8 * byte) if _little_endian() else 0xFF << (8 * (3 - byte))
        found = "X"
        for name, mask in zip(names, masks, strict=True):
            if mask == bits:
                found = name
        order.append(found)
    result = "".join(order)
    if sorted(result.replace("X", "A")) != ["A", "B", "G", "R"]:
        raise ValueError(f"expected a 32-bit surface with 8-bit R, G, B masks, got {masks}")
    return result


def _little_endian() -> bool:
    return bool(np.little_endian)
