"""The live-Kinect source against the REAL libfreenect API: Debian's fakenect replaying a
recording, in a subprocess (fakenect keeps global state and calls exit(1) on errors).

No skips: without libfreenect these tests fail, as CI installs it (scripts/bootstrap.sh)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _helpers_sources import FAKENECT_LIB, copy_person, read_pgm, read_ppm, write_recording
from depthview.frame import GRAVITY

pytestmark = pytest.mark.libfreenect

CHILD = r"""
import json, sys, hashlib
import numpy as np
import depthview as dv
from depthview.errors import UnsupportedControl
out = {"frames": [], "unsupported": []}
with dv.open("kinect", timeout=5.0) as src:
    out["name"] = src.name
    for name, call in [("set_flag", lambda: src.set_flag("mirror_depth", True)),
                       ("set_ir_brightness", lambda: src.set_ir_brightness(20)),
                       ("get_ir_brightness", lambda: src.get_ir_brightness())]:
        try:
            call()
        except UnsupportedControl:
            out["unsupported"].append(name)
    for f in src:
        np.save(sys.argv[1] + f"/d{f.index}.npy", f.depth)
        if f.video is not None:
            np.save(sys.argv[1] + f"/v{f.index}.npy", f.video)
        out["frames"].append({"index": f.index, "ts": f.device_timestamp, "accel": f.accel,
                              "tilt": f.tilt_deg, "video": f.video is not None,
                              "fmt": f.depth_format.name})
print(json.dumps(out))
"""


def run_child(recording: Path, outdir: Path) -> dict:
    assert FAKENECT_LIB.exists(), (
        "libfreenect0.5 (fakenect) is not installed: run scripts/bootstrap.sh"
    )
    env = dict(
        os.environ,
        DEPTHVIEW_LIBFREENECT=str(FAKENECT_LIB),
        FAKENECT_PATH=str(recording),
        FAKENECT_LOOP="0",
    )
    outdir.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(outdir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


def test_person_recording_through_fakenect(tmp_path: Path) -> None:
    rec = copy_person(tmp_path)
    out = run_child(rec, tmp_path / "out")
    names = [ln for ln in (rec / "INDEX.txt").read_text().split() if ln.startswith("d-")]
    frames = out["frames"]
    # fakenect paces by recorded times and we read every frame promptly: none dropped.
    assert [f["index"] for f in frames] == list(range(len(names)))
    assert [f["ts"] for f in frames] == [int(n.split("-")[2].split(".")[0]) for n in names]
    for f, name in zip(frames, names, strict=True):
        np.testing.assert_array_equal(
            np.load(tmp_path / "out" / f"d{f['index']}.npy"), read_pgm(rec / name)
        )
        assert f["fmt"] == "RAW_11BIT" and not f["video"]
    assert set(out["unsupported"]) == {"set_flag", "set_ir_brightness", "get_ir_brightness"}


def test_written_recording_with_video_and_accel(tmp_path: Path) -> None:
    w = write_recording(tmp_path / "rec", n=4, dt=0.05)
    out = run_child(w.folder, tmp_path / "out")
    frames = out["frames"]
    assert [f["index"] for f in frames] == [0, 1, 2, 3]
    for i, f in enumerate(frames):
        np.testing.assert_array_equal(
            np.load(tmp_path / "out" / f"d{i}.npy"), read_pgm(w.folder / w.depth_files[i])
        )
        if i > 0:  # index order d, r, a: frame i sees video and accel of frame i-1
            assert f["video"]
            np.testing.assert_array_equal(
                np.load(tmp_path / "out" / f"v{i}.npy"), read_ppm(w.folder / w.video_files[i - 1])
            )
            x, y, z, angle, _ = w.accel[i - 1]
            assert f["accel"] == pytest.approx([v * GRAVITY / 819 for v in (x, y, z)])
            assert f["tilt"] == angle / 2


def test_missing_library_message(tmp_path: Path) -> None:
    env = dict(os.environ, DEPTHVIEW_LIBFREENECT=str(tmp_path / "nope.so"))
    proc = subprocess.run(
        [sys.executable, "-m", "depthview", "info", "kinect"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "DEPTHVIEW_LIBFREENECT" in proc.stderr


def test_fakenect_without_recording_is_refused(tmp_path: Path) -> None:
    env = dict(os.environ, DEPTHVIEW_LIBFREENECT=str(FAKENECT_LIB), FAKENECT_PATH=str(tmp_path))
    code = (
        "import depthview as dv\n"
        "try:\n dv.open('kinect')\nexcept dv.SourceError as e:\n print('ERR', e)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and "FAKENECT_PATH" in proc.stdout


def test_uri_parsing() -> None:
    from depthview.errors import NotMyFormat
    from depthview.sources.kinect import parse_uri

    assert parse_uri("kinect") == 0 and parse_uri("kinect:1") == 1
    assert parse_uri("kinect:A00361A01234") == "A00361A01234"
    with pytest.raises(NotMyFormat):
        parse_uri("kinectx")


STALL_CHILD = r"""
import sys, time
import depthview as dv
src = dv.open("kinect", timeout=1.0)
first = src.read()
start = time.monotonic()
try:
    src.read()
except dv.SourceTimeout as exc:
    print("TIMEOUT", round(time.monotonic() - start, 1), exc)
src.close()
"""


def test_a_stream_that_stops_raises_source_timeout(tmp_path: Path) -> None:
    # fakenect replays by recorded times: an accelerometer record 4 s after the first depth
    # frame makes the real library go quiet for 4 s, longer than the 1 s timeout.
    w = write_recording(tmp_path / "rec", n=2, video=False, accel=False, dt=4.0)
    assert FAKENECT_LIB.exists(), "libfreenect0.5 (fakenect) is not installed"
    env = dict(
        os.environ,
        DEPTHVIEW_LIBFREENECT=str(FAKENECT_LIB),
        FAKENECT_PATH=str(w.folder),
        FAKENECT_LOOP="0",
    )
    proc = subprocess.run(
        [sys.executable, "-c", STALL_CHILD], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("TIMEOUT"))
    assert "expected a frame within 1 s" in line
