"""The command line as a user meets it: one vocabulary, one-line errors with exit code 2,
one-line warnings, and no tracebacks in ordinary use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _helpers_sources import copy_person
from depthview.cli import build_parser


def depthview(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depthview", *args], capture_output=True, text=True, timeout=timeout
    )


def test_info_on_every_kind_of_source(tmp_path: Path) -> None:
    for source in ("demo", "sample", str(copy_person(tmp_path))):
        proc = depthview("info", source, "--json")
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
    assert '"frames": "endless"' in depthview("info", "demo", "--json").stdout
    assert '"frames": 20' in depthview("info", "sample", "--json").stdout


def test_a_folder_named_like_a_built_in_source_is_said_and_read_as_dot_slash(
    tmp_path: Path,
) -> None:
    """Trial AJ (D13): with a recording folder ./demo (or ./sample) here, ``info demo`` read
    the built-in scene without a word. It still does (the names are documented), and says
    how to read the folder; ``./demo`` reads it."""
    from depthview.sources import sample

    for name in ("demo", "sample"):
        sample.write_to(tmp_path / name)
        proc = subprocess.run(
            [sys.executable, "-m", "depthview", "info", name, "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stderr
        assert name == "sample" or json.loads(proc.stdout)["kind"] == "DemoSource"
        assert f"say ./{name} to read it" in proc.stdout, proc.stdout  # (--json: its warnings)
        proc = subprocess.run(
            [sys.executable, "-m", "depthview", "info", f"./{name}", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["kind"] == "RecordingSource"
        assert "built-in" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("typed", "meant"), [("dmeo", "demo"), ("sampel", "sample"), ("kinnect:1", "kinect")]
)
def test_a_mistyped_source_suggests_the_nearest(typed: str, meant: str) -> None:
    proc = depthview("info", typed)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert f"did you mean '{meant}'?" in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["record", "demo", "OUT", "--frames", "0"],
        ["record", "demo", "OUT", "--seconds", "-1"],
        ["export", "demo", "OUT", "--frames", "-2"],
        ["record", "demo", "OUT", "--bogus"],
    ],
)
def test_refused_options_leave_nothing(tmp_path: Path, args: list[str]) -> None:
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    proc = depthview(*args)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_warnings_are_one_line_each_and_summed_up(tmp_path: Path) -> None:
    rec = copy_person(tmp_path)
    names = [n for n in (rec / "INDEX.txt").read_text().split() if n.startswith("d-")]
    for name in names[2:14]:  # twelve broken depth frames
        (rec / name).write_bytes(b"P5 640 480 65535\n" + b"\0" * 100)
    proc = depthview("export", str(rec), str(tmp_path / "out.npz"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    warnings = [line for line in lines if line.startswith("depthview: warning: ")]
    assert len(warnings) == 5 + 1  # the first five in full, then how many in all
    assert warnings[0].startswith("depthview: warning: skipped broken frame: ")
    assert warnings[-1] == "depthview: warning: skipped broken frame: 12 in all"
    assert not any("warnings.warn" in line or "UserWarning" in line for line in lines)
    assert "exported 8 frames" in proc.stderr


def test_every_option_has_help_and_frames_means_a_count() -> None:
    parser, _ = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[union-attr]
        for action in command._actions:
            if action.dest == "help":
                continue
            assert action.help, f"depthview {name} {action.option_strings or action.dest}"
            if "--frames" in action.option_strings:
                assert action.type is not None and action.type("3") == 3, name


def test_info_on_an_index_naming_a_missing_file_keeps_a_true_duration(tmp_path: Path) -> None:
    """A line naming a file that is not there (with an earlier time) once made the duration
    negative (issue 22): the frames that can be read give it."""
    from _helpers_cli import cli as run_cli
    from depthview.sources import sample

    rec = sample.write_to(tmp_path / "rec")
    lines = (rec / "INDEX.txt").read_text().splitlines()
    depth = [float(name.split("-")[1]) for name in lines if name.startswith("d-")]
    (rec / "INDEX.txt").write_text("\n".join([*lines, "d-1000.000000-5.pgm"]) + "\n")
    ran = run_cli("info", str(rec), "--json")
    assert ran.code == 0, ran.err
    info = json.loads(ran.out)
    assert info["broken_frames"] == 1 and "d-1000.000000-5.pgm" in info["first_broken"]
    assert info["duration_s"] == pytest.approx(max(depth) - min(depth), abs=1e-6)
    assert info["mean_interval_ms"] > 0


def test_info_counts_broken_colour_records_as_broken(tmp_path: Path) -> None:
    """Trial J: a recording whose colour files are 8-bit grey (P5, an IR picture) was shown
    with ``video_frames: 10`` and no broken record, while every one was skipped; and the
    first skipped record's warning came twice. Counts now reconcile with INDEX.txt."""
    from PIL import Image

    from _helpers_cli import cli as run_cli
    from _helpers_sources import write_recording

    rec = tmp_path / "rec"
    write_recording(rec, 6, video=True, accel=True)
    lines = (rec / "INDEX.txt").read_text().split()
    colour = [x for x in lines if x.startswith("r-")]
    accel = [x for x in lines if x.startswith("a-")]
    spoiled = colour[::2]
    assert len(spoiled) >= 3 and accel
    for name in spoiled:
        Image.new("L", (640, 480), 77).save(rec / name, format="PPM")  # P5
    info = json.loads(run_cli("info", str(rec), "--json").out)
    assert info["video_frames"] == len(colour) - len(spoiled)
    assert info["accel_records"] == len(accel)
    assert info["broken_records"] == len(spoiled) and info["broken_frames"] == 0
    skipped = [w for w in info["warnings"] if w.startswith("skipped broken record")]
    assert sorted(w.split(": ")[1].split("/")[-1].split(" ")[0] for w in skipped) == sorted(spoiled)


def test_info_counts_reconcile_with_the_index_for_any_broken_records() -> None:
    """Property: whichever colour and accelerometer records are broken (grey, cut short,
    missing), info's readable counts plus ``broken_records`` are the records INDEX.txt names."""
    import shutil
    import tempfile

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from PIL import Image

    from _helpers_cli import cli as run_cli
    from _helpers_sources import write_recording

    base = Path(tempfile.mkdtemp())
    rec = base / "rec"
    write_recording(rec, 4, video=True, accel=True)
    lines = (rec / "INDEX.txt").read_text().split()
    others = [x for x in lines if x[0] in "ra"]
    assert {x[0] for x in others} == {"r", "a"}

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.sampled_from(others), st.sampled_from(["grey", "cut", "gone"]))))
    def check(spoil: list[tuple[str, str]]) -> None:
        case = base / "case"
        shutil.rmtree(case, ignore_errors=True)
        shutil.copytree(rec, case)
        for name, how in spoil:
            path = case / name
            if not path.exists():
                continue  # spoiled twice: gone already
            if how == "gone":
                path.unlink()
            elif how == "cut":
                path.write_bytes(path.read_bytes()[:7])
            elif name[0] == "r":
                Image.new("L", (640, 480), 9).save(path, format="PPM")
            else:
                path.write_bytes(b"\0" * 5)  # a tilt state is 12 bytes
        broken = {name for name, _ in spoil}
        info = json.loads(run_cli("info", str(case), "--json").out)
        assert info["video_frames"] + info["accel_records"] + info["broken_records"] == len(others)
        assert info["broken_records"] == len(broken)
        assert info["video_frames"] == sum(x[0] == "r" and x not in broken for x in others)

    try:
        check()
    finally:
        shutil.rmtree(base, ignore_errors=True)
