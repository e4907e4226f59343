"""A tilt without an accelerometer reading (trial AR D7): a `.npz` with ``tilt_deg`` and no
``accel`` was recorded with accelerometer counts 0, 0, 0 (read back as a reading of 0 m/s^2,
free fall), and sent to .mcap/.rrd as such, its tilt clamped to +-30 where the .npz keeps
70. Every output now says what the frame says: no reading made up, the tilt as read."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli
from _helpers_sinks import column, read_mcap, read_rrd

TILT = [70.0, -80.0, 10.0]


@pytest.fixture
def tilted(tmp_path: Path) -> Path:
    path = tmp_path / "tilt.npz"
    np.savez(
        path,
        depth=np.full((3, 480, 640), 800, np.uint16),
        timestamp=np.array([0.0, 0.1, 0.2]),
        tilt_deg=np.array(TILT),
    )
    return path


def test_record_leaves_the_tilt_out_and_says_so_once(tilted: Path, tmp_path: Path) -> None:
    ran = cli("record", str(tilted), str(tmp_path / "rec"), "--quiet")
    assert ran.code == 0, ran.err
    said = [line for line in ran.err.splitlines() if "without an accelerometer reading" in line]
    assert len(said) == 1 and "frame 0: tilt_deg 70" in said[0], ran.err
    # no accelerometer record: fakenect's would hold counts, and none were read
    assert list((tmp_path / "rec").glob("a-*.dump")) == []
    with dv.open(str(tmp_path / "rec"), realtime=False) as src:
        assert [(f.accel, f.tilt_deg) for f in src] == [(None, None)] * 3
    ran = cli("export", str(tmp_path / "rec"), str(tmp_path / "rec.npz"), "--quiet")
    assert ran.code == 0, ran.err
    with np.load(tmp_path / "rec.npz") as z:
        assert "accel" not in z or np.isnan(z["accel"]).all()


def test_mcap_sends_the_tilt_as_read_and_no_reading(tilted: Path, tmp_path: Path) -> None:
    ran = cli("export", str(tilted), str(tmp_path / "t.mcap"), "--quiet")
    assert ran.code == 0, ran.err
    topics = read_mcap(tmp_path / "t.mcap")
    assert "/kinect/accel" not in topics
    assert [msg["angle_deg"] for _, msg in topics["/kinect/tilt"]] == TILT
    # each at its frame's time (the .npz's seconds)
    assert [t for t, _ in topics["/kinect/tilt"]] == [0, 100_000_000, 200_000_000]


def test_rrd_sends_the_tilt_as_read_and_no_reading(tilted: Path, tmp_path: Path) -> None:
    ran = cli("export", str(tilted), str(tmp_path / "t.rrd"), "--quiet")
    assert ran.code == 0, ran.err
    table = read_rrd(tmp_path / "t.rrd", "host_time")
    assert "/kinect/accel:Scalars:scalars" not in table.column_names
    tilt = [v for v in column(table, "/kinect/tilt:Scalars:scalars") if v is not None]
    assert tilt == [[t] for t in TILT]


def test_a_frame_with_a_reading_sends_both_as_it_has_them(tmp_path: Path) -> None:
    """A reading and a tilt past the motor's +-30: the .mcap says the frame's (a recording's
    record clamps its angle, and says so)."""
    accel = (0.5, -9.75, 1.25)
    depth = np.full((480, 640), 800, np.uint16)
    frames = [dv.Frame(depth=depth, timestamp=1.0, accel=accel, tilt_deg=40.0)]
    dv.export(frames, tmp_path / "k.mcap")
    topics = read_mcap(tmp_path / "k.mcap")
    ((_, got),) = topics["/kinect/accel"]
    assert (got["x"], got["y"], got["z"]) == accel
    assert [msg["angle_deg"] for _, msg in topics["/kinect/tilt"]] == [40.0]
    with pytest.warns(UserWarning, match=r"tilt_deg 40 past \+-30 degrees"):
        dv.record(frames, tmp_path / "rec")
    (dump,) = (tmp_path / "rec").glob("a-*.dump")
    # libfreenect's record: int16 x, y, z counts (819 per g), int8 half degrees
    x, y, z, half = struct.unpack("<hhhb", dump.read_bytes()[:7])
    assert half == 60
    assert (x, y, z) == tuple(round(a / 9.80665 * 819) for a in accel)
