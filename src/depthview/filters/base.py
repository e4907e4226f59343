"""What every filter shares: the input contract, ``out=``, parameter checks and the compiled
loops (numba, the ``fast`` extra), loaded on first use.

A filter is a small object called like a function: ``filtered = f(depth, out=None)``. Depth
is uint16 (z16, librealsense's depth frames; for a Kinect, millimetres from ``dv.to_mm``) or
float32 (librealsense's disparity frames, from ``DisparityTransform``). Stateful filters
(``Temporal``) remember the previous frames until ``reset()`` or a change of shape or dtype.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..errors import DepthviewError

Depth = npt.NDArray[Any]  # (H, W) uint16 (z16) or float32 (disparity)
Z16 = np.dtype(np.uint16)
DISPARITY = np.dtype(np.float32)

INSTALL = "pip install 'depthview[fast]'"


class FilterError(DepthviewError):
    """A filter cannot run here (numba, the ``fast`` extra, is missing)."""


_KERNELS: ModuleType | None = None


def kernels() -> ModuleType:
    """The compiled loops; one clear error naming the extra when numba is missing. The
    recursive filters are a pixel-by-pixel state machine: numpy has no fast equivalent."""
    global _KERNELS
    if _KERNELS is None:
        try:
            from . import _kernels
        except ImportError as exc:
            raise FilterError(
                f"depth filters need numba: {INSTALL} (import failed: {exc})"
            ) from exc
        _KERNELS = _kernels
    return _KERNELS


def check_depth(
    depth: object, name: str, kinds: tuple[np.dtype[Any], ...] = (Z16, DISPARITY)
) -> Depth:
    """``depth`` if it is an (H, W) array of one of ``kinds``, else "expected ..., got ..."."""
    what = " or ".join(_KIND_NAMES[k] for k in kinds)
    if not isinstance(depth, np.ndarray):
        raise TypeError(f"{name}: expected {what} as a numpy array, got {type(depth).__name__}")
    if depth.dtype not in kinds:
        raise ValueError(f"{name}: expected {what}, got dtype {depth.dtype}")
    if depth.ndim != 2 or depth.shape[0] < 2 or depth.shape[1] < 2:
        raise ValueError(f"{name}: expected shape (H, W) with H, W >= 2, got {depth.shape}")
    return depth


_KIND_NAMES = {Z16: "uint16 depth (z16)", DISPARITY: "float32 disparity"}


def check_out(out: object, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Depth | None:
    """A caller's ``out=`` buffer, checked before anything is written to it."""
    if out is None:
        return None
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name}: expected out as a numpy array, got {type(out).__name__}")
    if out.shape != shape or out.dtype != dtype:
        raise ValueError(
            f"{name}: expected out of shape {shape} and dtype {dtype}, got {out.shape} {out.dtype}"
        )
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"{name}: expected out to be a writable C-contiguous array")
    return out


def copy_into(depth: Depth, out: Depth | None) -> Depth:
    """A C-contiguous copy of ``depth`` to filter in place (``out`` when given; ``out`` may
    be ``depth`` itself)."""
    if out is None:
        return np.array(depth, order="C", copy=True)
    if out is not depth:
        np.copyto(out, depth)
    return out


def number(value: object, name: str, lo: float, hi: float, *, integer: bool = False) -> Any:
    """A parameter within librealsense's range for it, as int or float."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        f = float(value)  # type: ignore[arg-type]
        ok = math.isfinite(f) and lo <= f <= hi and (not integer or f.is_integer())
    if not ok:
        kind = "an integer" if integer else "a number"
        bounds = f"{lo:g}..{hi:g}"
        raise ValueError(f"expected {name} as {kind} in {bounds}, got {reprlib.repr(value)}")
    return int(float(value)) if integer else float(value)  # type: ignore[arg-type]


class Filter:
    """Base of the filters: a name for specs and the HUD, its parameters, ``reset``."""

    #: The name in ``--filter`` specs.
    name: ClassVar[str] = ""
    #: Whether it keeps state between frames (``Chain`` keeps one copy per stream).
    stateful: ClassVar[bool] = False

    def __call__(self, depth: Depth, *, out: Depth | None = None) -> Depth:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """The parameters, by their spec names."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget the frames seen so far (stateful filters)."""

    def fresh(self) -> Filter:
        """A filter with the same parameters and no state."""
        return type(self)(**self.params())

    def describe(self) -> str:
        """``name:k=v,...``, as a ``--filter`` spec spells it."""
        args = ",".join(f"{k}={_short(v)}" for k, v in self.params().items())
        return f"{self.name}:{args}" if args else self.name

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
