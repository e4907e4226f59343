"""No made-up data (issue 18): colour only where the layout says it is colour, intrinsics
that follow the depth's size, no export of a stream the source lacks, the README's snippet
as written, and the HUD naming the frame it shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli, tree_hash


def test_a_png16_export_reopened_has_no_colour(tmp_path: Path) -> None:
    """Its names (frame-000000.png) lack "depth": no file is anyone's colour."""
    assert cli("export", "sample", str(tmp_path / "p16"), "--format", "png16", "--quiet").code == 0
    with dv.open(str(tmp_path / "p16")) as src:
        assert not src.has_video and src.video_formats == ()
        assert next(src).video is None
    ran = cli("export", str(tmp_path / "p16"), str(tmp_path / "v.mp4"), "--layout", "video")
    assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
    assert not (tmp_path / "v.mp4").exists()


def test_named_pairs_still_pair(tmp_path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.full((4, 6), 900, np.uint16)).save(tmp_path / "a_depth.png")
    Image.fromarray(np.full((4, 6, 3), 7, np.uint8)).save(tmp_path / "a_color.png")
    with dv.open(str(tmp_path)) as src:
        frame = next(src)
    assert frame.video is not None and (frame.video == 7).all()
