"""The fakenect writer: bytes on disk, replay through Debian's real fakenect library and
depthview's reader, refusals, full disk, append/overwrite, drops and signals."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli, tree_hash
from _helpers_sources import FAKENECT_LIB, PERSON
from depthview.errors import RecordingError
from depthview.frame import DepthFormat, Frame, VideoFormat
from depthview.recording import RecordingWriter, record

PY = sys.executable
NAME = re.compile(r"[dra]-[0-9]+\.[0-9]{6}-[0-9]+\.(pgm|ppm|dump)")

# No skip: CI installs Debian's fakenect (scripts/bootstrap.sh), so its absence is a failure.
needs_fakenect = pytest.mark.libfreenect

# Replays FAKENECT_PATH through dv.open("kinect") on Debian's fakenect and saves what came.
REPLAY = """
import sys, numpy as np, depthview as dv
depth, video = [], []
with dv.open("kinect") as src:
    for f in src:
        depth.append(f.depth.copy())
        if f.video is not None:
            video.append(f.video.copy())
np.savez(sys.argv[1], depth=np.array(depth), video=np.array(video))
"""


def demo_frames(n: int, seed: int = 3) -> list[Frame]:
    with dv.open("demo", fps=0, frames=n, seed=seed) as src:
        return list(src)


def replay_with_fakenect(folder: Path, tmp_path: Path) -> dict[str, np.ndarray]:
    assert FAKENECT_LIB.exists(), "Debian's libfreenect0.5 (fakenect) is not installed"
    env = dict(
        os.environ,
        DEPTHVIEW_LIBFREENECT=str(FAKENECT_LIB),
        FAKENECT_PATH=str(folder),
        FAKENECT_LOOP="0",
    )
    out = tmp_path / "replay.npz"
    proc = subprocess.run(
        [PY, "-c", REPLAY, str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    with np.load(out) as data:
        return {k: data[k] for k in data.files}


def test_files_are_fakenect_format(tmp_path: Path) -> None:
    frames = demo_frames(3)
    summary = record(frames, tmp_path / "rec")
    assert (summary.frames, summary.dropped) == (3, 0)
    lines = (tmp_path / "rec" / "INDEX.txt").read_text().splitlines()
    assert [line[0] for line in lines] == ["r", "a", "d"] * 3
    assert all(NAME.fullmatch(line) for line in lines)
    pgm = (tmp_path / "rec" / lines[2]).read_bytes()
    assert pgm[:17] == b"P5 640 480 65535\n" and len(pgm) == 17 + 640 * 480 * 2
    np.testing.assert_array_equal(np.frombuffer(pgm[17:], "<u2").reshape(480, 640), frames[0].depth)
    ppm = (tmp_path / "rec" / lines[0]).read_bytes()
    assert ppm[:15] == b"P6 640 480 255\n" and len(ppm) == 15 + 640 * 480 * 3
    dump = (tmp_path / "rec" / lines[1]).read_bytes()
    x, y, z, angle, status = [*np.frombuffer(dump[:6], "<i2").tolist(), dump[6], dump[8]]
    accel = frames[0].accel
    assert accel is not None
    assert [x, y, z] == [round(a * 819 / 9.80665) for a in accel]
    assert angle == 0 and status == 0
    total = sum((tmp_path / "rec" / n).stat().st_size for n in lines)
    assert summary.bytes == total + len("".join(line + "\n" for line in lines))


def test_round_trip_through_depthview_reader(tmp_path: Path) -> None:
    frames = demo_frames(6)
    record(frames, tmp_path / "rec")
    with dv.open(str(tmp_path / "rec"), realtime=False) as src:
        back = list(src)
    assert len(back) == 6
    for a, b in zip(frames, back, strict=True):
        np.testing.assert_array_equal(a.depth, b.depth)
        assert b.video is not None and a.video is not None
        np.testing.assert_array_equal(a.video, b.video)
        assert a.accel is not None and b.accel is not None
        np.testing.assert_allclose(a.accel, b.accel, atol=9.80665 / 819)
        assert b.tilt_deg == 0.0
        assert b.device_timestamp == a.device_timestamp
    # demo times are seconds since start: kept as offsets from the recording's start
    np.testing.assert_allclose(np.diff([f.timestamp for f in back]), 1 / 30, atol=2e-6)


@needs_fakenect
def test_replay_through_real_fakenect(tmp_path: Path) -> None:
    frames = demo_frames(8, seed=5)
    record(frames, tmp_path / "rec")
    got = replay_with_fakenect(tmp_path / "rec", tmp_path)
    assert got["depth"].shape == (8, 480, 640)
    for i, frame in enumerate(frames):
        assert np.array_equal(got["depth"][i], frame.depth), f"depth frame {i} differs"
    np.testing.assert_array_equal(got["video"], np.array([f.video for f in frames]))


def test_re_recording_a_recording_keeps_times(tmp_path: Path) -> None:
    with dv.open(str(PERSON), realtime=False) as src:
        original = list(src)
        record(original, tmp_path / "rec")
    with dv.open(str(tmp_path / "rec"), realtime=False) as src:
        back = list(src)
    assert len(back) == len(original) == 20
    for a, b in zip(original, back, strict=True):
        np.testing.assert_array_equal(a.depth, b.depth)
        assert abs(a.timestamp - b.timestamp) < 1e-6


def test_refuses_what_fakenect_cannot_replay(tmp_path: Path) -> None:
    depth = np.zeros((480, 640), np.uint16)
    with pytest.raises(RecordingError, match="expected depth in RAW_11BIT, got MM"):
        record([Frame(depth, depth_format=DepthFormat.MM)], tmp_path / "a")
    with pytest.raises(
        RecordingError, match=r"expected depth of shape \(480, 640\) uint16, got \(240, 320\)"
    ):
        record([Frame(np.zeros((240, 320), np.uint16))], tmp_path / "b")
    ir = np.zeros((480, 640), np.uint8)
    with pytest.raises(RecordingError, match="--depth-only"):
        record([Frame(depth, video=ir, video_format=VideoFormat.IR_8BIT)], tmp_path / "c")
    summary = record([Frame(depth, video=ir)], tmp_path / "d", depth_only=True)
    assert summary.frames == 1
    assert [p.name[0] for p in (tmp_path / "d").iterdir() if p.name != "INDEX.txt"] == ["d"]


def test_modes(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    record(demo_frames(2), out)
    with pytest.raises(RecordingError, match="expected an empty or new folder"):
        record(demo_frames(1), out)
    record(demo_frames(3), out, mode="append")
    with dv.open(str(out), realtime=False) as src:
        assert len(src) == 5
    (out / "notes.txt").write_text("keep me")
    record(demo_frames(1), out, mode="overwrite")
    with dv.open(str(out), realtime=False) as src:
        assert len(src) == 1
    assert (out / "notes.txt").read_text() == "keep me"
    assert len(list(out.glob("[dra]-*"))) == 3


def test_unwritable_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(RecordingError, match="cannot record there"):
        record(demo_frames(1), tmp_path / "file" / "rec")
    proc = subprocess.run(
        [PY, "-m", "depthview", "record", "demo", str(tmp_path / "file" / "r"), "--frames", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "cannot record there" in proc.stderr


# Records 20 demo frames with the file size limited to about 4.5 frames' worth of one file.
FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (700_000, 700_000))
from depthview.cli import main
sys.exit(main(["record", "demo", sys.argv[1], "--frames", "20"]))
"""


