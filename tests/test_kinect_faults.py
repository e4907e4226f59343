"""The live Kinect path when the device fails, for real: tests/faults/freenect_faults.c is
compiled here into a libfreenect that wraps Debian's fakenect and makes its calls report no
device, permission denied, device busy, a device unplugged after N frames, or a stall (see
the C file). Each case runs depthview in a subprocess (fakenect keeps global state), under a
timeout: nothing may hang.

No skips: gcc and libfreenect0.5 are installed by scripts/bootstrap.sh, as on CI."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import tree_hash
from _helpers_sources import FAKENECT_LIB, read_pgm, read_ppm, write_recording
from depthview.outputs import STAGING
from depthview.sources import sample
from test_source_kinect import run_child

pytestmark = pytest.mark.libfreenect

SHIM_SOURCE = Path(__file__).parent / "faults" / "freenect_faults.c"
FRAMES = 12  # in the recording the faulty device replays


@pytest.fixture(scope="module")
def fault_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fault library, built against the installed fakenect (its folder is the RUNPATH)."""
    assert shutil.which("gcc"), "gcc is needed to build the fault library (apt install gcc)"
    assert FAKENECT_LIB.exists(), "libfreenect0.5 (fakenect) is not installed"
    # The folder's name must not say "fakenect": depthview would take the library for one.
    out = tmp_path_factory.mktemp("faultlib") / "libfreenect-faults.so"
    subprocess.run(
        [
            "gcc", "-shared", "-fPIC", "-Wall", "-Werror", "-o", str(out), str(SHIM_SOURCE),
            "-ldl", "-Wl,--no-as-needed", str(FAKENECT_LIB), f"-Wl,-rpath,{FAKENECT_LIB.parent}",
        ],
        check=True,
        capture_output=True,
        text=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory):
    """The recording the faulty device replays: depth, video and accelerometer at 30 Hz."""
    return write_recording(tmp_path_factory.mktemp("replayed") / "rec", n=FRAMES, dt=1 / 30)


def run(fault_lib: Path, folder: Path, fault: str, args: list[str], timeout: float = 60):
    env = dict(
        os.environ,
        DEPTHVIEW_LIBFREENECT=str(fault_lib),
        DEPTHVIEW_FAULT=fault,
        FAKENECT_PATH=str(folder),
        FAKENECT_LOOP="0",
        SDL_VIDEODRIVER="dummy",
    )
    start = time.monotonic()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    return proc, time.monotonic() - start


READ_ALL = r"""
import sys, time, depthview as dv
n = 0
try:
    with dv.open("kinect", timeout=float(sys.argv[1])) as src:
        for frame in src:
            n += 1
    print("END", n)
except dv.SourceError as exc:
    print(type(exc).__name__, n, exc)
"""


def read_all(fault_lib: Path, folder: Path, fault: str, timeout: float = 1.0) -> str:
    proc, _ = run(fault_lib, folder, fault, [sys.executable, "-c", READ_ALL, str(timeout)])
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_no_device(fault_lib: Path, replayed) -> None:
    line = read_all(fault_lib, replayed.folder, "no-device")
    assert line.startswith("SourceError 0 no Kinect found: plug it in")
    proc, _ = run(
        fault_lib,
        replayed.folder,
        "no-device",
        [sys.executable, "-m", "depthview", "info", "kinect"],
    )
    assert proc.returncode == 0 and "0 Kinect(s) found" in proc.stdout


@pytest.mark.parametrize(
    ("fault", "uri", "said"),
    [
        ("no-device", "kinect:ABC123", "kinect:ABC123: no Kinect found: plug it in"),
        ("no-device", "kinect:1", "kinect:1: no Kinect found: plug it in"),
        ("", "kinect:1", "kinect:1: expected a device index 0..0, got 1"),  # fakenect's one
    ],
)
def test_info_about_a_kinect_that_is_not_there_is_one_line(
    fault_lib: Path, replayed, fault: str, uri: str, said: str
) -> None:
    """Trial Q 10: ``info kinect:SERIAL`` / ``kinect:INDEX`` for a Kinect that is not there
    listed "0 Kinect(s) found" with exit 0, while ``export``/``record`` of it exit 2. Now it
    is one line naming it, exit 2, as any source that cannot be opened; ``info kinect``
    (no one asked about) still lists."""
    proc, _ = run(
        fault_lib, replayed.folder, fault, [sys.executable, "-m", "depthview", "info", uri]
    )
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"depthview: error: {said}"), proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    proc, _ = run(
        fault_lib, replayed.folder, fault, [sys.executable, "-m", "depthview", "info", "kinect:0"]
    )
    assert proc.returncode == (2 if fault else 0), proc.stderr


