"""What every sink is: frames in, one tool's messages out. The SDK-specific part of each
sink (``rerun.py``, ``foxglove.py``) only says how to send a depth, video or accelerometer
item; which items, names and times is decided here and in ``content``.
"""

from __future__ import annotations

import abc
import importlib
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import SinkError
from ..frame import DepthFormat, Frame, check_frame, record_times
from ..geometry import Intrinsics
from ..outputs import disk_full
from ..registration import Registration
from .content import (
    AccelItem,
    DepthItem,
    ModelItem,
    Names,
    Planner,
    Times,
    VideoItem,
    depth_mm,
)


def require(module: str, extra: str) -> Any:
    """Import a tool's SDK on first use, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise SinkError(
            f"{extra} needs the {module.split('.')[0]} package ({exc.name or module} is "
            f"missing): pip install 'depthview[{extra}]'"
        ) from None


def no_room(folder: Path, needed: int) -> bool:
    """True when ``folder``'s file system has less free space than ``needed`` bytes."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < needed


def reason(exc: BaseException, folder: Path | None = None) -> str:
    """One line for an SDK's failure: "disk full" when it is, else its first line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if (
        disk_full(exc)
        or "No space left" in text
        or (folder is not None and no_room(folder, 1 << 16))
    ):
        return "disk full"
    return text


class Sink(abc.ABC):
    """Send frames to a viewer or a file: ``with sink: sink.log(frame)``.

    ``log(frame, device=...)`` sends every record that arrived with the frame once, at its
    own stream's time; ``device`` (a serial or index) puts several Kinects side by side
    under ``kinect/<device>``. ``intrinsics`` is the depth camera model (default: the Kinect
    v1's; ``set_camera`` sets one per device). ``log`` may be called from several threads."""

    #: Where the data goes, for messages: a URL, a file path or "spawned viewer".
    where: str = ""
    #: The file written, for sinks that write one: each frame first checks there is room
    #: for it, so a full disk ends the sink with one line instead of a failing SDK.
    file: Path | None = None
    #: The SDK's exceptions, turned into one-line ``SinkError``s (``reason``).
    sdk_errors: tuple[type[BaseException], ...] = (RuntimeError, OSError)

    def __init__(
        self,
        *,
        device: str | int | None = None,
        raw_depth: bool = False,
        intrinsics: Intrinsics | None = None,
        registration: Registration | None = None,
    ) -> None:
        self.device = device
        self.raw_depth = raw_depth
        # Checked here, not at the first log (trial AR D10: an AttributeError there).
        if intrinsics is not None and not isinstance(intrinsics, Intrinsics):
            raise TypeError(f"expected intrinsics as a dv.Intrinsics, got {intrinsics!r}")
        if registration is not None and not isinstance(registration, Registration):
            raise TypeError(
                f"expected registration as a dv.Registration, got {type(registration).__name__}"
            )
        self.intrinsics = intrinsics
        self.registration = registration
        self.frames = 0
        self._devices: dict[str | int | None, tuple[Names, Planner]] = {}
        self._lock = threading.Lock()
        self._closed = False
        # Build the millimetre table (and load the compiled lookup) now, not on the first frame.
        depth_mm(np.zeros((1, 1), dtype=np.uint16), DepthFormat.RAW_11BIT)

    def log(self, frame: Frame, *, device: str | int | None = None) -> None:
        """Send ``frame``'s records (depth in mm, video, accelerometer) with their times."""
        self._checked(frame)
        key = self.device if device is None else device
        with self._lock:
            if self._closed:
                raise SinkError(f"{self.where}: log after close")
            names, planner = self._state(key)
            if self.file is not None:
                size = sum(a.nbytes for a in (frame.depth, frame.video) if a is not None)
                if no_room(self.file.parent, 2 * size):
                    raise SinkError(f"{self.where}: cannot write (disk full)")
            try:
                for item in planner.items(frame):
                    self._send(names, item)
                self._check_sent()
            except self.sdk_errors as exc:
                raise SinkError(f"{self.where}: cannot send ({self._reason(exc)})") from None
            self.frames += 1

    def log_model(
        self,
        timestamp: float,
        path: npt.NDArray[np.float32],
        pose: npt.NDArray[np.float64],
        mesh: tuple[npt.NDArray[np.float32], npt.NDArray[np.int32], npt.NDArray[np.uint8]]
        | None = None,
    ) -> None:
        """Send a scan's model at ``timestamp`` (the frame's, seconds): the camera path so
        far, the pose now and, when it changed, the mesh (``ModelItem``)."""
        try:
            self._check_time(float(timestamp), "scan's model")
        except ValueError as exc:
            raise SinkError(f"{self.where}: {exc}") from None
        times = Times(len(path), float(timestamp), timestamp > 1e9, None)
        item = ModelItem(times, np.asarray(path, np.float32), np.asarray(pose, np.float64), mesh)
        with self._lock:
            if self._closed:
                raise SinkError(f"{self.where}: log after close")
            try:
                self._send_model(item)
                self._check_sent()
            except self.sdk_errors as exc:
                raise SinkError(f"{self.where}: cannot send ({self._reason(exc)})") from None

    def _send_model(self, item: ModelItem) -> None:
        raise SinkError(f"{self.where}: this sink does not take a scan's model")

    def set_camera(
        self,
        intrinsics: Intrinsics | None,
        *,
        registration: Registration | None = None,
        device: str | int | None = None,
        aligned: bool = False,
    ) -> None:
        """One Kinect's (``device``) camera: its depth intrinsics and the registration whose
        millimetre table converts its raw depth (its source's ``intrinsics`` and
        ``registration``; None: the Kinect's for each frame's size); before its first frame.
        ``aligned``: its depth lies in the colour image's pixels (``Source.video_aligned``,
        convert's aligned pairs), so it is in the colour camera's frame."""
        key = self.device if device is None else device
        with self._lock:
            planner = self._state(key)[1]
            planner.intrinsics, planner.registration = intrinsics, registration
            planner.aligned = aligned

    def _state(self, device: str | int | None) -> tuple[Names, Planner]:
        state = self._devices.get(device)
        if state is None:
            state = self._devices[device] = self._fresh_state(device)
        return state

    def _fresh_state(self, device: str | int | None) -> tuple[Names, Planner]:
        """A device's names and a new planner (nothing sent yet) with the sink's settings."""
        planner = Planner(
            raw_depth=self.raw_depth, intrinsics=self.intrinsics, registration=self.registration
        )
        return Names.for_device(device), planner

    def close(self) -> None:
        """Flush what was sent and release the viewer, server or file. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._close()
            except self.sdk_errors as exc:
                what = "cannot write" if self.file is not None else "cannot finish"
                raise SinkError(f"{self.where}: {what} ({self._reason(exc)})") from None

    def _send(self, names: Names, item: DepthItem | VideoItem | AccelItem) -> None:
        if isinstance(item, DepthItem):
            self._send_depth(names, item)
        elif isinstance(item, VideoItem):
            self._send_video(names, item)
        else:
            self._send_accel(names, item)

    def _reason(self, exc: BaseException) -> str:
        return reason(exc, None if self.file is None else self.file.parent)

    def _checked(self, frame: Frame) -> None:
        """Refuse in one ``SinkError`` a frame export's writers would refuse (trial AN D5),
        or whose times this sink's format cannot hold (``_check_time``)."""
        if not isinstance(frame, Frame):
            raise TypeError(f"expected a depthview Frame, got {type(frame).__name__}")
        try:
            check_frame(frame)
            frame.own_records()  # a reading with no counts (NaN) is refused here, named
            for what, t in record_times(frame):
                self._check_time(t, f"{what} record")
        except ValueError as exc:
            raise SinkError(f"{self.where}: frame {frame.index}: {exc}") from None

    def _check_time(self, t: float, what: str) -> None:  # noqa: B027 (Rerun takes any time)
        """Refuse (``ValueError``) a time (seconds) this sink's format cannot hold."""

    def _check_sent(self) -> None:  # noqa: B027 (most SDKs raise at once: nothing to do)
        """Raise the SDK's failure that its background writer reported, if any."""

    @abc.abstractmethod
    def _send_depth(self, names: Names, item: DepthItem) -> None: ...

    @abc.abstractmethod
    def _send_video(self, names: Names, item: VideoItem) -> None: ...

    @abc.abstractmethod
    def _send_accel(self, names: Names, item: AccelItem) -> None: ...

    @abc.abstractmethod
    def _close(self) -> None: ...

    def __enter__(self) -> Sink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.where!r}, frames={self.frames})"
