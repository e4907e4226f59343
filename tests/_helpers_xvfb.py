"""A private Xvfb server for tests that need a real X window (fails, never skips, without
Xvfb: CI installs it)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_display() -> int:
    for n in range(120, 400):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


def start_xvfb() -> Iterator[str]:
    """A private Xvfb server; yields its DISPLAY string (use as ``pytest.fixture(start_xvfb)``)."""
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
