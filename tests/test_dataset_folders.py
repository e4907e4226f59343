"""Dataset folders as their own files describe them (trial O, findings 16 and 17): hidden
files copied from a Mac are no frames, TUM's ``depth.txt``/``rgb.txt`` are the frame lists,
and a 7-Scenes-layout folder's ``camera-intrinsics.txt`` is its camera. Through the
command line, checked against the arrays each test wrote."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _helpers_cli import cli

H, W = 12, 16
T0 = 1305031102.160407


def depth_frames(n: int) -> np.ndarray:
    """Distinct frames: frame i holds 1000 + 100 i (and a ramp), so each says which it is."""
    ramp = np.arange(H * W, dtype=np.uint16).reshape(H, W)
    return np.stack([1000 + 100 * i + ramp for i in range(n)]).astype(np.uint16)


def colour(i: int) -> np.ndarray:
    return np.full((H, W, 3), (20 + 40 * i, 200 - 30 * i, 60 + 25 * i), np.uint8)


def save(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def apple_double(folder: Path) -> None:
    """What a copy from macOS leaves: ``._NAME`` beside every file, not an image."""
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            (folder / f"._{path.name}").write_bytes(b"\x00\x05\x16\x07" + os.urandom(4092))


def write_tum(root: Path, n: int = 3) -> tuple[np.ndarray, list[str]]:
    """TUM's layout: depth/ and rgb/ named by time, depth.txt and rgb.txt listing them."""
    depth = depth_frames(n)
    stamps = [f"{T0 + i / 30:.6f}" for i in range(n)]
    for i, t in enumerate(stamps):
        save(root / "depth" / f"{t}.png", depth[i])
        save(root / "rgb" / f"{t}.png", colour(i))
    (root / "depth.txt").write_text(
        "# depth maps\n# timestamp filename\n" + "".join(f"{t} depth/{t}.png\n" for t in stamps)
    )
    (root / "rgb.txt").write_text(
        "# color images\n# timestamp filename\n" + "".join(f"{t} rgb/{t}.png\n" for t in stamps)
    )
    return depth, stamps


def export_npz(source: Path, out: Path) -> dict[str, np.ndarray]:
    ran = cli("export", str(source), str(out), "--quiet")
    assert ran.code == 0, ran.err
    with np.load(out) as z:
        return {k: z[k] for k in z.files}


def info(source: Path) -> dict[str, object]:
    ran = cli("info", "--json", str(source))
    assert ran.code == 0, ran.err
    result: dict[str, object] = json.loads(ran.out)
    return result


# -- 16: hidden files ------------------------------------------------------------------------
def test_apple_double_files_are_no_frames_in_a_tum_folder(tmp_path: Path) -> None:
    root = tmp_path / "tum"
    depth, stamps = write_tum(root)
    apple_double(root / "depth")
    apple_double(root / "rgb")
    apple_double(root)
    got = export_npz(root, tmp_path / "x.npz")
    np.testing.assert_array_equal(got["depth"], depth)
    np.testing.assert_array_equal(got["video"], np.stack([colour(i) for i in range(3)]))
    np.testing.assert_array_equal(got["timestamp"], [float(t) for t in stamps])


def test_apple_double_files_are_no_frames_in_a_folder_without_lists(tmp_path: Path) -> None:
    root = tmp_path / "redwood"  # depth/ beside color/, names alone
    depth = depth_frames(2)
    for i in range(2):
        save(root / "depth" / f"{i:06d}.png", depth[i])
        save(root / "color" / f"{i:06d}.png", colour(i))
    apple_double(root / "depth")
    apple_double(root / "color")
    got = export_npz(root, tmp_path / "x.npz")
    np.testing.assert_array_equal(got["depth"], depth)
    np.testing.assert_array_equal(got["video"], np.stack([colour(0), colour(1)]))


def test_apple_double_files_are_no_frames_in_a_seven_scenes_folder(tmp_path: Path) -> None:
    root = tmp_path / "7s"
    depth = depth_frames(2)
    for i in range(2):
        save(root / f"frame-{i:06d}.depth.png", depth[i])
        save(root / f"frame-{i:06d}.color.png", colour(i))
    apple_double(root)
    assert "7-Scenes" in str(info(root)["units"])
    got = export_npz(root, tmp_path / "x.npz")
    np.testing.assert_array_equal(got["depth"], depth)


