"""Shape and dtype contracts for the pure functions, with "expected ..., got ..." messages."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def depth_2d(depth: object, name: str = "depth") -> npt.NDArray[np.uint16]:
    """Return ``depth`` if it is an (H, W) uint16 array, else raise a clear error."""
    if not isinstance(depth, np.ndarray):
        raise TypeError(f"expected {name} as a numpy array, got {type(depth).__name__}")
    if depth.dtype != np.uint16:
        raise ValueError(f"expected {name} of dtype uint16, got {depth.dtype}")
    if depth.ndim != 2:
        raise ValueError(f"expected {name} of shape (H, W), got {depth.shape}")
    return depth


def out_array(
    out: npt.NDArray[np.generic] | None, shape: tuple[int, ...], dtype: type[np.generic]
) -> None:
    """Check a caller's ``out=`` buffer before anything is written to it."""
    if out is None:
        return
    if out.shape != shape or out.dtype != np.dtype(dtype):
        raise ValueError(
            f"expected out of shape {shape} and dtype {np.dtype(dtype)}, "
            f"got {out.shape} {out.dtype}"
        )
    if not out.flags.c_contiguous:
        raise ValueError("expected out to be C-contiguous, got a strided view")
