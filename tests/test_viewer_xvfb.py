"""The viewer in a real X11 window under Xvfb: the picture read back from the window after
``display.flip`` matches ``dv.colorize`` pixel for pixel. Fails (not skips) without Xvfb."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import depthview as dv

pytestmark = pytest.mark.xvfb


def _free_display() -> int:
    for n in range(120, 400):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A private Xvfb server; its DISPLAY string."""
    exe = shutil.which("Xvfb")
    if exe is None:
        pytest.fail("Xvfb is not installed (CI installs it: apt-get install xvfb)")
    n = _free_display()
    proc = subprocess.Popen(
        [exe, f":{n}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{n}").exists():
                break
            if proc.poll() is not None:
                pytest.fail(f"Xvfb :{n} exited with {proc.returncode}")
            time.sleep(0.05)
        else:
            pytest.fail(f"Xvfb :{n} did not start")
        yield f":{n}"
    finally:
        proc.terminate()
        proc.wait(5)


@pytest.mark.parametrize("layout", [None, "both"])
def test_real_window_matches_colorize(
    xvfb: str, person_recording: Path, tmp_path: Path, layout: str | None
) -> None:
    shot = tmp_path / "shot.png"
    env = {**os.environ, "DISPLAY": xvfb, "SDL_VIDEODRIVER": "x11"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "depthview",
            "view",
            str(person_recording),
            "--frames",
            "3",
            "--no-hud",
            "--stats",
            "--screenshot",
            str(shot),
            *(["--layout", layout] if layout else []),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
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
