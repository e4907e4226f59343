"""Pure geometry of the window: which panel goes where, letterboxing, and mapping a
window point back to a depth pixel. No pygame here, so it is tested with plain numbers."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Layout(enum.Enum):
    """What the window shows. ``BOTH`` is glview's: depth left, video right. ``CLOUD`` is the
    3D point cloud alone, ``CLOUD_VIDEO`` the cloud left and video right. ``SPLIT`` is the
    depth before the filters (left) and after them (right); its own key, not in the cycle."""

    BOTH = "both"
    DEPTH = "depth"
    VIDEO = "video"
    OVERLAY = "overlay"
    CLOUD = "3d"
    CLOUD_VIDEO = "3d-video"
    SPLIT = "split"

    @property
    def is_3d(self) -> bool:
        """Whether the layout has a 3D panel (and so needs OpenGL)."""
        return self in (Layout.CLOUD, Layout.CLOUD_VIDEO)

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
        """The next layout in cycling order (the ``v`` key; ``SPLIT`` has a key of its own)."""
        members = [m for m in Layout if m is not Layout.SPLIT]
        if self not in members:
            return members[0]
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

    def intersects(self, other: Rect) -> bool:
        """True when the two rectangles share at least one pixel."""
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )

    def inside(self, other: Rect) -> bool:
        """True when every pixel of this rectangle lies in ``other``."""
        return (
            other.x <= self.x
            and other.y <= self.y
            and self.x + self.w <= other.x + other.w
            and self.y + self.h <= other.y + other.h
        )

    @property
    def right(self) -> int:
        """x just past the right edge."""
        return self.x + self.w

    @property
    def bottom(self) -> int:
        """y just past the bottom edge."""
        return self.y + self.h

    @property
    def size(self) -> tuple[int, int]:
        """(w, h)."""
        return (self.w, self.h)

    @property
    def topleft(self) -> tuple[int, int]:
        """(x, y)."""
        return (self.x, self.y)


def native_size(layout: Layout, panel: tuple[int, int] = (640, 480)) -> tuple[int, int]:
    """The unscaled content size: two panels side by side for ``BOTH``, ``CLOUD_VIDEO`` and
    ``SPLIT``, else one."""
    w, h = panel
    return (2 * w, h) if layout in (Layout.BOTH, Layout.CLOUD_VIDEO, Layout.SPLIT) else (w, h)


def panels(layout: Layout, panel: tuple[int, int] = (640, 480)) -> dict[str, Rect]:
    """Where the ``depth``, ``video`` and ``cloud`` (3D) panels sit in native content
    coordinates. In ``OVERLAY`` depth and video share one rectangle (depth over video)."""
    w, h = panel
    full = Rect(0, 0, w, h)
    if layout is Layout.BOTH:
        return {"depth": full, "video": Rect(w, 0, w, h)}
    if layout is Layout.DEPTH:
        return {"depth": full}
    if layout is Layout.VIDEO:
        return {"video": full}
    if layout is Layout.CLOUD:
        return {"cloud": full}
    if layout is Layout.CLOUD_VIDEO:
        return {"cloud": full, "video": Rect(w, 0, w, h)}
    if layout is Layout.SPLIT:  # before the filters left, after them right (the probed one)
        return {"raw": full, "depth": Rect(w, 0, w, h)}
    return {"video": full, "depth": full}


def window_rect(rect: Rect, view: Rect, content: tuple[int, int]) -> Rect:
    """A rectangle in native content coordinates as it lands in the window."""
    x0, y0 = content_to_window((rect.x, rect.y), view, content)
    x1, y1 = content_to_window((rect.right, rect.bottom), view, content)
    return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def panel_point(
    point: tuple[float, float], panel: str, layout: Layout, view: Rect, panel_size: tuple[int, int]
) -> tuple[float, float] | None:
    """A window point in the named panel's own native pixels, or None when not over it."""
    content = native_size(layout, panel_size)
    c = window_to_content(point, view, content)
    rect = panels(layout, panel_size).get(panel)
    if c is None or rect is None or not rect.contains(*c):
        return None
    return (c[0] - rect.x, c[1] - rect.y)


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
    p = panel_point(point, "depth", layout, view, panel)
    if p is None:
        return None
    return (min(panel[0] - 1, int(p[0])), min(panel[1] - 1, int(p[1])))
