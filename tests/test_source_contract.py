"""Every source keeps the one contract written in sources/base.py (see _contract.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _contract import violations
from _helpers_sources import FAKENECT_LIB, copy_person, write_recording


def test_demo() -> None:
    assert violations("demo", fps=0) == []
    assert violations("demo:4", fps=0, frames=3) == []


def test_sample() -> None:
    assert violations("sample", realtime=False) == []


def test_recording_with_video(tmp_path: Path) -> None:
    write_recording(tmp_path / "rec", 3)
    assert violations(str(tmp_path / "rec"), realtime=False) == []


def test_arrays_and_png_folders(tmp_path: Path) -> None:
    depth = np.full((2, 48, 64), 900, np.uint16)
    np.save(tmp_path / "d.npy", depth)
    assert violations(str(tmp_path / "d.npy")) == []
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(depth[i] * 5).save(folder / f"{i:03d}-depth.png")
        Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(folder / f"{i:03d}-rgb.png")
    assert violations(str(folder)) == []


CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from _contract import violations
print(json.dumps(violations("kinect", timeout=5.0)))
"""


@pytest.mark.libfreenect
def test_kinect_through_the_real_library(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        DEPTHVIEW_LIBFREENECT=str(FAKENECT_LIB),
        FAKENECT_PATH=str(copy_person(tmp_path)),
        FAKENECT_LOOP="0",
    )
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(Path(__file__).parent)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == []
