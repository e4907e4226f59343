"""Whether the viewer lines depth up with colour for a frame, and what it says about it.

The Kinect's depth and colour cameras sit 2.5 cm apart, so depth and colour pixels at the
same place show different things, up to tens of pixels apart near the camera. A source
with its own registration (``source.registration``: a live Kinect's, a recording's
``device.json``) lets the viewer line them up exactly as libfreenect does, in the two
places where depth and colour meet:

- the overlay layout blends registered depth (``dv.register``: millimetres on the colour
  camera's pixels) over the colour image, so edges meet;
- the 3D view colours each point with the colour pixel it really falls on
  (``dv.map_rgb_to_depth``, as ``dv.point_cloud(..., registration=)`` does).

The depth panel keeps the depth camera's own picture, registered or not. That is what a
user probing, pinning and measuring there expects: each of its pixels is a reading of the
depth camera, the point it stands for is the 3D view's point of that pixel, and nothing is
missing from it. Registered depth has holes where the colour camera sees what the depth
camera cannot (the shadow beside every near edge) and loses pixels where two land on one,
which beside the colour image would read as gaps in the data; and side by side, a shift of
a few pixels between the panels is not something a person can judge anyway. Where the two
images lie on top of each other, in the overlay, is where the alignment shows, so that is
where registered depth is drawn (and probed: the probe reads what is under the pointer).

The demo renders its colour image from the depth camera's own viewpoint
(``source.video_aligned``): its plain overlay lines up already and its 3D points take the
colour image as it is. Sources without a registration keep the plain overlay and palette
colours in 3D. The user
switches registration off and on with a key (``ViewState.registered``); ``Alignment.note``
tells the HUD which applies and why. Pure decisions: no pixels here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from ..frame import DepthFormat, Frame
from ..registration import Registration
from .layout import Layout

#: The one depth size libfreenect registers (its 640x480 depth mode), (h, w).
HEIGHT, WIDTH = 480, 640


class PointColours(enum.Enum):
    """Where the 3D view's point colours come from."""

    PALETTE = "palette"  # the depth palette, as the depth panel shows it
    MAPPED = "mapped"  # the colour pixel each point falls on (map_rgb_to_depth)
    VIDEO = "video"  # the colour image as it is: the depth is registered already


@dataclass(frozen=True, slots=True)
class Alignment:
    """What the registration does for one frame."""

    overlay: bool = False  # the overlay blends registered depth (dv.register)
    colours: PointColours = PointColours.PALETTE
    #: Why the registration is not used ("" when it is, or when it is not needed).
    reason: str = ""
    by_source: bool = False  # the source gives registered depth itself

    def note(self, layout: Layout) -> str:
        """The HUD's line for ``layout`` ("" where registration changes nothing)."""
        if layout is Layout.OVERLAY:
            if self.overlay:
                return "registered: depth lined up with colour"
            if self.by_source:
                return "depth registered by the source"
            return f"plain overlay: {self.reason}" if self.reason else ""
        if layout.is_3d:
            if self.colours is PointColours.MAPPED:
                return "registered: points in their real colour"
            if self.colours is PointColours.VIDEO:
                why = "registered by the source" if self.by_source else "aligned by the source"
                return f"points in their real colour (depth {why})"
            return f"palette colours: {self.reason}" if self.reason else ""
        return ""


#: The key that switches registration (kept here so messages and the key table agree).
KEY = "l"


def rgb_image(frame: Frame) -> npt.NDArray[np.uint8] | None:
    """The frame's RGB image when the registration can map it (640x480), else None."""
    video = frame.video
    if video is not None and video.shape == (HEIGHT, WIDTH, 3) and video.dtype == np.uint8:
        return cast("npt.NDArray[np.uint8]", video)
    return None


def no_colour(frame: Frame) -> str:
    """Why ``frame``'s colour cannot be used: none, or a colour image of another size than
    the depth, which the viewer only scales to show (trial AM D6: the HUD said "no colour
    image" beside that very picture; ``export`` says the same of its points)."""
    video = frame.video
    if video is not None and video.ndim == 3 and video.shape[:2] != frame.depth.shape:
        (h, w), (dh, dw) = video.shape[:2], frame.depth.shape
        return f"colour {w}x{h} is not the depth's {dw}x{dh}: not lined up"
    return "no colour image"


def alignment(
    on: bool,
    registration: Registration | None,
    frame: Frame | None,
    *,
    source_mirrors: bool = False,
    video_aligned: bool = False,
) -> Alignment:
    """What to line up for ``frame``: ``on`` is the user's choice, ``registration`` the
    source's own, ``source_mirrors`` whether the source itself mirrors its images (the
    registration is for unmirrored ones), ``video_aligned`` whether the source's colour
    pixels already line up with its depth pixels (the demo)."""
    if frame is None:
        return Alignment()
    fmt = frame.depth_format
    rgb = rgb_image(frame) is not None
    if video_aligned and fmt is not DepthFormat.REGISTERED:  # nothing to line up
        return Alignment(
            colours=PointColours.VIDEO if rgb else PointColours.PALETTE,
            reason="depth and colour line up already" if rgb else no_colour(frame),
        )
    if fmt is DepthFormat.REGISTERED:  # the source registered it: the plain overlay lines up
        return Alignment(
            colours=PointColours.VIDEO if rgb else PointColours.PALETTE,
            reason="" if rgb else no_colour(frame),
            by_source=True,
        )
    reason = ""
    if not on:
        reason = f"registration off ({KEY})"
    elif registration is None:  # without colour, what is missing first is the colour
        reason = "the source has no registration" if rgb else no_colour(frame)
    elif source_mirrors:
        reason = "the source mirrors its images"
    elif frame.depth.shape != (HEIGHT, WIDTH):
        reason = f"registration is for {WIDTH}x{HEIGHT} depth"
    elif fmt not in (DepthFormat.RAW_11BIT, DepthFormat.MM):
        reason = f"registration needs raw 11-bit or millimetre depth, not {fmt.unit_name}"
    if reason:
        return Alignment(reason=reason)
    overlay = fmt is DepthFormat.RAW_11BIT
    colours = PointColours.MAPPED if rgb else PointColours.PALETTE
    if not rgb:  # what is missing first is the colour (trial AA)
        reason = no_colour(frame)
    elif not overlay:  # millimetres: the source's, or a filter's (which gives millimetres)
        reason = "registered depth needs raw depth (the depth shown is in millimetres)"
    return Alignment(overlay, colours, reason)
