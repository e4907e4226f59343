"""``depthview scan`` as a user runs it (a subprocess): the mesh opens in Open3D, the
trajectory reads back in TUM's format and follows the true path, the parameters are
written, bad input is one line and exit 2, Ctrl-C keeps what was built."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from _helpers_cli import tree_hash
from depthview.scan.files import read_tum
from depthview.scan.tracking import motion
from depthview.scene_walk import walk_pose
from depthview.sources import sample


def scan(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depthview", "scan", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def test_walk_to_ply_trajectory_and_stats(tmp_path: Path) -> None:
    o3d = pytest.importorskip("open3d")
    proc = scan("demo:walk", "room.ply", "--no-window", "--stats", "--frames", "12", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    assert stats["frames"] == 12 and stats["fused"] + stats["lost"] == 12
    assert stats["fused"] == 12
    assert stats["ms_per_frame"] > 0 and stats["startup_s"] > 0 and stats["mesh_s"] > 0
    mesh = o3d.io.read_triangle_mesh(str(tmp_path / "room.ply"))
    assert len(mesh.triangles) == stats["triangles"] > 10_000
    assert len(mesh.vertices) == stats["vertices"]
    assert mesh.has_vertex_colors() and np.asarray(mesh.vertex_colors).std() > 0.05
    poses = read_tum((tmp_path / "room-trajectory.txt").read_text())
    assert len(poses) == 12
    times = [t for t, _ in poses]
    assert times == sorted(times) and times[0] == 0.0
    # The scan's world is its first camera: compare with the true path seen from there.
    start = np.linalg.inv(walk_pose(0))
    for n, (_, pose) in enumerate(poses):
        assert motion(pose, start @ walk_pose(n))[0] < 0.02
    params = json.loads((tmp_path / "room-params.json").read_text())
    assert params["params"]["voxel_m"] == 0.01 and params["source"] == "demo:walk"
    assert "12/12" in proc.stderr  # the progress bar


def test_default_name_and_obj(tmp_path: Path) -> None:
    o3d = pytest.importorskip("open3d")
    proc = scan("demo:walk", "--no-window", "--frames", "3", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    meshes = [n for n in names if n.endswith(".ply")]
    assert len(names) == 3 and len(meshes) == 1 and meshes[0].startswith("scan-")
    stem = meshes[0][:-4]
    assert names == sorted([f"{stem}.ply", f"{stem}-params.json", f"{stem}-trajectory.txt"])
    proc = scan("demo:walk", "m.obj", "--no-window", "--frames", "3", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    mesh = o3d.io.read_triangle_mesh(str(tmp_path / "m.obj"))
    assert len(mesh.triangles) > 1000 and mesh.has_vertex_colors()


def test_a_real_recording(tmp_path: Path) -> None:
    """The shipped Kinect recording (fakenect folder): scanned, and left as it was."""
    rec = sample.write_to(tmp_path / "rec")
    before = tree_hash(rec)
    proc = scan(str(rec), "rec.ply", "--no-window", "--stats", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    assert stats["fused"] > 0 and stats["triangles"] > 1000
    assert tree_hash(rec) == before
    inside = scan(str(rec), str(rec / "x.ply"), "--no-window", "--quiet", cwd=tmp_path)
    assert inside.returncode == 2 and inside.stderr.count("\n") == 1
    assert "is inside the input" in inside.stderr and "Traceback" not in inside.stderr
    assert tree_hash(rec) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo:walk", "o.stl"], "o.stl: expected a mesh file ending in .ply or .obj"),
        (["demo:walk", "no/o.ply"], "expected an existing folder"),
        (
            ["demo:walk", "o.ply", "--truncation", "0.01"],
            "--truncation: expected at least twice --voxel",
        ),
        (["demo:walk", "o.ply", "--near", "5"], "--far: expected more than --near (5 m)"),
        (["demo:walk", "o.ply", "--icp-iterations", "a,b"], "--icp-iterations: expected"),
        (["demo:walk", "o.ply", "--icp-iterations", "0,0"], "--icp-iterations: expected whole"),
        (["missing-folder", "o.ply"], "missing-folder"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    proc = scan(*args, "--no-window", "--quiet", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_existing_output_kept(tmp_path: Path) -> None:
    (tmp_path / "o.ply").write_bytes(b"precious")
    proc = scan("demo:walk", "o.ply", "--no-window", "--frames", "2", "--quiet", cwd=tmp_path)
    assert proc.returncode == 2 and "--overwrite" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert (tmp_path / "o.ply").read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.ply"]


def test_ctrl_c_keeps_what_was_built(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "depthview",
            "scan",
            "demo:walk",
            "cut.ply",
            "--no-window",
            "--stats",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    # The progress bar redraws once a frame: wait for a few frames, then press Ctrl-C.
    while seen.count("frame/s") < 4 and time.monotonic() < deadline:
        chunk = proc.stderr.read(1)
        if not chunk:
            break
        seen += chunk
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, seen + err
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["fused"] >= 1
    poses = read_tum((tmp_path / "cut-trajectory.txt").read_text())
    assert len(poses) == stats["fused"]
    header = (tmp_path / "cut.ply").read_bytes()[:300]
    assert b"element face" in header
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cut-params.json",
        "cut-trajectory.txt",
        "cut.ply",
    ]


def test_model_and_path_to_a_rerun_viewer(tmp_path: Path) -> None:
    """``--to rerun+http://...``: a Rerun receiver (saving what it gets) sees the camera
    path, the camera's pose per frame and the mesh, the last one the same as the file's."""
    from _helpers_sinks import read_rrd, rerun_env
    from depthview.sinks.rerun import free_port, rerun_executable
    from test_stream_live import Running

    env = rerun_env(tmp_path / "home")
    port = free_port()
    saved = tmp_path / "received.rrd"
    receiver = Running(
        [rerun_executable(), "--bind", "127.0.0.1", "--port", str(port), "--save", str(saved)],
        env=env,
    )
    try:
        receiver.wait_for(r"Listening for gRPC connections")
        url = f"rerun+http://127.0.0.1:{port}/proxy"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "depthview",
                "scan",
                "demo:walk",
                "m.ply",
                "--no-window",
                "--frames",
                "4",
                "--quiet",
                "--to",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        time.sleep(1.0)
        receiver.interrupt()
    finally:
        if receiver.proc.poll() is None:
            receiver.proc.kill()
    table = read_rrd(saved, "host_time")
    translations = [
        t for t in table.column("/scan/camera:Transform3D:translation").to_pylist() if t
    ]
    assert len(translations) >= 4
    poses = read_tum((tmp_path / "m-trajectory.txt").read_text())
    np.testing.assert_allclose(translations[-1][0], poses[-1][1][:3, 3], atol=1e-5)
    strips = [s for s in table.column("/scan/path:LineStrips3D:strips").to_pylist() if s]
    assert len(strips[-1][0]) == 4
    meshes = [m for m in table.column("/scan/model:Mesh3D:vertex_positions").to_pylist() if m]
    o3d = pytest.importorskip("open3d")
    written = o3d.io.read_triangle_mesh(str(tmp_path / "m.ply"))
    assert len(meshes[-1]) == len(written.vertices) > 1000


def test_model_to_foxglove_mcap_reads_back(tmp_path: Path) -> None:
    """``Sink.log_model`` on Foxglove: the camera as a FrameTransform, the path and the
    mesh as a SceneUpdate, read back with the mcap reader and the file's own schemas."""
    import depthview as dv
    from _helpers_sinks import read_mcap
    from depthview.frame import Frame
    from depthview.scan import Scanner
    from depthview.scene_walk import WalkScene

    scene, scanner = WalkScene(seed=7), Scanner()
    path = tmp_path / "model.mcap"
    with dv.FoxgloveSink(path) as sink:
        for n in range(3):
            depth, rgb, _ = scene.render(2 * n)
            tracked = scanner.add(Frame(depth=depth, video=rgb, timestamp=n / 15))
            trail = np.array([s.pose[:3, 3] for s in scanner.trajectory], np.float32)
            mesh = scanner.mesh() if n == 2 else None
            sink.log_model(
                n / 15,
                trail,
                tracked.pose,
                None if mesh is None else (mesh.vertices, mesh.triangles, mesh.colours),
            )
    messages = read_mcap(path)
    cameras = [m for _, m in messages["/scan/camera"]]
    assert len(cameras) == 3
    last = scanner.trajectory[-1].pose
    t = cameras[-1].translation
    np.testing.assert_allclose([t.x, t.y, t.z], last[:3, 3], atol=1e-6)
    updates = [m for _, m in messages["/scan/model"]]
    assert [len(u.entities[0].lines[0].points) for u in updates] == [1, 2, 3]
    (model,) = [e for e in updates[-1].entities if e.id == "model"]
    assert mesh is not None
    assert len(model.triangles[0].points) == len(mesh.vertices)
    assert len(model.triangles[0].indices) == 3 * len(mesh.triangles)


