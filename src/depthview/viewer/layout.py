"""Pure geometry of the window: which panel goes where, letterboxing, and mapping a
window point back to a depth pixel. No pygame here, so it is tested with plain numbers."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Layout(enum.Enum):
    """What the window shows. ``BOTH`` is glview's: depth left, video right."""

    BOTH = "both"
    DEPTH = "depth"
    VIDEO = "video"
    OVERLAY = "overlay"

    @classmethod
    def parse(cls, value: str | Layout) -> Layout:
        """Accept a Layout or its name, with a clear error for anything else."""
        if isinstance(value, Layout):
            return value
        try:
            return cls(value.strip().lower())
        except ValueError:
            names = ", ".join(m.value for m in cls)
            raise ValueError(f"expected a layout ({names}), got {value!r}") from None

    def next(self) -> Layout:
        """The next layout in cycling order (the ``v`` key)."""
        members = list(Layout)
        return members[(members.index(self) + 1) % len(members)]


@dataclass(frozen=True, slots=True)
class Rect:
    """An axis-aligned rectangle in pixels."""

    x: int
    y: int
    w: int
    h: int

    def contains(self, px: float, py: float) -> bool:
        """True when the point lies inside (right and bottom edges excluded)."""
        return self.x <= px < self.x + self.w and self.y <= py < self.y + self.h

    @property
    def size(self) -> tuple[int, int]:
        """(w, h)."""
        return (self.w, self.h)

    @property
    def topleft(self) -> tuple[int, int]:
        """(x, y)."""
        return (self.x, self.y)


def native_size(layout: Layout, panel: tuple[int, int] = (640, 480)) -> tuple[int, int]:
    """The unscaled content size: two panels side by side for ``BOTH``, else one."""
    w, h = panel
    return (2 * w, h) if layout is Layout.BOTH else (w, h)


def panels(layout: Layout, panel: tuple[int, int] = (640, 480)) -> dict[str, Rect]:
    """Where the depth and video panels sit in native content coordinates.

    In ``OVERLAY`` both share one rectangle (depth is drawn over video)."""
    w, h = panel
    full = Rect(0, 0, w, h)
    if layout is Layout.BOTH:
        return {"depth": full, "video": Rect(w, 0, w, h)}
    if layout is Layout.DEPTH:
        return {"depth": full}
    if layout is Layout.VIDEO:
        return {"video": full}
    return {"video": full, "depth": full}


def fit(window: tuple[int, int], content: tuple[int, int]) -> Rect:
    """The largest rectangle of the content's aspect ratio centred in the window."""
    ww, wh = max(1, window[0]), max(1, window[1])
    cw, ch = content
    if ww * ch <= wh * cw:  # window is relatively taller: full width, bars above/below
        w, h = ww, max(1, round(ww * ch / cw))
    else:
        w, h = max(1, round(wh * cw / ch)), wh
    return Rect((ww - w) // 2, (wh - h) // 2, w, h)


def window_to_content(
    point: tuple[float, float], view: Rect, content: tuple[int, int]
) -> tuple[float, float] | None:
    """A window point to native content coordinates, or None when outside the picture."""
    px, py = point
    if not view.contains(px, py):
        return None
    return ((px - view.x) * content[0] / view.w, (py - view.y) * content[1] / view.h)


def content_to_window(
    point: tuple[float, float], view: Rect, content: tuple[int, int]
) -> tuple[int, int]:
    """Native content coordinates to a window point (inverse of ``window_to_content``)."""
    return (
        int(view.x + point[0] * view.w / content[0]),
        int(view.y + point[1] * view.h / content[1]),
    )


def depth_pixel(
    point: tuple[float, float],
    layout: Layout,
    view: Rect,
    panel: tuple[int, int] = (640, 480),
) -> tuple[int, int] | None:
    """The (x, y) depth panel pixel under a window point, or None when not over depth."""
    content = native_size(layout, panel)
    c = window_to_content(point, view, content)
    rect = panels(layout, panel).get("depth")
    if c is None or rect is None or not rect.contains(*c):
        return None
    x = min(panel[0] - 1, int(c[0] - rect.x))
    y = min(panel[1] - 1, int(c[1] - rect.y))
    return (x, y)
