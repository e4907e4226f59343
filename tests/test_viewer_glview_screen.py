"""Parity with libfreenect's own viewer, measured on the screen: Debian's
``freenect-glview`` plays the shipped sample through fakenect while depthview shows the
same recording, and both windows are read back from the X server (XGetImage). Each depth
panel must be, pixel for pixel, glview's colouring of one of the recording's frames (the
independent reference: glview.c's table re-done in ``tests/test_colorize.py``, checked
against ``dv.colorize``), and where both show the same frame, the same pixels."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_xcapture import (
    capture_stable,
    find_window,
    press_key,
    program_window,
    quit_program,
    x_env,
)
from _helpers_xvfb import start_xvfb
from depthview.sources import sample
from test_colorize import glview_reference

pytestmark = pytest.mark.xvfb
xvfb = pytest.fixture(start_xvfb)
FAKENECT_LIB = Path("/usr/lib/x86_64-linux-gnu/fakenect")


def reference_panels() -> list[np.ndarray]:
    """glview's colouring of every depth frame of the sample, from glview.c's arithmetic."""
    table = glview_reference()
    with dv.open("sample", realtime=False) as src:
        return [table[np.minimum(f.depth, 2047)] for f in src]


def matching_frame(panel: np.ndarray, references: list[np.ndarray]) -> int:
    """The index of the reference ``panel`` equals; fails when none does."""
    for i, ref in enumerate(references):
        if np.array_equal(panel, ref):
            return i
    best = max((float((panel == ref).all(axis=2).mean()), i) for i, ref in enumerate(references))
    raise AssertionError(f"the panel is no frame of the recording (best: {best[0]:.2%})")


def test_depth_panel_on_screen_matches_freenect_glview(xvfb: str, tmp_path: Path) -> None:
    glview = shutil.which("freenect-glview")
    assert glview, "freenect-glview is missing (apt-get install libfreenect-bin)"
    assert FAKENECT_LIB.is_dir(), "fakenect is missing (apt-get install libfreenect-bin)"
    folder = tmp_path / "rec"
    sample.write_to(folder)
    references = reference_panels()
    fake = {**x_env(xvfb), "FAKENECT_PATH": str(folder), "LD_LIBRARY_PATH": str(FAKENECT_LIB)}
    theirs = subprocess.Popen(
        [glview], env=fake, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        window = find_window("LibFreenect", xvfb)
        time.sleep(2.0)  # past the recording's end: glview keeps its last frame
        their_panel = capture_stable(window, xvfb)[:480, :640]
    finally:
        theirs.terminate()
        theirs.wait(10)
    their_frame = matching_frame(their_panel, references)

    argv = ["view", str(folder), "--layout", "depth", "--no-hud"]
    with program_window(argv, xvfb, "depthview - ", prefix=True) as (ours, window):
        time.sleep(1.0)
        press_key(window, "space", xvfb)  # pause on a frame, then read the screen
        our_panel = capture_stable(window, xvfb)
        quit_program(ours, window, xvfb)
    assert our_panel.shape == (480, 640, 3)
    our_frame = matching_frame(our_panel, references)
    if our_frame == their_frame:
        assert np.array_equal(our_panel, their_panel)
