"""Exports opened with independent readers (Pillow, imageio, plyfile, numpy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image
from plyfile import PlyData

import depthview as dv
from _helpers_sources import PERSON
from depthview.cli import main


def person_frames() -> list[dv.Frame]:
    with dv.open(str(PERSON), realtime=False) as src:
        return list(src)


def test_png_matches_colorize_and_range(tmp_path: Path) -> None:
    out = tmp_path / "png"
    code = main(
        [
            "export",
            str(PERSON),
            str(out),
            "--frames",
            "3:12",
            "--every",
            "4",
            "--palette",
            "turbo",
            "--near",
            "0.8",
            "--far",
            "3",
            "--quiet",
        ]
    )
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["frame-000003.png", "frame-000007.png", "frame-000011.png"]
    frames = person_frames()
    for name in names:
        i = int(name[6:12])
        with Image.open(out / name) as im:
            assert im.mode == "RGB" and im.size == (640, 480)
            pixels = np.asarray(im)
        want = dv.colorize(frames[i].depth, "turbo", near=0.8, far=3.0)
        np.testing.assert_array_equal(pixels, want)


def test_png16_is_raw_depth(tmp_path: Path) -> None:
    out = tmp_path / "p16"
    assert (
        main(["export", str(PERSON), str(out), "--format", "png16", "--frames", ":2", "--quiet"])
        == 0
    )
    frames = person_frames()
    for i in range(2):
        with Image.open(out / f"frame-{i:06d}.png") as im:
            assert im.mode in ("I;16", "I")
            np.testing.assert_array_equal(np.asarray(im).astype(np.uint16), frames[i].depth)


def test_side_by_side_png_from_demo(tmp_path: Path) -> None:
    out = tmp_path / "sbs"
    assert (
        main(["export", "demo", str(out), "--layout", "side-by-side", "--frames", "0:2", "--quiet"])
        == 0
    )
    with dv.open("demo", fps=0) as src:
        frame = src.read()
    pixels = np.asarray(Image.open(out / "frame-000000.png"))
    assert pixels.shape == (480, 1280, 3)
    np.testing.assert_array_equal(pixels[:, :640], dv.colorize(frame.depth))
    assert frame.video is not None
    np.testing.assert_array_equal(pixels[:, 640:], frame.video)


def test_mp4_frames_and_rate(tmp_path: Path) -> None:
    out = tmp_path / "d.mp4"
    assert (
        main(
            [
                "export",
                "demo",
                str(out),
                "--format",
                "mp4",
                "--frames",
                "0:12",
                "--layout",
                "side-by-side",
                "--quiet",
            ]
        )
        == 0
    )
    video = iio.imread(out, plugin="pyav") if _has_pyav() else _read_ffmpeg(out)
    assert video.shape == (12, 480, 1280, 3)
    meta = iio.immeta(out, plugin="FFMPEG") if not _has_pyav() else {"fps": 30.0}
    assert meta["fps"] == pytest.approx(30.0)
    with dv.open("demo", fps=0) as src:
        first = dv.colorize(src.read().depth)
    # lossy codec: close on average, not bit for bit
    assert np.abs(video[0, :, :640].astype(int) - first.astype(int)).mean() < 8


def _has_pyav() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _read_ffmpeg(path: Path) -> np.ndarray:
    return np.stack(list(iio.imiter(path, plugin="FFMPEG")))


def test_ply_points_match_independent_unprojection(tmp_path: Path) -> None:
    out = tmp_path / "ply"
    assert main(["export", "demo", str(out), "--format", "ply", "--frames", "5:6", "--quiet"]) == 0
    with dv.open("demo", fps=0) as src:
        src.seek(5)
        frame = src.read()
    ply = PlyData.read(str(out / "frame-000005.ply"))
    assert ply.byte_order == "<" and not ply.text
    v = ply["vertex"]
    raw = frame.depth.astype(np.float64)
    denom = raw * -0.0030711016 + 3.3309495161
    ok = (frame.depth != 2047) & (denom > 0)
    vv, uu = np.nonzero(ok)
    z = 1.0 / denom[ok]
    assert v.count == ok.sum() > 1000
    np.testing.assert_allclose(v["z"], z, rtol=1e-5)
    np.testing.assert_allclose(v["x"], (uu - 339.5) / 594.21 * z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v["y"], (vv - 242.7) / 591.04 * z, rtol=1e-5, atol=1e-6)
    assert frame.video is not None
    np.testing.assert_array_equal(v["green"], frame.video[ok][:, 1])


def test_ply_without_video_has_no_colours(tmp_path: Path) -> None:
    out = tmp_path / "ply"
    assert (
        main(["export", str(PERSON), str(out), "--format", "ply", "--frames", "0:1", "--quiet"])
        == 0
    )
    names = [p.name for p in PlyData.read(str(out / "frame-000000.ply"))["vertex"].properties]
    assert names == ["x", "y", "z"]


def test_npz_raw_frames(tmp_path: Path) -> None:
    out = tmp_path / "f.npz"
    assert main(["export", str(PERSON), str(out), "--format", "npz", "--quiet"]) == 0
    frames = person_frames()
    with np.load(out) as data:
        assert data["depth"].shape == (20, 480, 640)
        np.testing.assert_array_equal(data["depth"], np.array([f.depth for f in frames]))
        np.testing.assert_array_equal(data["index"], np.arange(20))
        assert "video" not in data.files


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--frames", "9:3"], "--frames: expected 0 <= START < END"),
        (["--frames", "a:b"], "--frames: expected START:END"),
        (["--palette", "nope"], "--palette: expected one of"),
        (["--format", "gif"], "--format: expected one of"),
        (["--every", "0"], "--every: expected a positive step"),
        (["--palette", "glview", "--near", "1"], "glview"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, extra: list[str], message: str) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "depthview",
            "export",
            str(PERSON),
            str(tmp_path / "o"),
            "--quiet",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


def test_overwrite_protection(tmp_path: Path) -> None:
    out = tmp_path / "x.npz"
    out.write_bytes(b"precious")
    args = ["export", str(PERSON), str(out), "--format", "npz", "--quiet"]
    assert main(args) == 2
    assert out.read_bytes() == b"precious"
    assert main([*args, "--overwrite"]) == 0
    with np.load(out) as data:
        assert len(data["depth"]) == 20


def test_progress_bar_on_stderr(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "depthview",
            "export",
            str(PERSON),
            str(tmp_path / "o"),
            "--format",
            "png16",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout == ""
    assert "20/20" in proc.stderr and "frame/s" in proc.stderr
