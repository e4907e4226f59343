"""``depthview convert`` on an NYU-style scene (640x480 depth + colour, a stereo calibration
with distortion: NYU's), against the straightforward per-frame Python of the public ports,
written here: read the PGM and PPM, byteswap, OpenCV's undistort and undistortPoints,
project, a z-buffer by sorting, PNGs written with Pillow's defaults.

Also: two local Dask workers against one (clusters started before timing, so the ratio is
throughput, not start-up), and the peak memory of one worker converting a 3000-frame scene
(a child process, its own ``ru_maxrss``). Scenes are generated on disk from the shipped
sample's depth frames (hard links keep a long scene cheap to make).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import depthview as dv
from depthview.benchmarking import Result
from depthview.errors import DepthviewError

TESTS = Path(__file__).resolve().parents[1] / "tests"  # the scene generator is the tests'
NYU_FRAMES = 407_024
MEMORY_BUDGET_MB = 300.0


def _write_scene(folder: Path, frames: int) -> None:
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    from _helpers_datasets import write_scene

    write_scene(folder, frames, link=True)


def baseline(scene: Path, out: Path, cal: dv.StereoCalibration, limit: int) -> int:
    """The simple approach, one frame at a time (what the public Python ports do)."""
    import cv2
    from PIL import Image

    (out / "depth").mkdir(parents=True, exist_ok=True)
    (out / "rgb").mkdir(exist_ok=True)
    names = (scene / "INDEX.txt").read_text().split()
    depth = [n for n in names if n.startswith("d-")][:limit]
    video = [n for n in names if n.startswith("r-")]
    video_t = [float(n.split("-")[1]) for n in video]
    kd = np.array([[cal.depth.fx, 0, cal.depth.cx], [0, cal.depth.fy, cal.depth.cy], [0, 0, 1]])
    kc = np.array([[cal.colour.fx, 0, cal.colour.cx], [0, cal.colour.fy, cal.colour.cy], [0, 0, 1]])
    dd = np.array(cal.depth_distortion.as_tuple())
    dc = np.array(cal.colour_distortion.as_tuple())
    rot, trans = cal.rotation_matrix, cal.translation_vector
    for name in depth:
        t = float(name.split("-")[1])
        data = (scene / name).read_bytes()
        raw = np.frombuffer(data[-640 * 480 * 2 :], dtype=">u2").reshape(480, 640).byteswap()
        k = min(range(len(video_t)), key=lambda j: abs(video_t[j] - t))
        vdata = (scene / video[k]).read_bytes()
        rgb = np.frombuffer(vdata[-640 * 480 * 3 :], np.uint8).reshape(480, 640, 3)
        rgb_u = cv2.undistort(rgb, kc, dc)
        metres = dv.to_metres(raw.astype(np.uint16))
        v, u = np.nonzero(np.isfinite(metres))
        z = metres[v, u].astype(np.float64)
        pts = np.stack([u, v], axis=1).astype(np.float64).reshape(-1, 1, 2)
        norm = cv2.undistortPoints(pts, kd, dd).reshape(-1, 2)
        p3 = np.stack([norm[:, 0] * z, norm[:, 1] * z, z], axis=1) @ rot.T + trans
        uc = np.round(kc[0, 0] * p3[:, 0] / p3[:, 2] + kc[0, 2]).astype(int)
        vc = np.round(kc[1, 1] * p3[:, 1] / p3[:, 2] + kc[1, 2]).astype(int)
        ok = (uc >= 0) & (uc < 640) & (vc >= 0) & (vc < 480) & (p3[:, 2] > 0)
        order = np.argsort(-p3[ok, 2])  # far first: the nearest is written last
        aligned = np.zeros((480, 640), np.uint16)
        aligned[vc[ok][order], uc[ok][order]] = np.round(p3[ok, 2][order] * 1000).astype(np.uint16)
        Image.fromarray(aligned).save(out / "depth" / f"{t:.6f}.png")
        Image.fromarray(rgb_u).save(out / "rgb" / f"{video_t[k]:.6f}.png")
    return len(depth)


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def _workers_rate(
    inputs: Path, out: Path, cal: dv.StereoCalibration, n: int, chunk: int
) -> tuple[float, float]:
    """(frames/s, frames per CPU second) of ``n`` local Dask workers, started and warmed
    before the clock starts."""
    from distributed import Client, LocalCluster

    options = {"threads_per_worker": 1, "processes": True, "dashboard_address": ":0"}
    with (
        LocalCluster(n_workers=n, memory_limit=0, **options) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(n)
        address = cluster.scheduler_address
        # Warm every worker (imports, numba's cached loops, the calibration's tables).
        warm = out.with_name(out.name + "-warm")
        dv.convert(inputs, warm, calibration=cal, scheduler=address, chunk_frames=chunk // 4)
        shutil.rmtree(warm, ignore_errors=True)
        start = time.perf_counter()
        summary = dv.convert(inputs, out, calibration=cal, scheduler=address, chunk_frames=chunk)
        seconds = time.perf_counter() - start
    return summary.pairs_kept / seconds, summary.pairs_kept / summary.cpu_seconds


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM), MB."""
    with open("/proc/self/status") as fh:
        status = fh.read().split("VmHWM:")[1]
    return int(status.split()[0]) / 1024.0