# -- 16: TUM's lists are the frames ------------------------------------------------------------
def test_tum_lists_say_which_files_are_frames(tmp_path: Path) -> None:
    """A file in depth/ that depth.txt does not list is no frame, nor one taken out of the
    list; rgb.txt likewise for colour (an unlisted image nearer in time is not taken)."""
    root = tmp_path / "tum"
    depth, stamps = write_tum(root, 4)
    save(root / "depth" / f"{T0 + 0.5:.6f}.png", depth_frames(9)[8])  # unlisted
    listed = [0, 2, 3]  # frame 1 taken out of depth.txt
    (root / "depth.txt").write_text(
        "# depth maps\n" + "".join(f"{stamps[i]} depth/{stamps[i]}.png\n" for i in listed)
    )
    # colour: rgb.txt lists images 5 ms after each depth frame; an unlisted one sits on each
    for i in range(4):
        (root / "rgb" / f"{stamps[i]}.png").unlink()
    rgb_lines = []
    for i in range(4):
        t = float(stamps[i])
        save(root / "rgb" / f"{t + 0.005:.6f}.png", colour(i))
        save(root / "rgb" / f"{t + 0.001:.6f}.png", colour(9))  # nearer, but not listed
        rgb_lines.append(f"{t + 0.005:.6f} rgb/{t + 0.005:.6f}.png\n")
    (root / "rgb.txt").write_text("# color images\n" + "".join(rgb_lines))
    assert info(root)["frames"] == 3
    got = export_npz(root, tmp_path / "x.npz")
    np.testing.assert_array_equal(got["depth"], depth[listed])
    np.testing.assert_array_equal(got["video"], np.stack([colour(i) for i in listed]))
    np.testing.assert_allclose(got["timestamp"], [float(stamps[i]) for i in listed], atol=1e-6)
    np.testing.assert_allclose(
        got["video_timestamp"], [float(stamps[i]) + 0.005 for i in listed], atol=1e-6
    )


def test_tum_list_times_are_the_frames_times(tmp_path: Path) -> None:
    """The list's times, not the names', as TUM's tools take them (comma-separated too)."""
    root = tmp_path / "tum"
    depth = depth_frames(2)
    for i, name in enumerate(("a", "b")):
        save(root / "depth" / f"{name}.png", depth[i])
    (root / "depth.txt").write_text("100.25,depth/a.png\n\n100.75\tdepth/b.png extra\n")
    got = export_npz(root, tmp_path / "x.npz")
    np.testing.assert_array_equal(got["depth"], depth)
    np.testing.assert_array_equal(got["timestamp"], [100.25, 100.75])


