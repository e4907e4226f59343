"""What every source is: an iterator of ``Frame`` with a context manager, plus a small
control interface (tilt, LED, formats, flags) that sources which cannot do a control
refuse with ``UnsupportedControl`` rather than silently ignoring it."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from types import TracebackType

from ..errors import UnsupportedControl
from ..frame import DepthFormat, Frame, LedMode, VideoFormat

#: Camera flags a live Kinect may support (libfreenect's ``freenect_flag`` names, lower case).
CAMERA_FLAGS = (
    "auto_exposure",
    "auto_white_balance",
    "raw_color",
    "mirror_depth",
    "mirror_video",
    "near_mode",
)


class Source(abc.ABC):
    """An iterable of frames. Use as ``with dv.open(uri) as src: for frame in src: ...``."""

    #: Human-readable name for HUDs and messages, e.g. ``"demo"`` or ``"kinect:0 (A00361...)"``.
    name: str = "source"
    #: Nominal frame rate, or None when unknown.
    fps: float | None = None
    #: Whether frames carry video: False for a depth-only recording, None when not known.
    has_video: bool | None = None

    @abc.abstractmethod
    def read(self) -> Frame:
        """Return the next frame; raise ``StopIteration`` at the end of a finite source."""

    def close(self) -> None:  # noqa: B027 - sources without resources need not override
        """Release the device or files. Safe to call twice."""

    # -- iteration and context management -------------------------------------------------
    def __iter__(self) -> Iterator[Frame]:
        return self

    def __next__(self) -> Frame:
        return self.read()

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- random access (recordings) -------------------------------------------------------
    @property
    def seekable(self) -> bool:
        """True when ``seek`` works (recordings, frame files)."""
        return False

    def __len__(self) -> int:
        raise TypeError(f"{self.name} has no length: it is a live or endless source")

    def seek(self, index: int) -> None:
        """Make the next ``read`` return frame ``index``."""
        raise UnsupportedControl(f"{self.name} cannot seek: it is not a recording")

    @property
    def position(self) -> int:
        """Index of the next frame ``read`` returns."""
        raise UnsupportedControl(f"{self.name} has no position: it is not a recording")

    # -- device controls ------------------------------------------------------------------
    def _unsupported(self, what: str) -> UnsupportedControl:
        return UnsupportedControl(f"{self.name} cannot {what}")

    def set_tilt(self, degrees: float) -> None:
        """Tilt the motor to ``degrees`` (clamped to -30..+30)."""
        raise self._unsupported("tilt")

    def set_led(self, mode: LedMode) -> None:
        """Set the LED mode."""
        raise self._unsupported("set the LED")

    def set_video_format(self, fmt: VideoFormat) -> None:
        """Switch the video stream's format."""
        raise self._unsupported("change the video format")

    def set_depth_format(self, fmt: DepthFormat) -> None:
        """Switch the depth stream's format."""
        raise self._unsupported("change the depth format")

    def set_flag(self, flag: str, on: bool) -> None:
        """Set a camera flag, one of ``CAMERA_FLAGS``."""
        raise self._unsupported(f"set {flag.replace('_', ' ')}")

    def set_ir_brightness(self, value: int) -> None:
        """Set the IR projector brightness (1..50)."""
        raise self._unsupported("change IR brightness")

    def get_ir_brightness(self) -> int:
        """Read the IR projector brightness."""
        raise self._unsupported("read IR brightness")
