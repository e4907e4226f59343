"""Frames to Rerun (extra ``rerun``): a spawned viewer, a viewer on another machine, Rerun's
web viewer served from this machine, or an ``.rrd`` file.

Under ``kinect/`` (``kinect/<device>/`` for several Kinects): ``depth`` is a ``DepthImage``
in millimetres (meter 1000, turbo over the Kinect's range) under a ``Pinhole`` with the
depth camera's intrinsics, so the viewer also shows it as points in 3D; ``rgb`` or ``ir``
an ``Image``; ``accel`` (x, y, z in m/s^2) and ``tilt`` (degrees) are ``Scalars``. Times go
on the ``host_time`` and ``device_time`` timelines; Rerun's own ``log_time`` is off, so the
timeline is the recording's.

Images are handed to Rerun as Arrow arrays over the frame's own memory (no copy), with their
format cached per size: Rerun keeps a reference until it has sent them, which is safe
because a ``Frame``'s arrays are never written again.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import numpy as np
import numpy.typing as npt

from .._checks import PORT, whole
from ..errors import SinkError
from ..geometry import Intrinsics
from ..registration import Registration
from .base import Sink, require
from .content import (
    DEPTH_RANGE_M,
    MM_PER_METRE,
    AccelItem,
    DepthItem,
    ModelItem,
    Names,
    Times,
    VideoItem,
)
from .rrd_pipe import RrdPipe
from .targets import (
    RERUN_GRPC_PORT,
    RERUN_WEB_PORT,
    WILDCARD_HOSTS,
    parse_target,
    shown_host,
    url_host,
)

#: Bounded waits: a viewer to accept a connection, a spawned viewer to start listening,
#: what was sent to reach a viewer or server when the sink closes.
CONNECT_SECONDS = 3.0
SPAWN_SECONDS = 6.0
VIEWER_GRACE_SECONDS = 2.0
FLUSH_SECONDS = 3.0
#: Raw 11-bit disparity spans 0..2047 (2047 = no reading).
RAW_RANGE = (0.0, 2047.0)


class _ArrowBatch:
    """A ready Arrow array as Rerun's ``ComponentBatchLike``."""

    def __init__(self, array: Any) -> None:
        self._array = array

    def as_arrow_array(self) -> Any:
        return self._array


def rerun_executable() -> str:
    """The ``rerun`` program that ships with rerun-sdk (``RERUN_CLI_PATH`` overrides it)."""
    override = os.environ.get("RERUN_CLI_PATH")
    if override:
        return override
    cli = require("rerun_cli", "rerun")
    return str(Path(cli.__file__).parent / "rerun")


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _wait_listening(host: str, port: int, proc: subprocess.Popen[bytes], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.2):
            return True
        time.sleep(0.05)
    return False


