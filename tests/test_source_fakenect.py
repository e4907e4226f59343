"""Recording playback (fakenect format): golden values from np.fromfile of the files."""

from __future__ import annotations

import os
import struct
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import depthview as dv
from _helpers_sources import PERSON, copy_person, read_pgm, read_ppm, write_recording
from depthview import fakenect_format as ff
from depthview.errors import NotMyFormat, SourceError
from depthview.frame import GRAVITY

# -- pure parsers -------------------------------------------------------------------------


@given(st.binary(max_size=200))
def test_index_line_parser_only_raises_source_error(data: bytes) -> None:
    try:
        entry = ff.parse_index_line(data)
    except SourceError:
        return
    assert "/" not in entry.name and ".." not in entry.name
    assert entry.kind in "dra"


@given(st.text(max_size=120))
def test_index_line_parser_text(text: str) -> None:
    try:
        entry = ff.parse_index_line(text)
    except SourceError:
        return
    assert entry.name == text.rstrip("\r\n")


@given(st.binary(max_size=100))
def test_header_parser_only_raises_source_error(data: bytes) -> None:
    try:
        header = ff.parse_pnm_header(data)
    except SourceError:
        return
    assert header.magic in ("P5", "P6") and header.size <= len(data)


@given(
    st.sampled_from("dra"),
    st.floats(min_value=0, max_value=4e9, allow_nan=False),
    st.integers(0, 2**32 - 1),
)
def test_entry_name_round_trips(kind: str, t: float, ts: int) -> None:
    entry = ff.parse_index_line(ff.entry_name(kind, t, ts) + "\n")
    assert (entry.kind, entry.device_timestamp) == (kind, ts)
    assert entry.unix_time == pytest.approx(t, abs=1e-6)


@pytest.mark.parametrize(
    "line",
    [
        "../d-1.0-2.pgm",
        "/etc/d-1.0-2.pgm",
        "sub/d-1.0-2.pgm",
        "d-1.0-2.ppm",
        "x-1.0-2.pgm",
        "d-abc-2.pgm",
        "d-1.0-99999999999.pgm",
        "",
    ],
)
def test_bad_index_lines(line: str) -> None:
    with pytest.raises(SourceError, match="line 3"):
        ff.parse_index_line(line, "INDEX.txt line 3")


def test_header_and_tilt_state() -> None:
    h = ff.parse_pnm_header(b"P5 640 480 65535\n\x00\x01")
    assert (h.magic, h.width, h.height, h.maxval, h.size) == ("P5", 640, 480, 65535, 17)
    assert h.data_size == 640 * 480 * 2
    assert ff.parse_pnm_header(ff.VIDEO_HEADER).data_size == 640 * 480 * 3
    raw = struct.pack("<hhhbxi", 10, -819, 30, -7, 4)
    state = ff.parse_tilt_state(raw)
    assert (state.accel_y, state.tilt_angle, state.tilt_status) == (-819, -7, 4)
    assert state.accel_mks[1] == pytest.approx(-GRAVITY)
    assert state.tilt_deg == -3.5
    assert ff.pack_tilt_state(state) == raw
    with pytest.raises(SourceError, match="12 bytes"):
        ff.parse_tilt_state(raw[:11])


# -- playback -----------------------------------------------------------------------------


