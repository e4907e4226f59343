"""``depthview stream --to rerun-web`` in a real browser: headless Chromium (Debian's package,
software WebGL) opens the served page, and the screenshot must show the depth image in
Rerun's turbo colours. Loopback only: the browser resolves no other host name."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from _helpers_browser import screenshot
from _helpers_sinks import rerun_env
from test_stream_live import _stream

#: Where the last screenshot is kept for a person to look at.
SHOT = Path("/tmp") / "depthview-rerun-web.png"
#: The depth view and its 3D points fill far more of the page than this; the UI alone none.
MIN_SHARE = 0.03


def _turbo_fraction(rgb: np.ndarray) -> float:
    """Share of clearly coloured pixels that lie on the turbo colour map."""
    from matplotlib import colormaps

    turbo = (colormaps["turbo"](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.int32)
    px = rgb.reshape(-1, 3).astype(np.int32)
    coloured = px[(px.max(axis=1) - px.min(axis=1)) > 60]  # the viewer's UI is grey
    if not len(coloured):
        return 0.0
    sample = coloured[:: max(1, len(coloured) // 20000)]
    dist = np.abs(sample[:, None, :] - turbo[None, :, :]).max(axis=2).min(axis=1)
    return float(np.count_nonzero(dist <= 24)) * len(coloured) / len(sample) / len(px)


def test_web_viewer_page_shows_the_depth_image(tmp_path: Path) -> None:
    from PIL import Image

    env = rerun_env(tmp_path / "home")
    # The real recording has depth and accelerometer only, so turbo colours come from depth.
    run = _stream("sample", "--loop", "--to", "rerun-web:0", "--grpc-port", "0", env=env)
    try:
        url = run.wait_for(r"-> (http://127\.0\.0\.1:\d+/\?url=\S+)", seconds=60).group(1)
        assert re.search(r"url=rerun%2Bhttp%3A%2F%2F127\.0\.0\.1%3A\d+%2Fproxy$", url)
        png = tmp_path / "page.png"

        def share(path: Path) -> float:
            return _turbo_fraction(np.asarray(Image.open(path).convert("RGB")))

        screenshot(url, png, tmp_path / "profile", 90.0, lambda p: share(p) > MIN_SHARE)
        shutil.copyfile(png, SHOT)
        got = share(png)
        assert got > MIN_SHARE, f"no depth image in turbo colours (share {got:.3f}); see {SHOT}"
        assert run.interrupt() == 130  # Ctrl-C: ended cleanly, interrupted
    finally:
        if run.proc.poll() is None:
            run.proc.kill()


def test_turbo_check_can_fail_on_a_grey_page() -> None:
    grey = np.full((800, 1280, 3), 40, dtype=np.uint8)
    grey[100:300, 100:400] = (30, 90, 200)  # a blue button is not a depth image
    assert _turbo_fraction(grey) < MIN_SHARE


pytestmark = pytest.mark.browser
