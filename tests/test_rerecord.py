"""Streams keep their own records and times: a frame carries every video and accelerometer
record that arrived since the previous frame, each with its own host time and device
timestamp, so re-recording a recording gives back its INDEX.txt and every file byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli
from _helpers_sinks import read_mcap
from _helpers_sources import copy_person, write_entries
from depthview.cli import main
from depthview.fakenect_format import entry_name


def _same_recording(a: Path, b: Path) -> None:
    assert (b / "INDEX.txt").read_bytes() == (a / "INDEX.txt").read_bytes()
    assert sorted(p.name for p in b.iterdir()) == sorted(p.name for p in a.iterdir())
    for path in a.iterdir():
        assert (b / path.name).read_bytes() == path.read_bytes(), path.name


def test_the_real_sample_re_records_byte_for_byte(tmp_path: Path, capsys: object) -> None:
    # 20 depth frames, each followed by four accelerometer records (the last four after the
    # last depth frame), no video.
    original = copy_person(tmp_path)
    out = tmp_path / "again"
    assert main(["record", str(original), str(out)]) == 0
    _same_recording(original, out)


@pytest.mark.parametrize(
    "kinds",
    [
        "drdrdrdr",  # video just after each depth frame
        "rdardardard",  # video and accel before each depth frame
        "rrdrrdrrdrrd",  # video runs ahead of depth
        "drddrddrdd",  # video runs behind depth
        "dadadada",  # depth-only
        "ddddd",  # depth alone, nothing else
        "rraadrdaar",  # records before the first depth frame and after the last one
    ],
)
def test_synthetic_recordings_re_record_byte_for_byte(tmp_path: Path, kinds: str) -> None:
    original = tmp_path / "original"
    write_entries(original, kinds, seed=len(kinds))
    out = tmp_path / "again"
    assert main(["record", str(original), str(out)]) == 0
    _same_recording(original, out)


def test_frames_say_which_records_they_carry(tmp_path: Path) -> None:
    lines = write_entries(tmp_path / "rec", "rrdarrdad")
    with dv.open(str(tmp_path / "rec"), realtime=False) as src:
        frames = list(src)
    assert len(frames) == 3
    # Every index line is accounted for exactly once, in order.
    names = [
        entry_name(r.stream.value, r.stamp.host_time, r.stamp.device_timestamp or 0)
        for f in frames
        for r in f.records
    ]
    assert names == lines
    # Frame 1 (index line 7) shows the newest video and accel record before it.
    f = frames[1]
    assert f.video_stamp is not None and f.video_stamp.seq == 3
    assert f.video_stamp.host_time == float(lines[5].split("-")[1])
    assert f.accel_stamp is not None and f.accel_stamp.seq == 0
    assert f.accel_stamp.device_timestamp == int(lines[3].split("-")[2].split(".")[0])
    video_record = [r for r in f.records if r.stream is dv.Stream.VIDEO][-1]
    assert f.video is video_record.data
    # Stamps of the depth frame itself.
    assert f.depth_stamp == dv.Stamp(1, float(lines[6].split("-")[1]), f.device_timestamp)


def test_a_frame_built_by_hand_writes_what_it_holds(tmp_path: Path) -> None:
    depth = np.full((480, 640), 800, np.uint16)
    video = np.zeros((480, 640, 3), np.uint8)
    frame = dv.Frame(depth, video=video, timestamp=1700000000.5, accel=(0.0, 9.80665, 0.0))
    kinds = [r.stream for r in frame.own_records()]
    assert kinds == [dv.Stream.VIDEO, dv.Stream.ACCEL, dv.Stream.DEPTH]
    dv.record([frame], tmp_path / "rec")
    lines = (tmp_path / "rec" / "INDEX.txt").read_text().split()
    assert [line[0] for line in lines] == ["r", "a", "d"]
    with dv.open(str(tmp_path / "rec"), realtime=False) as src:
        back = src.read()
    assert back.accel == pytest.approx((0.0, 9.80665, 0.0), abs=0.012)
    np.testing.assert_array_equal(back.depth, depth)


@pytest.mark.parametrize("kinds", ["rdardardardard", "drdadrdadrda"])
def test_a_broken_depth_frame_loses_only_its_depth(tmp_path: Path, kinds: str) -> None:
    """Trial G (issue 22): a recording whose 3rd depth file is missing, re-recorded (and
    exported to .mcap), lost that frame's colour and accelerometer records with it, though
    they were readable; only the depth file was named. They now come with the next frame:
    the re-recording is the original byte for byte without the missing depth line."""
    lines = write_entries(tmp_path / "src", kinds)
    missing = [name for name in lines if name.startswith("d-")][2]
    (tmp_path / "src" / missing).unlink()
    out = tmp_path / "again"
    ran = cli("record", str(tmp_path / "src"), str(out), "--quiet")
    assert ran.code == 0, ran.err
    assert f"skipped broken frame: {tmp_path / 'src' / missing}" in ran.err
    kept = [name for name in lines if name != missing]
    assert (out / "INDEX.txt").read_text().splitlines() == kept
    for name in kept:
        assert (out / name).read_bytes() == (tmp_path / "src" / name).read_bytes(), name
    # The same records through a sink's file: every colour and accelerometer record.
    ran = cli("export", str(tmp_path / "src"), str(tmp_path / "x.mcap"), "--quiet")
    assert ran.code == 0, ran.err
    got = read_mcap(tmp_path / "x.mcap")
    assert len(got["/kinect/rgb/image"]) == kinds.count("r")
    assert len(got["/kinect/accel"]) == kinds.count("a")
    assert len(got["/kinect/depth/image"]) == kinds.count("d") - 1


def test_two_depth_frames_of_one_host_time_are_copied_as_they_are(tmp_path: Path) -> None:
    """Trial G (issue 22): a recording whose 5th depth frame has the 4th's host time (and
    its own device time) was taken as a new pass at that frame: every later record was
    re-timed (+1 frame interval, device times shifted). They are two records of one time,
    copied as they are: the re-recording is the original byte for byte."""
    original = tmp_path / "original"
    lines = write_entries(original, "dadadadadada")
    depth = [n for n in lines if n.startswith("d-")]
    fourth_time = depth[3].split("-")[1]
    _, _, ts = depth[4].removesuffix(".pgm").split("-")
    renamed = f"d-{fourth_time}-{ts}.pgm"
    (original / depth[4]).rename(original / renamed)
    index = original / "INDEX.txt"
    index.write_text(index.read_text().replace(depth[4], renamed))
    out = tmp_path / "again"
    ran = cli("record", str(original), str(out), "--quiet")
    assert ran.code == 0, ran.err
    _same_recording(original, out)


def _stepping_back(folder: Path, change: str) -> list[str]:
    """The recording at ``folder`` with its 2nd depth line repeated (``"repeated"``) or
    moved after the 3rd (``"moved"``), as trial O edited INDEX.txt; returns its lines."""
    lines = (folder / "INDEX.txt").read_text().splitlines()
    depth = [i for i, name in enumerate(lines) if name.startswith("d-")]
    second = lines[depth[1]]
    if change == "repeated":
        lines.insert(depth[1] + 1, second)
    else:
        lines.insert(depth[3], second)  # before the 4th depth line: after the 3rd's records
        del lines[depth[1]]
    (folder / "INDEX.txt").write_text("".join(name + "\n" for name in lines))
    return lines


@pytest.mark.parametrize("change", ["repeated", "moved"])
def test_a_recording_whose_times_step_back_re_records_byte_for_byte(
    tmp_path: Path, change: str
) -> None:
    """Trial O: a recording whose INDEX.txt repeats a depth line or lists one late was
    taken for a replay that looped (the writer's guess from times going back): every later
    record was re-timed (+0.05 s, +0.11 s) and the duration grew. The step back is the
    recording's own: the re-recording is the original byte for byte, the time span said is
    the original's."""
    original = copy_person(tmp_path)
    lines = _stepping_back(original, change)
    out = tmp_path / "again"
    ran = cli("record", str(original), str(out), "--quiet")
    assert ran.code == 0, ran.err
    _same_recording(original, out)
    times = [float(name.split("-")[1]) for name in lines]
    assert f"{max(times) - min(times):.2f} s" in ran.out


@pytest.mark.parametrize("change", ["repeated", "moved"])
def test_an_npz_export_of_such_a_recording_reads_back(tmp_path: Path, change: str) -> None:
    """Trial O: ``export REC x.npz`` of that recording wrote the times as they are, and
    depthview's own .npz reader then refused x.npz ("expected increasing times"). It is
    read as the recording is, with one warning line, its times the recording's own."""
    original = copy_person(tmp_path)
    lines = _stepping_back(original, change)
    depth_times = [float(name.split("-")[1]) for name in lines if name.startswith("d-")]
    first = tmp_path / "x.npz"
    assert cli("export", str(original), str(first), "--quiet").code == 0
    again = tmp_path / "y.npz"
    ran = cli("export", str(first), str(again), "--quiet")
    assert ran.code == 0, ran.err
    warned = [line for line in ran.err.splitlines() if "do not increase" in line]
    assert len(warned) == 1 and warned[0].startswith(f"depthview: warning: {first}: timestamp")
    for path in (first, again):
        with np.load(path) as z:
            assert z["timestamp"].tolist() == pytest.approx(depth_times, abs=1e-6)