def _still_running(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    """A viewer that cannot draw (no usable OpenGL) listens, then exits within moments."""
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return True
    return False


#: Spawned viewers, which outlive the stream that started them.
_DETACHED: list[subprocess.Popen[bytes]] = []


def _port_free(host: str, port: int, what: str) -> None:
    """Refuse a port another program listens on (a second ``stream`` would feed it)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            why = (  # only a port in use is another program's doing (trial AC)
                "another program (another depthview stream?) uses it: pick other ports"
                if exc.errno == errno.EADDRINUSE
                else f"{host} is no address of this machine (--host: one of its addresses, or "
                "0.0.0.0 for all of them)"
                if exc.errno == errno.EADDRNOTAVAIL
                else "pick other ports, or another --host"
            )
            raise SinkError(
                f"{what}: cannot listen on {host}:{port} ({exc.strerror or exc}); {why}"
            ) from None


#: HTTP/2's client preface and an empty SETTINGS frame: a gRPC server (a Rerun viewer)
#: answers with a SETTINGS frame of its own (RFC 9113, 3.4).
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
_H2_SETTINGS = 4


def _answer(sock: socket.socket) -> str | None:
    """What is wrong with the listener on ``sock`` as a gRPC server, or None: it must answer
    HTTP/2's preface with a SETTINGS frame. One that took the connection and said nothing
    made the SDK's sends fill its queue and block every thread (trial R)."""
    try:
        sock.sendall(_H2_PREFACE)
        head = b""
        while len(head) < 9:
            chunk = sock.recv(9 - len(head))
            if not chunk:
                return "a listener that closed the connection"
            head += chunk
    except TimeoutError:
        return f"a listener that did not answer as a gRPC server within {CONNECT_SECONDS:.0f} s"
    except OSError as exc:
        return f"a listener that failed ({exc.strerror or exc})"
    if head[3] != _H2_SETTINGS:
        return "a listener that does not speak gRPC"
    return None


def _reachable(url: str) -> None:
    """A viewer at ``rerun+http://HOST:PORT/proxy`` must accept a connection and answer as a
    gRPC server, each within ``CONNECT_SECONDS``: the SDK would retry in the background, or
    wait on a listener that says nothing, then fail at the end."""
    parts = urlsplit(url.removeprefix("rerun+"))
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else RERUN_GRPC_PORT)
    try:
        with socket.create_connection((host, port), CONNECT_SECONDS) as sock:
            # https: the answer comes after TLS's handshake, which the SDK makes itself
            why = None if parts.scheme == "https" else _answer(sock)
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
    if why is not None:
        raise SinkError(
            f"--to {url}: expected a Rerun viewer listening there, got {why}; start `rerun` "
            "on that machine, or check the address"
        )


class _Connection:
    """A recording's connection to a viewer or server, held from the connect to the
    disconnect by a thread of its own, which flushes and disconnects when ``finish`` asks.

    Rerun's calls do not return to Python while they wait, and its disconnect (also run when
    the recording is dropped, and by Rerun's exit handler) waits for ever on a listener that
    took the connection but no data: trial R met the error line, then a hang that SIGTERM
    could not end. Here every wait is bounded and can be interrupted (Ctrl-C, SIGTERM), and
    the thread's reference keeps the recording from being dropped, wherever a signal came.
    Rerun's exit handler is replaced by ``_at_exit``, which runs it only when every
    connection ended."""

    opened: ClassVar[list[_Connection]] = []

    def __init__(self, rec: Any) -> None:
        self._go, self.flushed, self.ended = threading.Event(), threading.Event(), threading.Event()
        self.failure: list[BaseException] = []
        if not _Connection.opened:
            require("rerun", "rerun").unregister_shutdown()
            atexit.register(_at_exit)
        _Connection.opened.append(self)
        threading.Thread(target=self._run, args=(rec,), name="rerun", daemon=True).start()

    def _run(self, rec: Any) -> None:
        self._go.wait()
        try:
            rec.flush(timeout_sec=FLUSH_SECONDS)
        except BaseException as exc:  # said by ``finish``
            self.failure.append(exc)
        self.flushed.set()
        rec.disconnect()
        self.ended.set()

    def finish_later(self) -> bool:
        """Start finishing, unless that was asked before: whether it was not."""
        asked = self._go.is_set()
        self._go.set()
        return not asked

    def finish(self) -> None:
        """Flush and disconnect, each within ``FLUSH_SECONDS``; raises what went wrong."""
        self._go.set()
        if not self.flushed.wait(FLUSH_SECONDS + VIEWER_GRACE_SECONDS):
            raise TimeoutError("flush timed out")
        if self.failure:
            raise self.failure[0]
        if not self.ended.wait(FLUSH_SECONDS):
            raise TimeoutError(
                "what listens there took the connection but not the data: no Rerun viewer?"
            )


def stuck_at_exit() -> bool:
    """The exit's wait (``_at_exit``), run now: whether a connection is still stuck after
    it. Its thread waits in Rerun's native code, which Python's own ending then breaks off
    with an abort (exit -6, "terminate called without an active exception", met under load
    after SIGTERM): the command line ends the process itself when this is so."""
    _at_exit()
    return not all(c.ended.is_set() for c in _Connection.opened)


