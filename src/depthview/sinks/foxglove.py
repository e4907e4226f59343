"""Frames to Foxglove (extra ``foxglove``): a live WebSocket server the Foxglove app connects
to, or an MCAP file (the ROS 2 recording format).

ROS-style topics under ``/kinect`` (``/kinect/<device>`` for several Kinects), in Foxglove's
well-known protobuf schemas: ``depth/image`` a ``RawImage`` in ``16UC1`` millimetres (0 = no
reading), ``depth/camera_info`` its ``CameraCalibration`` (the 3D panel projects the depth
with it), ``rgb/image`` (``rgb8``) or ``ir/image`` (``mono8``/``mono16``), optionally
``depth/points`` (``PointCloud``, metres) and ``depth/image_raw`` (raw 11-bit, ``mono16``).
``accel`` (m/s^2) and ``tilt`` (degrees) are JSON for the Plot panel, and ``device_time``
gives each image's Kinect clock. Every message's timestamp and log time is its record's
host time.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .._checks import PORT, whole
from ..errors import SinkError
from ..frame import Frame
from ..geometry import Intrinsics, quaternion
from ..registration import Registration
from .base import Sink, require
from .content import (
    DEVICE_CLOCK_HZ,
    DEVICE_CLOCK_WRAP,
    AccelItem,
    DepthItem,
    ModelItem,
    Names,
    Times,
    VideoItem,
    calibration,
    points_xyz,
)
from .targets import FOXGLOVE_PORT, shown_host

_TIME_SCHEMA = {
    "type": "object",
    "properties": {"sec": {"type": "integer"}, "nsec": {"type": "integer"}},
}
ACCEL_SCHEMA: dict[str, Any] = {
    "title": "depthview.Accel",
    "description": "Kinect accelerometer, m/s^2 (x right, y down, z forward)",
    "type": "object",
    "properties": {
        "timestamp": _TIME_SCHEMA,
        "frame_id": {"type": "string"},
        "x": {"type": "number"},
        "y": {"type": "number"},
        "z": {"type": "number"},
    },
}
TILT_SCHEMA: dict[str, Any] = {
    "title": "depthview.Tilt",
    "description": "Kinect motor angle in degrees (null while it moves) and motor status",
    "type": "object",
    "properties": {
        "timestamp": _TIME_SCHEMA,
        "angle_deg": {"type": ["number", "null"]},
        "status": {"type": "integer"},
    },
}
DEVICE_TIME_SCHEMA: dict[str, Any] = {
    "title": "depthview.DeviceTime",
    "description": "The Kinect's 60 MHz clock for each image: raw 32-bit and unwrapped seconds",
    "type": "object",
    "properties": {
        "timestamp": _TIME_SCHEMA,
        "stream": {"type": "string"},
        "seq": {"type": "integer"},
        "device_timestamp": {"type": "integer"},
        "device_time": {"type": "number"},
    },
}


def _stamp(t: Times) -> dict[str, int]:
    sec, nsec = divmod(t.host_ns, 1_000_000_000)
    return {"sec": sec, "nsec": nsec}


class FoxgloveSink(Sink):
    """Send frames to Foxglove.

    ``to`` is ``"server"`` (a WebSocket server on ``host:port``; open Foxglove and connect to
    ``sink.where``) or a file (a ``Path``, or a name ending in ``.mcap``). ``host`` is
    ``127.0.0.1`` unless other machines should connect (``0.0.0.0``). ``points`` adds a point
    cloud topic, ``raw_depth`` the raw 11-bit values. ``ahead`` (server only): a first frame
    of each device (``(device, frame)``) whose channels are made before the server listens,
    sending nothing, so that a client connecting at once can subscribe to all of them;
    ``model`` does the same for a scan's model (``log_model``: ``/scan/model``, a
    SceneUpdate with the camera path and the mesh, and ``/scan/camera``, a FrameTransform).
    """

    def __init__(
        self,
        to: str | os.PathLike[str] = "server",
        *,
        host: str = "127.0.0.1",
        port: int = FOXGLOVE_PORT,
        device: str | int | None = None,
        raw_depth: bool = False,
        intrinsics: Intrinsics | None = None,
        registration: Registration | None = None,
        points: bool = False,
        overwrite: bool = False,
        name: str = "depthview",
        ahead: Iterable[tuple[str | int | None, Frame]] = (),
        model: bool = False,
    ) -> None:
        port = whole("port", port, PORT)
        fg = require("foxglove", "foxglove")
        super().__init__(
            device=device, raw_depth=raw_depth, intrinsics=intrinsics, registration=registration
        )
        self._fg = fg
        self._msgs = require("foxglove.messages", "foxglove")
        self._chan = require("foxglove.channels", "foxglove")
        self.points = points
        self._ctx = fg.Context()
        # The SDK reports a failed write (a full disk) as a warning per message on the
        # "foxglove" logger; while writing a file they are kept here, and the first one ends
        # the sink with one line. (A server's warnings, a slow client, are not failures.)
        self._sdk_log = _SdkLog()
        self._server_log = _ServerLog()
        self._channels: dict[str, Any] = {}
        self._server: Any = None
        self._writer: Any = None
        if isinstance(to, os.PathLike) or to.endswith(".mcap"):
            path = Path(to)
            if path.exists() and not overwrite:
                raise SinkError(f"{path}: exists; use --overwrite")
            try:
                self._writer = fg.open_mcap(path, allow_overwrite=overwrite, context=self._ctx)
            except Exception as exc:  # the SDK raises its own error types
                raise SinkError(f"{path}: cannot write ({exc})") from None
            self.where = str(path)
            self.file = path
            logging.getLogger("foxglove").addHandler(self._sdk_log)
        elif to == "server":
            # The SDK tells a connected client of a new channel before it records that it did,
            # and refuses ("Unknown channel ID") a subscription arriving in between, for good:
            # the Foxglove app would never get that topic. Channels that exist before the
            # server listens are told to each client before its requests are read.
            self.where = f"ws://{shown_host(host)}:{port}"  # (for their messages)
            for device, frame in ahead:
                self._declare(frame, device)
            if model:
                self.declare_model()
            logging.getLogger("foxglove").addHandler(self._server_log)
            try:
                self._server = fg.start_server(name=name, host=host, port=port, context=self._ctx)
            except Exception as exc:  # the SDK raises its own error types
                raise SinkError(f"foxglove: cannot listen on {host}:{port} ({exc})") from None
            self.port = int(self._server.port)
            self.where = f"ws://{shown_host(host)}:{self.port}"
        else:
            raise SinkError(f"FoxgloveSink: expected 'server' or a .mcap path, got {to!r}")

    def _check_time(self, t: float, what: str) -> None:
        """Foxglove's timestamps count up from 1970: a time below 0 has none (trials AM D3,
        AO D3: an OverflowError traceback from the SDK)."""
        if t < 0:
            raise ValueError(
                f"expected frame times >= 0 s (a Foxglove timestamp counts from 1970), got "
                f"{t:g} s ({what})"
            )

    def _channel(self, topic: str, kind: str, schema: dict[str, Any] | None = None) -> Any:
        channel = self._channels.get(topic)
        if channel is None:
            if schema is not None:
                channel = self._fg.Channel(topic, schema=schema, context=self._ctx)
            else:
                channel = getattr(self._chan, f"{kind}Channel")(topic, context=self._ctx)
            self._channels[topic] = channel
        return channel

    def _declare(self, frame: Frame, device: str | int | None) -> None:
        """Make the channels ``frame`` logs to; with no server yet, nothing is sent."""
        self._checked(frame)  # as log checks it: these frames are sent too
        names, planner = self._fresh_state(self.device if device is None else device)
        for item in planner.items(frame):
            self._send(names, item)

    def _image(
        self, topic: str, frame_id: str, t: Times, image: npt.NDArray[Any], encoding: str
    ) -> None:
        height, width = image.shape[:2]
        msg = self._msgs.RawImage(
            timestamp=self._msgs.Timestamp(*divmod(t.host_ns, 1_000_000_000)),
            frame_id=frame_id,
            width=width,
            height=height,
            encoding=encoding,
            step=image[0].nbytes,  # one row of the C-ordered bytes below
            data=image.tobytes(),
        )
        self._channel(topic, "RawImage").log(msg, log_time=t.host_ns)

    def _device_time(self, names: Names, stream: str, t: Times) -> None:
        if t.device_ticks is None:
            return
        self._channel(names.stamps_topic, "", DEVICE_TIME_SCHEMA).log(
            {
                "timestamp": _stamp(t),
                "stream": stream,
                "seq": t.seq,
                "device_timestamp": t.device_ticks % DEVICE_CLOCK_WRAP,
                "device_time": t.device_ticks / DEVICE_CLOCK_HZ,
            },
            log_time=t.host_ns,
        )

    def _send_depth(self, names: Names, item: DepthItem) -> None:
        msgs, t, cam = self._msgs, item.times, item.camera
        height, width = item.mm.shape
        frame_id = names.video_frame_id("rgb") if item.aligned else names.depth_frame_id
        self._image(names.depth_topic, frame_id, t, item.mm, "16UC1")
        k, r, p = calibration(cam)
        info = msgs.CameraCalibration(
            timestamp=msgs.Timestamp(*divmod(t.host_ns, 1_000_000_000)),
            frame_id=frame_id,
            width=width,
            height=height,
            distortion_model="plumb_bob",
            D=[0.0] * 5,
            K=k,
            R=r,
            P=p,
        )
        self._channel(names.camera_info_topic, "CameraCalibration").log(info, log_time=t.host_ns)
        if item.raw is not None:
            self._image(names.depth_raw_topic, frame_id, t, item.raw, "mono16")
        if self.points:
            xyz = points_xyz(item.mm if item.readings is None else item.readings, cam)
            f32 = msgs.PackedElementFieldNumericType.Float32
            cloud = msgs.PointCloud(
                timestamp=msgs.Timestamp(*divmod(t.host_ns, 1_000_000_000)),
                frame_id=frame_id,
                point_stride=12,
                fields=[
                    msgs.PackedElementField(name=n, offset=4 * i, type=f32)
                    for i, n in enumerate("xyz")
                ],
                data=xyz.tobytes(),
            )
            self._channel(names.points_topic, "PointCloud").log(cloud, log_time=t.host_ns)
        self._device_time(names, "depth", t)

    def _send_video(self, names: Names, item: VideoItem) -> None:
        topic, frame_id = names.video_topic(item.kind), names.video_frame_id(item.kind)
        self._image(topic, frame_id, item.times, item.image, item.encoding)
        self._device_time(names, item.kind, item.times)

    def _send_accel(self, names: Names, item: AccelItem) -> None:
        t = item.times
        if item.accel is not None:  # a tilt alone has no reading to send (trial AR D7)
            x, y, z = item.accel
            accel = {
                "timestamp": _stamp(t),
                "frame_id": names.depth_frame_id,
                "x": x,
                "y": y,
                "z": z,
            }
            self._channel(names.accel_topic, "", ACCEL_SCHEMA).log(accel, log_time=t.host_ns)
        tilt = {"timestamp": _stamp(t), "angle_deg": item.tilt_deg, "status": item.tilt_status}
        self._channel(names.tilt_topic, "", TILT_SCHEMA).log(tilt, log_time=t.host_ns)

    def declare_model(self) -> None:
        """Make the scan's model channels now (before the server listens: see ``ahead``)."""
        self._channel("/" + ModelItem.MODEL, "SceneUpdate")
        self._channel("/" + ModelItem.CAMERA, "FrameTransform")

    def _send_model(self, item: ModelItem) -> None:
        msgs, t = self._msgs, item.times
        stamp = msgs.Timestamp(*divmod(t.host_ns, 1_000_000_000))
        pose = item.pose
        qx, qy, qz, qw = quaternion(pose[:3, :3])
        camera = msgs.FrameTransform(
            timestamp=stamp,
            parent_frame_id="world",
            child_frame_id="camera",
            translation=msgs.Vector3(x=float(pose[0, 3]), y=float(pose[1, 3]), z=float(pose[2, 3])),
            rotation=msgs.Quaternion(x=qx, y=qy, z=qz, w=qw),
        )
        self._channel("/" + ModelItem.CAMERA, "FrameTransform").log(camera, log_time=t.host_ns)
        path = msgs.LinePrimitive(
            type=msgs.LinePrimitiveLineType.LineStrip,
            thickness=0.01,
            color=msgs.Color(r=1.0, g=0.3, b=0.1, a=1.0),
            points=[msgs.Point3(x=x, y=y, z=z) for x, y, z in item.path.tolist()],
        )
        entities = [msgs.SceneEntity(timestamp=stamp, frame_id="world", id="path", lines=[path])]
        if item.mesh is not None:
            vertices, triangles, colours = item.mesh
            rgba = colours.astype(np.float64) / 255.0
            mesh = msgs.TriangleListPrimitive(
                points=[msgs.Point3(x=x, y=y, z=z) for x, y, z in vertices.tolist()],
                colors=[msgs.Color(r=r, g=g, b=b, a=1.0) for r, g, b in rgba.tolist()],
                indices=triangles.reshape(-1).tolist(),
            )
            entities.append(
                msgs.SceneEntity(timestamp=stamp, frame_id="world", id="model", triangles=[mesh])
            )
        update = msgs.SceneUpdate(entities=entities)
        self._channel("/" + ModelItem.MODEL, "SceneUpdate").log(update, log_time=t.host_ns)

    def _check_sent(self) -> None:
        if self._sdk_log.first is not None:
            raise RuntimeError(self._sdk_log.first)

    def _close(self) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
            if self._server is not None:
                self._server.stop()
            self._check_sent()
        finally:
            logging.getLogger("foxglove").removeHandler(self._sdk_log)
            logging.getLogger("foxglove").removeHandler(self._server_log)


