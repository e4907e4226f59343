"""The renderer: owns the window's surfaces and buffers and draws the panels of a frame.

Depth reaches the screen through ``colorize_packed`` into a persistent surface of the
display's own pixel format (straight into its pixels when its rows are packed), video
through a surface over the frame's own pixels (or a preallocated buffer for IR), the 3D
panel through ``view3d`` reading back into a persistent surface. With the source's
registration (``registered`` decides where it applies), registered depth and the colours
of the 3D points come from ``dv.register`` and ``dv.map_rgb_to_depth`` into buffers held
here, computed once per frame. At the window's native size the panels are drawn straight
onto the display; otherwise onto a canvas scaled into the letterboxed view (and turned,
when the picture follows the accelerometer). Nothing the size of a frame is allocated per
frame unless the picture is turned.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pygame

from ..camera_models import Intrinsics
from ..colorize import Equalizer, colorize_packed, is_equalised
from ..frame import DepthFormat, Frame, VideoFormat
from ..registration import Registration, map_rgb_to_depth, register
from . import layout
from .layout import Layout, Rect
from .present import byte_order
from .registered import Alignment, PointColours, alignment, rgb_image
from .state import ViewState
from .view3d import CloudGeometry, CloudView, cloud_geometry

Surface = Any  # pygame.Surface (pygame ships no type information mypy --strict accepts)
NO_VIDEO_GREY = (24, 24, 24)


def roll_degrees(accel: tuple[float, float, float]) -> float:
    """Camera roll in degrees from gravity; 0 when the Kinect stands level."""
    ax, ay, _ = accel
    return math.degrees(math.atan2(ax, ay) if ay >= 0 else math.atan2(-ax, -ay))


class Renderer:
    """Draws panels for a ``ViewState`` and a frame onto the display surface."""

    def __init__(
        self,
        display: Surface,
        state: ViewState,
        registration: Registration | None = None,
        video_aligned: bool = False,
        intrinsics: Intrinsics | None = None,
    ) -> None:
        self.display = display
        self.panel = (640, 480)
        self.equalizer = Equalizer()
        self.cloud: CloudView | None = None  # opened the first time a 3D layout is shown
        #: The window's OpenGL context for the 3D view, or why there is none (``present``).
        self.gl_context: Any = None
        self.gl_error: str | None = None
        #: The source's own registration, or None (``registered`` says where it is used).
        self.registration = registration
        #: The source's video lines up with its depth already (the demo).
        self.video_aligned = video_aligned
        #: The source's own depth intrinsics (a dataset's, ``--intrinsics``), or None: the
        #: Kinect's, scaled to the frames (``cloud_geometry``).
        self.intrinsics = intrinsics
        self._wrapped_video: object = None
        self._wrapped: Surface = None
        self._video_shape: tuple[tuple[int, ...], bool] | None = None
        self._mirror_buf: npt.NDArray[np.uint16] | None = None
        # out= buffers of the registration, made on first use, and the frame they hold.
        self._registered_buf: npt.NDArray[np.uint16] | None = None
        self._registered_of: Frame | None = None
        self._mapped_buf: npt.NDArray[np.uint8] | None = None
        self._mapped_of: Frame | None = None
        self._flipped_rgb: npt.NDArray[np.uint8] | None = None
        self.layout = state.layout
        self._allocate()

    # -- buffers --------------------------------------------------------------------------
    def _allocate(self) -> None:
        """(Re)allocate everything sized by the panel: at start, when the frame size changes."""
        w, h = self.panel
        d = self.display
        self.order = byte_order(d)
        self.depth_buf = np.zeros((h, w), dtype=np.uint32)
        self.depth_surf = pygame.Surface((w, h), 0, d)
        self.cloud_surf = pygame.Surface((w, h), 0, d)
        self.cloud_surf.fill((0, 0, 0))
        self.video_panel = pygame.Surface((w, h), 0, d)
        self.video_panel.fill((0, 0, 0))
        self.canvas = pygame.Surface(layout.native_size(self.layout, self.panel), 0, d)
        self._video_shape = None
        self.configure(self.layout)

    def configure(self, new_layout: Layout, display: Surface = None) -> None:
        """Lay the panels out for ``new_layout`` in the picture's current size (``display``:
        the picture, when the window made a new one)."""
        self.layout = new_layout
        if display is not None:
            self.display = display
        self.content = layout.native_size(new_layout, self.panel)
        self.rects = layout.panels(new_layout, self.panel)
        if self.canvas.get_size() != self.content:
            self.canvas = pygame.Surface(self.content, 0, self.display)
        self.view = layout.fit(self.display.get_size(), self.content)
        self.direct = self.view == Rect(0, 0, *self.content)
        self.scaled = (
            None
            if self.direct
            else self.display.subsurface(pygame.Rect(*self.view.topleft, *self.view.size))
        )
        if byte_order(self.display) != self.order:
            self._allocate()

    def window_rects(self) -> dict[str, Rect]:
        """Each panel's rectangle in window pixels (as shown when upright)."""
        return {
            name: layout.window_rect(rect, self.view, self.content)
            for name, rect in self.rects.items()
        }

    def warm_up(self, state: ViewState) -> None:
        """Colour one pixel with the state's palette: loads the compiled lookup and builds
        the table now rather than on the first frame."""
        colorize_packed(
            np.zeros((1, 1), np.uint16),
            state.palette,
            order=self.order,
            near=state.near,
            far=state.far,
            equalizer=Equalizer() if is_equalised(state.palette, state.near, state.far) else None,
        )

    def ensure_cloud(self) -> CloudView:
        """The 3D view, opened on first use."""
        if self.cloud is None:
            self.cloud = CloudView.open(self.gl_context, self.gl_error)
        return self.cloud

    # -- drawing --------------------------------------------------------------------------
    def draw(self, state: ViewState, frame: Frame | None) -> None:
        """Compose the panels for ``frame`` (native size, or scaled into the view)."""
        turn = state.rotate and frame is not None and frame.accel is not None
        if not self.direct or turn:
            self.display.fill((0, 0, 0))  # letterbox bars
        target = self.display if self.direct and not turn else self.canvas
        rects = self.rects
        if frame is None:
            if target is not self.display:
                target.fill((0, 0, 0))
        else:
            if frame.depth.shape != self.depth_buf.shape:
                self.panel = (frame.depth.shape[1], frame.depth.shape[0])
                self._allocate()
                self.draw(state, frame)
                return
            if "video" in rects:
                target.blit(self._video_panel_for(frame, state.flip), rects["video"].topleft)
            if "raw" in rects:  # the split view: depth before the filters (issue 16), in
                # millimetres like the filtered panel, so one colour scale serves both
                mm = frame.meta.get("unfiltered_mm")
                shown, fmt = (
                    (frame.depth, frame.depth_format) if mm is None else (mm, DepthFormat.MM)
                )
                assert isinstance(shown, np.ndarray)
                self._draw_depth(self._flipped(shown, state.flip), fmt, state, target, "raw")
            if "depth" in rects:
                shown, fmt = self.depth_shown(state, frame)
                depth = self._flipped(shown, state.flip)
                self._draw_depth(depth, fmt, state, target)
            if "cloud" in rects:
                self._draw_cloud(self._flipped(frame.depth, state.flip), frame, state)
                target.blit(self.cloud_surf, rects["cloud"].topleft)
        if target is self.canvas:
            if turn and frame is not None and frame.accel is not None:
                turned = pygame.transform.rotate(self.canvas, -roll_degrees(frame.accel))
                fitted = pygame.transform.scale(
                    turned, layout.fit(self.view.size, turned.get_size()).size
                )
                centre = (self.view.x + self.view.w // 2, self.view.y + self.view.h // 2)
                self.display.blit(fitted, fitted.get_rect(center=centre))
            elif self.scaled is not None:
                pygame.transform.scale(self.canvas, self.view.size, self.scaled)
            else:
                self.display.blit(self.canvas, (0, 0))

    def cloud_depth(self, state: ViewState, frame: Frame) -> npt.NDArray[np.uint16]:
        """The depth the 3D view draws: the frame's, mirrored when the viewer mirrors."""
        return self._flipped(frame.depth, state.flip)

    def _flipped(self, depth: npt.NDArray[np.uint16], flip: bool) -> npt.NDArray[np.uint16]:
        """``depth``, or a copy mirrored left to right when the viewer mirrors."""
        if not flip:
            return depth
        if self._mirror_buf is None or self._mirror_buf.shape != depth.shape:
            self._mirror_buf = np.empty_like(depth)
        np.copyto(self._mirror_buf, depth[:, ::-1])
        return self._mirror_buf

    # -- registration ---------------------------------------------------------------------
    def alignment(self, state: ViewState, frame: Frame | None, on: bool | None = None) -> Alignment:
        """What the registration does for ``frame`` now (see ``registered``); ``on``
        overrides the user's choice (to say what it would do)."""
        on = state.registered if on is None else on
        mirrors = state.mirror and not state.flip  # the source mirrors, not the viewer
        return alignment(
            on,
            self.registration,
            frame,
            source_mirrors=mirrors,
            video_aligned=self.video_aligned,
        )

    def geometry(self, depth_format: DepthFormat, shape: tuple[int, ...]) -> CloudGeometry:
        """How depth of this format and shape becomes points: the 3D view's, the probe's
        and the measuring tool's (with the source's registration when it has one)."""
        return cloud_geometry(
            depth_format, (shape[0], shape[1]), self.registration, self.intrinsics
        )

    def registered_depth(self, frame: Frame) -> npt.NDArray[np.uint16]:
        """``dv.register`` of the frame's raw depth (millimetres on the colour camera's
        pixels), into a buffer held here and computed once per frame."""
        if self._registered_of is not frame or self._registered_buf is None:
            if self._registered_buf is None:
                self._registered_buf = np.empty(frame.depth.shape, dtype=np.uint16)
            register(
                frame.depth,
                self.registration,
                depth_format=frame.depth_format,
                out=self._registered_buf,
            )
            self._registered_of = frame
        return self._registered_buf

    def depth_shown(
        self, state: ViewState, frame: Frame
    ) -> tuple[npt.NDArray[np.uint16], DepthFormat]:
        """The depth the depth panel shows, unmirrored, and its format: registered depth in
        the registered overlay, else the frame's own (see ``registered`` for why)."""
        if self.layout is Layout.OVERLAY and self.alignment(state, frame).overlay:
            return self.registered_depth(frame), DepthFormat.REGISTERED
        return frame.depth, frame.depth_format

    def _colour(
        self,
        depth: npt.NDArray[np.uint16],
        depth_format: DepthFormat,
        state: ViewState,
        out: npt.NDArray[np.uint32],
    ) -> None:
        colorize_packed(
            depth,
            state.palette,
            order=self.order,
            near=state.near,
            far=state.far,
            depth_format=depth_format,
            out=out,
            equalizer=self.equalizer
            if is_equalised(state.palette, state.near, state.far)
            else None,
        )

    def _draw_depth(
        self,
        depth: npt.NDArray[np.uint16],
        depth_format: DepthFormat,
        state: ViewState,
        target: Surface,
        panel: str = "depth",
    ) -> None:
        """Colour the depth straight into the window's pixels when it is drawn unscaled and
        alone; otherwise into the depth surface, blitted (with opacity over video)."""
        rect = self.rects[panel]
        overlay = self.layout is Layout.OVERLAY
        surface = target if target is self.display and not overlay else self.depth_surf
        view = surface.get_view("2")
        pixels = np.asarray(view).T
        if surface is target:
            pixels = pixels[rect.y : rect.bottom, rect.x : rect.right]
        packed_rows = pixels.dtype == np.uint32 and pixels.strides[1] == 4
        self._colour(depth, depth_format, state, pixels if packed_rows else self.depth_buf)
        if not packed_rows:
            np.copyto(pixels, self.depth_buf, casting="unsafe")
        del pixels, view  # unlock the surface before it is blitted or shown
        if surface is not target:
            self.depth_surf.set_alpha(round(state.opacity * 255) if overlay else None)
            target.blit(self.depth_surf, rect.topleft)

    def point_colours(
        self, state: ViewState, frame: Frame, depth: npt.NDArray[np.uint16]
    ) -> npt.NDArray[np.uint32] | npt.NDArray[np.uint8]:
        """The colour of every pixel's point in the 3D view: the one place it is chosen.
        With the source's registration and an RGB image, the colour pixel each point really
        falls on (``dv.map_rgb_to_depth``, as ``dv.point_cloud(..., registration=)``
        colours it), or the image itself when the depth is registered already: (h, w, 3)
        RGB bytes. Otherwise the depth palette of ``depth`` (the cloud's depth, mirrored
        when the viewer mirrors), as the depth panel shows it: (h, w) packed pixels."""
        chosen = self.alignment(state, frame).colours
        rgb = rgb_image(frame)
        if chosen is PointColours.PALETTE or rgb is None:
            self._colour(depth, frame.depth_format, state, self.depth_buf)
            return self.depth_buf
        if chosen is PointColours.MAPPED:
            if self._mapped_of is not frame or self._mapped_buf is None:
                if self._mapped_buf is None:
                    self._mapped_buf = np.empty(rgb.shape, dtype=np.uint8)
                map_rgb_to_depth(
                    frame.depth,
                    rgb,
                    self.registration,
                    depth_format=frame.depth_format,
                    out=self._mapped_buf,
                )
                self._mapped_of = frame
            rgb = self._mapped_buf
        if state.flip:
            if self._flipped_rgb is None or self._flipped_rgb.shape != rgb.shape:
                self._flipped_rgb = np.empty_like(rgb)
            np.copyto(self._flipped_rgb, rgb[:, ::-1])
            rgb = self._flipped_rgb
        return rgb

    def _draw_cloud(self, depth: npt.NDArray[np.uint16], frame: Frame, state: ViewState) -> None:
        cloud = self.ensure_cloud()
        if not cloud.ok:
            self.cloud_surf.fill((0, 0, 0))
            return
        view = self.cloud_surf.get_view("2")
        pixels = np.asarray(view).T
        out = pixels if pixels.flags.c_contiguous else self.depth_buf
        cloud.render(
            depth,
            frame.depth_format,
            self.point_colours(state, frame, depth),
            self.order,
            state.camera,
            out,
            self.panel,
            guides=state.camera.guides,
            geometry=self.geometry(frame.depth_format, depth.shape),
        )
        if out is not pixels:
            np.copyto(pixels, out)
        del pixels, view

    def _video_panel_for(self, frame: Frame, flip: bool) -> Surface:
        if frame.video is None:
            self.video_panel.fill(NO_VIDEO_GREY)
            return self.video_panel
        video = frame.video[:, ::-1] if flip else frame.video
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
        if surf.get_size() == self.panel:
            return surf
        # Another size (HD colour beside VGA depth): scaled in the frame's own format (scale
        # into a surface of another format is refused), then converted into the panel.
        self.video_panel.blit(pygame.transform.scale(surf, self.panel), (0, 0))
        return self.video_panel

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