def test_full_disk_before_any_frame_leaves_no_recording(tmp_path: Path) -> None:
    """The first frame cannot be written: no folder with an empty INDEX.txt (which ``info``
    and ``view`` refuse) is left, nor the depth file of the frame that failed, and the line
    says nothing was recorded (trial M, issue 22)."""
    out = tmp_path / "rec"
    # the limit is below an RGB file's size (921,615 bytes): the first video file fails
    proc = subprocess.run(
        [PY, "-c", FULL_DISK, str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    said = [
        line
        for line in proc.stderr.replace("\r", "\n").splitlines()
        # the progress bar's (its rate reads "s/frame" when a frame took over a second)
        if line.strip() and not line.startswith("record: ")
    ]
    assert len(said) == 1 and "disk full" in said[0], proc.stderr
    assert said[0].endswith("; nothing was recorded") and "valid" not in said[0], said
    assert not out.exists()


FULL_DISK_DEPTH = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
import dataclasses
import depthview as dv
frames = list(dv.open("demo", fps=0, frames=12, seed=9))
# Depth files (614,417 bytes) fit under the limit, RGB files (921,615) do not: the first
# five frames have no video, so the "disk" fills on frame 6's video file.
frames[:5] = [dataclasses.replace(f, video=None, video_stamp=None, records=()) for f in frames[:5]]
resource.setrlimit(resource.RLIMIT_FSIZE, (700_000, 700_000))
from depthview.recording import record
try:
    record(frames, sys.argv[1])
except dv.RecordingError as exc:
    print(exc)
    sys.exit(2)
"""


@needs_fakenect
def test_cut_short_index_replays_to_last_indexed_frame(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    proc = subprocess.run(
        [PY, "-c", FULL_DISK_DEPTH, str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2 and "disk full" in proc.stdout
    data = (out / "INDEX.txt").read_bytes()
    assert data.endswith(b"\n")
    lines = data.decode().splitlines()
    depth_lines = [line for line in lines if line.startswith("d-")]
    assert len(depth_lines) == 5 and len(lines) == 10
    assert not any(p.name.startswith("r-") for p in out.iterdir())
    # the failed frame's depth and accelerometer files are gone too: every file is indexed
    assert {p.name for p in out.iterdir()} - {"INDEX.txt", "device.json"} == set(lines)
    expected = demo_frames(12, seed=9)
    with dv.open(str(out), realtime=False) as src:
        back = list(src)
    assert len(back) == len(depth_lines)
    got = replay_with_fakenect(out, tmp_path)
    assert len(got["depth"]) == len(depth_lines)
    for i, b in enumerate(back):
        np.testing.assert_array_equal(b.depth, expected[i].depth)
        np.testing.assert_array_equal(got["depth"][i], expected[i].depth)


def test_drops_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frames = demo_frames(10)
    slow = RecordingWriter._write_frame

    def slow_write(self: RecordingWriter, frame: Frame) -> None:
        time.sleep(0.05)
        slow(self, frame)

    monkeypatch.setattr(RecordingWriter, "_write_frame", slow_write)
    with RecordingWriter(tmp_path / "rec", queue_size=1, on_full="drop") as writer:
        accepted = [writer.write(f) for f in frames]
    summary = writer.summary()
    assert summary.dropped == accepted.count(False) > 0
    assert summary.frames == accepted.count(True)
    with dv.open(str(tmp_path / "rec"), realtime=False) as src:
        assert len(src) == summary.frames


def test_summary_counts_what_is_on_disk(tmp_path: Path) -> None:
    summary = record(demo_frames(2), tmp_path / "rec")
    files = list((tmp_path / "rec").iterdir())
    assert summary.bytes == sum(p.stat().st_size for p in files)
    assert (summary.frames, summary.dropped) == (2, 0)
    assert len(files) == 1 + 2 * 3  # INDEX.txt, and per frame its video, tilt and depth
    assert summary.seconds == pytest.approx(1 / 30, abs=2e-6)
    assert str(summary).startswith(f"recorded 2 frames, 0.03 s, {summary.bytes / 1e6:.1f} MB")


def as_normal_user(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``depthview ARGV`` as a user without root's power over file modes (root drops it with
    setpriv, as the trial did; a normal user runs it as is)."""
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    prefix = drop if os.geteuid() == 0 else []
    return subprocess.run(
        [*prefix, PY, "-m", "depthview", *argv], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("mode", "where"),
    [(0o555, "in"), (0o555, "is"), (0o000, "in"), (0o000, "is")],
    ids=["read-only-parent", "read-only-folder", "mode-000-parent", "mode-000-folder"],
)
def test_record_into_a_folder_it_may_not_write_is_one_line(
    tmp_path: Path, mode: int, where: str
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(mode)
    out = locked / "rec" if where == "in" else locked
    try:
        proc = as_normal_user(["record", "demo", str(out), "--frames", "2"])
    finally:
        locked.chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert str(out) in lines[0] and "Permission denied" in lines[0]
    assert list(locked.iterdir()) == []


def test_record_shows_progress_unless_quiet(tmp_path: Path) -> None:
    """Issue 22: ``record demo OUT`` wrote gigabytes with no word; now a bar counts frames
    and megabytes on stderr, as export and convert do; ``--quiet`` silences it."""
    argv = [PY, "-m", "depthview", "record", "demo", str(tmp_path / "a"), "--frames", "12"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    last = proc.stderr.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("record: 100%") and "12/12" in last and " MB" in last, proc.stderr
    assert "recorded 12 frames" in proc.stdout
    quiet = [PY, "-m", "depthview", "record", "demo", str(tmp_path / "b"), "--frames", "2"]
    proc = subprocess.run([*quiet, "--quiet"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


# -- issue 22: what a recording cannot hold, and --overwrite's messages -----------------------
def test_depth_format_mm_of_a_recording_is_refused_not_recorded_raw(tmp_path: Path) -> None:
    """``record REC OUT --depth-format mm``: the recording source keeps its raw records, and
    on main those were written as they were (raw) with exit 0; millimetres cannot be held,
    so it is one line and exit 2, and nothing is made."""
    out = tmp_path / "r"
    for fmt in ("mm", "registered"):
        ran = cli("record", str(PERSON), str(out), "--depth-format", fmt, "--quiet")
        assert ran.code == 2, ran.err
        assert len(ran.error_lines) == 1, ran.err
        assert "--depth-format" in ran.error_lines[0] and "cannot hold" in ran.error_lines[0]
        assert "Traceback" not in ran.err
        assert not out.exists()
    ran = cli("record", str(PERSON), str(out), "--depth-format", "11bit", "--quiet")
    assert ran.code == 0, ran.err  # what a recording holds is recorded


FULL_DISK_OVERWRITE = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (700_000, 700_000))
from depthview.cli import main
sys.exit(main(["record", "demo", sys.argv[1], "--frames", "20", "--overwrite", "--quiet"]))
"""


def test_overwrite_write_error_names_the_users_path(tmp_path: Path) -> None:
    """Under --overwrite a run writes into a hidden folder; its errors named files in there
    (``OUT/.depthview.partial/r-....ppm``). They name OUT's files, and say that the earlier
    recording stays."""
    out = tmp_path / "rec"
    record(demo_frames(2), out)
    before = tree_hash(out)
    proc = subprocess.run(
        [PY, "-c", FULL_DISK_OVERWRITE, str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    (line,) = [s for s in proc.stderr.splitlines() if s.strip()]
    assert ".partial" not in line, line
    assert re.search(rf"{re.escape(str(out))}/r-[0-9.]+-[0-9]+\.ppm: cannot write: disk full", line)
    assert f"{out} stays as it was" in line
    assert tree_hash(out) == before  # the earlier recording, untouched
    assert not (out / ".depthview.partial").exists()


def test_overwrite_where_a_folder_has_a_record_files_name(tmp_path: Path) -> None:
    """A folder named INDEX.txt in OUT: on main a traceback (IsADirectoryError) and the
    hidden staging folder left behind; now one line naming OUT/INDEX.txt, OUT as it was."""
    out = tmp_path / "r"
    (out / "INDEX.txt").mkdir(parents=True)
    ran = cli("record", str(PERSON), str(out), "--overwrite", "--quiet")
    assert ran.code == 2, ran.err
    assert ran.error_lines == [
        f"depthview: error: {out}/INDEX.txt: cannot replace it (a folder is there); "
        f"{out} stays as it was"
    ], ran.err
    assert sorted(p.name for p in out.iterdir()) == ["INDEX.txt"]


@pytest.mark.parametrize("command", ["record", "export"])
def test_a_killed_runs_staging_is_not_this_runs_output(tmp_path: Path, command: str) -> None:
    """A run killed under --overwrite leaves OUT/.depthview.partial; the next run's commit
    moved that run's files in with its own (a stale frame-000099.png beside 3 new frames; a
    record refused with a message naming the hidden folder)."""
    out = tmp_path / "o"
    staging = out / ".depthview.partial"
    staging.mkdir(parents=True)
    stale = "frame-000099.png" if command == "export" else "d-1483969353.000000-1612041135.pgm"
    (staging / stale).write_bytes(b"left by a killed run")
    if command == "export":
        ran = cli("export", str(PERSON), str(out), "--overwrite", "--frames", "3", "--quiet")
    else:
        ran = cli("record", str(PERSON), str(out), "--overwrite", "--frames", "3", "--quiet")
    assert ran.code == 0, ran.err
    names = sorted(p.name for p in out.iterdir())
    assert stale not in names and ".depthview.partial" not in names
    if command == "export":
        assert names == [f"frame-{i:06d}.png" for i in range(3)]
    else:
        with dv.open(str(out), realtime=False) as src:
            assert len(src) == 3


def test_a_record_that_gets_no_frame_leaves_no_recording(tmp_path: Path) -> None:
    """Trial D (issue 22): a source whose every depth frame is unreadable left OUT holding an
    empty INDEX.txt (a 0-frame recording nothing opens), and the rerun after fixing the input
    was refused ("expected an empty or new folder"). Now OUT is not made (or left empty)."""
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(PERSON, bad)
    for pgm in bad.glob("d-*.pgm"):
        pgm.write_bytes(pgm.read_bytes()[:100])  # cut short: every depth frame broken
    out, empty = tmp_path / "new", tmp_path / "empty"
    empty.mkdir()
    for target in (out, empty):
        ran = cli("record", str(bad), str(target), "--quiet")
        assert ran.code == 2, ran.err
        assert ran.error_lines[-1].endswith("; nothing was recorded"), ran.err
    assert not out.exists() and not list(empty.iterdir())
    ran = cli("record", str(PERSON), str(out), "--quiet")  # the rerun with a good input
    assert ran.code == 0, ran.err


@pytest.mark.parametrize("size", ["3m", "6m"])
def test_a_recording_stopped_by_a_full_disk_lists_every_file_it_keeps(
    tmp_path: Path, size: str
) -> None:
    """Trial L: ``record sample full/rec`` said "the recording so far stays valid" but left
    4 accelerometer dumps of the frame it failed on in the folder and not in INDEX.txt: a
    frame is now indexed whole or its files go."""
    from _helpers_disk import tmpfs
    from _helpers_sources import copy_person

    rec = copy_person(tmp_path)
    with tmpfs(size) as disk:
        done = subprocess.run(
            [PY, "-m", "depthview", "record", str(rec), str(disk / "r"), "--quiet"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2 and "disk full" in done.stderr, done.stderr
        listed = set((disk / "r" / "INDEX.txt").read_text().split())
        on_disk = {p.name for p in (disk / "r").iterdir()} - {"INDEX.txt", "device.json"}
        assert on_disk == listed and listed
        with dv.open(str(disk / "r"), realtime=False) as src:
            assert len(src) == sum(x.startswith("d-") for x in listed)


def test_frames_before_the_first_colour_image_have_none(tmp_path: Path) -> None:
    """Trial L: depth-only frames with colour frames appended after them each showed the
    first colour image, taken up to 0.7 s after them (and ``export`` marked it valid).
    ``record --append`` refuses such a mix now (trial N); a recording made elsewhere (or by
    ``dv.record`` of bare frames, whose streams it cannot know) may still hold one. Every
    frame shows an image taken no later than itself (trial Q: not even the one just before
    the first image)."""
    import itertools

    mix = tmp_path / "mix"
    assert cli("record", "sample", str(mix), "--quiet").code == 0
    with dv.open("demo", realtime=False) as demo:
        dv.record(itertools.islice(iter(demo), 5), mix, mode="append")
    with dv.open(str(mix), realtime=False) as src:
        frames = list(src)
    first = next(i for i, f in enumerate(frames) if f.video is not None)
    assert first == 20 and all(f.video is not None for f in frames[first:])
    for f in frames[first:]:
        assert f.video_stamp is not None
        assert f.video_stamp.host_time <= f.timestamp
    assert cli("export", str(mix), str(tmp_path / "m.npz"), "--quiet").code == 0
    with np.load(tmp_path / "m.npz") as data:
        assert data["video_valid"].tolist() == [False] * first + [True] * (25 - first)


def _index_times(folder: Path) -> list[tuple[str, float]]:
    """Each INDEX.txt line's kind letter and host time, read from the names."""
    lines = (folder / "INDEX.txt").read_text().split()
    return [(name[0], float(name.split("-")[1])) for name in lines]


def test_no_frame_is_handed_a_colour_image_taken_after_it(tmp_path: Path) -> None:
    """Trial Q 17: a recording whose first colour image comes 33 ms after a depth frame
    (its first four r- lines gone) handed that frame the later image (the rule let a first
    image up to 0.1 s ahead be the frame's), while frames further before it got none; the
    .npz export marked it valid, and ``record`` of that export listed the image before the
    depth frame, back in time. Now a frame shows only an image listed before it: each
    frame's image is the latest r- line above its d- line, read here from INDEX.txt."""
    rec = tmp_path / "rec"
    assert cli("record", "demo", str(rec), "--frames", "10", "--quiet").code == 0
    lines = (rec / "INDEX.txt").read_text().split()
    dropped = [name for name in lines if name.startswith("r-")][:4]
    (rec / "INDEX.txt").write_text("".join(n + "\n" for n in lines if n not in dropped))
    expected: list[float] = []  # each depth frame's image time (NaN: none listed before)
    latest = float("nan")
    for kind, t in _index_times(rec):
        if kind == "r":
            latest = t
        elif kind == "d":
            expected.append(latest)
    assert cli("export", str(rec), str(tmp_path / "a.npz"), "--quiet").code == 0
    with np.load(tmp_path / "a.npz") as data:
        valid = data["video_valid"].tolist()
        assert valid == [t == t for t in expected]
        shown = data["video_timestamp"][np.array(valid)]
        assert shown.tolist() == pytest.approx([t for t in expected if t == t], abs=1e-6)
    assert cli("record", str(tmp_path / "a.npz"), str(tmp_path / "rec2"), "--quiet").code == 0
    times = [t for _, t in _index_times(tmp_path / "rec2")]
    assert times == sorted(times)
    assert sum(kind == "r" for kind, _ in _index_times(tmp_path / "rec2")) == 6


def test_append_refuses_frames_whose_colour_differs_from_the_recordings(tmp_path: Path) -> None:
    """Trial N: a replay shows each depth frame beside the latest image before it, and the
    INDEX pairs nothing. Frames without colour appended to a recording with it (a .npy,
    ``--depth-only``) repeated its last image as theirs (an export marked it valid); frames
    with colour appended to a depth-only recording gave its last depth frame the first new
    image. Both refused in one line with nothing written; alike appends as before."""
    npy = tmp_path / "d.npy"
    np.save(npy, np.full((2, 480, 640), 800, np.uint16))
    with_colour, depth_alone = tmp_path / "c", tmp_path / "d"
    assert cli("record", "demo", str(with_colour), "--frames", "3", "--quiet").code == 0
    ran = cli("record", "demo", str(depth_alone), "--frames", "3", "--depth-only", "--quiet")
    assert ran.code == 0, ran.err
    refusals = (
        (with_colour, ["demo", "--depth-only"], "the recording has colour and this run's"),
        (with_colour, [str(npy)], "the recording has colour and this run's"),
        (depth_alone, ["demo"], "the recording holds depth alone and the source has colour"),
    )
    for target, source, said in refusals:
        before = tree_hash(target)
        ran = cli("record", source[0], str(target), "--append", *source[1:], "--frames", "2")
        assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
        assert f"{target}: cannot append: {said}" in ran.err
        assert tree_hash(target) == before
    alike = (
        (with_colour, ["demo"]),
        (depth_alone, ["demo", "--depth-only"]),
        (depth_alone, [str(npy)]),
    )
    for target, source in alike:
        ran = cli("record", source[0], str(target), "--append", *source[1:], "--frames", "2")
        assert ran.code == 0, ran.err
    with dv.open(str(depth_alone), realtime=False) as src:
        assert len(src) == 7 and not src.has_video
    with dv.open(str(with_colour), realtime=False) as src:
        assert len(src) == 5 and src.has_video


@needs_fakenect
def test_a_npz_with_times_from_zero_is_recorded_at_its_own_times(tmp_path: Path) -> None:
    """Trial O: ``record`` of a ``.npz`` whose ``timestamp`` holds small seconds (10.0,
    10.5) wrote them as the wall clock of the run, without a word, where ``export`` kept
    them. They are the source's own and Debian's fakenect replays them (it sleeps by their
    differences): kept. The demo's times count from its start, and stay at the wall clock."""
    rng = np.random.default_rng(6)
    depth = rng.integers(0, 2048, size=(2, 480, 640), dtype=np.uint16)
    np.savez(tmp_path / "rel.npz", depth=depth, timestamp=np.array([10.0, 10.5]))
    out = tmp_path / "rec"
    ran = cli("record", str(tmp_path / "rel.npz"), str(out), "--quiet")
    assert ran.code == 0, ran.err
    lines = (out / "INDEX.txt").read_text().splitlines()
    assert [float(name.split("-")[1]) for name in lines] == [10.0, 10.5]
    got = replay_with_fakenect(out, tmp_path)
    np.testing.assert_array_equal(got["depth"], depth)
    ran = cli("record", "demo:3", str(tmp_path / "demo"), "--frames", "2", "--quiet")
    assert ran.code == 0, ran.err
    lines = (tmp_path / "demo" / "INDEX.txt").read_text().splitlines()
    assert all(float(name.split("-")[1]) > 1e9 for name in lines)  # unix seconds


def test_a_list_of_frames_is_recorded_at_their_own_times(tmp_path: Path) -> None:
    """Trial AJ D9: ``dv.record`` of Frames (a list, a generator) took their times below
    1e8 s for seconds since a start and wrote them at the wall clock of the run, where
    ``record`` of the .npz they came from, and ``export`` of them, keep 100.0: kept, by
    ``dv.record`` and ``RecordingWriter`` alike."""
    times = [100.0, 100.5, 101.0]
    depth = np.random.default_rng(9).integers(0, 2048, size=(3, 480, 640), dtype=np.uint16)
    np.savez(tmp_path / "t100.npz", depth=depth, timestamp=np.array(times))
    ran = cli("record", str(tmp_path / "t100.npz"), str(tmp_path / "cli"), "--quiet")
    assert ran.code == 0, ran.err
    with dv.open(str(tmp_path / "t100.npz")) as src:
        frames = list(src)
    record(frames, tmp_path / "list")
    record(iter(frames), tmp_path / "gen")
    writer = RecordingWriter(tmp_path / "writer")
    for frame in frames:
        writer.write(frame)
    writer.close()
    for name in ("cli", "list", "gen", "writer"):
        lines = (tmp_path / name / "INDEX.txt").read_text().splitlines()
        assert [float(line.split("-")[1]) for line in lines] == times, name


@pytest.mark.parametrize("mode", ["new", "overwrite", "append"])
def test_stopped_before_the_first_frame_records_nothing(tmp_path: Path, mode: str) -> None:
    """Trial O: a stop asked for before the first frame (Ctrl-C as ``record`` starts) under
    --overwrite replaced the earlier recording with an empty INDEX.txt; a new one was left
    as a folder holding an empty INDEX.txt. Now nothing is replaced or left, and said. (The
    same through a real signal: tests/test_kinect_faults.py.)"""
    import threading

    out = tmp_path / "rec"
    if mode != "new":
        record(demo_frames(2), out)
    before = tree_hash(tmp_path)
    stop = threading.Event()
    stop.set()
    summary = record(demo_frames(3), out, mode=mode, stop=stop)  # type: ignore[arg-type]
    assert summary.frames == 0
    assert tree_hash(tmp_path) == before  # no folder made, the earlier recording as it was
    assert str(summary) == f"nothing recorded: {out} " + (
        "was not made" if mode == "new" else "stays as it was"
    )


def test_a_refused_frame_after_others_says_what_the_recording_keeps(tmp_path: Path) -> None:
    """Trial O: a source whose fourth frame a recording cannot hold stopped ``record`` with
    exit 2 and a line about that frame only: the four frames before it stayed as a shorter
    recording that looked whole. The line now says what was kept, as a full disk's does."""
    frames = demo_frames(5)
    odd = frames[3]
    frames[3] = Frame(odd.depth, video=np.zeros((1024, 1280, 3), np.uint8))
    out = tmp_path / "rec"
    with pytest.raises(RecordingError) as raised:
        record(frames, out)
    message = str(raised.value)
    assert "expected video of shape (480, 640, 3) uint8, got (1024, 1280, 3)" in message
    assert "; the recording keeps the frames before it: recorded 3 frames" in message
    assert f"to {out}" in message
    with dv.open(str(out), realtime=False) as src:
        assert len(src) == 3
    earlier = tmp_path / "earlier"
    record(demo_frames(2), earlier)
    before = tree_hash(earlier)
    with pytest.raises(RecordingError, match=f"; {earlier} stays as it was$"):
        record(frames, earlier, mode="overwrite")
    assert tree_hash(earlier) == before


@pytest.mark.parametrize("start", [0.0, 0.5])
def test_device_times_follow_host_times_from_any_start(tmp_path: Path, start: float) -> None:
    """Trial Q: a source without a device clock whose times start at 0.0 was recorded with
    device time 0 for every frame (the first time, 0.0, was taken for none), and 0.1 s as
    5999999 ticks (truncated). The ticks are the host times' steps at the Kinect's clock."""
    from depthview.frame import DEVICE_CLOCK_HZ

    times = start + np.arange(4) / 10
    np.savez(tmp_path / "t.npz", depth=np.full((4, 480, 640), 800, np.uint16), timestamp=times)
    ran = cli("record", str(tmp_path / "t.npz"), str(tmp_path / "r"), "--quiet")
    assert ran.code == 0, ran.err
    names = (tmp_path / "r" / "INDEX.txt").read_text().split()
    ticks = [int(n.rsplit("-", 1)[1].split(".")[0]) for n in names]
    assert ticks == [round(k * DEVICE_CLOCK_HZ / 10) for k in range(4)]


def test_device_times_follow_host_times_where_a_time_steps_back_before_the_first(
    tmp_path: Path,
) -> None:
    """Trial Y (4): ticks made from host times counted from the earliest time so far, so a
    time stepping back before the first record moved the origin: frames at 1.0 s got the
    0.5 s frame's 0 ticks, and 3.0 s came 2.5 s after them. The origin is the first record;
    every pair of records is as far apart on the device clock (which wraps at 2^32) as in
    host time."""
    from depthview.frame import DEVICE_CLOCK_HZ

    times = [1.0, 1.25, 0.5, 3.0]
    depth = np.stack([np.full((480, 640), 600 + 50 * i, np.uint16) for i in range(4)])
    np.savez(tmp_path / "t.npz", depth=depth, timestamp=np.array(times))
    ran = cli("record", str(tmp_path / "t.npz"), str(tmp_path / "r"), "--quiet")
    assert ran.code == 0, ran.err
    names = (tmp_path / "r" / "INDEX.txt").read_text().split()
    written = [(float(n.split("-")[1]), int(n.rsplit("-", 1)[1].split(".")[0])) for n in names]
    assert [t for t, _ in written] == times
    for (t0, k0), (t1, k1) in itertools.combinations(written, 2):
        assert (k1 - k0) % 2**32 == round((t1 - t0) * DEVICE_CLOCK_HZ) % 2**32, written


def test_append_into_a_hard_linked_copy_leaves_the_original_as_it_was(tmp_path: Path) -> None:
    """Trial V (V10, LOST): ``cp -al rec copy; record rec copy --append`` appended to the
    INDEX.txt both folders share (one file, two links): the source then listed frames it
    does not hold. The copy's INDEX.txt is made its own first."""
    from _helpers_cli import cli, tree_hash
    from depthview.sources import sample

    rec = sample.write_to(tmp_path / "rec")
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in rec.iterdir():
        os.link(f, copy / f.name)  # as cp -al makes it
    before = tree_hash(rec)
    ran = cli("record", str(rec), str(copy), "--append", "--frames", "2", "--quiet")
    assert ran.code == 0, ran.err
    assert tree_hash(rec) == before
    with dv.open(str(copy), realtime=False) as grown, dv.open(str(rec), realtime=False) as kept:
        assert grown.length == kept.length + 2


def test_a_run_whose_warning_line_cannot_be_written_leaves_nothing(tmp_path: Path) -> None:
    """Trial AL (D9, LOST): ``record SRC OUT 2>/dev/full`` ended (exit 1) leaving a new folder
    holding an empty INDEX.txt, or over an earlier recording a hidden partial folder with a
    frame in it. The command's warnings are said once the first frame passed its checks,
    before it is written: when saying them fails, the run has recorded nothing."""
    np.save(tmp_path / "raw.npy", np.stack([f.depth for f in dv.open("sample")][:3]))
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "depthview", "record", "raw.npy", "new", "--quiet"],
            cwd=tmp_path, stderr=full, check=False, timeout=120,
        )  # fmt: skip
    assert done.returncode != 0 and not (tmp_path / "new").exists()

    def fails() -> None:
        raise OSError(28, "No space left on device")

    earlier = tmp_path / "earlier"
    record(dv.open("sample"), earlier, frames=2)
    before = tree_hash(earlier)
    for mode in ("overwrite", "append"):
        with pytest.raises(OSError, match="No space"):
            record(dv.open(str(tmp_path / "raw.npy")), earlier, mode=mode, accepted=fails)
        assert tree_hash(earlier) == before
        assert sorted(p.name for p in earlier.iterdir() if p.name.startswith(".")) == []
    with pytest.raises(OSError, match="No space"):
        record(dv.open(str(tmp_path / "raw.npy")), tmp_path / "made", accepted=fails)
    assert not (tmp_path / "made").exists()


def test_record_refuses_raw_depth_past_11_bits(tmp_path: Path) -> None:
    """Trial AN (D2): ``dv.record`` of raw depth of 4000 said "recorded 1 frames", and every
    reader then skipped the frame as broken. Refused in one line, as export refuses it."""
    depth = np.full((480, 640), 4000, np.uint16)
    with pytest.raises(
        RecordingError, match=r"expected values 0\.\.2047 in frame 0, got up to 4000"
    ):
        record([Frame(depth=depth, timestamp=1.0)], tmp_path / "r")
    assert not (tmp_path / "r").exists()
