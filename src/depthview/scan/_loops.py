"""The scanner's compiled loops, or one line naming the pip command that brings numba."""

from __future__ import annotations

try:
    from . import _kernels as K
except ImportError as exc:  # numba missing
    raise ImportError(
        f"depthview's scan needs numba ({exc}): pip install 'depthview[scan]'"
    ) from None

__all__ = ["K"]
