"""Independent expectations and the tools' own readers for the Rerun and Foxglove tests.

Nothing here uses depthview's sink code: millimetres come from libfreenect's own C code
(FREENECT_DEPTH_MM, the oracle the registration tests build), .rrd files are read with
Rerun's dataframe API, .mcap files with the mcap reader and the schema the file carries,
and the live server with a plain WebSocket client speaking Foxglove's protocol.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import queue
import re
import signal
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

FOXGLOVE_SUBPROTOCOL = "foxglove.sdk.v1"


@cache
def _libfreenect_mm() -> np.ndarray:
    """FREENECT_DEPTH_MM of every raw value 0..2047, from libfreenect's compiled C (default
    registration), as a table; raw values above 2047 read 0."""
    from _registration_cases import PARAMETER_SETS
    from oracle.freenect_oracle import HeldOracle

    oracle = HeldOracle()
    oracle.load(PARAMETER_SETS["default"])
    frame = np.resize(np.arange(2048, dtype=np.uint16), (480, 640))
    table = np.zeros(65536, dtype=np.uint16)
    table[frame.ravel()] = oracle.depth_mm(frame).ravel()
    return table


def expected_mm(raw: np.ndarray) -> np.ndarray:
    """Millimetres for raw 11-bit depth as libfreenect gives them (0 where no reading)."""
    return _libfreenect_mm()[raw]


def ns_of(seconds: float) -> int:
    """Integer nanoseconds of a time as written (its shortest decimal repr), by exact
    fractions: what a file's times must read back as, to the nanosecond."""
    return round(Fraction(repr(float(seconds))) * 1_000_000_000)


def index_ns(recording: Path, prefix: str) -> list[int]:
    """The times of one stream's records (``d``, ``r``, ``a``) in integer nanoseconds, from
    the recording's INDEX.txt names as libfreenect wrote them (microseconds), not via float."""
    times = []
    for name in (recording / "INDEX.txt").read_text().split():
        if name.startswith(prefix + "-"):
            seconds, fraction = name.split("-")[1].split(".")
            times.append(int(seconds) * 1_000_000_000 + int(fraction.ljust(9, "0")))
    return times


