"""The viewer in a real X11 window under Xvfb: the picture it draws (``--screenshot``)
matches ``dv.colorize`` pixel for pixel. That this picture is what the X server shows is
checked in ``test_viewer_screen.py``. Fails (not skips) without Xvfb."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import depthview as dv
from _helpers_xcapture import run_on_x
from _helpers_xvfb import start_xvfb

pytestmark = pytest.mark.xvfb
xvfb = pytest.fixture(start_xvfb)


@pytest.mark.parametrize("layout", [None, "both"])
def test_real_window_matches_colorize(
    xvfb: str, person_recording: Path, tmp_path: Path, layout: str | None
) -> None:
    shot = tmp_path / "shot.png"
    args = ["--frames", "3", "--no-hud", "--stats", "--screenshot", str(shot)]
    layout_args = ["--layout", layout] if layout else []
    proc = run_on_x(["view", str(person_recording), *args, *layout_args], xvfb, timeout=60)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    assert stats["frames_shown"] == 3
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("RGB"))
    # This recording has no video: by default the window shows depth alone.
    assert pixels.shape == ((480, 1280, 3) if layout == "both" else (480, 640, 3))
    with dv.open(str(person_recording), realtime=False) as rec:
        rec.seek(stats["last_frame_index"])
        frame = rec.read()
    expected = dv.colorize(frame.depth)
    assert np.array_equal(pixels[:, :640], expected)
    assert not np.array_equal(pixels[:, :640], dv.colorize(frame.depth, "turbo"))
    if layout == "both":
        assert (pixels[:, 640:] == 24).all()  # the empty video panel
