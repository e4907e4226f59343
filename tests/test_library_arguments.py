"""Wrong-typed keyword arguments of the library (trial AJ D4, D5): one "expected ..., got
..." naming the argument in the library's own words (``frames=``, not ``--frames``), never
Python's internal error; the command line keeps its option words for the same check."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli


@pytest.fixture(scope="module")
def depth() -> np.ndarray:
    return next(iter(dv.open("sample"))).depth


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda d: dv.colorize(d, "turbo", near="1"),
            ValueError,
            "expected near as metres .*got '1'",
        ),
        (
            lambda d: dv.colorize(d, "turbo", far="4"),
            ValueError,
            "expected far as metres .*got '4'",
        ),
        (
            lambda d: dv.colorize(d, "turbo", near=True, far=4.0),
            ValueError,
            "expected near as metres .*got True",
        ),
        (
            lambda d: dv.colorize(d, "turbo", invalid_color="red"),
            ValueError,
            r"expected invalid_color as three ints 0\.\.255, got 'red'",
        ),
        (
            lambda d: dv.colorize(d, "turbo", invalid_color=None),
            ValueError,
            r"expected invalid_color as three ints 0\.\.255, got None",
        ),
        (
            lambda d: dv.colorize(d, "turbo", invalid_color=(1.5, 2, 3)),
            ValueError,
            r"expected invalid_color as three ints 0\.\.255, got \(1\.5, 2, 3\)",
        ),
        (
            lambda d: dv.colorize(d, invalid_color=(1.0, 2, 3)),  # 1.0 == 1: not taken from a cache
            ValueError,
            r"expected invalid_color as three ints 0\.\.255, got \(1\.0, 2, 3\)",
        ),
        (
            lambda d: dv.colorize_packed(d, "turbo", invalid_color=(True, 0, 0)),
            ValueError,
            r"expected invalid_color as three ints 0\.\.255, got \(True, 0, 0\)",
        ),
        (
            lambda d: dv.colorize(d, "turbo", equalizer="x"),
            TypeError,
            "expected equalizer as an Equalizer, got str",
        ),
        (  # trial AP D4: an equalizer beside near/far (or glview) was ignored without a word
            lambda d: dv.colorize(d, "turbo", near=0.5, far=4.0, equalizer=dv.Equalizer(clip=1)),
            ValueError,
            r"expected equalizer only for an equalised palette \(a metric palette without "
            r"near/far\), got palette 'turbo' with near=0\.5, far=4\.0",
        ),
        (
            lambda d: dv.colorize_packed(d, "glview", equalizer=dv.Equalizer()),
            ValueError,
            "expected equalizer only for an equalised palette",
        ),
        (lambda d: dv.Equalizer(clip="3"), ValueError, "expected clip as a number >= 1, got '3'"),
        (
            lambda d: dv.Equalizer(smoothing=None),
            ValueError,
            r"expected smoothing as a number in \(0, 1\], got None",
        ),
        (lambda d: dv.from_metres("abc", 0), ValueError, "expected metres as numbers, got 'abc'"),
        (
            lambda d: dataclasses.replace(
                dv.StereoCalibration.nyu(), rotation=((float("nan"), 0, 0), (0, 1, 0), (0, 0, 1))
            ),
            ValueError,
            r"expected rotation as a finite 3x3 matrix, got non-finite values \[\[nan",
        ),
        (
            lambda d: dataclasses.replace(
                dv.StereoCalibration.nyu(), translation=(0, float("inf"), 0)
            ),
            ValueError,
            r"expected translation as 3 finite metres, got non-finite values \[0\.0, inf",
        ),
    ],
)
def test_a_wrong_typed_argument_is_named(
    depth: np.ndarray,
    call: Callable[[np.ndarray], object],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=f"^{message}"):
        call(depth)


def test_right_typed_arguments_are_still_taken(depth: np.ndarray) -> None:
    """numpy's numbers are numbers; the colour of no reading is the one asked for."""
    picture = dv.colorize(
        depth, "turbo", near=np.float32(0.5), far=4, invalid_color=[np.uint8(7), 8, 9]
    )
    assert (picture[depth == 2047] == (7, 8, 9)).all()
    assert dv.Equalizer(smoothing=np.float64(0.5), clip=2).clip == 2