def test_person_recording_bit_exact() -> None:
    names = [ln for ln in (PERSON / "INDEX.txt").read_text().split() if ln.startswith("d-")]
    accel_before: dict[str, bytes] = {}
    last = None
    for ln in (PERSON / "INDEX.txt").read_text().split():
        if ln.startswith("a-"):
            last = (PERSON / ln).read_bytes()
        elif ln.startswith("d-") and last is not None:
            accel_before[ln] = last
    with dv.open(str(PERSON), realtime=False) as src:
        assert src.seekable and len(src) == len(names)
        frames = list(src)
    assert [f.index for f in frames] == list(range(len(names)))
    for f, name in zip(frames, names, strict=True):
        np.testing.assert_array_equal(f.depth, read_pgm(PERSON / name))
        assert f.depth_format is dv.DepthFormat.RAW_11BIT
        assert f.video is None
        assert f.timestamp == float(name.split("-")[1])
        assert f.device_timestamp == int(name.split("-")[2].split(".")[0])
        if name in accel_before:
            x, y, z, angle, _ = struct.unpack("<hhhbxi", accel_before[name])
            assert f.accel == pytest.approx(
                (x * GRAVITY / 819, y * GRAVITY / 819, z * GRAVITY / 819)
            )
            assert f.tilt_deg == angle / 2


def test_written_recording_with_video_and_accel(tmp_path: Path) -> None:
    w = write_recording(tmp_path / "rec", n=4)
    with dv.open(str(w.folder), realtime=False) as src:
        frames = list(src)
    assert len(frames) == 4
    for i, f in enumerate(frames):
        np.testing.assert_array_equal(f.depth, read_pgm(w.folder / w.depth_files[i]))
        # Video and accel written 1 ms after depth i: frame i shows the (i-1)th, frame 0
        # none (an image taken after a frame is never its, as libfreenect's own first d-).
        if i > 0:
            assert f.video is not None
            np.testing.assert_array_equal(f.video, read_ppm(w.folder / w.video_files[i - 1]))
            x, y, z, angle, _ = w.accel[i - 1]
            assert f.accel == pytest.approx(tuple(v * GRAVITY / 819 for v in (x, y, z)))
            assert f.tilt_deg == angle / 2
        else:
            assert f.video is None and f.accel is None


def test_seek_position_and_loop(tmp_path: Path) -> None:
    w = write_recording(tmp_path / "rec", n=5, video=False, accel=False)
    src = dv.open(str(w.folder), realtime=False, loop=True)
    assert src.position == 0
    src.seek(3)
    assert src.read().index == 3 and src.position == 4
    src.seek(1)
    f = src.read()
    np.testing.assert_array_equal(f.depth, read_pgm(w.folder / w.depth_files[1]))
    src.seek(-1)
    assert [src.read().index for _ in range(3)] == [4, 0, 1]
    with pytest.raises(dv.SourceError, match=r"expected a frame index 0\.\.4, got 5"):
        src.seek(5)
    src.close()
    once = dv.open(str(w.folder), realtime=False)
    assert len(list(once)) == 5
    with pytest.raises(StopIteration):
        once.read()


def test_realtime_follows_recorded_times(tmp_path: Path) -> None:
    w = write_recording(tmp_path / "rec", n=4, video=False, accel=False, dt=0.05)
    with dv.open(str(w.folder)) as src:
        start = time.perf_counter()
        list(src)
        elapsed = time.perf_counter() - start
    expected = w.times[-1] - w.times[0]
    assert expected * 0.9 <= elapsed < expected + 0.5
    with dv.open(str(w.folder), realtime=False) as fast:
        start = time.perf_counter()
        list(fast)
        assert time.perf_counter() - start < expected


def test_opens_lazily(tmp_path: Path) -> None:
    w = write_recording(tmp_path / "rec", n=3, video=False, accel=False)
    (w.folder / w.depth_files[2]).unlink()  # only INDEX.txt is read at open
    src = dv.open(str(w.folder), realtime=False)
    assert len(src) == 3
    src.seek(1)
    assert src.read().index == 1


# -- bad recordings -----------------------------------------------------------------------


def _broken(tmp_path: Path) -> Path:
    return write_recording(tmp_path / "rec", n=4, video=False, accel=False).folder


