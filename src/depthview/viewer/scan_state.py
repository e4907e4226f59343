"""What the user has chosen in the scan window, as plain data apart from the window, and
the handlers that change it (one per key or mouse gesture).

The model is seen from the camera's pose until the user orbits it: then the view holds on
the pose the orbit started from (``anchor``) and turns about a pivot on the model with the
3D view's own ``Camera3D`` (drag to orbit, wheel to zoom), until ``z`` follows the camera
again. Handlers only change this state; the window (``scan_window``) carries out what they
ask of the scanner and the disk (``reset_asked``, ``save_asked``) and redraws.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .state import Camera3D
from .view3d import view_matrix

F64 = npt.NDArray[np.float64]

#: What the left panel shows: the frame's depth (coloured) or its colour camera's picture.
LEFT_PANELS = ("depth", "colour")


@dataclass
class ScanViewState:
    """The scan window's choices: pause, the model's look, the left panel, the orbit."""

    paused: bool = False
    #: The model in its colours (True) or shaded grey by its normals (False).
    coloured: bool = True
    left: str = "depth"
    #: The orbit about the model, in the coordinates of the camera at ``anchor``.
    camera: Camera3D = field(default_factory=Camera3D)
    #: The camera pose (camera to world) the orbit is about; None: the view follows the camera.
    anchor: F64 | None = None
    dragging: bool = False
    reset_asked: bool = False
    save_asked: bool = False
    quit: bool = False
    message: str = ""

    def eye_pose(self, camera_pose: F64) -> F64:
        """Where the model is seen from (4x4, eye to world): the camera's pose, or the orbit's
        eye about the anchor."""
        anchor = camera_pose if self.anchor is None else self.anchor
        pose: F64 = anchor @ np.linalg.inv(view_matrix(self.camera))
        return pose


def pause(state: ScanViewState) -> None:
    state.paused = not state.paused


def reset_model(state: ScanViewState) -> None:
    state.reset_asked = True
    state.message = "model reset"


def save(state: ScanViewState) -> None:
    state.save_asked = True


def quit_scan(state: ScanViewState) -> None:
    state.quit = True


def model_look(state: ScanViewState) -> None:
    """The model in its colours or shaded."""
    state.coloured = not state.coloured
    state.message = "model in its colours" if state.coloured else "model shaded"


def left_panel(state: ScanViewState) -> None:
    """The left panel: depth or colour."""
    state.left = LEFT_PANELS[(LEFT_PANELS.index(state.left) + 1) % len(LEFT_PANELS)]
    state.message = f"left: {state.left}"


def camera_view(state: ScanViewState) -> None:
    """The model seen from the camera's pose again (``z``)."""
    state.anchor = None
    state.camera = Camera3D()


def press(state: ScanViewState) -> None:
    state.dragging = True


def release(state: ScanViewState) -> None:
    state.dragging = False


def orbit(state: ScanViewState, drag: tuple[int, int], pose: F64, pivot_m: float) -> None:
    """Turn the model with a drag; the first one holds the view on the camera's ``pose``
    and pivots ``pivot_m`` in front of it (on the model where it is seen)."""
    if state.anchor is None:
        state.anchor, state.camera = pose.copy(), Camera3D(distance=pivot_m, pivot=(0, 0, pivot_m))
    state.camera.turn(*drag)


def zoom(state: ScanViewState, notches: int, pose: F64, pivot_m: float) -> None:
    """Move the eye towards the pivot (``notches`` > 0) or away."""
    if state.anchor is None:
        state.anchor, state.camera = pose.copy(), Camera3D(distance=pivot_m, pivot=(0, 0, pivot_m))
    state.camera.zoom(notches)