@pytest.mark.parametrize(
    ("source", "got"), [([1, 2, 3], "Frames \\(or a Source\\), got int"), (7, "got int")]
)
def test_export_of_what_is_not_frames_is_one_line_and_keeps_an_earlier_file(
    depth: np.ndarray, tmp_path: Path, source: object, got: str
) -> None:
    out = tmp_path / "i.npz"
    dv.export([dv.Frame(depth=depth, timestamp=0.0, index=0)], out)
    before = out.read_bytes()
    with pytest.raises(dv.ExportError, match=f"^expected .*{got}$"):
        dv.export(source, out, overwrite=True)  # type: ignore[arg-type]
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["i.npz"]


def test_export_of_frames_without_a_count_names_the_keywords(
    depth: np.ndarray, tmp_path: Path
) -> None:
    with pytest.raises(dv.ExportError, match=r"^frames=: .*\(or stop=\)") as caught:
        dv.export(iter([dv.Frame(depth=depth)]), tmp_path / "a.npz")
    assert "--" not in str(caught.value)
    assert not (tmp_path / "a.npz").exists()


def test_the_command_line_keeps_its_option_words_for_a_live_source(tmp_path: Path) -> None:
    result = cli("export", "demo", str(tmp_path / "x.npz"))
    assert result.code == 2
    assert "--frames: expected a number of frames (or --range) for a live source" in result.err


def test_a_misspelt_option_of_the_sample_names_sample_not_its_cache() -> None:
    with pytest.raises(dv.SourceError, match=r"^sample: expected options .*depth_fromat") as e:
        dv.open("sample", depth_fromat="mm")
    assert "cache" not in str(e.value)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(float("inf"), "inf"), (1e300, "1e+300"), (-1.0, "-1"), (2.0**32 + 1, "4.29497e+09")],
)
def test_record_of_times_it_cannot_name_is_one_line_and_no_folder(
    depth: np.ndarray, tmp_path: Path, seconds: float, shown: str
) -> None:
    """2**32 s (the year 2106) is the one limit of a frame's time: what the readers take."""
    frames = (dv.Frame(depth=depth, timestamp=seconds, index=i) for i in range(3))
    with pytest.raises(dv.RecordingError) as caught:
        dv.record(frames, tmp_path / "rec")
    message = str(caught.value)
    assert message.startswith(
        f"expected finite frame times 0 .. 4294967296 s, got {shown} s (depth record of frame 0)"
    )
    assert "\n" not in message
    assert not (tmp_path / "rec").exists()


def test_record_of_a_time_at_the_limit_is_taken(depth: np.ndarray, tmp_path: Path) -> None:
    frames = [dv.Frame(depth=depth, timestamp=2.0**32, index=0)]
    dv.record(frames, tmp_path / "rec")
    assert len(list((tmp_path / "rec").glob("d-*.pgm"))) == 1


