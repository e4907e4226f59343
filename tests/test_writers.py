"""The writer family (issue 22, item 4): one ``--overwrite`` rule (replace what this run
writes, touch nothing else), unwritable folders as one line, ``.npz`` streamed in both
layouts (each named in the archive) with memory flat in the number of frames."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import depthview as dv
from _helpers_cli import cli, tree_hash
from _helpers_datasets import write_scene
from depthview.writers.npz import NpzStream

#: Run as a normal user meets a folder's permissions: root without the capabilities that
#: ignore them (CI runs as root), else as the user that runs the tests.
AS_USER = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    if os.geteuid() == 0
    else []
)


def _run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AS_USER, sys.executable, "-m", "depthview", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


# -- --overwrite replaces this run's files and nothing else ------------------------------------
def test_overwrite_replaces_an_earlier_exports_frames_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "D"
    assert cli("export", "sample", str(out), "--format", "png", "--quiet").code == 0
    assert len(list(out.glob("frame-*.png"))) == 20
    (out / "notes.txt").write_text("mine\n")
    (out / "mine").mkdir()
    (out / "mine" / "frame-000001.png").write_bytes(b"not export's")  # in a subfolder: kept
    theirs = tree_hash(out / "mine")
    ran = cli("export", "sample", str(out), "--format", "png16", "--overwrite", "--frames", "3")
    assert ran.code == 0, ran.err
    assert sorted(p.name for p in out.iterdir()) == [
        "camera.yaml",  # png16's depth camera, beside its frames
        "frame-000000.png",
        "frame-000001.png",
        "frame-000002.png",
        "mine",
        "notes.txt",
    ]
    assert (out / "notes.txt").read_text() == "mine\n" and tree_hash(out / "mine") == theirs
    info = cli("info", str(out))
    assert info.code == 0 and re.search(r"frames: 3\n", info.out), info.out
    assert "units: millimetres" in info.out


def test_a_failed_overwrite_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    """A source that fails at its second frame: the first frame it wrote must not replace
    the earlier export's."""
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.fromarray(np.full((4, 6), 500, np.uint16)).save(mixed / "a_depth.png")
    Image.fromarray(np.full((8, 6), 500, np.uint16)).save(mixed / "b_depth.png")
    out = tmp_path / "D"
    assert cli("export", "sample", str(out), "--frames", "4", "--quiet").code == 0
    before = tree_hash(out)
    ran = cli("export", str(mixed), str(out), "--format", "png16", "--overwrite", "--quiet")
    assert ran.code == 2 and "expected 6x4 depth like a_depth.png" in ran.err
    assert tree_hash(out) == before
    assert sorted(p.name for p in out.iterdir()) == [f"frame-{i:06d}.png" for i in range(4)]


