"""``--filter`` where people use it: ``export`` and ``stream`` write what librealsense's own
filters (pyrealsense2, the oracle) make of the shipped recording; bad specs are one line,
exit 2, nothing written; ``record`` has no such option (a recording keeps raw frames)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_realsense import Oracle, block, data
from _helpers_sinks import decode_advertised, foxglove_receive, read_mcap
from depthview import filters as F
from test_stream_live import _stream


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depthview", *args], cwd=cwd, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def sample_mm() -> list[np.ndarray]:
    with dv.open("sample") as src:
        return [dv.to_mm(f.depth, src.registration) for f in src]


def librealsense(frames: list[np.ndarray], kinds: list[str]) -> list[np.ndarray]:
    """``frames`` through pyrealsense2's filters, in order (their state carried along),
    with the Kinect's baseline and focal length from the default registration."""
    _, focal = F.kinect_baseline_focal()
    oracle = Oracle(640, 480, focal_px=focal)
    blocks = [block(k) for k in kinds]
    out = []
    for depth in frames:
        x = oracle.frame(depth)
        for b in blocks:
            x = b.process(x)
        out.append(data(x))
    oracle.close()
    return out


def test_export_writes_what_librealsense_filters_make(tmp_path: Path, sample_mm: list) -> None:  # type: ignore[type-arg]
    done = cli("export", "sample", "out.npz", "--filter", "smooth", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    got = np.load(tmp_path / "out.npz")
    assert int(got["depth_format"]) == dv.DepthFormat.MM
    want = librealsense(sample_mm, ["disparity", "spatial", "temporal", "depth", "holes"])
    np.testing.assert_array_equal(got["depth"], np.stack(want))


def test_export_to_mcap_sends_the_filtered_depth_records(tmp_path: Path, sample_mm: list) -> None:  # type: ignore[type-arg]
    spec = "spatial:alpha=0.4,delta=12,holes_fill=2"
    done = cli(
        "export", "sample", "out.mcap", "--filter", spec, "--frames", "3", "--quiet", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    images = read_mcap(tmp_path / "out.mcap")["/kinect/depth/image"]
    oracle = Oracle(640, 480)
    assert len(images) == 3
    for (_, msg), depth in zip(images, sample_mm, strict=False):
        theirs = data(
            block("spatial", alpha=0.4, delta=12, holes_fill=2).process(oracle.frame(depth))
        )
        np.testing.assert_array_equal(np.frombuffer(msg.data, "<u2").reshape(480, 640), theirs)
    oracle.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter", "spatial:alfa=1"], "argument --filter: expected spatial parameter"),
        (
            ["--filter", "temporal:persistence=12"],
            "argument --filter: expected temporal persistence as an integer in 0..8, got 12",
        ),
        (["--filter", "median"], "argument --filter: expected a filter or preset"),
        (["--filter", "realsense:alpha=0.3"], "argument --filter: expected no parameters after"),
        (["--filter", "spatial", "--registered", "--format", "png16"], "--filter and --registered"),
    ],
)
def test_a_bad_filter_is_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = cli("export", "sample", "out", *args, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_chain_left_in_disparity_is_refused(tmp_path: Path) -> None:
    done = cli("export", "sample", "out.npz", "--filter", "disparity,spatial", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "expected 'depth' after 'disparity'" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_record_keeps_raw_frames(tmp_path: Path) -> None:
    done = cli("record", "sample", "rec", "--filter", "spatial", cwd=tmp_path)
    assert done.returncode == 2 and "unrecognized arguments: --filter" in done.stderr


def test_stream_sends_filtered_depth_to_a_foxglove_client(sample_mm: list) -> None:  # type: ignore[type-arg]
    """A stateless filter, so each received image must be librealsense's result for one of
    the recording's frames (the recording loops, so times alone do not say which)."""
    oracle = Oracle(640, 480)
    want = {data(block("holes", mode=0).process(oracle.frame(d))).tobytes() for d in sample_mm}
    oracle.close()
    run = _stream("sample", "--to", "foxglove:0", "--loop", "--filter", "holes:mode=0")
    try:
        url = run.wait_for(r"-> (ws://127\.0\.0\.1:\d+)").group(1)
        topic = "/kinect/depth/image"
        channels, got = foxglove_receive(url, {topic}, count=4, seconds=90)
        for _, payload in got[topic][:4]:
            msg = decode_advertised(channels[topic], payload)
            assert (msg.encoding, msg.width, msg.height) == ("16UC1", 640, 480)
            assert msg.data in want
        assert run.interrupt() == 130  # Ctrl-C: interrupted, output finished
    finally:
        if run.proc.poll() is None:
            run.proc.kill()


def test_stream_refuses_raw_depth_with_a_filter() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "depthview",
            "stream",
            "demo",
            "--to",
            "foxglove:0",
            "--filter",
            "fill",
            "--raw-depth",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--raw-depth" in done.stderr


def test_without_numba_export_says_which_extra_and_writes_nothing(tmp_path: Path) -> None:
    """numba really absent: the child's import system refuses it."""
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "from depthview.cli import main\n"
        "sys.exit(main(['export', 'sample', 'out.npz', '--filter', 'smooth', '--quiet']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "pip install 'depthview[fast]'" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_convert_writes_what_librealsense_filters_make_of_the_aligned_depth(
    tmp_path: Path,
) -> None:
    """``convert --filter``: each scene's aligned depth through pyrealsense2's own filters,
    in order, the temporal history carried from frame to frame of the scene."""
    from PIL import Image

    from _helpers_datasets import write_scene

    write_scene(tmp_path / "in" / "kitchen_0001", 5, seed=1)
    for out, extra in (("plain", []), ("filtered", ["--filter", "spatial,temporal"])):
        # millimetres (--tum-scale 1000): what the filters see, compared as they make it
        done = cli("convert", "in", out, "--quiet", "--tum-scale", "1000", *extra, cwd=tmp_path)
        assert done.returncode == 0, done.stderr

    def depth_pngs(out: str) -> list[np.ndarray]:
        scene = tmp_path / out / "kitchen_0001"
        lines = (scene / "associations.txt").read_text().splitlines()
        return [np.asarray(Image.open(scene / line.split()[3])) for line in lines]

    aligned = depth_pngs("plain")
    assert len(aligned) == 5 and all(a.dtype == np.uint16 and a.any() for a in aligned)
    want = librealsense(aligned, ["spatial", "temporal"])
    got = depth_pngs("filtered")
    for g, w, a in zip(got, want, aligned, strict=True):
        np.testing.assert_array_equal(g, w)
        assert not np.array_equal(g, a)  # the filters did something


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["in", "out", "--filter", "spatial:alpha=7"], "--filter"),
        (["in", "in/out"], "in/out: expected an output folder apart from the input"),
    ],
)
def test_convert_refuses_a_bad_filter_and_an_output_inside_its_input(
    tmp_path: Path, args: list[str], message: str
) -> None:
    from _helpers_datasets import write_scene

    write_scene(tmp_path / "in" / "kitchen_0001", 2, seed=1)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    done = cli("convert", *args, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_chain_given_to_export_twice_writes_the_same_depth(
    tmp_path: Path,
    sample_mm: list,  # type: ignore[type-arg]
) -> None:
    """Trial AJ (D15): one ``F.Chain`` with a temporal filter given to ``dv.export`` twice
    wrote other depth the second time (50407 pixels of frame 0): the first run's history
    carried over. Each export starts without history, as librealsense's filter does."""
    chain = F.Chain([F.Temporal()])
    want = np.stack(librealsense(sample_mm, ["temporal"]))
    for name in ("a.npz", "b.npz"):
        with dv.open("sample") as src:
            dv.export(src, tmp_path / name, filters=chain)
        with np.load(tmp_path / name) as got:
            np.testing.assert_array_equal(got["depth"], want)