@pytest.mark.parametrize("names", ["equal", "by time"])
def test_colour_listed_far_from_the_depth_is_no_pair_and_is_said(
    tmp_path: Path, names: str
) -> None:
    """Trial AB (D2, D3): rgb.txt listing each image 10 s after the depth frame of the same
    name gave every frame that image, without a word, while named by their own times the
    same images were dropped unsaid. The lists' times pair colour (TUM's tools' rule), and
    images that pair with no depth frame are said."""
    depth, stamps = write_tum(tmp_path / "tum", n=4)
    root = tmp_path / "tum"
    lines = []
    for t in stamps:
        later = f"{float(t) + 10:.6f}"
        if names == "by time":
            (root / "rgb" / f"{t}.png").rename(root / "rgb" / f"{later}.png")
        lines.append(f"{later} rgb/{later if names == 'by time' else t}.png\n")
    (root / "rgb.txt").write_text("".join(lines))
    ran = cli("export", str(root), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0, ran.err
    said = [ln for ln in ran.err.splitlines() if "warning:" in ln]
    assert any("none of the 4 colour image(s) goes with a depth frame" in ln for ln in said)
    assert any("listed farther from it" in ln for ln in said) == (names == "equal"), said
    with np.load(tmp_path / "x.npz") as got:
        np.testing.assert_array_equal(got["depth"], depth)
        assert "video" not in got.files or not got["video_valid"].any()
    ran = cli("convert", str(root), str(tmp_path / "c"), "--depth-only", "--quiet")
    assert ran.code == 0, ran.err  # each said once (trial AD: convert said them twice)
    assert ran.err.count("none of the 4 colour image(s)") == 1, ran.err
    shifted = [f"{float(t) + 0.01:.6f}" for t in stamps]  # within a frame interval: paired
    listed = zip(shifted, stamps, strict=True)
    (root / "rgb.txt").write_text(
        "".join(f"{s} rgb/{s if names == 'by time' else t}.png\n" for s, t in listed)
    )
    if names == "by time":
        for t, s in zip(stamps, shifted, strict=True):
            (root / "rgb" / f"{float(t) + 10:.6f}.png").rename(root / "rgb" / f"{s}.png")
    got = export_npz(root, tmp_path / "y.npz")
    assert got["video_valid"].all()
    np.testing.assert_array_equal(got["video"], [colour(i) for i in range(4)])


def test_a_listed_file_that_is_missing_is_one_line(tmp_path: Path) -> None:
    root = tmp_path / "tum"
    write_tum(root)
    with (root / "depth.txt").open("a") as fh:
        fh.write("1305031103.000000 depth/1305031103.000000.png\n")
    for argv in (("info", str(root)), ("export", str(root), str(tmp_path / "x.npz"))):
        ran = cli(*argv)
        assert ran.code == 2, ran.err
        assert ran.err.count("\n") == 1
        assert f"{root / 'depth.txt'} line 6: lists 'depth/1305031103.000000.png'" in ran.err
    assert not (tmp_path / "x.npz").exists()
    write_tum(root)  # depth.txt whole again; rgb.txt naming an image rgb/ lacks
    (root / "rgb.txt").write_text("1305031102.1 rgb/1305031102.1.png\n")
    ran = cli("info", str(root))
    assert ran.code == 2 and f"{root / 'rgb.txt'} line 1: lists" in ran.err


def test_a_list_line_that_is_no_time_and_file_is_one_line(tmp_path: Path) -> None:
    root = tmp_path / "tum"
    write_tum(root)
    (root / "depth.txt").write_text("# depth\ndepth/1305031102.160407.png\n")
    ran = cli("info", str(root))
    assert ran.code == 2 and ran.err.count("\n") == 1
    assert f"{root / 'depth.txt'} line 2: expected 'time file'" in ran.err
    (root / "depth.txt").write_text("1 ../outside.png\n")
    ran = cli("info", str(root))
    assert ran.code == 2 and f"{root / 'depth.txt'} line 1: expected a file inside" in ran.err


# -- 17: a 7-Scenes-layout folder's own camera ---------------------------------------------------
def write_seven_scenes(root: Path, n: int = 2) -> np.ndarray:
    depth = depth_frames(n)
    for i in range(n):
        save(root / f"frame-{i:06d}.depth.png", depth[i])
        save(root / f"frame-{i:06d}.color.png", colour(i))
        (root / f"frame-{i:06d}.pose.txt").write_text("1 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n")
    return depth


def test_a_seven_scenes_folder_reads_its_camera_intrinsics_txt(tmp_path: Path) -> None:
    root = tmp_path / "7sK"
    depth = write_seven_scenes(root)
    (root / "camera-intrinsics.txt").write_text(  # as tsdf-fusion-python's data writes it
        "5.000000000000000000e+02 0.000000000000000000e+00 3.000000000000000000e+02\n"
        "0.000000000000000000e+00 5.100000000000000000e+02 2.000000000000000000e+02\n"
        "0.000000000000000000e+00 0.000000000000000000e+00 1.000000000000000000e+00\n"
    )
    said = info(root)
    assert said["intrinsics"] == "fx=500 fy=510 cx=300 cy=200"
    assert "intrinsics: camera-intrinsics.txt beside the frames" in str(said["units"])
    one = info(root / "frame-000001.depth.png")  # one frame of the folder: the same camera
    assert one["intrinsics"] == "fx=500 fy=510 cx=300 cy=200"
    got = export_npz(root, tmp_path / "x.npz")
    np.testing.assert_array_equal(got["intrinsics"], [500, 510, 300, 200])
    # the points of a .ply: x = (u - cx) z / fx, y = (v - cy) z / fy, from the file's camera
    ran = cli("export", str(root), str(tmp_path / "x.ply"), "--frames", "1", "--quiet")
    assert ran.code == 0, ran.err
    from plyfile import PlyData

    vertex = PlyData.read(str(tmp_path / "x.ply"))["vertex"]
    z = depth[0].astype(np.float64) / 1000
    v, u = np.mgrid[0:H, 0:W]
    want = np.stack([(u - 300) * z / 500, (v - 200) * z / 510, z], axis=-1).reshape(-1, 3)
    got_xyz = np.stack([vertex["x"], vertex["y"], vertex["z"]], axis=-1)
    np.testing.assert_allclose(got_xyz, want, rtol=1e-5, atol=1e-6)


def test_a_seven_scenes_folder_without_one_has_the_published_camera(tmp_path: Path) -> None:
    write_seven_scenes(tmp_path / "7s")
    said = info(tmp_path / "7s")
    assert said["intrinsics"] == "fx=585 fy=585 cx=320 cy=240"
    assert "7-Scenes' published calibration" in str(said["units"])


def test_a_bad_camera_intrinsics_txt_is_one_line(tmp_path: Path) -> None:
    root = tmp_path / "7s"
    write_seven_scenes(root)
    (root / "camera-intrinsics.txt").write_text("585 0 320\n0 585 240\n")
    ran = cli("info", str(root))
    assert ran.code == 2 and ran.err.count("\n") == 1
    assert f"{root / 'camera-intrinsics.txt'}: expected a 3x3 camera matrix (9 numbers)" in ran.err


# -- trial S 2: one broken file among readable ones ---------------------------------------
def cut_short(path: Path) -> None:
    data = path.read_bytes()  # its header whole, its pixels cut: a decoder's error
    path.write_bytes(data[: max(40, len(data) // 2)])


def test_convert_lists_a_folders_broken_files_by_name_and_kind(tmp_path: Path) -> None:
    """Trial AB (D6): convert's manifest listed a dataset folder's broken depth image and
    broken colour image under the folder's name, the colour one as kind "source": a tool
    reading ``bad`` for the broken files got the folder. Each is named, with its kind."""
    import depthview as dv

    root = tmp_path / "7s"
    write_seven_scenes(root, 5)
    cut_short(root / "frame-000002.depth.png")
    cut_short(root / "frame-000003.color.png")
    dv.convert(root, tmp_path / "out")
    (line,) = [
        json.loads(t) for t in (tmp_path / "out" / "manifest.jsonl").read_text().split("\n") if t
    ]
    bad = {(b["kind"], b["file"]) for b in line["bad"]}
    assert bad == {
        ("depth", str(root / "frame-000002.depth.png")),
        ("video", str(root / "frame-000003.color.png")),
    }, line["bad"]
    assert line["bad_records"]["video"] == 1 and line["bad_frames"] == 1


@pytest.mark.parametrize(
    ("scale", "said"), [(5000, "scaled from 1000 to 5000"), (1000, "as it came")]
)
def test_convert_says_whether_millimetres_were_scaled(
    tmp_path: Path, scale: int, said: str
) -> None:
    """Trial AD (D4): 7-Scenes' millimetres written as TUM's fifths of a millimetre (values
    times 5) were labelled "depth written as it came". The label says the scaling."""
    import depthview as dv

    root = tmp_path / "7s"
    depth = write_seven_scenes(root, 2)
    dv.convert(root, tmp_path / "out", tum_scale=scale)
    (line,) = [
        json.loads(t) for t in (tmp_path / "out" / "manifest.jsonl").read_text().split("\n") if t
    ]
    assert said in line["alignment"], line["alignment"]
    png = sorted((tmp_path / "out" / "7s" / "depth").glob("*.png"))[0]
    with Image.open(png) as im:
        np.testing.assert_array_equal(np.asarray(im), depth[0].astype(np.int64) * scale // 1000)


def test_a_broken_colour_image_is_left_out_and_said(tmp_path: Path) -> None:
    root = tmp_path / "tum"
    depth, stamps = write_tum(root, 4)
    cut_short(root / "rgb" / f"{stamps[2]}.png")
    ran = cli("export", str(root), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0, ran.err
    assert ran.err.count("left out broken colour image") == 1, ran.err
    assert f"rgb/{stamps[2]}.png" in ran.err
    with np.load(tmp_path / "x.npz") as z:
        np.testing.assert_array_equal(z["depth"], depth)  # every depth frame kept
        np.testing.assert_array_equal(z["video_valid"], [True, True, False, True])
        np.testing.assert_array_equal(z["video"][3], colour(3))


def test_a_looping_source_says_each_broken_file_once(tmp_path: Path) -> None:
    """Trial AA (D4): a looping view or stream said the same broken frame again on every
    pass (a viewer left open: every 0.7 s, forever). Once per file, per source."""
    import warnings

    import depthview as dv
    from depthview.sources import sample

    root = tmp_path / "tum"
    _, stamps = write_tum(root, 4)
    cut_short(root / "depth" / f"{stamps[1]}.png")
    cut_short(root / "rgb" / f"{stamps[2]}.png")
    rec = sample.write_to(tmp_path / "rec")
    broken = sorted(rec.glob("d-*.pgm"))[3]
    broken.write_bytes(broken.read_bytes()[:1000])
    for source, frames in ((root, 3), (rec, 19)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with dv.open(str(source), loop=True, realtime=False) as src:
                for _ in range(4 * frames):  # four passes
                    src.read()
        said = sorted(str(w.message).split(":")[0] for w in caught)
        want = ["left out broken colour image", "skipped broken frame"]
        assert said == (want if source == root else want[1:]), said


def test_a_frame_marked_in_other_units_than_its_folder_is_skipped_and_said(
    tmp_path: Path,
) -> None:
    """Trial AB (D9): a png16 folder (depthview's marker: millimetres) holding one PNG that
    convert wrote (its marker: TUM's fifths of a millimetre) read that frame as millimetres,
    5 times too far, unsaid. A frame whose own marker disagrees is skipped and said."""
    ran = cli("export", "sample", str(tmp_path / "p16"), "--format", "png16", "--frames", "3")
    assert ran.code == 0, ran.err
    assert cli("record", "demo", str(tmp_path / "rec"), "--frames", "2", "--quiet").code == 0
    assert cli("convert", str(tmp_path / "rec"), str(tmp_path / "c"), "--quiet").code == 0
    tum = sorted((tmp_path / "c" / "rec" / "depth").glob("*.png"))[0]
    (tmp_path / "p16" / "frame-000003.png").write_bytes(tum.read_bytes())
    ran = cli("export", str(tmp_path / "p16"), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0, ran.err
    said = [ln for ln in ran.err.splitlines() if "skipped broken frame" in ln]
    assert said == [
        f"depthview: warning: skipped broken frame: {tmp_path / 'p16' / 'frame-000003.png'}: "
        "expected depth in millimetres as the folder's, got depthview's marker for fifths of "
        "a millimetre, metres x 5000"
    ], ran.err
    with np.load(tmp_path / "x.npz") as z:
        assert list(z["index"]) == [0, 1, 2]


def test_a_colour_image_of_another_size_is_left_out_and_said(tmp_path: Path) -> None:
    """Trial AB (D12): one colour image of another size in a TUM folder failed the .npz
    export naming the output and "frame 2", went into an .mcap as it was, and into convert's
    scene beside 640x480 depth. It is left out and said, naming its file, as a recording's."""
    import depthview as dv

    root = tmp_path / "tum"
    depth, stamps = write_tum(root, 4)
    odd = root / "rgb" / f"{stamps[2]}.png"
    save(odd, colour(2)[::2, ::2])
    ran = cli("export", str(root), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0, ran.err
    assert ran.err.count(f"{odd}: expected a {W}x{H} colour image like {stamps[0]}.png") == 1
    with np.load(tmp_path / "x.npz") as z:
        np.testing.assert_array_equal(z["depth"], depth)
        np.testing.assert_array_equal(z["video_valid"], [True, True, False, True])
    dv.convert(root, tmp_path / "out")
    (line,) = [
        json.loads(t) for t in (tmp_path / "out" / "manifest.jsonl").read_text().split("\n") if t
    ]
    assert [(b["kind"], b["file"]) for b in line["bad"]] == [("video", str(odd))]


def test_a_broken_depth_image_is_skipped_and_said(tmp_path: Path) -> None:
    root = tmp_path / "tum"
    depth, stamps = write_tum(root, 4)
    cut_short(root / "depth" / f"{stamps[1]}.png")
    ran = cli("export", str(root), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0, ran.err
    assert ran.err.count("skipped broken frame") == 1, ran.err
    assert f"depth/{stamps[1]}.png" in ran.err
    with np.load(tmp_path / "x.npz") as z:
        np.testing.assert_array_equal(z["depth"], depth[[0, 2, 3]])
        np.testing.assert_array_equal(z["index"], [0, 2, 3])
        np.testing.assert_allclose(z["timestamp"], [float(stamps[i]) for i in (0, 2, 3)])


def test_a_folder_of_broken_depth_images_is_one_line(tmp_path: Path) -> None:
    root = tmp_path / "tum"
    _, stamps = write_tum(root, 3)
    for t in stamps[1:]:  # the first is read on opening: a broken one is refused there
        cut_short(root / "depth" / f"{t}.png")
    cut_short(root / "depth" / f"{stamps[0]}.png")
    ran = cli("export", str(root), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 2 and ran.err.count("\n") == 1, ran.err
    assert not (tmp_path / "x.npz").exists()


def test_strict_makes_a_broken_file_the_end_of_the_reading(tmp_path: Path) -> None:
    """``strict=True`` (what ``convert`` opens scenes with, to count a broken file as a bad
    frame in its manifest) raises the broken file instead of skipping it."""
    import warnings

    import pytest

    import depthview as dv
    from depthview.errors import BrokenFile

    root = tmp_path / "tum"
    _, stamps = write_tum(root, 3)
    cut_short(root / "depth" / f"{stamps[1]}.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing skipped with a warning
        with dv.open(str(root), strict=True) as src:
            src.read()
            with pytest.raises(BrokenFile, match=stamps[1]):
                src.read()


def test_frames_numbered_without_leading_zeros_are_in_number_order(tmp_path: Path) -> None:
    """Trial V (V8): ``1.png 2.png 3.png 10.png 11.png 20.png`` were read as 1, 10, 11, 2,
    20, 3 (text order) and timed by that place. Numbers in names are numbers; times in
    names (TUM's, of any number of decimals) are times."""
    numbered = tmp_path / "numbered"
    for k in (20, 1, 11, 3, 10, 2):
        save(numbered / f"{k}.png", np.full((H, W), 1000 + k, np.uint16))
    got = export_npz(numbered, tmp_path / "n.npz")
    assert [int(d[0, 0]) for d in got["depth"]] == [1001, 1002, 1003, 1010, 1011, 1020]
    named = tmp_path / "named"
    for k in (10, 2, 1):
        save(named / f"frame{k}_depth.png", np.full((H, W), 1000 + k, np.uint16))
    got = export_npz(named, tmp_path / "f.npz")
    assert [int(d[0, 0]) for d in got["depth"]] == [1001, 1002, 1010]
    timed = tmp_path / "timed" / "depth"
    for t in ("1.5", "1.25", "1.125"):  # fewer decimals is not earlier
        save(timed / f"{t}.png", np.full((H, W), int(float(t) * 1000), np.uint16))
    got = export_npz(timed.parent, tmp_path / "t.npz")
    assert [int(d[0, 0]) for d in got["depth"]] == [1125, 1250, 1500]


@pytest.mark.parametrize("kind", ["folder", "named pipe", "link to nothing"])
def test_a_frame_that_is_no_file_is_skipped_said_and_the_rest_keep_their_places(
    tmp_path: Path, kind: str
) -> None:
    """Trial X (D4): a folder's frame-000001.png that is a folder, a named pipe or a link to
    nothing was dropped unsaid, and frame 2 became frame 1 (its index and time). It is a
    broken frame as a truncated one is: skipped, said, the others in their places."""
    root = tmp_path / "pngs"
    depth = depth_frames(3)
    for i in (0, 2):
        save(root / f"frame-{i:06d}.png", depth[i])
    odd = root / "frame-000001.png"
    if kind == "folder":
        odd.mkdir()
    elif kind == "named pipe":
        os.mkfifo(odd)
    else:
        odd.symlink_to(tmp_path / "nothing")
    ran = cli("export", str(root), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0, ran.err
    said = "a link to" if kind == "link to nothing" else f"a {kind}"
    assert f"skipped broken frame: {odd}: expected a regular file, got {said}" in ran.err
    with np.load(tmp_path / "x.npz") as z:
        np.testing.assert_array_equal(z["index"], [0, 2])
        np.testing.assert_allclose(z["timestamp"], [0, 2 / 30])
        np.testing.assert_array_equal(z["depth"], depth[[0, 2]])


def test_a_png_among_the_frames_that_is_no_depth_is_said(tmp_path: Path) -> None:
    """Trial X (D4): in a folder without names saying which files are depth, an 8-bit PNG
    among the 16-bit ones was left out without a word."""
    root = tmp_path / "pngs"
    for k in (1, 2, 10):
        save(root / f"{k}.png", np.full((H, W), 1001 + k, np.uint16))
    save(root / "3.png", np.full((H, W), 7, np.uint8))
    ran = cli("export", str(root), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0, ran.err
    assert "1 PNG(s) that are not 16-bit depth left out (the first: 3.png, 8-bit grey" in ran.err


def test_frames_with_numbers_missing_between_them_are_said(tmp_path: Path) -> None:
    """Trial Z (D3): an ``--every 3`` png16 export (frame-000000, -000003, -000006, ...) read
    back had its frames numbered 0, 1, 2 and timed by place, unsaid. Said now."""
    rec = tmp_path / "rec"
    from depthview.sources import sample

    sample.write_to(rec)
    ran = cli("export", str(rec), str(tmp_path / "p"), "--format", "png16", "--every", "3")
    assert ran.code == 0, ran.err
    ran = cli("export", str(tmp_path / "p"), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0, ran.err
    assert "frames numbered 0 to 18 in their names, 12 number(s) missing (the first: 1)" in (
        ran.err
    )
    numbered = tmp_path / "numbered"  # consecutive numbers: nothing to say
    for k in (1, 2, 3):
        save(numbered / f"{k}.png", np.full((H, W), 1001 + k, np.uint16))
    ran = cli("export", str(numbered), str(tmp_path / "n.npz"), "--quiet")
    assert ran.code == 0 and "missing" not in ran.err, ran.err
    timed = tmp_path / "timed"  # names that are times (TUM's depth/ given alone): no numbers
    for t in ("1305031102.160407", "1305031102.194330", "1305031102.226738"):
        save(timed / f"{t}.png", np.full((H, W), 5001, np.uint16))
    ran = cli("export", str(timed), str(tmp_path / "t.npz"), "--quiet")
    assert ran.code == 0 and "missing" not in ran.err, ran.err


# -- trial AN D6: colour images that go with no depth frame are said -------------------------
def _said_once(argv: list[str], said: str) -> None:
    ran = cli(*argv)
    assert ran.code == 0, ran.err
    assert (ran.out + ran.err).count(said) == 1, ran.out + ran.err


def test_colour_images_that_pair_with_no_depth_frame_are_said_once(tmp_path: Path) -> None:
    """Trial AN D6: TUM's rgb.txt listing an image 7 s after the last depth frame, a colour
    folder with images no depth frame is near (names that differ: paired by time), and a
    7-Scenes folder with an extra ``frame-000900.color.jpg`` were read without a word,
    though the README says such images are said. One warning per source, in info, export
    and convert alike (not one per frame), naming how many and the first."""
    tum = tmp_path / "T"
    write_tum(tum, n=2)
    extra = f"{T0 + 7:.6f}"
    save(tum / "rgb" / f"{extra}.png", colour(5))
    with (tum / "rgb.txt").open("a") as fh:
        fh.write(f"{extra} rgb/{extra}.png\n")
    said = f"{tum}: 1 colour image pairs with no depth frame (the first: rgb/{extra}.png)"
    _said_once(["info", str(tum)], said)
    _said_once(["export", str(tum), str(tmp_path / "t.npz"), "--quiet"], said)
    _said_once(["export", str(tum), str(tmp_path / "t.mcap"), "--quiet"], said)
    _said_once(["convert", str(tum), str(tmp_path / "conv")], said)

    timed = tmp_path / "timed"  # no lists, names that differ: nearest in time
    for i in range(3):
        save(timed / "depth" / f"{T0 + i / 30:.6f}.png", depth_frames(3)[i])
    far = [T0 + 5, T0 + 6]
    for i, t in enumerate([T0 + 0.004, T0 + 1 / 30 + 0.004, *far]):
        save(timed / "rgb" / f"{t:.6f}.png", colour(i))
    said = f"{timed}: 2 colour images pair with no depth frame (the first: rgb/{far[0]:.6f}.png)"
    _said_once(["export", str(timed), str(tmp_path / "d.npz"), "--quiet"], said)

    seven = tmp_path / "seq-01"
    write_seven_scenes(seven)
    save(seven / "frame-000900.color.jpg", colour(3))
    save(seven / "preview_rgb.jpg", colour(4))  # not named like a frame: no colour frame
    said = f"{seven}: 1 colour image pairs with no depth frame (the first: frame-000900.color.jpg)"
    _said_once(["export", str(seven), str(tmp_path / "s.npz"), "--quiet"], said)

    plain = tmp_path / "plain"  # every colour image has its depth frame: nothing said
    write_tum(plain)
    ran = cli("export", str(plain), str(tmp_path / "p.npz"), "--quiet")
    assert ran.code == 0 and "no depth frame" not in ran.err, ran.err
