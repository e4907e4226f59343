"""No made-up data (issue 18): colour only where the layout says it is colour, intrinsics
that follow the depth's size, no export of a stream the source lacks, the README's snippet
as written, and the HUD naming the frame it shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli
from depthview.sources import sample


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


def _half_size_pair(tmp_path: Path) -> tuple[np.ndarray, np.ndarray]:
    with dv.open("sample") as src:
        full = next(src).depth
    return full, np.ascontiguousarray(full[::2, ::2])


def test_point_clouds_of_a_smaller_depth_use_scaled_intrinsics(tmp_path: Path) -> None:
    """Pixel (u, v) of a half-size image is pixel (2u, 2v) of the full one: the same ray."""
    full, half = _half_size_pair(tmp_path)
    want = dv.point_cloud(full, organized=True).points[::2, ::2]
    got = dv.point_cloud(half, organized=True).points
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert dv.KINECT_V1_DEPTH.for_size(640, 480) == dv.KINECT_V1_DEPTH
    with pytest.raises(ValueError, match="expected width"):
        dv.KINECT_V1_DEPTH.for_size(0, 480)


def test_info_ply_and_sinks_follow_the_depth_size(tmp_path: Path) -> None:
    full, half = _half_size_pair(tmp_path)
    npy = tmp_path / "half.npy"
    np.save(npy, half)
    ran = cli("info", str(npy), "--json")
    assert ran.code == 0, ran.err
    k = dv.KINECT_V1_DEPTH
    assert f"{k.fx / 2:g}" in ran.out and f"{k.cy / 2:g}" in ran.out
    assert cli("export", str(npy), str(tmp_path / "c.ply"), "--quiet").code == 0
    body = (tmp_path / "c.ply").read_bytes().split(b"end_header\n", 1)[1]
    points = np.frombuffer(body, np.float32).reshape(-1, 3)
    want = dv.point_cloud(full, organized=True).points[::2, ::2]
    want = want[~np.isnan(want[..., 2])]
    np.testing.assert_allclose(points, want, rtol=1e-5, atol=1e-6)
    assert points[:, 0].min() < 0 < points[:, 0].max()
    from depthview.sinks.content import depth_camera

    assert depth_camera(320, 240) == k.for_size(320, 240)


def _readme_snippet(heading: str) -> str:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    after = readme.split(heading, 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("source", ["sample", "demo", "RECORDING"])
def test_the_readme_aligned_depth_snippet_runs_as_written(tmp_path: Path, source: str) -> None:
    """Its comment offers a recording folder and "sample" beside "kinect"."""
    if source == "RECORDING":
        source = str(sample.write_to(tmp_path / "rec"))
    code = _readme_snippet("### Aligned depth")
    assert 'dv.open("kinect")' in code
    code = code.replace('dv.open("kinect")', f"dv.open({source!r})")
    code = code.replace("    for frame in src:", "    for frame in [next(src)]:")
    exec(compile(code, "README.md", "exec"), {"dv": dv})


def test_the_hud_names_the_frame_shown(tmp_path: Path) -> None:
    """``--frames 5`` read as fast as it goes: the HUD on screen was planned for the frame
    on screen (it was a plan made a few frames before). The planner is the real one; the
    test only notes what each plan was made from."""
    from depthview.viewer import Viewer, ViewerOptions

    rec = sample.write_to(tmp_path / "rec")
    src = dv.open(str(rec), realtime=False, loop=True)  # a busy machine may skip frames
    v = Viewer(src, ViewerOptions(frames=5, snapshot_dir=tmp_path))
    planned: list[str] = []
    plan = v.overlays.plan

    def noting(state: Any, info: Any, *rest: Any) -> Any:
        planned.append(info.position)
        return plan(state, info, *rest)

    v.overlays.plan = noting  # type: ignore[method-assign]
    try:
        while not v.state.quit:
            v.step()
        assert v.frame is not None and v.stats.frames_shown == 5
        assert planned[-1] == f"frame {v.frame.index + 1}/20"
    finally:
        v.close()


def test_an_archive_bigger_than_memory_is_one_line(tmp_path: Path) -> None:
    """Trial X (D11): a 1.8 MB compressed .npz of 3000 zero frames (1.8 GB of depth) ended
    ``info`` with a MemoryError traceback on a machine of 1.5 GB (made here with the
    address-space limit a small machine has)."""
    import resource
    import subprocess
    import sys
    import zipfile

    from numpy.lib import format as npy_format

    bomb = tmp_path / "bomb.npz"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z,
        z.open("depth.npy", "w", force_zip64=True) as f,
    ):
        header = {"descr": "<u2", "fortran_order": False, "shape": (3000, 480, 640)}
        npy_format.write_array_header_1_0(f, header)
        for _ in range(30):
            f.write(np.zeros((100, 480, 640), "<u2").tobytes())

    def small_machine() -> None:
        limit = 1_500_000_000
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-m", "depthview", "info", str(bomb)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_machine,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "(3000, 480, 640) needs 1.8 GB of memory" in proc.stderr
