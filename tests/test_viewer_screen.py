"""What the user sees: the viewer runs freely (no ``--frames``) in a real X window under
Xvfb with Mesa, and the window is read back from the X server (XGetImage), never from the
program's own surface. It must change while frames arrive (a frozen window fails), and
once paused it must be exactly the picture the viewer saves of that frame on quitting (a
black or stale window fails). Keys go through the X server too (XTest). The 3D layouts run
with the points drawn by the CPU and by the GPU (``DEPTHVIEW_POINTS``)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from _helpers_xcapture import (
    assert_screen_is_saved,
    capture,
    capture_stable,
    press_key,
    program_window,
    quit_program,
    wait_for_change,
    x_env,
)
from _helpers_xvfb import start_xvfb

pytestmark = pytest.mark.xvfb
xvfb = pytest.fixture(start_xvfb)


def run_on_screen(
    display: str,
    args: list[str],
    shot: Path,
    gl: str | None = None,
    keys: tuple[str, ...] = (),
    points: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``depthview view ARGS`` freely; return the X server's window while running and
    once paused, after checking the paused window is the picture the viewer saved."""
    env = x_env(display)
    env.pop("DEPTHVIEW_GL", None)
    env.pop("DEPTHVIEW_POINTS", None)
    if gl is not None:
        env["DEPTHVIEW_GL"] = gl
    if points is not None:
        env["DEPTHVIEW_POINTS"] = points
    argv = ["view", *args, "--screenshot", str(shot)]
    with program_window(argv, display, f"depthview - {args[0]}", env=env) as (proc, window):
        time.sleep(1.0)  # frames are flowing
        first = capture(window, display)
        running = wait_for_change(window, first, display, timeout=4.0, every=0.3)
        assert not np.array_equal(running, first), "the window on screen is frozen"
        for key in keys:  # e.g. another layout: the window changes size
            press_key(window, key, display)
            time.sleep(0.5)
        press_key(window, "space", display)  # pause on the frame shown now
        paused = capture_stable(window, display)
        quit_program(proc, window, display)
    assert_screen_is_saved(paused, shot, "the viewer")
    return running, paused


@pytest.mark.parametrize(
    ("layout", "points"),
    [
        ("both", None),
        ("depth", None),
        ("video", None),
        ("overlay", None),
        ("3d", "cpu"),
        ("3d", "gpu"),
        ("3d-video", "cpu"),
        ("3d-video", "gpu"),
    ],
)
def test_the_screen_shows_what_the_viewer_drew(
    xvfb: str, tmp_path: Path, layout: str, points: str | None
) -> None:
    _, paused = run_on_screen(
        xvfb, ["demo", "--layout", layout], tmp_path / "shot.png", points=points
    )
    # Not black: most of the window is a picture (the demo room fills every panel).
    lit = (paused.max(axis=2) > 40).mean()
    assert lit > 0.5, f"only {lit:.0%} of the window is lit"


def test_without_opengl_the_2d_view_still_reaches_the_screen(xvfb: str, tmp_path: Path) -> None:
    # DEPTHVIEW_GL=off: the plain SDL window surface, as where there is no usable OpenGL.
    run_on_screen(xvfb, ["demo", "--layout", "both"], tmp_path / "shot.png", gl="off")


def test_without_opengl_the_cpus_3d_view_reaches_the_screen(xvfb: str, tmp_path: Path) -> None:
    # No OpenGL at all (the plain SDL window): the points are drawn on the CPU.
    _, paused = run_on_screen(xvfb, ["demo", "--layout", "3d"], tmp_path / "shot.png", gl="off")
    lit = (paused.max(axis=2) > 40).mean()
    assert lit > 0.5, f"only {lit:.0%} of the window is lit"


def test_the_screen_follows_a_change_of_layout(xvfb: str, tmp_path: Path) -> None:
    # v five times from both: through depth, video, overlay and 3d (640 wide) to 3d-video.
    _, paused = run_on_screen(
        xvfb, ["demo", "--layout", "both"], tmp_path / "shot.png", keys=("v",) * 5
    )
    assert paused.shape[1] == 1280


def test_ctrl_c_closes_the_window_and_says_so(xvfb: str, tmp_path: Path) -> None:
    """Trial E: Ctrl-C in the terminal of a running viewer ends it as it ends export, record
    and stream: exit 130 and one line, the window closed through its own quit (so --stats is
    still printed and --screenshot saved), not a silent exit 0."""
    shot = tmp_path / "s.png"
    argv = ["view", "demo", "--stats", "--screenshot", str(shot)]
    with program_window(argv, xvfb, "depthview - demo") as (proc, window):
        # frames flow: the loop runs (the first draw may compile)
        wait_for_change(window, capture(window, xvfb), xvfb, timeout=30, every=0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted, the window closed" in err
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["interrupted"] is True and stats["frames_shown"] > 0
    assert shot.stat().st_size > 0
