"""Two runs writing one output at once (trial G, issue 22): ``export demo O/d --format
png16`` and ``export demo:7 O/d --format png16`` together left O/d holding frames of both
(the failed run's among the other's), and two .npz exports to one name had the first fail
at its end ("cannot write") after all its work. The second run is now refused in one line
at the start, and the first finishes as if alone. A real first run in a subprocess (the
kernel's lock is per process), the second through the command line in this process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli
from _helpers_xcapture import (
    assert_screen_is_saved,
    capture,
    capture_stable,
    press_key,
    program_window,
    quit_program,
    wait_for_change,
)
from _helpers_xvfb import start_xvfb
from depthview.outputs import STAGING


def _start(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "depthview", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(
    proc: subprocess.Popen[str], ready: Path, done: Callable[[], bool] | None = None
) -> None:
    """Until the first run is writing (``ready`` exists, or ``done()``); it must not end
    before."""
    deadline = time.monotonic() + 120
    while not (done() if done is not None else ready.exists()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{ready} never appeared"
        time.sleep(0.05)


def _end(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Ctrl-C: the first run keeps what it made and says so (exit 130)."""
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


@pytest.mark.parametrize(
    ("first_out", "second_out", "ready", "extra"),
    [
        ("d", "d", f"d/{STAGING}", ["--format", "png16"]),
        ("c.npz", "c.npz", ".c.npz.partial.depth", []),
    ],
)
@pytest.mark.parametrize("second_mode", [[], ["--overwrite"]])
def test_a_second_export_into_the_same_output_is_refused(
    tmp_path: Path,
    first_out: str,
    second_out: str,
    ready: str,
    extra: list[str],
    second_mode: list[str],
) -> None:
    """Also with ``--overwrite`` (trial AP D2 asked): it replaces an output when no run
    writes it, never one a run is writing."""
    first = _start("export", "demo", str(tmp_path / first_out), "--frames", "100000", *extra)
    try:
        _wait_until(first, tmp_path / ready)
        ran = cli(
            "export", "demo:7", str(tmp_path / second_out), "--frames", "3", *extra, *second_mode
        )
    finally:
        code, err = _end(first)
    assert ran.code == 2, ran.err
    assert ran.err.splitlines() == [
        f"depthview: error: {tmp_path / second_out}: another depthview run is writing it; "
        "wait for that run to end"
    ]
    assert code == 130 and "interrupted: exported" in err, err
    # What is there is the first run's alone: demo (seed 0), not demo:7.
    if first_out == "d":
        frames = sorted((tmp_path / "d").glob("frame-*.png"))
        assert frames and not (tmp_path / "d" / STAGING).exists()
        assert cli("export", str(tmp_path / "d"), str(tmp_path / "back.npz"), "--quiet").code == 0
        kept = np.load(tmp_path / "back.npz")["depth"][0]
        want = tmp_path / "want"
        assert cli("export", "demo", str(want), "--format", "png16", "--frames", "1").code == 0
        assert cli("export", str(want), str(tmp_path / "want.npz"), "--quiet").code == 0
        np.testing.assert_array_equal(kept, np.load(tmp_path / "want.npz")["depth"][0])
    else:
        with np.load(tmp_path / "c.npz") as z, dv.open("demo", fps=0) as demo:
            np.testing.assert_array_equal(z["depth"][0], demo.read().depth)
        assert not list(tmp_path.glob(".c.npz*"))  # nothing left beside the output
    # Once the first has ended, the output is free again.
    again = cli("export", "demo:7", str(tmp_path / second_out), "--frames", "2", "--overwrite")
    assert again.code == 0, again.err


@pytest.mark.parametrize("second_mode", ["--append", "--overwrite"])
def test_a_second_recording_into_the_same_folder_is_refused(
    tmp_path: Path, second_mode: str
) -> None:
    first = _start("record", "demo", str(tmp_path / "r"), "--quiet")
    try:
        _wait_until(first, tmp_path / "r" / "INDEX.txt")
        ran = cli("record", "demo:7", str(tmp_path / "r"), second_mode, "--frames", "2")
    finally:
        code, _ = _end(first)
    assert ran.code == 2 and len(ran.err.splitlines()) == 1, ran.err
    assert "another depthview run is writing it" in ran.err
    assert code == 130


xvfb = pytest.fixture(start_xvfb)


@pytest.mark.xvfb
def test_a_second_viewer_with_the_same_screenshot_is_refused(xvfb: str, tmp_path: Path) -> None:
    """Trial P (P11): a second ``view --screenshot S`` while a first one ran was not refused;
    it wrote S, and the first then said "screenshot: S" over the second's picture. The second
    is refused in one line before it opens anything, and S is the first run's picture: the
    window the X server showed when it was paused and quit."""
    shot = tmp_path / "same.png"
    argv = ["view", "demo", "--screenshot", str(shot)]
    with program_window(argv, xvfb, "depthview - demo") as (proc, window):  # the first run
        ran = cli("view", "demo:7", "--screenshot", str(shot), "--frames", "2")
        wait_for_change(window, capture(window, xvfb), xvfb, timeout=30)  # frames flow
        press_key(window, "space", xvfb)  # pause on the frame shown now
        paused = capture_stable(window, xvfb)
        out = quit_program(proc, window, xvfb)
    assert ran.code == 2, ran.err
    assert ran.err.splitlines() == [
        f"depthview: error: {shot}: another depthview run is writing it; wait for that run to end"
    ]
    assert ran.out == ""
    assert out.splitlines() == [f"screenshot: {shot}"]
    assert_screen_is_saved(paused, shot, "the first run")


def test_a_second_scan_into_the_same_output_is_refused(tmp_path: Path) -> None:
    """Trial AK (D5, LOST): a second ``scan`` to the OUT of one still running wrote its
    files there, and the first one's result was gone (no --overwrite given). The second is
    refused in one line before it reads anything; the first ends as if alone."""
    said = tmp_path / "first.err"
    with said.open("w") as err:
        first = subprocess.Popen(
            [sys.executable, "-m", "depthview", "scan", "demo:walk", "same.ply", "--no-window",
             "--frames", "60"],
            cwd=tmp_path, stderr=err, stdout=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:  # its progress bar: OUT is held, the scan runs
            _wait_until(first, said, lambda: said.stat().st_size > 0)
            ran = cli("scan", "sample", str(tmp_path / "same.ply"), "--no-window", "--quiet")
        finally:  # (run to its end: a Ctrl-C before its first frame fused writes nothing)
            first.wait(timeout=600)
    assert ran.code == 2 and ran.err.splitlines() == [
        f"depthview: error: {tmp_path / 'same.ply'}: another depthview run is writing it; "
        "wait for that run to end"
    ], ran.err
    assert first.returncode == 0, said.read_text()
    params = json.loads((tmp_path / "same-params.json").read_text())
    assert params["source"] == "demo:walk"  # the first run's model, not the second's
