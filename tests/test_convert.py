"""``dv.convert`` / ``depthview convert`` in one process: fakenect scenes (folders, a folder
of them, a zip read in place) into TUM RGB-D folders and .npz files that depthview and an
independent reader (Pillow, numpy) read back with the right metres; pairing by each
stream's own times; bad frames skipped and counted; reruns skip complete scenes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import depthview as dv
from _helpers_datasets import T0, colour, write_scene, zip_folder
from depthview.datasets import pairing
from depthview.datasets.scenes import Recording, find_scenes
from test_nyu_toolbox import _toolbox


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scenes") / "in"
    write_scene(root / "kitchen_0001", 5, seed=1)
    write_scene(root / "office_0002", 4, seed=2, video_every=2, video_offset=0.004)
    return root


def _manifest(out: Path) -> dict[str, dict[str, object]]:
    lines = [json.loads(t) for t in (out / "manifest.jsonl").read_text().splitlines()]
    return {str(line["scene"]): line for line in lines}


def test_nyu_scenes_from_a_zip_read_back_in_metres(scenes: Path, tmp_path: Path) -> None:
    archive = zip_folder(scenes, tmp_path / "nyu_part.zip")
    out = tmp_path / "out"
    summary = dv.convert([archive], out, calibration="nyu", max_dt=0.02)
    assert sorted(summary.done) == ["kitchen_0001", "office_0002"] and not summary.failed
    # The zip was read in place: nothing was extracted beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nyu_part.zip", "out"]
    lines = (out / "kitchen_0001" / "associations.txt").read_text().splitlines()
    assert len(lines) == 5
    rgb_t, rgb_file, depth_t, depth_file = lines[0].split()
    assert rgb_file.startswith("rgb/") and depth_file.startswith("depth/")
    assert float(rgb_t) == pytest.approx(T0 + 0.012, abs=1e-6)  # the recording's own times
    assert float(depth_t) == pytest.approx(T0, abs=1e-6)
    # The independent check: NYU's toolbox (the tests' transcription) on the same raw frame.
    with Recording(find_scenes([str(scenes / "kitchen_0001")])[0]) as rec:
        entries, _ = rec.index()
        raw = rec.depth(next(e.name for e in entries if e.kind == "d"))
    want_m, want_rgb = _toolbox(raw, colour(0, 1))
    stored = np.asarray(Image.open(out / "kitchen_0001" / depth_file))
    assert stored.dtype == np.uint16
    assert (np.abs(stored / 5000.0 - want_m) <= 0.001).mean() >= 0.995  # TUM's units
    rgb = np.asarray(Image.open(out / "kitchen_0001" / rgb_file))
    assert (rgb == want_rgb).mean() > 0.999
    # depthview reads the folder back as TUM with its units marker, in metres.
    with dv.open(str(out / "kitchen_0001")) as src:
        frame = next(iter(src))
        assert frame.timestamp == pytest.approx(T0, abs=1e-6)
        assert frame.video_stamp is not None
        assert frame.video_stamp.host_time == pytest.approx(T0 + 0.012, abs=1e-6)
        metres = dv.to_metres(frame.depth, frame.depth_format)
    np.testing.assert_allclose(np.nan_to_num(metres), stored / 5000.0, atol=1e-6)
    line = _manifest(out)["office_0002"]
    assert line["frames"] == 4 and line["pairs_kept"] == 2 and line["pairs_dropped"] == 2
    # The two dropped frames are listed with the reason (their colour is 29 ms away).
    dropped = line["dropped"]
    assert isinstance(dropped, list) and len(dropped) == 2
    assert all(
        "no colour frame within --max-dt 0.02 s (nearest 29.3 ms" in d["reason"] for d in dropped
    )
    files = line["files"]
    assert isinstance(files, dict) and "associations.txt" in files and len(files) == 2 + 2 + 4 + 1


def test_folder_of_scenes_equals_the_zip_and_npz_holds_the_same(
    scenes: Path, tmp_path: Path
) -> None:
    a = dv.convert(scenes, tmp_path / "tum")
    b = dv.convert(zip_folder(scenes, tmp_path / "s.zip"), tmp_path / "tum_zip")
    assert a.pairs_kept == b.pairs_kept == 9  # without --max-dt every depth frame pairs
    for f in (tmp_path / "tum").rglob("*.png"):
        assert (
            f.read_bytes() == (tmp_path / "tum_zip" / f.relative_to(tmp_path / "tum")).read_bytes()
        )
    dv.convert(scenes, tmp_path / "npz", format="npz")
    z = np.load(tmp_path / "npz" / "kitchen_0001.npz")
    names = (tmp_path / "tum" / "kitchen_0001" / "depth.txt").read_text().split()[-1:]
    last = np.asarray(Image.open(tmp_path / "tum" / "kitchen_0001" / names[0]))
    np.testing.assert_array_equal(z["depth"][-1].astype(np.uint32) * 5, last)  # mm; TUM 5000/m
    assert z["rgb"].shape == (5, 480, 640, 3) and z["accel"][0, 1] == pytest.approx(
        9.80665, abs=0.05
    )
    with dv.open(str(tmp_path / "npz" / "kitchen_0001.npz")) as src:
        assert src.depth_format is dv.DepthFormat.MM and src.length == 5


def test_max_dt_drops_far_pairs_and_tum_input_keeps_its_times(scenes: Path, tmp_path: Path) -> None:
    s = dv.convert(scenes / "kitchen_0001", tmp_path / "tight", max_dt=0.005)
    # Every pair too far apart: an empty scene is a failure, and nothing is left behind.
    assert (
        s.pairs_kept == 0
        and s.done == []
        and s.failed
        == [
            (
                "kitchen_0001",
                "no pair kept of 5 depth frame(s): no colour frame within --max-dt 0.005 s "
                "(nearest 12.0 ms away)",
            )
        ]
    )
    assert not (tmp_path / "tight").exists()
    dv.convert(scenes / "kitchen_0001", tmp_path / "first")
    # A TUM folder is a source like any other: converted again, its times stay its own.
    dv.convert(tmp_path / "first" / "kitchen_0001", tmp_path / "second")
    before = (tmp_path / "first" / "kitchen_0001" / "associations.txt").read_text()
    after = (tmp_path / "second" / "kitchen_0001" / "associations.txt").read_text()
    assert after == before


def test_bad_frames_are_counted_and_a_bad_colour_frame_gives_way_to_the_next(
    tmp_path: Path,
) -> None:
    scene = write_scene(tmp_path / "in" / "broken", 5)
    names = (scene / "INDEX.txt").read_text().split()
    depth = [n for n in names if n.startswith("d-")]
    video = [n for n in names if n.startswith("r-")]
    (scene / depth[1]).write_bytes((scene / depth[1]).read_bytes()[:1000])  # truncated
    (scene / video[3]).write_bytes(b"P6 640 480 255\n")  # no pixels
    with open(scene / "INDEX.txt", "a") as fh:
        fh.write("not-a-frame.txt\n")
    before = {p.name: p.read_bytes() for p in scene.iterdir()}
    s = dv.convert(tmp_path / "in", tmp_path / "out")
    # Depth frame 3's own colour frame is broken; the next nearest (33 ms away) serves it.
    assert s.done == ["broken"] and s.pairs_kept == 4 and s.bad_frames == 1
    line = _manifest(tmp_path / "out")["broken"]
    assert line["frames"] == 5 and line["pairs_dropped"] == 0
    assert line["bad_records"] == {"video": 1, "accel": 0, "index": 1, "source": 0}
    bad = {str(x["kind"]): str(x["reason"]) for x in line["bad"]}  # type: ignore[union-attr]
    assert "expected 614417 bytes" in bad["depth"] and "not-a-frame.txt" in bad["index"]
    assert video[3] in str(line["bad"])
    pairs = [
        r.split()
        for r in (tmp_path / "out" / "broken" / "associations.txt").read_text().splitlines()
    ]
    assert len(pairs) == 4 and len({p[1] for p in pairs}) == 3  # one colour frame serves two
    assert {p.name: p.read_bytes() for p in scene.iterdir()} == before  # input untouched


@pytest.mark.parametrize("zipped", [False, True])
def test_a_colour_image_of_another_size_is_a_bad_record(tmp_path: Path, zipped: bool) -> None:
    """Trial O: one 1280x1024 colour image among 640x480 ones went into the dataset as it
    was, beside depth aligned to 640x480 colour. It is a bad colour record now, as a
    truncated one is and as every other command skips it: its depth frame takes the next
    nearest image. The size is the recording's first image's, in every chunk."""
    scene = write_scene(tmp_path / "in" / "hd", 5)
    video = [n for n in (scene / "INDEX.txt").read_text().split() if n.startswith("r-")]
    (scene / video[3]).write_bytes(b"P6 1280 1024 255\n" + bytes(1280 * 1024 * 3))
    source = tmp_path / "in"
    if zipped:
        source = zip_folder(tmp_path / "in", tmp_path / "in.zip")
    s = dv.convert(source, tmp_path / "out", chunk_frames=2)
    assert s.pairs_kept == 5 and s.bad_frames == 0
    line = _manifest(tmp_path / "out")["hd"]
    assert line["bad_records"] == {"video": 1, "accel": 0, "index": 0, "source": 0}
    (bad,) = line["bad"]  # type: ignore[misc]
    assert bad["file"].endswith(video[3])  # type: ignore[index]
    assert "expected a 640x480 colour image like the recording's first, got 1280x1024" in str(
        bad["reason"]  # type: ignore[index]
    )
    sizes = {Image.open(f).size for f in (tmp_path / "out" / "hd" / "rgb").iterdir()}
    assert sizes == {(640, 480)}


def test_rerun_skips_complete_scenes_and_redoes_a_killed_one(scenes: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    dv.convert(scenes, out)
    stamp = (out / "kitchen_0001" / "depth.txt").stat().st_mtime_ns
    # A killed run leaves a hidden partial folder and no final one.
    partial = out / ".office_0002.partial"
    (out / "office_0002").rename(partial)
    (partial / "depth" / "junk.png").write_bytes(b"half")
    s = dv.convert(scenes, out)
    assert s.skipped == ["kitchen_0001"] and s.done == ["office_0002"]
    assert (out / "kitchen_0001" / "depth.txt").stat().st_mtime_ns == stamp
    assert not partial.exists() and not (out / "office_0002" / "depth" / "junk.png").exists()
    assert sorted(_manifest(out)) == ["kitchen_0001", "office_0002"]


def test_a_depth_step_runs_on_the_aligned_depth(scenes: Path, tmp_path: Path) -> None:
    def halve(mm: np.ndarray) -> np.ndarray:
        return (mm // 2).astype(np.uint16)

    dv.convert(scenes / "kitchen_0001", tmp_path / "a")
    dv.convert(scenes / "kitchen_0001", tmp_path / "b", step=halve)
    name = (tmp_path / "a" / "kitchen_0001" / "depth.txt").read_text().split()[-1]
    a = np.asarray(Image.open(tmp_path / "a" / "kitchen_0001" / name))
    b = np.asarray(Image.open(tmp_path / "b" / "kitchen_0001" / name))
    np.testing.assert_array_equal(b, (a // 5 // 2) * 5)  # the step sees mm; TUM holds 5000/m


def test_stereo_calibration_file(scenes: Path, tmp_path: Path) -> None:
    cal = tmp_path / "nyu.json"
    cal.write_text(dv.StereoCalibration.nyu().to_json())
    s = dv.convert(scenes / "kitchen_0001", tmp_path / "out", calibration=cal, depth_format="nyu")
    assert s.pairs_kept == 5 and s.bad_frames == 0
    assert _manifest(tmp_path / "out")["kitchen_0001"]["calibration"] == "stereo"


def test_nearest_is_brute_force() -> None:
    rng = np.random.default_rng(0)
    d = np.sort(rng.uniform(0, 10, 200))
    o = rng.uniform(0, 10, 150)
    got = pairing.nearest(d, o, 0.05)
    for k, t in enumerate(d):
        j = int(np.argmin(np.abs(o - t)))
        assert got[k] == (j if abs(o[j] - t) <= 0.05 else -1)
    pairer: pairing.StreamingPairer[int] = pairing.StreamingPairer(0.05)
    events = sorted([(t, "d", k) for k, t in enumerate(d)] + [(t, "v", j) for j, t in enumerate(o)])
    decided = []
    for t, kind, i in events:
        step = pairer.add_depth(t, i) if kind == "d" else pairer.add_video(t, i)
        decided += list(step)
    decided += list(pairer.finish())
    stream = {k: (-1 if v is None else v[1]) for k, v, _ in decided}
    assert [stream[k] for k in range(len(d))] == got.tolist()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/x", "OUT"], "/nonexistent/x: expected a recording"),
        (["SCENES", "OUT", "--calibration", "kinect2"], "--calibration: expected libfreenect"),
        (
            ["SCENES", "OUT", "--max-dt", "-1"],
            "argument --max-dt: expected a finite number of seconds > 0",
        ),
        (["SCENES", "OUT", "--workers", "0"], "argument --workers: expected a whole number >= 1"),
        (["SCENES", "FILE"], "expected a folder for the dataset, got a file"),
        (["SCENES", "OUT", "--depth-format", "cm"], "--depth-format: expected a depth format"),
    ],
)
def test_bad_command_lines(scenes: Path, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "FILE").write_text("keep me")
    subst = {"SCENES": str(scenes), "OUT": str(tmp_path / "out"), "FILE": str(tmp_path / "FILE")}
    proc = subprocess.run(
        [sys.executable, "-m", "depthview", "convert", *[subst.get(a, a) for a in args]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert (tmp_path / "FILE").read_text() == "keep me"


def test_metres_to_mm_compiled_and_numpy_agree() -> None:
    from depthview.datasets.frames import metres_to_mm

    rng = np.random.default_rng(5)
    m = rng.uniform(-1, 70, (480, 640)).astype(np.float32)
    m[::7, ::5] = np.nan
    m[0, :4] = [0.0005, 0.0015, 65.535, 65.5356]
    fast = metres_to_mm(m, np.empty(m.shape, np.uint16))
    plain = metres_to_mm(m)
    np.testing.assert_array_equal(fast, plain)
    assert plain[0, :4].tolist() == [0, 2, 65535, 0]
    assert int(plain[7, 5]) == 0


def test_without_dask_workers_run_in_one_process_and_say_how_to_add_it(
    scenes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for a machine without the cluster extra: the dev install always has Dask,
    # so its absence is simulated (the only mock here).
    from depthview.datasets import engine

    monkeypatch.setattr(engine, "have_dask", lambda: False)
    with pytest.warns(UserWarning, match=r"pip install 'depthview\[cluster\]'"):
        s = dv.convert(scenes / "kitchen_0001", tmp_path / "out", workers=2)
    assert s.engine == "one process" and s.done == ["kitchen_0001"]
    with pytest.raises(dv.DepthviewError, match=r"Dask is not installed; pip install"):
        dv.convert(scenes / "kitchen_0001", tmp_path / "out2", scheduler="tcp://127.0.0.1:1")


def test_the_shipped_sample_has_no_colour_so_the_scene_fails(tmp_path: Path) -> None:
    s = dv.convert("sample", tmp_path / "out")
    assert s.done == [] and [name for name, _ in s.failed] == ["sample"]
    assert "expected a colour stream to pair 20 depth frame(s) with, got none" in s.failed[0][1]
    assert not (tmp_path / "out").exists()  # nothing half-made left behind


def test_a_broken_png_in_a_tum_folder_is_skipped_and_counted(scenes: Path, tmp_path: Path) -> None:
    dv.convert(scenes / "kitchen_0001", tmp_path / "first")
    folder = tmp_path / "first" / "kitchen_0001"
    broken = sorted((folder / "depth").iterdir())[1]
    broken.write_bytes(broken.read_bytes()[:300])
    s = dv.convert(folder, tmp_path / "second")
    assert s.done == ["kitchen_0001"] and s.pairs_kept == 4 and s.bad_frames == 1
    line = _manifest(tmp_path / "second")["kitchen_0001"]
    assert broken.name in str(line["bad"]) and line["frames"] == 5


def test_open3d_reads_the_tum_output_in_metres(scenes: Path, tmp_path: Path) -> None:
    """Open3D, as its users load a TUM folder (depth_scale=5000, TUM's units), reads each
    converted pair back with the depth Pillow reads, in metres, and its colour image. Run in
    its own process: Open3D brings OpenGL libraries of its own."""
    dv.convert(scenes / "kitchen_0001", tmp_path / "out")
    scene = tmp_path / "out" / "kitchen_0001"
    pairs = [line.split() for line in (scene / "associations.txt").read_text().splitlines()]
    script = (
        "import sys, numpy as np, open3d as o3d\n"
        "c, d, out = sys.argv[1:]\n"
        "rgbd = o3d.geometry.RGBDImage.create_from_color_and_depth(o3d.io.read_image(c),"
        " o3d.io.read_image(d), depth_scale=5000.0, depth_trunc=100.0,"
        " convert_rgb_to_intensity=False)\n"
        "np.savez(out, depth=np.asarray(rgbd.depth), color=np.asarray(rgbd.color))\n"
    )
    for _, rgb_file, _, depth_file in pairs:
        got_path = tmp_path / "o3d.npz"
        done = subprocess.run(
            [sys.executable, "-c", script, scene / rgb_file, scene / depth_file, got_path],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        got = np.load(got_path)
        stored = np.asarray(Image.open(scene / depth_file))
        assert stored.dtype == np.uint16 and (stored > 0).mean() > 0.5
        np.testing.assert_allclose(got["depth"], stored / 5000.0, rtol=1e-6)
        np.testing.assert_array_equal(got["color"], np.asarray(Image.open(scene / rgb_file)))


def test_a_broken_device_json_in_a_zip_names_the_member_and_the_fault(tmp_path: Path) -> None:
    """A recording's device.json read from a zip goes through the same JSON checks as one
    read from a folder: the scene fails with the member named and the line at fault."""
    write_scene(tmp_path / "in" / "kitchen_0001", 2, seed=1)
    (tmp_path / "in" / "kitchen_0001" / "device.json").write_text('{"reg_info": {')
    archive = zip_folder(tmp_path / "in", tmp_path / "part.zip")
    summary = dv.convert([archive], tmp_path / "out")
    assert [name for name, _ in summary.failed] == ["kitchen_0001"]
    reason = summary.failed[0][1]
    assert "device.json: expected JSON, got Expecting property name" in reason, reason
    assert "at line 1 column 15" in reason, reason  # the one JSON check, as for folders


@pytest.mark.parametrize("depth_only", [False, True])
def test_a_tum_folder_converted_keeps_its_fifths_of_a_millimetre(
    tmp_path: Path, depth_only: bool
) -> None:
    """Trial V (V6): a TUM folder converted without a calibration ("depth written as it
    came", says the manifest) had every value rounded to whole millimetres (x5): TUM's
    fifths were lost. Now the depth PNGs hold the values the input's do, read by Pillow."""
    root = tmp_path / "tum"
    (root / "depth").mkdir(parents=True)
    (root / "rgb").mkdir()
    rng = np.random.default_rng(7)
    stamps = [f"{1305031102.1 + i / 30:.6f}" for i in range(3)]
    stored = {}
    for t in stamps:
        stored[t] = rng.integers(2000, 20000, (48, 64)).astype(np.uint16)  # not all x5
        Image.fromarray(stored[t]).save(root / "depth" / f"{t}.png")
        Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(root / "rgb" / f"{t}.png")
    (root / "depth.txt").write_text("".join(f"{t} depth/{t}.png\n" for t in stamps))
    (root / "rgb.txt").write_text("".join(f"{t} rgb/{t}.png\n" for t in stamps))
    dv.convert(root, tmp_path / "out", depth_only=depth_only)
    for t in stamps:
        got = np.asarray(Image.open(tmp_path / "out" / "tum" / "depth" / f"{t}.png"))
        np.testing.assert_array_equal(got, stored[t])


def test_convert_into_a_hard_linked_copy_leaves_the_original_dataset(
    scenes: Path, tmp_path: Path
) -> None:
    """Trial V (V10, LOST): ``cp -al ds ds2; convert OTHER ds2`` appended OTHER's line to the
    manifest both datasets share before replacing ds2's: ds listed a scene it does not
    hold. The manifest is made this dataset's own before a line is added."""
    from _helpers_cli import tree_hash

    first = tmp_path / "ds"
    dv.convert(scenes / "kitchen_0001", first)
    copy = tmp_path / "ds2"
    for path in sorted(first.rglob("*")):
        target = copy / path.relative_to(first)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
    before = tree_hash(first)
    others = [p for p in sorted(scenes.iterdir()) if p.name != "kitchen_0001"]
    dv.convert(others[0], copy)
    assert tree_hash(first) == before
    assert len(_manifest(copy)) == 2 and len(_manifest(first)) == 1


def test_links_back_into_a_folder_find_each_recording_once(tmp_path: Path) -> None:
    """Trial X (D2): ``ln -s . loop/here`` made convert walk the loop eight levels down,
    warn of recordings "left out" and refuse "scene names to be unique" about the one
    recording the folder holds. A folder reached again is not searched again; a recording
    reached by a link and by its own name is the one under its own name."""
    folder = tmp_path / "loop"
    write_scene(folder / "s1", 3)
    (folder / "here").symlink_to(".")
    (folder / "a_link").symlink_to(folder / "s1")  # sorts before s1
    scenes = find_scenes([str(folder)])
    assert [(s.name, s.path) for s in scenes] == [("s1", str(folder / "s1"))]


def test_the_accelerometer_of_a_frame_not_kept_is_counted(tmp_path: Path) -> None:
    """Trial X (D7): the accelerometer reading that came with a broken depth frame was not
    written and not counted (the manifest's bad_records said accel 0). It is counted now:
    what is not written is said."""
    rec = write_scene(tmp_path / "scene", 5)
    depth = [n for n in (rec / "INDEX.txt").read_text().split() if n.startswith("d-")]
    (rec / depth[2]).write_bytes((rec / depth[2]).read_bytes()[:100])
    dv.convert(rec, tmp_path / "out")
    line = _manifest(tmp_path / "out")["scene"]
    assert line["bad_frames"] == 1 and line["pairs_kept"] == 4
    written = (tmp_path / "out" / "scene" / "accelerometer.txt").read_text().splitlines()[3:]
    readings = sum(n.startswith("a-") for n in (rec / "INDEX.txt").read_text().split())
    assert len(written) + line["accel_left_out"] == readings == 5
    assert line["accel_left_out"] == 1


def test_associate_says_an_unreadable_colour_frame_as_one(tmp_path: Path) -> None:
    """Trial X (D6): under ``--pairing associate``, a depth frame whose colour frame (0 ms
    away) is unreadable was dropped as if that colour "went to closer depth frames". The
    reason is the one the default pairing gives."""
    rec = write_scene(tmp_path / "scene", 6)
    colour_files = [n for n in (rec / "INDEX.txt").read_text().split() if n.startswith("r-")]
    (rec / colour_files[2]).write_bytes((rec / colour_files[2]).read_bytes()[:100])
    dv.convert(rec, tmp_path / "out", pairing="associate", max_dt=0.02)
    line = _manifest(tmp_path / "out")["scene"]
    reasons = [d["reason"] for d in line["dropped"]]  # type: ignore[union-attr]
    assert reasons == ["every colour frame within --max-dt is unreadable (listed under bad)"]
    assert [b["kind"] for b in line["bad"]] == ["video"]  # type: ignore[union-attr]


def test_a_convert_that_wrote_no_manifest_does_not_point_to_one(tmp_path: Path) -> None:
    """Trial X (D12): ``convert --format mcap`` on a full disk failed the scene and its
    summary said "see manifest.jsonl" where none was written."""
    from _helpers_cli import cli
    from _helpers_disk import tmpfs

    rec = write_scene(tmp_path / "scene", 30)
    with tmpfs("2m") as disk:
        ran = cli("convert", str(rec), str(disk / "c"), "--format", "mcap", "--quiet")
        assert not (disk / "c" / "manifest.jsonl").exists()
    assert ran.code == 2, ran.err
    assert "disk full" in ran.err or "No space left" in ran.err, ran.err
    assert "see manifest.jsonl" not in ran.out and "no manifest.jsonl was written" in ran.out


def test_accelerometer_records_beside_those_kept_are_counted(tmp_path: Path) -> None:
    """Trial AB (D8): a Kinect reads its accelerometer more often than it gives depth; each
    pair keeps the nearest reading and the others went unwritten and uncounted
    (``accel_left_out: 0`` with 63 of 83 readings in no output). They are counted."""
    from depthview.fakenect_format import entry_name, parse_index_line

    rec = write_scene(tmp_path / "scene", 4)
    lines = []
    for name in (rec / "INDEX.txt").read_text().split():
        lines.append(name)
        entry = parse_index_line(name)
        if entry.kind == "a":  # two more readings between this frame and the next
            for dt in (0.008, 0.016):
                extra = entry_name("a", entry.unix_time + dt, entry.device_timestamp)
                (rec / extra).write_bytes((rec / name).read_bytes())
                lines.append(extra)
    (rec / "INDEX.txt").write_text("\n".join(lines) + "\n")
    for fmt in ("tum", "npz"):
        dv.convert(rec, tmp_path / fmt, format=fmt)
        line = _manifest(tmp_path / fmt)["scene"]
        assert line["pairs_kept"] == 4 and line["accel_left_out"] == 8, line
    written = (tmp_path / "tum" / "scene" / "accelerometer.txt").read_text().splitlines()[3:]
    assert len(written) + 8 == sum(n.startswith("a-") for n in lines) == 12


def test_a_whole_dataset_on_a_full_disk_stays_whole_and_its_run_succeeds(tmp_path: Path) -> None:
    """Trial AB (D1): a run whose every scene was written and listed ended, on a full disk,
    with exit 2 "cannot write" naming OUT, and left an empty ``.manifest.jsonl.tmp``: the
    manifest was rewritten at the end (to sort it) even when already in order. It is
    rewritten only when out of order; where that fails, its lines stay as written, said."""
    from _helpers_cli import cli
    from _helpers_disk import tmpfs

    for name in ("a", "b"):
        write_scene(tmp_path / "scenes" / name, 4)
    with tmpfs("8m") as disk:
        out = disk / "c"
        ran = cli("convert", str(tmp_path / "scenes"), str(out), "--quiet")
        assert ran.code == 0, ran.err
        manifest = out / "manifest.jsonl"
        lines = manifest.read_text().splitlines(keepends=True)
        assert [json.loads(ln)["scene"] for ln in lines] == ["a", "b"]
        for order in (lines, lines[::-1]):  # in order, then out of order
            manifest.write_text("".join(order))
            with open(disk / "fill", "wb") as fh, contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            ran = cli("convert", str(tmp_path / "scenes"), str(out), "--quiet")
            assert ran.code == 0, ran.err
            assert "2 already complete" in ran.out, ran.out
            assert manifest.read_text() == "".join(order)  # every line, as it was
            assert sorted(p.name for p in out.iterdir()) == ["a", "b", "manifest.jsonl"]
            said = [ln for ln in ran.err.splitlines() if "warning" in ln]
            if order is lines:
                assert said == [], ran.err
            else:
                assert said == [
                    f"depthview: warning: {manifest}: its lines stay in the order the scenes "
                    "finished (cannot sort them: disk full)"
                ], ran.err
            (disk / "fill").unlink()


@pytest.mark.parametrize("scale", [1000, 5000])
def test_a_scenes_camera_file_says_its_units_without_the_pngs_marker(
    tmp_path: Path, scale: int
) -> None:
    """Trial AB (D15): ``convert --tum-scale 1000`` writes ``DepthMapFactor: 1000`` in
    camera.yaml; PNGs saved again by another tool (their depthview marker gone) were read at
    TUM's 5000 per metre, 5 times too near, as certain. The camera file says the units."""
    rec = write_scene(tmp_path / "scene", 3)
    dv.convert(rec, tmp_path / "out", tum_scale=scale)
    scene = tmp_path / "out" / "scene"
    with dv.open(str(scene), realtime=False) as src:
        want = [dv.to_metres(f.depth, depth_format=f.depth_format) for f in src]
    for png in (scene / "depth").glob("*.png"):  # saved again: the values, no text chunk
        with Image.open(png) as im:
            values = np.asarray(im)
        Image.fromarray(values).save(png)
    with dv.open(str(scene), realtime=False) as src:
        assert "DepthMapFactor" in src.units_note and not src.units_guess
        got = [dv.to_metres(f.depth, depth_format=f.depth_format) for f in src]
    np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(want), atol=1e-6)


def test_chunks_are_part_of_a_scenes_identity_under_a_stateful_filter(tmp_path: Path) -> None:
    """Trial AD (D2): the temporal filter starts again in each chunk of a TUM scene, so its
    output depends on --chunk; a rerun with another --chunk reused the scene as "already
    complete". --chunk is then in the scene's params: the rerun is refused, saying so."""
    from _helpers_cli import cli

    rec = write_scene(tmp_path / "scene", 8)
    out = str(tmp_path / "out")
    ran = cli("convert", str(rec), out, "--filter", "temporal", "--quiet")
    assert ran.code == 0, ran.err
    assert _manifest(tmp_path / "out")["scene"]["params"]["chunk"] == 1000  # type: ignore[index]
    ran = cli("convert", str(rec), out, "--filter", "temporal", "--chunk", "3", "--quiet")
    assert ran.code == 2 and "chunk 1000 -> 3" in ran.err, ran.err
    ran = cli("convert", str(rec), out, "--filter", "spatial", "--quiet", "--overwrite")
    assert ran.code == 0, ran.err
    assert "chunk" not in _manifest(tmp_path / "out")["scene"]["params"]  # type: ignore[operator]


def test_colour_of_another_size_than_the_alignment_maps_into_is_refused(tmp_path: Path) -> None:
    """Trial AD (D7): a recording of 1280x1024 colour (a Kinect's high-resolution mode) was
    written as 1280x1024 rgb/ beside depth registered to libfreenect's 640x480 colour image,
    labelled aligned: a reader pairs pixel (u, v) with (u, v), wrongly. Refused, one line."""
    from _helpers_cli import cli

    rec = write_scene(tmp_path / "scene", 3)
    for name in (rec / "INDEX.txt").read_text().split():
        if name.startswith("r-"):
            (rec / name).write_bytes(b"P6 1280 1024 255\n" + bytes(1280 * 1024 * 3))
    ran = cli("convert", str(rec), str(tmp_path / "out"), "--quiet")
    assert ran.code == 2, ran.err
    assert ran.error_lines == [
        "depthview: error: scene scene: expected 640x480 colour, the image libfreenect's "
        "registration aligns depth to, got 1280x1024"
    ]
    assert not (tmp_path / "out" / "manifest.jsonl").exists()


def test_ir_video_and_colour_that_never_reads_are_said_as_such(tmp_path: Path) -> None:
    """Trial AD (D8): a source whose video is IR was refused as "every colour frame ...
    unreadable (listed under bad)", and so was a recording whose every colour file is cut
    short, pointing at a manifest that was not written. IR is said as IR (with the way
    out), and unreadable colour names its first file and why."""
    from _helpers_cli import cli

    np.savez(
        tmp_path / "ir.npz",
        depth=np.full((3, 48, 64), 800, np.uint16),
        video=np.full((3, 48, 64), 100, np.uint8),
        timestamp=np.array([1.0, 1.033, 1.066]),
    )
    ran = cli("convert", str(tmp_path / "ir.npz"), str(tmp_path / "a"), "--quiet")
    assert ran.code == 2 and ran.error_lines == [
        f"depthview: error: scene ir: {tmp_path / 'ir.npz'}: its video is IR (IR_8BIT), not "
        "colour: a dataset pairs depth with colour; --depth-only writes the depth alone"
    ], ran.err
    rec = write_scene(tmp_path / "scene", 3)
    colour = sorted(rec.glob("r-*.ppm"))
    for f in colour:
        f.write_bytes(f.read_bytes()[:100])
    ran = cli("convert", str(rec), str(tmp_path / "b"), "--quiet")
    assert ran.code == 2, ran.err
    assert (
        "every colour frame within --max-dt is unreadable (the first: "
        f"{colour[0]}: expected 921615 bytes (640x480), got 100)"
    ) in ran.err, ran.err


def test_a_cluster_is_given_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trial AD (D10): relative paths went to a cluster's workers as they were, read and
    written in each worker's own folder: "INDEX.txt: No such file" for a file that is there,
    and a half-made scene left in the worker's folder. Refused in one line, nothing made."""
    from _helpers_cli import cli

    write_scene(tmp_path / "rec", 2)
    monkeypatch.chdir(tmp_path)
    for src, out in (("rec", "out"), (str(tmp_path / "rec"), "out"), ("rec", str(tmp_path / "o"))):
        ran = cli("convert", src, out, "--scheduler", "tcp://127.0.0.1:9", "--quiet")
        assert ran.code == 2 and ran.error_lines == [
            "depthview: error: --scheduler tcp://127.0.0.1:9: the cluster's workers read SRC "
            "and write OUT from folders of their own: expected absolute paths, got "
            f"{src if not src.startswith('/') else out}"
        ], ran.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec"]


def test_a_folder_beside_recordings_that_holds_none_is_said(tmp_path: Path) -> None:
    """Trial AF (D7): a folder of a recording and a TUM dataset folder converted the
    recording only, and never named the folder it left out."""
    from _helpers_cli import cli

    write_scene(tmp_path / "mix" / "rec", 2)
    (tmp_path / "mix" / "tum" / "depth").mkdir(parents=True)
    (tmp_path / "mix" / "tum" / "depth.txt").write_text("# no frames\n")
    ran = cli("convert", str(tmp_path / "mix"), str(tmp_path / "out"), "--quiet")
    assert ran.code == 0, ran.err
    assert (
        f"{tmp_path / 'mix'}: 1 folder(s) beside its recordings hold none, left out (the "
        f"first: {tmp_path / 'mix' / 'tum'})"
    ) in ran.err


def test_a_scene_whose_name_is_no_utf8_is_converted(tmp_path: Path) -> None:
    """Trial AB (D14): a recording in a folder whose name is not UTF-8 (bytes a Linux file
    system allows) ended the TUM conversion with UnicodeEncodeError's traceback, writing
    the name into depth.txt's header. The name is written with its byte escaped."""
    name = os.fsdecode(b"dem\xfe")
    write_scene(tmp_path / "in" / name, 3)
    summary = dv.convert(tmp_path / "in" / name, tmp_path / "out")
    assert summary.done == [name] and summary.pairs_kept == 3
    header = (tmp_path / "out" / name / "depth.txt").read_text().splitlines()[1]
    assert header == "# file: 'dem\\xfe'"
    # trial AD (D12): a line break in the name broke the header's three lines
    write_scene(tmp_path / "in2" / "a\nb", 2)
    dv.convert(tmp_path / "in2" / "a\nb", tmp_path / "out2")
    lines = (tmp_path / "out2" / "a\nb" / "depth.txt").read_text().splitlines()
    assert lines[:3] == ["# depth maps", "# file: 'a\\nb'", "# timestamp filename"]
    with dv.open(str(tmp_path / "out" / name), realtime=False) as src:
        assert len(src) == 3


def test_a_corrupt_deflated_member_of_a_zip_is_a_bad_frame(tmp_path: Path) -> None:
    """Trial Z (D4): a byte flipped in the deflated data of one d-*.pgm member ended convert
    with zlib's traceback (exit 1), the scene neither written nor in the manifest. It is a
    bad frame, as a corrupt stored member is: the job goes on."""
    import zipfile

    rec = write_scene(tmp_path / "scene", 5)
    archive = tmp_path / "scenes.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(rec.iterdir()):
            z.write(f, f"scene/{f.name}")
    with zipfile.ZipFile(archive) as z:
        member = next(i for i in z.infolist() if i.filename.endswith(".pgm"))
        start = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra)
    data = bytearray(archive.read_bytes())
    data[start + 1000] ^= 0xFF  # (where trial Z flipped it: zlib, not the CRC, fails)
    archive.write_bytes(bytes(data))
    summary = dv.convert(archive, tmp_path / "out", depth_only=True)
    assert summary.done == ["scene"] and summary.bad_frames == 1
    line = _manifest(tmp_path / "out")["scene"]
    assert line["frames"] == 5 and line["pairs_kept"] == 4


