"""Accelerometer readings a record cannot hold (trial AJ D7): a non-finite one is refused in
one line naming accel and the frame, leaving no recording or file; one past a record's range
is kept as its edge in a recording and said in one warning, not silently (an .mcap holds it
as it is: trial AR D7)."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli
from _helpers_sinks import read_mcap
from depthview.errors import ExportError, RecordingError

DEPTH = np.full((480, 640), 800, np.uint16)
#: A record's raw counts: at most 32767, 819 per g (libfreenect's freenect_get_mks_accel).
EDGE = 32767 / 819 * 9.80665


def frames(**fields: object) -> Iterator[dv.Frame]:
    for i in range(3):
        yield dv.Frame(depth=DEPTH, timestamp=100 + i / 30, index=i, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_accel_refused_by_record_leaving_no_folder(tmp_path: Path, bad: float) -> None:
    with pytest.raises(
        RecordingError, match=rf"^frame 0: expected accel as three finite m/s\^2, got \({bad}, 1.0"
    ):
        dv.record(frames(accel=(bad, 1.0, 2.0)), tmp_path / "rec")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["k.mcap", "k.rrd"])
def test_non_finite_accel_refused_by_export(tmp_path: Path, name: str) -> None:
    with pytest.raises(ExportError, match=r"^frame 0: expected accel as three finite m/s\^2"):
        dv.export(frames(accel=(math.nan, 1.0, 2.0)), tmp_path / name, frames=3)
    assert list(tmp_path.iterdir()) == []


def test_npz_export_keeps_a_nan_accel(tmp_path: Path) -> None:
    """The .npz holds NaN where a frame has no reading (as documented): kept."""
    dv.export(frames(accel=(math.nan, 1.0, 2.0)), tmp_path / "k.npz", frames=3)
    with np.load(tmp_path / "k.npz") as z:
        assert np.isnan(z["accel"][:, 0]).all()


@pytest.mark.parametrize(
    ("fields", "said", "read_back"),
    [
        ({"accel": (1e30, 0.0, 0.0)}, r"accel \(1e\+30, 0, 0\) m/s\^2 past \+-392\.35", "accel"),
        ({"accel": (0.0, 9.8, 0.0), "tilt_deg": 999.0}, r"tilt_deg 999 past \+-30 degrees", "tilt"),
    ],
)
def test_reading_past_a_record_is_said_once_and_kept_as_its_edge(
    tmp_path: Path, fields: dict[str, object], said: str, read_back: str
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dv.record(frames(**fields), tmp_path / "rec")
    lines = [str(w.message) for w in caught]
    assert len(lines) == 1 and lines[0].startswith("frame 0: "), lines
    assert re.search(said, lines[0]), lines
    # An .mcap holds the reading as the frame has it (trial AR D7): nothing clamped, unsaid.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dv.export(frames(**fields), tmp_path / "k.mcap", frames=3)
    topics = read_mcap(tmp_path / "k.mcap")
    if read_back == "accel":
        assert topics["/kinect/accel"][0][1]["x"] == 1e30
    else:
        assert topics["/kinect/tilt"][0][1]["angle_deg"] == 999.0
    with dv.open(str(tmp_path / "rec"), realtime=False) as src:
        got = list(src)
    if read_back == "accel":
        assert got[0].accel is not None
        assert got[0].accel[0] == pytest.approx(EDGE)
    else:
        assert got[0].tilt_deg == 30.0


def test_cli_record_of_a_npz_says_the_clamped_reading(tmp_path: Path) -> None:
    depth = np.stack([DEPTH] * 3)
    accel = np.array([[1e30, 0.0, 0.0]] * 3)
    np.savez(tmp_path / "big.npz", depth=depth, timestamp=[100.0, 100.5, 101.0], accel=accel)
    ran = cli("record", str(tmp_path / "big.npz"), str(tmp_path / "rec"), "--quiet")
    assert ran.code == 0, ran.err
    assert ran.err.count("past +-392.35") == 1, ran.err


def _tilted(path: Path, tilt: list[float]) -> Path:
    n = len(tilt)
    np.savez(
        path,
        depth=np.stack([DEPTH] * n),
        timestamp=100 + np.arange(n) / 30,
        accel=np.zeros((n, 3)),
        tilt_deg=np.array(tilt),
        depth_format=np.array(0),
    )
    return path


def test_an_npz_tilt_no_kinect_reports_is_said_once_naming_the_frame(tmp_path: Path) -> None:
    """Trial AN D8: an .npz's tilt_deg of 1e9 degrees was read and exported silently. A
    Kinect reports its motor angle in signed half degrees (-128: moving), so no reading is
    past +-63.5: one warning naming the file, tilt_deg and the first frame; the value read
    as it is (a recording keeps +-30, as for any frame); 40 degrees (a recording can hold
    it) and NaN (no reading) are quiet; inf is refused in one line, as an inf accel is."""
    src = _tilted(tmp_path / "t.npz", [1e9, math.nan, -70.0])
    said = f"{src}: tilt_deg 1e+09 at frame 0 (and 1 more frames) is past +-63.5 degrees"
    ran = cli("export", str(src), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0 and ran.err.count(said) == 1, ran.err
    with np.load(tmp_path / "x.npz") as z:
        np.testing.assert_array_equal(z["tilt_deg"], [1e9, math.nan, -70.0])
    for argv in (("info", str(src)), ("record", str(src), str(tmp_path / "rec"), "--quiet")):
        ran = cli(*argv)
        assert ran.code == 0 and (ran.out + ran.err).count(said) == 1, ran.out + ran.err
    with dv.open(str(tmp_path / "rec"), realtime=False) as rec:
        assert [f.tilt_deg for f in rec] == [30.0, None, -30.0]

    fine = _tilted(tmp_path / "fine.npz", [40.0, math.nan, -63.5])
    ran = cli("export", str(fine), str(tmp_path / "f.npz"), "--quiet")
    assert ran.code == 0 and "tilt_deg" not in ran.err, ran.err

    inf = _tilted(tmp_path / "inf.npz", [0.0, math.inf, 0.0])
    ran = cli("export", str(inf), str(tmp_path / "i.npz"))
    assert ran.code == 2 and ran.error_lines == [
        f"depthview: error: {inf}: tilt_deg: expected degrees (NaN where a frame has none), "
        "got inf at frame 1"
    ], ran.err
    assert not (tmp_path / "i.npz").exists()