class _SdkLog(logging.Handler):
    """The Foxglove SDK's warnings and errors, kept instead of printed: the first one says
    why writing failed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.first is None:
            self.first = record.getMessage()


#: The WebSocket subprotocol the SDK's server accepts (it refuses a client asking for
#: another, such as the older ``foxglove.websocket.v1``, at the handshake).
SUBPROTOCOL = "foxglove.sdk.v1"


class _ServerLog(logging.Handler):
    """The Foxglove SDK's server log, in depthview's words rather than the SDK's lines on
    the user's terminal: a client refused at its handshake is one warning naming the
    protocol this server speaks; a client too slow for the stream (the SDK drops its
    messages while its queue is full, said by the SDK at INFO only) is one warning; a
    client's connection that broke off (the app closed) is no failure of the stream and is
    not said; anything else at WARNING or above is a warning as it is."""

    REFUSED = re.compile(r"Dropping client (\S+): (?:secure )?handshake failed")
    GONE = re.compile(r"Error receiving from client \S+: ")
    SLOW = re.compile(r"outbox for client (\S+) full")
    #: The SDK's logger of a full queue: lowered to INFO (when nobody set it) to hear it.
    LOSSY = "foxglove.websocket.connected_client.send_lossy"

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        lossy = logging.getLogger(self.LOSSY)
        if lossy.level == logging.NOTSET:
            lossy.setLevel(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        slow = self.SLOW.match(text)
        if slow:
            text = (
                f"the client at {slow.group(1)} cannot keep up: messages to it are dropped "
                "while its queue is full (fewer topics, or a lower --fps, let it keep up)"
            )
        elif record.levelno < logging.WARNING:
            return
        refused = self.REFUSED.match(text)
        if refused:
            text = (
                f"a client at {refused.group(1)} was refused: its WebSocket handshake failed "
                f"(this server speaks Foxglove's {SUBPROTOCOL} subprotocol only)"
            )
        elif self.GONE.match(text):
            return
        warnings.warn(f"foxglove: {text}", stacklevel=2)


__all__ = ["ACCEL_SCHEMA", "DEVICE_TIME_SCHEMA", "TILT_SCHEMA", "FoxgloveSink"]
