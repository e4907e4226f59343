"""The desktop viewer: a pygame window showing depth in colour beside the camera image.

Split by concern so each part can be tested without a window: ``layout`` (pure geometry),
``keys`` (key -> action table), ``probe`` (what the mouse points at), ``hud`` (text and
colour bar), ``reader`` (the source on its own thread) and ``app`` (the loop).
"""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # keep stdout for paths and --stats

from .app import Viewer, ViewerOptions, run_viewer
from .layout import Layout

__all__ = ["Layout", "Viewer", "ViewerOptions", "run_viewer"]
