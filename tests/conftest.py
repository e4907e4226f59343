"""Shared fixtures. Windows open under SDL's dummy driver unless a test starts Xvfb."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

DATA = Path(
    os.environ.get("DEPTHVIEW_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only real Kinect data beside the checkout (../shared/data)."""
    if not DATA.is_dir():
        pytest.fail(f"expected the shared test data at {DATA}")
    return DATA


@pytest.fixture
def person_recording(shared_data: Path, tmp_path: Path) -> Path:
    """A writable copy of the real Kinect v1 recording (20 depth frames, no video)."""
    dst = tmp_path / "kinect-v1-person"
    shutil.copytree(shared_data / "kinect-v1-person", dst)
    for p in dst.iterdir():
        p.chmod(0o644)
    dst.chmod(0o755)
    return dst


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
