"""A live 3D model from a moving depth camera (KinectFusion's scheme, on the CPU).

``Scanner`` tracks each frame against the model and fuses it; ``ScanParams`` holds every
parameter with its unit; ``mesh``, ``points`` and ``trajectory`` are what it built. The
per-frame loops need numba and the final mesh scikit-image: ``pip install
'depthview[scan]'``.
"""

from __future__ import annotations

from .params import ScanParams
from .scanner import PoseStamp, Scanner, Tracked

__all__ = ["PoseStamp", "ScanParams", "Scanner", "Tracked"]