def _sample_frames(depth: np.ndarray, n: int = 2) -> list[dv.Frame]:
    return [dv.Frame(depth=depth, timestamp=float(i), index=i) for i in range(n)]


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("overwrite", lambda d, out: dv.export(_sample_frames(d), out, overwrite="no")),
        ("registered", lambda d, out: dv.export(_sample_frames(d), out, registered="False")),
        ("progress", lambda d, out: dv.export(_sample_frames(d), out, progress=1)),
        ("depth_only", lambda d, out: dv.record(_sample_frames(d), out, depth_only="False")),
        ("fsync", lambda d, out: dv.record(_sample_frames(d), out, fsync="no")),
        ("depth_only", lambda d, out: dv.RecordingWriter(out, depth_only="yes")),
        ("fsync", lambda d, out: dv.RecordingWriter(out, fsync="no")),
        ("colour", lambda d, out: dv.RecordingWriter(out, colour="yes")),
        ("times_from_start", lambda d, out: dv.RecordingWriter(out, times_from_start="no")),
        ("organized", lambda d, out: dv.point_cloud(d, organized="False")),
        ("overwrite", lambda d, out: dv.convert(str(out), out.parent / "c", overwrite="no")),
        ("depth_only", lambda d, out: dv.convert(str(out), out.parent / "c", depth_only="no")),
    ],
)
def test_a_flag_that_is_not_a_bool_is_refused_before_anything_is_written(
    depth: np.ndarray, tmp_path: Path, name: str, call: Callable[..., object]
) -> None:
    """A string is not read by its truth value: overwrite='no' replaced an earlier export
    (trial AL D4)."""
    out = tmp_path / "keep.npz"
    dv.export(_sample_frames(depth, 1), out)
    before = out.read_bytes()
    with pytest.raises(TypeError, match=f"^expected {name} as True or False, got '?"):
        call(depth, out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.npz"]


def test_an_option_of_open_that_is_not_a_bool_is_named() -> None:
    with pytest.raises(dv.SourceError, match=r"^sample: expected loop as True or False, got 'no'$"):
        dv.open("sample", loop="no")


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"frames": 1.5}, r"expected frames as a whole number of frames >= 1 .*, got 1\.5$"),
        ({"frames": float("nan")}, r"expected frames as a whole number of frames >= 1 .*got nan$"),
        ({"every": 2.5}, r"expected every as a whole number >= 1 .*, got 2\.5$"),
        ({"start": 1.5, "stop": 4}, r"expected start as a whole number >= 0 .*, got 1\.5$"),
        ({"stop": float("inf")}, r"expected stop as a whole number >= 0 .*, got inf$"),
    ],
)
def test_export_of_a_count_that_is_not_whole_is_refused_as_the_command_line_refuses_it(
    depth: np.ndarray, tmp_path: Path, keywords: dict[str, float], message: str
) -> None:
    """frames=1.5 exported 2 frames, NaN all of them, every=2.5 a step of 5 (trial AL D3)."""
    with pytest.raises(ValueError, match=f"^{message}"):
        dv.export(_sample_frames(depth, 6), tmp_path / "g.npz", **keywords)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_record_of_a_count_or_time_the_command_line_refuses_is_refused(
    depth: np.ndarray, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=r"^expected frames as a whole number of frames .*1\.5$"):
        dv.record(_sample_frames(depth, 3), tmp_path / "r", frames=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^expected seconds as a finite number of seconds > 0"):
        dv.record(_sample_frames(depth, 3), tmp_path / "r", seconds=float("nan"))
    with pytest.raises(ValueError, match=r"^expected queue_size as a whole number >= 1 .*2\.5$"):
        dv.RecordingWriter(tmp_path / "r", queue_size=2.5)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_the_library_and_the_command_line_give_one_answer_to_frames(
    depth: np.ndarray, tmp_path: Path
) -> None:
    result = cli("export", "sample", str(tmp_path / "c.npz"), "--frames", "1.5")
    assert result.code == 2
    with pytest.raises(ValueError) as caught:
        dv.export(_sample_frames(depth), tmp_path / "l.npz", frames=1.5)  # type: ignore[arg-type]
    said = str(caught.value).removeprefix("expected frames as ").replace("1.5", "'1.5'")
    assert f"--frames: expected {said}\n" in result.err  # the text as typed, quoted


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d, o: dv.Intrinsics("500", 500, 320, 240), "expected fx as a number, got '500'"),
        (lambda d, o: dv.Intrinsics(True, 1, 1, 1), "expected fx as a number, got True"),
        (lambda d, o: dv.Intrinsics(500, 500, 320j, 240), "expected cx as a number, got 320j"),
        (
            lambda d, o: dv.export(_sample_frames(d), o / "x.mp4", fps="30"),
            "expected fps as a number, got '30'",
        ),
        (
            lambda d, o: dv.export(_sample_frames(d), o / "x.npz", frames="3"),
            "expected frames as a number, got '3'",
        ),
        (
            lambda d, o: dv.record(_sample_frames(d), o / "r", seconds="1"),
            "expected seconds as a number, got '1'",
        ),
        (
            lambda d, o: dv.record(_sample_frames(d), o / "r", frames=True),
            "expected frames as a number, got True",
        ),
        (
            lambda d, o: dv.RecordingWriter(o / "w", registration="x"),
            "expected registration as a Registration, got str",
        ),
        (
            lambda d, o: dv.record(_sample_frames(d), o / "r", registration="x"),
            "expected registration as a Registration, got str",
        ),
    ],
)
def test_a_number_or_registration_of_the_wrong_type_is_named(
    depth: np.ndarray, tmp_path: Path, call: Callable[..., object], message: str
) -> None:
    """Python's own '<' not supported ... named no argument (trial AL D5)."""
    with pytest.raises(TypeError, match=f"^{message}$"):
        call(depth, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_export_takes_a_filter_spec_string_as_convert_does(
    depth: np.ndarray, tmp_path: Path
) -> None:
    """filters='spatial' (a --filter spec, as the docstring says) was AttributeError
    (trial AL D6); it filters as the parsed spec does."""
    frames = _sample_frames(depth, 2)
    dv.export(frames, tmp_path / "s.npz", filters="spatial")
    dv.export(frames, tmp_path / "p.npz", filters=dv.filters.parse_filter_spec("spatial"))
    dv.export(frames, tmp_path / "n.npz")
    given, parsed, plain = (np.load(tmp_path / f"{n}.npz")["depth"] for n in "spn")
    assert np.array_equal(given, parsed)
    assert given.shape == plain.shape and not np.array_equal(given, plain)


@pytest.mark.parametrize(("filters", "got"), [(["spatial"], "list"), (5, "int")])
def test_export_of_filters_of_the_wrong_type_is_one_type_error(
    depth: np.ndarray, tmp_path: Path, filters: object, got: str
) -> None:
    with pytest.raises(TypeError, match=rf"^expected filters as a --filter spec.*, got {got}$"):
        dv.export(_sample_frames(depth), tmp_path / "f.npz", filters=filters)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=rf"^expected filters as a --filter spec.*, got {got}$"):
        dv.convert("sample", tmp_path / "c", filters=filters)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_export_of_no_frames_says_none_were_given(tmp_path: Path) -> None:
    """Not "--range: expected a frame index 0..-1": no range was given (trial AL D7)."""
    with pytest.raises(dv.ExportError, match=r"^nothing to export: no frames were given"):
        dv.export([], tmp_path / "e.npz")
    assert list(tmp_path.iterdir()) == []