def test_permission_denied(fault_lib: Path, replayed) -> None:
    line = read_all(fault_lib, replayed.folder, "permission")
    assert line.startswith("SourceError 0 kinect:0: cannot open: permission denied")
    assert "udev rule" in line and "plugdev" in line and "-3" in line


def test_device_busy(fault_lib: Path, replayed) -> None:
    line = read_all(fault_lib, replayed.folder, "busy")
    assert line.startswith("SourceError 0 kinect:0: cannot open: the Kinect is busy")
    assert "LIBUSB_ERROR_BUSY" in line


def test_unplugged_after_n_frames(fault_lib: Path, replayed) -> None:
    line = read_all(fault_lib, replayed.folder, "unplug:5")
    # Every frame delivered before the device died is read, then the error.
    assert line.startswith("SourceError 5 kinect:0: the Kinect stopped after 5 frames: unplugged")


def test_stall_raises_source_timeout(fault_lib: Path, replayed) -> None:
    proc, seconds = run(
        fault_lib, replayed.folder, "stall:3", [sys.executable, "-c", READ_ALL, "1.0"]
    )
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith("SourceTimeout 3 kinect:0: expected a frame within 1 s, got none")
    assert seconds < 30


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("stall:3", "expected a frame within 3 s, got none"),
        ("unplug:4", "the Kinect stopped after 4 frames"),
    ],
)
def test_viewer_ends_with_the_message(fault_lib: Path, replayed, fault: str, message: str) -> None:
    proc, _ = run(
        fault_lib,
        replayed.folder,
        fault,
        [sys.executable, "-m", "depthview", "view", "kinect", "--frames", "10"],
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("depthview: error: source failed: kinect:0: ")
    assert message in lines[-1]


def test_recording_keeps_every_frame_when_the_device_vanishes(
    fault_lib: Path, replayed, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    proc, _ = run(
        fault_lib,
        replayed.folder,
        "unplug:7",
        [sys.executable, "-m", "depthview", "record", "kinect", str(out)],
    )
    assert proc.returncode == 2
    assert "the Kinect stopped after 7 frames" in proc.stderr
    assert "the recording keeps what arrived: recorded 7 frames" in proc.stderr
    names = (out / "INDEX.txt").read_text().split()
    depth = [n for n in names if n.startswith("d-")]
    video = [n for n in names if n.startswith("r-")]
    assert len(depth) == 7 and len(set(names)) == len(names)
    assert {p.name for p in out.iterdir()} == {*names, "INDEX.txt"}  # no stray partial file
    for i, name in enumerate(depth):  # complete, byte for byte the frames the device sent
        np.testing.assert_array_equal(
            read_pgm(out / name), read_pgm(replayed.folder / replayed.depth_files[i])
        )
    for i, name in enumerate(video):
        np.testing.assert_array_equal(
            read_ppm(out / name), read_ppm(replayed.folder / replayed.video_files[i])
        )
    # Replayable by depthview...
    with dv.open(str(out), realtime=False, strict=True) as src:
        frames = list(src)
    assert len(frames) == 7
    np.testing.assert_array_equal(
        frames[6].depth, read_pgm(replayed.folder / replayed.depth_files[6])
    )
    # ... and by Debian's fakenect itself.
    replay = run_child(out, tmp_path / "replay")
    assert [f["index"] for f in replay["frames"]] == list(range(7))
    for f in replay["frames"]:
        np.testing.assert_array_equal(
            np.load(tmp_path / "replay" / f"d{f['index']}.npy"),
            read_pgm(replayed.folder / replayed.depth_files[f["index"]]),
        )


def _interrupted_before_the_first_frame(fault_lib: Path, replayed, argv: list[str], ready: Path):
    """``depthview ARGV`` on a Kinect that never sends a frame (``stall:0``), sent Ctrl-C
    once ``ready`` exists (the recording's folder made and its INDEX.txt open): the signal
    always comes before the first frame, however slow the machine."""
    env = dict(
        os.environ,
        DEPTHVIEW_LIBFREENECT=str(fault_lib),
        DEPTHVIEW_FAULT="stall:0",
        FAKENECT_PATH=str(replayed.folder),
        FAKENECT_LOOP="0",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "depthview", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def test_ctrl_c_before_the_first_frame_keeps_the_earlier_recording(
    fault_lib: Path, replayed, tmp_path: Path
) -> None:
    """Trial O: Ctrl-C before the first frame of ``record --overwrite`` replaced the earlier
    recording with an empty INDEX.txt (not a recording: ``info`` refused it)."""
    out = tmp_path / "ro"
    sample.write_to(out)
    before = tree_hash(out)
    code, stdout, err = _interrupted_before_the_first_frame(
        fault_lib,
        replayed,
        ["record", "kinect", str(out), "--overwrite"],
        out / STAGING / "INDEX.txt",
    )
    assert code == 130 and stdout == "", err
    assert err.strip().splitlines()[-1] == (
        f"depthview: interrupted: nothing recorded: {out} stays as it was"
    ), err
    assert tree_hash(out) == before  # the earlier recording, as it was (nothing hidden left)


def test_ctrl_c_before_the_first_frame_leaves_no_folder(
    fault_lib: Path, replayed, tmp_path: Path
) -> None:
    """Trial O: without --overwrite it left a folder holding an empty INDEX.txt, which a
    later ``record`` into it refused without --overwrite."""
    out = tmp_path / "rn"
    code, stdout, err = _interrupted_before_the_first_frame(
        fault_lib, replayed, ["record", "kinect", str(out)], out / "INDEX.txt"
    )
    assert code == 130 and stdout == "", err
    assert err.strip().splitlines()[-1] == (
        f"depthview: interrupted: nothing recorded: {out} was not made"
    ), err
    assert not out.exists()


@pytest.mark.parametrize("command", ["record", "export"])
def test_sigterm_while_the_kinect_is_quiet_ends_at_once(
    fault_lib: Path, replayed, tmp_path: Path, command: str
) -> None:
    """Trial O: SIGTERM while ``export`` waited for a frame that never came was only noted
    (the soft stop's flag), so the wait went on: for ever on a named pipe, here until the
    Kinect's timeout, which then failed the run (exit 2) instead of ending it as asked. Now
    the wait ends at once: the frames before it are kept, one line, exit 130."""
    out = tmp_path / "out"
    argv = ["record", "kinect", str(out)]
    if command == "export":
        argv = ["export", "kinect", str(out), "--format", "png16", "--frames", "10"]
    env = dict(
        os.environ,
        DEPTHVIEW_LIBFREENECT=str(fault_lib),
        DEPTHVIEW_FAULT="stall:1",  # one frame, then nothing (the timeout is 3 s)
        FAKENECT_PATH=str(replayed.folder),
        FAKENECT_LOOP="0",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "depthview", *argv, "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def made() -> int:  # frames written: the recording's depth lines, the export's files
        index = out / "INDEX.txt"
        if command == "record":
            return index.read_text().count("d-") if index.exists() else 0
        return len(list(out.rglob("frame-*.png")))

    while made() < 1 and proc.poll() is None:
        time.sleep(0.02)
    time.sleep(0.5)  # the frame written, the next one waited for
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert (
        err.strip().splitlines()[-1].startswith(f"depthview: interrupted: {command}ed 1 frames")
    ), err
    assert "expected a frame within" not in err
    if command == "record":
        with dv.open(str(out), realtime=False, strict=True) as src:
            assert len(src) == 1
    else:
        assert len(list(out.glob("frame-*.png"))) == 1
