"""The pictures ``png`` and ``mp4`` hold: colourised depth in one of the viewer's layouts."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..colorize import colorize, is_equalised
from ..frame import Frame
from ..geometry import video_as_rgb
from .base import Settings

#: Pictures a frame can be exported as, with the viewer's names for them.
LAYOUTS = ("depth", "both", "video", "overlay")
#: The ``overlay`` layout's blend of depth colours over the video (the viewer's default).
OVERLAY_OPACITY = 0.5


def resolve_palette(palette: str | None, frame: Frame) -> str:
    """The palette to use: the one asked for, else glview for raw depth and turbo for mm."""
    if palette is not None:
        return palette
    return "glview" if frame.depth_format.is_raw else "turbo"


def scaled_to(picture: npt.NDArray[np.uint8], shape: tuple[int, ...]) -> npt.NDArray[np.uint8]:
    """``picture`` stretched to ``shape`` (height, width), each output pixel the nearest input
    pixel: the whole colour image in the depth-sized panel, as the viewer scales it (HD colour
    beside VGA depth), never cropped to its corner or left in one on black."""
    height, width = shape[0], shape[1]
    if picture.shape[:2] == (height, width):
        return picture
    rows = np.arange(height) * picture.shape[0] // height
    cols = np.arange(width) * picture.shape[1] // width
    stretched: npt.NDArray[np.uint8] = picture[rows[:, None], cols[None, :]]
    return stretched


def depth_image(frame: Frame, settings: Settings | None = None) -> npt.NDArray[np.uint8]:
    """The picture of a frame in a layout: colourised depth, depth beside the video (as
    glview's window), the video alone, or depth blended over the video. IR shows as grey;
    colour of another size than the depth is stretched into the panel (``scaled_to``); a
    frame without video gets black where its video would be."""
    settings = settings or Settings()
    palette = resolve_palette(settings.palette, frame)
    rgb = colorize(
        frame.depth,
        palette,
        near=settings.near,
        far=settings.far,
        depth_format=frame.depth_format,
        equalizer=settings.equalizer
        if is_equalised(palette, settings.near, settings.far)
        else None,
    )
    if settings.layout == "depth":
        return rgb
    video = np.zeros_like(rgb)
    if frame.video is not None:
        picture = video_as_rgb(frame.video, frame.video.shape[:2])
        video[...] = scaled_to(picture, rgb.shape[:2])
    if settings.layout == "both":
        return np.concatenate([rgb, video], axis=1)
    if settings.layout == "video":
        return video
    blend = rgb * OVERLAY_OPACITY + video * (1.0 - OVERLAY_OPACITY)
    return np.rint(blend).astype(np.uint8)


__all__ = ["LAYOUTS", "OVERLAY_OPACITY", "depth_image", "resolve_palette", "scaled_to"]
