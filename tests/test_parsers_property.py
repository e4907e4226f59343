"""Item 5 of issue 22: every parser of options and file names, given any string, gives a
value or one line saying what it expected, never a traceback. Through the command line
(argparse's own path: exit 2, one line naming the option) where the option has a type, and
at the parsers themselves: ``--filter``, ``--orbit``, ``--size``, ``--range``, ``--to``,
``--intrinsics``, ``--depth-format``, the numbers (``--fps``, ``--seconds``,
``--depth-scale``, ``--frames``), source names, and INDEX.txt lines."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import depthview as dv
from _helpers_cli import cli
from depthview.cli import build_parser
from depthview.errors import DepthviewError
from depthview.export import parse_range
from depthview.fakenect_format import parse_index_line
from depthview.filters import parse_filter_spec
from depthview.sinks.targets import parse_target

#: Pieces the parsers look for, so that strings come near valid ones as well as far.
PIECES = [
    ",",
    ":",
    "=",
    "x",
    "-",
    ".",
    "e",
    "inf",
    "nan",
    "1e400",
    "0",
    "7",
    "-3",
    "89",
    "640",
    "spatial",
    "temporal",
    "holes",
    "disparity",
    "depth",
    "alpha",
    "mode",
    "magnitude",
    "realsense",
    "none",
    "demo",
    "sample",
    "foxglove",
    "rerun",
    "rerun-web",
    "rerun+http://",
    "d-",
    "r-",
    "a-",
    ".pgm",
    ".ppm",
    ".dump",
    "1700000000.25",
    " ",
    "\n",
    "\x00",
    "é",
]
TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def one_line(message: str) -> None:
    assert message and "\n" not in message.strip() and "Traceback" not in message, message


def argparse_says(argv: list[str]) -> None:
    """The parser takes ``argv``, or exits 2 with one line naming the option."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            build_parser()[0].parse_args(argv)
        except SystemExit as exc:
            assert exc.code == 2
            lines = [s for s in err.getvalue().splitlines() if not s.startswith("usage:")]
            lines = [s for s in lines if s.strip() and not s.startswith(" ")]
            assert len(lines) == 1, err.getvalue()
            assert "error: argument" in lines[0] or "error: unrecognized" in lines[0], lines


@pytest.mark.parametrize(
    "argv",
    [
        ["view", "demo", "--orbit={}"],
        ["view", "demo", "--size={}"],
        ["view", "demo", "--fps={}"],
        ["view", "demo", "--near={}"],
        ["view", "demo", "--filter={}"],
        ["export", "demo", "o.npz", "--fps={}"],
        ["export", "demo", "o.npz", "--every={}"],
        ["record", "demo", "o", "--seconds={}"],
        ["record", "demo", "o", "--frames={}"],
        ["stream", "demo", "--to=foxglove", "--fps={}"],
        ["convert", "demo", "o", "--max-dt={}"],
        ["info", "demo", "--depth-scale={}"],
        ["info", "demo", "--intrinsics={}"],
    ],
    ids=lambda a: next(x for x in a if "{}" in x).split("=")[0],
)
def test_any_option_value_is_a_value_or_one_line(argv: list[str]) -> None:
    @FAST
    @given(TEXT)
    def check(text: str) -> None:
        argparse_says([a.replace("{}", text) for a in argv])

    check()


@FAST
@given(TEXT)
def test_filter_specs(text: str) -> None:
    try:
        parse_filter_spec(text)
    except (ValueError, DepthviewError) as exc:
        one_line(str(exc))


@FAST
@given(TEXT)
def test_ranges(text: str) -> None:
    try:
        start, stop = parse_range(text)
    except DepthviewError as exc:
        one_line(str(exc))
        assert str(exc).startswith("--range: expected")
    else:
        assert start >= 0 and (stop is None or stop > start)


@FAST
@given(TEXT)
def test_stream_targets(text: str) -> None:
    try:
        parse_target(text)
    except DepthviewError as exc:
        one_line(str(exc))


