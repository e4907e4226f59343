"""The CPU point renderer (``depthview.splat``) against the GPU's compute passes on the
same frames, and against a numpy z-buffer written here; which of the two the 3D view picks.

The stated tolerance: on real frames (the shipped sample) from any pose, at least 99.5 %
of the pixels either path draws are the same pixel in both. They can differ only where
float rounding puts a point a hair across a pixel edge, or on ties (two points at exactly
the same eye depth: the GPU's winner is whichever thread wrote last). The GPU runs on
whatever OpenGL 4.3 this machine has (Mesa's llvmpipe in CI): a standalone context in a
child process (``_helpers_splat``), as it would keep later tests' windows from GLX."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depthview import splat
from depthview.camera_models import Intrinsics
from depthview.viewer.view3d import CloudView, is_software, points_wanted

CLI = [sys.executable, "-m", "depthview"]
TOLERANCE = 0.995  # share of drawn pixels that must be the same in both paths
POSES = [  # yaw, pitch, distance, point size, guides
    [0.0, 0.0, 2.0, 1.0, True],
    [25.0, -15.0, 1.5, 1.0, True],
    [-40.0, 20.0, 3.0, 2.0, False],
    [70.0, 10.0, 1.0, 1.0, True],
    [-10.0, -60.0, 0.6, 3.0, False],
]


@pytest.fixture(scope="module")
def agreement() -> dict[str, object]:
    """Both paths on the sample's frames, drawn in a child process (see
    ``_helpers_splat``: a standalone EGL context must not stay in this one)."""
    helper = Path(__file__).with_name("_helpers_splat.py")
    proc = subprocess.run(
        [sys.executable, str(helper), json.dumps(POSES)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    got: dict[str, object] = json.loads(proc.stdout.splitlines()[-1])
    assert "error" not in got, got  # CI has OpenGL 4.3 (llvmpipe): fail, never skip
    return got


@pytest.mark.parametrize("pose", POSES)
@pytest.mark.parametrize("packed", [True, False])
def test_the_cpu_draws_the_pixels_the_gpu_draws(
    agreement: dict[str, Any], pose: list, packed: bool
) -> None:
    runs = [r for r in agreement["results"] if r["pose"] == pose and r["packed"] == packed]
    assert len(runs) == 3  # the sample's first three frames
    for run in runs:
        assert run["drawn"] > 20_000  # a real picture, not two empty panels agreeing
        same = run["same"] / run["drawn"]
        assert same >= TOLERANCE, f"{same:.4f} of drawn pixels agree at pose {pose}"


def oracle_points(
    points: np.ndarray, colours: np.ndarray, view: np.ndarray, k: Intrinsics, shape: tuple
) -> np.ndarray:
    """1-pixel points through a numpy z-buffer: sort by depth, the first at each pixel wins."""
    h, w = shape
    eye = (view[:3, :3].astype(np.float64) @ points.T.astype(np.float64)).T + view[:3, 3]
    ahead = eye[:, 2] > splat.NEAR_CLIP
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.floor(k.fx * eye[:, 0] / eye[:, 2] + k.cx + 0.5)
        y = np.floor(k.fy * eye[:, 1] / eye[:, 2] + k.cy + 0.5)
    inside = ahead & (x >= 0) & (x < w) & (y >= 0) & (y < h)
    image = np.zeros(h * w, np.uint32)
    order = np.argsort(eye[inside, 2], kind="stable")[::-1]  # farthest first, nearest last
    target = (y[inside] * w + x[inside]).astype(int)[order]
    image[target] = colours[inside][order]
    return image.reshape(h, w)


@settings(max_examples=60, deadline=None)
@given(  # where on the 64x48 panel each point should land (some just off it), and its depth
    xy=st.lists(st.tuples(st.floats(-4.0, 68.0), st.floats(-4.0, 52.0)), min_size=1, max_size=60),
    depths=st.lists(st.floats(0.25, 5.0, width=32), min_size=60, max_size=60, unique=True),
)
def test_points_nearest_wins_and_none_is_lost_or_made_up(
    xy: list[tuple[float, float]], depths: list[float]
) -> None:
    """Every drawn pixel has the colour of the nearest point that lands on it, every point
    in view is drawn or hidden by a nearer one, nothing is drawn where no point lands."""
    n = len(xy)
    k = Intrinsics(50.0, 50.0, 32.0, 24.0)
    points = np.array(
        [
            ((u - k.cx) / k.fx * z, (v - k.cy) / k.fy * z, z)
            for (u, v), z in zip(xy, depths[:n], strict=True)
        ],
        np.float32,
    )
    colours = np.arange(1, n + 1, dtype=np.uint32)
    view = np.eye(4, dtype=np.float32)
    pixels = np.zeros((48, 64), np.uint32)
    keys = np.empty((48, 64), np.float32)
    splat.clear(pixels, keys, 0)
    splat.splat_points(points, colours, view, k, pixels, keys)
    expected = oracle_points(points, colours, view, k, (48, 64))
    # Points a float32 hair from a pixel edge may round the other way: compare the rest.
    eye_x = k.fx * points[:, 0] / points[:, 2] + k.cx + 0.5
    eye_y = k.fy * points[:, 1] / points[:, 2] + k.cy + 0.5
    edgy = (np.abs(eye_x - np.round(eye_x)) < 1e-4) | (np.abs(eye_y - np.round(eye_y)) < 1e-4)
    if not edgy.any():
        assert np.array_equal(pixels, expected)
    drawn = set(np.unique(pixels[pixels != 0]).tolist())
    assert drawn <= set(colours.tolist())
    assert np.isinf(keys[pixels == 0]).all() and np.isfinite(keys[pixels != 0]).all()


def test_the_choice_follows_the_renderers_name() -> None:
    for name in ("llvmpipe (LLVM 15.0.6, 256 bits)", "softpipe", "Mesa X11 swrast", ""):
        assert is_software(name), name
    for name in ("NVIDIA GeForce RTX 3060/PCIe/SSE2", "AMD Radeon RX 6600 (radeonsi)", "V3D 4.2"):
        assert not is_software(name), name


def test_depthview_points_chooses_and_a_bad_value_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for value, wanted in (("", "auto"), ("CPU", "cpu"), ("gpu", "gpu"), ("auto", "auto")):
        monkeypatch.setenv("DEPTHVIEW_POINTS", value)
        assert points_wanted() == wanted
    monkeypatch.setenv("DEPTHVIEW_POINTS", "cpu")  # no OpenGL touched: safe in this process
    assert CloudView.open().points == "cpu"
    proc = subprocess.run(
        [*CLI, "view", "sample", "--frames", "1"],
        env={**os.environ, "SDL_VIDEODRIVER": "dummy", "DEPTHVIEW_POINTS": "fast"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "DEPTHVIEW_POINTS='fast'" in lines[0], proc.stderr


def view_stats(points: str | None) -> dict[str, Any]:
    """``view sample --layout 3d --frames 3 --stats`` with SDL's headless driver."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    env.pop("DEPTHVIEW_POINTS", None)
    if points is not None:
        env["DEPTHVIEW_POINTS"] = points
    proc = subprocess.run(
        [*CLI, "view", "sample", "--layout", "3d", "--frames", "3", "--stats", "--no-hud"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    stats: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    assert stats["frames_shown"] == 3
    return stats


def test_stats_say_which_draws_and_on_what_machine() -> None:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(line for line in cpuinfo.splitlines() if line.startswith("model name"))
    flags = next(line for line in cpuinfo.splitlines() if line.startswith("flags")).split()
    on_gpu, on_cpu, chosen = view_stats("gpu"), view_stats("cpu"), view_stats(None)
    for stats in (on_gpu, on_cpu, chosen):
        assert stats["cpu"] == model.split(":", 1)[1].strip()
        assert ("AVX2" in stats["vector_extensions"].split()) == ("avx2" in flags)
        assert ("AVX-512" in stats["vector_extensions"].split()) == ("avx512f" in flags)
    assert (on_gpu["points"], on_cpu["points"]) == ("gpu", "cpu")
    assert on_gpu["gl_renderer"] not in ("", "none")  # the standalone context's (llvmpipe)
    assert on_cpu["gl_renderer"] == "none"  # headless, points on the CPU: no OpenGL used
    # Left to itself the choice follows the renderer's name (Mesa's llvmpipe in CI: cpu).
    assert chosen["gl_renderer"] == on_gpu["gl_renderer"]
    assert chosen["points"] == ("cpu" if is_software(chosen["gl_renderer"]) else "gpu")


def test_points_refuse_buffers_of_the_wrong_kind() -> None:
    k = Intrinsics(50.0, 50.0, 32.0, 24.0)
    with pytest.raises(ValueError, match="uint32 pixels"):
        splat.splat_points(
            np.zeros((1, 3), np.float32),
            np.zeros(1, np.uint32),
            np.eye(4),
            k,
            np.zeros((4, 4), np.uint8),  # type: ignore[arg-type]
            np.zeros((4, 4), np.float32),
        )
    with pytest.raises(ValueError, match=r"\(N, 3\) points"):
        splat.splat_points(
            np.zeros((2, 2), np.float32),
            np.zeros(2, np.uint32),
            np.eye(4),
            k,
            np.zeros((4, 4), np.uint32),
            np.zeros((4, 4), np.float32),
        )


@settings(max_examples=30, deadline=None)
@given(
    seeds=st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=4),
    yaw=st.floats(-1.5, 1.5),
    size=st.floats(0.5, 4.0),
)
def test_a_kept_scratch_draws_what_a_new_one_draws(
    seeds: list[int], yaw: float, size: float
) -> None:
    """``splat_depth`` works a row at a time in a scratch kept from frame to frame (the
    viewer's): nothing of one frame may leak into the next, so every frame drawn with the
    kept scratch equals the same frame drawn with a new one."""
    k = Intrinsics(40.0, 40.0, 15.5, 11.5)
    metres = np.full(2048, np.nan, np.float32)
    metres[1:] = np.linspace(0.5, 4.0, 2047, dtype=np.float32)
    c, s = np.cos(yaw), np.sin(yaw)
    view = np.array([[c, 0, s, -s * 2], [0, 1, 0, 0], [-s, 0, c, 2 - c * 2], [0, 0, 0, 1]])
    kept = splat.new_scratch((24, 32))
    for seed in seeds:
        rng = np.random.default_rng(seed)
        depth = rng.integers(0, 2048, (24, 32)).astype(np.uint16)
        depth[rng.random((24, 32)) < 0.3] = 0  # holes: no reading
        colours = rng.integers(1, 2**32, (24, 32), dtype=np.uint32)
        drawn = []
        for scratch in (kept, splat.new_scratch((24, 32))):
            pixels = np.zeros((30, 40), np.uint32)
            keys = np.empty((30, 40), np.float32)
            splat.clear(pixels, keys, 0)
            splat.splat_depth(
                depth, metres, k, colours, view, k, pixels, keys, point_size=size, scratch=scratch
            )
            drawn.append((pixels, keys))
        assert np.array_equal(drawn[0][0], drawn[1][0])
        assert np.array_equal(drawn[0][1], drawn[1][1])
        assert (drawn[0][0] != 0).any()  # the frame drew something: the test can fail
