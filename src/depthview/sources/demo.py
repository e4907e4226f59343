"""The demo source: a synthetic Kinect in a small room, so depthview works without one.

``dv.open("demo")`` (or ``"demo:SEED"``) yields 640x480 raw 11-bit depth, a matching RGB
image (or IR, after ``set_video_format``) and accelerometer readings at 30 frames/s, paced
in real time unless ``fps=0``; ``frames=N`` ends it after N frames. Frame ``i`` is the
same for the same seed, whatever the pacing. ``demo:walk`` (or ``walk=True``) is the room
without the person and the ball seen from a camera moving along a known path
(``scene_walk``), each frame's true pose (camera to world) in ``frame.meta["true_pose"]``:
the scanner's test bed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import FPS_OR_AS_FAST
from ..errors import NotMyFormat, SourceError
from ..frame import GRAVITY, DepthFormat, Frame, Record, Stamp, Stream, TiltState, VideoFormat
from ..scene import DemoScene
from ..scene_walk import WalkScene
from ..units import from_metres, metres_table
from .base import Pacer, Source, check_options

OPTIONS = ("seed", "fps", "frames", "depth_format", "realtime", "walk")


class DemoSource(Source):
    """A deterministic synthetic Kinect (the fake backend every test and newcomer can use)."""

    video_formats = (VideoFormat.RGB, VideoFormat.IR_8BIT)
    video_aligned = True  # the room's colour image is rendered from the depth camera
    times_from_start = True  # index / fps: a recording of it is placed at the wall clock

    def __init__(
        self,
        seed: int = 0,
        fps: float = 30.0,
        frames: int | None = None,
        depth_format: DepthFormat | str | int = DepthFormat.RAW_11BIT,
        realtime: bool = True,
        walk: bool = False,
    ) -> None:
        try:
            FPS_OR_AS_FAST.check(fps)
        except ValueError as exc:
            raise SourceError(f"demo: fps: {exc}") from None
        if frames is not None and frames < 0:
            raise SourceError(f"demo: expected frames >= 0, got {frames}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise SourceError(f"demo: expected a whole-number seed >= 0, got {seed!r}")
        self.seed, self.frames = seed, frames
        self.fps: float = fps or 30.0
        self._pacer = Pacer() if realtime and fps > 0 else None
        try:
            self.depth_format = DepthFormat.parse(depth_format)
        except ValueError as exc:
            raise SourceError(f"demo: {exc}") from None
        if not (self.depth_format.is_raw or self.depth_format.is_metric):
            raise SourceError(
                f"demo: expected an unpacked depth format, got {self.depth_format.name}"
            )
        self.video_format = VideoFormat.RGB
        self.has_video = True
        self.units_note = (
            f"{self.depth_format.unit_name} (the demo renders a Kinect v1); "
            "intrinsics: Kinect v1 defaults (the demo renders with them)"
        )
        self.name = ("demo:walk" if walk else "demo") + (f":{seed}" if seed else "")
        self._scene = DemoScene(seed=seed, fps=self.fps)
        self._walk = WalkScene(seed=seed, fps=self.fps) if walk else None
        self._index = 0
        self._closed = False
        self._rng = np.random.default_rng(seed + 1)

    def read(self) -> Frame:
        if self._closed:
            raise SourceError(f"{self.name}: read after close")
        if self.frames is not None and self._index >= self.frames:
            raise StopIteration
        index = self._index
        t = index / self.fps
        if self._pacer is not None:
            self._pacer.wait(t)
        meta: dict[str, object] = {}
        if self._walk is not None:
            depth, rgb, _ = self._walk.render(index)
            meta["true_pose"] = self._walk.pose(index)
        else:
            depth, rgb, _ = self._scene.render(index)
        if self.depth_format is not DepthFormat.RAW_11BIT:
            depth = from_metres(metres_table(DepthFormat.RAW_11BIT)[depth], self.depth_format)
        video: np.ndarray[Any, Any] = rgb
        if self.video_format is VideoFormat.IR_8BIT:
            video = self._ir(rgb)
        noise = self._rng.normal(0.0, 0.03, 3)
        # what a Kinect gives: counts, and the frame's reading is its record's (as a device's
        # and a recording's are), so every output says the same reading (trial AR D7)
        state = TiltState.from_mks(
            (float(noise[0]), GRAVITY + float(noise[1]), float(noise[2])), 0.0
        )
        accel = state.accel_mks
        self._index += 1
        # All three streams of the demo are taken at the same instant.
        stamp = Stamp(index, t, int(index * 60_000_000 / self.fps) & 0xFFFFFFFF)
        return Frame(
            depth=depth,
            video=video,
            depth_format=self.depth_format,
            video_format=self.video_format,
            timestamp=t,
            index=index,
            accel=accel,
            tilt_deg=0.0,
            device_timestamp=stamp.device_timestamp,
            video_stamp=stamp,
            accel_stamp=stamp,
            records=(
                Record(Stream.VIDEO, stamp, video, self.video_format),
                Record(Stream.ACCEL, stamp, state),
                Record(Stream.DEPTH, stamp, depth, self.depth_format),
            ),
            meta=meta,
        )

    def close(self) -> None:
        self._closed = True

    @staticmethod
    def _ir(rgb: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        grey: np.ndarray[Any, Any] = (rgb.astype(np.uint16).sum(axis=2) // 3).astype(np.uint8)
        return grey

    def set_video_format(self, fmt: VideoFormat) -> None:
        """The demo renders RGB and 8-bit IR."""
        self.video_format = self._check_video_format(fmt)

    @property
    def seekable(self) -> bool:
        return True

    def seek(self, index: int) -> None:
        """Any frame can be rendered directly: the scene is a function of time."""
        self._index = self._seek_index(index)
        if self._pacer is not None:
            self._pacer.reset()

    @property
    def position(self) -> int:
        return self._index

    @property
    def length(self) -> int | None:
        return self.frames


def open_source(uri: str, **options: Any) -> DemoSource:
    """``demo``, ``demo:SEED``, ``demo:walk`` or ``demo:walk:SEED``."""
    name, _, arg = uri.partition(":")
    if name != "demo":
        raise NotMyFormat(f"{uri}: not 'demo'")
    check_options(uri, options, OPTIONS)
    if arg == "walk" or arg.startswith("walk:"):
        options.setdefault("walk", True)
        arg = arg[5:]
    if arg:
        try:
            options.setdefault("seed", int(arg))
        except ValueError:
            raise SourceError(
                f"{uri}: expected 'demo:SEED' or 'demo:walk:SEED' with an integer seed, got {arg!r}"
            ) from None
    return DemoSource(**options)