def rerun_env(home: Path) -> dict[str, str]:
    """Environment for ``rerun`` processes: a fresh home with its usage analytics off, so
    nothing tries to leave the machine."""
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
    )
    if not (home / ".config" / "rerun" / "analytics.json").exists():
        from depthview.sinks.rerun import rerun_executable

        subprocess.run(
            [rerun_executable(), "analytics", "disable"],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
    return env


def read_rrd(path: Path, index: str) -> Any:
    """The recording in an .rrd as an Arrow table indexed by ``index`` (Rerun's dataframe
    API over the file's chunks)."""
    import warnings

    from rerun.chunk import RrdReader

    with warnings.catch_warnings():
        # A receiver stopped with Ctrl-C writes no footer; the whole-file scan reads it all.
        warnings.filterwarnings("ignore", message="RRD file has no footer")
        store = RrdReader(path).stream().collect()
    return store.reader(index=index).to_arrow_table()


def column(table: Any, name: str) -> list[Any]:
    return list(table.column(name).to_pylist())


def protobuf_class(schema_name: str, file_descriptor_set: bytes) -> Any:
    """The message class a protobuf schema (a FileDescriptorSet, as MCAP and Foxglove's
    WebSocket protocol carry it) describes."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    fds = descriptor_pb2.FileDescriptorSet.FromString(file_descriptor_set)
    pool = descriptor_pool.DescriptorPool()
    for proto in fds.file:
        pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(schema_name))


def read_mcap(path: Path) -> dict[str, list[tuple[int, Any]]]:
    """Every message of an .mcap by topic: (log_time, decoded), protobuf decoded with the
    schema in the file (mcap-protobuf-support), JSON with json.loads."""
    from mcap.reader import make_reader
    from mcap_protobuf.decoder import DecoderFactory

    out: dict[str, list[tuple[int, Any]]] = {}
    factory = DecoderFactory()
    with open(path, "rb") as fh:
        reader = make_reader(fh)
        for schema, channel, message in reader.iter_messages():
            if channel.message_encoding == "json":
                decoded: Any = json.loads(message.data)
            else:
                assert schema is not None
                decoder = factory.decoder_for(channel.message_encoding, schema)
                assert decoder is not None, f"no decoder for {channel.topic}"
                decoded = decoder(message.data)
            out.setdefault(channel.topic, []).append((message.log_time, decoded))
    return out


async def _foxglove_receive(
    url: str, topics: set[str], count: int, seconds: float
) -> tuple[dict[str, dict[str, Any]], dict[str, list[tuple[int, bytes]]]]:
    channels: dict[int, dict[str, Any]] = {}
    by_sub: dict[int, str] = {}
    got: dict[str, list[tuple[int, bytes]]] = {t: [] for t in topics}
    try:
        await asyncio.wait_for(_collect(url, topics, count, channels, by_sub, got), seconds)
    except TimeoutError:
        counts = {topic: len(messages) for topic, messages in got.items()}
        raise AssertionError(
            f"expected {count} messages of each topic within {seconds:g} s, got {counts} "
            f"(subscribed: {sorted(by_sub.values())})"
        ) from None
    return {ch["topic"]: ch for ch in channels.values()}, got


async def _collect(
    url: str,
    topics: set[str],
    count: int,
    channels: dict[int, dict[str, Any]],
    by_sub: dict[int, str],
    got: dict[str, list[tuple[int, bytes]]],
) -> None:
    """Connect as the Foxglove app does, subscribe to ``topics``, fill ``got``."""
    import websockets

    async with websockets.connect(
        url, subprotocols=[FOXGLOVE_SUBPROTOCOL], max_size=None, open_timeout=10
    ) as ws:
        while min(len(v) for v in got.values()) < count:
            message = await ws.recv()
            if isinstance(message, str):
                info = json.loads(message)
                if info["op"] != "advertise":
                    continue
                subs = []
                for ch in info["channels"]:
                    channels[ch["id"]] = ch
                    if ch["topic"] in topics:
                        sub_id = len(by_sub) + 1
                        by_sub[sub_id] = ch["topic"]
                        subs.append({"id": sub_id, "channelId": ch["id"]})
                if subs:
                    await ws.send(json.dumps({"op": "subscribe", "subscriptions": subs}))
            elif message[0] == 0x01:  # Message Data: opcode, subscription, time, payload
                sub_id, receive_time = struct.unpack_from("<IQ", message, 1)
                got[by_sub[sub_id]].append((receive_time, bytes(message[13:])))


def foxglove_receive(
    url: str, topics: set[str], count: int, seconds: float = 60.0
) -> tuple[dict[str, dict[str, Any]], dict[str, list[tuple[int, bytes]]]]:
    """Connect as the Foxglove app does, subscribe to ``topics`` and collect ``count``
    messages of each: (channels by topic, [(log time, payload)] by topic)."""
    return asyncio.run(_foxglove_receive(url, topics, count, seconds))


def decode_advertised(channel: dict[str, Any], payload: bytes) -> Any:
    """A Message Data payload decoded with the schema its channel advertised."""
    if channel["encoding"] == "json":
        return json.loads(payload)
    cls = protobuf_class(channel["schemaName"], base64.b64decode(channel["schema"]))
    return cls.FromString(payload)


class Running:
    """A command in the background whose stderr lines can be awaited."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.proc.stderr is not None
        stream = self.proc.stderr
        threading.Thread(target=lambda: [self.lines.put(ln) for ln in stream], daemon=True).start()

    def wait_for(self, pattern: str, seconds: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no line matching {pattern!r} in {self.seen}")

    def interrupt(self, seconds: float = 30.0) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=seconds)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()

    def rest(self) -> str:
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)


@contextmanager
def rerun_receiver(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """A Rerun viewer listening on a free port and saving what it receives: yields its
    URL, the environment to run senders in and the .rrd it saves; on leaving it is given a
    moment to take the last messages, then interrupted (killed if it hangs)."""
    from depthview.sinks.rerun import free_port, rerun_executable

    env = rerun_env(tmp_path / "home")
    port = free_port()
    saved = tmp_path / "received.rrd"
    receiver = Running(
        [rerun_executable(), "--bind", "127.0.0.1", "--port", str(port), "--save", str(saved)],
        env=env,
    )
    try:
        receiver.wait_for(r"Listening for gRPC connections")
        yield f"rerun+http://127.0.0.1:{port}/proxy", env, saved
        time.sleep(1.0)
        receiver.interrupt()
    finally:
        if receiver.proc.poll() is None:
            receiver.proc.kill()
