"""How the integers a depth file stores become a frame's depth values, and why.

A file source decides its units once, from the user's word (``depth_format=``,
``depth_scale=``) or the evidence beside the files (see ``file_layouts``), and keeps the
decision with a one-line reason that ``depthview info`` shows. Values are kept as stored
whenever a ``DepthFormat`` says exactly what they mean (millimetres, TUM's fifths of a
millimetre, raw disparity), so no resolution is lost; other scales are converted to the
nearest format that holds them. In every metric file 65535 is "no reading" (7-Scenes
marks missing depth so; no depth camera measures 65 m).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._checks import DEPTH_SCALE
from ..errors import SourceError, ValuesPastFormat
from ..frame import DepthFormat

#: Formats a file may hold (packed formats exist on the USB wire only).
FILE_FORMATS = (
    DepthFormat.RAW_11BIT,
    DepthFormat.RAW_10BIT,
    DepthFormat.MM,
    DepthFormat.REGISTERED,
    DepthFormat.TUM,
)
#: ``depth_format=`` names for files beyond ``DepthFormat.parse``'s.
SUN3D = "sun3d"
SATURATED = 65535


@dataclass(frozen=True, slots=True)
class DepthUnits:
    """The frames' ``format``, how stored values get there, and ``note``: why, in a line."""

    format: DepthFormat
    note: str
    #: Stored units per metre when they are converted to ``format`` (None: kept as stored).
    scale: float | None = None
    #: Stored values are millimetres rotated left by 3 bits (SUN3D).
    sun3d: bool = False
    #: Nothing said what the values count: ``format`` is the convention's guess.
    guessed: bool = False
    #: The option the user gave for them (``depth_scale=1000``), "" when none.
    said: str = ""

    @classmethod
    def of(cls, fmt: DepthFormat, reason: str, *, guessed: bool = False) -> DepthUnits:
        """``fmt`` kept as stored, with the reason for choosing it."""
        return cls(fmt, f"{fmt.unit_name} ({reason})", guessed=guessed)

    @property
    def guess(self) -> str:
        """One line for where the user looks (``info``, the HUD, ``export``'s first line)
        when the units are a guess; "" when something said what they are."""
        if not self.guessed:
            return ""
        if self.format is not DepthFormat.MM:
            return f"units are a guess: {self.format.unit_name}; if not, say --depth-format mm"
        return (  # values past 2047 are no raw disparity: the other units of 16-bit images
            f"units are a guess: {self.format.unit_name}; if not, say --depth-scale (units per "
            "metre: 5000 for TUM) or, for raw disparity up to 2047, --depth-format 11bit"
        )

    def decode(self, stored: npt.NDArray[Any], where: str) -> npt.NDArray[np.uint16]:
        """Frame values from stored values (integers of any width), checked against the
        format's range."""
        if stored.dtype.kind not in "ui":
            raise SourceError(f"{where}: expected integer depth values, got {stored.dtype}")
        lo = int(stored.min()) if stored.size else 0  # the values' own span (trial V)
        hi = int(stored.max()) if stored.size else 0
        if lo < 0 or hi > 65535:
            raise SourceError(f"{where}: expected depth values 0..65535, got {lo}..{hi}")
        values = stored.astype(np.uint16, copy=False)
        if self.scale is not None:
            per_metre = self.format.units_per_metre or 1000.0
            converted = np.rint(values * (per_metre / self.scale))
            readings = (values != 0) & (values != SATURATED)
            lost = readings & ((converted < 1) | (converted > SATURATED - 1))
            if lost.any():  # a scale that drops readings is the wrong scale: never silently
                shown = np.sort(values[lost])
                near, far = shown[0] / self.scale, shown[-1] / self.scale
                raise SourceError(
                    f"{where}: depth_scale={self.scale:g} units per metre puts "
                    f"{int(lost.sum())} of {int(readings.sum())} readings (stored "
                    f"{shown[0]}..{shown[-1]}) at {near:.4g}..{far:.4g} m, which "
                    f"{self.format.unit_name} cannot hold; check the depth scale"
                )
            converted[~readings] = 0
            out: npt.NDArray[np.uint16] = converted.astype(np.uint16)
            return out
        if self.sun3d:
            values = (values >> np.uint16(3)) | (values << np.uint16(13))
            hi = SATURATED if (values == SATURATED).any() else 0
        if self.format.is_metric:
            return (
                np.where(values == SATURATED, np.uint16(0), values) if hi == SATURATED else values
            )
        if hi > self.format.max_value:
            raise ValuesPastFormat(
                f"{where}: expected {self.format.name} values 0..{self.format.max_value}, "
                f"got up to {hi}",
                "say depth_format='mm' (or another) if they are not raw disparity",
            )
        return values


def from_options(options: dict[str, Any]) -> DepthUnits | None:
    """The units the user asked for with ``depth_format=`` or ``depth_scale=`` (popped from
    ``options``), None when they said nothing."""
    fmt = options.pop("depth_format", None)
    scale = options.pop("depth_scale", None)
    if fmt is not None and scale is not None:
        raise SourceError(f"expected depth_format or depth_scale, got both ({fmt!r} and {scale!r})")
    if scale is not None:
        return _scaled(scale)
    if fmt is None:
        return None
    if isinstance(fmt, str) and fmt.strip().lower() == SUN3D:
        return DepthUnits(
            DepthFormat.MM,
            "millimetres rotated by 3 bits (depth_format='sun3d')",
            sun3d=True,
            said="depth_format='sun3d'",
        )
    try:
        parsed = DepthFormat.parse(fmt, also=(SUN3D,))
    except ValueError as exc:
        raise SourceError(f"depth_format: {exc}") from None
    if parsed not in FILE_FORMATS:
        names = ", ".join(f.name for f in FILE_FORMATS)
        raise SourceError(f"depth_format: expected one of {names} for files, got {parsed.name}")
    said = f"depth_format={parsed.name.lower()!r}"
    return dataclasses.replace(DepthUnits.of(parsed, said), said=said)


def _scaled(scale: Any) -> DepthUnits:
    try:
        value = DEPTH_SCALE.check(scale)
    except ValueError as exc:
        raise SourceError(f"depth_scale: {exc}") from None
    said = f"depth_scale={value:g} units per metre"
    option = f"depth_scale={value:g}"
    if value == 1000:
        return dataclasses.replace(DepthUnits.of(DepthFormat.MM, said), said=option)
    if value == 5000:
        return dataclasses.replace(DepthUnits.of(DepthFormat.TUM, said), said=option)
    # Finer than TUM's units: keep 0.2 mm (their range, under 13.1 m, fits); else whole mm.
    fmt = DepthFormat.TUM if value > 5000 else DepthFormat.MM
    return DepthUnits(fmt, f"{fmt.unit_name}, converted ({said})", scale=value, said=option)


__all__ = ["FILE_FORMATS", "SUN3D", "DepthUnits", "from_options"]