@pytest.mark.parametrize(
    "damage",
    ["missing", "truncated", "header", "size", "11bit", "outside_link"],
)
def test_broken_middle_frame_is_skipped_with_warning(tmp_path: Path, damage: str) -> None:
    folder = _broken(tmp_path)
    name = sorted(p.name for p in folder.glob("d-*"))[1]
    path = folder / name
    data = path.read_bytes()
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(data[:1000])
    elif damage == "header":
        path.write_bytes(b"P6" + data[2:])
    elif damage == "size":
        path.write_bytes(data + b"\0\0")
    elif damage == "11bit":
        arr = np.frombuffer(data[17:], dtype="<u2").copy()
        arr[100] = 4000
        path.write_bytes(data[:17] + arr.tobytes())
    elif damage == "outside_link":
        outside = tmp_path / "secret.pgm"
        outside.write_bytes(data)
        path.unlink()
        os.symlink(outside, path)
    with pytest.warns(UserWarning, match=name):
        frames = list(dv.open(str(folder), realtime=False))
    assert [f.index for f in frames] == [0, 2, 3]
    with pytest.raises(SourceError, match=name):
        list(dv.open(str(folder), realtime=False, strict=True))


@pytest.mark.parametrize(
    ("index", "match"),
    [
        ("", "expected at least one d-"),
        ("garbage\n", "line 1"),
        ("../d-1.0-1.pgm\n", "line 1"),
        ("/etc/d-1.0-1.pgm\n", "line 1"),
        ("a-1.0-1.dump\n\n\nzzz\n", "line 4"),
    ],
)
def test_unusable_index(tmp_path: Path, index: str, match: str) -> None:
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "INDEX.txt").write_text(index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SourceError, match=match) as info:
            dv.open(str(folder))
    assert "INDEX.txt" in str(info.value)


def test_all_frames_broken_is_an_error(tmp_path: Path) -> None:
    folder = _broken(tmp_path)
    for p in folder.glob("d-*"):
        p.write_bytes(b"nope")
    src = dv.open(str(folder), realtime=False, loop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SourceError, match="readable depth frame"):
            src.read()


def test_not_a_recording(tmp_path: Path) -> None:
    from depthview.sources import fakenect

    with pytest.raises(NotMyFormat):
        fakenect.open_source(str(tmp_path))
    with pytest.raises(SourceError, match="expected"):
        dv.open(str(tmp_path / "nothing-here"))


def test_writable_copy(tmp_path: Path) -> None:
    folder = copy_person(tmp_path)
    with open(folder / "INDEX.txt", "a") as fh:
        fh.write("d-1483969999.000000-1.pgm\n")  # names a missing file at the end
    with pytest.warns(UserWarning, match="d-1483969999"):
        frames = list(dv.open(str(folder), realtime=False))
    assert len(frames) == 20


def test_a_frame_of_another_size_is_a_broken_frame_in_every_command(tmp_path: Path) -> None:
    """Trial D (issue 22): a recording whose second depth file is 320x240 was a traceback in
    view, an npz export refused naming the output, png16/mcap took it, info said no broken
    frame. Now the source skips it as broken (one warning naming the file and its INDEX.txt
    line) and every command goes on with the others; the viewer runs to the end."""
    import subprocess
    import sys

    rec = copy_person(tmp_path)
    second = [n for n in (rec / "INDEX.txt").read_text().split() if n.startswith("d-")][1]
    (rec / second).write_bytes(b"P5 320 240 65535\n" + np.full((240, 320), 800, "<u2").tobytes())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with dv.open(str(rec), realtime=False) as src:
            shapes = [f.depth.shape for f in src]
    assert shapes == [(480, 640)] * (len(shapes)) and len(shapes) >= 2
    said = [str(w.message) for w in caught]
    assert len(said) == 1 and second in said[0] and "got 320x240" in said[0], said
    env = dict(os.environ, SDL_VIDEODRIVER="dummy")  # no picture is checked: exit and stderr
    env.pop("DISPLAY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "depthview", "view", str(rec), "--frames", "4"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "expected a 640x480 depth frame like the recording's first" in proc.stderr
