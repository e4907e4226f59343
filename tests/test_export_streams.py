"""A stream some frames lack stays in the export for the frames that have it (issue 18):
a recording's first frame often has no accelerometer reading or video yet."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

import depthview as dv
from _helpers_cli import cli
from depthview.sources import sample


def _frames(path: Path) -> list[dv.Frame]:
    with dv.open(str(path), realtime=False) as src:
        return list(src)


def test_npz_keeps_the_accelerometer_when_the_first_frame_has_none(tmp_path: Path) -> None:
    rec = sample.write_to(tmp_path / "rec")
    frames = _frames(rec)
    assert frames[0].accel is None and any(f.accel is not None for f in frames)
    assert cli("export", str(rec), str(tmp_path / "a.npz"), "--quiet").code == 0
    with np.load(tmp_path / "a.npz") as data:
        accel, times = data["accel"], data["accel_timestamp"]
    for f, row, t in zip(frames, accel, times, strict=True):
        if f.accel is None:
            assert np.isnan(row).all() and np.isnan(t)
        else:
            np.testing.assert_array_equal(row, f.accel)
            assert f.accel_stamp is not None and t == f.accel_stamp.host_time


def test_npz_keeps_the_video_of_the_frames_that_have_it(tmp_path: Path) -> None:
    """A PNG folder whose colour images start late, as frames built by hand can be."""
    with dv.open("demo", realtime=False) as src:
        demo = [next(src) for _ in range(4)]
    frames = [
        replace(f, video=None, video_stamp=None) if i in (0, 2) else f for i, f in enumerate(demo)
    ]
    dv.export(frames, tmp_path / "v.npz")
    with np.load(tmp_path / "v.npz") as data:
        valid, video, seq = data["video_valid"], data["video"], data["video_seq"]
        vtimes = data["video_timestamp"]
    assert valid.tolist() == [False, True, False, True]
    for f, ok, picture, s, t in zip(frames, valid, video, seq, vtimes, strict=True):
        if ok:
            assert f.video is not None and f.video_stamp is not None
            np.testing.assert_array_equal(picture, f.video)
            assert s == f.video_stamp.seq and t == f.video_stamp.host_time
        else:
            assert not picture.any() and s == -1 and np.isnan(t)


def _accel_device_times(rec: Path) -> list[int]:
    """The device times of a recording's accelerometer records, from their INDEX.txt names."""
    lines = (rec / "INDEX.txt").read_text().split()
    return [int(x.rsplit("-", 1)[1].split(".")[0]) for x in lines if x.startswith("a-")]


def test_accelerometer_device_times_survive_an_npz(tmp_path: Path) -> None:
    """Trial J: ``record`` of an export of a recording gave the accelerometer device times
    made up from host times (1999969 for 2000000); the archive now keeps them
    (``accel_device_timestamp``, -1 where a frame has no reading) and reading it gives them."""
    rec = tmp_path / "rec"
    assert cli("record", "demo", str(rec), "--frames", "6", "--quiet").code == 0
    own = _accel_device_times(rec)
    assert len(own) >= 5
    assert cli("export", str(rec), str(tmp_path / "e.npz"), "--quiet").code == 0
    with np.load(tmp_path / "e.npz") as data:
        kept = data["accel_device_timestamp"]
        valid = np.isfinite(data["accel_timestamp"])
    assert kept.dtype == np.int64 and ((kept >= 0) == valid).all()
    frames = _frames(rec)
    want = [f.accel_stamp.device_timestamp for f in frames if f.accel_stamp is not None]
    assert kept[valid].tolist() == want
    assert cli("record", str(tmp_path / "e.npz"), str(tmp_path / "again"), "--quiet").code == 0
    again = _accel_device_times(tmp_path / "again")
    assert again == want and set(again) <= set(own)


def test_an_export_that_leaves_colour_out_says_so(tmp_path: Path) -> None:
    """Trial J: ``export SRC DIR --format png16`` (and a .ply without --registered) left the
    source's colour out with no word, so every later step from the export had lost it. Said
    in one warning line; formats that keep colour say nothing."""
    said = "colour images are not kept"
    for argv, note in (
        (["p16", "--format", "png16"], "png16 holds depth only"),
        (["c.ply"], "coloured only with --registered"),
        (["cloud", "--format", "ply"], "coloured only with --registered"),
    ):
        ran = cli("export", "demo", str(tmp_path / argv[0]), *argv[1:], "--frames", "1")
        assert ran.code == 0, ran.err
        (line,) = [x for x in ran.err.splitlines() if said in x]
        assert (
            line.startswith(f"depthview: warning: {tmp_path / argv[0]}: demo's ") and note in line
        )
    for argv in (["k.npz"], ["r.ply", "--registered"], ["m.mcap"]):
        ran = cli("export", "demo", str(tmp_path / argv[0]), *argv[1:], "--frames", "1")
        assert ran.code == 0 and said not in ran.err, ran.err
    ran = cli("export", "sample", str(tmp_path / "s16"), "--format", "png16", "--frames", "1")
    assert ran.code == 0 and said not in ran.err, ran.err  # no colour to leave out
