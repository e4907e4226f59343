"""The scan window as the user sees it: ``depthview scan demo:walk`` in a real X window
under Xvfb, read back from the X server. The model panel must fill in and change while
the camera moves, the paused window must be the picture the program saves on quitting,
and quitting writes the mesh. Keys go through the X server (XTest)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _helpers_xcapture import capture, capture_stable, find_window, press_key
from _helpers_xvfb import start_xvfb
from depthview.frame import RAW_11BIT_INVALID, Frame
from depthview.scan import Scanner
from depthview.scene_walk import WalkScene
from depthview.viewer.scan_window import PANEL, hud_lines

pytestmark = pytest.mark.xvfb
xvfb = pytest.fixture(start_xvfb)


def test_the_model_grows_on_screen(xvfb: str, tmp_path: Path) -> None:
    env = {**os.environ, "DISPLAY": xvfb, "SDL_VIDEODRIVER": "x11"}
    shot = tmp_path / "shot.png"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "depthview",
            "scan",
            "demo:walk",
            "room.ply",
            "--screenshot",
            str(shot),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        window = find_window("depthview scan - demo:walk", xvfb, timeout=60)
        model_lit: list[float] = []
        shots = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            time.sleep(1.0)
            shots.append(capture(window, xvfb))
            model = shots[-1][: PANEL[1], PANEL[0] :]
            model_lit.append(float((model.max(axis=2) > 30).mean()))
            if model_lit[-1] > 0.4 and len(shots) >= 3:
                break
        assert model_lit[-1] > 0.4, f"the model panel is lit at {model_lit}"
        assert not np.array_equal(shots[-1], shots[-2]), "the window on screen is frozen"
        depth = shots[-1][: PANEL[1], : PANEL[0]]
        assert (depth.max(axis=2) > 30).mean() > 0.5
        hud = shots[-1][PANEL[1] :, PANEL[0] :]
        green = (hud[:, :, 1] > 180) & (hud[:, :, 0] < 140) & (hud[:, :, 2] < 140)
        assert green.sum() > 20, "no green 'tracking' in the HUD"
        press_key(window, "space", xvfb)
        paused = capture_stable(window, xvfb)
        press_key(window, "q", xvfb)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with Image.open(shot) as im:
        drawn = np.asarray(im.convert("RGB"))
    assert np.array_equal(paused, drawn), "the screen differs from the program's picture"
    header = (tmp_path / "room.ply").read_bytes()[:400]
    assert b"element face" in header and (tmp_path / "room-trajectory.txt").exists()


def test_hud_says_tracking_lost_in_red() -> None:
    scene = WalkScene(seed=6, width=160, height=120)
    scanner = Scanner()
    depth, rgb, _ = scene.render(0)
    scanner.add(Frame(depth=depth, video=rgb))
    figures, state, colour = hud_lines(scanner, paused=False)
    assert state == "tracking" and "fused 1  lost 0" in figures
    scanner.add(Frame(depth=np.full_like(depth, RAW_11BIT_INVALID), video=rgb))
    figures, state, colour = hud_lines(scanner, paused=False)
    assert state == "tracking lost: move back to the model" and colour[0] > 200 > colour[1]
    assert "fused 1  lost 1" in figures
