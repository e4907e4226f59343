"""File sources (TUM PNG folders, .npy/.npz) and `depthview info`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import depthview as dv
from _helpers_sources import write_recording
from depthview.cli import main
from depthview.errors import SourceError


def test_tum_folder_in_millimetres(tmp_path: Path) -> None:
    # A TUM RGB-D style pair written here: 16-bit depth (metres x 5000, 0 = no reading).
    rng = np.random.default_rng(5)
    depth_units = rng.integers(2500, 40000, size=(48, 64)).astype(np.uint16)
    depth_units[::7, ::5] = 0
    Image.fromarray(depth_units).save(tmp_path / "TUM_depth.png")
    colour = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    Image.fromarray(colour).save(tmp_path / "TUM_color.png")
    raw = depth_units.astype(np.float64)
    with dv.open(str(tmp_path)) as src:
        assert len(src) == 1
        f = src.read()
    assert f.depth_format is dv.DepthFormat.MM
    np.testing.assert_array_equal(f.depth, np.rint(raw / 5000 * 1000).astype(np.uint16))
    assert ((f.depth == 0) == (raw == 0)).all()
    assert f.video is not None
    np.testing.assert_array_equal(f.video, colour)


def test_npy_stack_and_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    stack = rng.integers(0, 2048, size=(3, 4, 5), dtype=np.uint16)
    np.save(tmp_path / "s.npy", stack)
    src = dv.open(str(tmp_path / "s.npy"))
    assert len(src) == 3
    src.seek(2)
    np.testing.assert_array_equal(src.read().depth, stack[2])
    video = rng.integers(0, 256, size=(3, 4, 5, 3), dtype=np.uint8)
    np.savez(tmp_path / "f.npz", depth=stack * 10, video=video)
    frames = list(dv.open(str(tmp_path / "f.npz"), depth_format="mm"))
    assert len(frames) == 3 and frames[1].depth_format is dv.DepthFormat.MM
    np.testing.assert_array_equal(frames[1].video, video[1])
    np.save(tmp_path / "one.npy", stack[0])
    assert len(dv.open(str(tmp_path / "one.npy"))) == 1


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"\x93NUMPY garbage", "expected"),
        (b"hello", "expected"),
    ],
)
def test_bad_files(tmp_path: Path, content: bytes, match: str) -> None:
    (tmp_path / "x.npy").write_bytes(content)
    with pytest.raises(SourceError, match=match):
        dv.open(str(tmp_path / "x.npy"))


def test_11bit_npy_out_of_range(tmp_path: Path) -> None:
    np.save(tmp_path / "big.npy", np.full((2, 2), 4000, dtype=np.uint16))
    with pytest.raises(SourceError, match=r"0\.\.2047"):
        dv.open(str(tmp_path / "big.npy"))
    np.save(tmp_path / "npz_no_depth.npz", np.zeros(2))
    np.savez(tmp_path / "nodepth.npz", other=np.zeros(2))
    with pytest.raises(SourceError, match="'depth'"):
        dv.open(str(tmp_path / "nodepth.npz"))


def test_info_recording_subprocess(tmp_path: Path) -> None:
    w = write_recording(tmp_path / "rec", n=4, dt=0.05)
    (w.folder / w.depth_files[2]).write_bytes(b"P5 640 480 65535\n")  # truncated
    proc = subprocess.run(
        [sys.executable, "-m", "depthview", "info", "--json", str(w.folder)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    import json

    info = json.loads(proc.stdout)
    assert info["frames"] == 4 and info["broken_frames"] == 1
    assert info["video_frames"] == 4 and info["accel_records"] == 4
    assert info["duration_s"] == pytest.approx(w.times[-1] - w.times[0], abs=1e-6)
    assert info["mean_interval_ms"] == pytest.approx(50, abs=0.01)
    assert w.depth_files[2] in info["first_broken"]


def test_info_bad_input_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing" in err
    bad = tmp_path / "rec"
    bad.mkdir()
    (bad / "INDEX.txt").write_text("../../etc/passwd\n")
    assert main(["info", str(bad)]) == 2
    assert "line 1" in capsys.readouterr().err
