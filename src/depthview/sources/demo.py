"""The demo source: a synthetic Kinect in a small room, so depthview works without one.

``dv.open("demo")`` (or ``"demo:SEED"``) yields 640x480 raw 11-bit depth, a matching RGB
image (or IR, after ``set_video_format``) and accelerometer readings at 30 frames/s, paced
in real time unless ``fps=0``; ``frames=N`` ends it after N frames. Frame ``i`` is the
same for the same seed, whatever the pacing.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..errors import NotMyFormat, SourceError
from ..frame import GRAVITY, DepthFormat, Frame, VideoFormat
from ..scene import DemoScene
from ..units import from_metres, metres_table
from .base import Source


class DemoSource(Source):
    """A deterministic synthetic Kinect (the fake backend every test and newcomer can use)."""

    def __init__(
        self,
        seed: int = 0,
        fps: float = 30.0,
        frames: int | None = None,
        depth_format: DepthFormat | str | int = DepthFormat.RAW_11BIT,
        realtime: bool = True,
    ) -> None:
        if fps < 0 or not np.isfinite(fps):
            raise SourceError(f"demo: expected fps >= 0, got {fps}")
        if frames is not None and frames < 0:
            raise SourceError(f"demo: expected frames >= 0, got {frames}")
        self.seed, self.frames = seed, frames
        self.fps: float = fps or 30.0
        self._pace = realtime and fps > 0
        self.depth_format = DepthFormat.parse(depth_format)
        if not (self.depth_format.is_raw or self.depth_format.is_metric):
            raise SourceError(
                f"demo: expected an unpacked depth format, got {self.depth_format.name}"
            )
        self.video_format = VideoFormat.RGB
        self.has_video = True
        self.name = "demo" if seed == 0 else f"demo:{seed}"
        self._scene = DemoScene(seed=seed, fps=self.fps)
        self._index = 0
        self._start: float | None = None
        self._rng = np.random.default_rng(seed + 1)

    def read(self) -> Frame:
        if self.frames is not None and self._index >= self.frames:
            raise StopIteration
        index = self._index
        if self._pace:
            now = time.monotonic()
            if self._start is None:
                self._start = now
            due = self._start + index / self.fps
            if due > now:
                time.sleep(due - now)
        depth, rgb, _ = self._scene.render(index)
        if self.depth_format is not DepthFormat.RAW_11BIT:
            depth = from_metres(metres_table(DepthFormat.RAW_11BIT)[depth], self.depth_format)
        video: np.ndarray[Any, Any] = rgb
        if self.video_format is VideoFormat.IR_8BIT:
            video = self._ir(rgb)
        noise = self._rng.normal(0.0, 0.03, 3)
        self._index += 1
        return Frame(
            depth=depth,
            video=video,
            depth_format=self.depth_format,
            video_format=self.video_format,
            timestamp=index / self.fps,
            index=index,
            accel=(float(noise[0]), GRAVITY + float(noise[1]), float(noise[2])),
            tilt_deg=0.0,
            device_timestamp=int(index * 60_000_000 / self.fps) & 0xFFFFFFFF,
        )

    @staticmethod
    def _ir(rgb: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        grey: np.ndarray[Any, Any] = (rgb.astype(np.uint16).sum(axis=2) // 3).astype(np.uint8)
        return grey

    def set_video_format(self, fmt: VideoFormat) -> None:
        """The demo renders RGB and 8-bit IR."""
        fmt = VideoFormat(fmt)
        if fmt not in (VideoFormat.RGB, VideoFormat.IR_8BIT):
            raise self._unsupported(f"show {fmt.name} video (it has RGB and IR_8BIT)")
        self.video_format = fmt

    @property
    def seekable(self) -> bool:
        return True

    def seek(self, index: int) -> None:
        """Any frame can be rendered directly: the scene is a function of time."""
        if index < 0 or (self.frames is not None and index > self.frames):
            raise SourceError(f"demo: expected a frame index 0..{self.frames}, got {index}")
        self._index = index
        self._start = None if self._start is None else time.monotonic() - index / self.fps

    @property
    def position(self) -> int:
        return self._index

    def __len__(self) -> int:
        if self.frames is None:
            raise TypeError("the demo has no length unless frames= is given")
        return self.frames


def open_source(uri: str, **options: Any) -> DemoSource:
    """``demo`` or ``demo:SEED``."""
    name, _, arg = uri.partition(":")
    if name != "demo":
        raise NotMyFormat(f"{uri}: not 'demo'")
    if arg:
        try:
            options.setdefault("seed", int(arg))
        except ValueError:
            raise SourceError(
                f"{uri}: expected 'demo:SEED' with an integer seed, got {arg!r}"
            ) from None
    return DemoSource(**options)