def _worker_peak(inputs: Path, out: Path, cal: dv.StereoCalibration) -> float:
    """Peak memory of one Dask worker converting ``inputs`` (a fresh worker process)."""
    from distributed import Client, LocalCluster

    options = {"threads_per_worker": 1, "processes": True, "dashboard_address": ":0"}
    with (
        LocalCluster(n_workers=1, memory_limit=0, **options) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(1)
        dv.convert(inputs, out, calibration=cal, scheduler=cluster.scheduler_address)
        peaks = client.run(_peak_mb)
    return float(max(peaks.values()))


#: The child reports VmHWM (its own peak RSS); ru_maxrss would carry the parent's peak
#: across fork and exec.
_MEMORY_CHILD = """
import sys
import depthview as dv
dv.convert(sys.argv[1], sys.argv[2], calibration=dv.StereoCalibration.nyu())
status = open("/proc/self/status").read().split("VmHWM:")[1]
print(int(status.split()[0]) / 1024.0)
"""


def run(quick: bool = False) -> list[Result]:
    try:
        import cv2  # noqa: F401
    except ImportError:
        raise DepthviewError(
            "bench_convert's baseline needs OpenCV: pip install opencv-python-headless"
        ) from None
    frames = 90 if quick else 400
    base_frames = 20 if quick else 60
    long_frames = 600 if quick else 3000
    cal = dv.StereoCalibration.nyu()
    root = Path(tempfile.mkdtemp(prefix="depthview-bench-convert-"))
    try:
        inputs = root / "in"
        _write_scene(inputs / "scene", frames)
        # warm: numba's compiled loops, the calibration's tables
        dv.convert(inputs, root / "warm", calibration=cal, chunk_frames=10)
        shutil.rmtree(root / "warm")
        base_rate = base_frames / _timed(
            lambda: baseline(inputs / "scene", root / "base", cal, base_frames)
        )
        start = time.perf_counter()
        ours = dv.convert(inputs, root / "ours", calibration=cal)
        ours_rate = frames / (time.perf_counter() - start)
        per_cpu = ours.pairs_kept / ours.cpu_seconds
        nyu_rate = frames / _timed(lambda: dv.convert(inputs, root / "nyu", calibration="nyu"))
        results = [
            Result(
                "convert, one process (stereo, PNG)",
                "frames/s",
                ours_rate,
                base_rate,
                "per-frame Python + OpenCV + Pillow",
                ">= 3x",
                ours_rate >= 3 * base_rate,
                f"{per_cpu:.1f} frames per CPU second; NYU toolbox mode {nyu_rate:.1f} "
                f"frames/s; 407,024 frames = {NYU_FRAMES / per_cpu / 3600:.1f} h on one core",
            )
        ]
        try:
            import distributed  # noqa: F401
        except ImportError:
            have_dask = False
            results.append(
                Result("convert, 2 workers vs 1", "frames/s", 0.0, 0.0, "needs the cluster extra")
            )
        else:
            have_dask = True
            chunk = max(10, frames // 8)
            one, one_cpu = _workers_rate(inputs, root / "w1", cal, 1, chunk)
            two, two_cpu = _workers_rate(inputs, root / "w2", cal, 2, chunk)
            load = os.getloadavg()[0]
            results.append(
                Result(
                    "convert, 2 local workers vs 1",
                    "frames/s",
                    two,
                    one,
                    "1 Dask worker",
                    ">= 1.7x",
                    two >= 1.7 * one,
                    f"per CPU second {one_cpu:.1f} (1 worker) and {two_cpu:.1f} (2); "
                    f"load average {load:.1f} on {os.cpu_count()} cores; 407,024 frames = "
                    f"{NYU_FRAMES / two_cpu / 64 / 60:.0f} min on 64 cores",
                )
            )
        long_in = root / "long"
        _write_scene(long_in / "scene", long_frames)
        proc = subprocess.run(
            [sys.executable, "-c", _MEMORY_CHILD, str(long_in), str(root / "long_out")],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        one_process = float(proc.stdout.split()[-1])
        peak, where = one_process, "one process"
        if have_dask:
            peak, where = _worker_peak(long_in, root / "long_dask", cal), "a Dask worker"
        results.append(
            Result(
                f"convert {long_frames} frames, peak memory",
                "MB",
                peak,
                MEMORY_BUDGET_MB,
                "the 300 MB budget per worker",
                "<= 300 MB",
                peak <= MEMORY_BUDGET_MB,
                f"peak RSS of {where} (one process: {one_process:.0f} MB); "
                "ratio = share of the budget",
            )
        )
        return results
    finally:
        shutil.rmtree(root, ignore_errors=True)
