"""H.264 video through PyAV (extra ``video``), the pictures of ``pictures``."""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import FPS as FRAME_RATE
from ..errors import ExportError
from ..frame import Frame
from ..outputs import disk_full, partial_path
from .base import Settings, require
from .pictures import depth_image

#: What an MP4 can hold: frames per second (every command's ``--fps`` range), and pixels a
#: side (libx264's limit).
FPS = (FRAME_RATE.lo, FRAME_RATE.hi)
MAX_SIDE = 16384
#: The MP4's clock: 90 kHz, as MPEG's, so each frame is shown at its own time.
TICK = Fraction(1, 90000)
#: The last tick the encoder takes (H.264 in MP4 through FFmpeg: a 32-bit signed time).
MAX_PTS = 2**31 - 1


def write(frames: Iterable[Frame], path: Path, settings: Settings) -> int:
    """H.264 through PyAV, in this process: on Ctrl-C the encoder is flushed and the file
    closed, so what was encoded stays a playable video; on a failure (a full disk) the
    temporary file is removed."""
    av = require("av", "video", "mp4")
    rate = Fraction(settings.fps or 30.0).limit_denominator(1001)
    tmp = partial_path(path)
    try:
        container = av.open(str(tmp), mode="w", format="mp4")
    except (OSError, av.FFmpegError) as exc:
        raise ExportError(f"{path}: cannot write ({_av_reason(exc)})") from None
    count = 0
    complete = False
    first: float | None = None
    pts = -1
    try:
        stream: Any = None
        try:
            for frame in frames:
                picture = depth_image(frame, settings)
                if stream is None:
                    stream = _stream(container, rate, picture.shape, path)
                picture = np.ascontiguousarray(picture[: stream.height, : stream.width])
                video = av.VideoFrame.from_ndarray(picture, format="rgb24")
                first = frame.timestamp if first is None else first
                pts = _pts(frame.timestamp - first, rate, pts, count, settings.timed)
                if pts > MAX_PTS:  # FFmpeg's "not yet implemented" otherwise (trial AD)
                    raise ExportError(
                        f"{path}: frame {frame.index} comes {float(pts * TICK):.0f} s after the "
                        f"first, more than an MP4's clock holds here ({float(MAX_PTS * TICK):.0f} "
                        "s); --fps plays the frames one after another"
                    )
                video.pts, video.time_base = pts, TICK
                for packet in stream.encode(video):
                    container.mux(packet)
                count += 1
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: finish what was encoded (the first one ends the frames)
        if stream is not None:
            for packet in stream.encode():  # flush
                container.mux(packet)
        container.close()
        complete = True
    except (OSError, av.FFmpegError) as exc:
        raise ExportError(f"{path}: cannot write ({_av_reason(exc)})") from None
    finally:
        if not complete:
            with contextlib.suppress(Exception):
                container.close()
            with contextlib.suppress(OSError):
                tmp.unlink()
    if count:
        os.replace(tmp, path)
    else:  # (PyAV makes no file for a container given no stream)
        tmp.unlink(missing_ok=True)
    return count


def _pts(since: float, rate: Fraction, before: int, count: int, timed: bool) -> int:
    """Frame ``count``'s place in the MP4, in ``TICK``: at its own time, ``since`` the first
    frame's, so that a gap in the source's times is held on screen rather than closed, and a
    time that steps back costs one tick, not the frames after it their times (``timed``);
    else one frame of ``rate`` after another."""
    if not timed or not math.isfinite(since):
        return round(count * TICK.denominator / rate)
    return max(round(since * TICK.denominator), before + 1)


def _stream(container: Any, rate: Fraction, shape: tuple[int, ...], path: Path) -> Any:
    """An H.264 stream for pictures of ``shape`` (cut to even sizes, as yuv420p needs: said
    in one warning, as other exports say what they change)."""
    height, width = shape[0] - shape[0] % 2, shape[1] - shape[1] % 2
    if not (2 <= width <= MAX_SIDE and 2 <= height <= MAX_SIDE):
        raise ExportError(
            f"{path}: expected pictures of 2x2 to {MAX_SIDE}x{MAX_SIDE} pixels for "
            f"H.264, got {shape[1]}x{shape[0]}"
        )
    if (height, width) != shape[:2]:
        warnings.warn(
            f"the MP4's pictures of {shape[1]}x{shape[0]} are cut to {width}x{height}: H.264 "
            "takes even sizes (the last column or row is left out; a PNG export keeps it)",
            stacklevel=3,
        )
    stream = container.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.codec_context.time_base = stream.time_base = TICK  # frames at their own times
    return stream


def _av_reason(exc: BaseException) -> str:
    """FFmpeg's error as words ("No space left on device"), not "returned 22"."""
    if disk_full(exc):
        return "disk full"
    code = getattr(exc, "errno", None)
    words = getattr(exc, "strerror", None) or (os.strerror(code) if code else str(exc))
    return " ".join(str(words).split())


__all__ = ["FPS", "MAX_SIDE", "write"]