def test_model_to_a_foxglove_client(tmp_path: Path) -> None:
    """``--to foxglove:0``: a client connecting as the Foxglove app does gets the camera
    and the model while the scan runs."""
    from _helpers_sinks import decode_advertised, foxglove_receive
    from test_stream_live import Running

    scan_proc = Running(
        [
            sys.executable,
            "-m",
            "depthview",
            "scan",
            "demo:walk",
            str(tmp_path / "m.ply"),
            "--no-window",
            "--frames",
            "12",
            "--quiet",
            "--to",
            "foxglove:0",
        ]
    )
    try:
        url = scan_proc.wait_for(r"Foxglove server at (ws://\S+)").group(1)
        channels, got = foxglove_receive(url, {"/scan/model", "/scan/camera"}, 2, 120)
        assert scan_proc.proc.wait(timeout=300) == 0, scan_proc.rest()
    finally:
        if scan_proc.proc.poll() is None:
            scan_proc.proc.kill()
    camera = decode_advertised(channels["/scan/camera"], got["/scan/camera"][-1][1])
    assert camera.parent_frame_id == "world" and camera.child_frame_id == "camera"
    update = decode_advertised(channels["/scan/model"], got["/scan/model"][-1][1])
    assert update.entities[0].id == "path" and len(update.entities[0].lines[0].points) >= 1
