"""A caller's own Frames that are not depth as a Frame holds it (float metres, int64, values
past their label, times that are not finite, colour that changes size) are refused by every
export format in one ExportError naming the frame, before the output is written (trial AJ D6)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from depthview.errors import ExportError

#: Every export format, by the name it is written to (a folder for png, png16, ply).
OUTS = ["f.npz", "f.mcap", "f.rrd", "f.mp4", "png", "png16", "ply"]

H, W = 480, 640
RAW = (np.arange(H * W, dtype=np.uint16) % 1000 + 500).reshape(H, W)  # raw 11-bit 500..1499


def frames(bad_at: int, **bad: object) -> Iterator[dv.Frame]:
    """Three good frames of raw depth, the one ``bad_at`` with the fields of ``bad``."""
    for i in range(3):
        fields: dict[str, object] = {"depth": RAW, "timestamp": i / 30}
        if i == bad_at:
            fields.update(bad)
        yield dv.Frame(index=i, **fields)  # type: ignore[arg-type]


CASES = {
    "float metres": (
        {"depth": (RAW / 1000).astype(np.float32)},
        r"^frame \d: expected depth of dtype uint16, got float32$",
    ),
    "int64": ({"depth": RAW.astype(np.int64) * 100000}, r"dtype uint16, got int64$"),
    "past 11 bits": (
        {"depth": RAW + 3000},
        r"^frame \d: expected RAW_11BIT values 0\.\.2047, got up to 4499$",
    ),
    "nan time": ({"timestamp": float("nan")}, r"^frame \d: timestamp: expected finite seconds"),
    "inf time": ({"timestamp": float("inf")}, r"expected finite seconds, got inf$"),
}


def _export(out: Path, stream: Iterator[dv.Frame]) -> None:
    fmt = {"png": "png", "png16": "png16", "ply": "ply"}.get(out.name)
    dv.export(stream, out, frames=3, format=fmt)


@pytest.mark.parametrize("name", OUTS)
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("bad_at", [0, 2])
def test_refused_before_written(tmp_path: Path, name: str, case: str, bad_at: int) -> None:
    bad, message = CASES[case]
    out = tmp_path / name
    with pytest.raises(ExportError, match=message.replace(r"\d", str(bad_at))):
        _export(out, frames(bad_at, **bad))
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, nothing left


@pytest.mark.parametrize("name", ["f.npz", "f.mcap", "png"])
def test_colour_of_another_size_refused_and_earlier_export_kept(tmp_path: Path, name: str) -> None:
    """Colour whose size changes from frame to frame; an earlier export stays as it was."""
    out = tmp_path / name
    _export(out, frames(-1))
    before = {p: p.read_bytes() for p in ([out] if out.is_file() else sorted(out.iterdir()))}
    grey = np.zeros((H, W, 3), np.uint8)
    small = np.zeros((10, 10, 3), np.uint8)
    stream = (
        dv.Frame(depth=RAW, video=grey if i < 2 else small, timestamp=i / 30, index=i)
        for i in range(3)
    )
    fmt = {"png": "png"}.get(name)
    with pytest.raises(
        ExportError, match=r"frame 2: expected video of the first frame's size \(480, 640, 3\)"
    ):
        dv.export(stream, out, frames=3, format=fmt, overwrite=True)
    after = {p: p.read_bytes() for p in ([out] if out.is_file() else sorted(out.iterdir()))}
    assert after == before


def test_good_frames_still_exported(tmp_path: Path) -> None:
    """The check passes depth at its format's limits (2047 raw, 65535 mm)."""
    edge = RAW.copy()
    edge[0, 0] = 2047
    summary = dv.export(frames(0, depth=edge), tmp_path / "a.npz", frames=3)
    assert summary.frames == 3
    with np.load(tmp_path / "a.npz") as z:
        assert int(z["depth"].max()) == 2047
    mm = np.full((H, W), 65535, np.uint16)
    stream = (
        dv.Frame(depth=mm, depth_format=dv.DepthFormat.MM, timestamp=i, index=i) for i in range(2)
    )
    assert dv.export(stream, tmp_path / "b.npz", frames=2).frames == 2