def test_export_of_a_source_read_before_or_a_generator_says_what_it_is(tmp_path: Path) -> None:
    """Trial AL (D8): a Source exported twice wrote nothing the second time, "no readable
    frame among those chosen (--range, --every, --frames)" (none were given); a generator
    of 10 frames was refused as "a live source". A seekable source is exported from its
    start (frame for frame as the first time); a generator is asked for frames=."""
    src = dv.open("sample")
    dv.export(src, tmp_path / "a.npz")
    dv.export(src, tmp_path / "b.npz")
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "b.npz") as b:
        np.testing.assert_array_equal(a["depth"], b["depth"])
        assert list(b["index"]) == list(range(20))
    frames = (f for f in dv.open("sample") if f.index % 2 == 0)
    with pytest.raises(dv.ExportError, match=r"frames of no known number \(a generator\)"):
        dv.export(frames, tmp_path / "g.npz")


@pytest.mark.parametrize("packed", [2, 3, "2", dv.DepthFormat.RAW_10BIT_PACKED])
@pytest.mark.parametrize(
    "call",
    [
        lambda d, f: dv.to_metres(d, f),
        lambda d, f: dv.point_cloud(d, depth_format=f),
        lambda d, f: dv.to_mm(d, depth_format=f),
        lambda d, f: dv.colorize(d, depth_format=f),
    ],
    ids=["to_metres", "point_cloud", "to_mm", "colorize"],
)
def test_a_packed_format_is_refused_by_every_function_of_values(call: Any, packed: Any) -> None:
    """Trial AP (D3): ``to_metres`` and ``point_cloud`` read ``depth_format=3`` (packed
    10-bit) as unpacked 11-bit: 500 gave 0.586 m where 10-bit 500 is 3.864 m. Packed formats
    name the USB stream's bytes, never a frame of values: one line, as to_mm always said."""
    depth = np.full((4, 5), 500, np.uint16)
    with pytest.raises(ValueError, match=r"^expected an unpacked depth format \(RAW_11BIT, "):
        call(depth, packed)


