"""``convert`` on a real Dask cluster on loopback: a ``dask scheduler`` and two ``dask worker``
processes of this venv. One worker is killed (SIGKILL) while it converts; the scheduler runs
its units again on the other, and the output is identical, file for file, to a run in one
process. Also: ``--workers 2`` (a local cluster) gives the same files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import depthview as dv
from _helpers_datasets import write_scene

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dask") / "in"
    for k in range(3):
        write_scene(root / f"scene_{k}", 8, seed=k)
    return root


@pytest.fixture(scope="module")
def reference(scenes: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("ref") / "out"
    dv.convert(scenes, out, calibration="nyu", chunk_frames=2)
    return _files(out)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "dask.log", "wb")  # noqa: SIM115
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [
        subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--no-dashboard"],
            stdout=log, stderr=log, env=env,
        )
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    for _ in range(2):
        procs.append(
            subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--memory-limit", "0", "--host", "127.0.0.1"],
                stdout=log, stderr=log, env=env,
            )
        )  # fmt: skip
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=60)
    try:
        yield address, procs[1:]
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


def test_a_killed_worker_leaves_the_same_dataset(
    scenes: Path,
    reference: dict[str, bytes],
    cluster: tuple[str, list[subprocess.Popen[bytes]]],
    tmp_path: Path,
) -> None:
    address, workers = cluster
    out = tmp_path / "out"
    killed: list[int] = []

    def kill_a_busy_worker() -> None:
        """Once units are being written, SIGKILL a worker that is running one."""
        from distributed import Client

        with Client(address, timeout="30s") as client:
            pids = client.run(os.getpid)  # worker address -> its process id
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                busy = [w for w, keys in client.processing().items() if keys]
                if busy and any(out.glob(".*.partial/depth/*.png")):
                    pid = pids[busy[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
                time.sleep(0.01)

    watcher = threading.Thread(target=kill_a_busy_worker, daemon=True)
    watcher.start()
    summary = dv.convert(scenes, out, calibration="nyu", chunk_frames=2, scheduler=address)
    watcher.join()
    assert killed and killed[0] in [w.pid for w in workers]
    victim = next(w for w in workers if w.pid == killed[0])
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert summary.engine == f"Dask cluster at {address}"
    assert sorted(summary.done) == ["scene_0", "scene_1", "scene_2"] and not summary.failed
    assert _files(out) == reference


def test_local_workers_and_the_environment_variable(
    scenes: Path, reference: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    out = tmp_path / "out"
    summary = dv.convert(scenes, out, calibration="nyu", chunk_frames=2, workers=2)
    assert summary.engine == "2 local worker processes (Dask)"
    assert _files(out) == reference


def test_more_workers_than_cores_are_capped_with_one_line(scenes: Path, tmp_path: Path) -> None:
    cores = len(os.sched_getaffinity(0))
    done = subprocess.run(
        [sys.executable, "-m", "depthview", "convert", "--quiet", "--workers", "64",
         str(scenes), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == (
        f"depthview: warning: --workers 64: this machine has {cores} core(s); running "
        f"{cores} worker(s)"
    )
    assert f"({cores} local worker processes (Dask))" in done.stdout or cores == 1


@pytest.mark.parametrize("when", ["while the workers start", "while converting"])
def test_ctrl_c_with_workers_is_one_line_and_exit_130(tmp_path: Path, when: str) -> None:
    """Ctrl-C as a terminal sends it: to the whole process group (depthview and its Dask
    worker processes). Only depthview answers, in one line; no worker prints a traceback."""
    write_scene(tmp_path / "in" / "long", 400, link=True)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "depthview", "convert", "--quiet", "--workers", "2",
         str(tmp_path / "in"), str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    ready = (
        (lambda: out.is_dir())
        if when == "while the workers start"
        else (lambda: any(out.glob(".*.partial/depth/*.png")))
    )
    while not ready() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip() == "depthview: interrupted", err
    assert not (out / "long").exists()  # the scene was not finished: nothing final of it