@pytest.mark.parametrize("out", OUTS)
def test_depth_whose_units_change_mid_run_is_refused(tmp_path: Path, out: str) -> None:
    """Trial AN (D3): millimetre frames after raw ones were all labelled raw in the .npz
    (800 mm read back as raw 800, 1.19 m). A run's frames hold one kind of depth."""
    with pytest.raises(ExportError, match=r"frame 1: expected depth in RAW_11BIT as the first"):
        dv.export(list(frames(1, depth_format=dv.DepthFormat.MM)), tmp_path / out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sink", ["FoxgloveSink", "RerunSink"])
def test_a_sinks_log_checks_what_exports_writers_check(tmp_path: Path, sink: str) -> None:
    """Trial AN (D5): ``dv.FoxgloveSink(...).log`` took raw depth of 3000 and float depth that
    ``dv.export`` refuses. One check of a frame for both (``frame.check_frame``)."""
    make = getattr(dv, sink)
    suffix = ".mcap" if sink == "FoxgloveSink" else ".rrd"
    for n, (bad, said) in enumerate(
        (
            ({"depth": np.full((4, 4), 3000, np.uint16)}, "expected RAW_11BIT values 0..2047"),
            ({"depth": np.zeros((4, 4), np.float32)}, "expected depth of dtype uint16"),
            ({"depth": RAW, "timestamp": float("nan")}, "timestamp: expected finite seconds"),
        )
    ):
        with make(tmp_path / f"s{n}{suffix}") as out, pytest.raises(dv.SinkError, match=said):
            out.log(dv.Frame(**bad))  # type: ignore[arg-type]


def test_times_below_0_are_one_line_for_foxglove(tmp_path: Path) -> None:
    """Trial AM (D3, traceback): a .npz timed from -3 s to .mcap (and to a Foxglove client)
    ended in the SDK's OverflowError. A Foxglove timestamp counts from 1970: one line."""
    from _helpers_cli import cli

    np.savez(tmp_path / "neg.npz", depth=np.stack([RAW] * 3), timestamp=np.array([-3, -2.9, -2.8]))
    ran = cli("export", str(tmp_path / "neg.npz"), str(tmp_path / "t.mcap"), "--quiet")
    assert ran.code == 2 and ran.error_lines == [
        f"depthview: error: {tmp_path / 't.mcap'}: frame 0: expected frame times >= 0 s (a "
        "Foxglove timestamp counts from 1970), got -3 s (depth record)"
    ], ran.err
    assert not (tmp_path / "t.mcap").exists()


def test_times_below_0_to_a_foxglove_server(tmp_path: Path) -> None:
    """Trial AO (D3, traceback): the same .npz to a live Foxglove server (``stream --to
    foxglove``: the first frames are declared before the server listens, past ``log``'s
    check) and ``scan --to foxglove`` (the model's time) ended in the SDK's OverflowError,
    and the scan wrote nothing. stream: one line; scan: said once, the mesh written."""
    from _helpers_cli import cli

    np.savez(tmp_path / "neg.npz", depth=np.stack([RAW] * 3), timestamp=np.array([-3, -2.9, -2.8]))
    ran = cli("stream", str(tmp_path / "neg.npz"), "--to", "foxglove:0", "--quiet")
    assert ran.code == 2, ran.err
    assert len(ran.error_lines) == 1 and ran.error_lines[0].endswith(
        ": frame 0: expected frame times >= 0 s (a Foxglove timestamp counts from 1970), got "
        "-3 s (depth record)"
    ), ran.err
    wall = np.full((3, 480, 640), 800, np.uint16)  # a wall a scan makes a mesh of
    np.savez(tmp_path / "wall.npz", depth=wall, timestamp=np.array([-3, -2.9, -2.8]))
    scanned = cli("scan", str(tmp_path / "wall.npz"), str(tmp_path / "m.ply"), "--no-window",
                  "--quiet", "--to", "foxglove:0")  # fmt: skip
    assert scanned.code == 0 and "Traceback" not in scanned.err, scanned.err
    assert "got -3 s (scan's model): the model is no longer sent; the scan goes on" in scanned.err
    assert (tmp_path / "m.ply").stat().st_size > 0


@pytest.mark.parametrize("out", OUTS)
@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ({"accel": (float("inf"), 0.0, 9.8)}, r"accel: expected finite m/s\^2 \(NaN: none\)"),
        ({"accel": (0.0, float("-inf"), 9.8)}, r"accel: expected finite m/s\^2 \(NaN: none\)"),
        ({"tilt_deg": float("-inf")}, r"tilt_deg: expected finite degrees \(NaN: none\)"),
    ],
)
def test_readings_no_reader_takes_back_are_refused(
    tmp_path: Path, out: str, bad: dict[str, object], said: str
) -> None:
    """Trial AR (D1): ``dv.export`` wrote a .npz with an infinite accel or tilt that
    ``dv.open`` then refused (``dv.record`` refused the accel at once). Refused before
    writing, for every format, naming the frame."""
    with pytest.raises(ExportError, match=rf"frame 1: {said}"):
        dv.export(list(frames(1, **bad)), tmp_path / out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("out", OUTS)
@pytest.mark.parametrize("t", [2e10, -2e10, 1e300])
def test_times_no_reader_takes_are_refused(tmp_path: Path, out: str, t: float) -> None:
    """Trial AR (D8): a frame timed past 2^32 s ended in an OverflowError traceback in the
    .mcap and .rrd sinks, and a .npz took it that its reader then refused. Every format
    refuses it in one line naming the frame, before writing (``frame.MAX_SECONDS``)."""
    with pytest.raises(
        ExportError, match=r"^frame 1: depth record: expected a time of at most 4294967296 s"
    ):
        dv.export(list(frames(1, timestamp=t)), tmp_path / out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ({"accel": ("a", "b", "c")}, r"accel: expected three numbers \(m/s\^2\) or None"),
        ({"accel": (1.0, 2.0)}, r"accel: expected three numbers \(m/s\^2\) or None"),
        ({"tilt_deg": "5"}, r"tilt_deg: expected a number of degrees or None, got '5'"),
        ({"timestamp": "0"}, r"timestamp: expected seconds as a number, got '0'"),
    ],
)
@pytest.mark.parametrize("out", [*OUTS, "record"])
def test_a_frames_side_fields_are_named_when_wrong(
    tmp_path: Path, out: str, bad: dict[str, object], said: str
) -> None:
    """Trial AR (D9): "could not convert string to float", "must be real number, not str",
    "not enough values to unpack": one exception each, naming neither field nor frame."""
    error = dv.RecordingError if out == "record" else ExportError
    with pytest.raises(error, match=rf"frame 1: {said}"):
        if out == "record":
            dv.record(list(frames(1, **bad)), tmp_path / "r")
        else:
            dv.export(list(frames(1, **bad)), tmp_path / out)
    if out == "record":  # a recording keeps the frames before the one refused, as it says
        index = (tmp_path / "r" / "INDEX.txt").read_text().split()
        assert [n[0] for n in index] == ["d"]
    else:
        assert list(tmp_path.iterdir()) == []


def test_a_frames_depth_format_is_taken_as_the_functions_take_it(tmp_path: Path) -> None:
    """Trial AR (D9): ``Frame(depth_format="mm")`` (the spelling every function takes) was
    refused by export as "'mm' is not a valid DepthFormat". A frame parses it when made, and
    refuses what is no format there, in one line."""
    frame = dv.Frame(depth=RAW, depth_format="mm")
    assert frame.depth_format is dv.DepthFormat.MM
    dv.export([frame], tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as z:
        assert int(z["depth_format"]) == int(dv.DepthFormat.MM)
    with pytest.raises(ValueError, match=r"^expected a depth format \(.*\), got 'cm'$"):
        dv.Frame(depth=RAW, depth_format="cm")