def test_a_new_folder_is_not_left_behind_by_a_failed_export(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.fromarray(np.full((4, 6), 500, np.uint16)).save(mixed / "a_depth.png")
    Image.fromarray(np.full((8, 6), 500, np.uint16)).save(mixed / "b_depth.png")
    ran = cli("export", str(mixed), str(tmp_path / "new" / "D"), "--format", "png16")
    assert ran.code == 2
    assert not (tmp_path / "new" / "D").exists()


def test_what_a_killed_export_left_does_not_block_the_next(tmp_path: Path) -> None:
    (tmp_path / ".x.rrd.partial").write_bytes(b"half a recording")
    ran = cli("export", "sample", str(tmp_path / "x.rrd"), "--frames", "2", "--quiet")
    assert ran.code == 0, ran.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.rrd"]


# -- folders a normal user cannot write to ----------------------------------------------------
@pytest.fixture
def locked(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """A read-only folder and one nobody may enter (mode 000), restored for clean-up."""
    folders = {"ro": tmp_path / "ro", "none": tmp_path / "none"}
    for f in folders.values():
        f.mkdir()
    folders["ro"].chmod(0o555)
    folders["none"].chmod(0o000)
    yield folders
    for f in folders.values():
        f.chmod(0o755)


@pytest.mark.parametrize("mode", ["ro", "none"])
@pytest.mark.parametrize(
    "argv",
    [
        ["export", "sample", "{d}/x.npz"],
        ["export", "sample", "{d}/x.mp4", "--frames", "2"],
        ["export", "sample", "{d}/frames", "--format", "png16"],
        ["export", "sample", "{d}", "--format", "png16", "--overwrite"],
        ["convert", "{rec}", "{d}"],
        ["convert", "{rec}", "{d}/sub"],
    ],
    ids=" ".join,
)
def test_an_unwritable_output_folder_is_one_line(
    locked: dict[str, Path], mode: str, argv: list[str], tmp_path: Path
) -> None:
    rec = write_scene(tmp_path / "rec", 2)
    folder = locked[mode]
    ran = _run(*(a.format(d=folder, rec=rec) for a in argv))
    lines = ran.stderr.strip().splitlines()
    assert ran.returncode == 2 and len(lines) == 1, ran.stderr
    assert lines[0].startswith("depthview: error:") and "Traceback" not in ran.stderr
    assert f"cannot write into {folder} (not a writable folder)" in lines[0]
    folder.chmod(0o755)
    assert not list(folder.iterdir())  # nothing written


# -- .npz: one streaming writer, two layouts, each named --------------------------------------
def _npz_member_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Each array's shape from its .npy header, without reading the data."""
    shapes = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            with zf.open(name) as member:
                version = np.lib.format.read_magic(member)
                read = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, _ = read(member)
                shapes[name.removesuffix(".npy")] = shape
    return shapes


def test_each_npz_names_its_layout(tmp_path: Path) -> None:
    assert cli("export", "sample", str(tmp_path / "x.npz"), "--frames", "3", "--quiet").code == 0
    with np.load(tmp_path / "x.npz") as z:
        assert str(z["layout"]) == "export-frames"
        assert z["depth"].shape == (3, 480, 640) and list(z["index"]) == [0, 1, 2]
    rec = write_scene(tmp_path / "in" / "scene", 3)
    dv.convert(rec.parent, tmp_path / "ds", format="npz")
    with np.load(tmp_path / "ds" / "scene.npz") as z:
        assert str(z["layout"]) == "convert-pairs"
        assert z["depth"].shape[0] == z["rgb"].shape[0] == len(z["depth_times"]) == 3
    line = json.loads((tmp_path / "ds" / "manifest.jsonl").read_text())
    assert line["pairs_kept"] == 3


def _peak_rss_mb(frames: int, out: Path) -> float:
    """Peak RSS of ``depthview export demo OUT --frames N`` (a fresh process measures its
    one child, so nothing else counts)."""
    measure = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:])\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    argv = ["export", "demo", str(out), "--frames", str(frames), "--quiet"]
    done = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, "-m", "depthview", *argv],
        capture_output=True,
        text=True,
        timeout=600,
    )
    code, kib = done.stdout.split()
    assert code == "0", done.stderr
    return int(kib) / 1024


def test_npz_export_memory_does_not_grow_with_frames(tmp_path: Path) -> None:
    """40 and 240 frames of 640x480 depth and colour (1.5 MB a frame): main stacked every
    frame in memory (about 3 MB a frame at its peak, 600 MB more for 240); streamed, the
    peaks differ by far less than one stack."""
    few = _peak_rss_mb(40, tmp_path / "few.npz")
    many = _peak_rss_mb(240, tmp_path / "many.npz")
    shapes = _npz_member_shapes(tmp_path / "many.npz")
    assert shapes["depth"] == (240, 480, 640) and shapes["video"] == (240, 480, 640, 3)
    assert many - few < 60, f"peak RSS {few:.0f} MB for 40 frames, {many:.0f} MB for 240"
    assert many < 300


