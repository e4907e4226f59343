"""Shared fixtures. Windows open under SDL's dummy driver unless a test starts Xvfb."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from _helpers_sources import copy_person

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


@pytest.fixture
def person_recording(tmp_path: Path) -> Path:
    """A writable copy of the real Kinect v1 sample recording (20 depth frames, no video)."""
    return copy_person(tmp_path)


# -- registration: libfreenect's own code as the oracle --------------------------------------
@pytest.fixture(scope="session")
def freenect_oracle():  # type: ignore[no-untyped-def]
    """libfreenect's registration.c, built from Debian's source (tests/oracle). Fails, never
    skips, when it cannot be built: CI must compare against it."""
    from oracle.freenect_oracle import Oracle, OracleUnavailable

    try:
        return Oracle()
    except OracleUnavailable as exc:
        pytest.fail(f"the libfreenect registration oracle is unavailable: {exc}")
