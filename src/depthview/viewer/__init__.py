"""The desktop viewer: a pygame window showing depth in colour beside the camera image,
and the live point cloud in 3D.

Split by concern so each part can be tested without a window: ``state`` (what the user can
change), ``actions`` (one function per user action), ``keys`` (which key runs which
action), ``layout`` (pure geometry of the panels), ``render`` (surfaces and panels),
``overlays`` (HUD, help, colour bar, messages, marks), ``view3d`` (the point cloud through
OpenGL), ``present`` (how a picture reaches the screen), ``pointing`` (window points to
depth pixels and points, picking, measuring), ``probe`` (what the mouse points at),
``registered`` (where the source's registration lines depth up with colour), ``reader``
(the source on its own thread), ``effects`` (what actions ask of the world), ``stats``
(``--stats``) and ``app`` (the loop).
"""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # keep stdout for paths and --stats

from .app import Viewer, ViewerFailed, ViewerOptions, run_viewer
from .layout import Layout
from .state import ViewState

__all__ = ["Layout", "ViewState", "Viewer", "ViewerFailed", "ViewerOptions", "run_viewer"]