rows = st.lists(
    st.tuples(
        st.integers(0, 65535),
        st.none() | st.integers(0, 255),  # video: none, or a (2, 3) image of this value
        st.none() | st.floats(-20, 20, allow_nan=False),  # accel: none, or (x, x, x)
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_streamed_npz_equals_the_frames_stacked(
    frames: list[tuple[int, int | None, float | None]],
) -> None:
    """Whatever streams some frames lack, the archive holds one row a frame for every
    array: what each frame had, and the fill value (zeros, NaN for accel) where it had none.
    The reference stacks the frames in memory, as export did before."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npz"
        stream = NpzStream(path, "test-layout", fill={"accel": math.nan})
        for depth, video, accel in frames:
            arrays = {"depth": np.full((2, 2), depth, np.uint16)}
            if video is not None:
                arrays["video"] = np.full((2, 3), video, np.uint8)
            if accel is not None:
                arrays["accel"] = np.full(3, accel)
            stream.add(arrays)
        stream.finish({"n": np.array(len(frames))})
        assert sorted(os.listdir(tmp)) == ["x.npz"]  # no spill file left
        with np.load(path) as z:
            assert str(z["layout"]) == "test-layout" and int(z["n"]) == len(frames)
            want_depth = np.stack([np.full((2, 2), d, np.uint16) for d, _, _ in frames])
            np.testing.assert_array_equal(z["depth"], want_depth)
            if any(v is not None for _, v, _ in frames):
                want_video = np.stack(
                    [np.full((2, 3), 0 if v is None else v, np.uint8) for _, v, _ in frames]
                )
                np.testing.assert_array_equal(z["video"], want_video)
            else:
                assert "video" not in z.files
            if any(a is not None for _, _, a in frames):
                want_accel = np.stack(
                    [np.full(3, math.nan if a is None else a) for *_, a in frames]
                )
                np.testing.assert_array_equal(z["accel"], want_accel)
            else:
                assert "accel" not in z.files


def test_a_frame_of_another_shape_is_refused_by_name(tmp_path: Path) -> None:
    stream = NpzStream(tmp_path / "x.npz", "test-layout")
    stream.add({"depth": np.zeros((2, 2), np.uint16)})
    with pytest.raises(ValueError, match=r"expected every depth frame uint16 \(2, 2\)"):
        stream.add({"depth": np.zeros((3, 2), np.uint16)}, " at frame 1")
    stream.abandon()
    assert not list(tmp_path.iterdir())


def test_npz_export_of_frames_of_two_sizes_is_one_line(tmp_path: Path) -> None:
    frames = [
        dv.Frame(depth=np.zeros(shape, np.uint16), index=i)
        for i, shape in enumerate([(4, 6), (8, 6)])
    ]
    with pytest.raises(dv.ExportError, match=r"x\.npz: expected every depth frame .* at frame 1"):
        dv.export(frames, tmp_path / "x.npz")
    assert not list(tmp_path.iterdir())


names = st.sampled_from(
    [f"frame-{i:06d}.png" for i in range(4)]
    + ["frame-000001.ply", "notes.txt", "frame-1.png", "cover.png", "frame-000002.png.bak"]
    + ["camera.yaml"]  # a user's own (no depthview comment): kept
)


@settings(max_examples=80, deadline=None)
@given(
    st.sets(names),
    st.sets(st.sampled_from([f"frame-{i:06d}.png" for i in range(4)])),
    st.booleans(),
)
def test_a_folder_output_replaces_its_own_files_only(
    old: set[str], new: set[str], fails: bool
) -> None:
    """Whatever was there, a committed run leaves exactly the earlier files that are not
    export's frames (unchanged) plus this run's; a failed run leaves the folder as it was."""
    from depthview.outputs import FolderOutput
    from depthview.writers.base import is_frame_file

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "D"
        out.mkdir()
        for name in old:
            (out / name).write_text(f"old {name}")
        folder = FolderOutput(out, is_frame_file)
        staging = folder.files()
        for name in new:
            (staging / name).write_text(f"new {name}")
        if fails:
            folder.abandon()
            want = {name: f"old {name}" for name in old}
        else:
            assert folder.commit() == len(new)
            kept = {name: f"old {name}" for name in old if not is_frame_file(Path(name))}
            want = kept | {name: f"new {name}" for name in new}
        assert {p.name: p.read_text() for p in out.iterdir()} == want


def test_overwrite_keeps_a_users_own_camera_yaml(tmp_path: Path) -> None:
    """Trial Q: ``export --format png --overwrite`` removed a user's own ``camera.yaml``
    (hand-written ORB-SLAM settings) as if png16 had written it, and png16 replaced it. Only
    one depthview wrote (its comment says so) is the export's; a user's stays, and png16,
    which would write over it, is refused in one line."""
    out = tmp_path / "cam"
    out.mkdir()
    mine = out / "camera.yaml"
    mine.write_text("%YAML:1.0\n# my own ORB-SLAM settings\nCamera.fx: 525.0\n")
    before = tree_hash(mine)
    ran = cli("export", "sample", str(out), "--format", "png", "--frames", "1", "--overwrite")
    assert ran.code == 0, ran.err
    assert tree_hash(mine) == before
    ran = cli("export", "sample", str(out), "--format", "png16", "--frames", "1", "--overwrite")
    assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
    assert f"{mine}: not written by depthview" in ran.err
    assert tree_hash(mine) == before
    # depthview's own camera file is the export's: a png export over a png16 one removes it
    ours = tmp_path / "ours"
    assert cli("export", "sample", str(ours), "--format", "png16", "--frames", "1").code == 0
    assert (ours / "camera.yaml").is_file()
    ran = cli("export", "sample", str(ours), "--format", "png", "--frames", "1", "--overwrite")
    assert ran.code == 0, ran.err
    assert sorted(p.name for p in ours.iterdir()) == ["frame-000000.png"]