@FAST
@given(TEXT)
def test_index_lines(text: str) -> None:
    try:
        entry = parse_index_line(text, "INDEX.txt line 3")
    except DepthviewError as exc:
        one_line(str(exc))
        assert str(exc).startswith("INDEX.txt line 3: expected")
    else:  # a plain name of one of the three kinds, inside the recording
        assert entry.kind in "dra" and "/" not in entry.name and entry.name == entry.name.strip()


@FAST
@given(TEXT)
def test_depth_formats_for_every_source_kind(text: str) -> None:
    for uri in ("demo", "sample"):
        try:
            dv.open(uri, depth_format=text, realtime=False).close()
        except DepthviewError as exc:
            one_line(str(exc))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_source_names(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    """Any name: a source, or one line (a name that is not a file here; Kinects left out,
    as this machine has none and libfreenect would look for one)."""
    here = tmp_path_factory.mktemp("names")
    assume("\x00" not in text and not text.strip().lower().startswith("kinect"))
    old = os.getcwd()
    os.chdir(here)
    try:
        assume(not os.path.lexists(os.path.expanduser(text)) or text in ("demo", "sample"))
        try:
            source = dv.open(text, realtime=False)
        except DepthviewError as exc:  # only this escapes; the CLI prints it as one line
            assert str(exc)
            # "--" on the command line ends the options: `info --` is info of no source
            ran = cli("info", "--", text)
            assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
        else:
            source.close()
    finally:
        os.chdir(old)


def test_the_cli_turns_a_bad_name_into_one_line(tmp_path: Path) -> None:
    """Found by the properties above: a newline typed into a name split the error line,
    and an unknown ``~user`` was a traceback."""
    for name in ("demo:x", "demo:1:2", "sample:3", "::", "a\nb", "a\rb", "~nobody-here/x"):
        ran = cli("info", name)
        assert ran.code == 2 and len(ran.error_lines) == 1, (name, ran.err)


@FAST
@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**30), max_value=10**30),
        TEXT,
        st.booleans(),
        st.none(),
    )
)
def test_one_check_of_a_number_agrees_with_its_definition(value: object) -> None:
    """``_checks.Quantity`` (behind every numeric option and source option) accepts exactly
    the finite numbers in its range, and its refusal is one line naming the unit."""
    import math

    from depthview._checks import COUNT, DURATION, FPS, FPS_OR_AS_FAST, FRAMES, SECONDS

    quantities = (
        (FPS, False),
        (FPS_OR_AS_FAST, True),
        (SECONDS, False),
        (DURATION, False),
        (FRAMES, False),
        (COUNT, False),
    )
    for q, low_ok in quantities:
        number: float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str) and value.isascii():  # not other scripts' digits
            try:
                number = float(value)
            except ValueError:
                number = None
        n = math.nan if number is None else number  # NaN fails every comparison
        if q is SECONDS:
            ok = math.isfinite(n) and n > 0
        elif q is DURATION:  # how long a run lasts: up to 10^6 s
            ok = 0 < n <= 1e6
        elif q in (FRAMES, COUNT):  # --frames and other counts: whole, 1 .. 10^9
            ok = 1 <= n <= 1e9 and n.is_integer()
        else:  # a frame rate: 0.01..1000 frames per second, and 0 where it means "as fast"
            ok = number is not None and (
                (low_ok and number == 0) or (math.isfinite(number) and 0.01 <= number <= 1000)
            )
        try:
            got = q.check(value)
        except ValueError as exc:
            assert not ok, (q, value)
            one_line(str(exc))
            assert q.unit in str(exc)
        else:
            assert ok and got == number, (q, value, got)


@FAST
@given(st.text(alphabet=st.characters(categories=["Nd"]), min_size=1, max_size=4))
def test_numbers_are_ascii_decimals_only(digits: str) -> None:
    """Found by issue 24's trial: ``--voxel \u0661`` (an Arabic-Indic one) read as 1 m.
    Digits of any script but ASCII's are refused by the one number check."""
    from depthview._checks import NUMBER

    if digits.isascii() and float(digits) > 0:
        assert NUMBER.check(digits) == float(digits)
    else:
        with pytest.raises(ValueError, match="expected"):
            NUMBER.check(digits)
