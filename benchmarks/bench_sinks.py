"""Streaming to Rerun and Foxglove against the way a user would write it with the same SDK,
and export to .rrd/.mcap against plain .npz of the same frames.

Streaming: 640x480 depth + RGB at 30 frames/s for 60 s (10 s with --quick) to a live
receiver on loopback in another process (a ``rerun`` process saving what it receives; a
Foxglove WebSocket client subscribed as the app would be). The sending thread's CPU time
(``time.thread_time``) is summed around each send; a frame is lost when the receiver does not
get it, and sent late when the sender is a whole frame period behind (jitter on a busy
machine: it still arrives). The naive way converts raw
depth to float metres each frame with the published fit and logs that with the SDK's own
types (``rr.DepthImage(metres, meter=1)`` + ``rr.Image``; Foxglove ``RawImage`` in
``32FC1`` + ``rgb8``), with the accelerometer and tilt as the SDK's scalars or JSON so both
sides send the same streams, measured the same way for a quarter of the time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

import depthview as dv
from depthview.benchmarking import Result
from depthview.frame import Stamp

FPS = 30.0
FIT_A, FIT_B = -0.0030711016, 3.3309495161


def _demo_frames(n: int) -> list[dv.Frame]:
    with dv.open("demo", fps=0, frames=n) as src:
        return list(src)


def _endless(base: list[dv.Frame], n: int) -> Iterator[dv.Frame]:
    """``n`` frames cycling through ``base``, each with its own index and times."""
    for i in range(n):
        f = base[i % len(base)]
        stamp = Stamp(i, i / FPS, (i * 2_000_000) & 0xFFFFFFFF)
        records = tuple(dataclasses.replace(r, stamp=stamp) for r in f.records)
        yield dataclasses.replace(
            f,
            index=i,
            timestamp=stamp.host_time,
            device_timestamp=stamp.device_timestamp,
            video_stamp=stamp,
            accel_stamp=stamp,
            records=records,
        )


def _paced(send: Callable[[dv.Frame], None], frames: Iterator[dv.Frame], n: int) -> tuple:
    """Send at 30 frames/s: (sending-thread CPU s/frame, process CPU s/frame, late frames)."""
    late = 0
    cpu = 0.0
    proc0 = time.process_time()
    start = time.perf_counter()
    for i, frame in enumerate(frames):
        due = start + i / FPS
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        elif now - due > 1.0 / FPS:
            late += 1
        c0 = time.thread_time()
        send(frame)
        cpu += time.thread_time() - c0
    return cpu / n, (time.process_time() - proc0) / n, late


def _naive_metres(raw: np.ndarray) -> np.ndarray:
    metres = 1.0 / (raw * FIT_A + FIT_B)
    metres[raw >= 2047] = 0.0
    return metres


# -- Rerun --------------------------------------------------------------------------------
def _rerun_env(home: Path) -> dict[str, str]:
    """A private home for the receiving ``rerun`` with its usage analytics off."""
    from depthview.sinks.rerun import rerun_executable

    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    env["XDG_DATA_HOME"] = str(home / ".local" / "share")
    subprocess.run([rerun_executable(), "analytics", "disable"], env=env, capture_output=True)
    return env


class _RerunReceiver:
    def __init__(self, root: Path, name: str, env: dict[str, str]) -> None:
        from depthview.sinks.rerun import free_port, rerun_executable

        self.port = free_port()
        self.path = root / f"{name}.rrd"
        cmd = [rerun_executable(), "--bind", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*cmd, "--save", str(self.path)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        import socket

        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        self.url = f"rerun+http://127.0.0.1:{self.port}/proxy"

    def stop(self) -> None:
        time.sleep(1.0)
        self.proc.send_signal(2)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def depth_rows(self, entity: str) -> int:
        """Rows of ``entity`` in what the receiver saved, chunk by chunk."""
        import warnings

        from rerun.chunk import RrdReader

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="RRD file has no footer")
            reader = RrdReader(self.path)
            chunks = reader.stream()
            return sum(c.num_rows for c in chunks if c.entity_path == entity and not c.is_static)


def _rerun_stream(base: list[dv.Frame], seconds: float, root: Path) -> Result:
    import rerun as rr

    env = _rerun_env(root / "home")
    n, n_naive = int(seconds * FPS), int(seconds * FPS / 4)
    receiver = _RerunReceiver(root, "ours", env)
    frames = _endless(base, n + 1)
    with dv.RerunSink(receiver.url) as sink:
        sink.log(next(frames))  # first-use costs (the SDK's, the lookup's) before timing
        ours = _paced(sink.log, frames, n)
    receiver.stop()
    received = receiver.depth_rows("/kinect/depth") - 1  # less the warm-up frame
    receiver.path.unlink()

    naive_receiver = _RerunReceiver(root, "naive", env)
    rec = rr.RecordingStream("naive", recording_id=uuid.uuid4())
    rec.connect_grpc(naive_receiver.url)

    def naive(frame: dv.Frame) -> None:
        rec.set_time("frame", sequence=frame.index)
        rec.log("kinect/depth", rr.DepthImage(_naive_metres(frame.depth), meter=1.0))
        rec.log("kinect/rgb", rr.Image(frame.video))
        rec.log("kinect/accel", rr.Scalars(frame.accel))
        rec.log("kinect/tilt", rr.Scalars([frame.tilt_deg]))

    naive_frames = _endless(base, n_naive + 1)
    naive(next(naive_frames))
    base_cost = _paced(naive, naive_frames, n_naive)
    rec.flush()
    rec.disconnect()
    naive_receiver.stop()
    return _stream_result("rerun", seconds, n, received, ours, base_cost)


# -- Foxglove -----------------------------------------------------------------------------
def _client_main(url: str, topic: str, seconds: float) -> None:
    """Run in a separate process: subscribe to ``topic`` and print the log times received."""
    import websockets

    async def main() -> list[int]:
        times: list[int] = []
        async with websockets.connect(url, subprotocols=["foxglove.sdk.v1"], max_size=None) as ws:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    msg = await asyncio.wait_for(ws.recv(), 5.0 if times else seconds)
                except (TimeoutError, websockets.ConnectionClosed):
                    break
                if isinstance(msg, str):
                    info = json.loads(msg)
                    if info["op"] == "advertise":
                        ids = [c["id"] for c in info["channels"] if c["topic"] == topic]
                        if ids:
                            sub = {"id": 1, "channelId": ids[0]}
                            await ws.send(json.dumps({"op": "subscribe", "subscriptions": [sub]}))
                            print("subscribed", flush=True)
                elif msg[0] == 1:
                    times.append(struct.unpack_from("<Q", msg, 5)[0])
        return times

    print(json.dumps(asyncio.run(main())), flush=True)


class _FoxgloveClient:
    def __init__(self, url: str, topic: str, seconds: float) -> None:
        code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        code += f"import bench_sinks as b; b._client_main({url!r}, {topic!r}, {seconds})"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None

    def wait_subscribed(self, poke: Callable[[], None]) -> None:
        """Log ``poke`` (which advertises the channels) until the client says it subscribed."""
        assert self.proc.stdout is not None
        poke()
        line = self.proc.stdout.readline()
        assert line.strip() == "subscribed", line
        time.sleep(0.5)

    def times(self) -> set[int]:
        out, _ = self.proc.communicate(timeout=120)
        return set(json.loads(out.strip().splitlines()[-1]))


def _foxglove_stream(base: list[dv.Frame], seconds: float) -> Result:
    import foxglove
    from foxglove.channels import RawImageChannel
    from foxglove.messages import RawImage, Timestamp

    n, n_naive = int(seconds * FPS), int(seconds * FPS / 4)
    frames = _endless(base, n + 1)
    with dv.FoxgloveSink(port=0) as sink:
        client = _FoxgloveClient(sink.where, "/kinect/depth/image", seconds + 60)
        warmup = next(frames)
        client.wait_subscribed(lambda: sink.log(warmup))
        ours = _paced(sink.log, frames, n)
        time.sleep(2.0)
    got = client.times()
    received = sum(round(i / FPS * 1e9) in got for i in range(1, n + 1))

    ctx = foxglove.Context()
    server = foxglove.start_server(host="127.0.0.1", port=0, context=ctx)
    depth_ch = RawImageChannel("/depth", context=ctx)
    rgb_ch = RawImageChannel("/rgb", context=ctx)
    accel_ch = foxglove.Channel("/accel", message_encoding="json", context=ctx)

    def naive(frame: dv.Frame) -> None:
        metres = _naive_metres(frame.depth).astype(np.float32)
        stamp = Timestamp.from_epoch_secs(frame.timestamp)
        depth_ch.log(
            RawImage(
                timestamp=stamp,
                width=640,
                height=480,
                encoding="32FC1",
                step=2560,
                data=metres.tobytes(),
            )
        )
        rgb_ch.log(
            RawImage(
                timestamp=stamp,
                width=640,
                height=480,
                encoding="rgb8",
                step=1920,
                data=frame.video.tobytes(),  # type: ignore[union-attr]
            )
        )
        x, y, z = frame.accel  # type: ignore[misc]
        accel_ch.log({"x": x, "y": y, "z": z, "tilt_deg": frame.tilt_deg})

    naive_frames = _endless(base, n_naive + 1)
    naive_client = _FoxgloveClient(f"ws://127.0.0.1:{server.port}", "/depth", seconds + 60)
    first = next(naive_frames)
    naive_client.wait_subscribed(lambda: naive(first))
    base_cost = _paced(naive, naive_frames, n_naive)
    time.sleep(2.0)
    server.stop()
    naive_client.times()
    return _stream_result("foxglove", seconds, n, received, ours, base_cost)


def _stream_result(
    tool: str, seconds: float, n: int, received: int, ours: tuple, naive: tuple
) -> Result:
    ratio = naive[0] / ours[0]
    lost = n - received
    return Result(
        f"stream {tool} 640x480 d+RGB 30/s",
        "frames/CPU-s",
        1.0 / ours[0],
        1.0 / naive[0],
        "raw->float metres + SDK image types",
        target=">= 3x cheaper per frame, no frame lost",
        met=ratio >= 3.0 and lost == 0,
        extra=(
            f"{seconds:.0f} s, {received}/{n} received, {lost} lost, {ours[2]} sent late; "
            "sending thread "
            f"{ours[0] * 1e3:.2f} vs {naive[0] * 1e3:.2f} ms/frame; whole process "
            f"{ours[1] * 1e3:.2f} vs {naive[1] * 1e3:.2f} ms/frame"
        ),
    )


# -- export -------------------------------------------------------------------------------
def _export_rate(frames: list[dv.Frame], root: Path, name: str, rounds: int) -> float:
    best = 0.0
    for _ in range(rounds):
        out = root / name
        t0 = time.perf_counter()
        dv.export(frames, out, overwrite=True)
        best = max(best, len(frames) / (time.perf_counter() - t0))
        out.unlink()
    return best


def run(quick: bool = False) -> list[Result]:
    seconds = 10.0 if quick else 60.0
    base = _demo_frames(30)
    root = Path(tempfile.mkdtemp(prefix="dv-bench-sinks-"))
    try:
        results = [_rerun_stream(base, seconds, root), _foxglove_stream(base, seconds)]
        frames = list(_endless(base, 60 if quick else 150))
        rounds = 2 if quick else 3
        npz = _export_rate(frames, root, "frames.npz", rounds)
        for suffix in (".rrd", ".mcap"):
            ours = _export_rate(frames, root, f"frames{suffix}", rounds)
            results.append(
                Result(
                    f"export {suffix} 640x480 d+RGB",
                    "frames/s",
                    ours,
                    npz,
                    "export .npz of the same frames",
                    target="(report)",
                    met=None,
                    extra=f"{len(frames)} frames",
                )
            )
        return results
    finally:
        shutil.rmtree(root, ignore_errors=True)