def test_an_archive_of_pairs_is_paired_by_the_nearest_rule_again(tmp_path: Path) -> None:
    """Trial AP (D1): convert's own ``convert-pairs`` .npz lists each colour frame with its
    depth frame (one-to-one pairs), not in time order; converted again with the nearest rule,
    the depth frame at 0.01 s lost its colour frame 6 ms away ("no colour frame within
    --max-dt"), which the recording the archive came from pairs. Its pairs are the
    recording's: the nearest colour frame of every depth frame, computed apart."""
    import shutil

    from _helpers_cli import cli

    assert cli("record", "demo:5", str(tmp_path / "src"), "--frames", "6", "--quiet").code == 0
    index = (tmp_path / "src" / "INDEX.txt").read_text().split()
    depth_files = [n for n in index if n.startswith("d-")]
    colour_files = [n for n in index if n.startswith("r-")]
    depth_t, colour_t = [0.0, 0.01, 0.1, 0.5, 0.9], [0.004, 0.2, 0.3, 0.52, 0.95]
    events = sorted(
        [(t, "d", depth_files[i]) for i, t in enumerate(depth_t)]
        + [(t, "r", colour_files[i]) for i, t in enumerate(colour_t)]
    )
    (tmp_path / "prec").mkdir()
    names = []
    for t, kind, old in events:
        name = f"{kind}-{1.7e9 + t:.6f}-{int(t * 60e6)}.{'pgm' if kind == 'd' else 'ppm'}"
        shutil.copy(tmp_path / "src" / old, tmp_path / "prec" / name)
        names.append(name)
    (tmp_path / "prec" / "INDEX.txt").write_text("\n".join(names) + "\n")
    made = cli("convert", str(tmp_path / "prec"), str(tmp_path / "c2"), "--pairing", "associate",
               "--max-dt", "0.3", "--format", "npz", "--quiet")  # fmt: skip
    assert made.code == 0, made.err
    again = cli("convert", str(tmp_path / "c2" / "prec.npz"), str(tmp_path / "c3"),
                "--max-dt", "0.05", "--quiet")  # fmt: skip
    assert again.code == 0, again.err
    want = pairing.nearest(depth_t, colour_t, 0.05)  # [0, 0, -1, 3, 4]
    pairs = [
        line.split()
        for line in (tmp_path / "c3" / "prec" / "associations.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    got = [(float(p[2]) - 1.7e9, float(p[0]) - 1.7e9) for p in pairs]  # colour, then depth
    expected = [(depth_t[k], colour_t[j]) for k, j in enumerate(want) if j >= 0]
    assert len(got) == len(expected) == 4
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_an_archive_of_pairs_keeps_its_readings_own_times(tmp_path: Path) -> None:
    """Trial AR (D5): convert's .npz kept each pair's accelerometer reading without its
    time, and an export of it gave the reading the depth frame's time, a time no reading
    had. It keeps ``accel_times``; read back, each reading has the time the recording gave
    it (the recording's own accelerometer entries, read apart: 5 ms after each depth frame)."""
    from _helpers_cli import cli

    rec = write_scene(tmp_path / "rec", 4)
    names = (rec / "INDEX.txt").read_text().split()
    accel_times = [float(n.split("-")[1]) for n in names if n.startswith("a-")]
    assert cli("convert", str(rec), str(tmp_path / "c"), "--format", "npz", "--quiet").code == 0
    with np.load(tmp_path / "c" / "rec.npz") as z:
        np.testing.assert_allclose(z["accel_times"], accel_times, rtol=0, atol=1e-6)
        depth_times = z["depth_times"].copy()
    assert (
        cli("export", str(tmp_path / "c" / "rec.npz"), str(tmp_path / "e.npz"), "--quiet").code == 0
    )
    with np.load(tmp_path / "e.npz") as z:
        np.testing.assert_allclose(z["accel_timestamp"], accel_times, rtol=0, atol=1e-6)
        assert np.abs(z["accel_timestamp"] - depth_times).min() > 0.004