def _at_exit() -> None:
    """Connections never finished (a sink not closed, a signal before its close) get
    ``FLUSH_SECONDS`` in all; one whose ``finish`` failed is not waited for again. Rerun's
    own exit handler then runs only if they all ended: it would wait for ever on one that
    did not. Once: the command line may run it before the exit does."""
    if _AT_EXIT_RAN:
        return
    _AT_EXIT_RAN.append(True)
    deadline = time.monotonic() + FLUSH_SECONDS
    waited = [c for c in _Connection.opened if c.finish_later()]
    for connection in waited:
        connection.ended.wait(max(0.0, deadline - time.monotonic()))
    if all(c.ended.is_set() for c in _Connection.opened):
        require("rerun", "rerun").rerun_shutdown()


#: Whether ``_at_exit`` ran (a list: set from a function without ``global``).
_AT_EXIT_RAN: list[bool] = []


class RerunSink(Sink):
    """Send frames to Rerun.

    ``to`` is ``"spawn"`` (a viewer on this machine), ``"web"`` (serve Rerun's web viewer on
    ``host:web_port``, open ``sink.where`` in a browser), a ``rerun+http://HOST:PORT/proxy``
    URL (a viewer on another machine) or a file (a ``Path``, or a name ending in ``.rrd``).
    ``recording`` logs into your own ``rr.RecordingStream`` instead. ``host`` is
    ``127.0.0.1`` unless you want other machines to reach the web viewer (``0.0.0.0``).
    ``raw_depth`` adds ``depth_raw`` with the raw 11-bit values; ``depth_range`` (metres)
    sets the colour map's span.
    """

    def __init__(
        self,
        to: str | os.PathLike[str] = "spawn",
        *,
        host: str = "127.0.0.1",
        web_port: int = RERUN_WEB_PORT,
        grpc_port: int = RERUN_GRPC_PORT,
        device: str | int | None = None,
        raw_depth: bool = False,
        intrinsics: Intrinsics | None = None,
        registration: Registration | None = None,
        depth_range: tuple[float, float] = DEPTH_RANGE_M,
        colormap: str = "turbo",
        overwrite: bool = False,
        recording: Any = None,
        application_id: str = "depthview",
    ) -> None:
        web_port = whole("web_port", web_port, PORT)  # (trial AR D10: an OverflowError)
        grpc_port = whole("grpc_port", grpc_port, PORT)
        rr = require("rerun", "rerun")
        self._pa = require("pyarrow", "rerun")
        super().__init__(
            device=device, raw_depth=raw_depth, intrinsics=intrinsics, registration=registration
        )
        if not 0 <= depth_range[0] < depth_range[1]:
            raise SinkError(f"depth_range: expected 0 <= NEAR < FAR metres, got {depth_range}")
        self._rr = rr
        self._depth_range = (depth_range[0] * MM_PER_METRE, depth_range[1] * MM_PER_METRE)
        names = sorted(c.name.lower() for c in rr.components.Colormap)
        if not isinstance(colormap, rr.components.Colormap) and (
            not isinstance(colormap, str) or colormap.lower() not in names
        ):  # (trial AR D3: taken, then only Rerun's own warning at every frame)
            raise SinkError(f"colormap: expected one of {', '.join(names)}, got {colormap!r}")
        self._colormap = colormap
        self._server: subprocess.Popen[bytes] | None = None
        self._detach = False
        self._announced: set[tuple[str, int, int]] = set()
        self._formats: dict[tuple[str, int, int, str | None, str], Any] = {}
        self._offsets: dict[int, Any] = {}
        self._times_set: tuple[int, int | None] | None = None
        # Rerun's ImageBuffer: a list of bytes per row.
        self._blob_type = self._pa.list_(self._pa.field("item", self._pa.uint8(), nullable=False))
        self.url: str | None = None
        self._pipe: RrdPipe | None = None  # an .rrd file's (``_open``)
        self._connection: _Connection | None = None  # a viewer's or server's (``_open``)
        if recording is not None:
            self.rec = recording
            self.where = "your recording"
            return
        self.rec = rr.RecordingStream(application_id, recording_id=uuid.uuid4())
        self.rec.set_log_time_enabled(False)
        self._open(to, host, web_port, grpc_port, overwrite)

    def _open(
        self, to: str | os.PathLike[str], host: str, web_port: int, grpc_port: int, overwrite: bool
    ) -> None:
        rec = self.rec
        if isinstance(to, os.PathLike) or to.endswith(".rrd"):
            path = Path(to)
            if path.exists() and not overwrite:
                raise SinkError(f"{path}: exists; use --overwrite")
            self._pipe = RrdPipe(path)  # Rerun's writer never meets a full disk (rrd_pipe)
            rec.save(self._pipe.fifo)
            self.where = str(path)
            self.file = path
        elif to == "spawn":
            grpc_port = self._spawn_viewer(grpc_port)
            self._connection = _Connection(rec)  # first: it holds the recording
            rec.connect_grpc(f"rerun+http://127.0.0.1:{grpc_port}/proxy")
            self.where = f"a Rerun viewer on port {grpc_port}"
        elif to == "web":
            self.url = self._serve_web(host, web_port, grpc_port)
            self.where = self.url
        else:
            target = parse_target(to)
            if target.kind != "rerun-connect" or target.url is None:
                raise SinkError(
                    f"RerunSink: expected 'spawn', 'web', rerun+http://HOST:PORT/proxy or a "
                    f".rrd path, got {to!r}"
                )
            _reachable(target.url)
            self._connection = _Connection(rec)
            rec.connect_grpc(target.url)
            self.where = target.url

    def _serve_web(self, host: str, web_port: int, grpc_port: int) -> str:
        """Run ``rerun --serve-web`` bound to ``host`` (the SDK's own server binds every
        interface) and connect to its gRPC proxy; returns the page to open."""
        local = "127.0.0.1" if host in WILDCARD_HOSTS else host
        if web_port and web_port == grpc_port:  # said before Rerun says it in its words
            raise SinkError(
                f"rerun-web:{web_port} and grpc port {grpc_port}: expected two ports, got one "
                "for both (the page and its data server each listen on their own; give "
                "--grpc-port another)"
            )
        for port in (web_port, grpc_port):  # else it would feed another server on them
            _port_free(host, port, "rerun-web")  # (0: the host, an address of this machine)
        grpc_port = grpc_port or free_port(local)
        web_port = web_port or free_port(local)
        cmd = [
            rerun_executable(),
            "--serve-web",
            "--bind",
            host,
            "--port",
            str(grpc_port),
            "--web-viewer-port",
            str(web_port),
        ]
        # The server's log goes to an unnamed file, read only to explain a failed start.
        with tempfile.TemporaryFile() as log, self._stopped_on_failure():
            # Its own session: Ctrl-C in the terminal reaches depthview, which stops it.
            self._server = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
            )
            if not (
                _wait_listening(local, grpc_port, self._server, 20.0)
                and _wait_listening(local, web_port, self._server, 5.0)
            ):
                self._stop_server()
                log.seek(0)
                text = log.read().decode(errors="replace")
                lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
                raise SinkError(
                    f"rerun-web: cannot serve on {host} ports {web_port} and {grpc_port}: "
                    f"{lines[-1] if lines else 'the server exited'}"
                )
        self._connection = _Connection(self.rec)
        self.rec.connect_grpc(f"rerun+http://{url_host(local)}:{grpc_port}/proxy")
        shown = shown_host(host)
        grpc_url = f"rerun+http://{shown}:{grpc_port}/proxy"
        return f"http://{shown}:{web_port}/?url={quote(grpc_url, safe='')}"

    @contextlib.contextmanager
    def _stopped_on_failure(self) -> Iterator[None]:
        """A server or viewer started in its own session is stopped here when its start
        fails or is interrupted (Ctrl-C no longer reaches it)."""
        try:
            yield
        except BaseException:
            self._stop_server()
            raise

    def _spawn_viewer(self, grpc_port: int) -> int:
        """Start Rerun's native viewer listening on ``grpc_port`` and wait (a bounded time)
        until it does; a viewer that cannot open a window is one line, not a hang."""
        if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        ):
            raise SinkError(
                "--to rerun: expected a display for Rerun's viewer, got none (DISPLAY is not "
                "set); use --to rerun-web and open the page it prints, or export to .rrd"
            )
        grpc_port = grpc_port or free_port()
        _port_free("127.0.0.1", grpc_port, "rerun")
        cmd = [rerun_executable(), "--port", str(grpc_port), "--expect-data-soon"]
        with tempfile.TemporaryFile() as log, self._stopped_on_failure():
            self._server = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
            )
            if not (
                _wait_listening("127.0.0.1", grpc_port, self._server, SPAWN_SECONDS)
                and _still_running(self._server, VIEWER_GRACE_SECONDS)
            ):
                self._stop_server()
                log.seek(0)
                lines = [ln.strip() for ln in log.read().decode(errors="replace").splitlines()]
                lines = [ln for ln in lines if ln]
                raise SinkError(
                    f"--to rerun: Rerun's viewer could not start "
                    f"({lines[-1] if lines else 'no window could be opened'}); use --to "
                    "rerun-web, or export to .rrd"
                )
        self._detach = True  # the viewer stays open after the stream ends
        _DETACHED.append(self._server)  # kept: the user closes it, not the garbage collector
        return grpc_port

    # -- sending ----------------------------------------------------------------------------
    def _set_times(self, t: Times) -> None:
        """Put the record's times on the timelines (skipped when they are the last ones
        set: the demo's three streams share each instant)."""
        key = (t.host_ns, t.device_ns)
        last, self._times_set = self._times_set, key
        if key == last:
            return
        rec, (ns, device_ns) = self.rec, key
        if t.wall_clock:
            rec.set_time("host_time", timestamp=np.datetime64(ns, "ns"))
        else:
            rec.set_time("host_time", duration=np.timedelta64(ns, "ns"))
        if device_ns is not None:
            rec.set_time("device_time", duration=np.timedelta64(device_ns, "ns"))
        elif last is not None and last[1] is not None:
            rec.disable_timeline("device_time")

    def _format(
        self, archetype: Any, width: int, height: int, model: str | None, dtype: str
    ) -> Any:
        key = (archetype.__name__, width, height, model, dtype)
        batch = self._formats.get(key)
        if batch is None:
            comps = self._rr.components
            fmt = comps.ImageFormat(width, height, color_model=model, channel_datatype=dtype)
            batch = self._formats[key] = self._rr.DescribedComponentBatch(
                comps.ImageFormatBatch(fmt), archetype.descriptor_format()
            )
        return batch

    def _buffer(self, archetype: Any, image: npt.NDArray[Any]) -> Any:
        """The image's bytes as Rerun's ``ImageBuffer``: an Arrow list over the array's own
        memory (no copy)."""
        pa = self._pa
        flat = np.ascontiguousarray(image).reshape(-1).view(np.uint8)
        offsets = self._offsets.get(flat.size)
        if offsets is None:
            offsets = self._offsets[flat.size] = pa.py_buffer(np.array([0, flat.size], np.int32))
        pixels = pa.Array.from_buffers(pa.uint8(), flat.size, [None, pa.py_buffer(flat)])
        array = pa.Array.from_buffers(self._blob_type, 1, [None, offsets], children=[pixels])
        return self._rr.DescribedComponentBatch(_ArrowBatch(array), archetype.descriptor_buffer())

    def _first(self, entity: str, width: int = 0, height: int = 0) -> bool:
        """True once per entity and image size: when what does not change per frame (the
        camera, the colour map, series names) is to be logged, as static data."""
        key = (entity, width, height)
        if key in self._announced:
            return False
        self._announced.add(key)
        return True

    def _scalars(self, values: tuple[float, ...]) -> Any:
        pa = self._pa
        data = np.array(values, dtype=np.float64)
        array = pa.Array.from_buffers(pa.float64(), len(data), [None, pa.py_buffer(data)])
        return self._rr.DescribedComponentBatch(
            _ArrowBatch(array), self._rr.Scalars.descriptor_scalars()
        )

    def _send_depth(self, names: Names, item: DepthItem) -> None:
        rr, rec = self._rr, self.rec
        height, width = item.mm.shape
        if self._first("/"):
            # The 3D view's "up" follows the camera's axes: x right, y down, z forward.
            rec.log("/", rr.ViewCoordinates.RDF, static=True)
        if self._first(names.depth_entity, width, height):
            cam = item.camera
            pinhole = rr.Pinhole(
                focal_length=[cam.fx, cam.fy],
                principal_point=[cam.cx, cam.cy],
                width=width,
                height=height,
                camera_xyz=rr.ViewCoordinates.RDF,
            )
            scale = rr.DepthImage.from_fields(
                meter=MM_PER_METRE, colormap=self._colormap, depth_range=self._depth_range
            )
            rec.log(names.depth_entity, pinhole, scale, static=True)
        self._set_times(item.times)
        fmt = self._format(rr.DepthImage, width, height, None, "U16")
        rec.log(names.depth_entity, [fmt, self._buffer(rr.DepthImage, item.mm)])
        if item.raw is not None:
            if self._first(names.depth_raw_entity, width, height):
                raw_scale = rr.DepthImage.from_fields(
                    colormap=self._colormap, depth_range=RAW_RANGE
                )
                rec.log(names.depth_raw_entity, raw_scale, static=True)
            rec.log(names.depth_raw_entity, [fmt, self._buffer(rr.DepthImage, item.raw)])

    def _send_video(self, names: Names, item: VideoItem) -> None:
        rr = self._rr
        height, width = item.image.shape[:2]
        model = "RGB" if item.channels == 3 else "L"
        dtype = "U16" if item.encoding == "mono16" else "U8"
        entity = names.video_entity(item.kind)
        self._set_times(item.times)
        fmt = self._format(rr.Image, width, height, model, dtype)
        self.rec.log(entity, [fmt, self._buffer(rr.Image, item.image)])

    def _send_accel(self, names: Names, item: AccelItem) -> None:
        rr, rec = self._rr, self.rec
        self._set_times(item.times)
        if item.accel is not None:  # a tilt alone has no reading to send (trial AR D7)
            if self._first(names.accel_entity):
                rec.log(names.accel_entity, rr.SeriesLines(names=["x", "y", "z"]), static=True)
            rec.log(names.accel_entity, [self._scalars(item.accel)])
        if item.tilt_deg is not None:
            if self._first(names.tilt_entity):
                rec.log(names.tilt_entity, rr.SeriesLines(names=["tilt (deg)"]), static=True)
            rec.log(names.tilt_entity, [self._scalars((item.tilt_deg,))])

    def _send_model(self, item: ModelItem) -> None:
        rr, rec = self._rr, self.rec
        if self._first("/"):
            rec.log("/", rr.ViewCoordinates.RDF, static=True)
        self._times_set = None  # the model's times are its own
        self._set_times(item.times)
        pose = item.pose
        rec.log(
            ModelItem.CAMERA,
            rr.Transform3D(translation=pose[:3, 3], mat3x3=pose[:3, :3]),
        )
        rec.log(ModelItem.PATH, rr.LineStrips3D([item.path]))
        if item.mesh is not None:
            vertices, triangles, colours = item.mesh
            rec.log(
                ModelItem.MODEL,
                rr.Mesh3D(
                    vertex_positions=vertices, triangle_indices=triangles, vertex_colors=colours
                ),
            )

    def _check_sent(self) -> None:
        if self._pipe is not None:
            self._pipe.check()

    def _close(self) -> None:
        try:
            if self.file is not None:  # a file is flushed to its end
                self.rec.flush(timeout_sec=30.0)
                self.rec.disconnect()
            elif self.where == "your recording":  # yours to disconnect
                self.rec.flush(timeout_sec=FLUSH_SECONDS)
            elif self._connection is not None:
                self._connection.finish()
        finally:
            self._stop_server()
            if self._pipe is not None:
                self._pipe.finish()

    def _stop_server(self) -> None:
        if self._detach:
            self._server = None  # a spawned viewer is the user's now
            return
        proc, self._server = self._server, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


__all__ = ["RerunSink", "free_port", "rerun_executable"]
