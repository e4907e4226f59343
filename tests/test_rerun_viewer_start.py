"""``--to rerun`` under a display whose OpenGL cannot run Rerun's viewer (Xvfb with Mesa's
software renderer lacks a texture format it needs): one line and exit 2 within seconds,
where it used to wait for ever. Should the viewer start one day, the stream must finish."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from _helpers_xvfb import start_xvfb

xvfb = pytest.fixture(start_xvfb)


def test_a_viewer_that_cannot_start_is_one_line_not_a_hang(xvfb: str) -> None:
    env = {**os.environ, "DISPLAY": xvfb}
    env.pop("RUST_LOG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "depthview", "stream", "demo", "--to", "rerun", "--frames", "3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,  # the bound: a hang fails here
    )
    assert "Traceback" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr
    if proc.returncode == 2:
        errors = [ln for ln in proc.stderr.splitlines() if "error" in ln]
        assert len(errors) == 1 and "Rerun's viewer could not start" in errors[0], proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr
