"""Shared fixtures. Windows open under SDL's dummy driver unless a test starts Xvfb."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    from oracle.freenect_oracle import HeldOracle, OracleUnavailable

    try:
        return HeldOracle()  # (raw values the C's uint16_t cannot hold: at the ceiling)
    except OracleUnavailable as exc:
        pytest.fail(f"the libfreenect registration oracle is unavailable: {exc}")


@pytest.fixture
def viewers(tmp_path: Path) -> Iterator[Any]:
    """``viewers(source, **options)``: viewer windows (snapshots into ``tmp_path`` unless
    told), each closed after the test."""
    import pygame

    from depthview.viewer.app import Viewer, ViewerOptions

    made: list[Viewer] = []

    def factory(source: Any, **kw: Any) -> Viewer:
        kw.setdefault("snapshot_dir", tmp_path)
        v = Viewer(source, ViewerOptions(**kw))
        made.append(v)
        return v

    yield factory
    for v in made:
        if pygame.display.get_init():
            v.close()
