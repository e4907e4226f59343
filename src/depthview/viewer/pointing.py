"""Where the pointer and the marks are: window points to depth pixels and points in metres
and back, through the depth panel or the 3D view, with the viewer's mirror undone.

The picture the user sees may be mirrored by the viewer itself (``state.flip``: the
source cannot mirror), in the depth panel and in the 3D view alike, while the frame, the
probe and the measurements keep the frame's own pixels and points. Everything that turns
one into the other is here, so the probe, a pin, a measured point and its mark on screen
follow the mirror the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..frame import Frame
from . import layout, overlays, probe
from .state import ViewState
from .view3d import Projection, pick, point_at, view_matrix

if TYPE_CHECKING:
    from .render import Renderer

XYZ = tuple[float, float, float]


class Pointing:
    """Pointer and mark geometry for one window (``renderer``) and its ``state``."""

    def __init__(self, renderer: Renderer, state: ViewState) -> None:
        self.renderer = renderer
        self.state = state

    # -- mirror ---------------------------------------------------------------------------
    def source_pixel(self, shown: tuple[int, int]) -> tuple[int, int]:
        """A pixel as shown (mirrored when the viewer flips) to the frame's own pixel."""
        w = self.renderer.panel[0]
        return (w - 1 - shown[0], shown[1]) if self.state.flip else shown

    def shown_pixel(self, pixel: tuple[int, int]) -> tuple[int, int]:
        """A frame pixel to where the picture shows it (the inverse of ``source_pixel``)."""
        return self.source_pixel(pixel)

    # -- window -> frame ------------------------------------------------------------------
    def panel_at(self, pos: tuple[int, int]) -> str | None:
        """The panel under window point ``pos``, if any."""
        r = self.renderer
        for name in ("cloud", "depth", "video"):
            if layout.panel_point(pos, name, r.layout, r.view, r.panel) is not None:
                return name
        return None

    def mouse_pixel(self) -> tuple[int, int] | None:
        """The depth panel pixel under the pointer, as shown (mirrored when the viewer flips)."""
        if self.state.mouse is None:
            return None
        r = self.renderer
        return layout.depth_pixel(self.state.mouse, r.layout, r.view, r.panel)

    def mouse_over(self) -> tuple[str, tuple[int, int]] | None:
        """The depth panel under the pointer and its pixel there, as shown: ``"depth"``, or
        ``"raw"`` (the split view's left panel: the depth before the filters)."""
        if self.state.mouse is None:
            return None
        r = self.renderer
        for name in ("depth", "raw"):
            p = layout.panel_point(self.state.mouse, name, r.layout, r.view, r.panel)
            if p is not None:
                return name, (min(r.panel[0] - 1, int(p[0])), min(r.panel[1] - 1, int(p[1])))
        return None

    def resolve(
        self, frame: Frame, at: tuple[int, int]
    ) -> tuple[tuple[int, int] | None, XYZ | None]:
        """Window point ``at`` as the frame's depth pixel and its point in metres: through
        the 3D view's pick in the 3D panel (the nearest drawn point), else the depth panel."""
        r = self.renderer
        in_cloud = layout.panel_point(at, "cloud", r.layout, r.view, r.panel)
        if in_cloud is not None:
            drawn = r.cloud_depth(self.state, frame)
            geometry = r.geometry(frame.depth_format, frame.depth.shape)
            picked = pick(drawn, geometry, self.state.camera, r.panel, in_cloud)
            if picked is None:
                return None, None
            pixel = self.source_pixel(picked[0])
            return pixel, point_at(frame.depth, geometry, *pixel)
        shown = layout.depth_pixel(at, r.layout, r.view, r.panel)
        if shown is None:
            return None, None
        pixel = self.source_pixel(shown)
        depth, fmt = r.depth_shown(self.state, frame)
        return pixel, point_at(depth, r.geometry(fmt, depth.shape), *pixel)

    def centre_at(self, frame: Frame, at: tuple[int, int]) -> XYZ | None:
        """The point drawn under window point ``at`` in the 3D view, in the cloud's own
        (drawn, so mirrored when the viewer flips) coordinates: a new orbit centre."""
        r = self.renderer
        in_cloud = layout.panel_point(at, "cloud", r.layout, r.view, r.panel)
        if in_cloud is None:
            return None
        drawn = r.cloud_depth(self.state, frame)
        geometry = r.geometry(frame.depth_format, frame.depth.shape)
        picked = pick(drawn, geometry, self.state.camera, r.panel, in_cloud)
        return None if picked is None else picked[1]

    # -- frame -> window ------------------------------------------------------------------
    def to_window(self, panel: str, x: float, y: float) -> tuple[int, int] | None:
        """Panel point (x, y) to a window point, or None when the layout lacks the panel."""
        r = self.renderer
        rect = r.rects.get(panel)
        if rect is None:
            return None
        return layout.content_to_window((rect.x + x, rect.y + y), r.view, r.content)

    def cloud_to_window(self, frame: Frame, pixel: tuple[int, int]) -> tuple[int, int] | None:
        """Where the 3D view draws the frame's depth ``pixel`` (mirrored as drawn)."""
        r = self.renderer
        drawn = r.cloud_depth(self.state, frame)
        geometry = r.geometry(frame.depth_format, frame.depth.shape)
        xyz = point_at(drawn, geometry, *self.shown_pixel(pixel))
        if xyz is None:
            return None
        eye = view_matrix(self.state.camera) @ np.array([*xyz, 1.0])
        if eye[2] <= 0:
            return None
        proj = Projection.for_geometry(r.panel, geometry)
        return self.to_window(
            "cloud",
            proj.fx * eye[0] / eye[2] + proj.cx + 0.5,
            proj.fy * eye[1] / eye[2] + proj.cy + 0.5,
        )

    def measure_points(self, frame: Frame | None) -> list[tuple[int, int]]:
        """The measured points' places in the window: in the depth panel, else the 3D view."""
        points = []
        for m in self.state.measure:
            if "depth" in self.renderer.rects:
                x, y = self.shown_pixel(m.pixel)
                at = self.to_window("depth", x + 0.5, y + 0.5)
            elif frame is not None:
                at = self.cloud_to_window(frame, m.pixel)
            else:
                at = None
            if at is not None:
                points.append(at)
        return points

    def measure_line(self, frame: Frame | None) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """The line between the two measured points, once both are on screen."""
        points = self.measure_points(frame)
        return (points[0], points[1]) if len(points) == 2 else None

    def marks(self, frame: Frame | None) -> list[tuple[int, int, overlays.RGB]]:
        """Marks on the pointer's pixel, the pinned one and the measured points."""
        out = []
        pinned = self.state.pinned
        over = self.mouse_over()
        for panel, point, colour in (
            (
                "depth" if over is None else over[0],
                None if over is None else over[1],
                overlays.TEXT,
            ),
            ("depth", None if pinned is None else self.shown_pixel(pinned), overlays.WARN),
        ):
            if point is not None:
                at = self.to_window(panel, point[0] + 0.5, point[1] + 0.5)
                if at is not None:
                    out.append((*at, colour))
        out.extend((*p, overlays.WARN) for p in self.measure_points(frame))
        return out

    def probe_lines(self, frame: Frame | None) -> list[str]:
        """``probe ...`` for the depth pixel under the pointer, ``pin ...`` for the pinned one.
        In the split view the probe reads either panel and says which: ``probe unfiltered``
        (left: the frame before the filters, in its own units) or ``probe filtered``."""
        if frame is None:
            return []
        r = self.renderer
        over = self.mouse_over()
        depth, fmt = r.depth_shown(self.state, frame)
        geometry = r.geometry(fmt, depth.shape)
        lines = []
        if over is not None:
            panel, shown = over
            label = "probe"
            if panel == "raw":
                raw = frame.meta.get("unfiltered", frame)
                assert isinstance(raw, Frame)
                label = "probe unfiltered"
                reading = probe.read(
                    raw.depth,
                    raw.depth_format,
                    *self.source_pixel(shown),
                    r.geometry(raw.depth_format, raw.depth.shape),
                    r.registration,
                )
            else:
                if "raw" in r.rects and "unfiltered" in frame.meta:
                    label = "probe filtered"
                reading = probe.read(
                    depth, fmt, *self.source_pixel(shown), geometry, r.registration
                )
            if reading is not None:
                lines.append(f"{label} {reading.text}")
        if self.state.pinned is not None:
            reading = probe.read(depth, fmt, *self.state.pinned, geometry, r.registration)
            if reading is not None:
                lines.append(f"pin {reading.text}")
        return lines