MASKED = np.ma.masked_array(np.full((2, 2), 1500, np.uint16), mask=[[True, False], [False, False]])


@pytest.mark.parametrize(
    "call",
    [
        lambda d: dv.colorize(d),
        lambda d: dv.colorize(d, "turbo", near=0.5, far=4, depth_format="mm"),
        lambda d: dv.to_metres(d, "mm"),
        lambda d: dv.to_mm(d),
        lambda d: dv.point_cloud(d, depth_format="mm"),
    ],
    ids=["colorize", "colorize-mm", "to_metres", "to_mm", "point_cloud"],
)
def test_arrays_of_other_rules_are_refused_in_one_line(call: Any) -> None:
    """Trial AR (D6): a masked array passed the check, then failed in numpy's or numba's
    internals, or (with a depth_format) had its mask dropped: a masked pixel became a
    reading, a point. Refused, saying how to fill it; np.matrix likewise. A memory-mapped
    array (np.load's mmap_mode) is a plain one and taken."""
    with pytest.raises(
        TypeError, match=r"^expected depth as a plain numpy array, got MaskedArray \(fill"
    ):
        call(MASKED)
    with pytest.raises(TypeError, match=r"^expected depth as a plain numpy array, got matrix$"):
        call(np.matrix(MASKED.data))
    plain = call(MASKED.data)
    assert plain is not None


@pytest.mark.parametrize(
    ("make", "error", "said"),
    [
        (lambda p: dv.RerunSink("web", web_port=99999), ValueError, "expected web_port as a whole"),
        (lambda p: dv.RerunSink("web", grpc_port="9876"), TypeError, "expected grpc_port as a"),
        (lambda p: dv.FoxgloveSink(port=-1), ValueError, "expected port as a whole number >= 0"),
        (
            lambda p: dv.RerunSink(p / "a.rrd", intrinsics=(1, 2, 3, 4)),
            TypeError,
            r"expected intrinsics as a dv\.Intrinsics, got \(1, 2, 3, 4\)",
        ),
        (
            lambda p: dv.FoxgloveSink(p / "a.mcap", intrinsics=(1, 2, 3, 4)),
            TypeError,
            r"expected intrinsics as a dv\.Intrinsics",
        ),
        (
            lambda p: dv.FoxgloveSink(p / "a.mcap", registration="device.json"),
            TypeError,
            r"expected registration as a dv\.Registration, got str",
        ),
    ],
)
def test_a_sinks_options_are_checked_when_it_is_made(
    tmp_path: Path, make: Any, error: type, said: str
) -> None:
    """Trial AR (D10): ``web_port=99999`` ended in an OverflowError from the socket, and
    intrinsics given as a tuple were taken, then failed at the first ``log`` with an
    AttributeError. One line naming the option, when the sink is made; nothing written."""
    with pytest.raises(error, match=said):
        make(tmp_path)
    assert list(tmp_path.iterdir()) == []
