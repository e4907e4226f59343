"""SIGTERM (``kill``, ``timeout``, a service manager) ends every command as Ctrl-C does
(trial J, issue 22): ``export`` killed by it left hundreds of MB of hidden spill files and
half a folder in ``.depthview.partial``, and ``record`` exited 0 without a word after 33 of
2000 frames. Now what was made is kept, nothing partial stays, one line says so, exit 130."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import tree_hash

PY = sys.executable


def _terminated(argv: list[str], ready: callable) -> tuple[int, str, str]:  # type: ignore[valid-type]
    """Run ``depthview ARGV``, send SIGTERM once ``ready()``; (code, stdout, stderr)."""
    proc = subprocess.Popen(
        [PY, "-m", "depthview", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def _hidden(folder: Path) -> list[str]:
    return sorted(
        p.name for p in folder.rglob("*") if p.name.startswith(".") or "partial" in p.name
    )


def test_sigterm_over_an_earlier_npz_keeps_it_whole(tmp_path: Path) -> None:
    out = tmp_path / "x.npz"
    args = ["export", "demo", str(out), "--frames", "3", "--quiet"]
    assert subprocess.run([PY, "-m", "depthview", *args], timeout=120).returncode == 0
    before = tree_hash(tmp_path)
    code, _, err = _terminated(
        ["export", "demo", str(out), "--frames", "3000", "--overwrite", "--quiet"],
        lambda: any(p.name != "x.npz" for p in tmp_path.iterdir()),  # spilling has begun
    )
    assert code == 130, err
    assert re.search(r"interrupted", err) and "Traceback" not in err
    assert _hidden(tmp_path) == []
    assert tree_hash(tmp_path) == before  # the earlier export, as it was


def test_sigterm_keeps_a_folders_frames_made(tmp_path: Path) -> None:
    out = tmp_path / "p16"
    code, _, err = _terminated(
        ["export", "demo", str(out), "--format", "png16", "--frames", "3000", "--quiet"],
        lambda: len(list(out.rglob("frame-*.png"))) >= 3,
    )
    assert code == 130, err
    (n,) = map(int, re.findall(r"interrupted: exported (\d+) frames", err))
    assert len(list(out.glob("frame-*.png"))) == n >= 3
    assert _hidden(out) == []


def test_sigterm_ends_a_recording_as_ctrl_c_does(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    index = out / "INDEX.txt"
    code, stdout, err = _terminated(
        ["record", "demo", str(out), "--frames", "2000", "--quiet"],
        lambda: index.exists() and index.read_text().count("d-") >= 3,
    )
    assert code == 130 and stdout == "", err
    (n,) = map(int, re.findall(r"depthview: interrupted: recorded (\d+) frames", err))
    with dv.open(str(out), realtime=False) as src:
        assert len(src) == n >= 3


BLOCKED_EXPORT = r"""
import os, sys, numpy as np, depthview as dv
def frames():
    for i in range(5):
        if i == 2:
            print("blocked", flush=True)
            os.open(sys.argv[1], os.O_RDONLY)  # a named pipe: waits for a writer for ever
        yield dv.Frame(depth=np.full((4, 4), 800 + i, np.uint16), timestamp=1.0 + i, index=i)
print(dv.export(frames(), sys.argv[2], frames=5))
"""


def test_sigterm_ends_an_export_blocked_in_a_read(tmp_path: Path) -> None:
    """Trial O: an export whose next frame was being read from a named pipe (an open that
    waits for ever) took SIGTERM as a request to stop after that frame, so it never ended
    (only a later Ctrl-C did). Now the wait ends at once and the frames before it are kept."""
    pipe, out = tmp_path / "pipe", tmp_path / "x.npz"
    os.mkfifo(pipe)
    proc = subprocess.Popen(
        [PY, "-c", BLOCKED_EXPORT, str(pipe), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "blocked\n", proc.communicate()
    proc.send_signal(signal.SIGTERM)
    try:
        stdout, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("SIGTERM did not end an export blocked in open()") from None
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert stdout.strip() == f"interrupted: exported 2 frames (1 files) to {out}"
    with np.load(out) as archive:
        np.testing.assert_array_equal(
            archive["depth"], [np.full((4, 4), 800), np.full((4, 4), 801)]
        )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("delay", [0.05, 0.1, 0.2, 0.35])
def test_a_signal_while_depthview_starts_is_one_line(sig: int, delay: float) -> None:
    """Trial L: Ctrl-C in the first third of a second (depthview still importing) printed a
    traceback from the middle of an import, and SIGTERM then killed it without a word. The
    console script is the one users run, so it is the one tried. (Before Python itself has
    started no program can take a signal: the delays count from its start, timed here.)"""
    script = Path(sys.executable).with_name("depthview")
    python_start = 0.0  # Python's own start in this venv now (the slowest of 3), which no
    for _ in range(3):  # program can shorten
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", "import signal"], check=True)
        python_start = max(python_start, time.monotonic() - started)
    proc = subprocess.Popen(
        [str(script), "info", "sample", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(python_start + delay)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    if proc.returncode == 130:
        assert err.strip().splitlines()[-1].startswith("depthview: interrupted"), err
    elif proc.returncode == -sig:  # the signal came as Python shut down, its work done
        assert json.loads(out)["frames"] == 20 and not err.strip(), err
    else:  # it ended before the signal came
        assert proc.returncode == 0, err
